package dev.bourne.appliance.server;

import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.DataStoreException;
import dev.bourne.tpm.server.TpmEnrollment;
import dev.bourne.tpm.server.TpmEnrollments;
import java.util.Objects;
import java.util.Optional;

/**
 * The TPM attestor's view of the enrolments in the datastore: the narrow host service it gets instead of the
 * datastore. Every datastore failure (unreachable, corrupt row, even a malformed hash) becomes an
 * {@link EnrollmentLookupException}, so attestation fails closed: a store that cannot answer never reads as "not
 * enrolled", let alone as "enrolled".
 */
public final class DataStoreTpmEnrollments implements TpmEnrollments {
    public static final String LOOKUP_FAILED = "TPM enrolments cannot be read from the datastore";

    private final DataStore dataStore;

    public DataStoreTpmEnrollments(DataStore dataStore) {
        this.dataStore = Objects.requireNonNull(dataStore, "dataStore");
    }

    @Override
    public Optional<TpmEnrollment> find(String ekHash) throws EnrollmentLookupException {
        try {
            return dataStore.getTpmEnrollment(ekHash);
        } catch (DataStoreException | RuntimeException e) {
            throw new EnrollmentLookupException(LOOKUP_FAILED + " (" + e.getMessage() + ")", e);
        }
    }
}
