package javaregex

import "strconv"

// This file holds the parser's cursor primitives, which follow Java's
// Pattern exactly (including how comments mode skips whitespace and
// comments), and the \Q...\E pre-pass.

func (p *parser) has(f int) bool { return p.flags&f != 0 }

func (p *parser) at(i int) rune {
	if i < 0 || i >= len(p.temp) {
		return 0
	}
	return p.temp[i]
}

func (p *parser) peek() rune {
	ch := p.at(p.cursor)
	if p.has(flagComments) {
		ch = p.peekPastWhitespace(ch)
	}
	return ch
}

func (p *parser) read() rune {
	ch := p.at(p.cursor)
	p.cursor++
	if p.has(flagComments) {
		ch = p.parsePastWhitespace(ch)
	}
	return ch
}

func (p *parser) next() rune {
	ch := p.at(p.cursor + 1)
	p.cursor++
	if p.has(flagComments) {
		ch = p.peekPastWhitespace(ch)
	}
	return ch
}

func (p *parser) nextEscaped() rune {
	ch := p.at(p.cursor + 1)
	p.cursor++
	return ch
}

func (p *parser) skip() rune {
	ch := p.at(p.cursor + 1)
	p.cursor += 2
	return ch
}

func (p *parser) unread() { p.cursor-- }

func (p *parser) peekPastWhitespace(ch rune) rune {
	for asciiIsSpace(ch) || ch == '#' {
		for asciiIsSpace(ch) {
			p.cursor++
			ch = p.at(p.cursor)
		}
		if ch == '#' {
			ch = p.peekPastLine()
		}
	}
	return ch
}

func (p *parser) parsePastWhitespace(ch rune) rune {
	for asciiIsSpace(ch) || ch == '#' {
		for asciiIsSpace(ch) {
			ch = p.at(p.cursor)
			p.cursor++
		}
		if ch == '#' {
			ch = p.parsePastLine()
		}
	}
	return ch
}

func (p *parser) parsePastLine() rune {
	ch := p.at(p.cursor)
	p.cursor++
	for ch != 0 && !p.isLineSeparator(ch) {
		ch = p.at(p.cursor)
		p.cursor++
	}
	if ch == 0 && p.cursor > p.n {
		p.cursor = p.n
		ch = p.at(p.cursor)
		p.cursor++
	}
	return ch
}

func (p *parser) peekPastLine() rune {
	p.cursor++
	ch := p.at(p.cursor)
	for ch != 0 && !p.isLineSeparator(ch) {
		p.cursor++
		ch = p.at(p.cursor)
	}
	if ch == 0 && p.cursor > p.n {
		p.cursor = p.n
		ch = p.at(p.cursor)
	}
	return ch
}

func (p *parser) isLineSeparator(ch rune) bool {
	if p.has(flagUnixLines) {
		return ch == '\n'
	}
	return ch == '\n' || ch == '\r' || ch|1 == 0x2029 || ch == 0x85
}

func (p *parser) accept(ch rune, desc string) {
	test := p.at(p.cursor)
	p.cursor++
	if p.has(flagComments) {
		test = p.parsePastWhitespace(test)
	}
	if test != ch {
		p.fail(desc)
	}
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxNesting {
		p.unsupported("groups or classes nested more than " + strconv.Itoa(maxNesting) + " deep")
	}
}

// removeQEQuoting is Java's Pattern.RemoveQEQuoting: it rewrites every
// \Q...\E section into escaped literals before parsing.
func removeQEQuoting(temp []rune) []rune {
	pLen := len(temp)
	i := 0
	for i < pLen-1 {
		if temp[i] != '\\' {
			i++
		} else if temp[i+1] != 'Q' {
			i += 2
		} else {
			break
		}
	}
	if i >= pLen-1 {
		return temp
	}
	at := func(k int) rune {
		if k < pLen {
			return temp[k]
		}
		return 0
	}
	out := make([]rune, 0, 2*pLen)
	out = append(out, temp[:i]...)
	i += 2
	inQuote, beginQuote := true, true
	for i < pLen {
		c := temp[i]
		i++
		switch {
		case c >= 0x80 || asciiIsAlpha(c):
			out = append(out, c)
		case asciiIsDigit(c):
			if beginQuote {
				// Keep a preceding numeric escape from absorbing the digit.
				out = append(out, '\\', 'x', '3')
			}
			out = append(out, c)
		case c != '\\':
			if inQuote {
				out = append(out, '\\')
			}
			out = append(out, c)
		case inQuote:
			if at(i) == 'E' {
				i++
				inQuote = false
			} else {
				out = append(out, '\\', '\\')
			}
		default:
			if at(i) == 'Q' {
				i++
				inQuote = true
				beginQuote = true
				continue
			}
			out = append(out, c)
			if i != pLen {
				out = append(out, temp[i])
				i++
			}
		}
		beginQuote = false
	}
	return out
}
