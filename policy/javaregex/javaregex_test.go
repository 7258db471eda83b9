package javaregex

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type matchCase struct {
	pattern string
	input   string
	want    bool
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		r, err := Compile(tc.pattern)
		require.NoError(t, err, "pattern %q", tc.pattern)
		require.Equal(t, tc.want, r.MatchString(tc.input),
			"pattern %q on %q (engine %s)", tc.pattern, tc.input, r.engine())
	}
}

func TestWholeStringSemantics(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"a", "a", true},
		{"a", "ab", false},
		{"a", "ba", false},
		{"a", "", false},
		{"", "", true},
		{"", "a", false},
		{"a|b", "b", true},
		{"a|b", "ab", false},
		{"alice|bob", "alice", true},
		{"alice|bob", "bob", true},
		{"alice|bob", "alicebob", false},
		{"alice|bob", "alic", false},
		{"(alice|bob)", "bob", true},
		{"hr|finance", "finance", true},
		{"hr|finance", "hr_finance", false},
		{"bob.*", "bob", true},
		{"bob.*", "bobby", true},
		{"bob.*", "alice_bob", false},
		{"bob.+", "bob", false},
		{"bob.+", "bobx", true},
		{".*_test", "orders_test", true},
		{".*_test", "orders_test2", false},
		{"a.*z", "az", true},
		{"a.*z", "a", false},
		{"a.*z", "z", false},
		{"a.*z", "abcz", true},
		{"svc_(.*)", "svc_alice", true},
		{"svc_(.*)", "svc", false},
		{"[a-z]+", "abc", true},
		{"[a-z]+", "abc1", false},
		{"some-catalog", "some-catalog", true},
		{"some-catalog", "some_catalog", false},
		{`a\.b`, "a.b", true},
		{`a\.b`, "axb", false},
		{"a.b", "axb", true},
		{"^alice$", "alice", true},
		{"^alice$", "alice\n", false},
		{"alice$", "alice\n", false},
		{"(?:a|ab)(?:c|bcd)(?:d*)", "abcd", true},
	})
}

func TestLookaroundAndBackreferences(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"(?!admin).*", "alice", true},
		{"(?!admin).*", "admin", false},
		{"(?!admin).*", "administrator", false},
		{"(?!admin).*", "", true},
		{"(?!admin$).*", "administrator", true},
		{".*(?<!_test)", "orders", true},
		{".*(?<!_test)", "orders_test", false},
		{".*(?<!_test)", "orders_test_x", true},
		{"(?=.*a).*", "bab", true},
		{"(?=.*a).*", "bbb", false},
		{"(?<=a)b", "b", false},
		{"a(?<=a)b", "ab", true},
		{`(a)\1`, "aa", true},
		{`(a)\1`, "ab", false},
		{`(a|b)\1`, "bb", true},
		{`(a|b)\1`, "ab", false},
		{`(?<x>[a-z])\k<x>`, "zz", true},
		{`(?<x>[a-z])\k<x>`, "zy", false},
		{`\2(a)(b)`, "ab", false}, // forward reference: never set when used
		{`(a)\2`, "a", false},     // reference to a missing group never matches
		{`(?>a|ab)c`, "abc", false},
		{`(?:a|ab)c`, "abc", true},
		{`a*+a`, "aaa", false},
		{`a*a`, "aaa", true},
		{`a++b`, "aab", true},
	})
}

func TestLineTerminators(t *testing.T) {
	runMatchCases(t, []matchCase{
		{".*", "", true},
		{".*", "abc", true},
		{".*", "a\nb", false},
		{".*", "a\rb", false},
		{".*", "a\u0085b", false},
		{".*", "a\u2028b", false},
		{".*", "a\u2029b", false},
		{".*", "a\u2027b", true},
		{".*", "a\u0084b", true},
		{"(?s).*", "a\nb", true},
		{"(?s).*", "a\u2028b", true},
		{"(?d).*", "a\rb", true},
		{"(?d).*", "a\nb", false},
		{"a.b", "a\nb", false},
		{"(?s)a.b", "a\nb", true},
		{"[^x]", "\n", true}, // negated classes do match line terminators
		{"a$\n", "a\n", true},
		{"a$\r\n", "a\r\n", true},
		{"a$\n\n", "a\n\n", false},
		{"(?m)a$\nb", "a\nb", true},
		{"(?m)^", "", false}, // Java's multiline caret never matches at the end of input
		{"(?m)^a", "a", true},
		{"(?m)a\n^b", "a\nb", true},
		{"(?m)a\r^\nb", "a\r\nb", false},
		{`a\Z\n`, "a\n", true},
		{`\R`, "\r\n", true},
		{`\R\n`, "\r\n", true},
		{`\R+\n`, "\r\n", false}, // each quantified \R iteration is final in Java
	})
}

