package dev.bourne.appliance.datastore;

/**
 * Thrown for a database error that is none of the other kinds: a schema from a newer Bourne, a corrupt file, a
 * statement the database refused. Not worth retrying without an operator looking at the cause.
 */
public final class DataStoreFailureException extends DataStoreException {
    private static final long serialVersionUID = 1L;

    public DataStoreFailureException(String message) {
        super(message);
    }

    public DataStoreFailureException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.FAILURE;
    }
}
