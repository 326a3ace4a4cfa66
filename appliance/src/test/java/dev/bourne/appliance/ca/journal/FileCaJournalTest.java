package dev.bourne.appliance.ca.journal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.testing.pki.TestCa;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FileCaJournalTest {
    @TempDir
    Path dataDir;

    /** A P-256 SubjectPublicKeyInfo, base64. */
    private static final String EC_KEY = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEWrwLMzxIE1PzjYeW3x7PXgBYAZGL+7JJH1Ox4DZQ"
            + "PYM/"
            + "c8Xd+nGG9tsqvv17jdMRGKdsi+EywG/mhIbIWL6WOw==";

    private static JournalContent sample() throws Exception {
        TestCa root = TestCa.root("example.org");
        TestCa intermediate = root.intermediate(root.keyPair());
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        PublicKey jwtKey = generator.generateKeyPair().getPublic();
        return new JournalContent(7,
                List.of(new X509AuthorityRecord("aa01", "x509-CA-A", root.certificate(), List.of(),
                                AuthorityState.OLD, true),
                        new X509AuthorityRecord("bb02", "x509-CA-B", intermediate.certificate(),
                                List.of(root.certificate()), AuthorityState.ACTIVE, false)),
                List.of(new JwtAuthorityRecord("kid-1", "JWT-Signer-A", jwtKey, SignatureAlgorithm.ECDSA_SHA256,
                        Instant.parse("2026-01-01T00:00:00.123456789Z"), Instant.parse("2026-01-02T00:00:00Z"),
                        AuthorityState.PREPARED, false)));
    }

    @Test
    void saveThenLoad_roundTrips_withOwnerOnlyMode() throws Exception {
        FileCaJournal journal = FileCaJournal.inDataDir(dataDir);
        assertEquals(Optional.empty(), journal.load());
        JournalContent content = sample();
        journal.save(content);

        assertEquals(content, journal.load().orElseThrow());
        assertEquals(content, new FileCaJournal(dataDir.resolve(FileCaJournal.FILE_NAME)).load().orElseThrow());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(journal.file())));
        try (Stream<Path> files = Files.list(dataDir)) {
            assertEquals(List.of(journal.file()), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void save_replacesWholeContent() throws Exception {
        FileCaJournal journal = FileCaJournal.inDataDir(dataDir);
        journal.save(sample());
        JournalContent empty = new JournalContent(8, List.of(), List.of());
        journal.save(empty);
        assertEquals(empty, journal.load().orElseThrow());
    }

    static Stream<Arguments> damaged() {
        return Stream.of(
                Arguments.of("not json", "not a JSON object"),
                Arguments.of("[]", "not a JSON object"),
                Arguments.of("{\"version\":2,\"bundle_sequence\":1,\"x509_authorities\":[],\"jwt_authorities\":[]}",
                        "unsupported version 2, this server reads version 1"),
                Arguments.of("{\"version\":1,\"x509_authorities\":[],\"jwt_authorities\":[]}",
                        "bundle_sequence is missing"),
                Arguments.of("{\"version\":1,\"bundle_sequence\":-1,\"x509_authorities\":[],\"jwt_authorities\":[]}",
                        "bundle_sequence is negative"),
                Arguments.of("{\"version\":1,\"bundle_sequence\":1,\"x509_authorities\":{},\"jwt_authorities\":[]}",
                        "x509_authorities is not an array"),
                Arguments.of("{\"version\":1,\"bundle_sequence\":1,\"x509_authorities\":[1],\"jwt_authorities\":[]}",
                        "x509_authorities[0] is not an object"),
                Arguments.of("{\"version\":1,\"bundle_sequence\":1,\"x509_authorities\":[{\"authority_id\":\"a\","
                        + "\"slot\":\"x509-CA-A\",\"state\":\"active\",\"tainted\":false,\"certificate\":\"AAAA\","
                        + "\"upstream_chain\":[]}],\"jwt_authorities\":[]}",
                        "x509_authorities[0].certificate is not a base64 DER certificate"),
                Arguments.of("{\"version\":1,\"bundle_sequence\":1,\"x509_authorities\":[],\"jwt_authorities\":[{"
                        + "\"kid\":\"k\",\"slot\":\"JWT-Signer-A\",\"state\":\"bogus\",\"tainted\":false,"
                        + "\"algorithm\":\"ES256\",\"public_key\":\"AAAA\",\"not_before\":\"2026-01-01T00:00:00Z\","
                        + "\"not_after\":\"2026-01-02T00:00:00Z\"}]}",
                        "jwt_authorities[0].public_key is not a base64 EC SubjectPublicKeyInfo"),
                Arguments.of("{\"version\":1,\"bundle_sequence\":1,\"x509_authorities\":[],\"jwt_authorities\":[{"
                        + "\"kid\":\"k\",\"slot\":\"JWT-Signer-A\",\"state\":\"active\",\"tainted\":false,"
                        + "\"algorithm\":\"HS256\"}]}",
                        "jwt_authorities[0].algorithm \"HS256\" is unknown"),
                Arguments.of("{\"version\":1,\"bundle_sequence\":1,\"x509_authorities\":[],\"jwt_authorities\":[{"
                        + "\"kid\":\"k\",\"slot\":\"JWT-Signer-A\",\"state\":\"active\",\"tainted\":false,"
                        + "\"algorithm\":\"ES256\",\"public_key\":\"" + EC_KEY + "\","
                        + "\"not_before\":\"2026-01-02T00:00:00Z\","
                        + "\"not_after\":\"2026-01-01T00:00:00Z\"}]}",
                        "jwt_authorities[0]: JWT key k ends before it starts"));
    }

    @ParameterizedTest
    @MethodSource("damaged")
    void load_damagedJournal_isReportedAndNeverOverwritten(String text, String reason) throws Exception {
        FileCaJournal journal = FileCaJournal.inDataDir(dataDir);
        Files.writeString(journal.file(), text);
        JournalException error = assertThrows(JournalException.class, journal::load);
        assertEquals(String.format(FileCaJournal.DAMAGED, journal.file(), reason), error.getMessage());

        JournalException refused = assertThrows(JournalException.class, () -> journal.save(sample()));
        assertEquals(String.format(FileCaJournal.REFUSE_OVERWRITE, journal.file()), refused.getMessage());
        assertEquals(text, Files.readString(journal.file()));
    }

    @Test
    void load_oversizedJournal_refused() throws Exception {
        FileCaJournal journal = FileCaJournal.inDataDir(dataDir);
        byte[] big = new byte[FileCaJournal.MAX_BYTES + 1];
        java.util.Arrays.fill(big, (byte) ' ');
        Files.write(journal.file(), big);
        JournalException error = assertThrows(JournalException.class, journal::load);
        assertEquals(String.format(FileCaJournal.DAMAGED, journal.file(), FileCaJournal.TOO_LARGE),
                error.getMessage());
        assertArrayEquals(big, Files.readAllBytes(journal.file()));
    }

    @Test
    void load_invalidUtf8_refused() throws Exception {
        FileCaJournal journal = FileCaJournal.inDataDir(dataDir);
        Files.write(journal.file(), new byte[] {'{', (byte) 0xff, '}'});
        JournalException error = assertThrows(JournalException.class, journal::load);
        assertEquals(String.format(FileCaJournal.DAMAGED, journal.file(), "not UTF-8"), error.getMessage());
    }

    @Test
    void load_symbolicLink_refused() throws Exception {
        Path elsewhere = Files.writeString(dataDir.resolve("elsewhere.json"), FileCaJournal.encode(sample()));
        FileCaJournal journal = FileCaJournal.inDataDir(dataDir);
        Files.createSymbolicLink(journal.file(), elsewhere);
        JournalException error = assertThrows(JournalException.class, journal::load);
        assertEquals(String.format(FileCaJournal.DAMAGED, journal.file(), FileCaJournal.NOT_REGULAR),
                error.getMessage());
        assertTrue(Files.isSymbolicLink(journal.file()));
    }

    @Test
    void save_unwritableLocation_fails() throws Exception {
        Path notADirectory = Files.writeString(dataDir.resolve("file"), "x", StandardCharsets.UTF_8);
        FileCaJournal journal = FileCaJournal.inDataDir(notADirectory);
        JournalException error = assertThrows(JournalException.class, () -> journal.save(sample()));
        assertTrue(error.getMessage().startsWith("cannot write CA journal " + journal.file()), error.getMessage());
    }
}