func TestClassesAndFlags(t *testing.T) {
	runMatchCases(t, []matchCase{
		{`\s`, " ", true},
		{`\s`, "\t", true},
		{`\s`, "\x0b", true}, // Java's \s includes VT, RE2's does not
		{`\s`, "\u00a0", false},
		{`\v`, "\x0b", true},
		{`\v`, "\u2028", true},
		{`\v`, " ", false},
		{`\h`, "\u00a0", true},
		{`\h`, "\n", false},
		{`\w+`, "ab_9", true},
		{`\w`, "é", false},
		{`\d`, "٣", false},
		{`\p{Lower}+`, "abc", true},
		{`\p{Lower}`, "é", false}, // POSIX classes are ASCII in Java
		{`\p{Alpha}`, "é", false},
		{`\p{L}`, "é", true},
		{`\p{IsLatin}+`, "éa", true},
		{`\p{javaLowerCase}`, "é", true},
		{`\p{Punct}`, "!", true},
		{`\P{Alpha}`, "1", true},
		{`(?i)ALICE`, "alice", true},
		{`(?i)ALICE`, "ALICE", true},
		{`(?i)alice`, "AlIcE", true},
		{`(?i)k`, "\u212a", false}, // Java's (?i) is ASCII-only...
		{`(?iu)k`, "\u212a", true}, // ...unless (?u) is set
		{`(?i)é`, "É", false},
		{`(?iu)é`, "É", true},
		{`(?i)[a-z]+`, "ABC", true},
		{`(?i)[^a]`, "A", false},
		{`a(?i)b`, "aB", true},
		{`a(?i)b`, "AB", false},
		{`(?i:a)b`, "Ab", true},
		{`(?i:a)b`, "AB", false},
		{`\Q.*\E`, ".*", true},
		{`\Q.*\E`, "abc", false},
		{`\Qa.b`, "a.b", true},
		{`[a-z&&[^b]]+`, "acd", true},
		{`[a-z&&[^b]]+`, "abc", false},
		{`[a[b]]+`, "ab", true},
		{`[^a[b]]`, "b", false},
		{`[]a]+`, "]a", true},
		{`[\Q]\E]`, "]", true},
		{`(?x) a b # comment`, "ab", true},
		{`(?x)[ a ]`, " ", false},
		{`\x{1F600}`, "😀", true},
		{`\uD83D\uDE00`, "😀", true},
		{`.`, "😀", true},
		{`\u00e9`, "é", true},
		{`\0101`, "A", true},
		{`\ca`, "!", true},
		{`{2}a`, "a", true}, // a quantifier on nothing repeats the empty string
		{`a{2}{3}`, "aa", true},
		{`a{2,3}`, "aaaa", false},
		{`a{1000,2000}`, strings.Repeat("a", 1500), true},
	})
}

func TestEngineSelection(t *testing.T) {
	for _, tc := range []struct{ pattern, engine string }{
		{"alice", "literal"},
		{"some-catalog", "literal"},
		{`a\.b`, "literal"},
		{`(?i)alice`, "literal"},
		{`^alice$`, "literal"},
		{"alice|bob", "literal-set"},
		{"(alice|bob)", "literal-set"},
		{"hr|finance", "literal-set"},
		{".*", "affix"},
		{"(.*)", "affix"},
		{"(?s).*", "affix"},
		{"bob.*", "affix"},
		{".*_test", "affix"},
		{"svc_(.*)", "affix"},
		{"a.+b", "affix"},
		{"[a-z]+", "re2"},
		{`\d+`, "re2"},
		{"external_(.*)_(.*)", "re2"},
		{"(?i)[a-z_]+", "re2"},
		{"a.*b.*", "re2"},
		{"a$", "literal"},
		{"(?!admin).*", "regexp2"},
		{".*(?<!_test)", "regexp2"},
		{`(a)\1`, "regexp2"},
		{`a*+`, "regexp2"},
		{`a$\n`, "regexp2"},
		{`(?m)^a`, "regexp2"},
		{`a{5000}`, "regexp2"}, // too large for RE2
	} {
		r, err := Compile(tc.pattern)
		require.NoError(t, err, tc.pattern)
		require.Equal(t, tc.engine, r.engine(), tc.pattern)
	}
}

