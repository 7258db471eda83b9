package rego

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		note    string
		modules map[string]string
		data    map[string]any
		opts    Options
		want    []string // substrings of the error
		invalid bool     // wraps ErrInvalidPolicy
	}{
		{note: "parse error", modules: map[string]string{
			"ok.rego":     "package trino\nallow := true",
			"broken.rego": "package trino\n\nallow if {\n\tinput.x ==\n}\n",
		}, want: []string{"broken.rego:5:", "rego_parse_error"}},
		{note: "parse errors of several files", modules: map[string]string{
			"a.rego": "package a\nx := ",
			"b.rego": "packge b",
		}, want: []string{"a.rego:2:", "b.rego:1:"}},
		{note: "undefined function", modules: map[string]string{
			"policies/trino.rego": "package trino\n\nallow if {\n\tnot_a_function(input.x)\n}\n",
		}, want: []string{"policies/trino.rego:4:", "rego_type_error", "undefined function not_a_function"}},
		{note: "unsafe variable", modules: map[string]string{
			"t.rego": "package trino\nallow if x == 1",
		}, want: []string{"t.rego:2:", "rego_unsafe_var_error", "var x is unsafe"}},
		{note: "v0 syntax without the option", modules: map[string]string{
			"v0.rego": "package trino\nallow { true }",
		}, want: []string{"v0.rego:2:", "rego_parse_error"}},
		{note: "rules conflict with data", modules: map[string]string{
			"t.rego": "package trino\nallow := true",
		}, data: map[string]any{"trino": map[string]any{"allow": false}}, want: []string{"conflict"}},
		{note: "reserved package", modules: map[string]string{
			"x.rego": "package __warden_internal__.foo\nx := 1",
		}, want: []string{"x.rego:1:", "reserved"}},
		{note: "allow is a function", modules: map[string]string{
			"t.rego": "package trino\nallow(x) if x",
		}, want: []string{"t.rego:2:", "data.trino.allow must be a rule, not a function"}, invalid: true},
		{note: "allow is a string", modules: map[string]string{
			"t.rego": "package trino\nallow := \"yes\"",
		}, want: []string{"t.rego:2:", "data.trino.allow is a string; it must be a boolean"}, invalid: true},
		{note: "allow is a set", modules: map[string]string{
			"t.rego": "package trino\nallow contains 1",
		}, want: []string{"data.trino.allow is a set; it must be a boolean"}, invalid: true},
		{note: "rowFilters is an object", modules: map[string]string{
			"t.rego": "package trino\nrowFilters := {\"expression\": \"x\"}",
		}, want: []string{"data.trino.rowFilters is an object; it must be an array or a set"}, invalid: true},
		{note: "batch is a number", modules: map[string]string{
			"t.rego": "package trino\nbatch := 1",
		}, want: []string{"data.trino.batch is a number"}, invalid: true},
		{note: "deny is a number", modules: map[string]string{
			"w.rego": "package warden\ndeny := 3",
		}, want: []string{"data.warden.deny is a number; it must be a boolean or an array or a set"}, invalid: true},
		{note: "column_masks is a set", modules: map[string]string{
			"w.rego": "package warden\ncolumn_masks contains \"a\"",
		}, want: []string{"data.warden.column_masks is a set; it must be an object"}, invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			t.Parallel()
			p, err := New(tt.modules, tt.data, tt.opts)
			require.Error(t, err)
			require.Nil(t, p)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			require.Equal(t, tt.invalid, errors.Is(err, ErrInvalidPolicy), "ErrInvalidPolicy: %v", err)
		})
	}
}

func TestNewModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		note              string
		modules           map[string]string
		opts              Options
		compat, extension bool
	}{
		{note: "no modules"},
		{note: "library only", modules: map[string]string{"l.rego": "package trino_policies\nx := 1"}},
		{note: "warden library only", modules: map[string]string{"l.rego": "package warden.lib\nx := 1"}},
		{note: "compat", modules: map[string]string{"t.rego": "package trino\nrowFilters := []"}, compat: true},
		{note: "extension", modules: map[string]string{"w.rego": "package warden\ncolumn_masks := {}"}, extension: true},
		{note: "both", modules: map[string]string{"t.rego": "package trino\nallow := true", "w.rego": "package warden\ndeny := false"}, compat: true, extension: true},
		{note: "v0 compatible", modules: map[string]string{"t.rego": "package trino\nallow { input.x }\nbatch[i] { input.action.filterResources[i] }"},
			opts: Options{V0Compatible: true}, compat: true},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			t.Parallel()
			p, err := New(tt.modules, nil, tt.opts)
			require.NoError(t, err)
			require.Equal(t, tt.compat, p.Compat() != nil)
			require.Equal(t, tt.extension, p.Extension() != nil)
		})
	}
}

