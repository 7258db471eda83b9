package warden_test

import rego.v1

import data.warden

ctx(user, groups) := {"identity": {"user": user, "groups": groups}, "softwareStack": {"trinoVersion": "476"}}

test_suspended_users_are_denied if {
	reasons := warden.deny with input as {
		"context": ctx("mallory", ["analysts", "suspended"]),
		"action": {"operation": "ExecuteQuery"},
		"warden": {"cluster": "default", "groups": ["analysts", "suspended"]},
	}
	"the account is suspended" in reasons
}

test_auditors_read_tpch_sf1 if {
	warden.allow with input as {
		"context": ctx("ann", ["auditors"]),
		"action": {"operation": "SelectFromColumns", "resource": {"table": {"catalogName": "tpch", "schemaName": "sf1", "tableName": "orders", "columns": ["totalprice"]}}},
		"warden": {"cluster": "default", "groups": ["auditors"]},
	}
}

test_auditors_do_not_write if {
	not warden.allow with input as {
		"context": ctx("ann", ["auditors"]),
		"action": {"operation": "InsertIntoTable", "resource": {"table": {"catalogName": "tpch", "schemaName": "sf1", "tableName": "orders"}}},
		"warden": {"cluster": "default", "groups": ["auditors"]},
	}
}
