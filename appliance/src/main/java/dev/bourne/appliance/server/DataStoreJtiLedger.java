package dev.bourne.appliance.server;

import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.DataStoreException;
import dev.bourne.openstack.server.JtiLedger;
import java.time.Instant;
import java.util.Objects;

/**
 * The OpenStack IID attestor's single-use ledger in the datastore: the narrow host service it gets instead of the
 * datastore. Shared by every server on the same database and kept across restarts, so a document attests once
 * anywhere. A datastore failure is {@link JtiLedger.LedgerUnavailableException}: the attestor fails closed.
 */
public final class DataStoreJtiLedger implements JtiLedger {
    public static final String UNAVAILABLE = "the IID jti ledger (datastore) cannot be written";

    private final DataStore dataStore;

    public DataStoreJtiLedger(DataStore dataStore) {
        this.dataStore = Objects.requireNonNull(dataStore, "dataStore");
    }

    @Override
    public boolean consume(String issuer, String jti, Instant expiresAt) throws LedgerUnavailableException {
        try {
            return dataStore.consumeIidJti(issuer, jti, expiresAt);
        } catch (DataStoreException | RuntimeException e) {
            throw new LedgerUnavailableException(UNAVAILABLE, e);
        }
    }
}
