-- Bourne datastore, schema version 3 (PostgreSQL): the single-use IDs of OpenStack instance identity documents.
-- Times are seconds since the epoch (UTC).

-- Every document the openstack_iid attestor accepted, by issuer and jti, until the document expires: a replayed
-- document is refused on every server sharing this database, and after restarts. Rows past their expiry are deleted
-- as new ones arrive (an expired document is refused by its exp claim anyway).
CREATE TABLE iid_jtis (
    issuer     TEXT    NOT NULL,
    jti        TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL,
    used_at    BIGINT  NOT NULL,
    PRIMARY KEY (issuer, jti)
);
CREATE INDEX iid_jtis_expires_at ON iid_jtis (expires_at);
