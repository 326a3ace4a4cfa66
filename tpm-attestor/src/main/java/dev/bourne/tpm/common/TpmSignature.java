package dev.bourne.tpm.common;

import dev.bourne.tpm.common.internal.TpmReader;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.Locale;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * A parsed TPMT_SIGNATURE (TCG TPM 2.0 Library Part 2, "TPMT_SIGNATURE") of the schemes an attestation key may use:
 * RSASSA-PKCS1-v1_5, RSASSA-PSS and ECDSA. Other schemes (ECDAA, SM2, ECSCHNORR, HMAC, NULL) are rejected when parsing.
 *
 * <p>Verification is our own JCA code, never TSS.Java's (which accepts any ECDSA signature). ECDSA runs on a
 * BouncyCastle provider held here as an object, never installed globally: it is about five times faster than the
 * JDK 17 SunEC code on our machines (FIELD-NOTES), and the TPM's (r, s) pair is checked for range before it is
 * DER-encoded.
 */
public final class TpmSignature {

    /** A BouncyCastle provider for ECDSA only; never registered with {@code Security.addProvider}. */
    static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();
    private static final String STRUCTURE = "TPMT_SIGNATURE";
    /** 2 + 2 + 2 + 512 for RSA-4096; ECDSA P-521 is 2 + 2 + 2 * (2 + 66). */
    public static final int MAX_ENCODED = 518;
    private static final int MAX_RSA_SIGNATURE = TpmPublic.MAX_RSA_BITS / 8;
    private static final int MAX_ECC_PARAMETER = 66;

    private final int sigAlg;
    private final TpmHashAlg hash;
    private final byte[] rsaSignature;
    private final BigInteger r;
    private final BigInteger s;

    private TpmSignature(int sigAlg, TpmHashAlg hash, byte[] rsaSignature, BigInteger r, BigInteger s) {
        this.sigAlg = sigAlg;
        this.hash = hash;
        this.rsaSignature = rsaSignature;
        this.r = r;
        this.s = s;
    }

    /**
     * Parses a TPMT_SIGNATURE strictly: no trailing bytes, sizes bounded.
     *
     * @throws TpmFormatException naming the field that is malformed or the scheme that is not accepted
     */
    public static TpmSignature parse(byte[] tpmtSignature) {
        TpmReader in = TpmReader.of(STRUCTURE, tpmtSignature, MAX_ENCODED);
        int sigAlg = in.u16("sigAlg");
        if (sigAlg != SigScheme.RSASSA && sigAlg != SigScheme.RSAPSS && sigAlg != SigScheme.ECDSA) {
            throw in.error("sigAlg " + TpmPublic.hex(sigAlg) + " is not RSASSA, RSAPSS or ECDSA");
        }
        int hashId = in.u16("hash");
        TpmHashAlg hash = TpmHashAlg.fromId(hashId).orElseThrow(() -> in.error("hash " + TpmPublic.hex(hashId)
                + " is not a supported hash algorithm"));
        if (sigAlg == SigScheme.ECDSA) {
            byte[] r = in.sized(MAX_ECC_PARAMETER, "signatureR");
            byte[] s = in.sized(MAX_ECC_PARAMETER, "signatureS");
            in.requireEnd();
            return new TpmSignature(sigAlg, hash, null, new BigInteger(1, r), new BigInteger(1, s));
        }
        byte[] sig = in.sized(MAX_RSA_SIGNATURE, "sig");
        in.requireEnd();
        if (sig.length == 0) {
            throw in.error("sig is empty");
        }
        return new TpmSignature(sigAlg, hash, sig, null, null);
    }

    /** The scheme: {@link SigScheme#RSASSA}, {@link SigScheme#RSAPSS} or {@link SigScheme#ECDSA}. */
    public int sigAlg() {
        return sigAlg;
    }

    /** The hash the TPM signed with. */
    public TpmHashAlg hash() {
        return hash;
    }

    /** The scheme and hash as a {@link SigScheme}, to compare with the key's. */
    public SigScheme scheme() {
        return new SigScheme(sigAlg, hash);
    }

    /**
     * Whether this is a valid signature by {@code key} over {@code signedData} (the data itself, hashed here with
     * {@link #hash()}, as the TPM signs H(TPMS_ATTEST)). RSASSA and RSAPSS need an RSA key, ECDSA an EC key; a scheme
     * that does not fit the key, an out-of-range (r, s) or any garbage yields false, never an exception.
     */
    public boolean verify(PublicKey key, byte[] signedData) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(signedData, "signedData");
        String digest = hash.jcaName().replace("-", "");
        try {
            switch (sigAlg) {
                case SigScheme.RSASSA:
                    if (!(key instanceof RSAPublicKey)) {
                        return false;
                    }
                    return verifyWith(Signature.getInstance(digest + "withRSA"), key, signedData, rsaSignature);
                case SigScheme.RSAPSS:
                    return key instanceof RSAPublicKey rsa && verifyPss(rsa, signedData);
                case SigScheme.ECDSA:
                    return key instanceof ECPublicKey ec && verifyEcdsa(ec, digest, signedData);
                default:
                    return false;
            }
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            // Crypto boundary: a provider may throw anything on hostile input (a signature longer than the modulus,
            // an encoding it dislikes). Every such case is simply not a valid signature.
            return false;
        }
    }

    private boolean verifyPss(RSAPublicKey key, byte[] signedData) throws GeneralSecurityException {
        // TPMs use a salt as long as the digest (TPM 2.0 Library 1.38 and later, FIPS 186-4) or, on older firmware, the
        // largest salt the modulus allows. Both are accepted: each is a valid RSASSA-PSS signature by this key.
        int hashLength = hash.digestLength();
        int emLength = (key.getModulus().bitLength() - 1 + 7) / 8;
        int maxSalt = emLength - hashLength - 2;
        for (int salt : new int[] {hashLength, maxSalt}) {
            if (salt < 0) {
                continue;
            }
            Signature pss = Signature.getInstance("RSASSA-PSS");
            pss.setParameter(new PSSParameterSpec(hash.jcaName(), "MGF1", new MGF1ParameterSpec(hash.jcaName()),
                    salt, PSSParameterSpec.TRAILER_FIELD_BC));
            if (verifyWith(pss, key, signedData, rsaSignature)) {
                return true;
            }
        }
        return false;
    }

    private boolean verifyEcdsa(ECPublicKey key, String digest, byte[] signedData)
            throws GeneralSecurityException, IOException {
        BigInteger order = key.getParams().getOrder();
        if (r.signum() <= 0 || s.signum() <= 0 || r.compareTo(order) >= 0 || s.compareTo(order) >= 0) {
            return false;
        }
        ASN1EncodableVector pair = new ASN1EncodableVector(2);
        pair.add(new ASN1Integer(r));
        pair.add(new ASN1Integer(s));
        byte[] der = new DERSequence(pair).getEncoded(ASN1Encoding.DER);
        return verifyWith(Signature.getInstance(digest + "withECDSA", BOUNCY_CASTLE), key, signedData, der);
    }

    private static boolean verifyWith(Signature verifier, PublicKey key, byte[] data, byte[] signature)
            throws GeneralSecurityException {
        verifier.initVerify(key);
        verifier.update(data);
        return verifier.verify(signature);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "TpmSignature[sigAlg 0x%04X, %s]", sigAlg, hash.configName());
    }
}
