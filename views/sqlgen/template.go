package sqlgen

import (
	"fmt"
	"slices"
	"strings"
)

// compiled is a checked expression cut at its placeholders, ready to be
// rendered without parsing again: segs[i] is the source text before
// slots[i], and the last segment follows the last slot.
type compiled struct {
	src          string
	toks         []token
	segs         []string
	slots        []slot
	columns      []string
	placeholders []string
}

// slot is one placeholder occurrence.
type slot struct {
	name   string // "column", "user.name", "user.groups" or "user.<attr>"
	attr   string // <attr> for user.<attr>
	inList bool   // directly after IN: renders as a tuple
	tok    int    // index of the placeholder in the token list
}

// compile tokenizes and checks src with p's settings, then cuts it at its
// placeholders.
func compile(src string, p *exprParser) (*compiled, exprShape, error) {
	if len(src) > maxExprLen {
		return nil, 0, fmt.Errorf("%w: longer than %d bytes", ErrInvalidExpression, maxExprLen)
	}
	toks, err := tokenize(src)
	if err != nil {
		return nil, 0, err
	}
	if len(toks) == 1 {
		return nil, 0, fmt.Errorf("%w: empty expression", ErrInvalidExpression)
	}
	p.toks = toks
	shape, err := p.parseExpr()
	if err != nil {
		return nil, 0, err
	}
	c := &compiled{src: src, toks: toks, columns: p.refs}
	slices.Sort(c.columns)
	last := 0
	for _, u := range p.uses {
		t := toks[u.tok]
		c.segs = append(c.segs, src[last:t.pos])
		s := slot{name: t.val, inList: u.inList, tok: u.tok}
		s.attr, _ = strings.CutPrefix(t.val, "user.")
		c.slots = append(c.slots, s)
		last = t.pos + len(t.text)
		if !slices.Contains(c.placeholders, t.val) {
			c.placeholders = append(c.placeholders, t.val)
		}
	}
	c.segs = append(c.segs, src[last:])
	slices.Sort(c.placeholders)
	return c, shape, nil
}

// parseCustom checks a custom mask expression. columns, when non-nil, are
// the columns it may reference besides {{column}}.
func parseCustom(src string, columns []string) (*compiled, error) {
	p := &exprParser{allowColumn: true, columns: columnSet(columns)}
	c, _, err := compile(src, p)
	if err != nil {
		return nil, fmt.Errorf("custom mask: %w", err)
	}
	return c, nil
}

// renderColumn substitutes ref for every {{column}}.
func (c *compiled) renderColumn(ref string) string {
	var b strings.Builder
	b.Grow(len(c.src) + len(c.slots)*len(ref))
	for i := range c.slots {
		b.WriteString(c.segs[i])
		b.WriteByte(' ')
		b.WriteString(ref)
		b.WriteByte(' ')
	}
	b.WriteString(c.segs[len(c.slots)])
	return b.String()
}

func columnSet(columns []string) map[string]bool {
	if columns == nil {
		return nil
	}
	set := make(map[string]bool, len(columns))
	for _, c := range columns {
		set[strings.ToLower(c)] = true
	}
	return set
}

// Template is a row-filter predicate template, checked once when written
// and rendered for each user. It is safe for concurrent use.
type Template struct {
	c *compiled
}

// ParseTemplate checks a predicate template such as
//
//	region = {{user.region}} AND dept IN {{user.departments}}
//
// against columns, the columns of the view it filters (case-insensitive;
// nil skips the check). The template must be a simple boolean expression:
// columns, literals, operators, IN, BETWEEN, LIKE, IS, CASE, CAST, ARRAY,
// calls of the functions AllowedFunctions lists, and placeholders {{user.name}},
// {{user.groups}} and {{user.<attr>}}. Subqueries, comments, semicolons,
// unbalanced quotes or parentheses, unknown functions and unknown columns
// are errors (ErrInvalidExpression).
func ParseTemplate(src string, columns []string) (*Template, error) {
	p := &exprParser{allowUser: true, columns: columnSet(columns)}
	c, shape, err := compile(src, p)
	if err != nil {
		return nil, err
	}
	if shape == shapeValue {
		return nil, fmt.Errorf("%w: %q is not a boolean expression", ErrInvalidExpression, truncate(src, 80))
	}
	return &Template{c: c}, nil
}

