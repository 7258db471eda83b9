package scim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// patchRequest is the body of a PATCH (RFC 7644, section 3.5.2).
type patchRequest struct {
	Schemas    []string  `json:"schemas"`
	Operations []patchOp `json:"Operations"`
}

// patchOp is one operation as sent. Op is matched regardless of case, as
// Entra sends "Add", "Replace" and "Remove".
type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// operation is a validated patch operation.
type operation struct {
	op    string       // "add", "replace" or "remove"
	path  *filter.Path // nil when the operation has no path
	value any          // canonicalized; nil when absent or null
}

// multiValued are the attributes whose value is an array: a single value
// added to one of them is added as an element.
var multiValued = map[string]bool{
	"emails": true, "phoneNumbers": true, "ims": true, "photos": true, "addresses": true,
	"groups": true, "entitlements": true, "roles": true, "x509Certificates": true, "members": true,
}

// readOnlyAttrs cannot be patched.
var readOnlyAttrs = map[string]bool{"id": true, "meta": true, "schemas": true, "groups": true}

// compilePatch validates a PATCH body and parses its paths and values.
func compilePatch(req patchRequest) ([]operation, *Error) {
	if len(req.Schemas) > 0 && !slices.ContainsFunc(req.Schemas, func(s string) bool { return strings.EqualFold(s, schemaPatchOp) }) {
		return nil, errorf(http.StatusBadRequest, scimInvalidSyntax, "schemas must include %s", schemaPatchOp)
	}
	if len(req.Operations) == 0 {
		return nil, errorf(http.StatusBadRequest, scimInvalidSyntax, "Operations must hold at least one operation")
	}
	if len(req.Operations) > maxOperations {
		return nil, errorf(http.StatusRequestEntityTooLarge, scimTooMany, "at most %d operations per request", maxOperations)
	}
	ops := make([]operation, 0, len(req.Operations))
	for i, o := range req.Operations {
		op := operation{op: strings.ToLower(strings.TrimSpace(o.Op))}
		switch op.op {
		case "add", "replace", "remove":
		default:
			return nil, errorf(http.StatusBadRequest, scimInvalidSyntax, "operation %d: op must be add, replace or remove, not %q", i, o.Op)
		}
		if len(o.Value) > 0 {
			var v any
			if err := json.Unmarshal(o.Value, &v); err != nil {
				return nil, errorf(http.StatusBadRequest, scimInvalidSyntax, "operation %d: value is not valid JSON", i)
			}
			op.value = canonicalize(v)
		}
		if path := strings.TrimSpace(o.Path); path != "" {
			p, err := parsePath(path)
			if err != nil {
				return nil, errorf(http.StatusBadRequest, scimInvalidPath, "operation %d: path %q is not valid: %v", i, path, err)
			}
			op.path = &p
		}
		switch {
		case op.path == nil && op.op == "remove":
			return nil, errorf(http.StatusBadRequest, scimNoTarget, "operation %d: remove needs a path", i)
		case op.path == nil:
			if _, ok := op.value.(map[string]any); !ok {
				return nil, errorf(http.StatusBadRequest, scimInvalidValue, "operation %d: an operation without a path needs an object value", i)
			}
		case op.op == "add" && op.value == nil:
			return nil, errorf(http.StatusBadRequest, scimInvalidValue, "operation %d: add needs a value", i)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// parsePath parses an attribute path, turning a panic of the parser on odd
// input into an error.
func parsePath(s string) (p filter.Path, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unparsable path")
		}
	}()
	return filter.ParsePath([]byte(s))
}

// applyPatch applies ops in order to doc, a resource as GET renders it. id is
// the resource's id: a path-less value may repeat it (Okta does), but not
// change it.
func applyPatch(doc map[string]any, ops []operation, id string) *Error {
	for i, o := range ops {
		var err *Error
		if o.path == nil {
			err = applyPathless(doc, o, id)
		} else {
			err = applyPath(doc, o.op, *o.path, o.value, false, id)
		}
		if err != nil {
			err.Detail = fmt.Sprintf("operation %d: %s", i, err.Detail)
			return err
		}
	}
	return nil
}

// applyPathless applies an add or replace without a path: each key of the
// value object is a path (Okta and Entra send these).
func applyPathless(doc map[string]any, o operation, id string) *Error {
	obj, _ := o.value.(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		p, err := parsePath(k)
		if err != nil {
			return errorf(http.StatusBadRequest, scimInvalidPath, "attribute %q is not a valid path", k)
		}
		if err := applyPath(doc, o.op, p, obj[k], true, id); err != nil {
			return err
		}
	}
	return nil
}

// applyPath applies one operation at a path.
func applyPath(doc map[string]any, op string, p filter.Path, value any, pathless bool, id string) *Error {
	uri := p.AttributePath.URI()
	attr := canonicalName(p.AttributePath.AttributeName)
	sub := p.AttributePath.SubAttributeName()
	if p.ValueExpression != nil {
		sub = p.SubAttributeName()
	}
	container := doc
	switch {
	case uri == "" || strings.EqualFold(uri, SchemaUser) || strings.EqualFold(uri, SchemaGroup):
	case strings.EqualFold(uri+":"+attr, SchemaEnterpriseUser):
		attr = SchemaEnterpriseUser
	case strings.EqualFold(uri, SchemaEnterpriseUser):
		ext, _ := doc[SchemaEnterpriseUser].(map[string]any)
		if ext == nil {
			if op == "remove" {
				return nil
			}
			ext = map[string]any{}
			doc[SchemaEnterpriseUser] = ext
		}
		container = ext
	default:
		return errorf(http.StatusBadRequest, scimInvalidPath, "unknown schema %q", uri)
	}
	if container == nil {
		return errorf(http.StatusBadRequest, scimInvalidPath, "no such attribute")
	}
	if isTop := uri == "" || !strings.EqualFold(uri, SchemaEnterpriseUser); isTop && readOnlyAttrs[attr] {
		if pathless && (attr == "schemas" || attr == "meta" || (attr == "id" && value == id)) {
			return nil
		}
		return errorf(http.StatusBadRequest, scimMutability, "%s is read-only", attr)
	}
	if sub != "" {
		sub = canonicalName(sub)
	}
	switch {
	case p.ValueExpression != nil:
		return applyFiltered(container, attr, p.ValueExpression, sub, op, value)
	case sub != "":
		return applySub(container, attr, sub, op, value)
	}
	return applyAttr(container, attr, op, value)
}

// applyAttr applies an operation to a whole attribute.
func applyAttr(container map[string]any, attr, op string, value any) *Error {
	cur := container[attr]
	if multiValued[attr] && value != nil {
		if _, ok := value.([]any); !ok {
			value = []any{value}
		}
	}
	switch op {
	case "add":
		if value == nil {
			return errorf(http.StatusBadRequest, scimInvalidValue, "add needs a value")
		}
		switch c := cur.(type) {
		case []any:
			if list, ok := value.([]any); ok {
				for _, v := range list {
					if !slices.ContainsFunc(c, func(e any) bool { return sameElement(e, v) }) {
						c = append(c, v)
					}
				}
				container[attr] = c
				return nil
			}
		case map[string]any:
			if m, ok := value.(map[string]any); ok {
				maps.Copy(c, m)
				return nil
			}
		}
		container[attr] = value
	case "replace":
		if value == nil {
			delete(container, attr)
			return nil
		}
		if c, ok := cur.(map[string]any); ok {
			if m, ok := value.(map[string]any); ok {
				maps.Copy(c, m)
				return nil
			}
		}
		container[attr] = value
	case "remove":
		c, isList := cur.([]any)
		if value == nil || !isList {
			delete(container, attr)
			return nil
		}
		// Entra removes members by sending them as the value.
		remove, _ := value.([]any)
		kept := slices.DeleteFunc(c, func(e any) bool {
			return slices.ContainsFunc(remove, func(r any) bool { return sameElement(e, r) })
		})
		setList(container, attr, kept)
	}
	return nil
}

// applySub applies an operation to a sub-attribute (name.givenName).
func applySub(container map[string]any, attr, sub, op string, value any) *Error {
	switch c := container[attr].(type) {
	case nil:
		if op == "remove" || value == nil {
			return nil
		}
		container[attr] = map[string]any{sub: value}
	case map[string]any:
		setSub(c, sub, op, value)
	case []any:
		for _, e := range c {
			if m, ok := e.(map[string]any); ok {
				setSub(m, sub, op, value)
			}
		}
	default:
		return errorf(http.StatusBadRequest, scimInvalidPath, "%s has no sub-attributes", attr)
	}
	return nil
}

func setSub(m map[string]any, sub, op string, value any) {
	if op == "remove" || value == nil {
		delete(m, sub)
		return
	}
	m[sub] = value
}

// applyFiltered applies an operation to the elements of a multi-valued
// attribute that match a filter (members[value eq "2"], emails[type eq
// "work"].value).
func applyFiltered(container map[string]any, attr string, expr filter.Expression, sub, op string, value any) *Error {
	cur := container[attr]
	list, ok := cur.([]any)
	if cur != nil && !ok {
		return errorf(http.StatusBadRequest, scimInvalidPath, "%s is not multi-valued", attr)
	}
	var matched []int
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		hit, err := matches(expr, m)
		if err != nil {
			return err
		}
		if hit {
			matched = append(matched, i)
		}
	}
	if op == "remove" {
		if sub != "" {
			for _, i := range matched {
				delete(list[i].(map[string]any), sub) //nolint:forcetypeassert // matched holds objects only.
			}
			return nil
		}
		kept := make([]any, 0, len(list))
		for i, e := range list {
			if !slices.Contains(matched, i) {
				kept = append(kept, e)
			}
		}
		setList(container, attr, kept)
		return nil
	}
	if value == nil {
		return errorf(http.StatusBadRequest, scimInvalidValue, "%s needs a value", op)
	}
	valueObj, isObj := value.(map[string]any)
	if sub == "" && !isObj {
		return errorf(http.StatusBadRequest, scimInvalidValue, "the value for %s[…] must be an object", attr)
	}
	if len(matched) == 0 {
		// Entra adds emails[type eq "work"].value when there is no work
		// email yet: create the element the filter describes.
		elem, ok := filterElement(expr)
		if !ok {
			return errorf(http.StatusBadRequest, scimNoTarget, "no element of %s matches the filter", attr)
		}
		if sub != "" {
			elem[sub] = value
		} else {
			maps.Copy(elem, valueObj)
		}
		container[attr] = append(list, elem)
		return nil
	}
	for _, i := range matched {
		m := list[i].(map[string]any) //nolint:forcetypeassert // matched holds objects only.
		if sub != "" {
			m[sub] = value
		} else {
			maps.Copy(m, valueObj)
		}
	}
	return nil
}

