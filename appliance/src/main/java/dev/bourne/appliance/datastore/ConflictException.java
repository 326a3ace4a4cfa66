package dev.bourne.appliance.datastore;

/** Thrown when the record changed since the caller read it (optimistic concurrency: a version or revision did not match). */
public final class ConflictException extends DataStoreException {
    private static final long serialVersionUID = 1L;

    public ConflictException(String message) {
        super(message);
    }

    @Override
    public Kind kind() {
        return Kind.CONFLICT;
    }
}
