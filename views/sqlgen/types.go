package sqlgen

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the kind of a Trino type.
type Kind uint8

// The kinds of Trino types the package knows. KindUnknown is any other type
// (geometry, qdigest(bigint), a connector's own type), kept verbatim.
const (
	KindUnknown Kind = iota
	KindBoolean
	KindTinyint
	KindSmallint
	KindInteger
	KindBigint
	KindReal
	KindDouble
	KindDecimal
	KindVarchar
	KindChar
	KindVarbinary
	KindJSON
	KindDate
	KindTime
	KindTimeTZ
	KindTimestamp
	KindTimestampTZ
	KindIntervalDayToSecond
	KindIntervalYearToMonth
	KindUUID
	KindIPAddress
	KindArray
	KindMap
	KindRow
)

// simpleNames are the kinds whose signature is one word and no parameters.
var simpleNames = map[Kind]string{
	KindBoolean:   "boolean",
	KindTinyint:   "tinyint",
	KindSmallint:  "smallint",
	KindInteger:   "integer",
	KindBigint:    "bigint",
	KindReal:      "real",
	KindDouble:    "double",
	KindVarbinary: "varbinary",
	KindJSON:      "json",
	KindDate:      "date",
	KindUUID:      "uuid",
	KindIPAddress: "ipaddress",
}

var simpleKinds = map[string]Kind{
	"boolean": KindBoolean, "tinyint": KindTinyint, "smallint": KindSmallint,
	"integer": KindInteger, "int": KindInteger, "bigint": KindBigint,
	"real": KindReal, "double": KindDouble, "varbinary": KindVarbinary,
	"json": KindJSON, "date": KindDate, "uuid": KindUUID, "ipaddress": KindIPAddress,
}

// Limits Trino puts on type parameters.
const (
	maxDecimalPrecision = 38
	maxTimePrecision    = 12
	maxVarcharLength    = 1<<31 - 2 // VarcharType.MAX_LENGTH
	maxCharLength       = 65536     // CharType.MAX_LENGTH
	maxTypeDepth        = 32        // nesting of array, map and row
	maxTypeLen          = 1 << 16
)

// Unbounded is the Length of an unbounded varchar.
const Unbounded = -1

// Type is a Trino type as information_schema.columns.data_type reports it.
// ParseType builds one; String prints it back.
type Type struct {
	Kind Kind
	// Length is n in varchar(n) and char(n); Unbounded for a bare varchar.
	Length int
	// Precision is p in decimal(p,s), time(p) and timestamp(p); -1 when the
	// signature leaves it out (Trino then means decimal(38,0) or precision 3).
	Precision int
	// Scale is s in decimal(p,s).
	Scale int
	// Elems are the element type of an array, the key and value types of a
	// map, and the field types of a row.
	Elems []Type
	// Names are the field names of a row, "" for an anonymous field.
	Names []string
	// Raw is the verbatim signature of a KindUnknown type.
	Raw string
}

// Bounded reports whether t is a string type with a maximum length, and
// returns it: varchar(n) and char(n).
func (t Type) Bounded() (int, bool) {
	if (t.Kind == KindVarchar || t.Kind == KindChar) && t.Length >= 0 {
		return t.Length, true
	}
	return 0, false
}

// IsString reports whether t is varchar or char.
func (t Type) IsString() bool { return t.Kind == KindVarchar || t.Kind == KindChar }

// IsInteger reports whether t is tinyint, smallint, integer or bigint.
func (t Type) IsInteger() bool { return t.Kind >= KindTinyint && t.Kind <= KindBigint }

// IsNumeric reports whether t is an integer, real, double or decimal type.
func (t Type) IsNumeric() bool { return t.Kind >= KindTinyint && t.Kind <= KindDecimal }

// DecimalPrecision returns the precision and scale of a decimal type, with
// Trino's default decimal(38,0) for a bare "decimal".
func (t Type) DecimalPrecision() (p, s int) {
	if t.Precision < 0 {
		return maxDecimalPrecision, 0
	}
	return t.Precision, t.Scale
}

// String returns the signature in the canonical form Trino reports, which
// ParseType reads back into an equal Type.
func (t Type) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t Type) write(b *strings.Builder) {
	if name, ok := simpleNames[t.Kind]; ok {
		b.WriteString(name)
		return
	}
	switch t.Kind {
	case KindDecimal:
		b.WriteString("decimal")
		if t.Precision >= 0 {
			fmt.Fprintf(b, "(%d,%d)", t.Precision, t.Scale)
		}
	case KindVarchar:
		b.WriteString("varchar")
		if t.Length >= 0 {
			fmt.Fprintf(b, "(%d)", t.Length)
		}
	case KindChar:
		fmt.Fprintf(b, "char(%d)", t.Length)
	case KindTime, KindTimeTZ, KindTimestamp, KindTimestampTZ:
		if t.Kind == KindTime || t.Kind == KindTimeTZ {
			b.WriteString("time")
		} else {
			b.WriteString("timestamp")
		}
		if t.Precision >= 0 {
			fmt.Fprintf(b, "(%d)", t.Precision)
		}
		if t.Kind == KindTimeTZ || t.Kind == KindTimestampTZ {
			b.WriteString(" with time zone")
		}
	case KindIntervalDayToSecond:
		b.WriteString("interval day to second")
	case KindIntervalYearToMonth:
		b.WriteString("interval year to month")
	case KindArray, KindMap, KindRow:
		b.WriteString([...]string{KindArray: "array", KindMap: "map", KindRow: "row"}[t.Kind])
		b.WriteByte('(')
		for i, e := range t.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			if t.Kind == KindRow && t.Names[i] != "" {
				writeFieldName(b, t.Names[i])
				b.WriteByte(' ')
			}
			e.write(b)
		}
		b.WriteByte(')')
	default:
		b.WriteString(t.Raw)
	}
}

