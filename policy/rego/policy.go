package rego

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown/print"
	"github.com/open-policy-agent/opa/v1/types"

	"github.com/trino-warden/warden/policy"
)

// Source names, as policy.Source.Name returns them.
const (
	CompatSourceName    = "rego-compat"
	ExtensionSourceName = "rego"
)

// ErrInvalidPolicy is wrapped by the errors New returns for a policy that
// compiles but defines an entrypoint Warden cannot use, such as a
// data.trino.allow that is a string or a function.
var ErrInvalidPolicy = errors.New("invalid rego policy")

// Options configures a Policy.
type Options struct {
	// Logger receives the output of print() calls in policies, at debug
	// level. When nil, print() calls are compiled away.
	Logger *slog.Logger
	// V0Compatible parses the modules as Rego v0 (OPA 0.x syntax, without
	// the if and contains keywords), like opa run --v0-compatible. By default
	// modules are Rego v1; a v0 module may still opt in to v1 with
	// "import rego.v1".
	V0Compatible bool
	// CompatLenientBuiltinErrors makes a failing built-in function in the
	// OPA-compatible modules leave its expression undefined, as an OPA server
	// does by default, instead of failing the evaluation. It lets existing
	// policies that rely on that run unchanged, at a price: the failure is
	// silently ignored, so a restriction that depends on the built-in (a
	// negated condition, a row filter, a mask) may not apply. Extension
	// modules always fail on a built-in error.
	CompatLenientBuiltinErrors bool
	// EvalTimeout bounds each evaluation. Zero means the request's context
	// alone bounds it.
	EvalTimeout time.Duration
}

// Policy is one revision of Rego policy, compiled and prepared for
// evaluation. It is immutable and safe for concurrent use.
type Policy struct {
	timeout time.Duration
	compat  *compatSource
	ext     *extSource
}

// Compat returns the OPA-compatible source (package trino), or nil when the
// modules define none of its entrypoints.
func (p *Policy) Compat() policy.Source {
	if p.compat == nil {
		return nil
	}
	return p.compat
}

// Extension returns the extension source (package warden), or nil when the
// modules define none of its entrypoints.
func (p *Policy) Extension() policy.Source {
	if p.ext == nil {
		return nil
	}
	return p.ext
}

// The entrypoints, by mode.
type entry uint8

const (
	eTrinoAllow entry = iota
	eTrinoBatch
	eTrinoRowFilters
	eTrinoColumnMask
	eTrinoBatchColumnMasks
	eWardenDeny
	eWardenAllow
	eWardenBatchAllow
	eWardenBatchDeny
	eWardenRowFilters
	eWardenColumnMasks
	numEntries
)

// kind is a set of JSON kinds, for the static check of entrypoint types.
type kind uint8

const (
	kindNull kind = 1 << iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindSet
	kindObject
	kindFunction
)

var kindNames = []string{"null", "a boolean", "a number", "a string", "an array", "a set", "an object", "a function"}

func (k kind) String() string {
	var names []string
	for i, n := range kindNames {
		if k&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, " or ")
}

type entryInfo struct {
	path  string // also the Reason.Rule of its answers
	pkg   string
	name  string
	kinds kind // the kinds a valid result may have
}

var entries = [numEntries]entryInfo{
	eTrinoAllow:            {"data.trino.allow", "trino", "allow", kindBool | kindNull},
	eTrinoBatch:            {"data.trino.batch", "trino", "batch", kindArray | kindSet | kindNull},
	eTrinoRowFilters:       {"data.trino.rowFilters", "trino", "rowFilters", kindArray | kindSet | kindNull},
	eTrinoColumnMask:       {"data.trino.columnMask", "trino", "columnMask", kindObject | kindNull},
	eTrinoBatchColumnMasks: {"data.trino.batchColumnMasks", "trino", "batchColumnMasks", kindArray | kindSet | kindNull},
	eWardenDeny:            {"data.warden.deny", "warden", "deny", kindBool | kindArray | kindSet},
	eWardenAllow:           {"data.warden.allow", "warden", "allow", kindBool | kindNull},
	eWardenBatchAllow:      {"data.warden.batch_allow", "warden", "batch_allow", kindArray | kindSet | kindNull},
	eWardenBatchDeny:       {"data.warden.batch_deny", "warden", "batch_deny", kindArray | kindSet | kindNull},
	eWardenRowFilters:      {"data.warden.row_filters", "warden", "row_filters", kindArray | kindSet | kindNull},
	eWardenColumnMasks:     {"data.warden.column_masks", "warden", "column_masks", kindObject | kindNull},
}

