package javaregex

import "fmt"

// Inline flags (the subset of java.util.regex.Pattern flags that can be
// switched on with (?idmsux)).
const (
	flagUnixLines = 1 << iota
	flagCaseInsensitive
	flagComments
	flagMultiline
	flagDotall
	flagUnicodeCase
)

const (
	maxNesting = 250        // groups and classes nested deeper than this are rejected
	maxReps    = 0x7FFFFFFF // Java's MAX_REPS: an "unbounded" repetition
)

// Error is returned by Compile. Unsupported is true when the pattern is
// valid Java (or may be) but uses a construct this package cannot match
// with exactly Java's semantics.
type Error struct {
	Pattern     string
	Desc        string
	Index       int
	Unsupported bool
}

func (e *Error) Error() string {
	if e.Unsupported {
		return fmt.Sprintf("unsupported Java regular expression %q: %s", e.Pattern, e.Desc)
	}
	if e.Index >= 0 {
		return fmt.Sprintf("invalid Java regular expression %q: %s near index %d", e.Pattern, e.Desc, e.Index)
	}
	return fmt.Sprintf("invalid Java regular expression %q: %s", e.Pattern, e.Desc)
}

// parser is a port of the recursive-descent parser of
// java.util.regex.Pattern. It keeps Java's cursor discipline (peek, next,
// read, skip, unread over a code point array terminated by two zeros) so
// that quirks such as comments mode, dangling '{' and the precedence rules of
// character classes behave as in Java, but instead of matcher nodes it builds
// the small tree defined in ast.go.
type parser struct {
	pattern string
	temp    []rune
	n       int // pattern length in code points, after \Q...\E removal
	cursor  int
	flags   int
	ngroups int
	names   map[string]int
	depth   int
}

type parseResult struct {
	root    *node
	ngroups int
	names   map[string]int
}

func parse(pattern string) (res parseResult, err error) {
	p := &parser{pattern: pattern, names: map[string]int{}}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			err = e
		}
	}()
	rs := removeQEQuoting([]rune(pattern))
	p.n = len(rs)
	p.temp = append(rs, 0, 0)
	root := p.expr()
	if p.n != p.cursor {
		if p.peek() == ')' {
			p.fail("Unmatched closing ')'")
		}
		p.fail("Unexpected internal error")
	}
	return parseResult{root: root, ngroups: p.ngroups, names: p.names}, nil
}

func (p *parser) fail(desc string) {
	panic(&Error{Pattern: p.pattern, Desc: desc, Index: p.cursor - 1})
}

func (p *parser) unsupported(desc string) {
	panic(&Error{Pattern: p.pattern, Desc: desc, Index: -1, Unsupported: true})
}

// expr parses alternatives up to an unmatched ')' or the end.
func (p *parser) expr() *node {
	var branches []*node
	for {
		branches = append(branches, p.sequence())
		if p.peek() != '|' {
			break
		}
		p.next()
	}
	if len(branches) == 1 {
		return branches[0]
	}
	return &node{op: opAlt, subs: branches}
}

// sequence parses one alternative.
func (p *parser) sequence() *node {
	var items []*node
loop:
	for {
		ch := p.peek()
		var n *node
		switch ch {
		case '(':
			if g := p.group0(); g != nil {
				items = append(items, g)
			}
			continue
		case '[':
			n = setNode(p.clazzTop())
		case '\\':
			ch = p.nextEscaped()
			if ch == 'p' || ch == 'P' {
				oneLetter := true
				comp := ch == 'P'
				if p.next() != '{' {
					p.unread()
				} else {
					oneLetter = false
				}
				n = setNode(p.family(oneLetter, comp).eval().withoutSurrogates())
			} else {
				p.unread()
				n = p.atom()
			}
		case '^':
			p.next()
			a := aBegin
			if p.has(flagMultiline) {
				a = aCaretM
				if p.has(flagUnixLines) {
					a = aUnixCaretM
				}
			}
			n = &node{op: opAssert, anchor: a}
		case '$':
			p.next()
			n = &node{op: opAssert, anchor: p.dollar(p.has(flagMultiline))}
		case '.':
			p.next()
			switch {
			case p.has(flagDotall):
				n = setNode(fullSet())
			case p.has(flagUnixLines):
				n = setNode(unixDot)
			default:
				n = setNode(javaDot)
			}
		case '|', ')':
			break loop
		case ']', '}':
			n = p.atom()
		case '?', '*', '+':
			p.next()
			p.fail("Dangling meta character '" + string(ch) + "'")
		case 0:
			if p.cursor >= p.n {
				break loop
			}
			n = p.atom()
		default:
			n = p.atom()
		}
		items = append(items, p.closure(n, false))
	}
	return concatNodes(items)
}

