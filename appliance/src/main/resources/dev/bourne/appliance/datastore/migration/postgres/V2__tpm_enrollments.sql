-- Bourne datastore, schema version 2 (PostgreSQL): TPM enrolments and the attestation key bound to each TPM node.
-- Times are seconds since the epoch (UTC).

-- A security team's enrolment of one TPM, named by its EK hash (lowercase hex SHA-256 of the EK's DER
-- SubjectPublicKeyInfo). A revoked enrolment stays, so the same EK cannot be enrolled again by mistake.
CREATE TABLE tpm_enrollments (
    ek_hash        TEXT    NOT NULL PRIMARY KEY,
    -- One "key=value" per line, sorted by key: keys have no "=" and values no control characters.
    labels         TEXT    NOT NULL,
    pcr_policy     TEXT,
    ek_certificate TEXT,
    created_at     BIGINT  NOT NULL,
    revoked_at     BIGINT
);
CREATE INDEX tpm_enrollments_revoked_at ON tpm_enrollments (revoked_at);

-- The attestation key a TPM node proved at its first attestation; renewals quote with this key only.
CREATE TABLE tpm_ak_bindings (
    ek_hash    TEXT    NOT NULL PRIMARY KEY,
    -- The AK's TPMT_PUBLIC, as the TPM marshals it.
    ak_public  BYTEA   NOT NULL,
    -- The AK's TPM name (nameAlg || H(TPMT_PUBLIC)), lowercase hex.
    ak_name    TEXT    NOT NULL,
    bound_at   BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
