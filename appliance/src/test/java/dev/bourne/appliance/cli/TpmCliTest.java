package dev.bourne.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.admin.AdminFixture;
import dev.bourne.appliance.admin.EkEncodings;
import dev.bourne.appliance.datastore.DataStoreErrors;
import dev.bourne.appliance.datastore.Limits;
import dev.bourne.appliance.datastore.PageRequest;
import dev.bourne.appliance.server.AdminSocketServer;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import dev.bourne.tpm.common.EkHash;
import dev.bourne.tpm.server.TpmEnrollment;
import io.grpc.health.v1.HealthCheckResponse;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bourne-server tpm ...} run in-process against the admin services on a real Unix socket, over a real SQLite
 * datastore: enrolment by certificate, key and hash, bulk CSV, list/show/revoke, and every malformed input refused
 * with its exact message.
 */
class TpmCliTest {
    static final TestCa CA = TestCa.root("example.org");

    @TempDir
    Path dir;

    AdminFixture fixture;
    AdminSocketServer socketServer;
    Path socket;

    record Result(int code, String out, String err) {
    }

    @BeforeEach
    void setUp() throws Exception {
        fixture = new AdminFixture(dir);
        socket = dir.resolve("private").resolve("api.sock");
        Files.createDirectories(socket.getParent());
        socketServer = AdminSocketServer.start(socket, fixture.services());
        socketServer.health().setStatus("", HealthCheckResponse.ServingStatus.SERVING);
    }

    @AfterEach
    void tearDown() throws Exception {
        socketServer.close();
        fixture.close();
    }

    Result admin(String... args) {
        String[] full = Stream.concat(Stream.of(args), Stream.of("-socketPath", socket.toString()))
                .toArray(String[]::new);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ServerCli.execute(new ServerCli(Map.of(), p -> false, Clock.systemUTC()), new PrintWriter(out),
                new PrintWriter(err), full);
        return new Result(code, out.toString(), err.toString());
    }

    static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    Path write(String name, String text) throws Exception {
        return write(name, text.getBytes(StandardCharsets.UTF_8));
    }

    Path write(String name, byte[] bytes) throws Exception {
        Path file = dir.resolve("in").resolve(name);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        return file;
    }

    List<TpmEnrollment> stored() throws Exception {
        return fixture.dataStore().listTpmEnrollments(Optional.empty(), PageRequest.ALL).items();
    }

    @Test
    void enroll_byCertificatePemAndDer_withLabelsAndPolicy_thenShowListRevoke() throws Exception {
        KeyPair ek = TestKeys.rsa2048(11);
        X509Certificate certificate = CA.leaf("spiffe://example.org/ek", ek.getPublic());
        String hash = EkHash.of(ek.getPublic());
        Path pemFile = write("ek-cert.pem", pem("CERTIFICATE", certificate.getEncoded()));
        assertEquals("No TPM enrolments found\n", admin("tpm", "list").out());

        Result enrolled = admin("tpm", "enroll", "-ekCert", pemFile.toString(), "-label", "rack=r12",
                "-label", "role=db=primary", "-pcrPolicy", "prod-boot");
        assertEquals(0, enrolled.code(), enrolled.err());
        assertTrue(enrolled.out().startsWith("TPM enrolled\n\nEK hash          : " + hash + "\nCreated at       : "),
                enrolled.out());
        assertTrue(enrolled.out().contains("PCR policy       : prod-boot\nLabel            : rack=r12\n"
                + "Label            : role=db=primary\nEK certificate   : stored\n"), enrolled.out());

        Result shown = admin("tpm", "show", "-ekHash", hash.toUpperCase(java.util.Locale.ROOT));
        assertEquals(0, shown.code(), shown.err());
        assertTrue(shown.out().contains(pem("CERTIFICATE", certificate.getEncoded())), shown.out());

        Result json = admin("tpm", "show", "-ekHash", hash, "-output", "json");
        assertTrue(json.out().contains("\"ek_hash\": \"" + hash + "\""), json.out());
        assertTrue(json.out().contains("\"revoked\": false"), json.out());
        assertTrue(json.out().contains("\"rack\": \"r12\""), json.out());

        KeyPair ek2 = TestKeys.ecP256(11);
        Path derFile = write("ek2.cer", CA.leaf("spiffe://example.org/ek2", ek2.getPublic()).getEncoded());
        assertEquals(0, admin("tpm", "enroll", "-ekCert", derFile.toString()).code());

        Result list = admin("tpm", "list");
        assertTrue(list.out().startsWith("Found 2 TPM enrolments:\n\n"), list.out());
        assertTrue(list.out().contains(hash) && list.out().contains(EkHash.of(ek2.getPublic())));

        Result revoked = admin("tpm", "revoke", "-ekHash", hash);
        assertEquals(0, revoked.code(), revoked.err());
        assertTrue(revoked.out().startsWith("TPM enrolment revoked\n\nEK hash          : " + hash + "\n"));
        assertTrue(revoked.out().contains("Revoked at       : "), revoked.out());
        assertEquals(1, admin("tpm", "list", "-revoked").out().split("EK hash").length - 1);
        assertTrue(admin("tpm", "list", "-revoked").out().contains(hash));
        assertFalse(admin("tpm", "list", "-revoked=false").out().contains(hash));
        assertTrue(admin("tpm", "list", "-revoked=false").out().startsWith("Found 1 TPM enrolment:\n\n"));

        Result again = admin("tpm", "enroll", "-ekHash", hash);
        assertEquals(1, again.code());
        assertEquals("Error: already exists: " + DataStoreErrors.TPM_ENROLLMENT_EXISTS + ": \"" + hash + "\"\n",
                again.err());
        Result missing = admin("tpm", "revoke", "-ekHash", "e".repeat(64));
        assertEquals(1, missing.code());
        assertEquals("Error: not found: " + DataStoreErrors.TPM_ENROLLMENT_NOT_FOUND + ": \"" + "e".repeat(64)
                + "\"\n", missing.err());
    }

