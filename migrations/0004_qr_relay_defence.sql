-- Defence against QR/link relay (QRLJacking), issue 7.
--
-- The key of the rotating QR links' MAC. Every replica must compute and check the same links
-- without asking the database on every rotation, so they share one key: `login.qr_link_key`
-- from the configuration, or this row, created by the first replica that starts
-- (INSERT … ON CONFLICT DO NOTHING, then everyone reads the winner).
CREATE TABLE qr_link_keys (
    id          text PRIMARY KEY,
    secret      bytea       NOT NULL CHECK (length(secret) = 32),
    created_at  timestamptz NOT NULL
);

-- Events that do not change a pending login but an auditor must see: a stale or forged QR link
-- opened on some phone. The reason says which ('stale_qr_link', …).
ALTER TABLE login_history DROP CONSTRAINT login_history_event_check;
ALTER TABLE login_history ADD CONSTRAINT login_history_event_check CHECK (event IN
    ('started', 'confirmed', 'declined', 'expired', 'refused', 'completed', 'logout', 'revoked',
     'suspicious'));