func (p *parser) dollar(multiline bool) anchorKind {
	switch {
	case p.has(flagUnixLines) && multiline:
		return aUnixDollarM
	case p.has(flagUnixLines):
		return aUnixDollar
	case multiline:
		return aDollarM
	}
	return aDollar
}

// group0 parses a group, including its quantifier. It returns nil for a
// pure flag group such as (?i).
func (p *parser) group0() *node {
	p.enter()
	defer func() { p.depth-- }()
	save := p.flags
	var head *node
	ch := p.next()
	if ch == '?' {
		ch = p.skip()
		switch ch {
		case ':':
			head = p.expr()
		case '=', '!':
			kind := lookAhead
			if ch == '!' {
				kind = lookAheadNeg
			}
			head = &node{op: opLook, look: kind, subs: []*node{p.expr()}}
		case '>':
			head = &node{op: opAtomic, subs: []*node{p.expr()}}
		case '<':
			ch = p.read()
			if ch != '=' && ch != '!' {
				name := p.groupname(ch)
				if _, dup := p.names[name]; dup {
					p.fail("Named capturing group <" + name + "> is already defined")
				}
				p.ngroups++
				idx := p.ngroups
				p.names[name] = idx
				head = &node{op: opCapture, index: idx, subs: []*node{p.expr()}}
				break
			}
			body := p.expr()
			p.checkLookbehind(body)
			kind := lookBehind
			if ch == '!' {
				kind = lookBehindNeg
			}
			head = &node{op: opLook, look: kind, subs: []*node{body}}
		case '$', '@':
			p.fail("Unknown group type")
		default:
			p.unread()
			p.addFlag()
			ch = p.read()
			if ch == ')' {
				return nil // inline modifier only; flags stay changed
			}
			if ch != ':' {
				p.fail("Unknown inline modifier")
			}
			head = p.expr()
		}
	} else {
		p.ngroups++
		idx := p.ngroups
		head = &node{op: opCapture, index: idx, subs: []*node{p.expr()}}
	}
	p.accept(')', "Unclosed group")
	p.flags = save
	return p.closure(head, true)
}

func (p *parser) checkLookbehind(body *node) {
	if _, ok := maxLen(body); !ok {
		p.unsupported("look-behind group without an obvious maximum length")
	}
	walk(body, func(n *node) bool {
		switch {
		case n.op == opRepeat && n.group && !n.ques && !deterministic(n.subs[0]):
			// Java's Loop node has no maximum length; Java rejects these.
			p.unsupported("quantified group with a variable body inside a look-behind")
		case n.op == opLook:
			p.unsupported("lookaround nested inside a look-behind")
		case n.op == opAtomic, n.op == opRepeat && n.mode == possessive, n.op == opLinebreak && n.atomic:
			p.unsupported("atomic group or possessive quantifier inside a look-behind")
		case n.op == opAssert && n.anchor != aBegin && n.anchor != aEnd:
			p.unsupported("line anchor inside a look-behind")
		}
		return true
	})
}

func (p *parser) groupname(ch rune) string {
	if !asciiIsAlpha(ch) {
		p.fail("capturing group name does not start with a Latin letter")
	}
	var name []rune
	for {
		name = append(name, ch)
		ch = p.read()
		if !asciiIsAlnum(ch) {
			break
		}
	}
	if ch != '>' {
		p.fail("named capturing group is missing trailing '>'")
	}
	return string(name)
}

func (p *parser) addFlag() {
	ch := p.peek()
	for {
		switch ch {
		case 'i':
			p.flags |= flagCaseInsensitive
		case 'm':
			p.flags |= flagMultiline
		case 's':
			p.flags |= flagDotall
		case 'd':
			p.flags |= flagUnixLines
		case 'u':
			p.flags |= flagUnicodeCase
		case 'x':
			p.flags |= flagComments
		case 'c':
			p.unsupported("the CANON_EQ flag (?c)")
		case 'U':
			p.unsupported("the UNICODE_CHARACTER_CLASS flag (?U)")
		case '-':
			p.next()
			p.subFlag()
			return
		default:
			return
		}
		ch = p.next()
	}
}

func (p *parser) subFlag() {
	ch := p.peek()
	for {
		switch ch {
		case 'i':
			p.flags &^= flagCaseInsensitive
		case 'm':
			p.flags &^= flagMultiline
		case 's':
			p.flags &^= flagDotall
		case 'd':
			p.flags &^= flagUnixLines
		case 'u', 'U':
			p.flags &^= flagUnicodeCase
		case 'x':
			p.flags &^= flagComments
		case 'c':
		default:
			return
		}
		ch = p.next()
	}
}