// String returns the template's source.
func (t *Template) String() string { return t.c.src }

// Columns returns the columns the template references, lower-cased and
// sorted.
func (t *Template) Columns() []string { return slices.Clone(t.c.columns) }

// Placeholders returns the placeholders the template uses ("user.region"),
// sorted.
func (t *Template) Placeholders() []string { return slices.Clone(t.c.placeholders) }

// User is whom a template is rendered for.
type User struct {
	Name   string
	Groups []string
	// Attributes are the directory's attributes: strings, numbers
	// (float64, json.Number or Go integers), booleans and lists of them.
	Attributes map[string]any
}

// Render returns the predicate for u, with each placeholder replaced by a
// literal: a string quoted as QuoteString does, a number, true or false; a list
// as (a, b) after IN and ARRAY[a, b] elsewhere. A scalar after IN becomes a
// one-element tuple.
//
// When u lacks an attribute the template uses (absent, null, or an empty
// list or name), Render returns "false": the user sees no rows. A value
// that cannot be a literal (a nested object, a mixed list, NUL, invalid
// UTF-8, more than MaxAttributeBytes) is an ErrAttributeValue.
func (t *Template) Render(u *User) (string, error) {
	c := t.c
	if len(c.slots) == 0 {
		return c.src, nil
	}
	var b strings.Builder
	b.Grow(len(c.src) + 24*len(c.slots))
	for i := range c.slots {
		b.WriteString(c.segs[i])
		b.WriteByte(' ')
		ok, err := appendPlaceholder(&b, &c.slots[i], u)
		if err != nil {
			return "", fmt.Errorf("{{%s}}: %w", c.slots[i].name, err)
		}
		if !ok {
			return "false", nil
		}
		b.WriteByte(' ')
	}
	b.WriteString(c.segs[len(c.slots)])
	return b.String(), nil
}

// VerifyRendered checks that rendered has the token structure of the
// template: the same tokens in the same order, except that each placeholder
// became a literal, a tuple of literals (after IN) or an ARRAY of literals.
// "false", the rendering for a user lacking an attribute, also passes.
// Render always produces such text; Warden can call VerifyRendered as a
// second, independent line of defence.
func (t *Template) VerifyRendered(rendered string) error {
	if rendered == "false" {
		return nil
	}
	got, err := tokenize(rendered)
	if err != nil {
		return err
	}
	j, slotIdx := 0, 0
	for _, want := range t.c.toks {
		if want.kind != tokPlaceholder {
			if g := got[j]; g.kind != want.kind || g.text != want.text {
				return fmt.Errorf("%w: rendered token %q where the template has %q", ErrInvalidExpression, g.text, want.text)
			}
			j++
			continue
		}
		n := literalRun(got[j:], t.c.slots[slotIdx].inList)
		slotIdx++
		if n == 0 {
			return fmt.Errorf("%w: placeholder {{%s}} did not render as literals", ErrInvalidExpression, want.val)
		}
		j += n
	}
	return nil
}

// literalRun returns how many tokens at the start of toks form one rendered
// placeholder value, or 0.
func literalRun(toks []token, inList bool) int {
	lit := func(i int) int {
		switch t := toks[i]; {
		case t.kind == tokString:
			return 1
		case t.kind == tokIdent && (t.val == "true" || t.val == "false"):
			return 1
		case t.kind == tokNumber:
			return 1
		case t.kind == tokOp && t.val == "-" && toks[i+1].kind == tokNumber:
			return 2
		}
		return 0
	}
	list := func(i int, closer string) int {
		start := i
		for {
			n := lit(i)
			if n == 0 {
				return 0
			}
			i += n
			switch t := toks[i]; {
			case t.kind == tokOp && t.val == ",":
				i++
			case t.kind == tokOp && t.val == closer:
				return i + 1 - start
			default:
				return 0
			}
		}
	}
	switch t := toks[0]; {
	case inList:
		if t.kind == tokOp && t.val == "(" {
			if n := list(1, ")"); n > 0 {
				return n + 1
			}
		}
		return 0
	case t.kind == tokIdent && t.val == "array" && toks[1].kind == tokOp && toks[1].val == "[":
		if n := list(2, "]"); n > 0 {
			return n + 2
		}
		return 0
	}
	return lit(0)
}
