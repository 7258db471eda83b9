package scim

import (
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trino-warden/warden/store"
)

// knownNames maps the lower-case form of every attribute name of the User,
// Group and EnterpriseUser schemas to its canonical spelling. SCIM attribute
// names are case-insensitive; requests are canonicalized with it so that
// "UserName" and "userName" are one attribute.
var knownNames = func() map[string]string {
	names := []string{
		"schemas", "id", "externalId", "meta", "userName", "name", "formatted", "familyName",
		"givenName", "middleName", "honorificPrefix", "honorificSuffix", "displayName", "nickName",
		"profileUrl", "title", "userType", "preferredLanguage", "locale", "timezone", "active",
		"password", "emails", "phoneNumbers", "ims", "photos", "addresses", "streetAddress",
		"locality", "region", "postalCode", "country", "groups", "entitlements", "roles",
		"x509Certificates", "value", "display", "type", "primary", "$ref", "members",
		"employeeNumber", "costCenter", "organization", "division", "department", "manager",
		"resourceType", "created", "lastModified", "location", "version",
		SchemaEnterpriseUser,
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = n
	}
	return m
}()

// canonicalName returns the canonical spelling of an attribute name, or the
// name itself when it is not a known one.
func canonicalName(name string) string {
	if c, ok := knownNames[strings.ToLower(name)]; ok {
		return c
	}
	return name
}

// canonicalize rewrites the keys of every object in v to their canonical
// spelling, in place for maps, and returns v.
func canonicalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			c := canonicalName(k)
			if c != k {
				delete(t, k)
			}
			t[c] = canonicalize(val)
		}
	case []any:
		for i := range t {
			t[i] = canonicalize(t[i])
		}
	}
	return v
}

// userColumns are the User attributes stored in columns of their own, or
// read-only, or never kept (password); every other attribute is kept as
// sent in store.User.SCIM.
var userColumns = []string{"schemas", "id", "meta", "userName", "externalId", "displayName", "active", "groups", "password"}

// enterpriseAttributes are the EnterpriseUser attributes copied into
// store.User.Attributes under the same names (the manager as its value).
var enterpriseAttributes = []string{"employeeNumber", "costCenter", "organization", "division", "department", "manager"}

// userFromResource validates a User resource (canonicalized) and turns it
// into a store user. cur is the user it replaces (nil for a create): its ID,
// and the attributes Warden does not take from SCIM, are kept.
func userFromResource(res map[string]any, cur *store.User) (store.User, *Error) {
	if err := checkSchemas(res, SchemaUser); err != nil {
		return store.User{}, err
	}
	var u store.User
	if cur != nil {
		u.ID = cur.ID
	}
	var err *Error
	if u.UserName, err = stringAttr(res, "userName"); err != nil {
		return store.User{}, err
	}
	if strings.TrimSpace(u.UserName) == "" {
		return store.User{}, errorf(http.StatusBadRequest, scimInvalidValue, "userName is required")
	}
	if u.ExternalID, err = stringAttr(res, "externalId"); err != nil {
		return store.User{}, err
	}
	if u.DisplayName, err = stringAttr(res, "displayName"); err != nil {
		return store.User{}, err
	}
	u.Active = true
	if v, ok := res["active"]; ok && v != nil {
		b, ok := boolValue(v)
		if !ok {
			return store.User{}, errorf(http.StatusBadRequest, scimInvalidValue, "active must be a boolean")
		}
		u.Active = b
	}
	if u.Email, err = primaryEmail(res["emails"]); err != nil {
		return store.User{}, err
	}
	for _, k := range []string{"name", "addresses"} {
		if err := checkShape(res, k); err != nil {
			return store.User{}, err
		}
	}
	extra := make(map[string]any, len(res))
	for k, v := range res {
		if !slices.Contains(userColumns, k) && v != nil {
			extra[k] = v
		}
	}
	// Attributes: keep the ones SCIM does not manage, replace the others.
	attrs := map[string]any{}
	if cur != nil {
		maps.Copy(attrs, cur.Attributes)
	}
	for _, k := range enterpriseAttributes {
		delete(attrs, k)
	}
	if ext, ok := extra[SchemaEnterpriseUser]; ok {
		obj, ok := ext.(map[string]any)
		if !ok {
			return store.User{}, errorf(http.StatusBadRequest, scimInvalidValue, "%s must be an object", SchemaEnterpriseUser)
		}
		if err := enterpriseToAttributes(obj, attrs); err != nil {
			return store.User{}, err
		}
		if len(obj) == 0 {
			delete(extra, SchemaEnterpriseUser)
		}
	}
	if len(attrs) > 0 {
		u.Attributes = attrs
	}
	if len(extra) > 0 {
		u.SCIM = extra
	}
	return u, nil
}

// enterpriseToAttributes validates the enterprise extension, normalizes its
// manager to an object (Entra sends the manager's ID as a bare string) and
// copies its attributes into attrs.
func enterpriseToAttributes(ext map[string]any, attrs map[string]any) *Error {
	for k, v := range ext {
		if v == nil {
			delete(ext, k)
		}
	}
	for _, k := range enterpriseAttributes {
		v, ok := ext[k]
		if !ok {
			continue
		}
		if k == "manager" {
			if s, ok := v.(string); ok {
				if s == "" {
					delete(ext, k)
					continue
				}
				v = map[string]any{"value": s}
				ext[k] = v
			}
			m, ok := v.(map[string]any)
			if !ok {
				return errorf(http.StatusBadRequest, scimInvalidValue, "manager must be an object with a value")
			}
			id, ok := m["value"].(string)
			if !ok && m["value"] != nil {
				return errorf(http.StatusBadRequest, scimInvalidValue, "manager.value must be a string")
			}
			if id != "" {
				attrs[k] = id
			}
			continue
		}
		s, ok := v.(string)
		if !ok {
			return errorf(http.StatusBadRequest, scimInvalidValue, "%s must be a string", k)
		}
		if s != "" {
			attrs[k] = s
		}
	}
	return nil
}

