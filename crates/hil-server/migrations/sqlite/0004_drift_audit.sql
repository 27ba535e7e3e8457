-- Drift audit. The auditor reads every registered port back from its switch and compares it
-- with network_attachment; what differs is kept in port_drift, and a repair is queued as a
-- 'sync_port' networking action. Repairs target a port (which may have no nic), so an action
-- now names either a nic (the tenant's actions) or a port (repairs), never both.
-- SQLite cannot relax NOT NULL in place: the queue table is rebuilt (nothing references it).
CREATE TABLE networking_action_new (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL,
    type           TEXT NOT NULL,
    nic_id         INTEGER REFERENCES nic(id),
    new_network_id INTEGER REFERENCES network(id),
    channel        TEXT NOT NULL,
    error          TEXT,
    claimed_by     TEXT,
    claimed_at     BIGINT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    retry_at       BIGINT NOT NULL DEFAULT 0,
    port_id        INTEGER REFERENCES port(id) ON DELETE CASCADE,
    -- Set when a worker claims an action whose earlier claim expired: a worker died or lost
    -- the database after it may have applied the change, so the port is read first.
    recovered      INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT nic_one_action UNIQUE (nic_id),
    CONSTRAINT action_nic_or_port CHECK ((nic_id IS NULL) <> (port_id IS NULL))
);
INSERT INTO networking_action_new
    (id, uuid, status, type, nic_id, new_network_id, channel, error, claimed_by, claimed_at,
     attempts, retry_at)
SELECT id, uuid, status, type, nic_id, new_network_id, channel, error, claimed_by, claimed_at,
       attempts, retry_at
FROM networking_action;
DROP TABLE networking_action;
ALTER TABLE networking_action_new RENAME TO networking_action;
CREATE INDEX networking_action_pending ON networking_action (status, id);
CREATE INDEX networking_action_new_network ON networking_action (new_network_id);
-- At most one queued repair per port.
CREATE UNIQUE INDEX networking_action_port ON networking_action (port_id);

-- One row per audited switch: the lease that keeps two workers from auditing it at once,
-- the pending request, the last run and running totals. Times are Unix milliseconds.
CREATE TABLE switch_audit (
    switch_id      INTEGER PRIMARY KEY REFERENCES switch(id) ON DELETE CASCADE,
    claimed_by     TEXT,
    claimed_until  BIGINT,
    requested_at   BIGINT,
    started_at     BIGINT,
    finished_at    BIGINT,
    result         TEXT,
    error          TEXT,
    ports_checked  BIGINT NOT NULL DEFAULT 0,
    ports_skipped  BIGINT NOT NULL DEFAULT 0,
    ports_drifted  BIGINT NOT NULL DEFAULT 0,
    audits_total   BIGINT NOT NULL DEFAULT 0,
    audits_failed  BIGINT NOT NULL DEFAULT 0,
    drift_found    BIGINT NOT NULL DEFAULT 0,
    drift_repaired BIGINT NOT NULL DEFAULT 0,
    incidents      BIGINT NOT NULL DEFAULT 0
);

-- One row per episode of drift on a port, from the audit that first saw it until the port is
-- right again (repaired_at). expected and actual are JSON objects channel -> VLAN;
-- foreign_vlans is a JSON list of the VLANs of networks the port's project may not use.
CREATE TABLE port_drift (
    id            INTEGER PRIMARY KEY,
    port_id       INTEGER NOT NULL REFERENCES port(id) ON DELETE CASCADE,
    expected      TEXT NOT NULL,
    actual        TEXT NOT NULL,
    foreign_vlans TEXT NOT NULL,
    first_seen    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL,
    repair_action TEXT,
    repaired_at   BIGINT,
    resolution    TEXT
);
CREATE INDEX port_drift_port ON port_drift (port_id, repaired_at);
CREATE INDEX port_drift_open ON port_drift (repaired_at, id);
