-- Sessions end after a sliding idle timeout as well as at their absolute expiry (expires_at).
-- The idle timeout is per session because a login from a shared computer gets a shorter one.
-- last_seen_at is written at a bounded rate (session.last_seen_write_interval), not per request.
ALTER TABLE sessions
    ADD COLUMN idle_timeout_seconds integer NOT NULL DEFAULT 900 CHECK (idle_timeout_seconds > 0),
    ADD COLUMN shared_pc            boolean NOT NULL DEFAULT false,
    -- Why revoked_at was set: 'logout' (this browser), 'user' (the user ended it from another
    -- session), 'admin' (`kepgate sessions revoke`).
    ADD COLUMN revoked_reason       text CHECK (revoked_reason IN ('logout', 'user', 'admin'));

-- The «public / shared computer» choice travels from the login form to the session.
ALTER TABLE pending_logins ADD COLUMN shared_pc boolean NOT NULL DEFAULT false;

-- Sessions of one person, newest first: the /me page and `kepgate sessions list --rnokpp`.
CREATE INDEX sessions_rnokpp_created ON sessions (rnokpp, created_at DESC);

-- Every step of every login attempt, for the user's own page and for auditors. Rows are written
-- by triggers on the rows whose state they describe, so no code path can change a login or a
-- session without leaving its trace, and the history commits (or not) with the change itself.
CREATE TABLE login_history (
    id                bigserial   PRIMARY KEY,
    at                timestamptz NOT NULL,
    event             text        NOT NULL CHECK (event IN
                      ('started', 'confirmed', 'declined', 'expired', 'refused', 'completed', 'logout', 'revoked')),
    provider          text        NOT NULL,
    pending_login_id  uuid,
    session_id        uuid,
    rnokpp            text,
    edrpou            text,
    full_name         text,
    -- Machine-readable detail: the refusal reason, or who revoked a session.
    reason            text,
    client_ip         inet,
    user_agent        text
);

CREATE INDEX login_history_at ON login_history (at);
CREATE INDEX login_history_rnokpp_at ON login_history (rnokpp, at DESC) WHERE rnokpp IS NOT NULL;

CREATE FUNCTION kepgate_pending_login_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ev text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        ev := 'started';
    ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
        ev := CASE NEW.state
                  WHEN 'confirmed' THEN 'confirmed'
                  WHEN 'rejected'  THEN 'declined'
                  WHEN 'expired'   THEN 'expired'
                  WHEN 'failed'    THEN 'refused'
                  -- 'consumed' is recorded as 'completed' by the session it creates.
                  ELSE NULL
              END;
    END IF;
    IF ev IS NOT NULL THEN
        INSERT INTO login_history
            (at, event, provider, pending_login_id, rnokpp, edrpou, full_name, reason, client_ip, user_agent)
        VALUES
            (NEW.updated_at, ev, NEW.provider, NEW.id,
             NEW.identity ->> 'rnokpp', NEW.identity ->> 'edrpou', NEW.identity ->> 'full_name',
             NEW.outcome_reason, NEW.client_ip, NEW.user_agent);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER pending_logins_history
    AFTER INSERT OR UPDATE OF state ON pending_logins
    FOR EACH ROW EXECUTE FUNCTION kepgate_pending_login_history();

CREATE FUNCTION kepgate_session_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO login_history
            (at, event, provider, pending_login_id, session_id, rnokpp, edrpou, full_name, reason, client_ip, user_agent)
        VALUES
            (NEW.created_at, 'completed', NEW.provider, NEW.pending_login_id, NEW.id, NEW.rnokpp, NEW.edrpou,
             NEW.identity ->> 'full_name', CASE WHEN NEW.shared_pc THEN 'shared_pc' END,
             NEW.client_ip, NEW.user_agent);
    ELSIF OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
        INSERT INTO login_history
            (at, event, provider, pending_login_id, session_id, rnokpp, edrpou, full_name, reason, client_ip, user_agent)
        VALUES
            (NEW.revoked_at, CASE WHEN NEW.revoked_reason = 'logout' THEN 'logout' ELSE 'revoked' END,
             NEW.provider, NEW.pending_login_id, NEW.id, NEW.rnokpp, NEW.edrpou,
             NEW.identity ->> 'full_name', NEW.revoked_reason, NEW.client_ip, NEW.user_agent);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER sessions_history
    AFTER INSERT OR UPDATE OF revoked_at ON sessions
    FOR EACH ROW EXECUTE FUNCTION kepgate_session_history();
