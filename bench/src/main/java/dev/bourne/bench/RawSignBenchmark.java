package dev.bourne.bench;

import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.testing.hsm.SoftHsmToken;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The limit every CA benchmark is measured against: bare SunPKCS11 signatures on a SoftHSM2 token key, one reused,
 * initialised {@link Signature} per thread, over a message the size of a TBSCertificate. Nothing Bourne adds is on
 * this path.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RawSignBenchmark {
    /** About the size of an X.509-SVID's TBSCertificate, so the digest costs what it costs when minting. */
    static final int MESSAGE_BYTES = 480;

    @State(Scope.Benchmark)
    public static class TokenKey {
        @Param({"ec-p256", "rsa-2048"})
        public String keyType;

        SoftHsmToken token;
        KeyPair pair;
        SignatureAlgorithm algorithm;

        @Setup(Level.Trial)
        public void setUp() throws GeneralSecurityException {
            token = HsmToken.lease();
            KeyType type = HsmToken.keyType(keyType);
            algorithm = type.defaultSignatureAlgorithm();
            KeyPairGenerator generator = KeyPairGenerator.getInstance(type.jcaAlgorithm(), token.provider());
            generator.initialize(type.isEc() ? new ECGenParameterSpec(type.curveName())
                    : new RSAKeyGenParameterSpec(type.bits(), RSAKeyGenParameterSpec.F4));
            pair = generator.generateKeyPair();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            HsmToken.release(token);
        }
    }

    @State(Scope.Thread)
    public static class Signer {
        Signature signature;
        byte[] message;

        @Setup(Level.Trial)
        public void setUp(TokenKey key) throws GeneralSecurityException {
            signature = Signature.getInstance(key.algorithm.jcaName(), key.token.provider());
            signature.initSign(key.pair.getPrivate());
            message = new byte[MESSAGE_BYTES];
            new SecureRandom().nextBytes(message);
        }
    }

    @Benchmark
    public byte[] sign(Signer signer) throws GeneralSecurityException {
        signer.signature.update(signer.message);
        return signer.signature.sign();
    }
}
