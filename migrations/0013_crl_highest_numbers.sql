-- The highest CRL number each CA key has given each scope and kind (RFC 5280 §5.2.3), kept
-- apart from the lists stored at addresses: once a list of another scope had taken an address's
-- place, an older list of the first scope found nothing to compare its number with and was
-- stored again (the second review's F1). Never lowered. Numbers are big-endian octets without
-- leading zeros, so they compare by length, then by value.
CREATE TABLE crl_highest_numbers (
    issuer_key_sha256 bytea   NOT NULL,
    scope             bytea   NOT NULL,
    is_delta          boolean NOT NULL,
    crl_number        bytea   NOT NULL,
    PRIMARY KEY (issuer_key_sha256, scope, is_delta)
);

INSERT INTO crl_highest_numbers (issuer_key_sha256, scope, is_delta, crl_number)
SELECT DISTINCT ON (issuer_key_sha256, scope, is_delta)
       issuer_key_sha256, scope, is_delta, crl_number
FROM revocation_lists
WHERE crl_number IS NOT NULL AND scope IS NOT NULL
ORDER BY issuer_key_sha256, scope, is_delta, octet_length(crl_number) DESC, crl_number DESC;
