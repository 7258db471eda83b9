package javaregex

import (
	"errors"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// MatchTimeout bounds a single match on the backtracking (regexp2) path.
// A match that runs out of time is reported as no match by MatchString and
// as an error by Expand. regexp2 measures time with a clock that ticks every
// 100ms, so a runaway match is stopped after about 2-3 times MatchTimeout.
const MatchTimeout = 100 * time.Millisecond

// ErrMatchTimeout is returned by Expand when the backtracking engine gave up.
var ErrMatchTimeout = errors.New("javaregex: match timed out")

// Regexp is a compiled Java pattern matched against the whole input, as
// Java's Matcher.matches() does. It is safe for concurrent use.
type Regexp struct {
	pattern string
	fast    fastPath
	re      *regexp.Regexp  // RE2 translation, when exact
	rx      *regexp2.Regexp // regexp2 translation otherwise
	ngroups int
	names   map[string]int
	// unreliable marks groups whose value after matches() neither engine
	// reproduces (see unreliableGroups); Expand refuses to substitute them.
	unreliable []bool
}

// Compile parses a Java regular expression. It fails for patterns Java
// rejects and for patterns using constructs this package cannot match with
// Java's exact semantics; the returned error is an *Error naming the pattern.
func Compile(pattern string) (*Regexp, error) {
	if !utf8.ValidString(pattern) {
		return nil, &Error{Pattern: pattern, Desc: "pattern is not valid UTF-8", Index: -1, Unsupported: true}
	}
	res, err := parse(pattern)
	if err != nil {
		return nil, err
	}
	r := &Regexp{pattern: pattern, ngroups: res.ngroups, names: res.names, unreliable: unreliableGroups(res.root, res.ngroups)}
	r.fast = analyze(res.root)
	if re2Compatible(res.root, true) && !testForceRegexp2 {
		if re, err := regexp.Compile(emitPattern(res.root, res.ngroups, true)); err == nil && re.NumSubexp() == res.ngroups {
			r.re = re
			return r, nil
		}
		// Too large for RE2 (e.g. big counted repetitions): use regexp2.
	}
	src := emitPattern(res.root, res.ngroups, false)
	rx, err := regexp2.Compile(src, regexp2.None)
	if err != nil {
		return nil, &Error{Pattern: pattern, Desc: "cannot be translated: " + err.Error(), Index: -1, Unsupported: true}
	}
	rx.MatchTimeout = MatchTimeout
	r.rx = rx
	return r, nil
}

// testForceRegexp2 makes Compile skip RE2, so tests can check the regexp2
// translation of every pattern.
var testForceRegexp2 = false

// MustCompile is like Compile but panics on error.
func MustCompile(pattern string) *Regexp {
	r, err := Compile(pattern)
	if err != nil {
		panic(err)
	}
	return r
}

// String returns the original Java pattern.
func (r *Regexp) String() string { return r.pattern }

// NumGroups returns the number of capturing groups in the pattern.
func (r *Regexp) NumGroups() int { return r.ngroups }

// MatchString reports whether the whole of s matches, like Java's
// Matcher.matches(). Literal patterns, alternations of literals and
// literal-prefix/suffix patterns around ".*" are matched without a regex
// engine; other patterns go to RE2 when its semantics are identical and to
// regexp2 otherwise. A regexp2 match that exceeds MatchTimeout reports false,
// which fails closed for rules that grant access.
//
// Inputs are expected to be valid UTF-8, as every Java string converted to
// Go is; invalid bytes are not guaranteed to be treated consistently.
func (r *Regexp) MatchString(s string) bool {
	switch r.fast.kind {
	case fastLiteral:
		return r.fast.lits[0].equal(s)
	case fastLiteralSet:
		for i := range r.fast.lits {
			if r.fast.lits[i].equal(s) {
				return true
			}
		}
		return false
	case fastAffix:
		return r.fast.matchAffix(s)
	}
	if r.re != nil {
		return r.re.MatchString(s)
	}
	ok, err := r.matchRegexp2(s)
	return err == nil && ok
}

// matchRegexp2 runs the backtracking engine. regexp2 checks its timeout
// against a clock that a background goroutine advances every 100ms; when
// that goroutine was starved, the clock jumps and a quick match can be
// reported as timed out. Such a premature timeout is retried once.
func (r *Regexp) matchRegexp2(s string) (bool, error) {
	start := time.Now()
	ok, err := r.rx.MatchString(s)
	if err != nil && time.Since(start) < MatchTimeout {
		ok, err = r.rx.MatchString(s)
	}
	return ok, err
}

// MatchesAll reports whether the pattern is known to match every string,
// as "(?s).*" does. It is an optimisation hint only: it may report false
// for some universal patterns. Note that ".*" is not universal in Java,
// because '.' does not match line terminators.
func (r *Regexp) MatchesAll() bool {
	f := &r.fast
	return f.kind == fastAffix && f.dot == dotAll && f.minMid == 0 && f.pre.s == "" && f.suf.s == ""
}

// engine names the path MatchString takes; used by tests and diagnostics.
func (r *Regexp) engine() string {
	switch {
	case r.fast.kind == fastLiteral:
		return "literal"
	case r.fast.kind == fastLiteralSet:
		return "literal-set"
	case r.fast.kind == fastAffix:
		return "affix"
	case r.re != nil:
		return "re2"
	}
	return "regexp2"
}