    @Test
    void enroll_byPublicKeyPemAndDer_andByHash() throws Exception {
        KeyPair rsa = TestKeys.rsa2048(12);
        KeyPair ec = TestKeys.ecP384(12);
        Path rsaPem = write("ek.pem", pem("PUBLIC KEY", rsa.getPublic().getEncoded()));
        Path ecDer = write("ek.der", ec.getPublic().getEncoded());
        Result byPem = admin("tpm", "enroll", "-ekPub", rsaPem.toString(), "-output", "json");
        assertEquals(0, byPem.code(), byPem.err());
        assertTrue(byPem.out().contains("\"ek_hash\": \"" + EkHash.of(rsa.getPublic()) + "\""), byPem.out());
        assertTrue(byPem.out().contains("\"ek_certificate_pem\": \"\""), byPem.out());
        assertEquals(0, admin("tpm", "enroll", "-ekPub", ecDer.toString()).code());
        Result byHash = admin("tpm", "enroll", "-ekHash", "AA".repeat(32), "-label", "k=v");
        assertEquals(0, byHash.code(), byHash.err());
        assertTrue(byHash.out().contains("EK hash          : " + "aa".repeat(32) + "\n"));
        assertTrue(byHash.out().contains("EK certificate   : -\n"));
        assertEquals(List.of("aa".repeat(32), EkHash.of(rsa.getPublic()), EkHash.of(ec.getPublic())).stream()
                .sorted().toList(), stored().stream().map(TpmEnrollment::ekHash).toList());
        assertEquals(Map.of("k", "v"), fixture.dataStore().getTpmEnrollment("aa".repeat(32)).orElseThrow().labels());
    }

    @Test
    void enroll_badFlags_areUsageErrors_beforeAnyCall() throws Exception {
        Path file = write("x.pem", "x");
        record Case(String[] args, String message) {
        }
        List<Case> cases = List.of(
                new Case(new String[] {"tpm", "enroll"}, TpmCommands.ONE_SOURCE),
                new Case(new String[] {"tpm", "enroll", "-ekHash", "a".repeat(64), "-ekPub", file.toString()},
                    TpmCommands.ONE_SOURCE),
                new Case(new String[] {"tpm", "enroll", "-csv", file.toString(), "-label", "a=b"},
                    TpmCommands.CSV_ALONE),
                new Case(new String[] {"tpm", "enroll", "-ekHash", "abc"},
                    "Invalid value for option '-ekHash': " + EkHash.MALFORMED),
                new Case(new String[] {"tpm", "enroll", "-ekHash", "a".repeat(64), "-label", "novalue"},
                    "Invalid value for option '-label' (key=value): " + TpmCommands.LABEL_SYNTAX),
                new Case(new String[] {"tpm", "enroll", "-ekHash", "a".repeat(64), "-label", "Key=v"},
                    "Invalid value for option '-label' (key=value): " + Limits.TPM_LABEL_KEY_INVALID),
                new Case(new String[] {"tpm", "enroll", "-ekHash", "a".repeat(64), "-label", "k=" + "v".repeat(257)},
                    "Invalid value for option '-label' (key=value): " + Limits.TPM_LABEL_VALUE_INVALID),
                new Case(new String[] {"tpm", "enroll", "-ekHash", "a".repeat(64), "-label", "k=1", "-label", "k=2"},
                    "Invalid value for option '-label' (key=value): k " + TpmCommands.LABEL_DUPLICATE),
                new Case(new String[] {"tpm", "enroll", "-ekHash", "a".repeat(64), "-pcrPolicy", "a b"},
                    "Invalid value for option '-pcrPolicy': " + Limits.PCR_POLICY_NAME_INVALID),
                new Case(new String[] {"tpm", "show"}, TpmCommands.EK_HASH_REQUIRED),
                new Case(new String[] {"tpm", "revoke"}, TpmCommands.EK_HASH_REQUIRED));
        for (Case c : cases) {
            Result r = admin(c.args());
            assertEquals(2, r.code(), String.join(" ", c.args()) + ": " + r.err());
            assertTrue(r.err().startsWith(c.message() + "\n"), r.err());
        }
        assertTrue(stored().isEmpty());
    }

