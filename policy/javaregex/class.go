package javaregex

import (
	"fmt"
	"strings"
	"unicode"
)

// bitClass mirrors Java's Pattern.BitClass: a mutable set of code points
// below 256 shared by all members of one class level. It is mutable on
// purpose: Java's class parser keeps adding to a BitClass after it has been
// combined into an intersection, and that affects the result.
type bitClass [256]bool

type predKind uint8

const (
	pkSet predKind = iota
	pkBits
	pkUnion
	pkAnd
	pkNot
)

// pred is a lazily evaluated character predicate, the equivalent of Java's
// CharPredicate composition during class parsing.
type pred struct {
	kind predKind
	set  charSet
	bits *bitClass
	a, b *pred
}

func setPred(s charSet) *pred           { return &pred{kind: pkSet, set: s} }
func bitsPred(b *bitClass) *pred        { return &pred{kind: pkBits, bits: b} }
func unionPred(a, b *pred) *pred        { return &pred{kind: pkUnion, a: a, b: b} }
func andPred(a, b *pred) *pred          { return &pred{kind: pkAnd, a: a, b: b} }
func (p *pred) negatePred() *pred       { return &pred{kind: pkNot, a: p} }
func (p *pred) unionWith(q *pred) *pred { return unionPred(p, q) }

func (p *pred) eval() charSet {
	switch p.kind {
	case pkSet:
		return p.set
	case pkBits:
		var s charSet
		for i, ok := range p.bits {
			if ok {
				s = append(s, runeRange{rune(i), rune(i)})
			}
		}
		return s.normalize()
	case pkUnion:
		// Flatten chains of unions so long classes stay linear.
		var leaves charSet
		stack := []*pred{p}
		for len(stack) > 0 {
			q := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if q.kind == pkUnion {
				stack = append(stack, q.a, q.b)
				continue
			}
			leaves = append(leaves, q.eval()...)
		}
		return leaves.normalize()
	case pkAnd:
		return p.a.eval().intersect(p.b.eval())
	}
	return p.a.eval().negate()
}

// clazzTop parses a complete top-level character class.
func (p *parser) clazzTop() charSet {
	return p.clazz(true).eval().withoutSurrogates()
}

// clazz is Java's Pattern.clazz: it parses a class starting at '[' (or, with
// consume false, the right-hand operand of '&&').
func (p *parser) clazz(consume bool) *pred {
	p.enter()
	defer func() { p.depth-- }()
	var prev, curr *pred
	bits := &bitClass{}
	isNeg, hasBits := false, false
	ch := p.next()
	if ch == '^' && p.at(p.cursor-1) == '[' {
		ch = p.next()
		isNeg = true
	}
	for {
		switch ch {
		case '[':
			curr = p.clazz(true)
			if prev == nil {
				prev = curr
			} else {
				prev = prev.unionWith(curr)
			}
			ch = p.peek()
			continue
		case '&':
			ch = p.next()
			if ch != '&' {
				p.unread() // a literal '&'
				break
			}
			ch = p.next()
			var right *pred
			for ch != ']' && ch != '&' {
				var operand *pred
				if ch == '[' {
					operand = p.clazz(true)
				} else {
					p.unread()
					operand = p.clazz(false)
				}
				if right == nil {
					right = operand
				} else {
					right = right.unionWith(operand)
				}
				ch = p.peek()
			}
			if hasBits {
				// Bits used: union has higher precedence.
				if prev == nil {
					prev = bitsPred(bits)
					curr = prev
				} else {
					prev = prev.unionWith(bitsPred(bits))
				}
				hasBits = false
			}
			if right != nil {
				curr = right
			}
			if prev == nil {
				if right == nil {
					p.fail("Bad class syntax")
				}
				prev = right
			} else {
				if curr == nil {
					// Java builds a predicate that throws NullPointerException
					// when evaluated.
					p.unsupported("class intersection with an empty operand")
				}
				prev = andPred(prev, curr)
			}
			continue
		case 0:
			if p.cursor >= p.n {
				p.fail("Unclosed character class")
			}
		case ']':
			if prev != nil || hasBits {
				if consume {
					p.next()
				}
				if prev == nil {
					prev = bitsPred(bits)
				} else if hasBits {
					prev = prev.unionWith(bitsPred(bits))
				}
				if isNeg {
					return prev.negatePred()
				}
				return prev
			}
		}
		curr = p.rangeClass(bits)
		if curr == nil {
			hasBits = true
		} else if prev == nil {
			prev = curr
		} else if prev != curr {
			prev = prev.unionWith(curr)
		}
		ch = p.peek()
	}
}

