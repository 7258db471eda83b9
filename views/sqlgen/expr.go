package sqlgen

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/trino-warden/warden/policy/javaregex"
)

// functions lists the functions a predicate template or custom mask may
// call, lower-cased. Everything else, including every aggregate and window
// function, is refused when the SQL is written.
var functions = map[string]bool{
	// strings
	"lower": true, "upper": true, "trim": true, "ltrim": true, "rtrim": true,
	"substr": true, "substring": true, "length": true, "concat": true,
	"lpad": true, "rpad": true, "replace": true, "reverse": true,
	"split_part": true, "strpos": true, "starts_with": true,
	"regexp_like": true, "regexp_replace": true, "regexp_extract": true,
	"to_utf8": true, "from_utf8": true, "to_hex": true, "sha256": true,
	"md5": true, "xxhash64": true, "format": true,
	// conditionals
	"coalesce": true, "nullif": true, "if": true, "greatest": true, "least": true,
	// dates and times
	"date_trunc": true, "date_add": true, "date_diff": true, "date": true,
	"year": true, "quarter": true, "month": true, "day": true, "hour": true,
	"day_of_week": true, "now": true, "from_iso8601_date": true,
	"from_iso8601_timestamp": true, "to_iso8601": true, "format_datetime": true,
	// arrays and maps
	"contains": true, "cardinality": true, "element_at": true,
	"arrays_overlap": true, "array_join": true, "map_keys": true,
	// numbers
	"abs": true, "round": true, "floor": true, "ceil": true, "ceiling": true,
	"truncate": true, "mod": true, "sign": true,
	// JSON
	"json_extract_scalar": true, "json_value": true,
}

