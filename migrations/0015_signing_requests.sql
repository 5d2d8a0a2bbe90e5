-- Document signing: the cabinet asks, the person confirms on the phone, kepgate verifies every
-- returned signature. As for pending logins, every state change is one UPDATE guarded by the
-- current state, so a late, duplicate or replayed callback changes nothing.
CREATE TABLE signing_requests (
    id                  uuid PRIMARY KEY,
    -- The session that asked; the signer must be its person. Kept after the session is gone
    -- (the audit outlives it), hence no foreign key.
    session_id          uuid        NOT NULL,
    -- Who may sign: the session's subject (`rnokpp:<n>` or `cert:<issuer hash>:<serial>`).
    subject             text        NOT NULL,
    person_name         text        NOT NULL,
    provider            text        NOT NULL,
    -- The requestId sent to the provider (and echoed in its callback's trace id header).
    request_id          text        NOT NULL UNIQUE,
    algorithm           text        NOT NULL CHECK (algorithm IN ('dstu4145', 'ecdsa')),
    -- 'browser' (the cabinet's page, same origin), 'cabinet' (its backend, by the assertion) or
    -- 'oidc_client' (an OpenID client, by an access token with the `sign` scope: client_id).
    started_by          text        NOT NULL CHECK (started_by IN ('browser', 'cabinet', 'oidc_client')),
    client_id           text,
    -- Where the browser goes back to: a path on kepgate's site, or an OpenID client's URL (on
    -- the origin of one of its redirect URIs).
    return_to           text        NOT NULL,
    deeplink            text,
    state               text        NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'signed', 'declined', 'failed', 'expired')),
    -- Machine-readable reason for declined / failed / expired, e.g. 'other_signer'.
    reason              text,
    -- The verified signer (the identity read from the qualified certificate), set with 'signed'
    -- and with a refused signature by someone else (the audit names who tried).
    signer              jsonb,
    signature_algorithm text,
    client_ip           inet,
    created_at          timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    signed_at           timestamptz,
    -- First fetch of the result by the cabinet; the signatures are kept for
    -- `signing.keep_after_fetch` after it.
    fetched_at          timestamptz,
    -- When the signatures themselves were deleted by retention (the row stays as audit).
    signatures_deleted_at timestamptz
);

CREATE INDEX signing_requests_expiry ON signing_requests (expires_at) WHERE state = 'pending';
CREATE INDEX signing_requests_session ON signing_requests (session_id, created_at);
CREATE INDEX signing_requests_subject ON signing_requests (subject, created_at);

CREATE TABLE signing_files (
    signing_id  uuid    NOT NULL REFERENCES signing_requests (id) ON DELETE CASCADE,
    position    integer NOT NULL CHECK (position >= 0),
    name        text    NOT NULL,
    -- Known when kepgate hashed the bytes itself.
    size        bigint  CHECK (size >= 0),
    -- The 32-byte hash sent to the provider: GOST 34.311 (dstu4145) or SHA-256 (ecdsa).
    hash        bytea   NOT NULL CHECK (octet_length(hash) = 32),
    -- The verified CMS (DER), until retention removes it.
    signature   bytea,
    PRIMARY KEY (signing_id, position)
);
