package dev.bourne.core.keymanager;

import java.util.Arrays;
import java.util.Optional;

/**
 * The key types a {@link KeyManager} can generate, with the names used in configuration ({@code ca_key_type},
 * {@code jwt_key_type}) and on the wire. The same set as SPIRE's key managers.
 */
public enum KeyType {
    EC_P256("ec-p256", "EC", 256),
    EC_P384("ec-p384", "EC", 384),
    RSA_2048("rsa-2048", "RSA", 2048),
    RSA_4096("rsa-4096", "RSA", 4096);

    private final String configName;
    private final String jcaAlgorithm;
    private final int bits;

    KeyType(String configName, String jcaAlgorithm, int bits) {
        this.configName = configName;
        this.jcaAlgorithm = jcaAlgorithm;
        this.bits = bits;
    }

    /** The name in configuration files, such as {@code ec-p256}. */
    public String configName() {
        return configName;
    }

    /** The JCA key algorithm, {@code EC} or {@code RSA}. */
    public String jcaAlgorithm() {
        return jcaAlgorithm;
    }

    /** The curve size or modulus length in bits. */
    public int bits() {
        return bits;
    }

    public boolean isEc() {
        return jcaAlgorithm.equals("EC");
    }

    /** The JCA standard curve name, for EC types only. */
    public String curveName() {
        switch (this) {
            case EC_P256:
                return "secp256r1";
            case EC_P384:
                return "secp384r1";
            default:
                throw new IllegalStateException(configName + " is not an EC key type");
        }
    }

    /** The signature algorithm SPIRE uses by default with this key type. */
    public SignatureAlgorithm defaultSignatureAlgorithm() {
        switch (this) {
            case EC_P256:
                return SignatureAlgorithm.ECDSA_SHA256;
            case EC_P384:
                return SignatureAlgorithm.ECDSA_SHA384;
            default:
                return SignatureAlgorithm.RSA_PKCS1_SHA256;
        }
    }

    /** The type named {@code name} in configuration, if any. */
    public static Optional<KeyType> fromConfigName(String name) {
        return Arrays.stream(values()).filter(type -> type.configName.equals(name)).findFirst();
    }

    /** The configuration names of all types, for error messages. */
    public static String allConfigNames() {
        return String.join(", ", Arrays.stream(values()).map(KeyType::configName).toList());
    }
}
