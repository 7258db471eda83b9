package sqlgen

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokKind classifies a token of a SQL expression.
type tokKind uint8

const (
	tokEOF         tokKind = iota
	tokIdent               // bare identifier or keyword; val is lower-cased
	tokQuotedIdent         // "delimited identifier"; val is the name
	tokString              // 'string literal'; val is the value
	tokNumber              // 123, 1.5, .5, 1e10
	tokOp                  // operator or punctuation
	tokPlaceholder         // {{user.x}} or {{column}}; val is the trimmed name
)

func (k tokKind) String() string {
	return [...]string{"end", "identifier", "quoted identifier", "string", "number", "operator", "placeholder"}[k]
}

// token is one lexical token. text is the exact source text; pos its byte
// offset.
type token struct {
	kind tokKind
	text string
	val  string
	pos  int
}

// maxExprLen bounds the SQL of a template or custom mask.
const maxExprLen = 1 << 16

// tokenize splits a Trino SQL expression into tokens. It rejects everything
// that could end or escape an expression: statement separators, comments,
// unterminated quotes, parameters, backquotes, lambda arrows and any
// character outside the expression grammar. Placeholders ({{...}}) are
// single tokens.
func tokenize(s string) ([]token, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrInvalidExpression)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return nil, fmt.Errorf("%w: contains NUL", ErrInvalidExpression)
	}
	toks := make([]token, 0, len(s)/3+1)
	i := 0
	for i < len(s) {
		c := s[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
			continue
		case c == '-' && i+1 < len(s) && s[i+1] == '-', c == '/' && i+1 < len(s) && s[i+1] == '*':
			return nil, errAt(s, i, "comments are not allowed")
		case c == ';':
			return nil, errAt(s, i, "semicolons are not allowed")
		case c == '\'':
			val, n, err := unquote(s[i:], '\'', "string")
			if err != nil {
				return nil, errAt(s, i, strings.TrimPrefix(err.Error(), ErrInvalidName.Error()+": "))
			}
			i += n
			toks = append(toks, token{kind: tokString, text: s[start:i], val: val, pos: start})
		case c == '"':
			val, n, err := unquoteIdent(s[i:])
			if err != nil {
				return nil, errAt(s, i, strings.TrimPrefix(err.Error(), ErrInvalidName.Error()+": "))
			}
			i += n
			toks = append(toks, token{kind: tokQuotedIdent, text: s[start:i], val: val, pos: start})
		case c == '{':
			if i+1 >= len(s) || s[i+1] != '{' {
				return nil, errAt(s, i, "unexpected '{'")
			}
			end := strings.Index(s[i+2:], "}}")
			if end < 0 {
				return nil, errAt(s, i, "unterminated placeholder")
			}
			name := strings.TrimSpace(s[i+2 : i+2+end])
			if !validPlaceholder(name) {
				return nil, errAt(s, i, fmt.Sprintf("invalid placeholder {{%s}}", name))
			}
			i += end + 4
			toks = append(toks, token{kind: tokPlaceholder, text: s[start:i], val: name, pos: start})
		case isIdentByte(c, false):
			for i < len(s) && isIdentByte(s[i], true) {
				i++
			}
			if i < len(s) && s[i] >= utf8.RuneSelf {
				return nil, errAt(s, i, "identifiers with non-ASCII letters must be quoted")
			}
			toks = append(toks, token{kind: tokIdent, text: s[start:i], val: strings.ToLower(s[start:i]), pos: start})
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			n, err := scanNumber(s[i:])
			if err != nil {
				return nil, errAt(s, i, err.Error())
			}
			i += n
			toks = append(toks, token{kind: tokNumber, text: s[start:i], val: s[start:i], pos: start})
		default:
			op := scanOp(s[i:])
			if op == "" {
				r, _ := utf8.DecodeRuneInString(s[i:])
				return nil, errAt(s, i, fmt.Sprintf("unexpected character %q", r))
			}
			if op == "->" {
				return nil, errAt(s, i, "lambda expressions are not allowed")
			}
			i += len(op)
			toks = append(toks, token{kind: tokOp, text: op, val: op, pos: start})
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(s)}), nil
}

func errAt(s string, pos int, msg string) error {
	return fmt.Errorf("%w: %s at offset %d of %q", ErrInvalidExpression, msg, pos, truncate(s, 200))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// scanNumber reads digits [. digits] [e [+-] digits]. A number directly
// followed by a letter (0x1F, 1abc, 1_000) is refused rather than guessed.
func scanNumber(s string) (int, error) {
	i := 0
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return 0, fmt.Errorf("malformed number")
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, fmt.Errorf("malformed exponent")
		}
	}
	if i < len(s) && (isIdentByte(s[i], true) || s[i] == '.' || s[i] >= utf8.RuneSelf) {
		return 0, fmt.Errorf("malformed number")
	}
	return i, nil
}

// ops lists the operators and punctuation of the expression grammar, longest
// first.
var ops = []string{"<>", "!=", "<=", ">=", "||", "->", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", "[", "]", "."}

func scanOp(s string) string {
	for _, op := range ops {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}

// validPlaceholder accepts column, user.name, user.groups and user.<attr>
// where attr is [A-Za-z_][A-Za-z0-9_-]*.
func validPlaceholder(name string) bool {
	if name == "column" {
		return true
	}
	attr, ok := strings.CutPrefix(name, "user.")
	if !ok || attr == "" || !isIdentByte(attr[0], false) {
		return false
	}
	for i := 1; i < len(attr); i++ {
		if !isIdentByte(attr[i], true) && attr[i] != '-' {
			return false
		}
	}
	return true
}
