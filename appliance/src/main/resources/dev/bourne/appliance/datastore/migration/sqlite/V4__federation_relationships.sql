-- Bourne datastore, schema version 4 (SQLite): federation relationships and the federation client's state.
-- Times are seconds since the epoch (UTC).

-- One relationship per foreign trust domain (SPIFFE Federation 5.1): the bundle fetched from bundle_endpoint_url is
-- stored in federated_bundles under trust_domain. endpoint_spiffe_id is set exactly for the https_spiffe profile.
-- The last_* and next_attempt_at columns record what the federation client last did, for "federation show".
CREATE TABLE federation_relationships (
    trust_domain            TEXT    NOT NULL PRIMARY KEY,
    bundle_endpoint_url     TEXT    NOT NULL,
    bundle_endpoint_profile TEXT    NOT NULL
        CHECK (bundle_endpoint_profile IN ('https_web', 'https_spiffe')),
    endpoint_spiffe_id      TEXT,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    last_success_at         INTEGER,
    last_error_at           INTEGER,
    last_error              TEXT,
    next_attempt_at         INTEGER,
    consecutive_failures    INTEGER NOT NULL DEFAULT 0,
    CHECK ((bundle_endpoint_profile = 'https_spiffe') = (endpoint_spiffe_id IS NOT NULL))
);