// writeFieldName writes a row field name bare when it reads back as the
// same name, and double-quoted otherwise.
func writeFieldName(b *strings.Builder, name string) {
	if isPlainName(name) {
		b.WriteString(name)
		return
	}
	b.WriteByte('"')
	b.WriteString(strings.ReplaceAll(name, `"`, `""`))
	b.WriteByte('"')
}

// isPlainName reports whether name is a lower-case unquoted identifier.
func isPlainName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ParseType parses a Trino type signature such as "varchar(25)",
// "decimal(12,2)", "timestamp(6) with time zone" or
// "map(varchar, array(row(a bigint, \"b c\" double)))". Keywords are
// case-insensitive. A type the package does not know is returned as
// KindUnknown with its text in Raw, provided its parentheses balance.
func ParseType(s string) (Type, error) {
	if len(s) > maxTypeLen {
		return Type{}, fmt.Errorf("%w: signature longer than %d bytes", ErrInvalidType, maxTypeLen)
	}
	p := typeParser{s: s}
	t, err := p.parse(0)
	if err != nil {
		return Type{}, err
	}
	p.space()
	if p.i != len(s) {
		return Type{}, p.errorf("unexpected %q", s[p.i:])
	}
	return t, nil
}

// MustParseType is ParseType for signatures known to be valid; it panics
// otherwise.
func MustParseType(s string) Type {
	t, err := ParseType(s)
	if err != nil {
		panic(err)
	}
	return t
}

type typeParser struct {
	s string
	i int
}

func (p *typeParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w %q: %s", ErrInvalidType, p.s, fmt.Sprintf(format, args...))
}

func (p *typeParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// word reads an identifier-like word, lower-cased; "" when there is none.
func (p *typeParser) word() string {
	p.space()
	start := p.i
	for p.i < len(p.s) && isIdentByte(p.s[p.i], p.i > start) {
		p.i++
	}
	return strings.ToLower(p.s[start:p.i])
}

func isIdentByte(c byte, notFirst bool) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || notFirst && c >= '0' && c <= '9'
}

// peekWord returns the next word without consuming it.
func (p *typeParser) peekWord() string {
	save := p.i
	w := p.word()
	p.i = save
	return w
}

func (p *typeParser) accept(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *typeParser) expect(c byte) error {
	if !p.accept(c) {
		return p.errorf("expected %q at offset %d", c, p.i)
	}
	return nil
}

func (p *typeParser) expectWord(w string) error {
	if got := p.word(); got != w {
		return p.errorf("expected %q, found %q", w, got)
	}
	return nil
}

// number reads an unsigned decimal integer no larger than max.
func (p *typeParser) number(max int) (int, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if start == p.i || p.i-start > 10 {
		return 0, p.errorf("expected a number at offset %d", start)
	}
	n, err := strconv.Atoi(p.s[start:p.i])
	if err != nil || n > max {
		return 0, p.errorf("%s is out of range (at most %d)", p.s[start:p.i], max)
	}
	return n, nil
}

// optParam reads an optional "(n)".
func (p *typeParser) optParam(max int) (int, bool, error) {
	if !p.accept('(') {
		return 0, false, nil
	}
	n, err := p.number(max)
	if err != nil {
		return 0, false, err
	}
	return n, true, p.expect(')')
}

