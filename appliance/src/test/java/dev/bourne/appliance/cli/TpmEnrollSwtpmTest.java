package dev.bourne.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.admin.AdminFixture;
import dev.bourne.appliance.datastore.DataStoreErrors;
import dev.bourne.appliance.datastore.PageRequest;
import dev.bourne.appliance.server.AdminSocketServer;
import dev.bourne.testing.Exec;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.SwtpmTemplate;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.server.TpmEnrollment;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
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
 * The EK hash oracle (issue 5): the hash {@code bourne-server tpm enroll} stores for a real TPM's EK (swtpm) equals
 * {@code openssl pkey -pubin -outform DER | sha256sum} of the public key tpm2-tools export, whether the EK is given
 * as the key {@code tpm2_createek}/{@code tpm2_readpublic} wrote or as the TPM's EK certificate from NV.
 */
@WithSwtpm
class TpmEnrollSwtpmTest {
    static final int ECC_EK_HANDLE = 0x81010016;

    @TempDir
    Path dir;

    AdminFixture fixture;
    AdminSocketServer socketServer;
    Path socket;

    @BeforeEach
    void setUp() throws Exception {
        fixture = new AdminFixture(dir);
        socket = dir.resolve("private").resolve("api.sock");
        Files.createDirectories(socket.getParent());
        socketServer = AdminSocketServer.start(socket, fixture.services());
    }

    @AfterEach
    void tearDown() throws Exception {
        socketServer.close();
        fixture.close();
    }

    record Result(int code, String out, String err) {
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

    /** Runs a tpm2-tools command against the swtpm, then flushes transient objects (there is no resource manager). */
    static void tpm2(Swtpm swtpm, String... command) {
        Map<String, String> env = Map.of("TPM2TOOLS_TCTI", swtpm.tcti());
        Exec.run(List.of(command), env, Duration.ofSeconds(30)).requireSuccess();
        Exec.run(List.of("tpm2_flushcontext", "-t"), env, Duration.ofSeconds(30)).requireSuccess();
    }

    /** The independent oracle: {@code openssl pkey -pubin -in FILE -outform DER | sha256sum}. */
    static String opensslHash(Path pem) {
        Exec.Result result = Exec.run(List.of("bash", "-c", "set -o pipefail; openssl pkey -pubin -in \"$1\""
                + " -outform DER | sha256sum", "oracle", pem.toString())).requireSuccess();
        String hash = result.stdout().trim().split("\\s+")[0];
        assertTrue(hash.matches("[0-9a-f]{64}"), result.stdout());
        return hash;
    }

    List<String> storedHashes() throws Exception {
        return fixture.dataStore().listTpmEnrollments(Optional.empty(), PageRequest.ALL).items().stream()
                .map(TpmEnrollment::ekHash).toList();
    }

    @Test
    void rsaEk_createekPem_readpublicPem_andNvCertificate_allGiveOpensslsHash(Swtpm swtpm) throws Exception {
        byte[] certificate = swtpm.ekCertificate().getEncoded();
        swtpm.disconnect();
        Path created = dir.resolve("ek-created.pem");
        Path persisted = dir.resolve("ek-persisted.pem");
        tpm2(swtpm, "tpm2_createek", "-c", dir.resolve("ek.ctx").toString(), "-G", "rsa", "-u", created.toString(),
                "-f", "pem");
        tpm2(swtpm, "tpm2_readpublic", "-c", "0x" + Integer.toHexString(SwtpmTemplate.RSA_EK_HANDLE), "-f", "pem",
                "-o", persisted.toString());
        String oracle = opensslHash(created);
        assertEquals(oracle, opensslHash(persisted), "the template EK is the persisted EK");

        Result enrolled = admin("tpm", "enroll", "-ekPub", created.toString(), "-label", "rack=r1");
        assertEquals(0, enrolled.code(), enrolled.err());
        assertTrue(enrolled.out().contains("EK hash          : " + oracle + "\n"), enrolled.out());
        assertEquals(List.of(oracle), storedHashes());

        // The same TPM by its EK certificate (DER from NV, and as PEM): the same hash, so it is already enrolled.
        Path der = dir.resolve("ek-cert.der");
        Files.write(der, certificate);
        Path pem = dir.resolve("ek-cert.pem");
        Files.writeString(pem, "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder().encodeToString(certificate)
                + "\n-----END CERTIFICATE-----\n");
        for (Path file : List.of(der, pem)) {
            Result again = admin("tpm", "enroll", "-ekCert", file.toString());
            assertEquals(1, again.code(), file.toString());
            assertEquals("Error: already exists: " + DataStoreErrors.TPM_ENROLLMENT_EXISTS + ": \"" + oracle + "\"\n",
                    again.err());
        }
        assertEquals(0, admin("tpm", "revoke", "-ekHash", oracle).code());
    }

    @Test
    void rsaEk_byCertificateFirst_storesOpensslsHash_andThePem(Swtpm swtpm) throws Exception {
        byte[] certificate = swtpm.ekCertificate().getEncoded();
        swtpm.disconnect();
        Path persisted = dir.resolve("ek.pem");
        tpm2(swtpm, "tpm2_readpublic", "-c", "0x" + Integer.toHexString(SwtpmTemplate.RSA_EK_HANDLE), "-f", "pem",
                "-o", persisted.toString());
        Path der = dir.resolve("ek-cert.der");
        Files.write(der, certificate);
        Result enrolled = admin("tpm", "enroll", "-ekCert", der.toString());
        assertEquals(0, enrolled.code(), enrolled.err());
        String oracle = opensslHash(persisted);
        assertEquals(List.of(oracle), storedHashes());
        String storedPem = fixture.dataStore().getTpmEnrollment(oracle).orElseThrow().ekCertificatePem().orElseThrow();
        Path storedFile = dir.resolve("stored.pem");
        Files.writeString(storedFile, storedPem);
        // openssl reads the stored PEM back as the same certificate.
        Exec.run(List.of("openssl", "x509", "-in", storedFile.toString(), "-outform", "DER", "-out",
                dir.resolve("back.der").toString())).requireSuccess();
        assertTrue(java.util.Arrays.equals(certificate, Files.readAllBytes(dir.resolve("back.der"))));
    }

    @Test
    void eccEk_readpublicPem_givesOpensslsHash(Swtpm swtpm) throws Exception {
        swtpm.disconnect();
        Path ecc = dir.resolve("ek-ecc.pem");
        tpm2(swtpm, "tpm2_readpublic", "-c", "0x" + Integer.toHexString(ECC_EK_HANDLE), "-f", "pem", "-o",
                ecc.toString());
        Path eccDer = dir.resolve("ek-ecc.der");
        tpm2(swtpm, "tpm2_readpublic", "-c", "0x" + Integer.toHexString(ECC_EK_HANDLE), "-f", "der", "-o",
                eccDer.toString());
        String oracle = opensslHash(ecc);
        Result enrolled = admin("tpm", "enroll", "-ekPub", ecc.toString());
        assertEquals(0, enrolled.code(), enrolled.err());
        assertEquals(List.of(oracle), storedHashes());
        Result byDer = admin("tpm", "enroll", "-ekPub", eccDer.toString());
        assertEquals("Error: already exists: " + DataStoreErrors.TPM_ENROLLMENT_EXISTS + ": \"" + oracle + "\"\n",
                byDer.err());
    }
}
