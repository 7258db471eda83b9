package sqlgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var viewColumns = []string{"region", "dept", "owner", "created", "amount", "tags", "Status", "flag", "payload"}

func TestParseTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src          string
		columns      []string
		placeholders []string
	}{
		{"region = {{user.region}} AND dept IN {{user.departments}}", []string{"dept", "region"}, []string{"user.departments", "user.region"}},
		{"owner = {{ user.name }} OR contains({{user.groups}}, 'admins')", []string{"owner"}, []string{"user.groups", "user.name"}},
		{`"Region" = 'EU'`, []string{"region"}, nil},
		{"lower(region) LIKE 'e%' ESCAPE '!'", []string{"region"}, nil},
		{"amount BETWEEN 0 AND {{user.limit}}", []string{"amount"}, []string{"user.limit"}},
		{"amount NOT BETWEEN -1.5 AND 1e3", []string{"amount"}, nil},
		{"created >= DATE '2024-01-01' AND created < current_date - INTERVAL '1' DAY", []string{"created"}, nil},
		{"region IS NOT NULL AND dept IS DISTINCT FROM 'x'", []string{"dept", "region"}, nil},
		{"flag", []string{"flag"}, nil},
		{"NOT flag OR {{user.is_admin}}", []string{"flag"}, []string{"user.is_admin"}},
		{"CASE WHEN region = 'EU' THEN true ELSE false END", []string{"region"}, nil},
		{"CAST(amount AS decimal(12,2)) > 10", []string{"amount"}, nil},
		{"cardinality(tags) > 0 AND tags[1] = 'a'", []string{"tags"}, nil},
		{"payload.kind = 'x'", []string{"payload"}, nil},
		{"regexp_like(owner, '^svc_[a-z]+$')", []string{"owner"}, nil},
		{"region IN ('EU', 'US', {{user.extra_region}})", []string{"region"}, []string{"user.extra_region"}},
		{"arrays_overlap(tags, {{user.tags}})", []string{"tags"}, []string{"user.tags"}},
		{"status <> 'deleted' AND owner = current_user", []string{"owner", "status"}, nil},
		{"true", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			tmpl, err := ParseTemplate(tc.src, viewColumns)
			require.NoError(t, err)
			require.Equal(t, tc.columns, nilIfEmpty(tmpl.Columns()))
			require.Equal(t, tc.placeholders, nilIfEmpty(tmpl.Placeholders()))
			require.Equal(t, tc.src, tmpl.String())
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestParseTemplateRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ src, msg string }{
		{"", "empty expression"},
		{"region = 'EU'; DROP TABLE t", "semicolons"},
		{"region = 'EU' -- comment", "comments"},
		{"region = 'EU' /* c */", "comments"},
		{"region = 'EU", "unterminated"},
		{`"region = 'EU'`, "unterminated"},
		{"(region = 'EU'", `expected ")"`},
		{"region = 'EU')", "unexpected operator"},
		{"region IN (SELECT r FROM t)", "SELECT is not allowed"},
		{"EXISTS (SELECT 1)", "EXISTS is not allowed"},
		{"region = ANY (ARRAY['a'])", "ANY is not allowed"},
		{"nope = 1", `unknown column "nope"`},
		{`"Nope" = 1`, `unknown column "Nope"`},
		{"system_fn(region)", "function system_fn is not allowed"},
		{"count(*) > 0", "function count is not allowed"},
		{"lower(DISTINCT region) = 'a'", "unexpected"},
		{"region = 'a' UNION SELECT 1", "UNION is not allowed"},
		{"any_match(tags, x -> x = 'a')", "lambda"},
		{"any_match(tags, x)", "function any_match is not allowed"},
		{"contains(tags, x -> x)", "lambda"},
		{"region = ?", "unexpected character"},
		{"region = `x`", "unexpected character"},
		{"region = $1", "unexpected character"},
		{"region = 0x1F", "malformed number"},
		{"region = {{user.a.b}}", "invalid placeholder"},
		{"region = {{column}}", "only allowed in custom masks"},
		{"region = {{user.x", "unterminated placeholder"},
		{"region = { x }", "unexpected '{'"},
		{"amount + 1", "not a boolean expression"},
		{"'just a string'", "not a boolean expression"},
		{"region = 'a' = 'b'", "unexpected operator"},
		{"regexp_like(owner, '(')", "regexp_like pattern"},
		{"CAST(amount AS nonsense) > 1", "invalid type"},
		{"(region, dept) = ('a', 'b')", "row constructors"},
		{"région = 'x'", "non-ASCII"},
		{"region = U&'\\0041'", "unexpected character"},
		{strings.Repeat("(", 200) + "true" + strings.Repeat(")", 200), "nested deeper"},
		{"region = 'a\x00'", "NUL"},
		{"region = '\xff'", "UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			_, err := ParseTemplate(tc.src, viewColumns)
			require.ErrorIs(t, err, ErrInvalidExpression)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	alice := &User{
		Name:   "alice",
		Groups: []string{"sales", "eu"},
		Attributes: map[string]any{
			"region":      "EU",
			"departments": []any{"d1", "d2"},
			"limit":       float64(1000),
			"ratio":       0.25,
			"big":         1e21,
			"neg":         json.Number("-5"),
			"is_admin":    false,
			"ids":         []int{1, 2},
			"empty":       []any{},
			"null":        nil,
			"nested":      map[string]any{"a": 1},
			"mixed":       []any{"a", 1.0},
			"nested_list": []any{[]any{"a"}},
		},
	}
	tests := []struct {
		src, want string
		err       error
	}{
		{"region = {{user.region}}", "region =  'EU' ", nil},
		{"dept IN {{user.departments}}", "dept IN  ('d1', 'd2') ", nil},
		{"dept IN {{user.region}}", "dept IN  ('EU') ", nil},
		{"arrays_overlap(tags, {{user.departments}})", "arrays_overlap(tags,  ARRAY['d1', 'd2'] )", nil},
		{"amount < {{user.limit}}", "amount <  1000 ", nil},
		{"amount < {{user.ratio}}", "amount <  0.25 ", nil},
		{"amount < {{user.big}}", "amount <  1e+21 ", nil},
		{"amount -{{user.neg}} > 0", "amount - -5  > 0", nil},
		{"flag = {{user.is_admin}}", "flag =  false ", nil},
		{"amount IN {{user.ids}}", "amount IN  (1, 2) ", nil},
		{"owner = {{user.name}}", "owner =  'alice' ", nil},
		{"contains({{user.groups}}, region)", "contains( ARRAY['sales', 'eu'] , region)", nil},
		{"region = {{user.missing}}", "false", nil},
		{"region = {{user.null}}", "false", nil},
		{"dept IN {{user.empty}}", "false", nil},
		{"region = 'EU' OR region = {{user.missing}}", "false", nil},
		{"region = {{user.nested}}", "", ErrAttributeValue},
		{"dept IN {{user.mixed}}", "", ErrAttributeValue},
		{"dept IN {{user.nested_list}}", "", ErrAttributeValue},
		{"region = 'EU'", "region = 'EU'", nil},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			tmpl, err := ParseTemplate(tc.src, viewColumns)
			require.NoError(t, err)
			got, err := tmpl.Render(alice)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.NoError(t, tmpl.VerifyRendered(got))
		})
	}
}

