package javaregex

import (
	"slices"
	"sync"
	"unicode"
)

// maxRune is the largest Unicode code point, Character.MAX_CODE_POINT in Java.
const maxRune = unicode.MaxRune

// runeRange is an inclusive range of code points.
type runeRange struct{ lo, hi rune }

// charSet is a set of code points, kept as sorted, non-overlapping and
// non-adjacent ranges. Every character class, escape and literal of a Java
// pattern is resolved to a charSet at parse time, so the generated RE2 and
// regexp2 patterns never depend on how those engines interpret classes,
// case folding or the dot.
type charSet []runeRange

func single(r rune) charSet { return charSet{{r, r}} }

func span(lo, hi rune) charSet {
	if lo > hi {
		return nil
	}
	return charSet{{lo, hi}}
}

func fullSet() charSet { return charSet{{0, maxRune}} }

// setOf builds a normalized set from arbitrary, possibly overlapping ranges.
func setOf(rs ...runeRange) charSet {
	s := make(charSet, 0, len(rs))
	for _, r := range rs {
		if r.lo <= r.hi {
			s = append(s, r)
		}
	}
	return s.normalize()
}

func runes(rs ...rune) charSet {
	s := make(charSet, 0, len(rs))
	for _, r := range rs {
		s = append(s, runeRange{r, r})
	}
	return s.normalize()
}

