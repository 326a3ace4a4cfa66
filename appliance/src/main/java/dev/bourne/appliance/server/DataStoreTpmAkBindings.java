package dev.bourne.appliance.server;

import dev.bourne.appliance.attestation.AttestationException;
import dev.bourne.appliance.attestation.TpmNodeAttestor;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.DataStoreException;
import dev.bourne.appliance.datastore.TpmAkBinding;
import java.util.Objects;
import java.util.Optional;

/**
 * The TPM attestor's AK bindings in the datastore: the narrow host service it gets instead of the datastore. Every
 * datastore failure becomes an {@link AttestationException} UNAVAILABLE with {@link TpmNodeAttestor#BINDING_UNAVAILABLE}
 * (the agent retries; no AK is ever assumed), never a missing binding.
 */
public final class DataStoreTpmAkBindings implements TpmNodeAttestor.AkBindings {
    private final DataStore dataStore;

    public DataStoreTpmAkBindings(DataStore dataStore) {
        this.dataStore = Objects.requireNonNull(dataStore, "dataStore");
    }

    @Override
    public void bind(String ekHash, byte[] akPublic, byte[] akName) throws AttestationException {
        try {
            dataStore.setTpmAkBinding(ekHash, akPublic, akName);
        } catch (DataStoreException | RuntimeException e) {
            throw unavailable(e);
        }
    }

    @Override
    public Optional<byte[]> bound(String ekHash) throws AttestationException {
        try {
            return dataStore.getTpmAkBinding(ekHash).map(TpmAkBinding::akPublic);
        } catch (DataStoreException | RuntimeException e) {
            throw unavailable(e);
        }
    }

    private static AttestationException unavailable(Exception e) {
        return new AttestationException(AttestationException.Reason.UNAVAILABLE, TpmNodeAttestor.BINDING_UNAVAILABLE,
                e);
    }
}
