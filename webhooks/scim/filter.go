package scim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/trino-warden/warden/store"
)

// maxDisjuncts bounds the number of "or" branches a list filter may expand
// to.
const maxDisjuncts = 16

// term is one "attribute eq value" comparison of a list filter.
type term struct {
	attr  string // canonical: id, userName, externalId, displayName, members
	value string
}

// parseFilter parses a list filter, turning a panic of the parser on odd
// input into an error.
func parseFilter(s string) (e filter.Expression, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unparsable filter")
		}
	}()
	return filter.ParseFilter([]byte(s))
}

// filterTerms parses a list filter into a disjunction of conjunctions of eq
// terms on the attributes a resource type supports (allowed, canonical
// names). Anything else is a 400 invalidFilter.
func filterTerms(s string, allowed map[string]bool, core string) ([][]term, *Error) {
	expr, err := parseFilter(s)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, scimInvalidFilter, "the filter %q is not valid: %v", s, err)
	}
	dnf, ferr := toDNF(expr, allowed, core)
	if ferr != nil {
		return nil, ferr
	}
	return dnf, nil
}

// toDNF expands an expression into "or" of "and" of terms.
func toDNF(e filter.Expression, allowed map[string]bool, core string) ([][]term, *Error) {
	switch t := e.(type) {
	case *filter.AttributeExpression:
		tm, err := eqTerm(t, allowed, core, "")
		if err != nil {
			return nil, err
		}
		return [][]term{{tm}}, nil
	case *filter.ValuePath:
		// members[value eq "2"]: the groups a user belongs to.
		attr := canonicalName(t.AttributePath.AttributeName)
		sub, ok := t.ValueFilter.(*filter.AttributeExpression)
		if !ok || !allowed[attr+".value"] || t.AttributePath.URIPrefix != nil {
			return nil, errorf(http.StatusBadRequest, scimInvalidFilter, "the filter %v is not supported", t)
		}
		tm, err := eqTerm(sub, allowed, "", attr)
		if err != nil {
			return nil, err
		}
		return [][]term{{tm}}, nil
	case *filter.LogicalExpression:
		left, err := toDNF(t.Left, allowed, core)
		if err != nil {
			return nil, err
		}
		right, err := toDNF(t.Right, allowed, core)
		if err != nil {
			return nil, err
		}
		var out [][]term
		if strings.EqualFold(string(t.Operator), string(filter.OR)) {
			out = append(append(out, left...), right...)
		} else {
			for _, l := range left {
				for _, r := range right {
					out = append(out, append(append([]term{}, l...), r...))
					if len(out) > maxDisjuncts {
						break
					}
				}
			}
		}
		if len(out) > maxDisjuncts {
			return nil, errorf(http.StatusBadRequest, scimInvalidFilter, "the filter is too complex (more than %d alternatives)", maxDisjuncts)
		}
		return out, nil
	}
	return nil, errorf(http.StatusBadRequest, scimInvalidFilter, "only eq comparisons joined by and/or are supported")
}

// eqTerm checks one comparison: operator eq, a supported attribute, a string
// value. parent prefixes the attribute for members[value eq …].
func eqTerm(e *filter.AttributeExpression, allowed map[string]bool, core, parent string) (term, *Error) {
	if !strings.EqualFold(string(e.Operator), string(filter.EQ)) {
		return term{}, errorf(http.StatusBadRequest, scimInvalidFilter, "operator %q is not supported: only eq", e.Operator)
	}
	if uri := e.AttributePath.URI(); uri != "" && !strings.EqualFold(uri, core) {
		return term{}, errorf(http.StatusBadRequest, scimInvalidFilter, "attribute %v is not supported", e.AttributePath)
	}
	name := canonicalName(e.AttributePath.AttributeName)
	if e.AttributePath.SubAttribute != nil {
		name += "." + canonicalName(*e.AttributePath.SubAttribute)
	}
	if parent != "" {
		name = parent + "." + name
	}
	if !allowed[name] {
		return term{}, errorf(http.StatusBadRequest, scimInvalidFilter, "filtering on %s is not supported", name)
	}
	s, ok := e.CompareValue.(string)
	if !ok {
		return term{}, errorf(http.StatusBadRequest, scimInvalidFilter, "the value compared with %s must be a string", name)
	}
	return term{attr: name, value: s}, nil
}

// userFilterAttrs and groupFilterAttrs are the attributes list filters
// support.
var (
	userFilterAttrs  = map[string]bool{"id": true, "userName": true, "externalId": true, "displayName": true}
	groupFilterAttrs = map[string]bool{"id": true, "displayName": true, "externalId": true, "members.value": true}
)

