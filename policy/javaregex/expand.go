package javaregex

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// group is one capturing group of a successful match; ok is false when the
// group did not take part in the match (Java's group(n) == null).
type group struct {
	text string
	ok   bool
}

// Expand implements the new_user expansion of Trino's impersonation rules.
// It matches s against r as a whole (Matcher.matches()); when that fails it
// returns ok == false and no error. On a match it expands template exactly as
// Java's Matcher.appendReplacement does after matches() (Trino's
// ImpersonationRule calls appendReplacement on a StringBuilder, which for a
// whole-string match yields just the expanded template):
//
//   - "$n" is group n, taking the first digit and then more digits while the
//     number is still a valid group number, so "$10" with fewer than ten
//     groups is group 1 followed by "0";
//   - "${name}" is the named group;
//   - "\x" is the character x, literally;
//   - a group that did not participate expands to "".
//
// A reference to a group that does not exist, a '$' not followed by a group
// reference and a trailing '\' are errors, as in Java (ErrTemplate); so is a
// reference to a group inside a repetition that can match the empty string
// (ErrUnsupportedGroup). Errors are returned with ok == true because the
// input did match. When the backtracking engine
// times out, Expand returns ErrMatchTimeout.
//
// The result is the raw expansion. Trino compiles it as a new Java pattern
// and matches the requested user against it, so captured text is
// interpreted as regex syntax there; callers replicating Trino should do the
// same with Compile.
func (r *Regexp) Expand(s, template string) (expanded string, ok bool, err error) {
	groups, ok, err := r.submatches(s)
	if err != nil || !ok {
		return "", false, err
	}
	out, err := r.expandTemplate(template, groups)
	if err != nil {
		return "", true, err
	}
	return out, true, nil
}

func (r *Regexp) submatches(s string) ([]group, bool, error) {
	groups := make([]group, r.ngroups+1)
	if r.re != nil {
		idx := r.re.FindStringSubmatchIndex(s)
		if idx == nil {
			return nil, false, nil
		}
		for i := range groups {
			if idx[2*i] >= 0 {
				groups[i] = group{s[idx[2*i]:idx[2*i+1]], true}
			}
		}
		return groups, true, nil
	}
	start := time.Now()
	m, err := r.rx.FindStringMatch(s)
	if err != nil && time.Since(start) < MatchTimeout {
		m, err = r.rx.FindStringMatch(s) // premature timeout, see matchRegexp2
	}
	if err != nil {
		return nil, false, fmt.Errorf("%w: pattern %q", ErrMatchTimeout, r.pattern)
	}
	if m == nil {
		return nil, false, nil
	}
	for i := range groups {
		if g := m.GroupByNumber(i); g != nil && len(g.Captures) > 0 {
			groups[i] = group{g.String(), true}
		}
	}
	return groups, true, nil
}

// ErrTemplate is wrapped by the errors Expand returns for invalid templates.
var ErrTemplate = errors.New("invalid replacement template")

// ErrUnsupportedGroup is wrapped by the error Expand returns when the
// template refers to a group inside a repetition whose body can match the
// empty string, such as the group of "(a*)+" or "()*". After matches(), Java
// leaves such a group either empty or unset depending on internal details of
// its matcher, so the value is not reproduced.
var ErrUnsupportedGroup = errors.New("unsupported group reference")

// expandTemplate is a port of Matcher.appendExpandedReplacement.
func (r *Regexp) expandTemplate(t string, groups []group) (string, error) {
	fail := func(msg string) (string, error) {
		return "", fmt.Errorf("%w %q for pattern %q: %s", ErrTemplate, t, r.pattern, msg)
	}
	var b strings.Builder
	for i := 0; i < len(t); {
		c := t[i]
		switch c {
		case '\\':
			i++
			if i == len(t) {
				return fail("character to be escaped is missing")
			}
			// Copy the whole (possibly multi-byte) character.
			j := i + 1
			for j < len(t) && t[j]&0xC0 == 0x80 {
				j++
			}
			b.WriteString(t[i:j])
			i = j
		case '$':
			i++
			if i == len(t) {
				return fail("Illegal group reference: group index is missing")
			}
			var ref int
			if t[i] == '{' {
				i++
				start := i
				for i < len(t) && asciiIsAlnum(rune(t[i])) {
					i++
				}
				name := t[start:i]
				if name == "" {
					return fail("named capturing group has 0 length name")
				}
				if i == len(t) || t[i] != '}' {
					return fail("named capturing group is missing trailing '}'")
				}
				if asciiIsDigit(rune(name[0])) {
					return fail("capturing group name {" + name + "} starts with digit character")
				}
				idx, found := r.names[name]
				if !found {
					return fail("No group with name {" + name + "}")
				}
				ref = idx
				i++
			} else {
				if !asciiIsDigit(rune(t[i])) {
					return fail("Illegal group reference")
				}
				ref = int(t[i] - '0')
				i++
				for i < len(t) && asciiIsDigit(rune(t[i])) {
					next := ref*10 + int(t[i]-'0')
					if next > r.ngroups {
						break
					}
					ref = next
					i++
				}
				if ref > r.ngroups {
					return fail("No group " + strconv.Itoa(ref))
				}
			}
			if r.unreliable[ref] {
				return "", fmt.Errorf("%w: template %q for pattern %q uses group %d, which is inside a repetition that can match the empty string",
					ErrUnsupportedGroup, t, r.pattern, ref)
			}
			if g := groups[ref]; g.ok {
				b.WriteString(g.text)
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}
