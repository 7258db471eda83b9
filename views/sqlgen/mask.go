package sqlgen

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/trino-warden/warden/policy/javaregex"
	"github.com/trino-warden/warden/policy/trino"
)

// MaskKind names a kind of mask.
type MaskKind string

// The mask kinds. docs/data-policies.md shows the SQL each generates.
const (
	MaskNull     MaskKind = "null"     // NULL
	MaskConstant MaskKind = "constant" // a fixed value of the column's type
	MaskHash     MaskKind = "hash"     // a keyed hash (HMAC-SHA256) of the value
	MaskLast4    MaskKind = "last4"    // all but the last four characters starred
	MaskFirst4   MaskKind = "first4"   // all but the first four characters starred
	MaskEmail    MaskKind = "email"    // the local part of an address redacted
	MaskYear     MaskKind = "year"     // a date or timestamp truncated to its year
	MaskRound    MaskKind = "round"    // a number rounded to Digits digits
	MaskRegex    MaskKind = "regex"    // regexp_replace(value, Pattern, Replacement)
	MaskCustom   MaskKind = "custom"   // Expression, with {{column}} for the column
)

// MaskKinds lists every kind, in documentation order.
var MaskKinds = []MaskKind{MaskNull, MaskConstant, MaskHash, MaskLast4, MaskFirst4, MaskEmail, MaskYear, MaskRound, MaskRegex, MaskCustom}

// Mask is a mask specification, as stored and sent through the admin API:
// {"kind":"last4"}, {"kind":"constant","value":"***"},
// {"kind":"round","digits":-3}. Only the fields of its kind may be set.
type Mask struct {
	Kind MaskKind `json:"kind"`
	// Value is the constant of a constant mask: a JSON string, number or
	// boolean, checked against the column's type.
	Value json.RawMessage `json:"value,omitempty"`
	// Digits is the rounding position of a round mask: 2 keeps cents, -3
	// rounds to thousands.
	Digits *int `json:"digits,omitempty"`
	// Key is the ID of the hash key in the key table (see KeyStore); the key
	// itself never appears in the generated SQL.
	Key string `json:"key,omitempty"`
	// Pattern and Replacement are the arguments of a regex mask: a Java
	// regular expression and a replacement where $1 or ${name} is a group.
	Pattern     string `json:"pattern,omitempty"`
	Replacement string `json:"replacement,omitempty"`
	// Expression is the SQL of a custom mask.
	Expression string `json:"expression,omitempty"`
}

// Column is a column of the view a mask applies to.
type Column struct {
	Name string
	Type Type
}

// KeyStore says where hash masks read their keys: a table with a key ID
// column and a varbinary key column that only Identity may read. The mask
// reads the key with a scalar subquery and is evaluated as Identity, so the
// querying user needs no access to the table and sees only its name in
// EXPLAIN, never the key.
type KeyStore struct {
	Table     QualifiedName
	IDColumn  string
	KeyColumn string
	// Identity is the Trino user the mask runs as; it becomes the
	// ViewExpression's identity.
	Identity string
}

// MaskOptions configure CompileMask.
type MaskOptions struct {
	// Keys is required for hash masks.
	Keys *KeyStore
	// Columns are the other columns of the view, which a custom mask may
	// reference. When nil, a custom mask may reference only its own column,
	// as {{column}} or by name.
	Columns []string
}

// Validate checks the parts of m that do not depend on a column: the kind,
// the presence of its parameters and the absence of others, the regular
// expression and the custom expression's syntax.
func (m *Mask) Validate() error { return m.validate(true) }

// validate is Validate; CompileMask skips the custom expression, which it
// parses itself with the view's columns.
func (m *Mask) validate(parseCustomExpr bool) error {
	if !slices.Contains(MaskKinds, m.Kind) {
		return fmt.Errorf("%w: unknown kind %q", ErrInvalidMask, m.Kind)
	}
	set := [...]struct {
		name string
		has  bool
		kind MaskKind
	}{
		{"value", len(m.Value) > 0, MaskConstant},
		{"digits", m.Digits != nil, MaskRound},
		{"key", m.Key != "", MaskHash},
		{"pattern", m.Pattern != "", MaskRegex},
		{"replacement", m.Replacement != "", MaskRegex},
		{"expression", m.Expression != "", MaskCustom},
	}
	for _, f := range set {
		if f.has && f.kind != m.Kind {
			return fmt.Errorf("%w: %s masks take no %s", ErrInvalidMask, m.Kind, f.name)
		}
	}
	switch m.Kind {
	case MaskConstant:
		_, _, err := constantText(m.Value)
		return err
	case MaskRound:
		if m.Digits == nil {
			return fmt.Errorf("%w: round masks need digits", ErrInvalidMask)
		}
		if *m.Digits < -38 || *m.Digits > 38 {
			return fmt.Errorf("%w: digits must be between -38 and 38", ErrInvalidMask)
		}
	case MaskHash:
		if err := checkText("key ID", m.Key); err != nil || m.Key == "" {
			return fmt.Errorf("%w: hash masks need a key ID (valid UTF-8, no NUL)", ErrInvalidMask)
		}
	case MaskRegex:
		return validateRegex(m.Pattern, m.Replacement)
	case MaskCustom:
		if m.Expression == "" {
			return fmt.Errorf("%w: custom masks need an expression", ErrInvalidMask)
		}
		if parseCustomExpr {
			_, err := parseCustom(m.Expression, nil)
			return err
		}
	}
	return nil
}

