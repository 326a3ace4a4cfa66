package dev.bourne.tpm.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TPM whose EK is not persisted (many are shipped so): the agent recreates it from the TCG default template, which
 * must give the very key the manufacturer's certificate certifies; activation then works with the transient EK and
 * flushes it.
 */
@WithSwtpm
class AgentTpmTransientEkTest {

    @TempDir
    Path dir;

    @Test
    void endorsementKey_persistentEkEvicted_recreatedFromTemplateMatchesTheCertificate(Swtpm swtpm) throws Exception {
        java.security.cert.X509Certificate certificate = swtpm.ekCertificate();
        byte[] certifiedKey = certificate.getPublicKey().getEncoded();
        byte[] persistedEkArea;
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, Tpm2Tools.settings(swtpm))) {
            persistedEkArea = tpm.endorsementKey().publicArea();
        }
        Tpm2Tools tools = new Tpm2Tools(swtpm, dir);
        tools.run("tpm2_evictcontrol", "-C", "o", "-c", "0x81010001");

        byte[] akPublic;
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, Tpm2Tools.settings(swtpm))) {
            EndorsementKey ek = tpm.endorsementKey();
            assertArrayEquals(certifiedKey, ek.publicKey().getEncoded());
            assertArrayEquals(certificate.getEncoded(), ek.certificate().orElseThrow());
            akPublic = tpm.akPublic();
        }
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));

        // tpm2_makecredential needs the EK public: persist the recreated one again for the tool only.
        tools.run("tpm2_createek", "-c", "0x81010001", "-G", "rsa");
        byte[] secret = new byte[32];
        secret[0] = 42;
        Tpm2Tools.Credential credential = tools.makeCredential(Tpm2Tools.name(akPublic), secret);
        tools.run("tpm2_evictcontrol", "-C", "o", "-c", "0x81010001");
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, Tpm2Tools.settings(swtpm))) {
            assertArrayEquals(secret, tpm.activateCredential(credential.blob(), credential.encryptedSecret()));
        }
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));
        // swtpm_setup's persisted EK was made from the same template: same public area byte for byte.
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, Tpm2Tools.settings(swtpm))) {
            assertArrayEquals(persistedEkArea, tpm.endorsementKey().publicArea());
        }
    }
}
