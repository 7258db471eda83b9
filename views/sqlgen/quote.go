package sqlgen

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// checkText rejects text that no Trino quoting can carry safely: NUL, which
// Trino's lexer and many clients truncate at, and invalid UTF-8, which
// different layers would decode differently.
func checkText(what, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%w: %s contains NUL", ErrInvalidName, what)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidName, what)
	}
	return nil
}

// QuoteIdent returns name as a Trino delimited identifier: in double quotes,
// with each double quote doubled ("a""b"). It refuses an empty name, NUL and
// invalid UTF-8. Trino resolves identifiers case-insensitively, quoted or
// not, so quoting never changes which object a name refers to.
func QuoteIdent(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty identifier", ErrInvalidName)
	}
	if err := checkText("identifier", name); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(name) + 2)
	appendQuoted(&b, name, '"')
	return b.String(), nil
}

// QuoteString returns s as a Trino string literal: in single quotes, with
// each single quote doubled, so that it's becomes
//
//	'it''s'
//
// Backslashes, newlines and every other character stand for themselves in
// a Trino literal. It refuses NUL and invalid UTF-8.
func QuoteString(s string) (string, error) {
	if err := checkText("string literal", s); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	appendQuoted(&b, s, '\'')
	return b.String(), nil
}

// appendQuoted writes s between q quotes, doubling each q inside.
func appendQuoted(b *strings.Builder, s string, q byte) {
	b.WriteByte(q)
	for {
		i := strings.IndexByte(s, q)
		if i < 0 {
			break
		}
		b.WriteString(s[:i+1])
		b.WriteByte(q)
		s = s[i+1:]
	}
	b.WriteString(s)
	b.WriteByte(q)
}

// mustQuoteString quotes text the package wrote itself.
func mustQuoteString(s string) string {
	q, err := QuoteString(s)
	if err != nil {
		panic(err)
	}
	return q
}

// unquoteIdent reads a delimited identifier at the start of s and returns
// its name and the number of bytes it spans.
func unquoteIdent(s string) (string, int, error) {
	return unquote(s, '"', "identifier")
}

// unquote reads a literal delimited by q at the start of s, undoubling q.
func unquote(s string, q byte, what string) (string, int, error) {
	if s == "" || s[0] != q {
		return "", 0, fmt.Errorf("%w: expected a quoted %s", ErrInvalidName, what)
	}
	var b strings.Builder
	i := 1
	for {
		j := strings.IndexByte(s[i:], q)
		if j < 0 {
			return "", 0, fmt.Errorf("%w: unterminated quoted %s", ErrInvalidName, what)
		}
		b.WriteString(s[i : i+j])
		i += j + 1
		if i < len(s) && s[i] == q {
			b.WriteByte(q)
			i++
			continue
		}
		break
	}
	name := b.String()
	if err := checkText(what, name); err != nil {
		return "", 0, err
	}
	if q == '"' && name == "" {
		return "", 0, fmt.Errorf("%w: empty identifier", ErrInvalidName)
	}
	return name, i, nil
}

// QualifiedName names a table or view: catalog.schema.name.
type QualifiedName struct {
	Catalog string `json:"catalog"`
	Schema  string `json:"schema"`
	Name    string `json:"name"`
}

// Quoted returns the name with each part a delimited identifier:
// "catalog"."schema"."name".
func (q QualifiedName) Quoted() (string, error) {
	var b strings.Builder
	for i, part := range [3]string{q.Catalog, q.Schema, q.Name} {
		if i > 0 {
			b.WriteByte('.')
		}
		s, err := QuoteIdent(part)
		if err != nil {
			return "", fmt.Errorf("qualified name part %d: %w", i+1, err)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// String returns the quoted form, or the parts joined by dots when a part
// cannot be quoted (for messages only).
func (q QualifiedName) String() string {
	if s, err := q.Quoted(); err == nil {
		return s
	}
	return q.Catalog + "." + q.Schema + "." + q.Name
}

// ParseQualifiedName parses catalog.schema.name, where each part is a bare
// identifier (lower-cased, as Trino does) or a delimited one ("My ""T""").
func ParseQualifiedName(s string) (QualifiedName, error) {
	var parts []string
	rest := s
	for {
		rest = strings.TrimLeft(rest, " \t")
		var part string
		switch {
		case strings.HasPrefix(rest, `"`):
			name, n, err := unquoteIdent(rest)
			if err != nil {
				return QualifiedName{}, fmt.Errorf("qualified name %q: %w", s, err)
			}
			part, rest = name, rest[n:]
		default:
			n := 0
			for n < len(rest) && isIdentByte(rest[n], n > 0) {
				n++
			}
			if n == 0 {
				return QualifiedName{}, fmt.Errorf("%w: qualified name %q: expected an identifier", ErrInvalidName, s)
			}
			part, rest = strings.ToLower(rest[:n]), rest[n:]
		}
		parts = append(parts, part)
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		if rest[0] != '.' || len(parts) == 3 {
			return QualifiedName{}, fmt.Errorf("%w: qualified name %q: unexpected %q", ErrInvalidName, s, rest)
		}
		rest = rest[1:]
	}
	if len(parts) != 3 {
		return QualifiedName{}, fmt.Errorf("%w: qualified name %q must have catalog, schema and name", ErrInvalidName, s)
	}
	return QualifiedName{Catalog: parts[0], Schema: parts[1], Name: parts[2]}, nil
}
