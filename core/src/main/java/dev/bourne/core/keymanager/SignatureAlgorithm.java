package dev.bourne.core.keymanager;

import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;

/**
 * The signature algorithms a {@link ManagedKey} signs with: ECDSA, RSA PKCS#1 v1.5 and RSA-PSS, each with SHA-256,
 * SHA-384 or SHA-512. Each knows its JCA name and parameters, and its JWS name for JWT-SVIDs.
 *
 * <p>ECDSA signatures are DER-encoded (as X.509 and JCA use them); JWS needs the fixed-length form, which the JWT
 * code converts to.
 */
public enum SignatureAlgorithm {
    ECDSA_SHA256("SHA256withECDSA", null, "ES256", "EC"),
    ECDSA_SHA384("SHA384withECDSA", null, "ES384", "EC"),
    ECDSA_SHA512("SHA512withECDSA", null, "ES512", "EC"),
    RSA_PKCS1_SHA256("SHA256withRSA", null, "RS256", "RSA"),
    RSA_PKCS1_SHA384("SHA384withRSA", null, "RS384", "RSA"),
    RSA_PKCS1_SHA512("SHA512withRSA", null, "RS512", "RSA"),
    RSA_PSS_SHA256("RSASSA-PSS", pss("SHA-256", MGF1ParameterSpec.SHA256, 32), "PS256", "RSA"),
    RSA_PSS_SHA384("RSASSA-PSS", pss("SHA-384", MGF1ParameterSpec.SHA384, 48), "PS384", "RSA"),
    RSA_PSS_SHA512("RSASSA-PSS", pss("SHA-512", MGF1ParameterSpec.SHA512, 64), "PS512", "RSA");

    private final String jcaName;
    private final PSSParameterSpec parameters;
    private final String jwsName;
    private final String keyAlgorithm;

    SignatureAlgorithm(String jcaName, PSSParameterSpec parameters, String jwsName, String keyAlgorithm) {
        this.jcaName = jcaName;
        this.parameters = parameters;
        this.jwsName = jwsName;
        this.keyAlgorithm = keyAlgorithm;
    }

    private static PSSParameterSpec pss(String digest, MGF1ParameterSpec mgf, int saltLength) {
        // Salt as long as the digest, trailer field 1: what RFC 7518 (PS256...) and RFC 8017's recommendation use.
        return new PSSParameterSpec(digest, "MGF1", mgf, saltLength, PSSParameterSpec.TRAILER_FIELD_BC);
    }

    /** The JCA {@code Signature} algorithm name. */
    public String jcaName() {
        return jcaName;
    }

    /** Parameters to pass to {@code Signature.setParameter}, or {@code null} when there are none (all but PSS). */
    public AlgorithmParameterSpec parameters() {
        return parameters;
    }

    /** The JWS {@code alg} name, such as {@code ES256}. */
    public String jwsName() {
        return jwsName;
    }

    /** The JCA key algorithm this signature needs, {@code EC} or {@code RSA}. */
    public String keyAlgorithm() {
        return keyAlgorithm;
    }

    /** Whether a key of {@code type} can make this signature. */
    public boolean fits(KeyType type) {
        return type.jcaAlgorithm().equals(keyAlgorithm);
    }
}
