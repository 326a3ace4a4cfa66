package dev.bourne.appliance.datastore;

/** Thrown when the record asked for does not exist. */
public final class NotFoundException extends DataStoreException {
    private static final long serialVersionUID = 1L;

    public NotFoundException(String message) {
        super(message);
    }

    @Override
    public Kind kind() {
        return Kind.NOT_FOUND;
    }
}
