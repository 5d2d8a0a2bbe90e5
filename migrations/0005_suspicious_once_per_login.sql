-- A stale or future QR link opened again and again (by a relay, or a script) is one suspicious
-- event per login and reason, not a row per request: without this, anyone holding an old link of
-- their own login could grow login_history without bound (kept for history_retention_days).
DELETE FROM login_history a
USING login_history b
WHERE a.event = 'suspicious' AND b.event = 'suspicious'
  AND a.pending_login_id = b.pending_login_id AND a.reason = b.reason
  AND a.id > b.id;

CREATE UNIQUE INDEX login_history_suspicious_once
    ON login_history (pending_login_id, reason) WHERE event = 'suspicious';
