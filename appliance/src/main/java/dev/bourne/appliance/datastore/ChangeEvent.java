package dev.bourne.appliance.datastore;

import java.time.Instant;
import java.util.Objects;

/**
 * One change to an entry or node, for servers that keep an in-memory copy in sync incrementally: read the events
 * after the last ID seen, reload the subjects they name.
 *
 * @param id increasing with commit order, never reused (also across servers sharing a PostgreSQL database)
 * @param kind what happened
 * @param subject the entry ID, or the node's SPIFFE ID
 * @param createdAt when it happened, to the second
 */
public record ChangeEvent(long id, Kind kind, String subject, Instant createdAt) {

    /** What happened to the subject. */
    public enum Kind {
        ENTRY_CREATED, ENTRY_UPDATED, ENTRY_DELETED, NODE_CREATED, NODE_UPDATED, NODE_BANNED, NODE_DELETED;

        /** Whether the subject is an entry ID (else a node SPIFFE ID). */
        public boolean isEntry() {
            return this == ENTRY_CREATED || this == ENTRY_UPDATED || this == ENTRY_DELETED;
        }
    }

    public ChangeEvent {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(createdAt, "createdAt");
    }
}
