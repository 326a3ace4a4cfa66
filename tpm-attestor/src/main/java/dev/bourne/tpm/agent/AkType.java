package dev.bourne.tpm.agent;

/**
 * The attestation key's algorithm ({@code ak_type}). ECC P-256 is the default: about five times faster to sign with
 * than RSA-2048 on TPMs and swtpm alike, and every TPM 2.0 PC Client TPM supports it.
 */
public enum AkType {
    /** NIST P-256, ECDSA with SHA-256. */
    ECC_P256("ecc-p256"),
    /** RSA 2048, RSASSA-PKCS1-v1_5 with SHA-256. */
    RSA_2048("rsa-2048");

    private final String configName;

    AkType(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }
}
