package javaregex

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExpand(t *testing.T) {
	for _, tc := range []struct {
		pattern, input, template, want string
	}{
		{"svc_(.*)", "svc_alice", "svc_$1_prod", "svc_alice_prod"},
		{"external_(.*)_(.*)", "external_a_b", "internal-$2-$1-sandbox", "internal-b-a-sandbox"},
		{"(?<team>[a-z]+)_(?<env>[a-z]+)", "hr_dev", "${team}-${env}", "hr-dev"},
		{"(?<team>[a-z]+)_(?<env>[a-z]+)", "hr_dev", "$2.$1", "dev.hr"},
		{"(.*)@example.com", "alice@example.com", "$1-analyst", "alice-analyst"},
		{"(a)", "a", "$10", "a0"}, // group 1, then a literal 0
		{"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)", "abcdefghij", "$10", "j"},
		{"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)", "abcdefghij", "$100", "j0"},
		{"(a)", "a", "$0$0", "aa"},
		{"(a)", "a", `\$1`, "$1"},
		{"(a)", "a", `\\$1`, `\a`},
		{"(a)", "a", `x\yz`, "xyz"},
		{"(a)", "a", `\é`, "é"},
		{"(a)|b", "b", "[$1]", "[]"}, // a group that did not participate is empty
		{"(a)?b", "b", "[$1]", "[]"},
		{"team_backend", "team_backend", "team_backend_sandbox", "team_backend_sandbox"},
		{"(?!admin)(.*)", "bob", "$1", "bob"},
		{"(a|ab)(c|bcd)(d*)", "abcd", "$1,$2,$3", "a,bcd,"},
	} {
		r := MustCompile(tc.pattern)
		got, ok, err := r.Expand(tc.input, tc.template)
		require.NoError(t, err, "%q %q", tc.pattern, tc.template)
		require.True(t, ok, tc.pattern)
		require.Equal(t, tc.want, got, "%q on %q with %q", tc.pattern, tc.input, tc.template)
	}
}

func TestExpandNoMatch(t *testing.T) {
	got, ok, err := MustCompile("svc_(.*)").Expand("alice", "$5") // template not examined
	require.NoError(t, err)
	require.False(t, ok)
	require.Empty(t, got)
}

func TestExpandUnsupportedGroup(t *testing.T) {
	for _, p := range []string{"(a*)+", "()*", "(?:(a)|b?)*", "((a)?){2}"} {
		r := MustCompile(p)
		_, ok, err := r.Expand("", "<$1>")
		require.True(t, ok, p)
		require.ErrorIs(t, err, ErrUnsupportedGroup, p)
		got, ok, err := r.Expand("", "<$0>")
		require.NoError(t, err, p)
		require.True(t, ok, p)
		require.Equal(t, "<>", got)
	}
}

func TestExpandErrors(t *testing.T) {
	for _, tc := range []struct{ pattern, template, msg string }{
		{"(a)", "$2", "No group 2"},
		{"a", "$1", "No group 1"},
		{"(a)", "${x}", "No group with name {x}"},
		{"(a)", "${}", "named capturing group has 0 length name"},
		{"(a)", "${x", "named capturing group is missing trailing '}'"},
		{"(?<x1>a)", "${1x}", "capturing group name {1x} starts with digit character"},
		{"(a)", "x$", "Illegal group reference: group index is missing"},
		{"(a)", "$x", "Illegal group reference"},
		{"(a)", `x\`, "character to be escaped is missing"},
	} {
		got, ok, err := MustCompile(tc.pattern).Expand("a", tc.template)
		require.Error(t, err, tc.template)
		require.True(t, errors.Is(err, ErrTemplate), tc.template)
		require.True(t, ok, tc.template)
		require.Empty(t, got)
		require.Contains(t, err.Error(), tc.msg, tc.template)
	}
}
