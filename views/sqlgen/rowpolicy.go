package sqlgen

import (
	"fmt"
	"slices"
	"strings"
)

// RowPolicy is the row-level policy of one governed view, as stored:
//
//	{"unfiltered_groups": ["auditors"],
//	 "rules": [
//	   {"groups": ["sales"], "predicate": "region = {{user.region}}"},
//	   {"predicate": "owner = {{user.name}}"}]}
//
// A member of an unfiltered group sees every row. Anyone else sees the rows
// that match any rule that applies to them; a rule applies to the members
// of its groups, or to everyone when it names none. A user to whom no rule
// applies sees no rows.
type RowPolicy struct {
	UnfilteredGroups []string  `json:"unfiltered_groups,omitempty"`
	Rules            []RowRule `json:"rules"`
}

// RowRule is one rule of a RowPolicy.
type RowRule struct {
	Groups    []string `json:"groups,omitempty"`
	Predicate string   `json:"predicate"`
}

// CompiledRowPolicy is a RowPolicy whose templates are parsed, ready to be
// rendered per request. It is safe for concurrent use.
type CompiledRowPolicy struct {
	unfiltered   []string
	rules        []compiledRule
	columns      []string
	placeholders []string
}

type compiledRule struct {
	groups []string
	tmpl   *Template
}

// CompileRowPolicy parses every rule's predicate against the view's columns
// (see ParseTemplate). Errors name the rule.
func CompileRowPolicy(p RowPolicy, columns []string) (*CompiledRowPolicy, error) {
	if len(p.Rules) == 0 && len(p.UnfilteredGroups) == 0 {
		return nil, fmt.Errorf("%w: a row policy needs rules or unfiltered groups", ErrInvalidExpression)
	}
	c := &CompiledRowPolicy{unfiltered: slices.Clone(p.UnfilteredGroups)}
	for i, r := range p.Rules {
		t, err := ParseTemplate(r.Predicate, columns)
		if err != nil {
			return nil, fmt.Errorf("rules[%d]: %w", i, err)
		}
		for _, g := range r.Groups {
			if g == "" {
				return nil, fmt.Errorf("rules[%d]: %w: empty group name", i, ErrInvalidExpression)
			}
		}
		c.rules = append(c.rules, compiledRule{groups: slices.Clone(r.Groups), tmpl: t})
		c.columns = append(c.columns, t.c.columns...)
		c.placeholders = append(c.placeholders, t.c.placeholders...)
	}
	slices.Sort(c.columns)
	c.columns = slices.Compact(c.columns)
	slices.Sort(c.placeholders)
	c.placeholders = slices.Compact(c.placeholders)
	return c, nil
}

// Columns returns the columns the policy's predicates reference.
func (c *CompiledRowPolicy) Columns() []string { return slices.Clone(c.columns) }

// Placeholders returns the placeholders the policy's predicates use.
func (c *CompiledRowPolicy) Placeholders() []string { return slices.Clone(c.placeholders) }

// Render returns the row filter for u. filtered is false when u is in an
// unfiltered group: Warden then sends no filter. Otherwise the predicate is
// the OR of the rendered predicates of the rules that apply, each in
// parentheses, or "false" when none applies or every one that applies
// needs an attribute u lacks.
func (c *CompiledRowPolicy) Render(u *User) (predicate string, filtered bool, err error) {
	if intersects(u.Groups, c.unfiltered) {
		return "", false, nil
	}
	var parts []string
	for i := range c.rules {
		r := &c.rules[i]
		if len(r.groups) > 0 && !intersects(u.Groups, r.groups) {
			continue
		}
		s, err := r.tmpl.Render(u)
		if err != nil {
			return "", true, fmt.Errorf("rules[%d]: %w", i, err)
		}
		if s == "false" {
			continue
		}
		parts = append(parts, s)
	}
	switch len(parts) {
	case 0:
		return "false", true, nil
	case 1:
		return parts[0], true, nil
	}
	var b strings.Builder
	for i, s := range parts {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteByte('(')
		b.WriteString(s)
		b.WriteByte(')')
	}
	return b.String(), true, nil
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