// AllowedFunctions returns, sorted, the functions that predicate templates
// and custom masks may call.
func AllowedFunctions() []string {
	names := make([]string, 0, len(functions))
	for name := range functions {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// niladic are the special forms that read like identifiers but are values.
var niladic = map[string]bool{
	"current_date": true, "current_time": true, "current_timestamp": true,
	"localtime": true, "localtimestamp": true, "current_user": true,
}

// forbidden are keywords that start a query, a clause or a construct that
// has no place in a simple expression. Meeting one outside a string or a
// quoted identifier is an error.
var forbidden = map[string]bool{
	"select": true, "with": true, "values": true, "table": true, "exists": true,
	"union": true, "intersect": true, "except": true, "from": true, "where": true,
	"group": true, "order": true, "by": true, "having": true, "limit": true,
	"offset": true, "fetch": true, "join": true, "on": true, "lateral": true,
	"unnest": true, "over": true, "window": true, "filter": true,
	"any": true, "all": true, "some": true, "insert": true, "update": true,
	"delete": true, "drop": true, "create": true, "alter": true, "grant": true,
	"revoke": true, "call": true, "execute": true, "prepare": true,
	"describe": true, "show": true, "explain": true, "use": true, "set": true,
	"reset": true, "merge": true, "commit": true, "rollback": true,
	"match_recognize": true, "lambda": true,
}

// reserved are keywords of the expression grammar itself; they never name a
// column when bare.
var reserved = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "is": true, "null": true,
	"true": true, "false": true, "between": true, "like": true, "escape": true,
	"case": true, "when": true, "then": true, "else": true, "end": true,
	"cast": true, "try_cast": true, "as": true, "distinct": true, "array": true,
	"interval": true,
}

// typedLiterals are type names that may prefix a string literal
// (DATE '2024-01-01').
var typedLiterals = map[string]bool{
	"date": true, "time": true, "timestamp": true, "decimal": true,
	"double": true, "real": true, "json": true, "uuid": true, "ipaddress": true,
}

// exprShape says what an expression evaluates to, as far as syntax tells.
type exprShape uint8

const (
	shapeAny   exprShape = iota // a column, call, CASE, CAST, placeholder: could be boolean
	shapeBool                   // a comparison, logical operator or boolean literal
	shapeValue                  // arithmetic, a string or number literal: never boolean
)

// placeholderUse is one placeholder in an expression.
type placeholderUse struct {
	tok    int  // index in the token list
	inList bool // directly after IN: renders as a tuple
}

// exprParser checks an expression against the grammar of Warden's simple
// expressions and records what it references.
type exprParser struct {
	toks []token
	i    int
	// columns, when non-nil, are the lower-cased column names a reference
	// must name.
	columns map[string]bool
	// allowUser and allowColumn enable {{user.*}} and {{column}}.
	allowUser, allowColumn bool
	refs                   []string
	uses                   []placeholderUse
	depth                  int
}

const maxExprDepth = 100

// parseExpr checks a whole expression. It returns the shape of the top
// level.
func (p *exprParser) parseExpr() (exprShape, error) {
	shape, err := p.or()
	if err != nil {
		return 0, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return 0, p.unexpected(t)
	}
	return shape, nil
}

func (p *exprParser) peek() token { return p.toks[p.i] }

func (p *exprParser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// isKW reports whether the next token is the bare keyword kw.
func (p *exprParser) isKW(kw string) bool {
	t := p.toks[p.i]
	return t.kind == tokIdent && t.val == kw
}

func (p *exprParser) acceptKW(kw string) bool {
	if p.isKW(kw) {
		p.i++
		return true
	}
	return false
}

func (p *exprParser) isOp(op string) bool {
	t := p.toks[p.i]
	return t.kind == tokOp && t.val == op
}

func (p *exprParser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *exprParser) expectOp(op string) error {
	if !p.acceptOp(op) {
		return p.errorf(p.peek(), "expected %q", op)
	}
	return nil
}

func (p *exprParser) expectKW(kw string) error {
	if !p.acceptKW(kw) {
		return p.errorf(p.peek(), "expected %s", strings.ToUpper(kw))
	}
	return nil
}

func (p *exprParser) errorf(t token, format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", ErrInvalidExpression, fmt.Sprintf(format, args...), t.pos)
}

func (p *exprParser) unexpected(t token) error {
	if t.kind == tokEOF {
		return p.errorf(t, "unexpected end of expression")
	}
	if t.kind == tokIdent && forbidden[t.val] {
		return p.errorf(t, "%s is not allowed: only simple expressions over columns are", strings.ToUpper(t.val))
	}
	return p.errorf(t, "unexpected %s %q", t.kind, t.text)
}

func (p *exprParser) enter() error {
	p.depth++
	if p.depth > maxExprDepth {
		return p.errorf(p.peek(), "nested deeper than %d", maxExprDepth)
	}
	return nil
}

func (p *exprParser) or() (exprShape, error) {
	shape, err := p.and()
	for err == nil && p.acceptKW("or") {
		_, err = p.and()
		shape = shapeBool
	}
	return shape, err
}

func (p *exprParser) and() (exprShape, error) {
	shape, err := p.not()
	for err == nil && p.acceptKW("and") {
		_, err = p.not()
		shape = shapeBool
	}
	return shape, err
}

func (p *exprParser) not() (exprShape, error) {
	if p.acceptKW("not") {
		if err := p.enter(); err != nil {
			return 0, err
		}
		defer func() { p.depth-- }()
		_, err := p.not()
		return shapeBool, err
	}
	return p.predicate()
}

var comparisons = []string{"=", "<>", "!=", "<", "<=", ">", ">="}

func (p *exprParser) predicate() (exprShape, error) {
	shape, err := p.additive()
	if err != nil {
		return 0, err
	}
	if t := p.peek(); t.kind == tokOp && slices.Contains(comparisons, t.val) {
		p.i++
		if p.isKW("any") || p.isKW("all") || p.isKW("some") {
			return 0, p.unexpected(p.peek())
		}
		_, err := p.additive()
		return shapeBool, err
	}
	if p.acceptKW("is") {
		p.acceptKW("not")
		switch {
		case p.acceptKW("null"), p.acceptKW("true"), p.acceptKW("false"):
			return shapeBool, nil
		case p.acceptKW("distinct"):
			if t := p.next(); t.kind != tokIdent || t.val != "from" {
				return 0, p.errorf(t, "expected FROM after IS DISTINCT")
			}
			_, err := p.additive()
			return shapeBool, err
		}
		return 0, p.unexpected(p.peek())
	}
	negated := p.acceptKW("not")
	switch {
	case p.acceptKW("between"):
		if _, err := p.additive(); err != nil {
			return 0, err
		}
		if err := p.expectKW("and"); err != nil {
			return 0, err
		}
		_, err := p.additive()
		return shapeBool, err
	case p.acceptKW("in"):
		return shapeBool, p.inList()
	case p.acceptKW("like"):
		if _, err := p.additive(); err != nil {
			return 0, err
		}
		if p.acceptKW("escape") {
			if _, err := p.additive(); err != nil {
				return 0, err
			}
		}
		return shapeBool, nil
	}
	if negated {
		return 0, p.unexpected(p.peek())
	}
	return shape, nil
}

// inList parses what follows IN: a placeholder (rendered as a tuple) or a
// parenthesised list of values.
func (p *exprParser) inList() error {
	if t := p.peek(); t.kind == tokPlaceholder {
		p.i++
		return p.placeholder(t, true)
	}
	if err := p.expectOp("("); err != nil {
		return err
	}
	for {
		if _, err := p.additive(); err != nil {
			return err
		}
		if !p.acceptOp(",") {
			break
		}
	}
	return p.expectOp(")")
}

func (p *exprParser) additive() (exprShape, error) {
	shape, err := p.multiplicative()
	for err == nil && (p.isOp("+") || p.isOp("-") || p.isOp("||")) {
		p.i++
		_, err = p.multiplicative()
		shape = shapeValue
	}
	return shape, err
}

func (p *exprParser) multiplicative() (exprShape, error) {
	shape, err := p.unary()
	for err == nil && (p.isOp("*") || p.isOp("/") || p.isOp("%")) {
		p.i++
		_, err = p.unary()
		shape = shapeValue
	}
	return shape, err
}

func (p *exprParser) unary() (exprShape, error) {
	if p.acceptOp("-") || p.acceptOp("+") {
		if err := p.enter(); err != nil {
			return 0, err
		}
		defer func() { p.depth-- }()
		_, err := p.unary()
		return shapeValue, err
	}
	shape, err := p.primary()
	for err == nil && p.acceptOp("[") {
		if _, err = p.or(); err == nil {
			err = p.expectOp("]")
		}
		shape = shapeAny
	}
	return shape, err
}

func (p *exprParser) primary() (exprShape, error) {
	if err := p.enter(); err != nil {
		return 0, err
	}
	defer func() { p.depth-- }()
	t := p.next()
	switch t.kind {
	case tokNumber, tokString:
		return shapeValue, nil
	case tokPlaceholder:
		return shapeAny, p.placeholder(t, false)
	case tokQuotedIdent:
		return shapeAny, p.column(t, t.val)
	case tokOp:
		if t.val != "(" {
			return 0, p.unexpected(t)
		}
		shape, err := p.or()
		if err != nil {
			return 0, err
		}
		if p.isOp(",") {
			return 0, p.errorf(p.peek(), "row constructors are not allowed")
		}
		return shape, p.expectOp(")")
	case tokIdent:
		return p.word(t)
	}
	return 0, p.unexpected(t)
}

// word parses an expression that starts with a bare word.
func (p *exprParser) word(t token) (exprShape, error) {
	switch {
	case forbidden[t.val]:
		return 0, p.unexpected(t)
	case t.val == "null":
		return shapeAny, nil
	case t.val == "true" || t.val == "false":
		return shapeBool, nil
	case t.val == "case":
		return shapeAny, p.caseExpr()
	case t.val == "cast" || t.val == "try_cast":
		return shapeAny, p.cast()
	case t.val == "array":
		return shapeValue, p.array()
	case t.val == "interval":
		return shapeValue, p.interval()
	case niladic[t.val]:
		return shapeAny, nil
	case typedLiterals[t.val] && p.peek().kind == tokString:
		p.i++
		return shapeValue, nil
	case reserved[t.val]:
		return 0, p.unexpected(t)
	case p.isOp("("):
		return shapeAny, p.call(t)
	}
	return shapeAny, p.column(t, t.val)
}

// column records a column reference, with any .field dereferences after it.
func (p *exprParser) column(t token, name string) error {
	lower := strings.ToLower(name)
	if p.columns != nil && !p.columns[lower] {
		return p.errorf(t, "unknown column %q", name)
	}
	if !slices.Contains(p.refs, lower) {
		p.refs = append(p.refs, lower)
	}
	for p.acceptOp(".") {
		f := p.next()
		if f.kind != tokIdent && f.kind != tokQuotedIdent || f.kind == tokIdent && (reserved[f.val] || forbidden[f.val]) {
			return p.errorf(f, "expected a field name after '.'")
		}
	}
	return nil
}

func (p *exprParser) placeholder(t token, inList bool) error {
	switch {
	case t.val == "column" && !p.allowColumn:
		return p.errorf(t, "{{column}} is only allowed in custom masks")
	case t.val != "column" && !p.allowUser:
		return p.errorf(t, "{{%s}} is only allowed in row policy templates", t.val)
	}
	p.uses = append(p.uses, placeholderUse{tok: p.i - 1, inList: inList})
	return nil
}

func (p *exprParser) call(name token) error {
	if !functions[name.val] {
		return p.errorf(name, "function %s is not allowed", name.val)
	}
	p.i++ // (
	if p.acceptOp(")") {
		return nil
	}
	if p.isKW("distinct") || p.isOp("*") {
		return p.unexpected(p.peek())
	}
	for arg := 0; ; arg++ {
		start := p.i
		if _, err := p.or(); err != nil {
			return err
		}
		if name.val == "regexp_like" || name.val == "regexp_replace" || name.val == "regexp_extract" {
			if arg == 1 && p.i == start+1 && p.toks[start].kind == tokString {
				if _, err := javaregex.Compile(p.toks[start].val); err != nil && !isUnsupported(err) {
					return p.errorf(p.toks[start], "%s pattern: %v", name.val, err)
				}
			}
		}
		if !p.acceptOp(",") {
			break
		}
	}
	return p.expectOp(")")
}

// isUnsupported reports a pattern that is valid Java but that javaregex
// cannot match exactly (\b, for instance); Trino, which evaluates it, can.
func isUnsupported(err error) bool {
	var e *javaregex.Error
	return errors.As(err, &e) && e.Unsupported
}

func (p *exprParser) caseExpr() error {
	if !p.isKW("when") {
		if _, err := p.or(); err != nil {
			return err
		}
	}
	if !p.isKW("when") {
		return p.errorf(p.peek(), "expected WHEN")
	}
	for p.acceptKW("when") {
		if _, err := p.or(); err != nil {
			return err
		}
		if err := p.expectKW("then"); err != nil {
			return err
		}
		if _, err := p.or(); err != nil {
			return err
		}
	}
	if p.acceptKW("else") {
		if _, err := p.or(); err != nil {
			return err
		}
	}
	return p.expectKW("end")
}

// cast parses (expr AS type), where type is a signature ParseType knows.
func (p *exprParser) cast() error {
	if err := p.expectOp("("); err != nil {
		return err
	}
	if _, err := p.or(); err != nil {
		return err
	}
	if err := p.expectKW("as"); err != nil {
		return err
	}
	var b strings.Builder
	start := p.peek()
	depth := 0
	for {
		t := p.peek()
		if t.kind == tokEOF || depth == 0 && t.kind == tokOp && t.val == ")" {
			break
		}
		switch {
		case t.kind == tokOp && t.val == "(":
			depth++
		case t.kind == tokOp && t.val == ")":
			depth--
		}
		b.WriteString(t.text)
		b.WriteByte(' ')
		p.i++
	}
	typ, err := ParseType(b.String())
	if err != nil || typ.Kind == KindUnknown {
		return p.errorf(start, "invalid type %q in CAST", strings.TrimSpace(b.String()))
	}
	return p.expectOp(")")
}

func (p *exprParser) array() error {
	if err := p.expectOp("["); err != nil {
		return err
	}
	if p.acceptOp("]") {
		return nil
	}
	for {
		if _, err := p.or(); err != nil {
			return err
		}
		if !p.acceptOp(",") {
			break
		}
	}
	return p.expectOp("]")
}

var intervalUnits = map[string]bool{"year": true, "month": true, "day": true, "hour": true, "minute": true, "second": true}

func (p *exprParser) interval() error {
	if t := p.next(); t.kind != tokString {
		return p.errorf(t, "expected a string after INTERVAL")
	}
	if t := p.next(); t.kind != tokIdent || !intervalUnits[t.val] {
		return p.errorf(t, "expected an interval unit")
	}
	if p.acceptKW("to") {
		if t := p.next(); t.kind != tokIdent || !intervalUnits[t.val] {
			return p.errorf(t, "expected an interval unit")
		}
	}
	return nil
}
