package dev.bourne.tpm.agent;

import java.security.PublicKey;
import java.util.Objects;
import java.util.Optional;

/**
 * The TPM's endorsement key as the agent presents it: the manufacturer's EK certificate when NV holds one, the EK
 * public area exactly as the TPM marshals it (TPMT_PUBLIC, no size prefix), the public key and the EK hash that names
 * the node ({@code spiffe://<td>/spire/agent/tpm/<ek-hash>}). Holds public material only.
 */
public final class EndorsementKey {

    /** The EK's algorithm. RSA is preferred: it is what most EK certificates certify. */
    public enum Type {
        RSA,
        ECC
    }

    private final Type type;
    private final byte[] certificate;
    private final byte[] publicArea;
    private final PublicKey publicKey;
    private final String ekHash;

    EndorsementKey(Type type, byte[] certificate, byte[] publicArea, PublicKey publicKey, String ekHash) {
        this.type = Objects.requireNonNull(type, "type");
        this.certificate = certificate == null ? null : certificate.clone();
        this.publicArea = publicArea.clone();
        this.publicKey = Objects.requireNonNull(publicKey, "publicKey");
        this.ekHash = Objects.requireNonNull(ekHash, "ekHash");
    }

    public Type type() {
        return type;
    }

    /** The EK certificate (DER) from NV 0x01C00002 (RSA) or 0x01C0000A (ECC), when the TPM has one. */
    public Optional<byte[]> certificate() {
        return Optional.ofNullable(certificate).map(byte[]::clone);
    }

    /** TPMT_PUBLIC exactly as the TPM returned it. */
    public byte[] publicArea() {
        return publicArea.clone();
    }

    public PublicKey publicKey() {
        return publicKey;
    }

    /** Lowercase hex SHA-256 of the public key's SubjectPublicKeyInfo ({@code EkHash.of}). */
    public String ekHash() {
        return ekHash;
    }

    @Override
    public String toString() {
        return "EndorsementKey[" + type + ", ekHash=" + ekHash + ", certificate=" + (certificate != null) + "]";
    }
}
