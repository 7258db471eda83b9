package rego

import "strings"

// Warden generates one module of helper rules, in package
// __warden_internal__, that lets one evaluation answer a whole request when
// the policy only defines per-item entrypoints: a batch through allow, deny
// or columnMask evaluated once per item with the item's single-check input,
// as the plugin would send it unbatched.
const (
	helperCompatBatch       = "data." + internalPackage + ".compat_batch"
	helperCompatColumnMasks = "data." + internalPackage + ".compat_column_masks"
	helperExtAuthz          = "data." + internalPackage + ".ext_authz"
	helperExtBatch          = "data." + internalPackage + ".ext_batch"
)

// helperItems makes items hold the resource of each item of a filter
// request: the filterResources, or for FilterColumns one table resource per
// column, with columns holding that column only.
const helperItems = `
items := input.action.filterResources if input.action.operation != "FilterColumns"

items := [{"table": object.union(t, {"columns": [c]})} |
	t := input.action.filterResources[0].table
	some c in t.columns
] if input.action.operation == "FilterColumns"
`

const helperCompatBatchRule = `
compat_batch := [i |
	op := input.action.operation
	some i, r in items
	data.trino.allow in {true} with input as {"context": input.context, "action": {"operation": op, "resource": r}, "warden": input.warden}
]
`

const helperCompatColumnMasksRule = `
compat_column_masks := [[i, m] |
	some i, r in input.action.filterResources
	m := data.trino.columnMask with input as {"context": input.context, "action": {"operation": "GetColumnMask", "resource": r}, "warden": input.warden}
]
`

const helperExtBatchAllowFallback = `
ext_batch.allow := [i |
	op := input.action.operation
	some i, r in items
	data.warden.allow in {true} with input as {"context": input.context, "action": {"operation": op, "resource": r}, "warden": input.warden}
]
`

// deny_items holds [index, deny] for each item whose deny is not false or
// empty; the source validates each deny value.
const helperExtBatchDenyFallback = `
ext_batch.deny_items := [[i, d] |
	op := input.action.operation
	some i, r in items
	d := data.warden.deny with input as {"context": input.context, "action": {"operation": op, "resource": r}, "warden": input.warden}
	vetoes(d)
]

vetoes(d) if d == true

vetoes(d) if {
	not is_boolean(d)
	d != set()
	d != []
}
`

// Each item is evaluated with the whole input replaced ("with input as"),
// not input.action: OPA copies the whole input document for a with on a
// path inside it, which made a batch quadratic in its size.
//
// The helpers test values with "in" rather than "==", so that OPA's type
// checker never rejects the generated module for an entrypoint of the wrong
// type: checkTypes reports that against the user's own rule.

// helperModule returns the helper module for the defined entrypoints, or ""
// when none is needed.
func helperModule(defined *[numEntries]bool) string {
	var b strings.Builder
	items := false
	needItems := func() {
		if !items {
			b.WriteString(helperItems)
			items = true
		}
	}
	if !defined[eTrinoBatch] && defined[eTrinoAllow] {
		needItems()
		b.WriteString(helperCompatBatchRule)
	}
	if !defined[eTrinoBatchColumnMasks] && defined[eTrinoColumnMask] {
		b.WriteString(helperCompatColumnMasksRule)
	}
	if defined[eWardenDeny] {
		b.WriteString("\next_authz.deny := data.warden.deny\n")
	}
	if defined[eWardenAllow] {
		b.WriteString("\next_authz.allow := data.warden.allow\n")
	}
	switch {
	case defined[eWardenBatchAllow]:
		b.WriteString("\next_batch.allow := data.warden.batch_allow\n")
	case defined[eWardenAllow]:
		needItems()
		b.WriteString(helperExtBatchAllowFallback)
	}
	switch {
	case defined[eWardenBatchDeny]:
		b.WriteString("\next_batch.deny := data.warden.batch_deny\n")
	case defined[eWardenDeny]:
		needItems()
		b.WriteString(helperExtBatchDenyFallback)
	}
	if b.Len() == 0 {
		return ""
	}
	return "package " + internalPackage + "\n" + b.String()
}
