package warden

deny contains "contractors may not drop tables" if {
	input.action.operation == "DropTable"
	"contractors" in input.warden.groups
}

allow if input.warden.user in data.admins
