package dev.bourne.appliance.datastore;

/**
 * A datastore operation that did not happen. The subclasses are the only outcomes a caller must tell apart; the API
 * edge maps {@link #kind()} to a status with an exhaustive switch. Messages name the record or field concerned and
 * never contain a connection string, password, join token or journal content.
 */
public abstract sealed class DataStoreException extends Exception
        permits NotFoundException, AlreadyExistsException, ConflictException, InvalidArgumentException,
        UnavailableException, DataStoreFailureException {
    private static final long serialVersionUID = 1L;

    /** The closed set of failure kinds, for switches at the API edge. */
    public enum Kind {
        NOT_FOUND, ALREADY_EXISTS, CONFLICT, INVALID_ARGUMENT, UNAVAILABLE, FAILURE
    }

    DataStoreException(String message) {
        super(message);
    }

    DataStoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public abstract Kind kind();
}