func TestMatchesAll(t *testing.T) {
	for p, want := range map[string]bool{
		"(?s).*":   true,
		"(?s)(.*)": true,
		`\p{all}*`: true,
		".*":       false, // '.' excludes line terminators
		".+":       false,
		"a.*":      false,
		"(?s).+":   false,
	} {
		require.Equal(t, want, MustCompile(p).MatchesAll(), p)
	}
}

func TestInvalidPatterns(t *testing.T) {
	for p, desc := range map[string]string{
		"a(b":            "Unclosed group",
		"a)b":            "Unmatched closing ')'",
		"*a":             "Dangling meta character '*'",
		"a**":            "Dangling meta character '*'",
		"[a":             "Unclosed character class",
		"[b-a]":          "Illegal character range",
		"a{,2}":          "Illegal repetition",
		"a{2,1}":         "Illegal repetition range",
		"a{2":            "Unclosed counted closure",
		`\k`:             `\k is not followed by '<' for named capturing group`,
		`\k<x>`:          "named capturing group <x> does not exist",
		`(?<a>x)(?<a>y)`: "Named capturing group <a> is already defined",
		`\y`:             "Illegal/unsupported escape sequence",
		`\E`:             "Illegal/unsupported escape sequence",
		`a\`:             "Unexpected internal error",
		`(?q)`:           "Unknown inline modifier",
		`(?<1a>x)`:       "capturing group name does not start with a Latin letter",
		`\x{110000}`:     "Hexadecimal codepoint is too big",
		`\u12`:           "Illegal Unicode escape sequence",
		`\08`:            "Illegal octal escape sequence",
		`\p{}`:           "Empty character family",
	} {
		_, err := Compile(p)
		require.Error(t, err, p)
		var e *Error
		require.True(t, errors.As(err, &e), p)
		require.False(t, e.Unsupported, "%q: %v", p, err)
		require.Equal(t, desc, e.Desc, p)
		require.Contains(t, err.Error(), `invalid Java regular expression "`, p)
	}
	require.EqualError(t, func() error { _, err := Compile("a(b"); return err }(),
		`invalid Java regular expression "a(b": Unclosed group near index 3`)
}

func TestUnsupportedPatterns(t *testing.T) {
	for _, p := range []string{
		`\bword\b`, `\B`, `\X`, `\b{g}`, `\N{LATIN SMALL LETTER A}`, `\p{InGreek}`, `(?U)\w`,
		`(?i)(a)\1`, `(?i)\p{Lower}`, `(?<=a*)b`, `(?<=(?=a)a)b`, `(?:\R)+`, `\uD800`, `\p{Cn}`,
		"a\xffb",
	} {
		_, err := Compile(p)
		require.Error(t, err, p)
		var e *Error
		require.True(t, errors.As(err, &e), p)
		require.True(t, e.Unsupported, "%q: %v", p, err)
		require.Contains(t, err.Error(), "unsupported Java regular expression", p)
	}
}

func TestMustCompile(t *testing.T) {
	require.Equal(t, "a+b", MustCompile("a+b").String())
	require.Panics(t, func() { MustCompile("(") })
}

func TestConcurrentUse(t *testing.T) {
	patterns := []*Regexp{MustCompile("alice"), MustCompile("[a-z]+"), MustCompile("(?!admin).*"), MustCompile("svc_(.*)")}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				for _, r := range patterns {
					_ = r.MatchString("svc_alice")
					_, _, _ = r.Expand("svc_alice", "$0")
				}
			}
		})
	}
	wg.Wait()
}

func TestBacktrackingTimeout(t *testing.T) {
	r := MustCompile(`(?!z)(a+)+b`) // lookahead forces the backtracking engine
	require.Equal(t, "regexp2", r.engine())
	input := strings.Repeat("a", 40)
	start := time.Now()
	require.False(t, r.MatchString(input))
	_, ok, err := r.Expand(input, "$1")
	require.False(t, ok)
	require.ErrorIs(t, err, ErrMatchTimeout)
	require.Less(t, time.Since(start), 20*MatchTimeout)
	require.True(t, r.MatchString("aab")) // still usable afterwards
}
