package rego

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/trino-warden/warden/policy/trino"
)

// ErrResult is wrapped by the errors a source returns when a policy's result
// has the wrong shape: a non-boolean allow, an index out of range, a row
// filter without an expression. The engine fails closed on them.
var ErrResult = errors.New("rego result has the wrong shape")

func resultErrorf(rule, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s", ErrResult, rule, fmt.Sprintf(format, args...))
}

// query is one prepared entrypoint.
type query struct {
	// rule names the entrypoint in Reasons: a constant such as
	// "data.trino.allow", also for Warden's helper rules that evaluate it.
	rule string
	pq   *oparego.PreparedEvalQuery
}

// neverCancel serves evaluations whose context cannot be cancelled, so that
// OPA starts no goroutine to watch it.
var neverCancel = topdown.NewCancel()

// eval evaluates q on input and returns its value, nil when it is
// undefined. Every evaluation error is returned: a failing built-in (the
// sources set strict built-in errors), a conflict between rules, a
// cancelled or expired context.
func (p *Policy) eval(ctx context.Context, q *query, input ast.Value) (*ast.Term, error) {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	c := neverCancel
	if ctx.Done() != nil {
		c = topdown.NewCancel()
		defer context.AfterFunc(ctx, c.Cancel)()
	}
	rs, err := q.pq.Eval(ctx,
		oparego.EvalParsedInput(input),
		oparego.EvalMetrics(metrics.NoOp()),
		oparego.EvalExternalCancel(c),
	)
	if err != nil {
		if cerr := context.Cause(ctx); cerr != nil {
			return nil, fmt.Errorf("evaluating %s: %w", q.rule, cerr)
		}
		return nil, fmt.Errorf("evaluating %s: %w", q.rule, err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	t, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return nil, fmt.Errorf("bug: evaluating %s gave a %T, not a term", q.rule, rs[0].Expressions[0].Value)
	}
	return t, nil
}

// kindName names the JSON kind of v, for error messages.
func kindName(v ast.Value) string {
	switch v.(type) {
	case ast.Null:
		return "null"
	case ast.Boolean:
		return "a boolean"
	case ast.Number:
		return "a number"
	case ast.String:
		return "a string"
	case *ast.Array:
		return "an array"
	case ast.Set:
		return "a set"
	case ast.Object:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

// elems calls f on each element of an array or a set. Null, and an
// undefined result (nil), have no elements.
func elems(t *ast.Term, rule string, f func(*ast.Term) error) error {
	if t == nil {
		return nil
	}
	switch v := t.Value.(type) {
	case ast.Null:
		return nil
	case *ast.Array:
		for i := range v.Len() {
			if err := f(v.Elem(i)); err != nil {
				return err
			}
		}
		return nil
	case ast.Set:
		return v.Iter(f)
	}
	return resultErrorf(rule, "is %s; want an array or a set", kindName(t.Value))
}

// index decodes an index into a list of n items.
func index(t *ast.Term, n int, rule string) (int, error) {
	num, ok := t.Value.(ast.Number)
	if !ok {
		return 0, resultErrorf(rule, "holds %v, which is %s; want an integer index", t, kindName(t.Value))
	}
	i, ok := num.Int()
	if !ok {
		return 0, resultErrorf(rule, "holds %v; want an integer index", t)
	}
	if i < 0 || i >= n {
		return 0, resultErrorf(rule, "holds index %d, out of range for %d items", i, n)
	}
	return i, nil
}

// indices calls f with each index of an array or set of indices into n
// items.
func indices(t *ast.Term, n int, rule string, f func(i int)) error {
	return elems(t, rule, func(e *ast.Term) error {
		i, err := index(e, n, rule)
		if err != nil {
			return err
		}
		f(i)
		return nil
	})
}

// viewExpression decodes {expression, identity?}: the expression must be a
// non-empty string, the identity a string or null when present. Other keys
// are ignored, as the plugin ignores them.
func viewExpression(t *ast.Term, rule string) (trino.ViewExpression, error) {
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return trino.ViewExpression{}, resultErrorf(rule, "holds %v, which is %s; want an object {expression, identity?}", t, kindName(t.Value))
	}
	var ve trino.ViewExpression
	switch e := obj.Get(kExpression); {
	case e == nil:
		return ve, resultErrorf(rule, "holds %v, which has no expression", t)
	default:
		s, ok := e.Value.(ast.String)
		if !ok || s == "" {
			return ve, resultErrorf(rule, "holds %v; its expression must be a non-empty string", t)
		}
		ve.Expression = string(s)
	}
	if id := obj.Get(kIdentity); id != nil {
		switch s := id.Value.(type) {
		case ast.String:
			ve.Identity = string(s)
		case ast.Null:
		default:
			return ve, resultErrorf(rule, "holds %v; its identity must be a string", t)
		}
	}
	return ve, nil
}

// viewExpressions decodes an array or set of view expressions.
func viewExpressions(t *ast.Term, rule string) ([]trino.ViewExpression, error) {
	var out []trino.ViewExpression
	err := elems(t, rule, func(e *ast.Term) error {
		ve, err := viewExpression(e, rule)
		if err != nil {
			return err
		}
		out = append(out, ve)
		return nil
	})
	return out, err
}

// veto decodes a value of data.warden.deny: true, false, or an array or set
// of reason strings, a veto when not empty. It returns whether it vetoes
// and, when message is set, the reasons joined by "; ".
func veto(t *ast.Term, rule string, message bool) (bool, string, error) {
	switch v := t.Value.(type) {
	case ast.Boolean:
		return bool(v), "", nil
	case *ast.Array, ast.Set:
		var b strings.Builder
		n := 0
		err := elems(t, rule, func(e *ast.Term) error {
			s, ok := e.Value.(ast.String)
			if !ok {
				return resultErrorf(rule, "holds %v, which is %s; want reason strings", e, kindName(e.Value))
			}
			if message {
				if n > 0 {
					b.WriteString("; ")
				}
				b.WriteString(string(s))
			}
			n++
			return nil
		})
		return n > 0, b.String(), err
	}
	return false, "", resultErrorf(rule, "is %s; want a set of reason strings or a boolean", kindName(t.Value))
}