// closure parses an optional quantifier after prev; group tells whether prev
// is a parenthesized group.
func (p *parser) closure(prev *node, group bool) *node {
	mk := func(lo, hi int, ques bool) *node {
		mode := greedy
		switch p.peek() {
		case '?':
			p.next()
			mode = lazy
		case '+':
			p.next()
			mode = possessive
		}
		if hi == maxReps {
			hi = -1
		}
		if !group && prev.op == opLinebreak {
			// Java's Curly retries only the iteration count, never a shorter
			// \R, so each iteration is atomic.
			prev = &node{op: opLinebreak, atomic: true}
		} else if group {
			// Java compiles quantified groups into Loop/GroupCurly nodes whose
			// interaction with \R's internal backtracking is not modelled.
			walk(prev, func(n *node) bool {
				if n.op == opLinebreak {
					p.unsupported(`\R inside a quantified group`)
				}
				return true
			})
		}
		if m, ok := maxLen(prev); ok && m == 0 && prev.op != opBackref && walk(prev, func(n *node) bool { return n.op != opCapture }) {
			// A zero-width body without captures gives the same result at
			// every iteration: X{0,n} always succeeds and X{n,m} is X.
			if lo == 0 {
				return emptyNode
			}
			return prev
		}
		return &node{op: opRepeat, min: lo, max: hi, mode: mode, subs: []*node{prev}, group: group, ques: ques}
	}
	switch p.peek() {
	case '?':
		p.next()
		return mk(0, 1, true)
	case '*':
		p.next()
		return mk(0, maxReps, false)
	case '+':
		p.next()
		return mk(1, maxReps, false)
	case '{':
		ch := p.at(p.cursor + 1)
		if !asciiIsDigit(ch) {
			p.fail("Illegal repetition")
		}
		p.skip()
		cmin := 0
		for {
			cmin = p.addDigit(cmin, ch)
			if ch = p.read(); !asciiIsDigit(ch) {
				break
			}
		}
		cmax := cmin
		if ch == ',' {
			ch = p.read()
			cmax = maxReps
			if ch != '}' {
				cmax = 0
				for asciiIsDigit(ch) {
					cmax = p.addDigit(cmax, ch)
					ch = p.read()
				}
			}
		}
		if ch != '}' {
			p.fail("Unclosed counted closure")
		}
		if cmax < cmin {
			p.fail("Illegal repetition range")
		}
		return mk(cmin, cmax, false)
	}
	return prev
}

func (p *parser) addDigit(v int, ch rune) int {
	v = v*10 + int(ch-'0')
	if v > maxReps {
		p.fail("Illegal repetition range")
	}
	return v
}

// atom parses a run of literal characters (a Java "slice") or a single
// escape that is not a literal.
func (p *parser) atom() *node {
	var buf []rune
	first := 0
	prev := -1
	ch := p.peek()
loop:
	for {
		switch ch {
		case '*', '+', '?', '{':
			if first > 1 {
				p.cursor = prev // the quantifier applies to the last character only
				first--
			}
			break loop
		case '$', '.', '^', '(', '[', '|', ')':
			break loop
		case '\\':
			ch = p.nextEscaped()
			if ch == 'p' || ch == 'P' {
				if first > 0 {
					p.unread()
					break loop
				}
				comp := ch == 'P'
				oneLetter := true
				if p.next() != '{' {
					p.unread()
				} else {
					oneLetter = false
				}
				return setNode(p.family(oneLetter, comp).eval().withoutSurrogates())
			}
			p.unread()
			prev = p.cursor
			e := p.escape(false, first == 0, false)
			if e.r >= 0 {
				buf = append(buf[:first], e.r)
				first++
				ch = p.peek()
				continue
			}
			if first == 0 {
				return e.node
			}
			p.cursor = prev
			break loop
		case 0:
			if p.cursor >= p.n {
				break loop
			}
			fallthrough
		default:
			prev = p.cursor
			buf = append(buf[:first], ch)
			first++
			ch = p.next()
		}
	}
	buf = buf[:first]
	for _, r := range buf {
		if r >= 0xD800 && r <= 0xDFFF {
			p.unsupported(fmt.Sprintf("unpaired surrogate U+%04X", r))
		}
	}
	if first == 1 {
		return setNode(p.singleSet(buf[0]))
	}
	items := make([]*node, len(buf))
	for i, r := range buf {
		items[i] = setNode(p.sliceSet(r))
	}
	return concatNodes(items)
}

// ref parses the rest of a numbered back reference.
func (p *parser) ref(refNum int) *node {
	for {
		ch := p.peek()
		if !asciiIsDigit(ch) {
			break
		}
		newRef := refNum*10 + int(ch-'0')
		if p.ngroups < newRef {
			break
		}
		refNum = newRef
		p.read()
	}
	return p.backref(refNum)
}

func (p *parser) backref(idx int) *node {
	if p.has(flagCaseInsensitive) {
		p.unsupported("case-insensitive back reference")
	}
	return &node{op: opBackref, index: idx}
}
