package dev.bourne.appliance.server;

import dev.bourne.appliance.ca.journal.CaJournal;
import dev.bourne.appliance.ca.journal.FileCaJournal;
import dev.bourne.appliance.ca.journal.JournalContent;
import dev.bourne.appliance.ca.journal.JournalException;
import dev.bourne.appliance.datastore.ConflictException;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.DataStoreException;
import java.util.Objects;
import java.util.Optional;

/**
 * The CA journal kept in the datastore's per-server journal blob, in {@link FileCaJournal}'s format, so several
 * servers sharing one PostgreSQL database each keep their own CA state. Writes use the blob's optimistic concurrency:
 * a save succeeds only over the version this journal last read or wrote, so two processes claiming one server ID
 * cannot silently overwrite each other's CA state.
 */
public final class DataStoreCaJournal implements CaJournal {
    public static final String DAMAGED = "CA journal of server %s in the datastore is damaged (%s)";
    public static final String CONFLICT = "CA journal of server %s was changed by another process: is a second server"
            + " running with the same server ID?";

    private final DataStore dataStore;
    private final String serverId;
    /** The version last read or written; 0 when none is stored yet. */
    private long version;

    public DataStoreCaJournal(DataStore dataStore, String serverId) {
        this.dataStore = Objects.requireNonNull(dataStore, "dataStore");
        this.serverId = Objects.requireNonNull(serverId, "serverId");
    }

    @Override
    public synchronized Optional<JournalContent> load() throws JournalException {
        Optional<dev.bourne.appliance.datastore.CaJournal> stored;
        try {
            stored = dataStore.getCaJournal(serverId);
        } catch (DataStoreException e) {
            throw new JournalException("cannot read the CA journal from the datastore: " + e.getMessage(), e);
        }
        if (stored.isEmpty()) {
            version = 0;
            return Optional.empty();
        }
        try {
            JournalContent content = FileCaJournal.decodeContent(stored.get().data());
            version = stored.get().version();
            return Optional.of(content);
        } catch (IllegalArgumentException e) {
            throw new JournalException(String.format(DAMAGED, serverId, e.getMessage()), e);
        }
    }

    @Override
    public synchronized void save(JournalContent content) throws JournalException {
        byte[] bytes = FileCaJournal.encodeContent(content);
        try {
            version = dataStore.putCaJournal(serverId, version, bytes);
        } catch (ConflictException e) {
            throw new JournalException(String.format(CONFLICT, serverId), e);
        } catch (DataStoreException e) {
            throw new JournalException("cannot write the CA journal to the datastore: " + e.getMessage(), e);
        }
    }
}