// rangeClass is Java's Pattern.range: one member of a class. It returns nil
// when the member was added to bits.
func (p *parser) rangeClass(bits *bitClass) *pred {
	ch := p.peek()
	if ch == '\\' {
		ch = p.nextEscaped()
		if ch == 'p' || ch == 'P' {
			comp := ch == 'P'
			oneLetter := true
			if p.next() != '{' {
				p.unread()
			} else {
				oneLetter = false
			}
			return p.family(oneLetter, comp)
		}
		isrange := p.at(p.cursor+1) == '-'
		p.unread()
		e := p.escape(true, true, isrange)
		if e.r < 0 {
			return setPred(e.set)
		}
		ch = e.r
	} else {
		p.next()
	}
	if p.peek() == '-' {
		endRange := p.at(p.cursor + 1)
		if endRange == '[' {
			return p.bitsOrSingle(bits, ch)
		}
		if endRange != ']' {
			p.next()
			m := p.peek()
			if m == '\\' {
				m = p.escape(true, false, true).r
			} else {
				p.next()
			}
			if m < ch {
				p.fail("Illegal character range")
			}
			switch {
			case p.has(flagCaseInsensitive) && p.has(flagUnicodeCase):
				return setPred(ciRangeU(ch, m))
			case p.has(flagCaseInsensitive):
				return setPred(ciRange(ch, m))
			}
			return setPred(span(ch, m))
		}
	}
	return p.bitsOrSingle(bits, ch)
}

func (p *parser) bitsOrSingle(bits *bitClass, ch rune) *pred {
	ciu := p.has(flagCaseInsensitive) && p.has(flagUnicodeCase)
	if ch < 256 && !(ciu && (ch == 0xff || ch == 0xb5 || ch == 'I' || ch == 'i' ||
		ch == 'S' || ch == 's' || ch == 'K' || ch == 'k' || ch == 0xc5 || ch == 0xe5)) {
		if p.has(flagCaseInsensitive) {
			if ch < 0x80 {
				bits[asciiToUpper(ch)] = true
				bits[asciiToLower(ch)] = true
			} else if ciu {
				if l := unicode.ToLower(ch); l < 256 {
					bits[l] = true
				}
				if u := unicode.ToUpper(ch); u < 256 {
					bits[u] = true
				}
			}
		}
		bits[ch] = true
		return nil
	}
	return setPred(p.singleSet(ch))
}

// singleSet is the set Java's single(ch) node matches.
func (p *parser) singleSet(ch rune) charSet {
	if p.has(flagCaseInsensitive) {
		if p.has(flagUnicodeCase) {
			upper := unicode.ToUpper(ch)
			if lower := unicode.ToLower(upper); upper != lower {
				return singleU(lower)
			}
		} else if asciiIsAlpha(ch) {
			return runes(asciiToLower(ch), asciiToUpper(ch))
		}
	}
	return single(ch)
}

// sliceSet is the set one position of a Java multi-character literal (a
// Slice, SliceI or SliceU node) matches.
func (p *parser) sliceSet(ch rune) charSet {
	if p.has(flagCaseInsensitive) {
		if p.has(flagUnicodeCase) {
			return sliceU(ch)
		}
		if l := asciiToLower(ch); asciiIsLower(l) {
			return runes(l, asciiToUpper(l))
		}
	}
	return single(ch)
}

