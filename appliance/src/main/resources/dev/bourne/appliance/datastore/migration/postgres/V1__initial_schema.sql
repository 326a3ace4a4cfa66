-- Bourne datastore, schema version 1 (PostgreSQL). Times are seconds since the epoch (UTC); booleans are BOOLEAN.

CREATE TABLE registered_entries (
    id              TEXT    NOT NULL PRIMARY KEY,
    spiffe_id       TEXT    NOT NULL,
    parent_id       TEXT    NOT NULL,
    x509_svid_ttl   BIGINT  NOT NULL,
    jwt_svid_ttl    BIGINT  NOT NULL,
    admin           BOOLEAN NOT NULL,
    downstream      BOOLEAN NOT NULL,
    store_svid      BOOLEAN NOT NULL,
    hint            TEXT    NOT NULL,
    revision_number BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL,
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
    position BIGINT  NOT NULL,
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
    cert_not_after         BIGINT,
    new_cert_serial_number TEXT,
    new_cert_not_after     BIGINT,
    can_reattest           BOOLEAN NOT NULL,
    banned                 BOOLEAN NOT NULL,
    created_at             BIGINT  NOT NULL,
    updated_at             BIGINT  NOT NULL
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
    expires_at BIGINT  NOT NULL
);
CREATE INDEX join_tokens_expires_at ON join_tokens (expires_at);

CREATE TABLE federated_bundles (
    trust_domain TEXT    NOT NULL PRIMARY KEY,
    bundle_json  TEXT    NOT NULL,
    updated_at   BIGINT  NOT NULL
);

CREATE TABLE ca_journals (
    server_id  TEXT    NOT NULL PRIMARY KEY,
    version    BIGINT  NOT NULL,
    data       BYTEA   NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- An identity column never reuses an id. Writers take a transaction-scoped advisory lock before inserting an
-- event, so ids are handed out, and committed, in one order across every server sharing the database.
CREATE TABLE change_events (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX change_events_created_at ON change_events (created_at);
