package dev.bourne.appliance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.datastore.SqlDataStore;
import dev.bourne.tpm.server.TpmEnrollment;
import dev.bourne.tpm.server.TpmEnrollments.EnrollmentLookupException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The attestor's enrolment lookup on a real SQLite datastore: answers, and fails closed when the store cannot. */
class DataStoreTpmEnrollmentsTest {
    static final String EK = "c0ffee".repeat(10) + "abcd";

    @TempDir
    Path dir;

    Path file;
    SqlDataStore store;
    DataStoreTpmEnrollments enrollments;

    @BeforeEach
    void open() throws Exception {
        file = dir.resolve(SqlDataStore.SQLITE_FILE_NAME);
        store = SqlDataStore.openSqlite(file, Clock.systemUTC(), new SecureRandom());
        enrollments = new DataStoreTpmEnrollments(store);
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void find_enrolledRevokedAndUnknown() throws Exception {
        assertEquals(Optional.empty(), enrollments.find(EK));
        TpmEnrollment created = store.createTpmEnrollment(new TpmEnrollment(EK, new TreeMap<>(), Optional.empty(),
                Optional.empty(), Instant.EPOCH, Optional.empty()));
        assertEquals(Optional.of(created), enrollments.find(EK));
        store.revokeTpmEnrollment(EK);
        assertTrue(enrollments.find(EK.toUpperCase(java.util.Locale.ROOT)).orElseThrow().revoked());
    }

    @Test
    void storeClosed_failsClosed() {
        store.close();
        EnrollmentLookupException e = assertThrows(EnrollmentLookupException.class, () -> enrollments.find(EK));
        assertTrue(e.getMessage().startsWith(DataStoreTpmEnrollments.LOOKUP_FAILED), e.getMessage());
    }

    @Test
    void corruptRow_failsClosed() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO tpm_enrollments (ek_hash, labels, created_at) VALUES ('" + EK
                    + "', 'no equals sign', 1)");
        }
        EnrollmentLookupException e = assertThrows(EnrollmentLookupException.class, () -> enrollments.find(EK));
        assertTrue(e.getMessage().contains("cannot be read back"), e.getMessage());
    }

    @Test
    void malformedHash_failsClosed_ratherThanLookingLikeNotEnrolled() {
        assertThrows(EnrollmentLookupException.class, () -> enrollments.find("not-a-hash"));
    }
}
