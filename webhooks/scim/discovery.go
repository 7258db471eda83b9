package scim

import (
	"net/http"
	"strings"
)

// discovery serves /ServiceProviderConfig, /ResourceTypes and /Schemas
// (RFC 7644, section 4), with an optional id for the latter two.
func (h *Handler) discovery(q *request, endpoint, id string) {
	switch endpoint {
	case "ServiceProviderConfig":
		if id != "" {
			h.fail(q, errorf(http.StatusNotFound, "", "no SCIM endpoint at %s", q.r.URL.Path))
			return
		}
		q.write(http.StatusOK, serviceProviderConfig(q.base))
	case "ResourceTypes":
		h.serveList(q, id, resourceTypes(q.base))
	case "Schemas":
		h.serveList(q, id, schemas(q.base))
	}
}

// serveList answers a discovery list, or one of its items by id.
func (h *Handler) serveList(q *request, id string, items []map[string]any) {
	if id == "" {
		q.write(http.StatusOK, newListResponse(len(items), 1, items))
		return
	}
	for _, it := range items {
		if itemID, _ := it["id"].(string); strings.EqualFold(itemID, id) {
			q.write(http.StatusOK, it)
			return
		}
	}
	h.fail(q, errorf(http.StatusNotFound, "", "%q not found", id))
}

func serviceProviderConfig(base string) map[string]any {
	supported := func(ok bool) map[string]any { return map[string]any{"supported": ok} }
	return map[string]any{
		"schemas":          []string{schemaSPConfig},
		"documentationUri": "https://github.com/trino-warden/warden/blob/main/docs/scim.md",
		"patch":            supported(true),
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxPageSize},
		"changePassword":   supported(false),
		"sort":             supported(false),
		"etag":             supported(true),
		"authenticationSchemes": []map[string]any{{
			"type":        "oauthbearertoken",
			"name":        "Bearer token",
			"description": "A static bearer token configured for the client in Warden.",
			"primary":     true,
		}},
		"meta": map[string]any{
			"resourceType": "ServiceProviderConfig",
			"location":     base + "/ServiceProviderConfig",
		},
	}
}

func resourceTypes(base string) []map[string]any {
	return []map[string]any{
		{
			"schemas":     []string{schemaResourceType},
			"id":          "User",
			"name":        "User",
			"endpoint":    "/Users",
			"description": "A user of Trino",
			"schema":      SchemaUser,
			"schemaExtensions": []map[string]any{
				{"schema": SchemaEnterpriseUser, "required": false},
			},
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"},
		},
		{
			"schemas":     []string{schemaResourceType},
			"id":          "Group",
			"name":        "Group",
			"endpoint":    "/Groups",
			"description": "A group of users",
			"schema":      SchemaGroup,
			"meta":        map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"},
		},
	}
}

// attribute describes one attribute of a schema for /Schemas.
type attribute struct {
	name, typ   string
	multi, req  bool
	caseExact   bool
	mutability  string // "" is readWrite
	returned    string // "" is default
	uniqueness  string // "" is none
	subs        []attribute
	description string
}

