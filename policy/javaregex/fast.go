package javaregex

import (
	"strings"
	"unicode/utf8"
)

type fastKind uint8

const (
	fastNone       fastKind = iota
	fastLiteral             // lits[0]
	fastLiteralSet          // any of lits
	fastAffix               // pre, then a dot repetition, then suf
)

type dotKind uint8

const (
	dotJava dotKind = iota // any code point but \n \r U+0085 U+2028 U+2029
	dotUnix                // any code point but \n
	dotAll                 // any code point
)

// literal is a string the input must equal. With fold set, the ASCII
// letters of s are stored in lower case and match either case, which is
// exactly Java's case-insensitive matching without UNICODE_CASE.
type literal struct {
	s    string
	fold bool
}

func (l *literal) equal(s string) bool {
	if !l.fold {
		return s == l.s
	}
	if len(s) != len(l.s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c, p := s[i], l.s[i]; c != p && !(p >= 'a' && p <= 'z' && c == p-0x20) {
			return false
		}
	}
	return true
}

// fastPath is a matcher for the most common rule shapes that needs no regex
// engine and does not allocate.
type fastPath struct {
	kind     fastKind
	lits     []literal
	pre, suf literal
	dot      dotKind
	minMid   int // 0 for ".*", 1 for ".+"
}

func (f *fastPath) matchAffix(s string) bool {
	np, ns := len(f.pre.s), len(f.suf.s)
	if len(s) < np+ns+f.minMid || !f.pre.equal(s[:np]) || !f.suf.equal(s[len(s)-ns:]) {
		return false
	}
	mid := s[np : len(s)-ns]
	switch f.dot {
	case dotAll:
		return true
	case dotUnix:
		return strings.IndexByte(mid, '\n') < 0
	}
	return !hasLineTerminator(mid)
}

// hasLineTerminator reports whether s contains \n, \r, U+0085, U+2028 or
// U+2029 (the UTF-8 sequences C2 85, E2 80 A8 and E2 80 A9).
func hasLineTerminator(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > '\r' && c < 0xC2 {
			continue // the common case: printable ASCII
		}
		switch c {
		case '\n', '\r':
			return true
		case 0xC2:
			if i+1 < len(s) && s[i+1] == 0x85 {
				return true
			}
		case 0xE2:
			if i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9) {
				return true
			}
		}
	}
	return false
}

// analyze recognises patterns that are a literal, an alternation of
// literals, or literal + ".*" (or ".+") + literal, ignoring capturing groups
// and leading/trailing anchors that are no-ops under matches().
func analyze(root *node) fastPath {
	items := trimAnchors(flatten(root, nil))
	if len(items) == 1 && items[0].op == opAlt {
		alt := items[0]
		lits := make([]literal, 0, len(alt.subs))
		for _, b := range alt.subs {
			lit, ok := literalOf(trimAnchors(flatten(b, nil)))
			if !ok {
				return fastPath{}
			}
			lits = append(lits, lit)
		}
		return fastPath{kind: fastLiteralSet, lits: lits}
	}
	star := -1
	for i, it := range items {
		if _, ok := dotRepeat(it); ok {
			if star >= 0 {
				return fastPath{}
			}
			star = i
		}
	}
	if star < 0 {
		if lit, ok := literalOf(items); ok {
			return fastPath{kind: fastLiteral, lits: []literal{lit}}
		}
		return fastPath{}
	}
	pre, ok1 := literalOf(items[:star])
	suf, ok2 := literalOf(items[star+1:])
	if !ok1 || !ok2 {
		return fastPath{}
	}
	dot, _ := dotRepeat(items[star])
	return fastPath{kind: fastAffix, pre: pre, suf: suf, dot: dot, minMid: items[star].min}
}

// flatten lists the items of a concatenation, looking through capturing
// groups (which do not affect whether a string matches).
func flatten(n *node, out []*node) []*node {
	switch n.op {
	case opEmpty:
	case opConcat:
		for _, c := range n.subs {
			out = flatten(c, out)
		}
	case opCapture:
		out = flatten(n.subs[0], out)
	default:
		out = append(out, n)
	}
	return out
}

// trimAnchors drops leading \A-like and trailing \z-like anchors, which
// always hold there for a whole-string match.
func trimAnchors(items []*node) []*node {
	for len(items) > 0 && items[0].op == opAssert && items[0].anchor == aBegin {
		items = items[1:]
	}
	for len(items) > 0 && items[len(items)-1].op == opAssert && items[len(items)-1].anchor.endAnchor() {
		items = items[:len(items)-1]
	}
	return items
}

func dotRepeat(n *node) (dotKind, bool) {
	if n.op != opRepeat || n.mode == possessive || n.max >= 0 || n.min > 1 || n.subs[0].op != opSet {
		return 0, false
	}
	// Surrogates cannot occur in valid UTF-8, so they do not matter here.
	switch s := n.subs[0].set.withoutSurrogates(); {
	case s.equal(fullSet().withoutSurrogates()):
		return dotAll, true
	case s.equal(javaDot.withoutSurrogates()):
		return dotJava, true
	case s.equal(unixDot.withoutSurrogates()):
		return dotUnix, true
	}
	return 0, false
}

func literalOf(items []*node) (literal, bool) {
	var b strings.Builder
	fold, exactLetter := false, false
	for _, it := range items {
		if it.op != opSet {
			return literal{}, false
		}
		s := it.set
		switch {
		case len(s) == 1 && s[0].lo == s[0].hi:
			r := s[0].lo
			if !utf8.ValidRune(r) {
				return literal{}, false
			}
			exactLetter = exactLetter || asciiIsAlpha(r)
			b.WriteRune(r)
		case len(s) == 2 && s[0].lo == s[0].hi && s[1].lo == s[1].hi &&
			asciiIsUpper(s[0].lo) && s[1].lo == s[0].lo+0x20:
			fold = true
			b.WriteRune(s[1].lo)
		default:
			return literal{}, false
		}
	}
	if fold && exactLetter {
		return literal{}, false
	}
	return literal{s: b.String(), fold: fold}, true
}
