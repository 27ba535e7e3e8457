-- Indexes for the foreign keys that lists and checks filter on. Without them, "the nodes of a
-- project", "the networks a project may use" or "is this network still attached" scan whole
-- tables, and get slower as the fleet grows.
CREATE INDEX node_project ON node (project_id);
CREATE INDEX network_owner ON network (owner_id);
CREATE INDEX network_projects_project ON network_projects (project_id);
CREATE INDEX network_attachment_network ON network_attachment (network_id);
CREATE INDEX networking_action_new_network ON networking_action (new_network_id);
CREATE INDEX headnode_project ON headnode (project_id);
CREATE INDEX hnic_network ON hnic (network_id);
CREATE INDEX user_projects_project ON user_projects (project_id);
CREATE INDEX vlan_available ON vlan (available, id);
