package javaregex

import (
	"testing"
)

var benchCases = []struct {
	name, pattern, input, engine string
}{
	{"literal", "some-catalog", "some-catalog", "literal"},
	{"literal-fold", "(?i)Finance", "FINANCE", "literal"},
	{"literal-set", "hr|finance|sales|marketing", "sales", "literal-set"},
	{"dotstar", ".*", "orders_2024_archive", "affix"},
	{"affix", "bob.*", "bob_the_builder", "affix"},
	{"re2", "[a-z_]+_v[0-9]+", "orders_v12", "re2"},
	{"re2-groups", "external_(.*)_(.*)", "external_alice_bob", "re2"},
	{"regexp2", "(?!admin).*", "alice", "regexp2"},
}

func BenchmarkMatchString(b *testing.B) {
	for _, bc := range benchCases {
		r := MustCompile(bc.pattern)
		if r.engine() != bc.engine {
			b.Fatalf("%s: engine %s, want %s", bc.pattern, r.engine(), bc.engine)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !r.MatchString(bc.input) {
					b.Fatal("no match")
				}
			}
		})
	}
}

func BenchmarkExpand(b *testing.B) {
	r := MustCompile("svc_(.*)")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := r.Expand("svc_alice", "svc_$1_prod"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		MustCompile("external_(.*)_(.*)")
	}
}

// TestMatchStringDoesNotAllocate checks the fast paths and the RE2 path.
func TestMatchStringDoesNotAllocate(t *testing.T) {
	for _, bc := range benchCases {
		if bc.engine == "regexp2" || raceEnabled && bc.engine == "re2" {
			continue // regexp2 allocates; sync.Pool drops items under -race
		}
		r := MustCompile(bc.pattern)
		r.MatchString(bc.input)
		if n := testing.AllocsPerRun(100, func() { r.MatchString(bc.input) }); n != 0 {
			t.Errorf("%s (%s): %v allocs per MatchString", bc.name, bc.engine, n)
		}
	}
}
