-- A replay revokes what its code gave, also when the replay and the first exchange run at once:
-- the replay marks the code (`replayed_at`) before it deletes the code's access tokens, and an
-- access token is inserted only while its code is unmarked, holding the code's row meanwhile
-- (src/oidc/store.rs: `redeem_code`, `insert_access_token`).
ALTER TABLE oidc_codes ADD COLUMN replayed_at timestamptz;

-- `prompt=login` and `max_age`: the markers of "signed in again" that have counted once
-- (src/oidc/reauthentication.rs), by the SHA-256 of the marker, kept until they would have
-- expired anyway. The first insert spends a marker; any other finds it here.
CREATE TABLE oidc_spent_reauthentications (
    marker_hash bytea       PRIMARY KEY,
    spent_at    timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX oidc_spent_reauthentications_expires_at ON oidc_spent_reauthentications (expires_at);
