-- Checked OCSP answers about signers' certificates, shared by every replica so that one login
-- does not cost each replica a responder round trip. Keyed by the issuing CA's key (SHA-256 of
-- its subjectPublicKey) and the certificate's serial number.
CREATE TABLE certificate_status (
    issuer_key_sha256 bytea       NOT NULL,
    serial            bytea       NOT NULL,
    status            text        NOT NULL CHECK (status IN ('good', 'revoked')),
    revoked_at        timestamptz,
    -- CRLReason code when the CA gave one (1 = keyCompromise, ...).
    revocation_reason smallint,
    -- Where the answer came from, e.g. 'ocsp http://ca.example/ocsp'.
    source            text        NOT NULL,
    this_update       timestamptz NOT NULL,
    next_update       timestamptz,
    checked_at        timestamptz NOT NULL,
    -- Replicas reuse the answer until then: its nextUpdate, capped by the configured maximum.
    reuse_until       timestamptz NOT NULL,
    PRIMARY KEY (issuer_key_sha256, serial)
);

-- A session can end because the CA revoked the key it was opened with.
ALTER TABLE sessions DROP CONSTRAINT sessions_revoked_reason_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_revoked_reason_check
    CHECK (revoked_reason IN ('logout', 'user', 'admin', 'certificate_revoked'));

-- Finding the open sessions of a revoked certificate.
CREATE INDEX sessions_certificate ON sessions ((identity ->> 'cert_serial_hex'))
    WHERE revoked_at IS NULL;
