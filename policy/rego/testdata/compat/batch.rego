package trino

# One evaluation answers a whole batch: indices into filterResources, or into
# the table's columns for FilterColumns.
batch contains i if {
	is_admin
	input.action.operation != "FilterColumns"
	some i, _ in input.action.filterResources
}

batch contains i if {
	input.action.operation == "FilterCatalogs"
	some i, r in input.action.filterResources
	catalog_visible(r.catalog.name)
}

batch contains i if {
	input.action.operation == "FilterTables"
	some i, r in input.action.filterResources
	table_readable(r.table)
}

batch contains i if {
	input.action.operation == "FilterColumns"
	t := input.action.filterResources[0].table
	some rule in table_rules(t)
	some i, c in t.columns
	not c in rule.hidden_columns
}
