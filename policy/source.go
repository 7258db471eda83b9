// Package policy decides Trino's access-control checks. It combines every
// policy source (Trino's file-based rules, Rego modules, and later grants and
// data policies) under one model, held in an immutable Snapshot that is
// swapped atomically when policy changes.
//
// # The combination model
//
// Each source answers a check with one of three effects: Allow, Deny (an
// explicit veto) or Abstain. The engine combines them so:
//
//   - An explicit Deny from any source wins over every Allow.
//   - Otherwise the allows of all sources are united: one Allow suffices.
//   - With no source allowing, the answer is deny. This is the baseline for
//     every deployment, including one with no rules file and no modules:
//     such a Warden denies every check.
//   - Visibility checks (FilterCatalogs, FilterSchemas, ShowSchemas,
//     ShowTables) follow the same rule, and each source reports as visible
//     everything it lets the user use, so the union covers everything any
//     source grants.
//   - Filter operations combine per item: an item is kept when some source
//     allows it and none denies it.
//   - Row filters of all sources are ANDed: every expression is returned and
//     Trino applies each one.
//   - Column masks: each column gets at most one mask, from the first source
//     in precedence order that has one. The order is: Rego extension modules
//     (package warden), data-source mask policies, OPA-compatible Rego
//     (package trino), then rules.json.
//
// Trino's rules.json source never vetoes: a rule that matches and grants
// nothing, or no matching rule, is an Abstain. With the rules file as the only
// source, every answer is therefore exactly Trino's own.
//
// A source that fails (an error, an unreachable backend) fails closed: a
// single check is denied, a batch keeps no item, and a row-filter or mask
// request fails with an error, so an empty (permissive) answer is never the
// result of a failure.
package policy

import (
	"context"

	"github.com/trino-warden/warden/policy/trino"
)

// Effect is a source's answer to one check.
type Effect uint8

// Effects, from weakest to strongest.
const (
	Abstain Effect = iota // the source neither allows nor denies
	Allow                 // the source allows
	Deny                  // the source vetoes, whatever others say
)

func (e Effect) String() string {
	switch e {
	case Allow:
		return "allow"
	case Deny:
		return "deny"
	default:
		return "abstain"
	}
}

// Reason says what inside a source decided: a rule of rules.json
// ("tables[3]"), a Rego rule ("data.warden.deny"), a grant. Rule must be a
// string the source prepared in advance, so that filling a Reason never
// allocates on the hot path; Message may carry detail and is filled only
// when the request asks for an explanation.
type Reason struct {
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message,omitempty"`
}

// Verdict is one source's answer to a single check.
type Verdict struct {
	Effect Effect
	Reason Reason
}

// Source is one origin of policy. A source implements any of Authorizer,
// Filterer, RowFilterer and Masker; the engine asks each source only what it
// implements.
type Source interface {
	// Name identifies the source in explanations, logs and metrics: "rules",
	// "rego", "rego-compat", "grants".
	Name() string
}

// Authorizer answers single checks (the allow endpoint). It returns Abstain
// for an operation it has nothing to say about, including OpUnknown.
type Authorizer interface {
	Source
	Authorize(ctx context.Context, req *Request) (Verdict, error)
}

// Filterer answers a filter operation sent in batch form. It sets
// out.Allow[i] or out.Deny[i] for each item it decides, and leaves the others
// untouched; it never clears a flag. The items are
// req.Action.FilterResources, or for FilterColumns the columns of the one
// table in it.
type Filterer interface {
	Source
	Filter(ctx context.Context, req *Request, out *BatchVerdict) error
}

// RowFilterer returns the row filters a source applies to the table of a
// GetRowFilters request. An empty result means the source has no filter.
type RowFilterer interface {
	Source
	RowFilters(ctx context.Context, req *Request) ([]trino.ViewExpression, Reason, error)
}

// DataPolicy marks a source of data-source mask policies (the governed
// catalog): its masks take precedence over OPA-compatible Rego and
// rules.json, after Rego extension modules.
type DataPolicy interface {
	Source
	DataPolicy()
}

// Masker fills out[i] with the mask the source applies to cols[i], for each
// column it masks. The engine passes only the columns no earlier source
// masked.
type Masker interface {
	Source
	ColumnMasks(ctx context.Context, req *Request, cols []*trino.Column, out []Mask) error
}

// Mask is a source's mask for one column.
type Mask struct {
	Set bool
	trino.ViewExpression
	Reason Reason
}

// BatchVerdict collects per-item answers of a filter operation.
type BatchVerdict struct {
	Allow []bool
	Deny  []bool
	// Reasons is non-nil only when the request asks for an explanation; a
	// source then records why it set each flag.
	Reasons []Reason
}

// Subject is whom a check is for, after enrichment by Warden's own sources.
type Subject struct {
	// User is Trino's user name.
	User string
	// Groups is Trino's groups united with the directory's groups for the
	// user, without duplicates. Every source matches against these.
	Groups []string
	// Attributes are the directory's attributes for the user; nil when the
	// directory has none.
	Attributes map[string]any
	// Known reports that the directory has the user.
	Known bool
	// Disabled, when set, says why every check for the user is denied
	// (deactivated, deleted, or unknown under a deny rule); no source is
	// asked.
	Disabled string

	enriched bool // the directory was applied
}

// Request is one decision request as sources see it.
type Request struct {
	*trino.Request
	// Endpoint is the path the request came on.
	Endpoint trino.Endpoint
	// Cluster is the Trino cluster the request came from: "default" for the
	// plain paths, or the name in /clusters/{name}/….
	Cluster string
	// Subject is the user with their enriched groups and attributes.
	Subject Subject
	// Explain asks sources to fill Reason messages and per-item reasons.
	Explain bool
}

// Items returns how many items a filter request has: the filterResources,
// or for FilterColumns the columns of its table.
func (r *Request) Items() int {
	a := &r.Action
	if r.Op == trino.OpFilterColumns {
		if len(a.FilterResources) == 0 || a.FilterResources[0].Table == nil {
			return 0
		}
		return len(a.FilterResources[0].Table.Columns)
	}
	return len(a.FilterResources)
}

// DefaultCluster is the cluster of the plain decision paths.
const DefaultCluster = "default"
