package dev.bourne.testing.tpm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXCertPathValidatorResult;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tss.tpm.TPM2B_PUBLIC_KEY_RSA;
import tss.tpm.TPMS_RSA_PARMS;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPM_HANDLE;

@WithSwtpm
class SwtpmEkCertificateTest {

    /** TCG EK Credential Profile: the EK certificate's extended key usage, tcg-kp-EKCertificate. */
    private static final String TCG_KP_EK_CERTIFICATE = "2.23.133.8.1";
    private static final int RSA_DEFAULT_EXPONENT = 65537;

    @Test
    void ekCertificate_fromNv_chainsToLocalCaRoot(Swtpm swtpm) throws Exception {
        X509Certificate ek = swtpm.ekCertificate();
        LocalCaCertificates ca = swtpm.localCaCertificates();

        CertPath path = CertificateFactory.getInstance("X.509").generateCertPath(List.of(ek, ca.issuer()));
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(ca.root(), null)));
        // The local CA publishes no CRL or OCSP responder: revocation cannot be checked for these certificates.
        parameters.setRevocationEnabled(false);
        PKIXCertPathValidatorResult result =
                (PKIXCertPathValidatorResult) CertPathValidator.getInstance("PKIX").validate(path, parameters);

        assertEquals(ca.root(), result.getTrustAnchor().getTrustedCert());
        assertEquals(List.of(TCG_KP_EK_CERTIFICATE), ek.getExtendedKeyUsage());
        // The subject alternative name (TPM manufacturer, model, version as a dirName) is critical and PKIX accepted it.
        assertTrue(ek.getCriticalExtensionOIDs().contains("2.5.29.17"), "SAN must be critical in an EK certificate");
    }

    @Test
    void ekCertificate_publicKey_matchesPersistentEk(Swtpm swtpm) {
        RSAPublicKey certified = (RSAPublicKey) swtpm.ekCertificate().getPublicKey();

        TPMT_PUBLIC ek = swtpm.tpm().ReadPublic(new TPM_HANDLE(SwtpmTemplate.RSA_EK_HANDLE)).outPublic;
        byte[] modulus = ((TPM2B_PUBLIC_KEY_RSA) ek.unique).buffer;
        TPMS_RSA_PARMS parameters = (TPMS_RSA_PARMS) ek.parameters;
        // TPM 2.0 encodes the default exponent 65537 as 0.
        int exponent = parameters.exponent == 0 ? RSA_DEFAULT_EXPONENT : parameters.exponent;

        assertEquals(2048, parameters.keyBits);
        assertEquals(new BigInteger(1, modulus), certified.getModulus());
        assertEquals(BigInteger.valueOf(exponent), certified.getPublicExponent());
    }

    @Test
    void ekCertificate_fromNv_equalsFileWrittenBySwtpmSetup(Swtpm swtpm) throws Exception {
        X509Certificate fromNv = swtpm.ekCertificate();
        X509Certificate fromFile = SwtpmTemplate.readCertificate(
                SwtpmTemplate.get().stateDir().resolveSibling("ekcerts").resolve("ek-rsa2048.crt"));

        assertArrayEquals(fromFile.getEncoded(), fromNv.getEncoded());
    }
}