func (a attribute) json() map[string]any {
	m := map[string]any{
		"name":        a.name,
		"type":        a.typ,
		"multiValued": a.multi,
		"required":    a.req,
		"caseExact":   a.caseExact,
		"mutability":  or(a.mutability, "readWrite"),
		"returned":    or(a.returned, "default"),
		"uniqueness":  or(a.uniqueness, "none"),
		"description": a.description,
	}
	if len(a.subs) > 0 {
		subs := make([]map[string]any, 0, len(a.subs))
		for _, s := range a.subs {
			subs = append(subs, s.json())
		}
		m["subAttributes"] = subs
	}
	return m
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func str(name, description string) attribute {
	return attribute{name: name, typ: "string", description: description}
}

// multi is a multi-valued complex attribute with the usual value, display,
// type and primary sub-attributes.
func multi(name, description string) attribute {
	return attribute{name: name, typ: "complex", multi: true, description: description, subs: []attribute{
		str("value", "The value."), str("display", "A label for display."), str("type", "A label: work, home, …"),
		{name: "primary", typ: "boolean", description: "Whether this is the primary value."},
	}}
}

func schemas(base string) []map[string]any {
	user := []attribute{
		{name: "userName", typ: "string", req: true, uniqueness: "server", description: "The unique name of the user, compared regardless of case; Trino user names derive from it."},
		{name: "name", typ: "complex", description: "The components of the user's name.", subs: []attribute{
			str("formatted", "The full name."), str("familyName", "The family name."), str("givenName", "The given name."),
			str("middleName", "The middle name."), str("honorificPrefix", "The honorific prefix."), str("honorificSuffix", "The honorific suffix."),
		}},
		str("displayName", "The name to display."), str("nickName", "The casual name."),
		{name: "profileUrl", typ: "reference", description: "A URL of the user's profile."},
		str("title", "The user's title."), str("userType", "The kind of user."),
		str("preferredLanguage", "The preferred language."), str("locale", "The locale."), str("timezone", "The time zone."),
		{name: "active", typ: "boolean", description: "Whether the user may use Trino; false denies every request."},
		{name: "password", typ: "string", mutability: "writeOnly", returned: "never", description: "Ignored: Warden keeps no passwords."},
		multi("emails", "Email addresses; the primary (or first) one is the directory's email."),
		multi("phoneNumbers", "Phone numbers."), multi("ims", "Instant messaging addresses."), multi("photos", "Photo URLs."),
		{name: "addresses", typ: "complex", multi: true, description: "Physical addresses.", subs: []attribute{
			str("formatted", "The full address."), str("streetAddress", "The street."), str("locality", "The city."),
			str("region", "The region."), str("postalCode", "The postal code."), str("country", "The country."), str("type", "A label."),
			{name: "primary", typ: "boolean", description: "Whether this is the primary address."},
		}},
		{name: "groups", typ: "complex", multi: true, mutability: "readOnly", description: "The groups of the user, managed through /Groups.", subs: []attribute{
			{name: "value", typ: "string", mutability: "readOnly", description: "The group's id."},
			{name: "$ref", typ: "reference", mutability: "readOnly", description: "The group's URI."},
			{name: "display", typ: "string", mutability: "readOnly", description: "The group's name."},
		}},
		multi("entitlements", "Entitlements."), multi("roles", "Roles."), multi("x509Certificates", "Certificates."),
	}
	group := []attribute{
		{name: "displayName", typ: "string", req: true, uniqueness: "server", description: "The unique name of the group, compared regardless of case; policies name groups by it."},
		{name: "members", typ: "complex", multi: true, description: "The users of the group (no nested groups).", subs: []attribute{
			{name: "value", typ: "string", mutability: "immutable", description: "The user's id."},
			{name: "$ref", typ: "reference", mutability: "immutable", description: "The user's URI."},
			{name: "display", typ: "string", mutability: "readOnly", description: "The user's userName."},
			{name: "type", typ: "string", mutability: "immutable", description: "Always User."},
		}},
	}
	enterprise := []attribute{
		str("employeeNumber", "Copied to the directory attribute employeeNumber."),
		str("costCenter", "Copied to the directory attribute costCenter."),
		str("organization", "Copied to the directory attribute organization."),
		str("division", "Copied to the directory attribute division."),
		str("department", "Copied to the directory attribute department."),
		{name: "manager", typ: "complex", description: "The manager; its value is copied to the directory attribute manager.", subs: []attribute{
			str("value", "The manager's id."), {name: "$ref", typ: "reference", description: "The manager's URI."},
			{name: "displayName", typ: "string", mutability: "readOnly", description: "The manager's name."},
		}},
	}
	build := func(id, name, description string, attrs []attribute) map[string]any {
		list := make([]map[string]any, 0, len(attrs))
		for _, a := range attrs {
			list = append(list, a.json())
		}
		return map[string]any{
			"schemas":     []string{schemaSchema},
			"id":          id,
			"name":        name,
			"description": description,
			"attributes":  list,
			"meta":        map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + id},
		}
	}
	return []map[string]any{
		build(SchemaUser, "User", "User Account", user),
		build(SchemaGroup, "Group", "Group", group),
		build(SchemaEnterpriseUser, "EnterpriseUser", "Enterprise User", enterprise),
	}
}
