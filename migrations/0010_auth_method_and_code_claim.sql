-- How the person proved who they are (issue 32): 'kep', a qualified signature kepgate verified
-- itself (Diia), or id.gov.ua's method: 'dig_sign' (any qualified key), 'diia_id'
-- (Diia.Signature), 'bank_id' (BankID, no signature). Written with the login's confirmation and
-- carried into its session, where the identity headers, the assertion, OpenID Connect's acr/amr
-- and the `allow.qualified_signature` policy read it.
ALTER TABLE pending_logins
    ADD COLUMN auth_method     text,
    -- Set by the one return from a redirect provider that may spend its single-use code; a
    -- duplicate return (a reload, a double click) finds it set and waits for that one's outcome.
    ADD COLUMN code_claimed_at timestamptz;

ALTER TABLE sessions ADD COLUMN auth_method text;

-- Sessions opened before: Diia's identity carries the certificate's validity; an id.gov.ua
-- login's method is in its outcome reason (`auth_type:<method>`). Anything else stays unknown,
-- which no policy takes for a qualified signature.
UPDATE sessions s SET auth_method = CASE
    WHEN s.identity ->> 'not_after' IS NOT NULL THEN 'kep'
    ELSE (SELECT substring(p.outcome_reason FROM '^auth_type:(dig_sign|diia_id|bank_id)$')
          FROM pending_logins p WHERE p.id = s.pending_login_id)
END;