func (p *typeParser) parse(depth int) (Type, error) {
	if depth > maxTypeDepth {
		return Type{}, p.errorf("nested deeper than %d", maxTypeDepth)
	}
	start := p.i
	w := p.word()
	if w == "" {
		return Type{}, p.errorf("expected a type at offset %d", p.i)
	}
	if k, ok := simpleKinds[w]; ok {
		if k == KindDouble && p.peekWord() == "precision" {
			p.word()
		}
		return Type{Kind: k, Precision: -1}, nil
	}
	switch w {
	case "decimal":
		t := Type{Kind: KindDecimal, Precision: -1}
		if !p.accept('(') {
			return t, nil
		}
		var err error
		if t.Precision, err = p.number(maxDecimalPrecision); err != nil {
			return Type{}, err
		}
		if t.Precision < 1 {
			return Type{}, p.errorf("decimal precision must be at least 1")
		}
		if p.accept(',') {
			if t.Scale, err = p.number(t.Precision); err != nil {
				return Type{}, err
			}
		}
		return t, p.expect(')')
	case "varchar":
		n, ok, err := p.optParam(maxVarcharLength)
		if !ok {
			n = Unbounded
		}
		return Type{Kind: KindVarchar, Length: n, Precision: -1}, err
	case "char":
		n, ok, err := p.optParam(maxCharLength)
		if !ok {
			n = 1
		}
		if err == nil && n < 1 {
			err = p.errorf("char length must be at least 1")
		}
		return Type{Kind: KindChar, Length: n, Precision: -1}, err
	case "time", "timestamp":
		return p.temporal(w)
	case "interval":
		from := p.word()
		if err := p.expectWord("to"); err != nil {
			return Type{}, err
		}
		to := p.word()
		switch {
		case from == "day" && to == "second":
			return Type{Kind: KindIntervalDayToSecond, Precision: -1}, nil
		case from == "year" && to == "month":
			return Type{Kind: KindIntervalYearToMonth, Precision: -1}, nil
		}
		return Type{}, p.errorf("unknown interval %s to %s", from, to)
	case "array", "map", "row":
		return p.container(w, depth)
	}
	return p.unknown(start)
}

func (p *typeParser) temporal(w string) (Type, error) {
	prec, ok, err := p.optParam(maxTimePrecision)
	if err != nil {
		return Type{}, err
	}
	if !ok {
		prec = -1
	}
	tz := false
	switch p.peekWord() {
	case "with":
		p.word()
		tz = true
	case "without":
		p.word()
	default:
		goto done
	}
	if err := p.expectWord("time"); err != nil {
		return Type{}, err
	}
	if err := p.expectWord("zone"); err != nil {
		return Type{}, err
	}
done:
	k := map[[2]bool]Kind{{false, false}: KindTime, {false, true}: KindTimeTZ, {true, false}: KindTimestamp, {true, true}: KindTimestampTZ}[[2]bool{w == "timestamp", tz}]
	return Type{Kind: k, Precision: prec}, nil
}

func (p *typeParser) container(w string, depth int) (Type, error) {
	t := Type{Kind: map[string]Kind{"array": KindArray, "map": KindMap, "row": KindRow}[w], Precision: -1}
	if err := p.expect('('); err != nil {
		return Type{}, err
	}
	for {
		name := ""
		if t.Kind == KindRow {
			var err error
			if name, err = p.fieldName(); err != nil {
				return Type{}, err
			}
		}
		e, err := p.parse(depth + 1)
		if err != nil {
			return Type{}, err
		}
		t.Elems = append(t.Elems, e)
		if t.Kind == KindRow {
			t.Names = append(t.Names, name)
		}
		if !p.accept(',') {
			break
		}
	}
	if err := p.expect(')'); err != nil {
		return Type{}, err
	}
	switch {
	case t.Kind == KindArray && len(t.Elems) != 1:
		return Type{}, p.errorf("array takes one element type")
	case t.Kind == KindMap && len(t.Elems) != 2:
		return Type{}, p.errorf("map takes a key and a value type")
	}
	return t, nil
}

// fieldName reads the optional name of a row field: a quoted identifier, or
// a word followed by a type. A word alone (row(bigint)) is the type itself.
func (p *typeParser) fieldName() (string, error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		name, n, err := unquoteIdent(p.s[p.i:])
		if err != nil {
			return "", fmt.Errorf("%w %q: row field name: %w", ErrInvalidType, p.s, err)
		}
		p.i += n
		return name, nil
	}
	save := p.i
	w := p.word()
	p.space()
	// A type keyword followed by its own continuation words is a type.
	next := p.peekWord()
	typeWord := (w == "double" && next == "precision") || (w == "interval" && (next == "day" || next == "year")) ||
		((w == "time" || w == "timestamp") && (next == "with" || next == "without"))
	if w == "" || typeWord || next == "" {
		p.i = save
		return "", nil
	}
	return w, nil
}

// unknown keeps a signature it does not know: a word and, optionally, a
// balanced parenthesised argument list.
func (p *typeParser) unknown(start int) (Type, error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		depth := 0
		for ; p.i < len(p.s); p.i++ {
			switch p.s[p.i] {
			case '(':
				depth++
			case ')':
				depth--
			case '"', '\'', ';':
				return Type{}, p.errorf("unexpected %q in type arguments", p.s[p.i])
			}
			if depth == 0 {
				p.i++
				break
			}
		}
		if depth != 0 {
			return Type{}, p.errorf("unbalanced parentheses")
		}
	}
	raw := strings.TrimSpace(p.s[start:p.i])
	return Type{Kind: KindUnknown, Raw: normalizeSpace(raw), Precision: -1}, nil
}

// normalizeSpace lower-cases raw text and collapses runs of white space, so
// that an unknown signature prints the same way however it was spaced.
func normalizeSpace(s string) string {
	var b strings.Builder
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			space = true
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if space && b.Len() > 0 && c != ')' && c != ',' && !strings.HasSuffix(b.String(), "(") {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(c)
	}
	return b.String()
}