// Predefined classes (ASCII versions; UNICODE_CHARACTER_CLASS is unsupported).
var (
	digitSet = span('0', '9')
	spaceSet = setOf(runeRange{'\t', '\r'}, runeRange{' ', ' '})
	wordSet  = setOf(runeRange{'0', '9'}, runeRange{'A', 'Z'}, runeRange{'_', '_'}, runeRange{'a', 'z'})
	horizSet = setOf(runeRange{'\t', '\t'}, runeRange{' ', ' '}, runeRange{0xa0, 0xa0},
		runeRange{0x1680, 0x1680}, runeRange{0x180e, 0x180e}, runeRange{0x2000, 0x200a},
		runeRange{0x202f, 0x202f}, runeRange{0x205f, 0x205f}, runeRange{0x3000, 0x3000})
	vertSet = setOf(runeRange{'\n', '\r'}, runeRange{0x85, 0x85}, runeRange{0x2028, 0x2029})
)

// escResult is the outcome of an escape: a literal code point (r >= 0), a
// class (set, with node set as well outside classes) or another node.
type escResult struct {
	r    rune
	set  charSet
	node *node
}

// escape is Java's Pattern.escape, called with the cursor on the backslash.
func (p *parser) escape(inclass, create, isrange bool) escResult {
	cls := func(s charSet) escResult {
		e := escResult{r: -1, set: s}
		if !inclass {
			e.node = setNode(s)
		}
		return e
	}
	anchor := func(a anchorKind) escResult {
		return escResult{r: -1, node: &node{op: opAssert, anchor: a}}
	}
	ch := p.skip()
	switch ch {
	case '0':
		return escResult{r: p.octal()}
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if inclass {
			break
		}
		if create {
			return escResult{r: -1, node: p.ref(int(ch - '0'))}
		}
		return escResult{r: -1}
	case 'A', 'G':
		if inclass {
			break
		}
		// \G is the end of the previous match, i.e. the start for the
		// fresh matcher every matches() call uses.
		return anchor(aBegin)
	case 'B', 'b':
		if inclass {
			break
		}
		if create {
			p.unsupported(`word boundaries \b and \B`)
		}
		return escResult{r: -1}
	case 'D':
		return cls(digitSet.negate())
	case 'd':
		return cls(digitSet)
	case 'H':
		return cls(horizSet.negate())
	case 'h':
		return cls(horizSet)
	case 'S':
		return cls(spaceSet.negate())
	case 's':
		return cls(spaceSet)
	case 'V':
		return cls(vertSet.negate())
	case 'v':
		if isrange {
			return escResult{r: 0x0B}
		}
		return cls(vertSet)
	case 'W':
		return cls(wordSet.negate())
	case 'w':
		return cls(wordSet)
	case 'N':
		p.unsupported(`named characters \N{...}`)
	case 'R':
		if inclass {
			break
		}
		return escResult{r: -1, node: &node{op: opLinebreak}}
	case 'X':
		if inclass {
			break
		}
		if create {
			p.unsupported(`grapheme clusters \X`)
		}
		return escResult{r: -1}
	case 'Z':
		if inclass {
			break
		}
		return anchor(p.dollar(false))
	case 'z':
		if inclass {
			break
		}
		return anchor(aEnd)
	case 'a':
		return escResult{r: 0x07}
	case 'c':
		if p.cursor < p.n {
			return escResult{r: p.read() ^ 64}
		}
		p.fail("Illegal control escape sequence")
	case 'e':
		return escResult{r: 0x1B}
	case 'f':
		return escResult{r: 0x0C}
	case 'n':
		return escResult{r: '\n'}
	case 'r':
		return escResult{r: '\r'}
	case 't':
		return escResult{r: '\t'}
	case 'k':
		if inclass {
			break
		}
		if p.read() != '<' {
			p.fail(`\k is not followed by '<' for named capturing group`)
		}
		name := p.groupname(p.read())
		idx, ok := p.names[name]
		if !ok {
			p.fail("named capturing group <" + name + "> does not exist")
		}
		if create {
			return escResult{r: -1, node: p.backref(idx)}
		}
		return escResult{r: -1}
	case 'u':
		return escResult{r: p.unicodeEscape()}
	case 'x':
		return escResult{r: p.hexEscape()}
	default:
		if !asciiIsAlnum(ch) {
			return escResult{r: ch}
		}
	}
	p.fail("Illegal/unsupported escape sequence")
	return escResult{}
}

