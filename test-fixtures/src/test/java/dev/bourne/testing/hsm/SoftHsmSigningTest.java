package dev.bourne.testing.hsm;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(TokenChecks.class)
@WithSoftHsm
class SoftHsmSigningTest {

    private static final byte[] MESSAGE = "bourne attestation challenge".getBytes(StandardCharsets.UTF_8);

    @BeforeAll
    static void recordToken(SoftHsmToken token) {
        TokenChecks.record(SoftHsmSigningTest.class, token);
    }

    @Test
    void ecP256_signsOnTokenAndVerifiesWithSunEc_privateKeyNeverExtractable(SoftHsmToken token) throws Exception {
        assertEquals(List.of(), Pkcs11Tool.listObjects(token), "a leased token starts empty");

        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", token.provider());
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = generator.generateKeyPair();

        Signature signer = Signature.getInstance("SHA256withECDSA", token.provider());
        signer.initSign(pair.getPrivate());
        signer.update(MESSAGE);
        byte[] signature = signer.sign();

        // Verify in software, with a public key rebuilt from its encoding: nothing of the token takes part.
        Provider sunEc = Security.getProvider("SunEC");
        assertNotNull(sunEc, "the JDK's SunEC provider");
        PublicKey softwareKey = KeyFactory.getInstance("EC", sunEc)
                .generatePublic(new X509EncodedKeySpec(pair.getPublic().getEncoded()));
        Signature verifier = Signature.getInstance("SHA256withECDSA", sunEc);
        verifier.initVerify(softwareKey);
        verifier.update(MESSAGE);
        assertTrue(verifier.verify(signature), "SunEC accepts the token's signature");
        verifier.initVerify(softwareKey);
        verifier.update("another message".getBytes(StandardCharsets.UTF_8));
        assertFalse(verifier.verify(signature), "SunEC rejects the signature over another message");

        assertNull(pair.getPrivate().getEncoded(), "the JCA handle exposes no key material");
        List<Pkcs11Object> privateKeys = Pkcs11Tool.listObjects(token).stream()
                .filter(Pkcs11Object::isPrivateKey).toList();
        assertEquals(1, privateKeys.size(), "one private key on the token: " + privateKeys);
        Pkcs11Object key = privateKeys.get(0);
        assertAll(
                () -> assertEquals("EC", key.type()),
                () -> assertTrue(key.sensitive(), "sensitive: " + key.access()),
                () -> assertTrue(key.alwaysSensitive(), "always sensitive: " + key.access()),
                () -> assertTrue(key.neverExtractable(), "never extractable: " + key.access()),
                () -> assertTrue(key.local(), "generated on the token: " + key.access()),
                () -> assertTrue(key.usage().contains("sign"), "can sign: " + key.usage()));
    }
}
