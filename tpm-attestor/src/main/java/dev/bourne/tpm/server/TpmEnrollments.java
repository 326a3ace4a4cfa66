package dev.bourne.tpm.server;

import java.util.Optional;

/**
 * The host service through which the TPM attestor reads enrolments (the server's datastore in production). Narrow on
 * purpose: the attestor never sees the datastore.
 */
@FunctionalInterface
public interface TpmEnrollments {

    /**
     * The enrolment of this EK hash, revoked or not.
     *
     * @throws EnrollmentLookupException when the store cannot answer; attestation then fails closed
     */
    Optional<TpmEnrollment> find(String ekHash) throws EnrollmentLookupException;

    /** The enrolment store could not be read: the attestor refuses rather than guess. */
    final class EnrollmentLookupException extends Exception {
        private static final long serialVersionUID = 1L;

        public EnrollmentLookupException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
