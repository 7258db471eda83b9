package javaregex

import (
	"fmt"
	"strconv"
	"strings"
)

// re2Compatible reports whether RE2 can match n with exactly Java's
// semantics once it is emitted by emitter (which spells out every class
// explicitly). tail tells whether nothing follows n in the pattern, in which
// case every end anchor is equivalent to \z under matches().
func re2Compatible(n *node, tail bool) bool {
	switch n.op {
	case opLook, opAtomic, opBackref:
		return false
	case opRepeat:
		return n.mode != possessive && re2Compatible(n.subs[0], false)
	case opAssert:
		return n.anchor == aBegin || n.anchor == aEnd || tail && n.anchor.endAnchor()
	case opLinebreak:
		return !n.atomic
	case opConcat:
		for i, c := range n.subs {
			if !re2Compatible(c, tail && i == len(n.subs)-1) {
				return false
			}
		}
	case opAlt, opCapture:
		for _, c := range n.subs {
			if !re2Compatible(c, tail) {
				return false
			}
		}
	}
	return true
}

// emitter renders the tree in RE2 syntax (re2 true) or in the .NET syntax
// of regexp2. Both renderings avoid every construct whose meaning differs
// between the engines: classes are explicit code point ranges, there is no
// '.', no case-insensitivity flag and no '^'/'$'.
type emitter struct {
	sb      strings.Builder
	re2     bool
	ngroups int
}

func emitPattern(root *node, ngroups int, re2 bool) string {
	e := &emitter{re2: re2, ngroups: ngroups}
	e.sb.WriteString(`\A(?:`)
	e.emit(root, true)
	e.sb.WriteString(`)\z`)
	return e.sb.String()
}

func (e *emitter) emit(n *node, tail bool) {
	w := &e.sb
	switch n.op {
	case opEmpty:
		w.WriteString("(?:)")
	case opSet:
		e.emitSet(n.set)
	case opConcat:
		for i, c := range n.subs {
			e.emit(c, tail && i == len(n.subs)-1)
		}
	case opAlt:
		w.WriteString("(?:")
		for i, c := range n.subs {
			if i > 0 {
				w.WriteByte('|')
			}
			e.emit(c, tail)
		}
		w.WriteByte(')')
	case opRepeat:
		if n.mode == possessive {
			// Java's possessive Curly also takes the first way each
			// iteration matches, without backtracking into it.
			w.WriteString("(?>(?>")
		} else {
			w.WriteString("(?:")
		}
		e.emit(n.subs[0], false)
		w.WriteByte(')')
		w.WriteString(quantifier(n.min, n.max))
		if n.mode == lazy {
			w.WriteByte('?')
		}
		if n.mode == possessive {
			w.WriteByte(')')
		}
	case opCapture:
		w.WriteByte('(')
		e.emit(n.subs[0], tail)
		w.WriteByte(')')
	case opLook:
		w.WriteString([...]string{"(?=", "(?!", "(?<=", "(?<!"}[n.look])
		e.emit(n.subs[0], false)
		w.WriteByte(')')
	case opAtomic:
		w.WriteString("(?>")
		e.emit(n.subs[0], false)
		w.WriteByte(')')
	case opBackref:
		if n.index > e.ngroups {
			// Java compiles a reference to a missing group; it never matches.
			e.emitFail()
			return
		}
		w.WriteString(`\k<` + strconv.Itoa(n.index) + `>`)
	case opAssert:
		e.emitAnchor(n.anchor, tail)
	case opLinebreak:
		if n.atomic {
			w.WriteString("(?>")
		} else {
			w.WriteString("(?:")
		}
		e.emitRune('\r')
		e.emitRune('\n')
		w.WriteByte('|')
		e.emitSet(vertSet)
		w.WriteByte(')')
	case opFail:
		e.emitFail()
	}
}

func quantifier(lo, hi int) string {
	switch {
	case lo == 0 && hi < 0:
		return "*"
	case lo == 1 && hi < 0:
		return "+"
	case lo == 0 && hi == 1:
		return "?"
	case hi < 0:
		return fmt.Sprintf("{%d,}", lo)
	case lo == hi:
		return fmt.Sprintf("{%d}", lo)
	}
	return fmt.Sprintf("{%d,%d}", lo, hi)
}

func (e *emitter) emitFail() {
	if e.re2 {
		e.sb.WriteString(`[^\x{0}-\x{10FFFF}]`)
	} else {
		e.sb.WriteString(`(?!)`)
	}
}

// Java's anchors, spelled with lookarounds for regexp2 (see Pattern.Dollar,
// UnixDollar, Caret and UnixCaret).
var anchorText = [...]string{
	aBegin:       `\A`,
	aEnd:         `\z`,
	aDollar:      `(?=(?:\r\n|(?<!\r)\n|[\r\u0085\u2028\u2029])?\z)`,
	aDollarM:     `(?=\z|(?<!\r)\n|[\r\u0085\u2028\u2029])`,
	aUnixDollar:  `(?=\n?\z)`,
	aUnixDollarM: `(?=\n|\z)`,
	aCaretM:      `(?!\z)(?:\A|(?<=[\n\u0085\u2028\u2029])|(?<=\r)(?!\n))`,
	aUnixCaretM:  `(?!\z)(?:\A|(?<=\n))`,
}

func (e *emitter) emitAnchor(a anchorKind, tail bool) {
	if tail && a.endAnchor() {
		e.sb.WriteString(`\z`)
		return
	}
	if e.re2 && a != aBegin && a != aEnd {
		panic("javaregex: anchor not representable in RE2") // guarded by re2Compatible
	}
	e.sb.WriteString(anchorText[a])
}

func (e *emitter) emitSet(s charSet) {
	switch {
	case len(s) == 0:
		e.emitFail()
	case len(s) == 1 && s[0].lo == s[0].hi:
		e.emitRune(s[0].lo)
	default:
		e.sb.WriteByte('[')
		for _, r := range s {
			e.emitRune(r.lo)
			if r.hi != r.lo {
				e.sb.WriteByte('-')
				e.emitRune(r.hi)
			}
		}
		e.sb.WriteByte(']')
	}
}

func (e *emitter) emitRune(r rune) {
	switch {
	case asciiIsAlnum(r) || r == '_':
		e.sb.WriteRune(r)
	case e.re2:
		fmt.Fprintf(&e.sb, `\x{%X}`, r)
	case r <= 0xFFFF:
		fmt.Fprintf(&e.sb, `\u%04X`, r)
	default:
		e.sb.WriteRune(r) // regexp2 works on code points; these are never special
	}
}
