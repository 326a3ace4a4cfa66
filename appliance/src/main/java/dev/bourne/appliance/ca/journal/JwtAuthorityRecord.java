package dev.bourne.appliance.ca.journal;

import dev.bourne.core.keymanager.SignatureAlgorithm;
import java.security.PublicKey;
import java.time.Instant;
import java.util.Objects;

/**
 * The public, persisted part of one JWT signing key: its slot, {@code kid}, public key, validity, state and taint.
 *
 * @param keyId the JWS {@code kid} it is published under
 * @param slotId the key manager key ID, such as {@code JWT-Signer-A}
 * @param notBefore when it was prepared; rotation points are fractions of {@code notBefore..notAfter}
 */
public record JwtAuthorityRecord(String keyId, String slotId, PublicKey publicKey,
        SignatureAlgorithm signatureAlgorithm, Instant notBefore, Instant notAfter, AuthorityState state,
        boolean tainted) {

    public JwtAuthorityRecord {
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(slotId, "slotId");
        Objects.requireNonNull(publicKey, "publicKey");
        Objects.requireNonNull(signatureAlgorithm, "signatureAlgorithm");
        Objects.requireNonNull(notBefore, "notBefore");
        Objects.requireNonNull(notAfter, "notAfter");
        Objects.requireNonNull(state, "state");
        if (!notAfter.isAfter(notBefore)) {
            throw new IllegalArgumentException("JWT key " + keyId + " ends before it starts");
        }
    }

    public JwtAuthorityRecord withState(AuthorityState newState) {
        return new JwtAuthorityRecord(keyId, slotId, publicKey, signatureAlgorithm, notBefore, notAfter, newState,
                tainted);
    }

    public JwtAuthorityRecord withTainted() {
        return new JwtAuthorityRecord(keyId, slotId, publicKey, signatureAlgorithm, notBefore, notAfter, state, true);
    }
}
