package dev.bourne.appliance.datastore;

/**
 * Thrown when the database cannot be reached or stays busy (PostgreSQL down, pool exhausted, SQLite locked past the
 * retry bound). The operation may be retried later; nothing was written.
 */
public final class UnavailableException extends DataStoreException {
    private static final long serialVersionUID = 1L;

    public UnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.UNAVAILABLE;
    }
}
