-- Bourne datastore, schema version 1 (SQLite). Times are seconds since the epoch (UTC); booleans are 0 or 1.

CREATE TABLE registered_entries (
    id              TEXT    NOT NULL PRIMARY KEY,
    spiffe_id       TEXT    NOT NULL,
    parent_id       TEXT    NOT NULL,
    x509_svid_ttl   INTEGER NOT NULL,
    jwt_svid_ttl    INTEGER NOT NULL,
    admin           INTEGER NOT NULL,
    downstream      INTEGER NOT NULL,
    store_svid      INTEGER NOT NULL,
    hint            TEXT    NOT NULL,
    revision_number INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    -- SHA-256 of (parent ID, SPIFFE ID, sorted selectors): the unique index makes duplicate refusal atomic.
    identity_hash   TEXT    NOT NULL
);
CREATE UNIQUE INDEX registered_entries_identity ON registered_entries (identity_hash);
CREATE INDEX registered_entries_parent_id ON registered_entries (parent_id);
CREATE INDEX registered_entries_spiffe_id ON registered_entries (spiffe_id);

-- Selectors are keyed and matched by selector_hash, the SHA-256 of (type, value): a value may be longer than an
-- index entry may be (PostgreSQL's btree limit is 2704 bytes, a selector value up to 4200 characters).
CREATE TABLE entry_selectors (
    entry_id      TEXT NOT NULL REFERENCES registered_entries (id) ON DELETE CASCADE,
    selector_hash TEXT NOT NULL,
    type          TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (entry_id, selector_hash)
);
CREATE INDEX entry_selectors_hash ON entry_selectors (selector_hash);

CREATE TABLE entry_dns_names (
    entry_id TEXT    NOT NULL REFERENCES registered_entries (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    PRIMARY KEY (entry_id, position)
);

CREATE TABLE entry_federates_with (
    entry_id     TEXT NOT NULL REFERENCES registered_entries (id) ON DELETE CASCADE,
    trust_domain TEXT NOT NULL,
    PRIMARY KEY (entry_id, trust_domain)
);

CREATE TABLE attested_nodes (
    spiffe_id              TEXT    NOT NULL PRIMARY KEY,
    attestation_data_type  TEXT    NOT NULL,
    cert_serial_number     TEXT,
    cert_not_after         INTEGER,
    new_cert_serial_number TEXT,
    new_cert_not_after     INTEGER,
    can_reattest           INTEGER NOT NULL,
    banned                 INTEGER NOT NULL,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);

CREATE TABLE node_selectors (
    spiffe_id     TEXT NOT NULL REFERENCES attested_nodes (spiffe_id) ON DELETE CASCADE,
    selector_hash TEXT NOT NULL,
    type          TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (spiffe_id, selector_hash)
);
CREATE INDEX node_selectors_hash ON node_selectors (selector_hash);

-- Only the SHA-256 of a token is stored: a copy of the database gives no usable token.
CREATE TABLE join_tokens (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX join_tokens_expires_at ON join_tokens (expires_at);

CREATE TABLE federated_bundles (
    trust_domain TEXT    NOT NULL PRIMARY KEY,
    bundle_json  TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE ca_journals (
    server_id  TEXT    NOT NULL PRIMARY KEY,
    version    INTEGER NOT NULL,
    data       BLOB    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- AUTOINCREMENT: an id is never reused, even after the newest events are pruned.
CREATE TABLE change_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX change_events_created_at ON change_events (created_at);
