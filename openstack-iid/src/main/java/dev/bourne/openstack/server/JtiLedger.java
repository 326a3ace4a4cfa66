package dev.bourne.openstack.server;

import java.time.Instant;

/**
 * Where the server records the {@code jti} of every document it accepted, so that each document attests once: across
 * servers sharing a database and across restarts (the server's datastore in production; a narrow host service, never
 * the datastore itself).
 */
public interface JtiLedger {

    /**
     * Records {@code jti} of {@code issuer} as used until {@code expiresAt} (after which the document is refused as
     * expired anyway, so the record may be dropped).
     *
     * @return true when this is the first use; false when the jti was already recorded (a replay)
     * @throws LedgerUnavailableException when the ledger cannot answer: the attestor then fails closed
     */
    boolean consume(String issuer, String jti, Instant expiresAt) throws LedgerUnavailableException;

    /** The ledger could not record or look up a jti. */
    final class LedgerUnavailableException extends Exception {
        private static final long serialVersionUID = 1L;

        public LedgerUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
