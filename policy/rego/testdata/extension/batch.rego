package warden

import data.warden.lib

# Tables whose name starts with tmp_ are hidden from everyone but their
# creators' group.
batch_deny contains i if {
	input.action.operation == "FilterTables"
	some i, r in input.action.filterResources
	startswith(r.table.tableName, "tmp_")
	not lib.is_member("etl")
}