func isOctal(r rune) bool { return r >= '0' && r <= '7' }

func (p *parser) octal() rune {
	n := p.read()
	if !isOctal(n) {
		p.fail("Illegal octal escape sequence")
	}
	m := p.read()
	if !isOctal(m) {
		p.unread()
		return n - '0'
	}
	o := p.read()
	if isOctal(o) && n <= '3' {
		return (n-'0')*64 + (m-'0')*8 + (o - '0')
	}
	p.unread()
	return (n-'0')*8 + (m - '0')
}

func (p *parser) hexEscape() rune {
	n := p.read()
	if asciiIsHex(n) {
		if m := p.read(); asciiIsHex(m) {
			return hexVal(n)*16 + hexVal(m)
		}
	} else if n == '{' && asciiIsHex(p.peek()) {
		ch := rune(0)
		for {
			n = p.read()
			if !asciiIsHex(n) {
				break
			}
			ch = ch<<4 + hexVal(n)
			if ch > maxRune {
				p.fail("Hexadecimal codepoint is too big")
			}
		}
		if n != '}' {
			p.fail("Unclosed hexadecimal escape sequence")
		}
		return ch
	}
	p.fail("Illegal hexadecimal escape sequence")
	return 0
}

func (p *parser) uxxxx() rune {
	n := rune(0)
	for range 4 {
		ch := p.read()
		if !asciiIsHex(ch) {
			p.fail("Illegal Unicode escape sequence")
		}
		n = n*16 + hexVal(ch)
	}
	return n
}

func (p *parser) unicodeEscape() rune {
	n := p.uxxxx()
	if n >= 0xD800 && n <= 0xDBFF { // high surrogate: try to pair it
		cur := p.cursor
		if p.read() == '\\' && p.read() == 'u' {
			if n2 := p.uxxxx(); n2 >= 0xDC00 && n2 <= 0xDFFF {
				return 0x10000 + (n-0xD800)<<10 + (n2 - 0xDC00)
			}
		}
		p.cursor = cur
	}
	return n
}

// family parses \p{...} / \P{...} after the 'p' or '{'.
func (p *parser) family(singleLetter, comp bool) *pred {
	p.next()
	var name string
	if singleLetter {
		name = string(p.at(p.cursor))
		p.read()
	} else {
		i := p.cursor
		j := i
		for j < p.n && p.temp[j] != '}' {
			j++
		}
		if j >= p.n {
			p.cursor = p.n + 1
			p.fail("Unclosed character family")
		}
		p.cursor = j + 1
		if i == j {
			p.fail("Empty character family")
		}
		name = string(p.temp[i:j])
		if p.has(flagComments) && strings.ContainsAny(name, " \t\n\v\f\r#") {
			p.unsupported(`whitespace or '#' inside \p{...} in comments mode`)
		}
	}
	s := p.property(name)
	if comp {
		s = s.negate()
	}
	return setPred(s)
}

func (p *parser) property(name string) charSet {
	ci := p.has(flagCaseInsensitive)
	var s charSet
	var found bool
	if i := strings.IndexByte(name, '='); i >= 0 {
		key, value := strings.ToLower(name[:i]), name[i+1:]
		switch key {
		case "sc", "script":
			s, found = scriptProperty(value)
		case "gc", "general_category":
			s, found = p.javaProperty(value, ci)
		}
	} else if strings.HasPrefix(name, "Is") {
		short := name[2:]
		if s, found = p.unicodeBinaryProperty(short, ci); !found {
			if s, found = p.javaProperty(short, ci); !found {
				s, found = scriptProperty(short)
			}
		}
	} else if !strings.HasPrefix(name, "In") {
		s, found = p.javaProperty(name, ci)
	}
	if !found {
		p.unsupported(fmt.Sprintf("unknown or unsupported character property {%s}", name))
	}
	return s
}
