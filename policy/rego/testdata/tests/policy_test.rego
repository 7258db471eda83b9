package warden_test

import data.warden

test_contractor_cannot_drop if {
	warden.deny == {"contractors may not drop tables"} with input as {
		"action": {"operation": "DropTable"},
		"warden": {"user": "bob", "groups": ["contractors"]},
	}
}

test_admin_allowed if {
	warden.allow with input as {"warden": {"user": "root", "groups": []}}
}

# This test is wrong on purpose: RunTests must report it as failed.
test_everyone_allowed if {
	print("checking bob")
	warden.allow with input as {"warden": {"user": "bob", "groups": []}}
}

todo_test_later if false
