-- HIL core schema. Table and column names follow HIL's own schema where it had one.
-- Uniqueness that HIL enforced only in Python is enforced here too, so that concurrent
-- requests cannot both win.

CREATE TABLE project (
    id    INTEGER PRIMARY KEY,
    label TEXT NOT NULL UNIQUE
);

CREATE TABLE node (
    id               INTEGER PRIMARY KEY,
    label            TEXT NOT NULL UNIQUE,
    project_id       INTEGER REFERENCES project(id),
    obmd_uri         TEXT NOT NULL,
    obmd_admin_token TEXT NOT NULL,
    obmd_node_token  TEXT
);

CREATE TABLE metadata (
    id       INTEGER PRIMARY KEY,
    label    TEXT NOT NULL,
    value    TEXT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES node(id) ON DELETE CASCADE,
    CONSTRAINT metadata_label_per_node UNIQUE (owner_id, label)
);

CREATE TABLE switch (
    id     INTEGER PRIMARY KEY,
    label  TEXT NOT NULL UNIQUE,
    type   TEXT NOT NULL,
    config TEXT NOT NULL
);

CREATE TABLE port (
    id       INTEGER PRIMARY KEY,
    label    TEXT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES switch(id),
    CONSTRAINT port_label_per_switch UNIQUE (owner_id, label)
);

CREATE TABLE nic (
    id       INTEGER PRIMARY KEY,
    label    TEXT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES node(id),
    mac_addr TEXT,
    port_id  INTEGER REFERENCES port(id),
    CONSTRAINT nic_label_per_node UNIQUE (owner_id, label),
    CONSTRAINT nic_one_per_port UNIQUE (port_id)
);

CREATE TABLE network (
    id         INTEGER PRIMARY KEY,
    label      TEXT NOT NULL UNIQUE,
    owner_id   INTEGER REFERENCES project(id),
    allocated  INTEGER NOT NULL,
    network_id TEXT NOT NULL
);

CREATE TABLE network_projects (
    id         INTEGER PRIMARY KEY,
    network_id INTEGER NOT NULL REFERENCES network(id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES project(id),
    CONSTRAINT network_access_once UNIQUE (network_id, project_id)
);

CREATE TABLE network_attachment (
    id         INTEGER PRIMARY KEY,
    nic_id     INTEGER NOT NULL REFERENCES nic(id),
    network_id INTEGER NOT NULL REFERENCES network(id),
    channel    TEXT NOT NULL,
    CONSTRAINT attachment_one_per_channel UNIQUE (nic_id, channel),
    CONSTRAINT attachment_network_once UNIQUE (nic_id, network_id)
);

-- The durable queue. At most one row per nic: a new action replaces a finished one, and a
-- PENDING one blocks new ones (HIL's rule, enforced by nic_one_action).
CREATE TABLE networking_action (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL,
    type           TEXT NOT NULL,
    nic_id         INTEGER NOT NULL REFERENCES nic(id),
    new_network_id INTEGER REFERENCES network(id),
    channel        TEXT NOT NULL,
    error          TEXT,
    claimed_by     TEXT,
    claimed_at     BIGINT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    retry_at       BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT nic_one_action UNIQUE (nic_id)
);
CREATE INDEX networking_action_pending ON networking_action (status, id);

CREATE TABLE headnode (
    id         INTEGER PRIMARY KEY,
    label      TEXT NOT NULL UNIQUE,
    project_id INTEGER NOT NULL REFERENCES project(id),
    dirty      INTEGER NOT NULL,
    base_img   TEXT NOT NULL,
    uuid       TEXT NOT NULL UNIQUE
);

CREATE TABLE hnic (
    id         INTEGER PRIMARY KEY,
    label      TEXT NOT NULL,
    owner_id   INTEGER NOT NULL REFERENCES headnode(id),
    network_id INTEGER REFERENCES network(id),
    CONSTRAINT hnic_label_per_headnode UNIQUE (owner_id, label)
);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    label           TEXT NOT NULL UNIQUE,
    is_admin        INTEGER NOT NULL DEFAULT 0,
    hashed_password TEXT NOT NULL
);

CREATE TABLE user_projects (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES project(id),
    PRIMARY KEY (user_id, project_id)
);

CREATE TABLE vlan (
    id        INTEGER PRIMARY KEY,
    vlan_no   INTEGER NOT NULL UNIQUE,
    available INTEGER NOT NULL
);
