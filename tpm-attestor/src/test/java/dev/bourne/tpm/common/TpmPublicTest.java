package dev.bourne.tpm.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.testing.Exec;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_ECC_CURVE;

/**
 * TpmPublic against the public areas a real TPM (swtpm) returns: the EKs swtpm_setup made and AKs created for the test.
 * The TPM's own name computation, its EK certificates, tpm2-tools and openssl are the oracles.
 */
@WithSwtpm
class TpmPublicTest {

    @TempDir
    Path dir;

    @Test
    void parse_rsaEk_nameAndKeyEqualTheTpmsAndCertificates(Swtpm swtpm) throws Exception {
        X509Certificate certificate = swtpm.ekCertificate();
        TpmDriver tpm = new TpmDriver(swtpm);
        byte[] area = tpm.readPublic(TpmDriver.RSA_EK);

        TpmPublic ek = TpmPublic.parse(area);

        assertEquals(TpmKeyType.RSA, ek.type());
        assertEquals(TpmHashAlg.SHA256, ek.nameAlg());
        assertEquals(2048, ek.rsaKeyBits());
        assertTrue(ek.has(ObjectAttribute.RESTRICTED) && ek.has(ObjectAttribute.DECRYPT));
        assertEquals(Optional.of(new TpmPublic.SymmetricDefinition(TpmPublic.ALG_AES, 128, TpmPublic.ALG_CFB)),
                ek.symmetric());
        assertEquals(Optional.empty(), ek.scheme());
        assertArrayEquals(tpm.readName(new tss.tpm.TPM_HANDLE(TpmDriver.RSA_EK)), ek.name());
        assertEquals(certificate.getPublicKey(), ek.publicKey());
        assertArrayEquals(area, ek.encoded());
    }

    @Test
    void parse_eccP384Ek_nameAndKeyEqualTheTpmsAndCertificates(Swtpm swtpm) throws Exception {
        TpmDriver tpm = new TpmDriver(swtpm);
        byte[] area = tpm.readPublic(TpmDriver.ECC_P384_EK);
        X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(tpm.readNv(TpmDriver.ECC_P384_EK_CERTIFICATE)));

        TpmPublic ek = TpmPublic.parse(area);

        assertEquals(TpmKeyType.ECC, ek.type());
        assertEquals(Optional.of(TpmEccCurve.NIST_P384), ek.curve());
        assertTrue(ek.has(ObjectAttribute.RESTRICTED) && ek.has(ObjectAttribute.DECRYPT));
        assertArrayEquals(tpm.readName(new tss.tpm.TPM_HANDLE(TpmDriver.ECC_P384_EK)), ek.name());
        assertEquals(certificate.getPublicKey(), ek.publicKey());
        assertEquals(ek.nameAlg().id(), ((ek.name()[0] & 0xff) << 8) | (ek.name()[1] & 0xff));
    }

    @Test
    void ekHash_ofParsedEks_equalsOpensslOverTpm2ReadpublicPem(Swtpm swtpm) throws Exception {
        TpmDriver tpm = new TpmDriver(swtpm);
        for (int handle : new int[] {TpmDriver.RSA_EK, TpmDriver.ECC_P384_EK}) {
            TpmPublic ek = TpmPublic.parse(tpm.readPublic(handle));
            Path pem = dir.resolve(handle + ".pem");
            Path der = dir.resolve(handle + ".der");
            Path tss = dir.resolve(handle + ".pub");
            tpm.tool("tpm2_readpublic", "-c", "0x" + Integer.toHexString(handle), "-f", "pem", "-o", pem.toString());
            tpm.tool("tpm2_readpublic", "-c", "0x" + Integer.toHexString(handle), "-o", tss.toString());
            Exec.run(List.of("openssl", "pkey", "-pubin", "-in", pem.toString(), "-outform", "DER", "-out",
                    der.toString())).requireSuccess();
            String openssl = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(der)));

            assertEquals(openssl, EkHash.of(ek.publicKey()));
            assertEquals(ek, TpmPublic.parseTpm2b(Files.readAllBytes(tss)));
        }
    }

    @Test
    void parse_createdAks_nameEqualsTheTpmsAndSchemeIsTheTemplates(Swtpm swtpm) throws Exception {
        TpmDriver tpm = new TpmDriver(swtpm);
        TpmDriver.Key ecc = tpm.createPrimary(TpmDriver.eccAk(TPM_ECC_CURVE.NIST_P256, TPM_ALG_ID.SHA256));
        try {
            TpmPublic ak = TpmPublic.parse(ecc.publicArea());
            assertArrayEquals(ecc.name(), ak.name());
            assertEquals(Optional.of(new SigScheme(SigScheme.ECDSA, TpmHashAlg.SHA256)), ak.scheme());
            assertEquals(Optional.of(TpmEccCurve.NIST_P256), ak.curve());
            assertTrue(ak.publicKey() instanceof ECPublicKey);
        } finally {
            tpm.flush(ecc.handle());
        }
        TpmDriver.Key rsa = tpm.createPrimary(TpmDriver.rsaAk(2048, true));
        try {
            TpmPublic ak = TpmPublic.parse(rsa.publicArea());
            assertArrayEquals(rsa.name(), ak.name());
            assertEquals(Optional.of(new SigScheme(SigScheme.RSAPSS, TpmHashAlg.SHA256)), ak.scheme());
            assertEquals(65537, ((RSAPublicKey) ak.publicKey()).getPublicExponent().intValueExact());
        } finally {
            tpm.flush(rsa.handle());
        }
    }
}
