package dev.bourne.appliance.attestation;

import java.time.Instant;
import java.util.Optional;

/**
 * The narrow host service the {@code join_token} attestor needs: take a token, once. Backed by the datastore in the
 * server; the attestor never sees the datastore itself.
 */
@FunctionalInterface
public interface JoinTokens {

    /**
     * Consumes {@code token} atomically and returns its expiry; empty when it does not exist or was already taken.
     *
     * @throws AttestationException with {@link AttestationException.Reason#UNAVAILABLE} when the store is down
     */
    Optional<Instant> take(String token) throws AttestationException;
}