// userFilter turns a conjunction into a store filter; ok is false when the
// terms cannot all hold (two user names, an id that is not a number).
func userFilter(terms []term) (f store.UserFilter, ok bool) {
	for _, t := range terms {
		switch t.attr {
		case "id":
			id, err := strconv.ParseInt(t.value, 10, 64)
			if err != nil || id <= 0 || (f.ID != 0 && f.ID != id) {
				return f, false
			}
			f.ID = id
		case "userName":
			if !setFold(&f.UserName, t.value) {
				return f, false
			}
		case "displayName":
			if !setFold(&f.DisplayName, t.value) {
				return f, false
			}
		case "externalId":
			if t.value == "" || (f.ExternalID != "" && f.ExternalID != t.value) {
				return f, false
			}
			f.ExternalID = t.value
		}
	}
	return f, true
}

// groupFilter turns a conjunction into a store filter, like userFilter.
func groupFilter(terms []term) (f store.GroupFilter, ok bool) {
	for _, t := range terms {
		switch t.attr {
		case "id", "members.value":
			id, err := strconv.ParseInt(t.value, 10, 64)
			if err != nil || id <= 0 {
				return f, false
			}
			p := &f.ID
			if t.attr != "id" {
				p = &f.MemberID
			}
			if *p != 0 && *p != id {
				return f, false
			}
			*p = id
		case "displayName":
			if !setFold(&f.Name, t.value) {
				return f, false
			}
		case "externalId":
			if t.value == "" || (f.ExternalID != "" && f.ExternalID != t.value) {
				return f, false
			}
			f.ExternalID = t.value
		}
	}
	return f, true
}

// setFold sets a case-insensitive condition; it fails on an empty value or
// one that contradicts the condition already set.
func setFold(dst *string, v string) bool {
	if v == "" || (*dst != "" && !strings.EqualFold(*dst, v)) {
		return false
	}
	*dst = v
	return true
}

// matches evaluates a filter on one element of a multi-valued attribute, for
// PATCH paths such as members[value eq "2"]. Strings compare regardless of
// case.
func matches(e filter.Expression, elem map[string]any) (bool, *Error) {
	switch t := e.(type) {
	case *filter.AttributeExpression:
		if t.AttributePath.SubAttribute != nil || t.AttributePath.URIPrefix != nil {
			return false, errorf(http.StatusBadRequest, scimInvalidFilter, "%v: only plain sub-attributes can be compared", t.AttributePath)
		}
		return compare(elem[canonicalName(t.AttributePath.AttributeName)], strings.ToLower(string(t.Operator)), t.CompareValue)
	case *filter.LogicalExpression:
		l, err := matches(t.Left, elem)
		if err != nil {
			return false, err
		}
		r, err := matches(t.Right, elem)
		if err != nil {
			return false, err
		}
		if strings.EqualFold(string(t.Operator), string(filter.OR)) {
			return l || r, nil
		}
		return l && r, nil
	case *filter.NotExpression:
		v, err := matches(t.Expression, elem)
		return !v, err
	}
	return false, errorf(http.StatusBadRequest, scimInvalidFilter, "nested value filters are not supported")
}

// compare applies one comparison operator.
func compare(have any, op string, want any) (bool, *Error) {
	if op == "pr" {
		return have != nil && have != "", nil
	}
	if have == nil {
		return op == "ne", nil
	}
	if wb, ok := want.(bool); ok {
		hb, ok := boolValue(have)
		switch op {
		case "eq":
			return ok && hb == wb, nil
		case "ne":
			return !ok || hb != wb, nil
		}
		return false, errorf(http.StatusBadRequest, scimInvalidFilter, "operator %s does not apply to booleans", op)
	}
	hs, ws := strings.ToLower(fmt.Sprint(have)), strings.ToLower(fmt.Sprint(want))
	switch op {
	case "eq":
		return hs == ws, nil
	case "ne":
		return hs != ws, nil
	case "co":
		return strings.Contains(hs, ws), nil
	case "sw":
		return strings.HasPrefix(hs, ws), nil
	case "ew":
		return strings.HasSuffix(hs, ws), nil
	case "gt":
		return hs > ws, nil
	case "ge":
		return hs >= ws, nil
	case "lt":
		return hs < ws, nil
	case "le":
		return hs <= ws, nil
	}
	return false, errorf(http.StatusBadRequest, scimInvalidFilter, "unknown operator %q", op)
}