    @Test
    void enroll_malformedFiles_refused_privateKeysNeverEchoed() throws Exception {
        KeyPair ek = TestKeys.rsa2048(13);
        byte[] pkcs8 = ek.getPrivate().getEncoded();
        String privatePem = pem("PRIVATE KEY", pkcs8);
        X509Certificate certificate = CA.leaf("spiffe://example.org/ek", ek.getPublic());
        record Case(String flag, Path file, String reason) {
        }
        List<Case> cases = List.of(
                new Case("-ekPub", write("private.pem", privatePem), EkFiles.PRIVATE_KEY),
                new Case("-ekPub", write("rsa-private.pem", pem("RSA PRIVATE KEY", pkcs8)), EkFiles.PRIVATE_KEY),
                new Case("-ekPub", write("private.der", pkcs8), EkFiles.PRIVATE_KEY),
                new Case("-ekCert", write("private-as-cert.pem", privatePem), EkFiles.PRIVATE_KEY),
                new Case("-ekPub", write("text.txt", "hello, I am not a key\n"), EkEncodings.PUBLIC_KEY_INVALID),
                new Case("-ekPub", write("cert-as-pub.pem", pem("CERTIFICATE", certificate.getEncoded())),
                    EkFiles.NOT_PEM_PUBLIC_KEY),
                new Case("-ekPub", write("cert-as-pub.der", certificate.getEncoded()), EkEncodings.PUBLIC_KEY_INVALID),
                new Case("-ekCert", write("pub-as-cert.pem", pem("PUBLIC KEY", ek.getPublic().getEncoded())),
                    EkFiles.NOT_PEM_CERTIFICATE),
                new Case("-ekCert", write("pub-as-cert.der", ek.getPublic().getEncoded()),
                    EkEncodings.CERTIFICATE_INVALID),
                new Case("-ekCert", write("two.pem", pem("CERTIFICATE", certificate.getEncoded())
                    + pem("CERTIFICATE", certificate.getEncoded())), EkFiles.NOT_PEM_CERTIFICATE),
                new Case("-ekCert", write("bad-base64.pem", "-----BEGIN CERTIFICATE-----\n!!!!\n"
                    + "-----END CERTIFICATE-----\n"), EkFiles.PEM_BASE64_INVALID),
                new Case("-ekCert", write("truncated.der", java.util.Arrays.copyOf(certificate.getEncoded(), 300)),
                    EkEncodings.CERTIFICATE_INVALID),
                new Case("-ekCert", write("empty.der", new byte[0]), EkEncodings.CERTIFICATE_INVALID),
                new Case("-ekCert", write("huge.pem", new byte[EkFiles.MAX_FILE_BYTES + 1]), EkFiles.TOO_LARGE),
                new Case("-ekPub", write("big.der", new byte[EkEncodings.MAX_PUBLIC_KEY_BYTES + 1]),
                    EkEncodings.PUBLIC_KEY_TOO_LARGE),
                new Case("-ekPub", dir.resolve("in").resolve("missing.pem"), EkFiles.NO_SUCH_FILE));
        String secret = Base64.getEncoder().encodeToString(pkcs8);
        for (Case c : cases) {
            Result r = admin("tpm", "enroll", c.flag(), c.file().toString());
            assertEquals(1, r.code(), c.file() + ": " + r.err());
            assertEquals("Error: " + c.flag() + " " + c.file() + ": " + c.reason() + "\n", r.err());
            assertEquals("", r.out());
            for (int i = 0; i + 24 <= secret.length(); i += 24) {
                String piece = secret.substring(i, i + 24);
                assertFalse(r.err().contains(piece) || r.out().contains(piece), "private key echoed: " + c.file());
            }
        }
        assertTrue(stored().isEmpty());
    }

