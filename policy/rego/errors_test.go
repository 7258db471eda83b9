package rego

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// call invokes the source method the endpoint of req uses.
func call(ctx context.Context, src policy.Source, req *policy.Request) error {
	switch req.Endpoint {
	case trino.EndpointAllow:
		_, err := src.(policy.Authorizer).Authorize(ctx, req)
		return err
	case trino.EndpointBatch:
		return src.(policy.Filterer).Filter(ctx, req, newBatch(req, false))
	case trino.EndpointRowFilters:
		_, _, err := src.(policy.RowFilterer).RowFilters(ctx, req)
		return err
	default:
		cols := maskColumns(req)
		return src.(policy.Masker).ColumnMasks(ctx, req, cols, make([]policy.Mask, len(cols)))
	}
}

// TestEvalErrors checks that every malformed result and every evaluation
// error is returned as an error, never as an empty (permissive) answer.
func TestEvalErrors(t *testing.T) {
	t.Parallel()
	user := body("u", []string{"g"}, `{"operation":"ExecuteQuery"}`)
	threeTables := body("u", nil, filterTables([3]string{"c", "s", "a"}, [3]string{"c", "s", "b"}, [3]string{"c", "s", "c"}))
	twoColumns := body("u", nil, `{"operation":"FilterColumns","filterResources":[{"table":{"catalogName":"c","schemaName":"s","tableName":"t","columns":["a","b"]}}]}`)
	rows := body("u", nil, tableAction("GetRowFilters", "c", "s", "t"))
	masks := body("u", nil, maskActionJSON(false, "c", "s", "t", [2]string{"a", "varchar"}, [2]string{"b", "bigint"}))
	mask := body("u", nil, maskActionJSON(true, "c", "s", "t", [2]string{"a", "varchar"}))

	tests := []struct {
		note   string
		module string
		ext    bool
		ep     trino.Endpoint
		body   string
		want   string // a substring of the error
	}{
		{"allow not a boolean", "package trino\nallow := input.context.identity.user", false, trino.EndpointAllow, user, `data.trino.allow is a string; want a boolean`},
		{"batch index out of range", "package trino\nbatch := [0, 3]", false, trino.EndpointBatch, threeTables, "index 3, out of range for 3 items"},
		{"batch negative index", "package trino\nbatch contains -1", false, trino.EndpointBatch, threeTables, "index -1, out of range"},
		{"batch non-integer", "package trino\nbatch := [0, 1.5]", false, trino.EndpointBatch, threeTables, "want an integer index"},
		{"batch string", `package trino
batch := ["a"]`, false, trino.EndpointBatch, threeTables, `holds "a", which is a string`},
		{"batch an object", "package trino\nbatch := input.action", false, trino.EndpointBatch, threeTables, "is an object; want an array or a set"},
		{"FilterColumns index past the columns", "package trino\nbatch := {0, 2}", false, trino.EndpointBatch, twoColumns, "index 2, out of range for 2 items"},
		{"row filter a string", "package trino\nrowFilters := [\"x = 1\"]", false, trino.EndpointRowFilters, rows, "want an object {expression, identity?}"},
		{"row filter without expression", "package trino\nrowFilters contains {\"identity\": \"x\"}", false, trino.EndpointRowFilters, rows, "has no expression"},
		{"row filter expression an object", "package trino\nrowFilters contains {\"expression\": {\"a\": 1}}", false, trino.EndpointRowFilters, rows, "expression must be a non-empty string"},
		{"row filter identity a number", "package trino\nrowFilters contains {\"expression\": \"x\", \"identity\": 1}", false, trino.EndpointRowFilters, rows, "identity must be a string"},
		{"row filters an object", "package trino\nrowFilters := input.action.resource", false, trino.EndpointRowFilters, rows, "is an object; want an array or a set"},
		{"column mask expression an object", "package trino\ncolumnMask := {\"expression\": {\"a\": 1}}", false, trino.EndpointColumnMask, mask, "expression must be a non-empty string"},
		{"column mask a string", "package trino\ncolumnMask := input.action.operation", false, trino.EndpointColumnMask, mask, "which is a string; want an object"},
		{"column mask per column malformed", "package trino\ncolumnMask := {\"identity\": \"x\"}", false, trino.EndpointBatchColumnMasks, masks, "has no expression"},
		{"batch masks duplicate index", `package trino
batchColumnMasks := [{"index": 0, "viewExpression": {"expression": "NULL"}}, {"index": 0, "viewExpression": {"expression": "'x'"}}]`, false, trino.EndpointBatchColumnMasks, masks, "holds index 0 more than once"},
		{"batch masks index out of range", `package trino
batchColumnMasks := [{"index": 2, "viewExpression": {"expression": "NULL"}}]`, false, trino.EndpointBatchColumnMasks, masks, "index 2, out of range for 2 items"},
		{"batch masks without viewExpression", `package trino
batchColumnMasks := [{"index": 1}]`, false, trino.EndpointBatchColumnMasks, masks, "want {index, viewExpression}"},
		{"batch masks entry a number", `package trino
batchColumnMasks := [1]`, false, trino.EndpointBatchColumnMasks, masks, "want {index, viewExpression}"},
		{"conflicting values", `package trino
columnMask := {"expression": "NULL"} if input.action.resource.column.columnName == "a"
columnMask := {"expression": "'x'"} if input.action.resource.column.columnType == "varchar"`, false, trino.EndpointColumnMask, mask, "eval_conflict_error"},
		{"builtin error is strict", `package trino
allow if to_number(input.context.identity.user) > 1`, false, trino.EndpointAllow, user, "to_number"},
		{"deny not reasons", "package warden\ndeny := input.context.identity.groups[0]", true, trino.EndpointAllow, user, "is a string; want a set of reason strings or a boolean"},
		{"deny reasons not strings", "package warden\ndeny contains 1", true, trino.EndpointAllow, user, "holds 1, which is a number; want reason strings"},
		{"deny null", "package warden\ndeny := object.get(input, \"nothing\", null)", true, trino.EndpointAllow, user, "is null; want a set of reason strings"},
		{"extension allow not a boolean", "package warden\nallow := input.warden.user", true, trino.EndpointAllow, user, "data.warden.allow is a string; want a boolean"},
		{"per-item deny malformed", "package warden\ndeny := input.action.resource.table.tableName", true, trino.EndpointBatch, threeTables, "data.warden.deny is a string"},
		{"batch_allow out of range", "package warden\nbatch_allow := [7]", true, trino.EndpointBatch, threeTables, "data.warden.batch_allow holds index 7, out of range"},
		{"batch_deny non-integer", "package warden\nbatch_deny := [\"x\"]", true, trino.EndpointBatch, threeTables, "data.warden.batch_deny holds \"x\""},
		{"extension row filter malformed", "package warden\nrow_filters contains {\"expr\": \"x\"}", true, trino.EndpointRowFilters, rows, "data.warden.row_filters holds"},
		{"extension masks not an object", "package warden\ncolumn_masks := input.warden.columns", true, trino.EndpointBatchColumnMasks, masks, "is an array; want an object"},
		{"extension mask malformed, even for a column not asked for", "package warden\ncolumn_masks := {\"other\": {\"expression\": 1}}", true, trino.EndpointBatchColumnMasks, masks, "expression must be a non-empty string"},
		{"extension builtin error", `package warden
deny contains "x" if to_number(input.warden.user) > 1`, true, trino.EndpointAllow, user, "to_number"},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			t.Parallel()
			p := inline(t, tt.module)
			src := p.Compat()
			if tt.ext {
				src = p.Extension()
			}
			require.NotNil(t, src)
			err := call(context.Background(), src, request(t, tt.ep, tt.body))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestResultErrorsWrapErrResult(t *testing.T) {
	t.Parallel()
	p := inline(t, "package trino\nbatch := [9]")
	req := request(t, trino.EndpointBatch, body("u", nil, filterTables([3]string{"c", "s", "t"})))
	err := p.Compat().(policy.Filterer).Filter(context.Background(), req, newBatch(req, false))
	require.ErrorIs(t, err, ErrResult)
}

func TestLenientCompatBuiltins(t *testing.T) {
	t.Parallel()
	mods := map[string]string{
		"trino.rego":  "package trino\nallow if to_number(input.context.identity.user) > 1\nallow if input.context.identity.user == \"u\"",
		"warden.rego": "package warden\nallow if to_number(input.context.identity.user) > 1",
	}
	p, err := New(mods, nil, Options{CompatLenientBuiltinErrors: true})
	require.NoError(t, err)
	req := request(t, trino.EndpointAllow, body("u", nil, `{"operation":"ExecuteQuery"}`))
	v, err := p.Compat().(policy.Authorizer).Authorize(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, policy.Allow, v.Effect)
	// Extension modules stay strict.
	_, err = p.Extension().(policy.Authorizer).Authorize(context.Background(), req)
	require.ErrorContains(t, err, "to_number")
}

func TestHTTPSendFailureIsAnError(t *testing.T) {
	t.Parallel()
	// A port nothing listens on: take one and close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	p := inline(t, `package warden
deny contains "blocked" if {
	resp := http.send({"method": "GET", "url": "http://`+addr+`/", "timeout": "2s"})
	resp.body.blocked
}`)
	req := request(t, trino.EndpointAllow, body("u", nil, `{"operation":"ExecuteQuery"}`))
	_, err = p.Extension().(policy.Authorizer).Authorize(context.Background(), req)
	require.ErrorContains(t, err, "http.send")
}

// slow keeps an evaluation busy for far longer than the tests wait.
const slow = `package trino
allow if count([1 | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000)]) > 0`

func TestCancellation(t *testing.T) {
	t.Parallel()
	req := request(t, trino.EndpointAllow, body("u", nil, `{"operation":"ExecuteQuery"}`))

	t.Run("context cancelled", func(t *testing.T) {
		t.Parallel()
		src := inline(t, slow).Compat().(policy.Authorizer)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		start := time.Now()
		_, err := src.Authorize(ctx, req)
		require.ErrorIs(t, err, context.Canceled)
		require.Less(t, time.Since(start), 10*time.Second)
	})
	t.Run("eval timeout", func(t *testing.T) {
		t.Parallel()
		p, err := New(map[string]string{"slow.rego": slow}, nil, Options{EvalTimeout: 20 * time.Millisecond})
		require.NoError(t, err)
		_, err = p.Compat().(policy.Authorizer).Authorize(context.Background(), req)
		require.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	})
}
