package dev.bourne.appliance.datastore;

/** Thrown when a record with the same identity already exists (same entry ID, same parent, SPIFFE ID and selector set, same node, or same join token). */
public final class AlreadyExistsException extends DataStoreException {
    private static final long serialVersionUID = 1L;

    public AlreadyExistsException(String message) {
        super(message);
    }

    @Override
    public Kind kind() {
        return Kind.ALREADY_EXISTS;
    }
}
