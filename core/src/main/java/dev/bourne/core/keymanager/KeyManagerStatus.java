package dev.bourne.core.keymanager;

import java.util.Objects;

/**
 * The state of a key manager's backing store, as health checks report it.
 *
 * @param state whether keys can be used now
 * @param reason why not, for an operator; empty when {@link State#ACTIVE}. Never contains a PIN or key material.
 */
public record KeyManagerStatus(State state, String reason) {

    /** The lifecycle of the key store behind a key manager. */
    public enum State {
        /** Keys can be generated and used. */
        ACTIVE,
        /** The store is not reachable now (HSM down, token absent); the key manager retries by itself. */
        UNAVAILABLE,
        /** The store refused our credentials (wrong PIN, locked token); retrying would not help and may lock it. */
        AUTHENTICATION_FAILED
    }

    public KeyManagerStatus {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(reason, "reason");
    }

    public static KeyManagerStatus active() {
        return new KeyManagerStatus(State.ACTIVE, "");
    }

    public boolean isActive() {
        return state == State.ACTIVE;
    }
}
