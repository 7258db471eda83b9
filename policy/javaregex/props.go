package javaregex

import (
	"strings"
	"unicode"
)

// Character properties are computed from Go's unicode tables. Java and Go
// may ship different Unicode versions, so newly assigned characters can be
// classified differently; everything else follows Java's definitions.

var (
	asciiAlpha = setOf(runeRange{'A', 'Z'}, runeRange{'a', 'z'})
	asciiAlnum = asciiAlpha.union(digitSet)
	asciiPunct = setOf(runeRange{0x21, 0x2F}, runeRange{0x3A, 0x40}, runeRange{0x5B, 0x60}, runeRange{0x7B, 0x7E})
	zSet       = fromTable(unicode.Zs, unicode.Zl, unicode.Zp)
)

// caseSensitiveProps are properties whose meaning Java changes under
// CASE_INSENSITIVE; they are rejected in that mode rather than guessed.
var caseSensitiveProps = map[string]bool{
	"Lu": true, "Ll": true, "Lt": true, "Lower": true, "Upper": true,
	"javaLowerCase": true, "javaUpperCase": true, "javaTitleCase": true,
}

// javaProperty implements the names of Java's CharPredicates.forProperty.
func (p *parser) javaProperty(name string, ci bool) (charSet, bool) {
	if ci && caseSensitiveProps[name] {
		p.unsupported("case-sensitive property \\p{" + name + "} under case-insensitive matching")
	}
	switch name {
	case "Cn", "C", "Cs":
		p.unsupported("property \\p{" + name + "} (unassigned and surrogate code points)")
	case "LC":
		return fromTable(unicode.Lu, unicode.Ll, unicode.Lt), true
	case "LD":
		return fromTable(unicode.L, unicode.Nd), true
	case "L1":
		return span(0, 0xFF), true
	case "all":
		return fullSet(), true
	case "ASCII":
		return span(0, 0x7F), true
	case "Alnum":
		return asciiAlnum, true
	case "Alpha":
		return asciiAlpha, true
	case "Blank":
		return runes(' ', '\t'), true
	case "Cntrl":
		return setOf(runeRange{0, 0x1F}, runeRange{0x7F, 0x7F}), true
	case "Digit":
		return digitSet, true
	case "Graph":
		return span(0x21, 0x7E), true
	case "Lower":
		return span('a', 'z'), true
	case "Print":
		return span(0x20, 0x7E), true
	case "Punct":
		return asciiPunct, true
	case "Space":
		return spaceSet, true
	case "Upper":
		return span('A', 'Z'), true
	case "XDigit":
		return setOf(runeRange{'0', '9'}, runeRange{'A', 'F'}, runeRange{'a', 'f'}), true
	case "javaLowerCase":
		return fromTable(unicode.Ll, unicode.Other_Lowercase), true
	case "javaUpperCase":
		return fromTable(unicode.Lu, unicode.Other_Uppercase), true
	case "javaTitleCase":
		return fromTable(unicode.Lt), true
	case "javaAlphabetic":
		return fromTable(unicode.L, unicode.Nl, unicode.Other_Alphabetic), true
	case "javaIdeographic":
		return fromTable(unicode.Ideographic), true
	case "javaDigit":
		return fromTable(unicode.Nd), true
	case "javaLetter":
		return fromTable(unicode.L), true
	case "javaLetterOrDigit":
		return fromTable(unicode.L, unicode.Nd), true
	case "javaSpaceChar":
		return zSet, true
	case "javaWhitespace":
		return zSet.intersect(runes(0xA0, 0x2007, 0x202F).negate()).
			union(setOf(runeRange{'\t', '\r'}, runeRange{0x1C, 0x1F})), true
	case "javaISOControl":
		return setOf(runeRange{0, 0x1F}, runeRange{0x7F, 0x9F}), true
	}
	if generalCategories[name] {
		return fromTable(unicode.Categories[name]), true
	}
	return nil, false
}

// generalCategories lists the Java category names that Go's tables define
// identically.
var generalCategories = map[string]bool{
	"L": true, "Lu": true, "Ll": true, "Lt": true, "Lm": true, "Lo": true,
	"M": true, "Mn": true, "Mc": true, "Me": true,
	"N": true, "Nd": true, "Nl": true, "No": true,
	"P": true, "Pc": true, "Pd": true, "Ps": true, "Pe": true, "Pi": true, "Pf": true, "Po": true,
	"S": true, "Sm": true, "Sc": true, "Sk": true, "So": true,
	"Z": true, "Zs": true, "Zl": true, "Zp": true,
	"Cc": true, "Cf": true, "Co": true,
}

// unicodeBinaryProperty implements the \p{IsXxx} binary properties of Java's
// CharPredicates.forUnicodeProperty that are supported here.
func (p *parser) unicodeBinaryProperty(name string, ci bool) (charSet, bool) {
	upper := strings.ToUpper(name)
	switch upper {
	case "LOWERCASE", "UPPERCASE", "TITLECASE":
		if ci {
			p.unsupported("case-sensitive property \\p{Is" + name + "} under case-insensitive matching")
		}
	}
	switch upper {
	case "ALPHABETIC":
		return fromTable(unicode.L, unicode.Nl, unicode.Other_Alphabetic), true
	case "LETTER":
		return fromTable(unicode.L), true
	case "LOWERCASE":
		return fromTable(unicode.Ll, unicode.Other_Lowercase), true
	case "UPPERCASE":
		return fromTable(unicode.Lu, unicode.Other_Uppercase), true
	case "TITLECASE":
		return fromTable(unicode.Lt), true
	case "IDEOGRAPHIC":
		return fromTable(unicode.Ideographic), true
	case "PUNCTUATION":
		return fromTable(unicode.P), true
	case "CONTROL":
		return fromTable(unicode.Cc), true
	case "WHITE_SPACE", "WHITESPACE":
		return zSet.union(setOf(runeRange{'\t', '\r'}, runeRange{0x85, 0x85})), true
	case "JOIN_CONTROL", "JOINCONTROL":
		return fromTable(unicode.Join_Control), true
	}
	return nil, false
}

// scriptProperty resolves a Unicode script by its full name, compared
// case-insensitively as Character.UnicodeScript.forName does. Four-letter
// aliases are not supported.
func scriptProperty(name string) (charSet, bool) {
	for _, c := range name {
		if c >= 0x80 {
			return nil, false // Java upper-cases with Locale.ENGLISH; keep to ASCII
		}
	}
	if strings.EqualFold(name, "Unknown") {
		return nil, false
	}
	for k, t := range unicode.Scripts {
		if strings.EqualFold(k, name) {
			return fromTable(t), true
		}
	}
	return nil, false
}
