package dev.bourne.openstack.vendordata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The journal's format, its atomic 0600 writes, and every way a journal can be damaged. */
class SigningKeyJournalTest {
    private static final Instant T = Instant.parse("2026-03-01T10:00:00Z");

    @TempDir
    Path dir;

    static Stream<SigningKeyState> states() {
        return Stream.of(
                new SigningKeyState(KeySlot.A, "kidA", T, SigningKeyState.Standby.empty()),
                new SigningKeyState(KeySlot.A, "kidA", T, SigningKeyState.Standby.prepared("kidB", T.plusSeconds(60))),
                new SigningKeyState(KeySlot.B, "kidB", T, SigningKeyState.Standby.retired("kidA", T,
                        T.plusSeconds(360))));
    }

    @ParameterizedTest
    @MethodSource("states")
    void saveThenLoad_sameState_file0600_noTemporaryFileLeft(SigningKeyState state) throws Exception {
        SigningKeyJournal journal = SigningKeyJournal.inDataDir(dir);

        journal.save(state);

        assertEquals(Optional.of(state), SigningKeyJournal.inDataDir(dir).load());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(journal.file())));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(journal.file()), files.toList());
        }
    }

    @Test
    void load_noJournal_empty() throws Exception {
        assertEquals(Optional.empty(), SigningKeyJournal.inDataDir(dir).load());
    }

    @Test
    void encode_format() {
        assertEquals("{\"version\":1,\"active\":{\"slot\":\"IID-Signer-B\",\"kid\":\"kidB\","
                + "\"since\":\"2026-03-01T10:00:00Z\"},\"standby\":{\"slot\":\"IID-Signer-A\",\"state\":\"retired\","
                + "\"kid\":\"kidA\",\"since\":\"2026-03-01T10:00:00Z\",\"until\":\"2026-03-01T10:06:00Z\"}}",
                SigningKeyJournal.encode(states().toList().get(2)));
    }

    static Stream<Arguments> damaged() {
        String active = "\"active\":{\"slot\":\"IID-Signer-A\",\"kid\":\"k\",\"since\":\"2026-03-01T10:00:00Z\"}";
        return Stream.of(
                Arguments.of("", "not a JSON object"),
                Arguments.of("[1]", "not a JSON object"),
                Arguments.of("{\"version\":2," + active + ",\"standby\":{\"slot\":\"IID-Signer-B\",\"state\":\"empty\"}}",
                        "version is not 1"),
                Arguments.of("{\"version\":1}", "active is missing or not an object"),
                Arguments.of("{\"version\":1," + active + "}", "standby is missing or not an object"),
                Arguments.of("{\"version\":1," + active + ",\"standby\":{\"slot\":\"IID-Signer-A\",\"state\":\"empty\"}}",
                        "standby.slot is not the other slot of active.slot"),
                Arguments.of("{\"version\":1,\"active\":{\"slot\":\"x509-CA-A\",\"kid\":\"k\",\"since\":\"2026-03-01T10:00:00Z\"},"
                        + "\"standby\":{\"slot\":\"IID-Signer-B\",\"state\":\"empty\"}}",
                        "active.slot \"x509-CA-A\" is not IID-Signer-A or IID-Signer-B"),
                Arguments.of("{\"version\":1," + active + ",\"standby\":{\"slot\":\"IID-Signer-B\",\"state\":\"spare\"}}",
                        "standby.state: unknown standby state \"spare\""),
                Arguments.of("{\"version\":1," + active + ",\"standby\":{\"slot\":\"IID-Signer-B\",\"state\":\"prepared\"}}",
                        "standby.kid is missing or not a string"),
                Arguments.of("{\"version\":1," + active + ",\"standby\":{\"slot\":\"IID-Signer-B\",\"state\":\"retired\","
                        + "\"kid\":\"o\",\"since\":\"2026-03-01T10:00:00Z\"}}", "standby.until is missing or not a string"),
                Arguments.of("{\"version\":1," + active + ",\"standby\":{\"slot\":\"IID-Signer-B\",\"state\":\"retired\","
                        + "\"kid\":\"o\",\"since\":\"2026-03-01T10:00:00Z\",\"until\":\"2026-03-01T09:00:00Z\"}}",
                        "standby: a retired key leaves the JWK set after its retirement"),
                Arguments.of("{\"version\":1,\"active\":{\"slot\":\"IID-Signer-A\",\"kid\":\"k\",\"since\":\"yesterday\"},"
                        + "\"standby\":{\"slot\":\"IID-Signer-B\",\"state\":\"empty\"}}",
                        "active.since is not an ISO-8601 instant"));
    }

    @ParameterizedTest
    @MethodSource("damaged")
    void load_damaged_reportedLeftUntouched_neverOverwritten(String content, String reason) throws Exception {
        SigningKeyJournal journal = SigningKeyJournal.inDataDir(dir);
        Files.writeString(journal.file(), content);

        SigningKeysException e = assertThrows(SigningKeysException.class, journal::load);

        assertEquals(String.format(SigningKeyJournal.DAMAGED, journal.file(), reason), e.getMessage());
        SigningKeysException refused = assertThrows(SigningKeysException.class,
                () -> journal.save(states().findFirst().orElseThrow()));
        assertEquals(String.format(SigningKeyJournal.REFUSE_OVERWRITE, journal.file()), refused.getMessage());
        assertEquals(content, Files.readString(journal.file()));
    }

    @Test
    void load_tooLarge_damaged() throws Exception {
        SigningKeyJournal journal = SigningKeyJournal.inDataDir(dir);
        Files.write(journal.file(), new byte[SigningKeyJournal.MAX_BYTES + 1]);

        SigningKeysException e = assertThrows(SigningKeysException.class, journal::load);

        assertEquals(String.format(SigningKeyJournal.DAMAGED, journal.file(),
                "more than " + SigningKeyJournal.MAX_BYTES + " bytes"), e.getMessage());
    }

    @Test
    void load_notUtf8_damaged() throws Exception {
        SigningKeyJournal journal = SigningKeyJournal.inDataDir(dir);
        Files.write(journal.file(), new byte[] {'{', (byte) 0xff, '}'});

        SigningKeysException e = assertThrows(SigningKeysException.class, journal::load);

        assertEquals(String.format(SigningKeyJournal.DAMAGED, journal.file(), "not UTF-8"), e.getMessage());
    }

    @Test
    void load_symbolicLink_damaged() throws Exception {
        Path elsewhere = dir.resolve("elsewhere.json");
        SigningKeyJournal good = new SigningKeyJournal(elsewhere);
        good.save(states().findFirst().orElseThrow());
        SigningKeyJournal journal = SigningKeyJournal.inDataDir(dir);
        Files.createSymbolicLink(journal.file(), elsewhere);

        SigningKeysException e = assertThrows(SigningKeysException.class, journal::load);

        assertEquals(String.format(SigningKeyJournal.DAMAGED, journal.file(), "not a regular file"), e.getMessage());
        assertEquals(SigningKeyJournal.encode(states().findFirst().orElseThrow()),
                new String(Files.readAllBytes(elsewhere), StandardCharsets.UTF_8));
    }
}
