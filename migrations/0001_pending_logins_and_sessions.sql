-- A cross-device login waiting for the provider's callback (see ../docs or design/flow.md).
-- Every state change is one UPDATE guarded by the current state, so a late, duplicate or replayed
-- callback, or a second completion, changes nothing.
CREATE TABLE pending_logins (
    id                uuid PRIMARY KEY,
    provider          text        NOT NULL,
    -- «Ідентифікатор користувача», for providers that push the request to the user's phone.
    user_hint         text,
    -- What the provider signs: base64 of the hash of our own random request id (Diia's requestId).
    request_hash      text        NOT NULL UNIQUE,
    -- SHA-256 of the browser-binding nonce kept in a __Host- cookie; the nonce itself is never stored.
    binding_hash      bytea       NOT NULL,
    return_path       text        NOT NULL,
    state             text        NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'confirmed', 'rejected', 'expired', 'failed', 'consumed')),
    deeplink          text,
    -- Verified identity from the signer's qualified certificate, set with state = 'confirmed'.
    identity          jsonb,
    -- Machine-readable reason for rejected / failed, e.g. 'declined', 'untrusted_chain'.
    outcome_reason    text,
    client_ip         inet,
    user_agent        text,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);

-- The sweeper looks for pending rows past their expiry.
CREATE INDEX pending_logins_expiry ON pending_logins (expires_at) WHERE state = 'pending';

-- A signed-in browser. Only the SHA-256 of the cookie token is stored, so a database leak does not
-- hand out live sessions.
CREATE TABLE sessions (
    id                uuid PRIMARY KEY,
    token_hash        bytea       NOT NULL UNIQUE,
    pending_login_id  uuid        REFERENCES pending_logins (id) ON DELETE SET NULL,
    provider          text        NOT NULL,
    identity          jsonb       NOT NULL,
    rnokpp            text,
    edrpou            text,
    client_ip         inet,
    user_agent        text,
    created_at        timestamptz NOT NULL,
    last_seen_at      timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    revoked_at        timestamptz
);

CREATE INDEX sessions_rnokpp ON sessions (rnokpp) WHERE revoked_at IS NULL;
CREATE INDEX sessions_edrpou ON sessions (edrpou) WHERE revoked_at IS NULL;