// hostileValues are attribute values chosen to break out of a literal.
var hostileValues = []any{
	"'", "''", `\'`, `\`, "'; DROP TABLE x; --", "' OR '1'='1", "x' --", "*/ OR 1=1 /*",
	"’ OR ‘1’=‘1", "ʼ; --", "\n) OR (1=1", "line\r\nbreak", "{{user.region}}", `"quoted"`,
	"\u2028\u2029", "\ufeff'", strings.Repeat("'", 1000), strings.Repeat("a", MaxAttributeBytes),
	[]any{"a'", "b'); DROP TABLE t; --"}, []string{"'", "--", "/*"}, -1.5, json.Number("-0"),
	float64(-9007199254740993), true,
}

// TestRenderHostileValues proves, with the tokenizer, that no attribute
// value changes the structure of a predicate: the rendered text has exactly
// the template's tokens, with literals where the placeholders were, and each
// string literal decodes back to the attribute value.
func TestRenderHostileValues(t *testing.T) {
	t.Parallel()
	templates := []string{
		"region = {{user.v}}", "dept IN {{user.v}}", "contains({{user.v}}, region)",
		"region ={{user.v}}AND owner = 'x'", "amount -{{user.v}} > 0", "lower(region) LIKE {{user.v}} ESCAPE '\\'",
		"CASE WHEN {{user.v}} = region THEN true END",
	}
	for _, src := range templates {
		tmpl, err := ParseTemplate(src, viewColumns)
		require.NoError(t, err, src)
		for _, v := range hostileValues {
			got, err := tmpl.Render(&User{Name: "u", Attributes: map[string]any{"v": v}})
			require.NoError(t, err, "%s with %q", src, truncate(fmt.Sprint(v), 200))
			require.NoError(t, tmpl.VerifyRendered(got), "%s with %q rendered %q", src, v, truncate(got, 200))
			toks, err := tokenize(got)
			require.NoError(t, err)
			var strs []string
			for _, tk := range toks {
				if tk.kind == tokString {
					strs = append(strs, tk.val)
				}
			}
			switch x := v.(type) {
			case string:
				require.Contains(t, strs, x)
			case []any:
				for _, e := range x {
					require.Contains(t, strs, e)
				}
			}
		}
	}
	tmpl, err := ParseTemplate("region = {{user.v}}", viewColumns)
	require.NoError(t, err)
	for _, bad := range []any{"a\x00b", "\xff", strings.Repeat("a", MaxAttributeBytes+1), make([]any, MaxListElements+1)} {
		_, err := tmpl.Render(&User{Attributes: map[string]any{"v": bad}})
		require.ErrorIs(t, err, ErrAttributeValue)
	}
}

func TestVerifyRenderedCatchesInjection(t *testing.T) {
	t.Parallel()
	tmpl, err := ParseTemplate("region = {{user.v}} AND dept IN {{user.d}}", viewColumns)
	require.NoError(t, err)
	for _, bad := range []string{
		"region = 'x' OR 1=1 AND dept IN ('a')",
		"region = 'x' AND dept IN ('a') OR true",
		"region = region AND dept IN ('a')",
		"region = ('x') AND dept IN ('a')",
		"region = 'x' AND dept IN 'a'",
		"region = 'x' AND dept IN (dept)",
		"region = 'x' AND dept IN ('a'); DROP TABLE t",
		"region = 'x' AND dept IN ('a') --",
	} {
		require.Error(t, tmpl.VerifyRendered(bad), bad)
	}
}

func TestRowPolicy(t *testing.T) {
	t.Parallel()
	p, err := CompileRowPolicy(RowPolicy{
		UnfilteredGroups: []string{"auditors"},
		Rules: []RowRule{
			{Groups: []string{"sales"}, Predicate: "region = {{user.region}}"},
			{Groups: []string{"hr"}, Predicate: "dept IN {{user.departments}}"},
			{Predicate: "owner = {{user.name}}"},
		},
	}, viewColumns)
	require.NoError(t, err)
	require.Equal(t, []string{"dept", "owner", "region"}, p.Columns())
	require.Equal(t, []string{"user.departments", "user.name", "user.region"}, p.Placeholders())

	tests := []struct {
		name     string
		user     User
		want     string
		filtered bool
	}{
		{"auditor", User{Name: "a", Groups: []string{"auditors", "sales"}}, "", false},
		{"sales", User{Name: "s", Groups: []string{"sales"}, Attributes: map[string]any{"region": "EU"}}, "(region =  'EU' ) OR (owner =  's' )", true},
		{"sales without region", User{Name: "s", Groups: []string{"sales"}}, "owner =  's' ", true},
		{"nobody", User{}, "false", true},
		{"hr and sales", User{Name: "h", Groups: []string{"hr", "sales"}, Attributes: map[string]any{"departments": []string{"d"}, "region": "US"}},
			"(region =  'US' ) OR (dept IN  ('d') ) OR (owner =  'h' )", true},
	}
	for _, tc := range tests {
		got, filtered, err := p.Render(&tc.user)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, got, tc.name)
		require.Equal(t, tc.filtered, filtered, tc.name)
		if filtered {
			_, err := ParseTemplate(got, viewColumns)
			require.NoError(t, err, "rendered policy %q must itself be a valid predicate", got)
		}
	}

	_, err = CompileRowPolicy(RowPolicy{Rules: []RowRule{{Predicate: "nope = 1"}}}, viewColumns)
	require.ErrorIs(t, err, ErrInvalidExpression)
	require.Contains(t, err.Error(), "rules[0]")
	_, err = CompileRowPolicy(RowPolicy{}, viewColumns)
	require.ErrorIs(t, err, ErrInvalidExpression)
	_, err = CompileRowPolicy(RowPolicy{Rules: []RowRule{{Groups: []string{""}, Predicate: "true"}}}, viewColumns)
	require.ErrorIs(t, err, ErrInvalidExpression)
}

func FuzzPredicateTemplate(f *testing.F) {
	f.Add("region = {{user.a}} AND dept IN {{user.b}}", "EU", "x'y", 1.5, true)
	f.Add("contains({{user.b}}, region) OR owner = {{user.name}}", "'; DROP TABLE t; --", "--", -3.0, false)
	f.Add("amount -{{user.c}} > 0", "", "/*", -0.0, true)
	f.Add("CASE WHEN {{user.d}} THEN region = {{user.a}} END", "\n", "’", 1e300, false)
	f.Fuzz(func(t *testing.T, src, a, b string, c float64, d bool) {
		tmpl, err := ParseTemplate(src, viewColumns)
		if err != nil {
			if !errors.Is(err, ErrInvalidExpression) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		u := &User{Name: a, Groups: []string{b, a}, Attributes: map[string]any{
			"a": a, "b": []any{a, b}, "c": c, "d": d, "e": []string{b},
		}}
		got, err := tmpl.Render(u)
		if err != nil {
			if !errors.Is(err, ErrAttributeValue) {
				t.Fatalf("unexpected render error: %v", err)
			}
			return
		}
		if err := tmpl.VerifyRendered(got); err != nil {
			t.Fatalf("template %q rendered %q with a different structure: %v", src, got, err)
		}
		if _, err := ParseTemplate(got, viewColumns); err != nil {
			t.Fatalf("template %q rendered %q, which is not a valid predicate: %v", src, got, err)
		}
	})
}

func TestAllowedFunctions(t *testing.T) {
	t.Parallel()
	fns := AllowedFunctions()
	require.True(t, slices.IsSorted(fns))
	require.Contains(t, fns, "lower")
	require.Contains(t, fns, "date_trunc")
	require.NotContains(t, fns, "count")
	fns[0] = "count" // the caller's copy; the allow-list is unchanged
	_, err := ParseTemplate("count(region) > 0", viewColumns)
	require.ErrorIs(t, err, ErrInvalidExpression)
}
