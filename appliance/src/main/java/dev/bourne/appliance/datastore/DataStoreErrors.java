package dev.bourne.appliance.datastore;

/**
 * The messages of {@link NotFoundException}, {@link AlreadyExistsException}, {@link ConflictException},
 * {@link UnavailableException} and {@link DataStoreFailureException}: each exception's message is one of these,
 * followed by {@code ": "} and the quoted subject where there is one. Join tokens and journal contents never appear.
 */
public final class DataStoreErrors {
    public static final String ENTRY_NOT_FOUND = "registration entry not found";
    public static final String ENTRY_ID_TAKEN = "a registration entry with this ID already exists";
    public static final String ENTRY_DUPLICATE =
            "a registration entry with the same parent ID, SPIFFE ID and selectors already exists";
    public static final String ENTRY_REVISION_CONFLICT = "the registration entry was changed by another update";
    public static final String NODE_NOT_FOUND = "attested node not found";
    public static final String NODE_EXISTS = "the node is already attested";
    public static final String NODE_BANNED = "the node is banned";
    public static final String JOIN_TOKEN_EXISTS = "this join token already exists";
    public static final String BUNDLE_NOT_FOUND = "no bundle stored for trust domain";
    public static final String BUNDLE_CORRUPT = "the stored bundle cannot be read back";
    public static final String JOURNAL_CONFLICT = "the CA journal was written by someone else since it was read";
    public static final String TPM_ENROLLMENT_NOT_FOUND = "no TPM enrolment for EK hash";
    public static final String TPM_ENROLLMENT_EXISTS = "a TPM enrolment for this EK hash already exists";
    public static final String TPM_ENROLLMENT_CORRUPT = "the stored TPM enrolment cannot be read back";
    public static final String TPM_AK_BINDING_CORRUPT = "the stored TPM attestation key binding cannot be read back";
    public static final String RELATIONSHIP_NOT_FOUND = "no federation relationship with trust domain";
    public static final String RELATIONSHIP_EXISTS = "a federation relationship with this trust domain already exists";
    public static final String RELATIONSHIP_CORRUPT = "the stored federation relationship cannot be read back";
    public static final String UNAVAILABLE = "the database is unavailable";
    public static final String FAILURE = "the database refused the operation";
    public static final String CLOSED = "the datastore is closed";

    private DataStoreErrors() {
    }

    static String quoted(String message, Object subject) {
        return message + ": \"" + subject + "\"";
    }
}
