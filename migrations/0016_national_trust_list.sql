-- The national trust list in force (`[trust.sources]`): the qualified providers' CA
-- certificates that passed kepgate's checks, shared by every replica so that all of them trust
-- the same CAs. The newest row is the list in force; a few older ones are kept for the record.
CREATE TABLE national_trust_lists (
    id BIGSERIAL PRIMARY KEY,
    -- The accepted certificates, each as the bundle carried it (DER), in byte order.
    certificates BYTEA[] NOT NULL,
    -- SHA-256 over the accepted certificates in that order: a download that accepts the same set
    -- is not stored again.
    sha256 BYTEA NOT NULL,
    bundle_url TEXT NOT NULL,
    providers_url TEXT NOT NULL,
    -- Entries of the bundle, and how many of them were skipped by reason ({"expired": 90, …}).
    bundle_entries INTEGER NOT NULL,
    skipped JSONB NOT NULL,
    in_force_since TIMESTAMPTZ NOT NULL,
    -- The last download that found this same list.
    checked_at TIMESTAMPTZ NOT NULL
);
