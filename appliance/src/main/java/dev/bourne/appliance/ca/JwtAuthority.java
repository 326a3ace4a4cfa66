package dev.bourne.appliance.ca;

import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import java.time.Instant;
import java.util.Objects;

/**
 * A JWT-SVID signing key: its key in the key manager, the {@code kid} it is published under in the bundle, and when it
 * stops signing. Tokens it signed stay verifiable while its public key stays in the bundle.
 */
public final class JwtAuthority {
    private final String slotId;
    private final ManagedKey key;
    private final String keyId;
    private final Instant notAfter;
    private final SignatureAlgorithm signatureAlgorithm;

    /**
     * @param slotId the key manager key ID of the slot, such as {@code JWT-Signer-A}
     * @param keyId the JWS {@code kid}, random per key so a kid never names two keys
     * @param signatureAlgorithm the JWS algorithm; must fit the key type
     */
    public JwtAuthority(String slotId, ManagedKey key, String keyId, Instant notAfter,
            SignatureAlgorithm signatureAlgorithm) {
        this.slotId = Objects.requireNonNull(slotId, "slotId");
        this.key = Objects.requireNonNull(key, "key");
        this.keyId = Objects.requireNonNull(keyId, "keyId");
        this.notAfter = Objects.requireNonNull(notAfter, "notAfter");
        this.signatureAlgorithm = Objects.requireNonNull(signatureAlgorithm, "signatureAlgorithm");
        if (!signatureAlgorithm.fits(key.type())) {
            throw new IllegalArgumentException(signatureAlgorithm.jwsName() + " cannot sign with a "
                    + key.type().configName() + " key");
        }
    }

    public String slotId() {
        return slotId;
    }

    public ManagedKey key() {
        return key;
    }

    /** The JWS {@code kid} and the key's ID in the bundle's JWT authorities. */
    public String keyId() {
        return keyId;
    }

    public Instant notAfter() {
        return notAfter;
    }

    public SignatureAlgorithm signatureAlgorithm() {
        return signatureAlgorithm;
    }

    @Override
    public String toString() {
        return "JwtAuthority{" + keyId + ", slot " + slotId + ", " + signatureAlgorithm.jwsName() + ", until "
                + notAfter + "}";
    }
}
