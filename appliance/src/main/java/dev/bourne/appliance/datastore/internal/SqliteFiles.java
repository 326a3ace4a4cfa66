package dev.bourne.appliance.datastore.internal;

import dev.bourne.appliance.datastore.DataStoreErrors;
import dev.bourne.appliance.datastore.DataStoreException;
import dev.bourne.appliance.datastore.DataStoreFailureException;
import dev.bourne.appliance.datastore.UnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** The SQLite database file, made private to the server's user before SQLite ever opens it. */
public final class SqliteFiles {
    private static final Logger LOG = LoggerFactory.getLogger(SqliteFiles.class);

    private SqliteFiles() {
    }

    /**
     * Creates the database file mode 0600 (in a directory created 0700) before SQLite opens it, so it is never
     * readable by others, not even for a moment; SQLite gives its -wal and -shm files the same mode. An existing file
     * readable by group or others is narrowed to 0600.
     */
    public static void createPrivateFile(Path file) throws DataStoreException {
        try {
            Path parent = file.getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                Files.createDirectories(parent,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rw-------");
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(ownerOnly));
            } catch (FileAlreadyExistsException e) {
                if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                    throw new DataStoreFailureException(DataStoreErrors.FAILURE
                            + ": the SQLite path exists and is not a regular file: " + file);
                }
                Set<PosixFilePermission> current = Files.getPosixFilePermissions(file);
                if (!ownerOnly.containsAll(current)) {
                    LOG.warn("datastore: {} was readable by others; setting mode 0600", file);
                    Files.setPosixFilePermissions(file, ownerOnly);
                }
            }
        } catch (IOException e) {
            throw new UnavailableException(DataStoreErrors.UNAVAILABLE + ": cannot create SQLite file " + file, e);
        }
    }
}
