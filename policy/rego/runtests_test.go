package rego

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRunTests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		note         string
		opts         TestOptions
		pass, fail   int
		want, absent []string
	}{
		{note: "default", pass: 2, fail: 1,
			want: []string{
				"policy_test.rego:17:\ndata.warden_test.test_everyone_allowed: FAIL",
				"checking bob",
				"PASS: 2/4", "FAIL: 1/4", "SKIPPED: 1/4",
			},
			absent: []string{"test_admin_allowed"}},
		{note: "verbose", opts: TestOptions{Verbose: true}, pass: 2, fail: 1,
			want: []string{
				"data.warden_test.test_contractor_cannot_drop: PASS",
				"data.warden_test.test_admin_allowed: PASS",
				"data.warden_test.test_everyone_allowed: FAIL",
				"FAILURES",
				"PASS: 2/4",
			}},
		{note: "filtered", opts: TestOptions{Run: "admin"}, pass: 1, fail: 0,
			want: []string{"PASS: 1/1"}, absent: []string{"FAIL"}},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			pass, fail, err := RunTests(context.Background(), "testdata/tests", &out, tt.opts)
			require.NoError(t, err)
			require.Equal(t, tt.pass, pass, out.String())
			require.Equal(t, tt.fail, fail, out.String())
			for _, w := range tt.want {
				require.Contains(t, out.String(), w)
			}
			for _, a := range tt.absent {
				require.NotContains(t, out.String(), a)
			}
		})
	}
}

func TestRunTestsErrors(t *testing.T) {
	t.Parallel()
	t.Run("compile error", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		write(t, dir, "p_test.rego", "package p\n\ntest_x if undefined_fn(1)\n")
		_, _, err := RunTests(context.Background(), dir, &bytes.Buffer{}, TestOptions{})
		require.ErrorContains(t, err, "p_test.rego:3:")
		require.ErrorContains(t, err, "undefined function undefined_fn")
	})
	t.Run("no tests", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		write(t, dir, "p.rego", "package p\nx := 1\n")
		_, _, err := RunTests(context.Background(), dir, &bytes.Buffer{}, TestOptions{})
		require.ErrorIs(t, err, ErrNoTests)
	})
	t.Run("builtin error fails the test", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		write(t, dir, "p_test.rego", "package p\n\ntest_x if to_number(\"x\") > 1\n")
		var out bytes.Buffer
		pass, fail, err := RunTests(context.Background(), dir, &out, TestOptions{})
		require.NoError(t, err)
		require.Equal(t, 0, pass)
		require.Equal(t, 1, fail)
		require.Contains(t, out.String(), "ERROR: 1/1")
	})
}
