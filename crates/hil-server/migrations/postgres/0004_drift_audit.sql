-- Drift audit. The auditor reads every registered port back from its switch and compares it
-- with network_attachment; what differs is kept in port_drift, and a repair is queued as a
-- 'sync_port' networking action. Repairs target a port (which may have no nic), so an action
-- now names either a nic (the tenant's actions) or a port (repairs), never both.
ALTER TABLE networking_action ALTER COLUMN nic_id DROP NOT NULL;
ALTER TABLE networking_action ADD COLUMN port_id BIGINT REFERENCES port(id) ON DELETE CASCADE;
ALTER TABLE networking_action ADD CONSTRAINT action_nic_or_port
    CHECK ((nic_id IS NULL) <> (port_id IS NULL));
-- Set when a worker claims an action whose earlier claim expired: a worker died or lost the
-- database after it may have applied the change, so the port is read before it is changed.
ALTER TABLE networking_action ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0;
-- At most one queued repair per port.
CREATE UNIQUE INDEX networking_action_port ON networking_action (port_id);

-- One row per audited switch: the lease that keeps two workers from auditing it at once,
-- the pending request, the last run and running totals. Times are Unix milliseconds.
CREATE TABLE switch_audit (
    switch_id      BIGINT PRIMARY KEY REFERENCES switch(id) ON DELETE CASCADE,
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
    id            BIGSERIAL PRIMARY KEY,
    port_id       BIGINT NOT NULL REFERENCES port(id) ON DELETE CASCADE,
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
