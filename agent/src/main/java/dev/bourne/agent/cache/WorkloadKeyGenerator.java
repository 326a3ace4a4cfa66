package dev.bourne.agent.cache;

import dev.bourne.agent.workloadapi.WorkloadKey;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.X509EncodedKeySpec;
import java.util.Objects;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.generators.ECKeyPairGenerator;
import org.bouncycastle.crypto.params.ECKeyGenerationParameters;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;

/**
 * Generates the EC P-256 key pairs of workload X.509-SVIDs (the {@code ec-p256} default).
 *
 * <p>The private half is produced directly as PKCS#8 DER with BouncyCastle's lightweight API: the Workload API's
 * whole purpose is to hand it to the workload, so it is born in the form it is delivered in and never becomes a JCA
 * key inside the agent. BouncyCastle generates P-256 keys several times faster than the JDK here (FIELD-NOTES.md).
 */
public final class WorkloadKeyGenerator {
    private final SecureRandom random;
    private final ECNamedDomainParameters p256;

    public WorkloadKeyGenerator(SecureRandom random) {
        this.random = Objects.requireNonNull(random, "random");
        X9ECParameters curve = CustomNamedCurves.getByOID(SECObjectIdentifiers.secp256r1);
        this.p256 = new ECNamedDomainParameters(SECObjectIdentifiers.secp256r1, curve);
    }

    /** A fresh key pair: the public key for the certificate request, the private key for the workload. */
    public GeneratedKey generate() {
        ECKeyPairGenerator generator = new ECKeyPairGenerator();
        generator.init(new ECKeyGenerationParameters(p256, random));
        AsymmetricCipherKeyPair pair = generator.generateKeyPair();
        try {
            byte[] spki = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(pair.getPublic()).getEncoded();
            PublicKey publicKey = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(spki));
            byte[] pkcs8 = PrivateKeyInfoFactory.createPrivateKeyInfo(pair.getPrivate()).getEncoded();
            return new GeneratedKey(publicKey, new WorkloadKey(pkcs8));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot encode a generated P-256 key", e);
        }
    }

    /** A generated pair. Not a record: it holds a secret. */
    public static final class GeneratedKey {
        private final PublicKey publicKey;
        private final WorkloadKey privateKey;

        GeneratedKey(PublicKey publicKey, WorkloadKey privateKey) {
            this.publicKey = publicKey;
            this.privateKey = privateKey;
        }

        public PublicKey publicKey() {
            return publicKey;
        }

        public WorkloadKey privateKey() {
            return privateKey;
        }

        @Override
        public String toString() {
            return "GeneratedKey[" + publicKey.getAlgorithm() + ", private redacted]";
        }
    }
}
