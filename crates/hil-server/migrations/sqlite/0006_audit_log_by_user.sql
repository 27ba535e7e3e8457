-- The audit log is read newest first (ORDER BY id DESC). Searching by user walked the
-- (principal, at_ms) index and then sorted every entry of that user; at fleet scale (138,000
-- entries of one administrator) one page took half a second. Keyed by id, the newest entries
-- of a user are read off the index in order.
DROP INDEX audit_log_principal;
CREATE INDEX audit_log_principal ON audit_log (principal, id);
