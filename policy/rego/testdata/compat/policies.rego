# The access rules themselves, kept apart from the entrypoints as
# Stackable's trino-operator keeps them in package trino_policies.
package trino_policies

# Operations every authenticated user may perform.
always_allowed := {
	"ExecuteQuery",
	"ReadSystemInformation",
	"SetSystemSessionProperty",
}

# Operations that read a table.
read_operations := {
	"SelectFromColumns",
	"ShowColumns",
	"ShowCreateTable",
	"FilterTables",
	"FilterColumns",
}

# Operations that write a table.
write_operations := {"InsertIntoTable", "DeleteFromTable", "UpdateTableColumns"}

tables := [
	{"group": "analysts", "catalog": "lakehouse", "schema": "^staging_.*", "table": ".*", "write": false, "hidden_columns": ["ssn"]},
	{"group": "analysts", "catalog": "marts", "schema": "^core$", "table": ".*", "write": false, "hidden_columns": []},
	{"group": "data-engineering", "catalog": "lakehouse", "schema": ".*", "table": ".*", "write": true, "hidden_columns": []},
]

catalogs := [
	{"group": "analysts", "catalog": "lakehouse"},
	{"group": "analysts", "catalog": "marts"},
	{"group": "data-engineering", "catalog": "lakehouse"},
]

row_filters := [
	{"group": "analysts", "catalog": "marts", "schema": "core", "table": "customer_360", "expression": "region = 'EU'"},
	{"group": "finance", "catalog": "marts", "schema": "core", "table": "customer_360", "expression": "deleted = false", "identity": "auditor"},
]

masks := [
	{"group": "analysts", "catalog": "marts", "schema": "core", "table": "customer_360", "column": "email", "expression": "'***'"},
	{"group": "analysts", "catalog": "marts", "schema": "core", "table": "customer_360", "column": "phone", "expression": "substr(phone, 1, 3)", "identity": "masker"},
]
