package javaregex

import (
	"bufio"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The differential test compares this package with java.util.regex itself.
// It needs a JDK (21 or later, to match the JVMs Trino runs on):
//
//	JAVAREGEX_JAVA=/path/to/bin/java go test -run TestJavaOracle ./policy/javaregex/
//
// JAVAREGEX_ORACLE_N sets the number of random patterns (default 3000) and
// JAVAREGEX_ORACLE_SEED the seed.

type oracle struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startOracle(t *testing.T, java string) *oracle {
	t.Helper()
	cmd := exec.Command(java, "testdata/Oracle.java")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(outp)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	o := &oracle{cmd: cmd, in: in, out: sc}
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Wait()
	})
	return o
}

func (o *oracle) ask(t *testing.T, fields ...string) []string {
	t.Helper()
	for i := 1; i < len(fields); i++ {
		fields[i] = hex.EncodeToString([]byte(fields[i]))
	}
	if _, err := io.WriteString(o.in, strings.Join(fields, "\t")+"\n"); err != nil {
		t.Fatal(err)
	}
	if !o.out.Scan() {
		t.Fatalf("oracle died: %v", o.out.Err())
	}
	return strings.Split(o.out.Text(), "\t")
}

func unhex(t *testing.T, s string) string {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type oracleStats struct {
	patterns, javaInvalid, unsupported, matches, inputs int
	unsupportedSamples                                  map[string]string
}

func TestJavaOracle(t *testing.T) {
	java := os.Getenv("JAVAREGEX_JAVA")
	if java == "" {
		t.Skip("set JAVAREGEX_JAVA to a JDK 21+ java binary to compare with java.util.regex")
	}
	n := 3000
	if v, err := strconv.Atoi(os.Getenv("JAVAREGEX_ORACLE_N")); err == nil {
		n = v
	}
	seed := uint64(1)
	if v, err := strconv.ParseUint(os.Getenv("JAVAREGEX_ORACLE_SEED"), 10, 64); err == nil {
		seed = v
	}
	if os.Getenv("JAVAREGEX_FORCE_REGEXP2") != "" {
		testForceRegexp2 = true
		defer func() { testForceRegexp2 = false }()
	}
	o := startOracle(t, java)
	st := &oracleStats{unsupportedSamples: map[string]string{}}
	for _, p := range curatedPatterns {
		compareWithJava(t, o, st, p, nil)
	}
	rng := rand.New(rand.NewPCG(seed, seed*7919))
	for range n {
		g := &patGen{rng: rng, clean: rng.IntN(2) == 0}
		compareWithJava(t, o, st, g.pattern(), rng)
		if t.Failed() && st.patterns > 50 && testing.Short() {
			break
		}
	}
	t.Logf("patterns %d, invalid in Java %d, unsupported here %d, inputs %d, matches %d",
		st.patterns, st.javaInvalid, st.unsupported, st.inputs, st.matches)
	for desc, p := range st.unsupportedSamples {
		t.Logf("unsupported: %-60s e.g. %q", desc, p)
	}
}

func compareWithJava(t *testing.T, o *oracle, st *oracleStats, pat string, rng *rand.Rand) {
	t.Helper()
	st.patterns++
	resp := o.ask(t, "P", pat)
	re, err := Compile(pat)
	switch resp[0] {
	case "THROW":
		return
	case "ERR":
		st.javaInvalid++
		if err == nil {
			t.Errorf("%q: Java rejects it (%s) but Compile accepted it", pat, unhex(t, resp[1]))
		}
		return
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Unsupported {
			st.unsupported++
			st.unsupportedSamples[e.Desc] = pat
			return
		}
		t.Errorf("%q: Java accepts it but Compile says %v", pat, err)
		return
	}
	if want, _ := strconv.Atoi(resp[1]); want != re.NumGroups() {
		t.Errorf("%q: groupCount %d, want %d", pat, re.NumGroups(), want)
		return
	}
	for _, in := range oracleInputs(pat, rng) {
		st.inputs++
		resp := o.ask(t, "M", in)
		if resp[0] == "THROW" {
			continue
		}
		want := resp[0] == "1"
		if got := re.MatchString(in); got != want {
			t.Errorf("%q on %q: MatchString = %v, Java %v (engine %s)", pat, in, got, want, re.engine())
			continue
		}
		groups, ok, err := re.submatches(in)
		if err != nil || ok != want {
			t.Errorf("%q on %q: submatches ok=%v err=%v, Java %v", pat, in, ok, err, want)
			continue
		}
		if !want {
			continue
		}
		st.matches++
		for i, g := range resp[1:] {
			if re.unreliable[i] {
				continue
			}
			jg := group{}
			if g != "-" {
				jg = group{unhex(t, g), true}
			}
			if groups[i] != jg {
				t.Errorf("%q on %q: group %d = %+v, Java %+v (engine %s)", pat, in, i, groups[i], jg, re.engine())
			}
		}
		for _, tmpl := range []string{"$0", "<$1>", "$2$1", "${name}", "$10", "\\$1", "x\\"} {
			compareExpand(t, o, re, in, tmpl)
		}
	}
}

func compareExpand(t *testing.T, o *oracle, re *Regexp, in, tmpl string) {
	t.Helper()
	resp := o.ask(t, "E", in, tmpl)
	got, ok, err := re.Expand(in, tmpl)
	if errors.Is(err, ErrUnsupportedGroup) {
		return
	}
	switch resp[0] {
	case "OK":
		if want := unhex(t, resp[1]); err != nil || !ok || got != want {
			t.Errorf("%q Expand(%q, %q) = %q, %v, %v; Java %q", re, in, tmpl, got, ok, err, want)
		}
	case "EXC":
		if err == nil || !ok {
			t.Errorf("%q Expand(%q, %q) = %q, %v, %v; Java throws %s %s", re, in, tmpl, got, ok, err, resp[1], unhex(t, resp[2]))
		} else if msg := unhex(t, resp[2]); !strings.Contains(err.Error(), msg) {
			t.Errorf("%q Expand(%q, %q) error %q, Java %q", re, in, tmpl, err, msg)
		}
	}
}

// oracleInputs returns every string of up to three characters over a small
// alphabet drawn from the pattern, plus some longer random ones.
func oracleInputs(pat string, rng *rand.Rand) []string {
	alpha := []string{"a", "b", "\n", "A"}
	extra := []string{"_", "1", " ", "\r", "\r\n", "\u0085", "\u2028", "K", "k", "\u212a", "é", "É", "ſ", "s", "S", "-", ".", "\t", "\x0b", "ı", "I", "İ", "i", "😀", "c", "B"}
	if rng == nil {
		rng = rand.New(rand.NewPCG(uint64(len(pat)), 3))
	}
	for range 2 {
		alpha = append(alpha, extra[rng.IntN(len(extra))])
	}
	out := []string{""}
	layer := []string{""}
	for range 3 {
		var next []string
		for _, p := range layer {
			for _, a := range alpha {
				next = append(next, p+a)
			}
		}
		out = append(out, next...)
		layer = next
	}
	for range 15 {
		var b strings.Builder
		for range 4 + rng.IntN(5) {
			if rng.IntN(3) == 0 {
				b.WriteString(extra[rng.IntN(len(extra))])
			} else {
				b.WriteString(alpha[rng.IntN(len(alpha))])
			}
		}
		out = append(out, b.String())
	}
	return out
}

// patGen produces random, often invalid, Java patterns.
type patGen struct {
	rng    *rand.Rand
	groups int
	clean  bool // avoid tokens that are usually syntax errors
}

func (g *patGen) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

func (g *patGen) pattern() string {
	var b strings.Builder
	if g.rng.IntN(4) == 0 {
		b.WriteString(g.pick("(?i)", "(?x)", "(?s)", "(?m)", "(?d)", "(?iu)", "(?ms)", "(?md)", "(?-i)", "(?)", "(?i-s)"))
	}
	b.WriteString(g.alt(3))
	return b.String()
}

func (g *patGen) alt(depth int) string {
	s := g.seq(depth)
	for g.rng.IntN(4) == 0 {
		s += "|" + g.seq(depth)
	}
	return s
}

func (g *patGen) seq(depth int) string {
	var b strings.Builder
	for range g.rng.IntN(4) {
		b.WriteString(g.atom(depth))
		if g.rng.IntN(3) == 0 {
			b.WriteString(g.quant())
		}
	}
	return b.String()
}

func (g *patGen) quant() string {
	q := g.pick("?", "*", "+", "{2}", "{1,}", "{0,2}", "{1,2}", "{,2}", "{", "{2,1}", "{ 2}", "{1,1}")
	if g.clean {
		q = g.pick("?", "*", "+", "{2}", "{1,}", "{0,2}", "{1,2}", "{0}", "{1,1}")
	}
	return q + g.pick("", "", "", "?", "+")
}

func (g *patGen) atom(depth int) string {
	switch n := g.rng.IntN(20); {
	case n < 6:
		return g.pick("a", "b", "ab", "A", "k", "K", "s", "é", "_", "-", "ba", "aa", "ſ", "İ", "\u212a", "😀", " ", "#x\n", "}", "]")
	case n < 9:
		return g.escape()
	case n < 12:
		return g.class(depth)
	case n < 16 && depth > 0:
		return g.group(depth - 1)
	case n < 18 || g.clean:
		return g.pick(".", "^", "$", ".", ".")
	}
	return g.pick("(", ")", "*", "|", "\\", "{", "[", "(?", "\\Q.a\\E", "\\Qa", "\\E", "\\Q\\Ea", "\\Q1\\E")
}

func (g *patGen) escape() string {
	if g.clean {
		return g.pick(`\d`, `\D`, `\s`, `\S`, `\w`, `\W`, `\h`, `\H`, `\v`, `\V`, `\t`, `\n`, `\r`, `\x61`, `\x{62}`,
			`\u0061`, `\0141`, `\.`, `\\`, `\-`, `\R`, `\z`, `\Z`, `\A`, `\G`, `\1`, `\2`, `\p{Lower}`, `\p{L}`,
			`\P{Alpha}`, `\pL`, `\p{Lu}`, `\p{IsLatin}`, `\p{Punct}`, `\Qa.\E`, `\ca`, `\e`)
	}
	return g.pick(`\d`, `\D`, `\s`, `\S`, `\w`, `\W`, `\h`, `\H`, `\v`, `\V`, `\t`, `\n`, `\r`,
		`\x61`, `\x{62}`, `\x{1F600}`, `\u0061`, `\uD83D\uDE00`, `\0141`, `\08`, `\0`, `\ca`, `\cA`, `\e`, `\a`, `\f`, `\.`, `\\`, `\-`,
		`\R`, `\z`, `\Z`, `\A`, `\G`, `\b`, `\1`, `\2`, `\11`, `\k<n>`, `\k<m>`, `\p{Lower}`, `\p{L}`, `\p{IsLatin}`, `\P{Alpha}`,
		`\pL`, `\p{Lu}`, `\p{javaLowerCase}`, `\p{Punct}`, `\p{IsAlphabetic}`, `\p{InGreek}`, `\p{sc=Greek}`, `\p{gc=Ll}`, `\p{IsWhite_Space}`,
		`\y`, `\E`, `\X`, `\N{LATIN SMALL LETTER A}`, `\p{}`, `\p{Foo}`, `\x`, `\u12`, `\c`, `\i`)
}

func (g *patGen) class(depth int) string {
	var b strings.Builder
	b.WriteString("[")
	if g.rng.IntN(3) == 0 {
		b.WriteString("^")
	}
	for range 1 + g.rng.IntN(4) {
		switch n := g.rng.IntN(12); {
		case n < 4:
			b.WriteString(g.pick("a", "b", "A", "k", "K", "s", "é", "_", "ſ", "İ", "ı", "i", "I", "-", "]", "^", "&", " ", "#", "\u212a", "😀", "["))
		case n < 6:
			b.WriteString(g.pick("a-c", "A-Z", "a-z", "b-a", "a-", "-a", `\x00-\x7f`, `a-\d`, `\d-z`, `\v-\r`, "k-s", "😀-😂", "\u0100-\u017f"))
		case n < 8:
			b.WriteString(g.escape())
		case n < 10 && depth > 0:
			b.WriteString(g.class(depth - 1))
		default:
			b.WriteString(g.pick("&&", "&&[^b]", "&&b", "&&[a-b]", "&", "&&"))
		}
	}
	if g.clean || g.rng.IntN(12) != 0 {
		b.WriteString("]")
	}
	return b.String()
}

func (g *patGen) group(depth int) string {
	open := g.pick("(", "(", "(?:", "(?=", "(?!", "(?<=", "(?<!", "(?>", "(?<n>", "(?<m>", "(?i:", "(?i)", "(?-i:", "(?x)", "(?s:", "(?m)", "(?d:", "(?iu:", "(?<1a>", "(?$", "(?u)")
	if g.clean {
		open = g.pick("(", "(", "(", "(?:", "(?=", "(?!", "(?<=", "(?<!", "(?>", "(?i:", "(?i)", "(?-i:", "(?s:", "(?m)", "(?d:", "(?iu:")
	}
	if open == "(?i)" || open == "(?x)" || open == "(?m)" || open == "(?u)" {
		return open
	}
	g.groups++
	body := g.alt(depth)
	if !g.clean && g.rng.IntN(15) == 0 {
		return open + body // unclosed
	}
	return open + body + ")"
}

// curatedPatterns are checked before the random ones.
var curatedPatterns = []string{
	"alice", "a|b", "alice|bob", "(?!admin).*", ".*(?<!_test)", "(a)\\1", ".*", "(?s).*", "\\s", "\\v",
	"\\p{Lower}", "(?i)ALICE", "\\Q.*\\E", "svc_(.*)", "external_(.*)_(.*)", "(?<name>[a-z]+)_(\\d+)",
	"[a-z&&[^b]]+", "[a[b]]", "[^a[b]]", "[a-c&&b-d]", "[[a-c]&&[b-d]]", "[a&&[b]&c]", "[a&&]", "[&&a]", "[]a]", "[^]a]",
	"a$", "a$\n", "a$\r\n", "(?m)a$\nb", "(?m)^a", "(?m)^", "(?d)a$\n", "a\\Z\n?", "^a", "a^b", "\\Ga",
	"(?i)k", "(?iu)k", "(?iu)ß", "(?iu)aß", "(?i)[k]", "(?iu)[k]", "(?iu)[a-z]", "(?i)[a-z]+", "(?i)[^a]",
	"(?x) a b # comment\n c", "(?x)[ a ]", "(?x)\\ a", "(?x)a{1 0}", "{2}", "a{2}{3}", "x*{2}", "a{,2}",
	"\\R", "\\R\\n", "\\R+\\n", "(?:\\R)+", ".+", "a.+b", "(?d).*", "\\x{1F600}", "\\uD83D\\uDE00", "[\\uD83D\\uDE00]",
	"a++", "a*+a", "(?>a|ab)c", "(a|ab)(c|bcd)(d*)", "(a*)+", "(a|b)*", "((a)|b)+", "(a)?b", "(a)|b",
	"a\\", "a(b", "a)b", "*a", "a**", "[a", "\\", "(?<a>x)(?<a>y)", "\\k<x>", "(?<a>x)\\k<a>", "\\2(a)(b)",
	"\\Qa\\E+", "\\Q\\E*", "[\\Q]\\E]", "\\Q", "a\\Q", "\\0101", "\\08", "\\c@", "\\x{110000}",
}
