-- kepgate as an OpenID Provider: authorization codes and access tokens, by the SHA-256 of the
-- value (the values themselves are never stored), each bound to the session it came from, so that
-- ending the session ends them too, and shared by every replica.
CREATE TABLE oidc_codes (
    code_hash       bytea       PRIMARY KEY,
    client_id       text        NOT NULL,
    redirect_uri    text        NOT NULL,
    session_id      uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    scope           text        NOT NULL,
    nonce           text,
    code_challenge  text,
    auth_time       timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    -- Set by the one exchange that may use it; a second attempt finds it set.
    used_at         timestamptz
);
CREATE INDEX oidc_codes_expires_at ON oidc_codes (expires_at);

CREATE TABLE oidc_access_tokens (
    token_hash  bytea       PRIMARY KEY,
    code_hash   bytea       NOT NULL,
    client_id   text        NOT NULL,
    session_id  uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    scope       text        NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX oidc_access_tokens_code ON oidc_access_tokens (code_hash);
CREATE INDEX oidc_access_tokens_expires_at ON oidc_access_tokens (expires_at);

-- Which clients hold tokens of which session, for back-channel logout when the session ends.
CREATE TABLE oidc_session_clients (
    session_id  uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id   text        NOT NULL,
    sid         text        NOT NULL,
    notified_at timestamptz,
    PRIMARY KEY (session_id, client_id)
);
