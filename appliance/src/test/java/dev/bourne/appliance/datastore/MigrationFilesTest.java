package dev.bourne.appliance.datastore;

import org.junit.jupiter.api.Test;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Both dialects carry the same migrations, so a server on either database reaches the same schema version. */
class MigrationFilesTest {

    private static List<String> migrations(String dialect) throws Exception {
        URL url = MigrationFilesTest.class.getClassLoader()
                .getResource("dev/bourne/appliance/datastore/migration/" + dialect);
        assertNotNull(url, dialect);
        try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
            return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void sqliteAndPostgres_haveTheSameVersionedMigrations() throws Exception {
        List<String> sqlite = migrations("sqlite");
        List<String> postgres = migrations("postgres");
        assertFalse(sqlite.isEmpty());
        assertEquals(sqlite, postgres);
        for (String name : sqlite) {
            assertTrue(name.matches("V[1-9][0-9]*__[a-z0-9_]+\\.sql"), name);
        }
    }
}
