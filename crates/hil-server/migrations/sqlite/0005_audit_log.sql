-- The audit log: one row per state-changing API call (any method but GET), whatever its
-- outcome. Times are Unix milliseconds; args is the call's JSON body with secrets replaced.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     BIGINT NOT NULL,
    principal TEXT,
    client    TEXT,
    method    TEXT NOT NULL,
    path      TEXT NOT NULL,
    route     TEXT NOT NULL,
    args      TEXT NOT NULL,
    status    INTEGER NOT NULL,
    outcome   TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at_ms);
CREATE INDEX audit_log_principal ON audit_log (principal, at_ms);
