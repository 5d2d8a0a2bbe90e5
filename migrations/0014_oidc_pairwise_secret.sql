-- The secret that keys OpenID clients' pairwise subjects (`pairwise_subject = true`), shared by
-- every replica and independent of the signing key: rotating the key no longer changes every
-- pairwise `sub`. The first replica to start stores it (INSERT … ON CONFLICT DO NOTHING), from
-- what the subjects were keyed with before, a secret derived from the signing key in use then,
-- so that subjects already handed out stay the same (src/oidc/pairwise.rs).
CREATE TABLE oidc_secrets (
    id          text        PRIMARY KEY,
    secret      bytea       NOT NULL,
    created_at  timestamptz NOT NULL
);