func TestV0Compatible(t *testing.T) {
	t.Parallel()
	p, err := New(map[string]string{"t.rego": `package trino
allow { input.context.identity.user == "u" }
batch[i] { input.action.filterResources[i].catalog.name == "b" }`}, nil, Options{V0Compatible: true})
	require.NoError(t, err)
	v, err := p.Compat().(policy.Authorizer).Authorize(context.Background(), request(t, trino.EndpointAllow, body("u", nil, `{"operation":"ExecuteQuery"}`)))
	require.NoError(t, err)
	require.Equal(t, policy.Allow, v.Effect)
	req := request(t, trino.EndpointBatch, body("u", nil, `{"operation":"FilterCatalogs","filterResources":[{"catalog":{"name":"a"}},{"catalog":{"name":"b"}}]}`))
	bv := newBatch(req, false)
	require.NoError(t, p.Compat().(policy.Filterer).Filter(context.Background(), req, bv))
	require.Equal(t, []int{1}, allowed(bv))
}

func TestStaticData(t *testing.T) {
	t.Parallel()
	p, err := New(map[string]string{"t.rego": `package trino
allow if input.context.identity.user in data.config.admins`},
		map[string]any{"config": map[string]any{"admins": []any{"root"}}}, Options{})
	require.NoError(t, err)
	v, err := p.Compat().(policy.Authorizer).Authorize(context.Background(), request(t, trino.EndpointAllow, body("root", nil, `{"operation":"ExecuteQuery"}`)))
	require.NoError(t, err)
	require.Equal(t, policy.Allow, v.Effect)
}

func TestLoadDir(t *testing.T) {
	t.Parallel()
	mods, data, err := LoadDir(compatDir)
	require.NoError(t, err)
	var names []string
	for n := range mods {
		names = append(names, n)
	}
	require.ElementsMatch(t, []string{
		"testdata/compat/batch.rego", "testdata/compat/batch_column_masks.rego",
		"testdata/compat/policies.rego", "testdata/compat/trino.rego",
	}, names)
	require.Empty(t, cmp.Diff(map[string]any{"config": map[string]any{"admins": []any{"root"}}}, data))

	t.Run("bundle layout", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		write(t, dir, "p.rego", "package p")
		write(t, dir, "p_test.rego", "package p\ntest_x if true")
		write(t, dir, "data.json", `{"top": 1, "a": {"x": 1}}`)
		write(t, dir, "a/b/data.yaml", "k: v\nlist: [1, 2]\n")
		write(t, dir, "a/data.json", `{"y": 2}`)
		write(t, dir, "a/b/c/q.rego", "package q")
		write(t, dir, ".git/x.rego", "package git")
		write(t, dir, "README.md", "ignored")
		mods, data, err := LoadDir(dir)
		require.NoError(t, err)
		require.Len(t, mods, 2)
		require.Contains(t, mods, filepath.Join(dir, "p.rego"))
		require.Contains(t, mods, filepath.Join(dir, "a/b/c/q.rego"))
		require.Empty(t, cmp.Diff(map[string]any{
			"top": jsonNumber("1"),
			"a": map[string]any{
				"x": jsonNumber("1"), "y": jsonNumber("2"),
				"b": map[string]any{"k": "v", "list": []any{jsonNumber("1"), jsonNumber("2")}},
			},
		}, data))
	})
	t.Run("conflicting data", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		write(t, dir, "data.json", `{"a": {"b": 1}}`)
		write(t, dir, "a/data.json", `{"b": 2}`)
		_, _, err := LoadDir(dir)
		require.ErrorContains(t, err, "data.a.b is already set")
	})
	t.Run("root data not an object", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		write(t, dir, "data.json", `[1]`)
		_, _, err := LoadDir(dir)
		require.ErrorContains(t, err, "must be an object")
	})
	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		_, _, err := LoadDir(filepath.Join(t.TempDir(), "nope"))
		require.ErrorIs(t, err, os.ErrNotExist)
	})
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
}

func jsonNumber(s string) json.Number { return json.Number(s) }

func TestPrintGoesToLogger(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := New(map[string]string{"w.rego": "package warden\nallow if {\n\tprint(\"user is\", input.warden.user)\n}"}, nil, Options{Logger: logger})
	require.NoError(t, err)
	_, err = p.Extension().(policy.Authorizer).Authorize(context.Background(), request(t, trino.EndpointAllow, body("alice", nil, `{"operation":"ExecuteQuery"}`)))
	require.NoError(t, err)
	require.Contains(t, buf.String(), `msg="rego print" location=w.rego:3`)
	require.Contains(t, buf.String(), `message="user is alice"`)
}
