-- OBM drivers: a node reaches its BMC either through obmd (obmd_uri, obmd_admin_token,
-- obmd_node_token, as in HIL v0.4) or through one of our own OBM drivers: obm_type is the
-- driver's type URI and obm_config a JSON object of the driver's members (BMC password
-- included). Driver nodes keep obmd_uri = '' and obmd_admin_token = ''.
ALTER TABLE node ADD COLUMN obm_type TEXT;
ALTER TABLE node ADD COLUMN obm_config TEXT;
ALTER TABLE node ADD COLUMN obm_enabled INTEGER NOT NULL DEFAULT 0;
