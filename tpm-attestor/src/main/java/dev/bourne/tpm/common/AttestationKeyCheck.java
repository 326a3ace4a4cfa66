package dev.bourne.tpm.common;

import java.util.Optional;

/**
 * The server's policy for attestation keys (ARCHITECTURE.md section 3, step 2), applied to the AK public area an agent
 * sends before anything is challenged or verified with it.
 *
 * <p>Why each rule: a quote proves TPM origin only because a <b>restricted</b> signing key refuses to sign data that
 * starts with {@link TpmsAttest#MAGIC} unless the TPM made it; an unrestricted key (or a software key loaded into the
 * TPM, which still passes ActivateCredential) could sign a forged quote. <b>fixedTPM</b>, <b>fixedParent</b> and
 * <b>sensitiveDataOrigin</b> make sure the private key was generated in this TPM and can never be duplicated out of
 * it. A key that also <b>decrypts</b> is not an AK. Keys, name and signing hashes must be at least 112-bit strong
 * (RSA-2048, NIST P-256, SHA-256), and the scheme must be one {@link TpmSignature} verifies for the key type.
 */
public final class AttestationKeyCheck {

    public static final String NOT_RESTRICTED = "AK is not a restricted key";
    public static final String NOT_SIGNING = "AK is not a signing key";
    public static final String DECRYPTS = "AK is also a decryption key";
    public static final String NOT_FIXED_TPM = "AK is not fixedTPM";
    public static final String NOT_FIXED_PARENT = "AK is not fixedParent";
    public static final String NOT_SENSITIVE_DATA_ORIGIN = "AK was not generated in the TPM (sensitiveDataOrigin)";
    public static final String WEAK_NAME_ALG = "AK name algorithm is weaker than SHA-256";
    public static final String RSA_TOO_SHORT = "AK RSA key is shorter than 2048 bits";
    public static final String CURVE_NOT_ALLOWED = "AK ECC curve is not NIST P-256, P-384 or P-521";
    public static final String NO_SIGNING_SCHEME = "AK has no signing scheme";
    public static final String SCHEME_NOT_ALLOWED = "AK signing scheme is not RSASSA or RSAPSS for RSA, ECDSA for ECC";
    public static final String WEAK_SCHEME_HASH = "AK signing scheme hash is weaker than SHA-256";

    /** The smallest RSA AK accepted. */
    public static final int MIN_RSA_BITS = 2048;

    private AttestationKeyCheck() {
    }

    /**
     * Checks an AK's public area against the policy; the first rule it breaks is reported.
     *
     * @throws TpmVerificationException with one of this class's constants
     */
    public static void check(TpmPublic ak) throws TpmVerificationException {
        require(ak.has(ObjectAttribute.RESTRICTED), NOT_RESTRICTED);
        require(ak.has(ObjectAttribute.SIGN_ENCRYPT), NOT_SIGNING);
        require(!ak.has(ObjectAttribute.DECRYPT), DECRYPTS);
        require(ak.has(ObjectAttribute.FIXED_TPM), NOT_FIXED_TPM);
        require(ak.has(ObjectAttribute.FIXED_PARENT), NOT_FIXED_PARENT);
        require(ak.has(ObjectAttribute.SENSITIVE_DATA_ORIGIN), NOT_SENSITIVE_DATA_ORIGIN);
        require(strong(ak.nameAlg()), WEAK_NAME_ALG);
        if (ak.type() == TpmKeyType.RSA) {
            require(ak.rsaKeyBits() >= MIN_RSA_BITS, RSA_TOO_SHORT);
        } else {
            // TpmPublic parses only the NIST curves; the check stays so this policy does not depend on the parser's.
            require(ak.curve().isPresent(), CURVE_NOT_ALLOWED);
        }
        Optional<SigScheme> scheme = ak.scheme();
        require(scheme.isPresent(), NO_SIGNING_SCHEME);
        int alg = scheme.get().alg();
        boolean fits = ak.type() == TpmKeyType.RSA ? alg == SigScheme.RSASSA || alg == SigScheme.RSAPSS
                : alg == SigScheme.ECDSA;
        require(fits, SCHEME_NOT_ALLOWED);
        require(strong(scheme.get().hash()), WEAK_SCHEME_HASH);
    }

    private static boolean strong(TpmHashAlg hash) {
        return hash != TpmHashAlg.SHA1;
    }

    private static void require(boolean condition, String reason) throws TpmVerificationException {
        if (!condition) {
            throw new TpmVerificationException(reason);
        }
    }
}
