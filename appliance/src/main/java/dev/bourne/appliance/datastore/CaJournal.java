package dev.bourne.appliance.datastore;

import java.util.Objects;

/**
 * One server's CA journal as stored: opaque bytes (the CA defines their content) and the version that
 * {@link DataStore#putCaJournal} checks for optimistic concurrency. A final class rather than a record because it
 * holds a byte array: equality is identity and {@link #toString()} shows only the version and size.
 */
public final class CaJournal {
    private final String serverId;
    private final long version;
    private final byte[] data;

    public CaJournal(String serverId, long version, byte[] data) {
        this.serverId = Objects.requireNonNull(serverId, "serverId");
        this.version = version;
        this.data = Objects.requireNonNull(data, "data").clone();
    }

    public String serverId() {
        return serverId;
    }

    /** 1 for the first journal written, incremented by every successful put. */
    public long version() {
        return version;
    }

    /** A copy of the journal bytes. */
    public byte[] data() {
        return data.clone();
    }

    @Override
    public String toString() {
        return "CaJournal[serverId=" + serverId + ", version=" + version + ", " + data.length + " bytes]";
    }
}
