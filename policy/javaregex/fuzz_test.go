package javaregex

import (
	"errors"
	"testing"
	"time"
)

// FuzzCompile compiles arbitrary patterns and matches arbitrary strings; it
// must never panic, and the fast paths must agree with the regex engines.
func FuzzCompile(f *testing.F) {
	for _, p := range curatedPatterns {
		f.Add(p, "svc_alice", "$1")
	}
	f.Add("(?!admin).*", "administrator", "${x}")
	f.Add("(a+)+b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaac", `\$0`)
	f.Fuzz(func(t *testing.T, pattern, input, template string) {
		if len(pattern) > 512 || len(input) > 256 || len(template) > 64 {
			return
		}
		r, err := Compile(pattern)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%q: error of type %T", pattern, err)
			}
			return
		}
		start := time.Now()
		got := r.MatchString(input)
		_, ok, err := r.Expand(input, template)
		if err == nil && ok != got {
			t.Fatalf("%q on %q: MatchString %v but Expand matched %v", pattern, input, got, ok)
		}
		if r.fast.kind != fastNone {
			var engine bool
			if r.re != nil {
				engine = r.re.MatchString(input)
			} else {
				engine, _ = r.rx.MatchString(input)
			}
			if engine != got {
				t.Fatalf("%q on %q: fast path %v, engine %v", pattern, input, got, engine)
			}
		}
		// Two regexp2 matches, each stopped within about 3*MatchTimeout, on a
		// possibly loaded machine.
		if d := time.Since(start); d > 20*MatchTimeout {
			t.Fatalf("%q on %q took %v", pattern, input, d)
		}
	})
}