// internalPackage holds the rules Warden generates, in generatedFile; user
// modules may not use it.
const (
	internalPackage = "__warden_internal__"
	generatedFile   = "warden-generated/" + internalPackage + ".rego"
)

var internalRef = ast.MustParseRef("data." + internalPackage)

func parserOptions(v0 bool) ast.ParserOptions {
	popts := ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1}
	if v0 {
		popts.RegoVersion = ast.RegoV0
	}
	return popts
}

// parseModules parses every module, and returns all parse errors together.
func parseModules(sources map[string]string, popts ast.ParserOptions) (map[string]*ast.Module, error) {
	parsed := make(map[string]*ast.Module, len(sources)+1)
	var errs ast.Errors
	for _, name := range slices.Sorted(maps.Keys(sources)) {
		m, err := ast.ParseModuleWithOpts(name, sources[name], popts)
		if err != nil {
			var aerrs ast.Errors
			if errors.As(err, &aerrs) {
				errs = append(errs, aerrs...)
				continue
			}
			return nil, fmt.Errorf("parsing %s: %w", name, err)
		}
		if name == generatedFile || m.Package.Path.HasPrefix(internalRef) {
			errs = append(errs, ast.NewError(ast.CompileErr, m.Package.Location, "package %s and file name %s are reserved for Warden", internalPackage, generatedFile))
			continue
		}
		parsed[name] = m
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("parsing rego modules: %w", errs)
	}
	return parsed, nil
}

// entrypoints reports which entrypoints the modules define. An entrypoint
// defined as a function is an error.
func entrypoints(parsed map[string]*ast.Module) ([numEntries]bool, error) {
	var defined [numEntries]bool
	var errs ast.Errors
	for _, name := range slices.Sorted(maps.Keys(parsed)) {
		m := parsed[name]
		pkg := m.Package.Path.String()
		if pkg != "data.trino" && pkg != "data.warden" {
			continue
		}
		for _, r := range m.Rules {
			// The first element of a rule's head names the document it
			// defines in its package: allow, or column_masks for
			// column_masks[c] := ….
			v, ok := r.Head.Ref()[0].Value.(ast.Var)
			if !ok {
				continue
			}
			path := pkg + "." + string(v)
			for e := range entries {
				if path != entries[e].path {
					continue
				}
				if len(r.Head.Args) > 0 {
					errs = append(errs, ast.NewError(ast.CompileErr, r.Location, "%s must be a rule, not a function", path))
				}
				defined[e] = true
			}
		}
	}
	if len(errs) > 0 {
		return defined, fmt.Errorf("%w: %w", ErrInvalidPolicy, errs)
	}
	return defined, nil
}

// New compiles modules (file name → Rego source) with an optional static
// data document (data.* as an OPA bundle's data.json provides it) and
// prepares one query per entrypoint. It returns an error carrying OPA's own
// messages, with file and line, when a module does not parse or compile,
// and an error wrapping ErrInvalidPolicy when an entrypoint statically has a
// type Warden cannot use. A Policy is only returned when it is fully usable,
// so a failed New never replaces a working policy.
func New(modules map[string]string, data map[string]any, opts Options) (*Policy, error) {
	ctx := context.Background()
	popts := parserOptions(opts.V0Compatible)
	parsed, err := parseModules(modules, popts)
	if err != nil {
		return nil, err
	}
	defined, err := entrypoints(parsed)
	if err != nil {
		return nil, err
	}

	if data == nil {
		data = map[string]any{}
	}
	store := inmem.NewFromObjectWithOpts(data, inmem.OptReturnASTValuesOnRead(true))
	withHelpers := parsed
	if src := helperModule(&defined); src != "" {
		m, err := ast.ParseModuleWithOpts(generatedFile, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, fmt.Errorf("bug: generated module does not parse: %w", err)
		}
		withHelpers = maps.Clone(parsed)
		withHelpers[generatedFile] = m
	}
	compiler, err := compile(ctx, store, withHelpers, popts.RegoVersion, opts.Logger != nil)
	if err != nil {
		return nil, err
	}
	if compiler.Failed() {
		if len(withHelpers) > len(parsed) {
			// Report what is wrong with the user's modules, not how it
			// shows in the generated one.
			alone, err := compile(ctx, store, parsed, popts.RegoVersion, opts.Logger != nil)
			if err != nil {
				return nil, err
			}
			if alone.Failed() {
				return nil, fmt.Errorf("compiling rego modules: %w", alone.Errors)
			}
			if err := checkTypes(alone, &defined); err != nil {
				return nil, err
			}
		}
		return nil, fmt.Errorf("compiling rego modules: %w", compiler.Errors)
	}
	if err := checkTypes(compiler, &defined); err != nil {
		return nil, err
	}

	p := &Policy{timeout: opts.EvalTimeout}
	var hook print.Hook
	if opts.Logger != nil {
		hook = printHook{opts.Logger}
	}
	prep := func(query string, strict bool) (*oparego.PreparedEvalQuery, error) {
		pq, err := oparego.New(
			oparego.Query(query),
			oparego.Compiler(compiler),
			oparego.Store(store),
			oparego.StrictBuiltinErrors(strict),
			oparego.EnablePrintStatements(hook != nil),
			oparego.PrintHook(hook),
			oparego.GenerateJSON(rawResult),
		).PrepareForEval(ctx)
		if err != nil {
			return nil, fmt.Errorf("preparing %s: %w", query, err)
		}
		return &pq, nil
	}
	if p.compat, err = newCompat(p, &defined, prep, !opts.CompatLenientBuiltinErrors); err != nil {
		return nil, err
	}
	if p.ext, err = newExt(p, &defined, prep); err != nil {
		return nil, err
	}
	return p, nil
}

