package dev.bourne.tpm.common;

import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.util.Optional;

/**
 * The ECC curves Bourne accepts (TPM_ECC_CURVE, TCG Algorithm Registry): the NIST prime curves every TPM and the JDK
 * implement. BN and SM2 curves are rejected: neither the JDK nor the server's policy uses them.
 */
public enum TpmEccCurve {
    NIST_P256(0x0003, "secp256r1", 32),
    NIST_P384(0x0004, "secp384r1", 48),
    NIST_P521(0x0005, "secp521r1", 66);

    private final int id;
    private final String jcaName;
    private final int coordinateLength;
    private volatile ECParameterSpec spec;

    TpmEccCurve(int id, String jcaName, int coordinateLength) {
        this.id = id;
        this.jcaName = jcaName;
        this.coordinateLength = coordinateLength;
    }

    /** The TPM_ECC_CURVE value. */
    public int id() {
        return id;
    }

    /** The curve's standard name for {@link ECGenParameterSpec}. */
    public String jcaName() {
        return jcaName;
    }

    /** Bytes in a coordinate (and in a scalar such as an ECDSA r or s). */
    public int coordinateLength() {
        return coordinateLength;
    }

    /** The JCA domain parameters. */
    public ECParameterSpec parameterSpec() {
        ECParameterSpec cached = spec;
        if (cached == null) {
            try {
                AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
                parameters.init(new ECGenParameterSpec(jcaName));
                cached = parameters.getParameterSpec(ECParameterSpec.class);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(jcaName + " is a mandatory JDK curve", e);
            }
            spec = cached;
        }
        return cached;
    }

    public static Optional<TpmEccCurve> fromId(int id) {
        for (TpmEccCurve curve : values()) {
            if (curve.id == id) {
                return Optional.of(curve);
            }
        }
        return Optional.empty();
    }
}