    @Test
    void enrollCsv_goodRows_oneBatch_perRowResults() throws Exception {
        KeyPair certKey = TestKeys.rsa2048(14);
        KeyPair pubKey = TestKeys.ecP256(14);
        write("certs/node-17.pem", pem("CERTIFICATE", CA.leaf("spiffe://example.org/n17", certKey.getPublic())
                .getEncoded()));
        write("keys/node-18.der", pubKey.getPublic().getEncoded());
        Path csv = write("tpms.csv", "# rack 12 delivery\n"
                + "ek_hash,ek_cert,ek_pub,labels,pcr_policy\n"
                + "\n"
                + "AB" + "ab".repeat(31) + ",,,rack=r12;role=db,prod-boot\n"
                + ",certs/node-17.pem,,\"site=Zürich, HQ\",\n"
                + " , , keys/node-18.der , , \n");
        Result r = admin("tpm", "enroll", "-csv", csv.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("line 4: enrolled " + "ab".repeat(32) + "\n"
                + "line 5: enrolled " + EkHash.of(certKey.getPublic()) + "\n"
                + "line 6: enrolled " + EkHash.of(pubKey.getPublic()) + "\n"
                + "Enrolled 3 of 3 TPMs\n", r.out());
        TpmEnrollment first = fixture.dataStore().getTpmEnrollment("ab".repeat(32)).orElseThrow();
        assertEquals(Map.of("rack", "r12", "role", "db"), first.labels());
        assertEquals(Optional.of("prod-boot"), first.pcrPolicy());
        TpmEnrollment second = fixture.dataStore().getTpmEnrollment(EkHash.of(certKey.getPublic())).orElseThrow();
        assertEquals(Map.of("site", "Zürich, HQ"), second.labels());
        assertTrue(second.ekCertificatePem().isPresent());
    }

    @Test
    void enrollCsv_badRows_everyErrorWithLineAndColumn_nothingSent() throws Exception {
        KeyPair ek = TestKeys.rsa2048(15);
        write("ok.pem", pem("PUBLIC KEY", ek.getPublic().getEncoded()));
        write("private.pem", pem("PRIVATE KEY", ek.getPrivate().getEncoded()));
        String good = "cd".repeat(32);
        Path csv = write("bad.csv", "labels,ek_hash,ek_pub,pcr_policy\n"
                + ",\"" + good + "\",,\n"
                + ",abc,,\n"
                + ",,private.pem,\n"
                + ",,nowhere.pem,\n"
                + ",,,\n"
                + "a=1," + "ee".repeat(32) + ",ok.pem,\n"
                + "bad key=1," + "01".repeat(32) + ",,\n"
                + "k=1;k=2," + "02".repeat(32) + ",,\n"
                + "k=1;noequals," + "03".repeat(32) + ",,\n"
                + "," + "04".repeat(32) + ",,-bad\n"
                + "," + good + ",,\n"
                + ",,ok.pem,\n"
                + "," + EkHash.of(ek.getPublic()) + ",,\n"
                + ",\"unterminated,,\n"
                + ",x\"y,,\n"
                + "only,three,fields\n");
        Result r = admin("tpm", "enroll", "-csv", csv.toString());
        assertEquals(1, r.code());
        String prefix = csv + ": ";
        List<String> expected = List.of(
                "line 3, column ek_hash: " + EkHash.MALFORMED,
                "line 4, column ek_pub: \"private.pem\" " + EkFiles.PRIVATE_KEY,
                "line 5, column ek_pub: \"nowhere.pem\" " + EkFiles.NO_SUCH_FILE,
                "line 6: " + EnrollmentCsv.ONE_EK,
                "line 7: " + EnrollmentCsv.ONE_EK,
                "line 8, column labels: " + Limits.TPM_LABEL_KEY_INVALID,
                "line 9, column labels: " + String.format(EnrollmentCsv.LABEL_DUPLICATE, "k"),
                "line 10, column labels: " + EnrollmentCsv.LABEL_SYNTAX,
                "line 11, column pcr_policy: " + Limits.PCR_POLICY_NAME_INVALID,
                "line 12, column ek_hash: " + String.format(EnrollmentCsv.DUPLICATE_EK, 2),
                "line 14, column ek_hash: " + String.format(EnrollmentCsv.DUPLICATE_EK, 13),
                "line 15: " + EnrollmentCsv.UNTERMINATED_QUOTE,
                "line 16: " + EnrollmentCsv.QUOTE_IN_FIELD,
                "line 17: " + String.format(EnrollmentCsv.FIELD_COUNT, 3, 4));
        StringBuilder err = new StringBuilder();
        expected.forEach(e -> err.append(prefix).append(e).append('\n'));
        err.append("Error: ").append(String.format(TpmCommands.CSV_INVALID, csv, expected.size(), "entries"))
                .append('\n');
        assertEquals(err.toString(), r.err());
        assertEquals("", r.out());
        assertFalse(r.err().contains(Base64.getEncoder().encodeToString(ek.getPrivate().getEncoded())
                .substring(30, 60)));
        assertTrue(stored().isEmpty(), "nothing enrolled when any row is bad");
    }

    @Test
    void enrollCsv_malformedFiles_refused() throws Exception {
        Map<String, byte[]> files = Map.of(
                "empty.csv", new byte[0],
                "header-only.csv", "ek_hash\n".getBytes(StandardCharsets.UTF_8),
                "unknown-column.csv", "ek_hash,owner\n".getBytes(StandardCharsets.UTF_8),
                "no-ek-column.csv", "labels,pcr_policy\n".getBytes(StandardCharsets.UTF_8),
                "latin1.csv", "ek_hash,labels\n,k=Z\u00fcrich\n".getBytes(StandardCharsets.ISO_8859_1),
                "control.csv", "ek_hash\n\u001b[2J\n".getBytes(StandardCharsets.UTF_8),
                "huge.csv", new byte[EnrollmentCsv.MAX_FILE_BYTES + 1]);
        Map<String, String> reasons = Map.of(
                "empty.csv", EnrollmentCsv.NO_HEADER,
                "header-only.csv", EnrollmentCsv.NO_ROWS,
                "unknown-column.csv", "line 1: " + String.format(EnrollmentCsv.UNKNOWN_COLUMN, "owner"),
                "no-ek-column.csv", "line 1: " + EnrollmentCsv.NO_EK_COLUMN,
                "latin1.csv", EnrollmentCsv.NOT_UTF8,
                "control.csv", "line 2: " + EnrollmentCsv.CONTROL_CHARACTERS,
                "huge.csv", EnrollmentCsv.FILE_TOO_LARGE);
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            Path csv = write(file.getKey(), file.getValue());
            Result r = admin("tpm", "enroll", "-csv", csv.toString());
            assertEquals(1, r.code(), file.getKey());
            assertEquals(csv + ": " + reasons.get(file.getKey()) + "\nError: "
                    + String.format(TpmCommands.CSV_INVALID, csv, 1, "entry") + "\n", r.err());
        }
        StringBuilder many = new StringBuilder("ek_hash\n");
        for (int i = 0; i <= EnrollmentCsv.MAX_ROWS; i++) {
            many.append(String.format("%064x", i)).append('\n');
        }
        Path csv = write("many.csv", many.toString());
        Result r = admin("tpm", "enroll", "-csv", csv.toString());
        assertEquals(csv + ": line " + (EnrollmentCsv.MAX_ROWS + 2) + ": " + EnrollmentCsv.TOO_MANY_ROWS + "\n"
                + "Error: " + String.format(TpmCommands.CSV_INVALID, csv, 1, "entry") + "\n", r.err());
        assertTrue(stored().isEmpty());
    }

    @Test
    void enrollCsv_rowsTheServerRefuses_reportedPerRow_exitNonZero() throws Exception {
        assertEquals(0, admin("tpm", "enroll", "-ekHash", "11".repeat(32)).code());
        StringBuilder text = new StringBuilder("ek_hash,labels\n");
        for (int i = 0; i < EnrollmentCsv.MAX_ROWS - 1; i++) {
            text.append(String.format("%064x", i + 1000)).append(",\n");
        }
        text.append("11".repeat(32)).append(",n=1\n");
        Path csv = write("partly.csv", text.toString());
        Result r = admin("tpm", "enroll", "-csv", csv.toString());
        assertEquals(1, r.code());
        assertTrue(r.out().contains("line 1001: " + "11".repeat(32) + ": already exists: "
                + DataStoreErrors.TPM_ENROLLMENT_EXISTS + ": \"" + "11".repeat(32) + "\"\n"), r.out());
        assertTrue(r.out().endsWith("Enrolled 999 of 1000 TPMs\n"), r.out());
        assertEquals("Error: " + String.format(TpmCommands.SOME_FAILED, 1, 1000) + "\n", r.err());
        assertEquals(1000, stored().size());
    }
}
