-- HIL core schema. Table and column names follow HIL's own schema where it had one.
-- Uniqueness that HIL enforced only in Python is enforced here too, so that concurrent
-- requests cannot both win.

CREATE TABLE project (
    id    BIGSERIAL PRIMARY KEY,
    label TEXT NOT NULL UNIQUE
);

CREATE TABLE node (
    id               BIGSERIAL PRIMARY KEY,
    label            TEXT NOT NULL UNIQUE,
    project_id       BIGINT REFERENCES project(id),
    obmd_uri         TEXT NOT NULL,
    obmd_admin_token TEXT NOT NULL,
    obmd_node_token  TEXT
);

CREATE TABLE metadata (
    id       BIGSERIAL PRIMARY KEY,
    label    TEXT NOT NULL,
    value    TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES node(id) ON DELETE CASCADE,
    CONSTRAINT metadata_label_per_node UNIQUE (owner_id, label)
);

CREATE TABLE switch (
    id     BIGSERIAL PRIMARY KEY,
    label  TEXT NOT NULL UNIQUE,
    type   TEXT NOT NULL,
    config TEXT NOT NULL
);

CREATE TABLE port (
    id       BIGSERIAL PRIMARY KEY,
    label    TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES switch(id),
    CONSTRAINT port_label_per_switch UNIQUE (owner_id, label)
);

CREATE TABLE nic (
    id       BIGSERIAL PRIMARY KEY,
    label    TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES node(id),
    mac_addr TEXT,
    port_id  BIGINT REFERENCES port(id),
    CONSTRAINT nic_label_per_node UNIQUE (owner_id, label),
    CONSTRAINT nic_one_per_port UNIQUE (port_id)
);

CREATE TABLE network (
    id         BIGSERIAL PRIMARY KEY,
    label      TEXT NOT NULL UNIQUE,
    owner_id   BIGINT REFERENCES project(id),
    allocated  BOOLEAN NOT NULL,
    network_id TEXT NOT NULL
);

CREATE TABLE network_projects (
    id         BIGSERIAL PRIMARY KEY,
    network_id BIGINT NOT NULL REFERENCES network(id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL REFERENCES project(id),
    CONSTRAINT network_access_once UNIQUE (network_id, project_id)
);

CREATE TABLE network_attachment (
    id         BIGSERIAL PRIMARY KEY,
    nic_id     BIGINT NOT NULL REFERENCES nic(id),
    network_id BIGINT NOT NULL REFERENCES network(id),
    channel    TEXT NOT NULL,
    CONSTRAINT attachment_one_per_channel UNIQUE (nic_id, channel),
    CONSTRAINT attachment_network_once UNIQUE (nic_id, network_id)
);

-- The durable queue. At most one row per nic: a new action replaces a finished one, and a
-- PENDING one blocks new ones (HIL's rule, enforced by nic_one_action).
CREATE TABLE networking_action (
    id             BIGSERIAL PRIMARY KEY,
    uuid           TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL,
    type           TEXT NOT NULL,
    nic_id         BIGINT NOT NULL REFERENCES nic(id),
    new_network_id BIGINT REFERENCES network(id),
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
    id         BIGSERIAL PRIMARY KEY,
    label      TEXT NOT NULL UNIQUE,
    project_id BIGINT NOT NULL REFERENCES project(id),
    dirty      BOOLEAN NOT NULL,
    base_img   TEXT NOT NULL,
    uuid       TEXT NOT NULL UNIQUE
);

CREATE TABLE hnic (
    id         BIGSERIAL PRIMARY KEY,
    label      TEXT NOT NULL,
    owner_id   BIGINT NOT NULL REFERENCES headnode(id),
    network_id BIGINT REFERENCES network(id),
    CONSTRAINT hnic_label_per_headnode UNIQUE (owner_id, label)
);

CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    label           TEXT NOT NULL UNIQUE,
    is_admin        BOOLEAN NOT NULL DEFAULT FALSE,
    hashed_password TEXT NOT NULL
);

CREATE TABLE user_projects (
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL REFERENCES project(id),
    PRIMARY KEY (user_id, project_id)
);

CREATE TABLE vlan (
    id        BIGSERIAL PRIMARY KEY,
    vlan_no   INTEGER NOT NULL UNIQUE,
    available BOOLEAN NOT NULL
);
