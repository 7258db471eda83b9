package scim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/trino-warden/warden/store"
)

// groupSpec is a validated Group resource: the store group and the IDs of
// its members (users only; Warden has no nested groups).
type groupSpec struct {
	group   store.Group
	members []int64
}

// groupFromResource validates a Group resource (canonicalized). Its
// displayName becomes the group's name, which is unique regardless of case.
// Members must be users of this directory, named by their SCIM id.
func groupFromResource(res map[string]any, id int64) (groupSpec, *Error) {
	if err := checkSchemas(res, SchemaGroup); err != nil {
		return groupSpec{}, err
	}
	var (
		g   groupSpec
		err *Error
	)
	g.group.ID = id
	if g.group.Name, err = stringAttr(res, "displayName"); err != nil {
		return groupSpec{}, err
	}
	if strings.TrimSpace(g.group.Name) == "" {
		return groupSpec{}, errorf(http.StatusBadRequest, scimInvalidValue, "displayName is required")
	}
	g.group.DisplayName = g.group.Name
	if g.group.ExternalID, err = stringAttr(res, "externalId"); err != nil {
		return groupSpec{}, err
	}
	v := res["members"]
	if v == nil {
		return g, nil
	}
	list, ok := v.([]any)
	if !ok {
		return groupSpec{}, errorf(http.StatusBadRequest, scimInvalidValue, "members must be an array")
	}
	for i, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return groupSpec{}, errorf(http.StatusBadRequest, scimInvalidValue, "members[%d] must be an object", i)
		}
		if t, ok := obj["type"].(string); ok && !strings.EqualFold(t, "User") {
			return groupSpec{}, errorf(http.StatusBadRequest, scimInvalidValue, "members[%d] is a %s: only users can be members", i, t)
		}
		s, ok := obj["value"].(string)
		if !ok {
			return groupSpec{}, errorf(http.StatusBadRequest, scimInvalidValue, "members[%d].value must be a user id", i)
		}
		uid, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || uid <= 0 {
			return groupSpec{}, errorf(http.StatusBadRequest, scimInvalidValue, "members[%d].value %q is not a user of this directory", i, s)
		}
		g.members = append(g.members, uid)
	}
	slices.Sort(g.members)
	g.members = slices.Compact(g.members)
	return g, nil
}

// groupResource renders a store group as a SCIM Group. withMembers is false
// when the client excluded the members, which then are not loaded.
func groupResource(g store.Group, members []store.Member, withMembers bool, base string) map[string]any {
	res := map[string]any{
		"schemas":     []any{SchemaGroup},
		"id":          strconv.FormatInt(g.ID, 10),
		"displayName": g.Name,
	}
	if g.ExternalID != "" {
		res["externalId"] = g.ExternalID
	}
	if withMembers {
		list := make([]any, 0, len(members))
		for _, m := range members {
			id := strconv.FormatInt(m.UserID, 10)
			list = append(list, map[string]any{
				"value": id, "display": m.UserName, "type": "User", "$ref": base + "/Users/" + id,
			})
		}
		res["members"] = list
	}
	res["meta"] = meta("Group", base+"/Groups/"+strconv.FormatInt(g.ID, 10), g.CreatedAt, g.UpdatedAt, g.Revision)
	return res
}

// memberIDs returns the sorted user IDs of members.
func memberIDs(members []store.Member) []int64 {
	ids := make([]int64, 0, len(members))
	for _, m := range members {
		ids = append(ids, m.UserID)
	}
	slices.Sort(ids)
	return ids
}
