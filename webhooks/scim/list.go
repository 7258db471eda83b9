package scim

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// listParams are the query parameters of a list request (RFC 7644, section
// 3.4.2).
type listParams struct {
	// terms is the filter as "or" of "and" of eq terms; nil lists all.
	terms [][]term
	// startIndex is 1-based.
	startIndex int
	count      int
	proj       projection
}

// parseListParams reads filter, startIndex, count, attributes and
// excludedAttributes. sortBy is ignored, as ServiceProviderConfig says.
func parseListParams(v url.Values, allowed map[string]bool, core string) (listParams, *Error) {
	p := listParams{startIndex: 1, count: defaultPageSize}
	if s := v.Get("startIndex"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return p, errorf(http.StatusBadRequest, scimInvalidValue, "startIndex must be an integer")
		}
		p.startIndex = max(n, 1) // RFC 7644: below 1 means 1.
	}
	if s := v.Get("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return p, errorf(http.StatusBadRequest, scimInvalidValue, "count must be an integer")
		}
		p.count = min(max(n, 0), maxPageSize) // RFC 7644: below 0 means 0.
	}
	if s := strings.TrimSpace(v.Get("filter")); s != "" {
		terms, err := filterTerms(s, allowed, core)
		if err != nil {
			return p, err
		}
		p.terms = terms
	}
	p.proj = parseProjection(v)
	return p, nil
}

// projection is the attributes / excludedAttributes of a request: top-level
// attribute names, sub-attributes (name.givenName) and extension attributes
// (urn:…:User:department), all canonicalized.
type projection struct {
	include map[string]bool
	exclude map[string]bool
}

func parseProjection(v url.Values) projection {
	var p projection
	p.include = attrSet(v.Get("attributes"))
	p.exclude = attrSet(v.Get("excludedAttributes"))
	return p
}

func attrSet(s string) map[string]bool {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	set := map[string]bool{}
	for a := range strings.SplitSeq(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			set[canonicalPath(a)] = true
		}
	}
	return set
}

// canonicalPath canonicalizes an attribute path for a projection: the
// extension URN, then each dotted part.
func canonicalPath(a string) string {
	if rest, ok := cutPrefixFold(a, SchemaEnterpriseUser+":"); ok {
		return SchemaEnterpriseUser + ":" + canonicalName(rest)
	}
	if rest, ok := cutPrefixFold(a, SchemaUser+":"); ok {
		a = rest
	} else if rest, ok := cutPrefixFold(a, SchemaGroup+":"); ok {
		a = rest
	}
	parts := strings.Split(a, ".")
	for i := range parts {
		parts[i] = canonicalName(parts[i])
	}
	return strings.Join(parts, ".")
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// wants reports whether an attribute is returned, so that a handler can skip
// loading it (members).
func (p projection) wants(attr string) bool {
	if p.exclude[attr] {
		return false
	}
	if p.include == nil {
		return true
	}
	if p.include[attr] {
		return true
	}
	for a := range p.include {
		if strings.HasPrefix(a, attr+".") {
			return true
		}
	}
	return false
}

// alwaysReturned are returned whatever the projection says.
var alwaysReturned = map[string]bool{"id": true, "schemas": true, "meta": true}

// apply removes from res the attributes the projection leaves out.
func (p projection) apply(res map[string]any) map[string]any {
	if p.include == nil && p.exclude == nil {
		return res
	}
	if p.include != nil {
		for k, v := range res {
			if alwaysReturned[k] {
				continue
			}
			if k == SchemaEnterpriseUser {
				p.filterExtension(res, v)
				continue
			}
			if p.include[k] {
				continue
			}
			m, ok := v.(map[string]any)
			if !ok || !p.keepSubs(k, m) {
				delete(res, k)
			}
		}
	}
	for a := range p.exclude {
		if alwaysReturned[a] {
			continue
		}
		if rest, ok := strings.CutPrefix(a, SchemaEnterpriseUser+":"); ok {
			if ext, ok := res[SchemaEnterpriseUser].(map[string]any); ok {
				delete(ext, rest)
			}
			continue
		}
		if attr, sub, ok := strings.Cut(a, "."); ok {
			if m, ok := res[attr].(map[string]any); ok {
				delete(m, sub)
			}
			continue
		}
		delete(res, a)
	}
	return res
}

// keepSubs keeps only the included sub-attributes of a complex attribute,
// and reports whether any is left.
func (p projection) keepSubs(attr string, m map[string]any) bool {
	kept := false
	for sub := range m {
		if p.include[attr+"."+sub] {
			kept = true
		} else {
			delete(m, sub)
		}
	}
	return kept
}

// filterExtension applies the included attributes to the extension object.
func (p projection) filterExtension(res map[string]any, v any) {
	if p.include[SchemaEnterpriseUser] {
		return
	}
	ext, ok := v.(map[string]any)
	if !ok {
		delete(res, SchemaEnterpriseUser)
		return
	}
	for k := range ext {
		if !p.include[SchemaEnterpriseUser+":"+k] {
			delete(ext, k)
		}
	}
	if len(ext) == 0 {
		delete(res, SchemaEnterpriseUser)
	}
}

// listResponse is a SCIM ListResponse.
type listResponse struct {
	Schemas      []string         `json:"schemas"`
	TotalResults int              `json:"totalResults"`
	StartIndex   int              `json:"startIndex"`
	ItemsPerPage int              `json:"itemsPerPage"`
	Resources    []map[string]any `json:"Resources"`
}

func newListResponse(total, startIndex int, resources []map[string]any) listResponse {
	if resources == nil {
		resources = []map[string]any{}
	}
	return listResponse{
		Schemas:      []string{schemaListResponse},
		TotalResults: total,
		StartIndex:   startIndex,
		ItemsPerPage: len(resources),
		Resources:    resources,
	}
}
