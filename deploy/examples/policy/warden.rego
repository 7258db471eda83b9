# Extension-mode policy for the sample deployment. Warden unites it with
# rules.json: a deny here vetoes any allow, an allow here adds to the rules.
package warden

import rego.v1

# Suspended accounts are denied everything, whatever rules.json grants.
deny contains "the account is suspended" if "suspended" in input.warden.groups

# Contractors work on the default cluster only.
deny contains "contractors may not use this cluster" if {
	"contractors" in input.warden.groups
	input.warden.cluster != "default"
}

# Auditors may read every table of tpch.sf1, without row filters or masks.
allow if {
	"auditors" in input.warden.groups
	input.action.operation in {"SelectFromColumns", "AccessCatalog", "ExecuteQuery"}
	auditable
}

auditable if input.action.operation == "ExecuteQuery"

auditable if input.action.resource.catalog.name == "tpch"

auditable if {
	t := input.action.resource.table
	t.catalogName == "tpch"
	t.schemaName == "sf1"
}
