# METADATA
# description: Entry points queried by Trino's OPA plugin.
# schemas:
#   - input: schema.input
package trino

import data.trino_policies

default allow := false

groups := input.context.identity.groups

is_admin if input.context.identity.user in data.config.admins

is_admin if "admins" in groups

allow if is_admin

allow if input.action.operation in trino_policies.always_allowed

allow if {
	input.action.operation in {"AccessCatalog", "FilterCatalogs", "ShowSchemas"}
	catalog_visible(input.action.resource.catalog.name)
}

allow if {
	input.action.operation in trino_policies.read_operations
	table_readable(input.action.resource.table)
}

allow if {
	input.action.operation in trino_policies.write_operations
	some rule in table_rules(input.action.resource.table)
	rule.write
}

catalog_visible(name) if {
	some c in trino_policies.catalogs
	c.group in groups
	c.catalog == name
}

table_rules(t) := {rule |
	some rule in trino_policies.tables
	rule.group in groups
	rule.catalog == t.catalogName
	regex.match(rule.schema, t.schemaName)
	regex.match(rule.table, t.tableName)
}

table_readable(t) if {
	some rule in table_rules(t)
	every c in object.get(t, "columns", []) {
		not c in rule.hidden_columns
	}
}

rowFilters contains filter if {
	t := input.action.resource.table
	some f in trino_policies.row_filters
	f.group in groups
	f.catalog == t.catalogName
	f.schema == t.schemaName
	f.table == t.tableName
	filter := object.filter(f, {"expression", "identity"})
}

columnMask := mask(input.action.resource.column)

mask(c) := object.filter(m, {"expression", "identity"}) if {
	some m in trino_policies.masks
	m.group in groups
	m.catalog == c.catalogName
	m.schema == c.schemaName
	m.table == c.tableName
	m.column == c.columnName
}
