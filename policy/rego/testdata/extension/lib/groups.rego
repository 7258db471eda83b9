# A library package: extension modules may use any package under warden.
package warden.lib

is_member(group) if group in input.warden.groups

clearance := object.get(input.warden.attributes, "clearance", 0)
