package dev.bourne.tpm.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.testing.tpm.RealTpmData;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.agent.AgentTpm;
import dev.bourne.tpm.agent.EndorsementKey;
import dev.bourne.tpm.agent.TpmAgentSettings;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** EK certificate trust with a real TPM's certificate: swtpm's EK certificate, issued by its local CA. */
@WithSwtpm
class EkCaStoreSwtpmTest {

    private static EndorsementKey endorsementKey(Swtpm swtpm) throws Exception {
        swtpm.disconnect();
        try (AgentTpm tpm = AgentTpm.open(TpmAgentSettings.defaults("tcp://127.0.0.1:" + swtpm.dataPort()))) {
            return tpm.endorsementKey();
        }
    }

    private static List<X509Certificate> vendors() {
        return EkCaStore.load(List.of(RealTpmData.vendorEkCa()), Clock.systemUTC()).certificates();
    }

    @Test
    void verify_swtpmEk_notTrustedWithVendorCertificatesOnly(Swtpm swtpm) throws Exception {
        X509Certificate ekCertificate = swtpm.ekCertificate();
        EkCaStore store = EkCaStore.of(vendors(), Clock.systemUTC());
        TpmAttestationException e = assertThrows(TpmAttestationException.class,
                () -> store.verify(ekCertificate, endorsementKey(swtpm).publicKey()));
        assertEquals(EkCaStore.EK_CERTIFICATE_UNTRUSTED, e.getMessage());
    }

    @Test
    void verify_swtpmEk_trustedWithItsLocalCaAmongVendors(Swtpm swtpm) throws Exception {
        X509Certificate ekCertificate = swtpm.ekCertificate();
        // TCG's EK certificate shape: a critical SAN with the TPM manufacturer, model and version.
        assertTrue(ekCertificate.getCriticalExtensionOIDs().contains("2.5.29.17"),
                ekCertificate.getCriticalExtensionOIDs().toString());
        List<X509Certificate> certificates = new ArrayList<>(vendors());
        certificates.add(swtpm.localCaCertificates().issuer());
        certificates.add(swtpm.localCaCertificates().root());
        EkCaStore store = EkCaStore.of(certificates, Clock.systemUTC());
        EndorsementKey ek = endorsementKey(swtpm);
        PKIXCertPathBuilderResult result = store.verify(ekCertificate, ek.publicKey());
        assertEquals(swtpm.localCaCertificates().root(), result.getTrustAnchor().getTrustedCert());
        assertEquals(List.of(ekCertificate, swtpm.localCaCertificates().issuer()),
                result.getCertPath().getCertificates());
        assertEquals(ekCertificate, EkCaStore.parseEkCertificate(ek.certificate().orElseThrow()));
    }

    @Test
    void changeEndorsementSeed_givesTheCopyAnotherEk(Swtpm swtpm) throws Exception {
        String first = endorsementKey(swtpm).ekHash();
        try (Swtpm second = Swtpm.start()) {
            assertEquals(first, endorsementKey(second).ekHash(), "copies of the template share their EK");
            TssDriver.changeEndorsementSeed(second.tpm());
            assertNotEquals(first, endorsementKey(second).ekHash());
        }
    }
}