// CompileMask returns the Trino mask for col: an expression over the column
// that always ends in a CAST to the column's exact type, so Trino accepts it
// whatever the type's length, precision or scale. A hash mask also sets the
// expression's Identity. A mask that cannot apply to the column's type is an
// ErrIncompatibleMask naming the column and its type.
func CompileMask(m Mask, col Column, opts MaskOptions) (trino.ViewExpression, error) {
	if err := m.validate(false); err != nil {
		return trino.ViewExpression{}, err
	}
	ref, err := QuoteIdent(col.Name)
	if err != nil {
		return trino.ViewExpression{}, fmt.Errorf("column name: %w", err)
	}
	t := col.Type
	incompatible := func(what string) error {
		return fmt.Errorf("%w: %s masks %s; column %s is %s", ErrIncompatibleMask, m.Kind, what, col.Name, t)
	}
	var expr string
	switch m.Kind {
	case MaskNull:
		return trino.ViewExpression{Expression: castTo("NULL", t)}, nil
	case MaskConstant:
		text, isString, _ := constantText(m.Value)
		lit, err := constantLiteral(text, isString, t, col.Name)
		if err != nil {
			return trino.ViewExpression{}, err
		}
		return trino.ViewExpression{Expression: lit}, nil
	case MaskHash:
		return hashMask(m.Key, ref, col, opts.Keys, incompatible)
	case MaskLast4, MaskFirst4:
		if !t.IsString() {
			return trino.ViewExpression{}, incompatible("strings")
		}
		v := stringValue(ref, t)
		if m.Kind == MaskLast4 {
			expr = "CASE WHEN length(" + v + ") > 4 THEN lpad(substr(" + v + ", length(" + v + ") - 3), length(" + v + "), '*') ELSE lpad('', length(" + v + "), '*') END"
		} else {
			expr = "CASE WHEN length(" + v + ") > 4 THEN rpad(substr(" + v + ", 1, 4), length(" + v + "), '*') ELSE lpad('', length(" + v + "), '*') END"
		}
	case MaskEmail:
		if !t.IsString() {
			return trino.ViewExpression{}, incompatible("strings")
		}
		v := stringValue(ref, t)
		expr = fitLength("CASE WHEN strpos("+v+", '@') > 1 THEN concat(substr("+v+", 1, 1), '***', substr("+v+", strpos("+v+", '@'))) ELSE lpad('', length("+v+"), '*') END", t)
	case MaskYear:
		switch t.Kind {
		case KindDate, KindTimestamp, KindTimestampTZ:
			expr = "date_trunc('year', " + ref + ")"
		default:
			return trino.ViewExpression{}, incompatible("dates and timestamps")
		}
	case MaskRound:
		var err error
		if expr, err = roundMask(ref, t, *m.Digits, col.Name); err != nil {
			return trino.ViewExpression{}, err
		}
	case MaskRegex:
		if !t.IsString() {
			return trino.ViewExpression{}, incompatible("strings")
		}
		expr = fitLength("regexp_replace("+stringValue(ref, t)+", "+mustQuoteString(m.Pattern)+", "+mustQuoteString(m.Replacement)+")", t)
	case MaskCustom:
		body, err := parseCustom(m.Expression, append([]string{col.Name}, opts.Columns...))
		if err != nil {
			return trino.ViewExpression{}, err
		}
		expr = "(" + body.renderColumn(ref) + ")"
	}
	return trino.ViewExpression{Expression: castTo(expr, t)}, nil
}

// stringValue is the string a string mask works on: the column itself for
// varchar, and for char(n) the value without the padding Trino adds, so
// that padding is neither shown nor counted.
func stringValue(ref string, t Type) string {
	if t.Kind == KindChar {
		return "rtrim(CAST(" + ref + " AS varchar))"
	}
	return ref
}

// fitLength cuts a string expression whose result may be longer than its
// input to the column's length, so the final CAST never depends on
// truncation.
func fitLength(expr string, t Type) string {
	if n, ok := t.Bounded(); ok {
		return "substr(" + expr + ", 1, " + strconv.Itoa(n) + ")"
	}
	return expr
}

