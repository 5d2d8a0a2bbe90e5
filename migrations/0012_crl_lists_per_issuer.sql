-- A stored CRL is one CA key's list at one address (issue 32): a certificate of another trusted
-- CA naming the same address gets a row of its own, verified against its own issuer, instead
-- of re-binding the row to its key and clearing the rightful CA's list. Rows kept so far each
-- hold one issuer already: they stay as they are.
ALTER TABLE revoked_certificates ADD COLUMN issuer_key_sha256 bytea;
UPDATE revoked_certificates r SET issuer_key_sha256 = l.issuer_key_sha256
FROM revocation_lists l WHERE l.url = r.list_url;
ALTER TABLE revoked_certificates ALTER COLUMN issuer_key_sha256 SET NOT NULL;

ALTER TABLE revoked_certificates DROP CONSTRAINT revoked_certificates_list_url_fkey;
ALTER TABLE revoked_certificates DROP CONSTRAINT revoked_certificates_pkey;
ALTER TABLE revocation_lists DROP CONSTRAINT revocation_lists_pkey;

ALTER TABLE revocation_lists ADD PRIMARY KEY (url, issuer_key_sha256);
ALTER TABLE revoked_certificates ADD PRIMARY KEY (list_url, issuer_key_sha256, serial);
ALTER TABLE revoked_certificates ADD FOREIGN KEY (list_url, issuer_key_sha256)
    REFERENCES revocation_lists (url, issuer_key_sha256) ON DELETE CASCADE;