// setList stores a list, removing the attribute when it is empty.
func setList(container map[string]any, attr string, list []any) {
	if len(list) == 0 {
		delete(container, attr)
		return
	}
	container[attr] = list
}

// sameElement reports whether two elements of a multi-valued attribute are
// the same: objects with a "value" are the same when their values are,
// anything else when equal.
func sameElement(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		av, aHas := am["value"]
		bv, bHas := bm["value"]
		if aHas && bHas {
			return reflect.DeepEqual(av, bv)
		}
	}
	return reflect.DeepEqual(a, b)
}

// filterElement builds the element a filter of "eq" comparisons joined by
// "and" describes ({type eq "work"} → {"type": "work"}).
func filterElement(expr filter.Expression) (map[string]any, bool) {
	elem := map[string]any{}
	var walk func(e filter.Expression) bool
	walk = func(e filter.Expression) bool {
		switch t := e.(type) {
		case *filter.AttributeExpression:
			if !strings.EqualFold(string(t.Operator), string(filter.EQ)) || t.AttributePath.SubAttribute != nil || t.AttributePath.URIPrefix != nil {
				return false
			}
			elem[canonicalName(t.AttributePath.AttributeName)] = t.CompareValue
			return true
		case *filter.LogicalExpression:
			return strings.EqualFold(string(t.Operator), string(filter.AND)) && walk(t.Left) && walk(t.Right)
		}
		return false
	}
	if !walk(expr) {
		return nil, false
	}
	return elem, true
}
