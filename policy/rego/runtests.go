package rego

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// ErrNoTests is returned by RunTests for a directory without test rules.
var ErrNoTests = errors.New("no test rules (test_*) found")

// TestOptions configures RunTests.
type TestOptions struct {
	// Verbose prints every test, not only failures, with the trace of each
	// failure (opa test -v).
	Verbose bool
	// Run, when set, runs only the tests whose package-qualified name
	// matches this regular expression (opa test -r).
	Run string
	// Timeout bounds each test; zero means 5 seconds, as in opa test.
	Timeout time.Duration
	// V0Compatible parses the modules as Rego v0, as Options.V0Compatible.
	V0Compatible bool
	// LenientBuiltinErrors lets a failing built-in leave its expression
	// undefined instead of failing the test, as opa test does by default.
	// Warden's extension modules always fail on built-in errors, so tests
	// do too unless this is set.
	LenientBuiltinErrors bool
}

// RunTests runs the Rego unit tests of a policy directory, as opa test DIR
// does: every rule named test_* (todo_* rules are skipped) in every *.rego
// file, tests included, with the directory's data files loaded as LoadDir
// loads them. It prints a report like opa test's to w: failing tests (all
// tests when Verbose) and a summary line "PASS: n/m". Results are printed in
// file and line order. It returns the number of tests that passed and that
// failed or errored; err reports a directory that does not load or compile,
// or ErrNoTests.
func RunTests(ctx context.Context, dir string, w io.Writer, opts TestOptions) (passed, failed int, err error) {
	sources, data, err := loadDir(dir, true)
	if err != nil {
		return 0, 0, err
	}
	popts := parserOptions(opts.V0Compatible)
	modules, err := parseModules(sources, popts)
	if err != nil {
		return 0, 0, err
	}

	store := inmem.NewFromObject(data)
	var results []*tester.Result
	err = storage.Txn(ctx, store, storage.TransactionParams{}, func(txn storage.Transaction) error {
		compiler := ast.NewCompiler().
			WithPathConflictsCheck(storage.NonEmpty(ctx, store, txn)).
			WithEnablePrintStatements(true).
			WithDefaultRegoVersion(popts.RegoVersion)
		runner := tester.NewRunner().
			SetCompiler(compiler).
			SetStore(store).
			SetModules(modules).
			CapturePrintOutput(true).
			EnableTracing(opts.Verbose).
			StackTraces(true).
			RaiseBuiltinErrors(!opts.LenientBuiltinErrors).
			SetTimeout(cmp.Or(opts.Timeout, 5*time.Second)).
			Filter(opts.Run)
		ch, err := runner.RunTests(ctx, txn)
		if err != nil {
			return err
		}
		for r := range ch {
			results = append(results, r)
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("running tests in %s: %w", dir, err)
	}
	if len(results) == 0 {
		return 0, 0, fmt.Errorf("%w in %s", ErrNoTests, dir)
	}

	// The runner runs tests in parallel and in no set order; report them
	// in file and line order, so that the output is the same on every run.
	slices.SortStableFunc(results, func(a, b *tester.Result) int {
		if a.Location == nil || b.Location == nil {
			return cmp.Compare(a.Package+"."+a.Name, b.Package+"."+b.Name)
		}
		return cmp.Or(
			cmp.Compare(a.Location.File, b.Location.File),
			cmp.Compare(a.Location.Row, b.Location.Row),
			cmp.Compare(a.Name, b.Name),
		)
	})
	for _, r := range results {
		switch {
		case r.Skip:
		case r.Pass():
			if n := leafResults(r, false); n > 0 {
				passed += n
			} else {
				passed++
			}
		default:
			if r.Error == nil && len(r.SubResults) > 0 {
				passed += leafResults(r, false)
				failed += leafResults(r, true)
			} else {
				failed++
			}
		}
	}
	ch := make(chan *tester.Result, len(results))
	for _, r := range results {
		ch <- r
	}
	close(ch)
	rep := tester.PrettyReporter{Output: w, Verbose: opts.Verbose}
	if err := rep.Report(ch); err != nil {
		return passed, failed, fmt.Errorf("reporting test results: %w", err)
	}
	return passed, failed, nil
}

// leafResults counts the leaf sub-results of a parameterised test that
// failed (or passed).
func leafResults(r *tester.Result, failedOnes bool) int {
	n := 0
	for _, sr := range r.SubResults.Iter {
		if len(sr.SubResults) == 0 && sr.Fail == failedOnes {
			n++
		}
	}
	return n
}
