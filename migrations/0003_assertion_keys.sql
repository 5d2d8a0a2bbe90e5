-- The key that signs the identity assertion (JWT, ES256) sent to the cabinet. Kept here so every
-- replica signs with the same key and the JWKS is the same wherever it is fetched. The first
-- replica to start creates it; the others read it (INSERT … ON CONFLICT DO NOTHING).
CREATE TABLE assertion_keys (
    id          text PRIMARY KEY,
    kid         text        NOT NULL,
    -- PKCS#8 DER of the P-256 private key.
    private_key bytea       NOT NULL,
    created_at  timestamptz NOT NULL
);
