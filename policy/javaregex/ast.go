package javaregex

import (
	"fmt"
	"strconv"
)

// op is the kind of a node of the parsed pattern.
type op uint8

const (
	opEmpty     op = iota // matches the empty string
	opSet                 // one code point from set
	opConcat              // subs in sequence
	opAlt                 // subs as prioritized alternatives
	opRepeat              // subs[0] repeated min..max times (max < 0: unbounded)
	opCapture             // capturing group number index around subs[0]
	opLook                // lookaround (look) around subs[0]
	opAtomic              // independent group (?>...) around subs[0]
	opBackref             // back reference to group index
	opAssert              // zero-width anchor (anchor)
	opLinebreak           // \R; atomic when directly quantified (see parser)
	opFail                // never matches
)

// qmode is a quantifier's flavour.
type qmode uint8

const (
	greedy qmode = iota
	lazy
	possessive
)

// lookKind distinguishes the four lookaround forms.
type lookKind uint8

const (
	lookAhead lookKind = iota
	lookAheadNeg
	lookBehind
	lookBehindNeg
)

func (k lookKind) behind() bool { return k == lookBehind || k == lookBehindNeg }

// anchorKind lists Java's zero-width anchors that the translator supports.
type anchorKind uint8

const (
	aBegin       anchorKind = iota // ^ without MULTILINE, \A, \G (fresh matcher)
	aEnd                           // \z
	aDollar                        // $ without MULTILINE, \Z
	aDollarM                       // $ with MULTILINE
	aUnixDollar                    // $ or \Z with UNIX_LINES
	aUnixDollarM                   // $ with UNIX_LINES and MULTILINE
	aCaretM                        // ^ with MULTILINE
	aUnixCaretM                    // ^ with MULTILINE and UNIX_LINES
)

// endAnchor reports whether a behaves exactly like \z when nothing that can
// consume input follows it in a whole-string match.
func (a anchorKind) endAnchor() bool {
	return a == aEnd || a == aDollar || a == aDollarM || a == aUnixDollar || a == aUnixDollarM
}

type node struct {
	op     op
	set    charSet
	subs   []*node
	min    int
	max    int
	mode   qmode
	index  int
	look   lookKind
	anchor anchorKind
	atomic bool // opLinebreak: each match is final (Java's Curly over \R)
	group  bool // opRepeat: quantifies a parenthesized group
	ques   bool // opRepeat: written as '?' (Java's Ques rather than Curly)
}

var emptyNode = &node{op: opEmpty}

func setNode(s charSet) *node { return &node{op: opSet, set: s} }

func concatNodes(items []*node) *node {
	var flat []*node
	for _, it := range items {
		switch it.op {
		case opEmpty:
		case opConcat:
			flat = append(flat, it.subs...)
		default:
			flat = append(flat, it)
		}
	}
	switch len(flat) {
	case 0:
		return emptyNode
	case 1:
		return flat[0]
	}
	return &node{op: opConcat, subs: flat}
}

// String renders a debugging form of the tree.
func (n *node) String() string {
	switch n.op {
	case opEmpty:
		return "empty"
	case opSet:
		return fmt.Sprintf("set%v", []runeRange(n.set))
	case opConcat, opAlt:
		name := "cat"
		if n.op == opAlt {
			name = "alt"
		}
		s := name + "{"
		for i, c := range n.subs {
			if i > 0 {
				s += " "
			}
			s += c.String()
		}
		return s + "}"
	case opRepeat:
		return fmt.Sprintf("rep{%d,%d,%d %v}", n.min, n.max, n.mode, n.subs[0])
	case opCapture:
		return "cap" + strconv.Itoa(n.index) + "{" + n.subs[0].String() + "}"
	case opLook:
		return fmt.Sprintf("look%d{%v}", n.look, n.subs[0])
	case opAtomic:
		return "atomic{" + n.subs[0].String() + "}"
	case opBackref:
		return "ref" + strconv.Itoa(n.index)
	case opAssert:
		return "assert" + strconv.Itoa(int(n.anchor))
	case opLinebreak:
		return "linebreak"
	}
	return "fail"
}

// maxLen returns the maximum number of code points n can match and whether
// that maximum is bounded.
func maxLen(n *node) (int, bool) {
	const limit = 1 << 30
	switch n.op {
	case opSet:
		return 1, true
	case opLinebreak:
		return 2, true
	case opConcat:
		total := 0
		for _, c := range n.subs {
			m, ok := maxLen(c)
			if !ok {
				return 0, false
			}
			total += m
			if total > limit {
				return 0, false
			}
		}
		return total, true
	case opAlt:
		best := 0
		for _, c := range n.subs {
			m, ok := maxLen(c)
			if !ok {
				return 0, false
			}
			best = max(best, m)
		}
		return best, true
	case opRepeat:
		m, ok := maxLen(n.subs[0])
		if !ok {
			return 0, false
		}
		if m == 0 {
			return 0, true
		}
		if n.max < 0 || n.max > limit/m {
			return 0, false
		}
		return m * n.max, true
	case opCapture, opAtomic:
		return maxLen(n.subs[0])
	case opBackref:
		return 0, false
	}
	return 0, true // empty, lookaround, anchors, fail
}

// walk calls f for n and every node below it, stopping early when f returns false.
func walk(n *node, f func(*node) bool) bool {
	if !f(n) {
		return false
	}
	for _, c := range n.subs {
		if !walk(c, f) {
			return false
		}
	}
	return true
}

// deterministic is a conservative version of Java's TreeInfo.deterministic:
// n has a single way to match.
func deterministic(n *node) bool {
	return walk(n, func(m *node) bool {
		switch m.op {
		case opAlt, opBackref, opLinebreak:
			return false
		case opRepeat:
			return m.min == m.max && !m.ques
		}
		return true
	})
}

// nullable reports whether n can match the empty string.
func nullable(n *node) bool {
	switch n.op {
	case opSet, opLinebreak, opFail:
		return false
	case opConcat:
		for _, c := range n.subs {
			if !nullable(c) {
				return false
			}
		}
		return true
	case opAlt:
		for _, c := range n.subs {
			if nullable(c) {
				return true
			}
		}
		return false
	case opRepeat:
		return n.min == 0 || nullable(n.subs[0])
	case opCapture, opAtomic:
		return nullable(n.subs[0])
	}
	return true // empty, lookaround, anchors, back references
}

// unreliableGroups marks the capturing groups whose value after matches()
// Java computes in ways neither engine reproduces: groups inside a
// repetition that can iterate more than once and whose body can match the
// empty string, and groups inside lookarounds, atomic groups and possessive
// repetitions (Java keeps what they captured even when the alternative they
// belong to fails later).
func unreliableGroups(root *node, ngroups int) []bool {
	out := make([]bool, ngroups+1)
	walk(root, func(m *node) bool {
		if m.op == opLook || m.op == opAtomic || m.op == opRepeat && m.mode == possessive ||
			m.op == opRepeat && m.max != 0 && m.max != 1 && nullable(m.subs[0]) {
			walk(m.subs[0], func(c *node) bool {
				if c.op == opCapture {
					out[c.index] = true
				}
				return true
			})
		}
		return true
	})
	return out
}
