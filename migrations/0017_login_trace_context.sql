-- The W3C `traceparent` of a login's root span (with `[log.traces]` on), so that the
-- provider's callback and the browser's completion, separate HTTP requests possibly on other
-- replicas, join the login's trace. NULL with traces off.
ALTER TABLE pending_logins ADD COLUMN traceparent text;