func (s charSet) normalize() charSet {
	if len(s) < 2 {
		return s
	}
	slices.SortFunc(s, func(a, b runeRange) int { return int(a.lo) - int(b.lo) })
	out := s[:1]
	for _, r := range s[1:] {
		last := &out[len(out)-1]
		if r.lo <= last.hi+1 {
			last.hi = max(last.hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

func (s charSet) union(t charSet) charSet {
	u := make(charSet, 0, len(s)+len(t))
	u = append(u, s...)
	u = append(u, t...)
	return u.normalize()
}

func (s charSet) negate() charSet {
	var out charSet
	next := rune(0)
	for _, r := range s {
		if r.lo > next {
			out = append(out, runeRange{next, r.lo - 1})
		}
		next = r.hi + 1
	}
	if next <= maxRune {
		out = append(out, runeRange{next, maxRune})
	}
	return out
}

func (s charSet) intersect(t charSet) charSet {
	var out charSet
	i, j := 0, 0
	for i < len(s) && j < len(t) {
		lo, hi := max(s[i].lo, t[j].lo), min(s[i].hi, t[j].hi)
		if lo <= hi {
			out = append(out, runeRange{lo, hi})
		}
		if s[i].hi < t[j].hi {
			i++
		} else {
			j++
		}
	}
	return out
}

func (s charSet) contains(r rune) bool {
	i, found := slices.BinarySearchFunc(s, r, func(x runeRange, r rune) int {
		switch {
		case x.hi < r:
			return -1
		case x.lo > r:
			return 1
		}
		return 0
	})
	_ = i
	return found
}

func (s charSet) equal(t charSet) bool { return slices.Equal(s, t) }

// size reports the number of code points in s, saturating at 3.
func (s charSet) smallSize() int {
	n := 0
	for _, r := range s {
		n += int(r.hi-r.lo) + 1
		if n > 2 {
			return 3
		}
	}
	return n
}

// withoutSurrogates removes U+D800..U+DFFF. Valid UTF-8 (and therefore every
// Go string the matcher sees) cannot contain them, while in Java a class
// member in that range only matches an unpaired surrogate.
func (s charSet) withoutSurrogates() charSet {
	return s.intersect(charSet{{0, 0xD7FF}, {0xE000, maxRune}})
}

// fromTable converts a Unicode range table to a charSet.
func fromTable(tabs ...*unicode.RangeTable) charSet {
	var s charSet
	for _, t := range tabs {
		for _, r := range t.R16 {
			s = appendStride(s, rune(r.Lo), rune(r.Hi), rune(r.Stride))
		}
		for _, r := range t.R32 {
			s = appendStride(s, rune(r.Lo), rune(r.Hi), rune(r.Stride))
		}
	}
	return s.normalize()
}

func appendStride(s charSet, lo, hi, stride rune) charSet {
	if stride == 1 {
		return append(s, runeRange{lo, hi})
	}
	for r := lo; r <= hi; r += stride {
		s = append(s, runeRange{r, r})
	}
	return s
}

// Line terminators as Java defines them when UNIX_LINES is off.
var (
	lineTerminators = runes('\n', '\r', 0x85, 0x2028, 0x2029)
	javaDot         = lineTerminators.negate()
	unixDot         = single('\n').negate()
)

// ASCII helpers mirroring java.util.regex.ASCII.
func asciiIsUpper(r rune) bool { return r >= 'A' && r <= 'Z' }
func asciiIsLower(r rune) bool { return r >= 'a' && r <= 'z' }
func asciiIsAlpha(r rune) bool { return asciiIsUpper(r) || asciiIsLower(r) }
func asciiIsDigit(r rune) bool { return r >= '0' && r <= '9' }
func asciiIsAlnum(r rune) bool { return asciiIsAlpha(r) || asciiIsDigit(r) }
func asciiIsSpace(r rune) bool { return r == ' ' || (r >= '\t' && r <= '\r') }
func asciiIsHex(r rune) bool {
	return asciiIsDigit(r) || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F')
}

func asciiToLower(r rune) rune {
	if asciiIsUpper(r) {
		return r + 0x20
	}
	return r
}

func asciiToUpper(r rune) rune {
	if asciiIsLower(r) {
		return r - 0x20
	}
	return r
}

func hexVal(r rune) rune {
	switch {
	case asciiIsDigit(r):
		return r - '0'
	case r >= 'a' && r <= 'f':
		return r - 'a' + 10
	}
	return r - 'A' + 10
}

// caseEntry records, for a code point r that has a case mapping, Java's
// Character.toUpperCase(r) and Character.toLowerCase(Character.toUpperCase(r)).
// Code points without an entry map to themselves under both functions.
type caseEntry struct{ r, up, lowUp rune }

var caseTable = sync.OnceValue(func() []caseEntry {
	var out []caseEntry
	for _, cr := range unicode.CaseRanges {
		for r := rune(cr.Lo); r <= rune(cr.Hi); r++ {
			up := unicode.ToUpper(r)
			lu := unicode.ToLower(up)
			if up != r || lu != r {
				out = append(out, caseEntry{r, up, lu})
			}
		}
	}
	return out
})

func lowUp(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }

// singleU is the set Java's SingleU(lower) node matches: ch == lower or
// toLowerCase(toUpperCase(ch)) == lower.
func singleU(lower rune) charSet {
	s := charSet{{lower, lower}}
	for _, e := range caseTable() {
		if e.lowUp == lower {
			s = append(s, runeRange{e.r, e.r})
		}
	}
	return s.normalize()
}

// sliceU is the set one position of Java's SliceU node matches:
// toLowerCase(toUpperCase(ch)) == toLowerCase(toUpperCase(p)).
func sliceU(p rune) charSet {
	t := lowUp(p)
	var s charSet
	if lowUp(t) == t {
		s = append(s, runeRange{t, t})
	}
	for _, e := range caseTable() {
		if e.lowUp == t {
			s = append(s, runeRange{e.r, e.r})
		}
	}
	return s.normalize()
}

// ciRange is Java's CIRange: ASCII-only case-insensitive range.
func ciRange(lo, hi rune) charSet {
	s := charSet{{lo, hi}}
	for c := rune(0); c < 0x80; c++ {
		if u := asciiToUpper(c); u >= lo && u <= hi {
			s = append(s, runeRange{c, c})
		}
		if l := asciiToLower(c); l >= lo && l <= hi {
			s = append(s, runeRange{c, c})
		}
	}
	return s.normalize()
}

// ciRangeU is Java's CIRangeU: Unicode case-insensitive range.
func ciRangeU(lo, hi rune) charSet {
	s := charSet{{lo, hi}}
	for _, e := range caseTable() {
		if (e.up >= lo && e.up <= hi) || (e.lowUp >= lo && e.lowUp <= hi) {
			s = append(s, runeRange{e.r, e.r})
		}
	}
	return s.normalize()
}
