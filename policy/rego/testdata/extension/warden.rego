package warden

import data.warden.lib

# Contractors may never drop anything, whatever other sources grant.
deny contains "contractors may not drop tables" if {
	input.action.operation == "DropTable"
	lib.is_member("contractors")
}

# Nobody reads the vault catalog on the staging cluster.
deny contains sprintf("catalog %s is closed on cluster %s", [input.action.resource.table.catalogName, input.warden.cluster]) if {
	input.warden.cluster == "staging"
	input.action.resource.table.catalogName == "vault"
}

# Users with clearance 3 may read the vault, a grant no other source has.
allow if {
	input.action.operation in {"SelectFromColumns", "FilterTables", "ShowColumns"}
	input.action.resource.table.catalogName == "vault"
	lib.clearance >= 3
}

allow if {
	input.action.operation == "FilterCatalogs"
	input.action.resource.catalog.name == "vault"
	lib.clearance >= 3
}

row_filters contains {"expression": sprintf("owner = '%s'", [input.warden.user])} if {
	input.action.resource.table.catalogName == "vault"
	not lib.is_member("vault-admins")
}

column_masks[c.name] := {"expression": "NULL"} if {
	some c in input.warden.columns
	c.type == "varchar"
	startswith(c.name, "secret_")
}

column_masks[c.name] := {"expression": "'x'", "identity": "masker"} if {
	some c in input.warden.columns
	c.name == "email"
	not lib.is_member("vault-admins")
}