// primaryEmail validates the emails and returns the primary one's value, or
// the first one's when none is primary.
func primaryEmail(v any) (string, *Error) {
	if v == nil {
		return "", nil
	}
	list, ok := v.([]any)
	if !ok {
		return "", errorf(http.StatusBadRequest, scimInvalidValue, "emails must be an array")
	}
	first, primary := "", ""
	for i, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return "", errorf(http.StatusBadRequest, scimInvalidValue, "emails[%d] must be an object", i)
		}
		s, ok := obj["value"].(string)
		if !ok && obj["value"] != nil {
			return "", errorf(http.StatusBadRequest, scimInvalidValue, "emails[%d].value must be a string", i)
		}
		if p, ok := obj["primary"]; ok && p != nil {
			isPrimary, ok := boolValue(p)
			if !ok {
				return "", errorf(http.StatusBadRequest, scimInvalidValue, "emails[%d].primary must be a boolean", i)
			}
			obj["primary"] = isPrimary // "True" from Entra is kept as true.
			if isPrimary && primary == "" {
				primary = s
			}
		}
		if first == "" {
			first = s
		}
	}
	if primary != "" {
		return primary, nil
	}
	return first, nil
}

// userResource renders a store user as a SCIM User. groups are the user's
// groups (read-only in SCIM).
func userResource(u store.User, groups []store.Group, base string) map[string]any {
	res := make(map[string]any, len(u.SCIM)+8)
	for k, v := range u.SCIM {
		res[k] = v
	}
	schemas := []any{SchemaUser}
	if _, ok := res[SchemaEnterpriseUser]; ok {
		schemas = append(schemas, SchemaEnterpriseUser)
	}
	res["schemas"] = schemas
	res["id"] = strconv.FormatInt(u.ID, 10)
	res["userName"] = u.UserName
	if u.ExternalID != "" {
		res["externalId"] = u.ExternalID
	}
	if u.DisplayName != "" {
		res["displayName"] = u.DisplayName
	}
	res["active"] = u.Active
	if _, ok := res["emails"]; !ok && u.Email != "" {
		res["emails"] = []any{map[string]any{"value": u.Email, "primary": true}}
	}
	if len(groups) > 0 {
		list := make([]any, 0, len(groups))
		for _, g := range groups {
			id := strconv.FormatInt(g.ID, 10)
			list = append(list, map[string]any{"value": id, "display": g.Name, "$ref": base + "/Groups/" + id})
		}
		res["groups"] = list
	}
	res["meta"] = meta("User", base+"/Users/"+strconv.FormatInt(u.ID, 10), u.CreatedAt, u.UpdatedAt, u.Revision)
	return res
}

// meta is a resource's meta attribute.
func meta(resourceType, location string, created, modified time.Time, revision int64) map[string]any {
	return map[string]any{
		"resourceType": resourceType,
		"created":      created.UTC().Format(time.RFC3339Nano),
		"lastModified": modified.UTC().Format(time.RFC3339Nano),
		"location":     location,
		"version":      version(revision),
	}
}

// sameUser reports whether writing next over cur would change nothing.
func sameUser(cur, next store.User) bool {
	return cur.UserName == next.UserName && cur.ExternalID == next.ExternalID &&
		cur.DisplayName == next.DisplayName && cur.Email == next.Email && cur.Active == next.Active &&
		jsonEqual(cur.Attributes, next.Attributes) && jsonEqual(cur.SCIM, next.SCIM)
}

// jsonEqual compares two decoded JSON objects, nil and empty alike.
func jsonEqual(a, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// checkSchemas requires the resource's schemas, when present, to name the
// core schema of its type: posting a Group to /Users is an error. A missing
// schemas attribute is tolerated, as some clients leave it out.
func checkSchemas(res map[string]any, core string) *Error {
	v, ok := res["schemas"]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return errorf(http.StatusBadRequest, scimInvalidSyntax, "schemas must be an array of URNs")
	}
	for _, s := range list {
		if str, ok := s.(string); ok && strings.EqualFold(str, core) {
			return nil
		}
	}
	return errorf(http.StatusBadRequest, scimInvalidSyntax, "schemas must include %s", core)
}

// stringAttr returns a string attribute ("" when absent or null).
func stringAttr(res map[string]any, name string) (string, *Error) {
	v, ok := res[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", errorf(http.StatusBadRequest, scimInvalidValue, "%s must be a string", name)
	}
	return s, nil
}

// checkShape checks that a complex attribute is an object (name) or an array
// of objects (addresses), when present.
func checkShape(res map[string]any, name string) *Error {
	v, ok := res[name]
	if !ok || v == nil {
		return nil
	}
	switch name {
	case "name":
		if _, ok := v.(map[string]any); !ok {
			return errorf(http.StatusBadRequest, scimInvalidValue, "name must be an object")
		}
	default:
		list, ok := v.([]any)
		if !ok {
			return errorf(http.StatusBadRequest, scimInvalidValue, "%s must be an array", name)
		}
		for i, e := range list {
			if _, ok := e.(map[string]any); !ok {
				return errorf(http.StatusBadRequest, scimInvalidValue, "%s[%d] must be an object", name, i)
			}
		}
	}
	return nil
}

// boolValue reads a SCIM boolean. Entra sends booleans as the strings
// "True" and "False", so strings are accepted in any case.
func boolValue(v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}
