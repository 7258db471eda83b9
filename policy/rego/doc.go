// Package rego evaluates Rego policy in process, with OPA's Go library, as
// two policy sources: OPA-compatible modules (package trino), which existing
// policies written for OPA behind Trino's plugin use unchanged, and Warden's
// extension modules (package warden), which add to the other sources. One
// set of modules may hold both. docs/rego-extension.md is the same
// documentation for policy authors.
//
// # Loading
//
// New compiles a set of modules (file name → source), with an optional
// static data document (data.*, as an OPA bundle's data.json provides it),
// and prepares one query per entrypoint. Preparation happens once per policy
// revision, never per request. LoadDir reads a policy directory as OPA reads
// a bundle directory: *.rego files (not *_test.rego) and data.json or
// data.yaml files whose document is placed at their directory's path.
// RunTests runs the directory's Rego unit tests as opa test does.
//
// Modules are Rego v1 unless Options.V0Compatible is set. A module that does
// not parse or compile makes New fail with OPA's own message, file and line.
// New also fails, with ErrInvalidPolicy, when OPA's type checker proves an
// entrypoint has a type that can never be a valid answer (data.trino.allow
// a string, data.warden.column_masks a set) or an entrypoint is a function.
// Anything else is checked at evaluation: a result of the wrong shape is an
// error wrapping ErrResult.
//
// # OPA-compatible mode
//
// The source named "rego-compat" evaluates the rules the plugin queries,
// over the input exactly as the plugin sends it:
//
//   - data.trino.allow answers single checks. true allows; false, null and
//     undefined abstain; any other value is an error. OPA's allow has no
//     veto, so this source never denies: a compat policy can only grant, and
//     the engine denies what no source grants.
//   - data.trino.batch answers filter requests: an array or set of indices
//     into input.action.filterResources, or for FilterColumns into
//     filterResources[0].table.columns. It is evaluated once per request.
//     Each index allows its item; a non-integer, negative or out-of-range
//     index is an error. Without a batch rule, data.trino.allow is
//     evaluated for each item, in the same single evaluation, with the input
//     the plugin would send unbatched: action {operation, resource: item},
//     and for FilterColumns one table resource per column with columns
//     holding that column.
//   - data.trino.rowFilters: an array or set of {expression, identity?};
//     null and undefined mean no filter.
//   - data.trino.batchColumnMasks answers every mask request (columnMask and
//     batchColumnMasks endpoints alike), evaluated once with
//     input.action.filterResources holding the columns still unmasked as
//     {column: …}: an array or set of {index, viewExpression: {expression,
//     identity?}}, index pointing into filterResources. A duplicate or
//     out-of-range index is an error. Without it, data.trino.columnMask is
//     evaluated per column (with input.action.resource.column), in one
//     evaluation: {expression, identity?}, or null or undefined for no mask.
//
// Compat modules may use any other package, such as data.trino_policies.
// Operations Warden does not know are not evaluated: the source abstains.
//
// # Extension mode
//
// The source named "rego" evaluates Warden-specific entrypoints in package
// warden; modules in packages under warden (warden.lib…) are libraries.
//
//   - data.warden.deny: a set (or array) of reason strings, or a boolean.
//     true or a non-empty set is a veto (Deny) that wins over every other
//     source. When the request asks for an explanation, Reason.Message
//     holds the reasons joined by "; ".
//   - data.warden.allow: true allows (other sources may still veto); false,
//     null and undefined abstain.
//   - data.warden.batch_allow and data.warden.batch_deny: arrays or sets of
//     indices, as data.trino.batch, evaluated once per filter request. Each
//     one not defined is replaced by allow or deny evaluated per item, in
//     the same single evaluation, as for the compat batch.
//   - data.warden.row_filters: an array or set of {expression, identity?},
//     ANDed with the filters of the other sources.
//   - data.warden.column_masks: an object from column name to {expression,
//     identity?}, evaluated once per mask request (both endpoints) with
//     input.warden.columns listing the columns asked for. Entries for other
//     columns are ignored. Extension masks take precedence over every other
//     source's.
//
// Extension modules always fail on a built-in error (an http.send that
// fails, a to_number of a non-number), so that a failure can never make a
// deny undefined and let a request through.
//
// # Input
//
// Both modes see the plugin's input, input.context and input.action, built
// from the decoded request so that it equals the JSON Trino sent: absent
// optional fields are absent, empty lists and objects are kept. Warden adds
// input.warden:
//
//	{
//	  "cluster":    "default",           // the cluster the request came from
//	  "user":       "alice",             // input.context.identity.user
//	  "groups":     ["analysts", "eu"],  // Trino's groups ∪ the directory's groups
//	  "attributes": {"clearance": 3},    // the directory's attributes; {} when none
//	  "columns": [                       // mask requests only
//	    {"name": "email", "type": "varchar", "index": 1,
//	     "catalog": "marts", "schema": "core", "table": "customers"}
//	  ]
//	}
//
// A column's index is its position in input.action.filterResources (0 on the
// columnMask endpoint). Data that changes often, such as directory groups
// and attributes, arrives through input.warden, so it never forces a
// recompilation.
//
// # Evaluation
//
// Every evaluation error is returned, and the engine fails closed on it: a
// single check is denied, a batch keeps nothing, a row-filter or mask
// request fails. Evaluations honour the request context's cancellation and
// Options.EvalTimeout. Compat modules fail on built-in errors too, unless
// Options.CompatLenientBuiltinErrors restores OPA's default of treating them
// as undefined. print() output goes to Options.Logger at debug level.
package rego
