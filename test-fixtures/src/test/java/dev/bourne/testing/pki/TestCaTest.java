package dev.bourne.testing.pki;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.security.KeyPair;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TestCaTest {

    @Test
    void fixedKeys_areRepeatableAndDistinct() throws Exception {
        assertArrayEquals(TestKeys.ecP256(3).getPublic().getEncoded(), TestKeys.ecP256(3).getPublic().getEncoded());
        assertFalse(java.util.Arrays.equals(TestKeys.ecP256(3).getPublic().getEncoded(),
                TestKeys.ecP256(4).getPublic().getEncoded()));
        for (KeyPair pair : List.of(TestKeys.ecP256(1), TestKeys.ecP384(1))) {
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(pair.getPrivate());
            signer.update(new byte[] {1, 2, 3});
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance("SHA256withECDSA");
            verifier.initVerify(pair.getPublic());
            verifier.update(new byte[] {1, 2, 3});
            assertEquals(true, verifier.verify(signature), "public key matches private key");
        }
    }

    @Test
    void leafUnderIntermediate_validatesWithJdkPkix() throws Exception {
        TestCa root = TestCa.root("example.org");
        TestCa intermediate = root.intermediate(TestKeys.ecP256(1));
        X509Certificate leaf = intermediate.leaf("spiffe://example.org/web", TestKeys.ecP256(2).getPublic());

        validate(TestCa.svidChain(leaf, intermediate), root.certificate());
        assertEquals(-1, leaf.getBasicConstraints());
        assertEquals(List.of(List.of(6, "spiffe://example.org/web")),
                leaf.getSubjectAlternativeNames().stream().map(List::copyOf).toList());
        assertEquals(root.certificate(), intermediate.rootCertificate());
    }

    @Test
    void forgedLeaf_failsPkix() {
        TestCa root = TestCa.root("example.org");
        X509Certificate forged = root.leafSpec("spiffe://example.org/web", TestKeys.ecP256(2).getPublic())
                .forgedSigner(TestKeys.ecP256(9))
                .issue();
        assertThrows(CertPathValidatorException.class, () -> validate(List.of(forged), root.certificate()));
    }

    @Test
    void rsaRoot_signsLeaves() throws Exception {
        java.time.Instant now = java.time.Instant.now();
        TestCa root = TestCa.root("rsa.example", TestKeys.rsa2048(0), now.minusSeconds(60), now.plusSeconds(3600));
        X509Certificate leaf = root.leaf("spiffe://rsa.example/db", TestKeys.ecP256(5).getPublic());
        validate(List.of(leaf), root.certificate());
        assertEquals("SHA256withRSA", leaf.getSigAlgName());
    }

    private static void validate(List<X509Certificate> chain, X509Certificate anchor) throws Exception {
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX")
                .validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), params);
    }
}
