-- CRLs (full and delta) of the CAs whose certificates signed in, as every replica shares them:
-- one row per distribution point, downloaded in the background by whichever replica claims it
-- first, and the serials each verified list revokes.
CREATE TABLE revocation_lists (
    url               text        PRIMARY KEY,
    -- The CA certificate the list is verified against, and its key's SHA-256 (as in
    -- certificate_status) for the lookup at login.
    issuer_der        bytea       NOT NULL,
    issuer_key_sha256 bytea       NOT NULL,
    is_delta          boolean     NOT NULL,
    -- Of the last verified list; NULL until one was downloaded.
    this_update       timestamptz,
    next_update       timestamptz,
    crl_number        bytea,
    -- A delta list completes the full list with this number.
    delta_base        bytea,
    fetched_at        timestamptz,
    -- When a replica downloads it next (a claim moves it forward, so one replica does).
    due_at            timestamptz NOT NULL,
    failures          integer     NOT NULL DEFAULT 0,
    last_error        text
);

CREATE INDEX revocation_lists_due ON revocation_lists (due_at);
CREATE INDEX revocation_lists_issuer ON revocation_lists (issuer_key_sha256);

CREATE TABLE revoked_certificates (
    list_url   text        NOT NULL REFERENCES revocation_lists (url) ON DELETE CASCADE,
    serial     bytea       NOT NULL,
    revoked_at timestamptz NOT NULL,
    -- CRLReason code when the CA gave one (8 = removeFromCRL, in a delta list: no longer revoked).
    reason     smallint,
    PRIMARY KEY (list_url, serial)
);