// hashWidth is how many hex digits of the HMAC an integer column keeps:
// 16^width stays below the type's maximum.
var hashWidth = map[Kind]int{KindSmallint: 3, KindInteger: 7, KindBigint: 15}

func hashMask(keyID, ref string, col Column, ks *KeyStore, incompatible func(string) error) (trino.ViewExpression, error) {
	t := col.Type
	_, isInt := hashWidth[t.Kind]
	if !t.IsString() && !isInt {
		return trino.ViewExpression{}, incompatible("strings, smallint, integer and bigint")
	}
	if ks == nil {
		return trino.ViewExpression{}, fmt.Errorf("%w: hash masks need a key store", ErrInvalidMask)
	}
	table, err := ks.Table.Quoted()
	if err != nil {
		return trino.ViewExpression{}, fmt.Errorf("key table: %w", err)
	}
	idCol, err := QuoteIdent(ks.IDColumn)
	if err != nil {
		return trino.ViewExpression{}, fmt.Errorf("key ID column: %w", err)
	}
	keyCol, err := QuoteIdent(ks.KeyColumn)
	if err != nil {
		return trino.ViewExpression{}, fmt.Errorf("key column: %w", err)
	}
	if ks.Identity == "" {
		return trino.ViewExpression{}, fmt.Errorf("%w: the key store needs an identity", ErrInvalidMask)
	}
	input := ref
	if t.Kind == KindChar {
		input = stringValue(ref, t)
	} else if isInt {
		input = "CAST(" + ref + " AS varchar)"
	}
	key := "(SELECT " + keyCol + " FROM " + table + " WHERE " + idCol + " = " + mustQuoteString(keyID) + ")"
	hash := "to_hex(hmac_sha256(to_utf8(" + input + "), " + key + "))"
	var expr string
	switch {
	case isInt:
		expr = "from_base(substr(" + hash + ", 1, " + strconv.Itoa(hashWidth[t.Kind]) + "), 16)"
	default:
		if n, ok := t.Bounded(); ok && n < 64 {
			expr = "substr(" + hash + ", 1, " + strconv.Itoa(n) + ")"
		} else {
			expr = hash
		}
	}
	return trino.ViewExpression{Expression: castTo(expr, t), Identity: ks.Identity}, nil
}

var (
	groupRefRE  = regexp.MustCompile(`\(\?<([a-zA-Z][a-zA-Z0-9]*)>`)
	groupNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9]*$`)
)

// validateRegex checks a regex mask: the pattern must compile as a Java
// regular expression (Trino's regexp functions use Java's syntax), and the
// replacement may refer only to groups the pattern has, with Trino's rules:
// $n or ${name} is a group, \$ and \\ are literal, any other backslash is
// an error.
func validateRegex(pattern, replacement string) error {
	if pattern == "" {
		return fmt.Errorf("%w: regex masks need a pattern", ErrInvalidMask)
	}
	if err := checkText("pattern", pattern); err != nil {
		return err
	}
	if err := checkText("replacement", replacement); err != nil {
		return err
	}
	re, err := javaregex.Compile(pattern)
	if err != nil && !isUnsupported(err) {
		return fmt.Errorf("%w: %w", ErrInvalidMask, err)
	}
	groups := 0
	if re != nil {
		groups = re.NumGroups()
	} else {
		groups = strings.Count(pattern, "(") // unsupported constructs: an upper bound; Trino checks exactly
	}
	names := map[string]bool{}
	for _, m := range groupRefRE.FindAllStringSubmatch(pattern, -1) {
		names[m[1]] = true
	}
	for i := 0; i < len(replacement); i++ {
		switch replacement[i] {
		case '\\':
			if i+1 >= len(replacement) || replacement[i+1] != '\\' && replacement[i+1] != '$' {
				return fmt.Errorf("%w: in the replacement, \\ must be followed by \\ or $", ErrInvalidMask)
			}
			i++
		case '$':
			rest := replacement[i+1:]
			if strings.HasPrefix(rest, "{") {
				name, _, ok := strings.Cut(rest[1:], "}")
				if !ok || !groupNameRE.MatchString(name) || !names[name] {
					return fmt.Errorf("%w: replacement refers to no named group of the pattern: %q", ErrInvalidMask, truncate(rest, 40))
				}
				i += len(name) + 2
				continue
			}
			if rest == "" || rest[0] < '0' || rest[0] > '9' {
				return fmt.Errorf("%w: in the replacement, $ must start a group reference ($1, ${name}); write \\$ for a dollar sign", ErrInvalidMask)
			}
			if int(rest[0]-'0') > groups {
				return fmt.Errorf("%w: replacement refers to group %c; the pattern has %d", ErrInvalidMask, rest[0], groups)
			}
			i++
		}
	}
	return nil
}
