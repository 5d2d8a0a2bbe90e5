-- CRLs as RFC 5280 §5 and §6.3 ask of a relying party (issue 32). A list is stored only when it
-- is of the kind its distribution point promises, numbered, current and free of critical
-- extensions kepgate does not apply; its number never goes back within its scope. `scope` keeps
-- the list's IssuingDistributionPoint (DER, empty when it has none; NULL until one was stored),
-- so that a list answers only for the certificates it covers and a delta completes only a
-- complete list of the same scope. `crl_number` and `delta_base` hold numbers as big-endian
-- octets without leading zeros.
ALTER TABLE revocation_lists ADD COLUMN scope bytea;

-- What was stored before was not checked so (a delta could be kept as a complete list): every
-- list says nothing until it is downloaded again, at once.
DELETE FROM revoked_certificates;
UPDATE revocation_lists
SET this_update = NULL, next_update = NULL, crl_number = NULL, delta_base = NULL, due_at = now();