// compile compiles modules against the data in store; the compiler's
// Errors say whether it failed.
func compile(ctx context.Context, store storage.Store, modules map[string]*ast.Module, v ast.RegoVersion, enablePrint bool) (*ast.Compiler, error) {
	c := ast.NewCompiler().
		WithEnablePrintStatements(enablePrint).
		WithDefaultRegoVersion(v)
	err := storage.Txn(ctx, store, storage.TransactionParams{}, func(txn storage.Transaction) error {
		c.WithPathConflictsCheck(storage.NonEmpty(ctx, store, txn)).Compile(modules)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the data document: %w", err)
	}
	return c, nil
}

// prepareFunc prepares one query.
type prepareFunc func(query string, strict bool) (*oparego.PreparedEvalQuery, error)

// checkTypes rejects an entrypoint whose type, as OPA's type checker infers
// it, cannot be a valid result. A type the checker cannot narrow down passes
// and is validated at evaluation.
func checkTypes(c *ast.Compiler, defined *[numEntries]bool) error {
	var errs ast.Errors
	for e, info := range entries {
		if !defined[e] {
			continue
		}
		ref := ast.MustParseRef(info.path)
		got, known := kindsOf(c.TypeEnv.Get(ref))
		if !known || got&info.kinds != 0 {
			continue
		}
		var loc *ast.Location
		if rules := c.GetRulesExact(ref); len(rules) > 0 {
			loc = rules[0].Location
		}
		errs = append(errs, ast.NewError(ast.TypeErr, loc, "%s is %s; it must be %s", info.path, got, info.kinds&^kindNull))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidPolicy, errs)
	}
	return nil
}

// kindsOf returns the kinds a type allows, and false when the type is
// unknown (any).
func kindsOf(t types.Type) (kind, bool) {
	switch t := t.(type) {
	case nil:
		return 0, false
	case *types.NamedType:
		return kindsOf(t.Type)
	case *types.Recursive:
		return kindsOf(t.Unwrap())
	case types.Null:
		return kindNull, true
	case types.Boolean:
		return kindBool, true
	case types.Number:
		return kindNumber, true
	case types.String:
		return kindString, true
	case *types.Array:
		return kindArray, true
	case *types.Set:
		return kindSet, true
	case *types.Object:
		return kindObject, true
	case *types.Function:
		return kindFunction, true
	case types.Any:
		if len(t) == 0 {
			return 0, false
		}
		var k kind
		for _, m := range t {
			mk, ok := kindsOf(m)
			if !ok {
				return 0, false
			}
			k |= mk
		}
		return k, true
	}
	return 0, false
}

// rawResult keeps evaluation results as AST terms: the sources decode them
// directly, without converting them to Go values first.
func rawResult(t *ast.Term, _ *oparego.EvalContext) (any, error) { return t, nil }

type printHook struct{ logger *slog.Logger }

func (h printHook) Print(pctx print.Context, msg string) error {
	ctx := pctx.Context
	if ctx == nil {
		ctx = context.Background()
	}
	loc := ""
	if pctx.Location != nil {
		loc = pctx.Location.String()
	}
	h.logger.DebugContext(ctx, "rego print", "location", loc, "message", msg)
	return nil
}
