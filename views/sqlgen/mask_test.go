package sqlgen

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/sqlgen")

var goldenDir = filepath.Join("..", "..", "testdata", "sqlgen")

// checkGolden compares got with a golden file, or rewrites it under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		require.NoError(t, os.MkdirAll(goldenDir, 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./views/sqlgen -update to create it")
	require.Equal(t, string(want), got, "golden file %s differs; run with -update after checking the change", path)
}

var testKeys = &KeyStore{
	Table:     QualifiedName{Catalog: "warden", Schema: "keys", Name: "mask_keys"},
	IDColumn:  "key_id",
	KeyColumn: "key",
	Identity:  "warden-masker",
}

var goldenTypes = []string{
	"varchar", "varchar(25)", "varchar(3)", "char(10)", "decimal(12,2)", "decimal(38,0)", "decimal(4,4)",
	"bigint", "integer", "smallint", "tinyint", "double", "real", "boolean", "date", "timestamp(3)",
	"timestamp(6) with time zone", "time(3)", "json", "varbinary", "uuid", "array(varchar)", "geometry",
}

var goldenMasks = []string{
	`{"kind":"null"}`,
	`{"kind":"last4"}`,
	`{"kind":"first4"}`,
	`{"kind":"email"}`,
	`{"kind":"year"}`,
	`{"kind":"round","digits":-3}`,
	`{"kind":"round","digits":1}`,
	`{"kind":"hash","key":"pii-2026"}`,
	`{"kind":"regex","pattern":"[0-9]","replacement":"#"}`,
	`{"kind":"custom","expression":"IF(length({{column}}) > 2, {{column}}, NULL)"}`,
}

// goldenConstants pairs constant masks with the types they suit or not.
var goldenConstants = []struct{ typ, value string }{
	{"varchar(25)", `"***"`}, {"varchar(2)", `"***"`}, {"varchar", `"it's"`}, {"char(10)", `"n/a"`},
	{"varchar", `42`}, {"bigint", `0`}, {"bigint", `"-9223372036854775808"`}, {"bigint", `9223372036854775808`},
	{"tinyint", `128`}, {"integer", `1.5`}, {"decimal(12,2)", `1234.5`}, {"decimal(12,2)", `"0.001"`},
	{"decimal(4,2)", `123`}, {"double", `1e300`}, {"double", `1e999`}, {"real", `"3.25"`},
	{"boolean", `true`}, {"boolean", `"yes"`}, {"date", `"1970-01-01"`}, {"date", `"2024-02-30"`},
	{"timestamp(3)", `"2024-01-01 00:00:00.000"`}, {"timestamp(3)", `"2024-01-01 00:00:00 UTC"`},
	{"timestamp(6) with time zone", `"2024-01-01 12:00:00 Europe/Paris"`}, {"time(3)", `"23:59:59.999"`},
	{"json", `"{\"redacted\":true}"`}, {"json", `"{"`}, {"varbinary", `"00ff"`}, {"uuid", `"00000000-0000-0000-0000-000000000000"`},
	{"ipaddress", `"10.0.0.1"`}, {"ipaddress", `"::1"`}, {"array(bigint)", `"[]"`},
}

func renderMask(spec, typ string) string {
	var m Mask
	if err := json.Unmarshal([]byte(spec), &m); err != nil {
		return "!! " + err.Error()
	}
	col := Column{Name: "c", Type: MustParseType(typ)}
	ve, err := CompileMask(m, col, MaskOptions{Keys: testKeys, Columns: []string{"c", "other"}})
	if err != nil {
		return "!! " + err.Error()
	}
	if ve.Identity != "" {
		return ve.Expression + "\n   identity " + ve.Identity
	}
	return ve.Expression
}

// TestMaskGolden records the SQL of every mask kind on every type, and the
// error for each combination that does not apply, in
// testdata/sqlgen/masks.golden.
func TestMaskGolden(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for _, spec := range goldenMasks {
		for _, typ := range goldenTypes {
			fmt.Fprintf(&b, "%s on %s\n-> %s\n\n", spec, typ, renderMask(spec, typ))
		}
	}
	for _, c := range goldenConstants {
		spec := `{"kind":"constant","value":` + c.value + `}`
		fmt.Fprintf(&b, "%s on %s\n-> %s\n\n", spec, c.typ, renderMask(spec, c.typ))
	}
	checkGolden(t, "masks.golden", b.String())
}

// TestMaskAlwaysCasts checks the Trino requirement every mask is built for:
// the expression's outermost operation is a CAST to the exact column type.
func TestMaskAlwaysCasts(t *testing.T) {
	t.Parallel()
	type pair struct{ spec, typ string }
	var pairs []pair
	for _, spec := range goldenMasks {
		for _, typ := range goldenTypes {
			pairs = append(pairs, pair{spec, typ})
		}
	}
	for _, c := range goldenConstants {
		pairs = append(pairs, pair{`{"kind":"constant","value":` + c.value + `}`, c.typ})
	}
	for _, p := range pairs {
		spec, typ := p.spec, p.typ
		var m Mask
		require.NoError(t, json.Unmarshal([]byte(spec), &m))
		ve, err := CompileMask(m, Column{Name: "c", Type: MustParseType(typ)}, MaskOptions{Keys: testKeys, Columns: []string{"c", "other"}})
		if err != nil {
			require.True(t, errors.Is(err, ErrIncompatibleMask) || errors.Is(err, ErrInvalidExpression) || errors.Is(err, ErrInvalidMask), "%s on %s: %v", spec, typ, err)
			continue
		}
		require.True(t, strings.HasPrefix(ve.Expression, "CAST("), "%s on %s: %s", spec, typ, ve.Expression)
		require.True(t, strings.HasSuffix(ve.Expression, " AS "+MustParseType(typ).String()+")"), "%s on %s: %s", spec, typ, ve.Expression)
		toks, err := tokenize(ve.Expression)
		require.NoError(t, err, ve.Expression)
		requireBalanced(t, toks)
		require.Equal(t, "cast", toks[0].val)
		depth := 0
		for i, tk := range toks[1:] {
			if tk.kind == tokOp && tk.val == "(" {
				depth++
			}
			if tk.kind == tokOp && tk.val == ")" {
				depth--
				require.False(t, depth == 0 && i+1 != len(toks)-2, "%s on %s: the CAST is not outermost: %s", spec, typ, ve.Expression)
			}
		}
	}
}

func requireBalanced(t *testing.T, toks []token) {
	t.Helper()
	depth := 0
	for _, tk := range toks {
		if tk.kind == tokOp && tk.val == "(" {
			depth++
		}
		if tk.kind == tokOp && tk.val == ")" {
			depth--
			require.GreaterOrEqual(t, depth, 0)
		}
	}
	require.Zero(t, depth)
}

func TestMaskErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec, typ string
		opts      MaskOptions
		want      error
		msg       string
	}{
		{`{"kind":"last4"}`, "integer", MaskOptions{}, ErrIncompatibleMask, "last4 masks strings; column c is integer"},
		{`{"kind":"year"}`, "varchar", MaskOptions{}, ErrIncompatibleMask, "year masks dates and timestamps; column c is varchar"},
		{`{"kind":"round","digits":-2}`, "date", MaskOptions{}, ErrIncompatibleMask, "round masks numbers; column c is date"},
		{`{"kind":"round","digits":0}`, "bigint", MaskOptions{}, ErrIncompatibleMask, "need negative digits"},
		{`{"kind":"round","digits":-3}`, "tinyint", MaskOptions{}, ErrIncompatibleMask, "into 0"},
		{`{"kind":"round","digits":2}`, "decimal(12,2)", MaskOptions{}, ErrIncompatibleMask, "changes nothing"},
		{`{"kind":"round"}`, "bigint", MaskOptions{}, ErrInvalidMask, "need digits"},
		{`{"kind":"round","digits":-39}`, "bigint", MaskOptions{}, ErrInvalidMask, "between -38 and 38"},
		{`{"kind":"hash","key":"k"}`, "varchar", MaskOptions{}, ErrInvalidMask, "key store"},
		{`{"kind":"hash"}`, "varchar", MaskOptions{Keys: testKeys}, ErrInvalidMask, "key ID"},
		{`{"kind":"hash","key":"k"}`, "double", MaskOptions{Keys: testKeys}, ErrIncompatibleMask, "hash masks strings, smallint, integer and bigint; column c is double"},
		{`{"kind":"hash","key":"k"}`, "tinyint", MaskOptions{Keys: testKeys}, ErrIncompatibleMask, "column c is tinyint"},
		{`{"kind":"hash","key":"k"}`, "varchar", MaskOptions{Keys: &KeyStore{Table: testKeys.Table, IDColumn: "id", KeyColumn: "key"}}, ErrInvalidMask, "identity"},
		{`{"kind":"regex","pattern":"(a","replacement":"x"}`, "varchar", MaskOptions{}, ErrInvalidMask, "invalid Java regular expression"},
		{`{"kind":"regex","pattern":"a","replacement":"$1"}`, "varchar", MaskOptions{}, ErrInvalidMask, "group 1; the pattern has 0"},
		{`{"kind":"regex","pattern":"(?<x>a)","replacement":"${y}"}`, "varchar", MaskOptions{}, ErrInvalidMask, "no named group"},
		{`{"kind":"regex","pattern":"a","replacement":"US$"}`, "varchar", MaskOptions{}, ErrInvalidMask, "write \\$ for a dollar sign"},
		{`{"kind":"regex","pattern":"a","replacement":"\\n"}`, "varchar", MaskOptions{}, ErrInvalidMask, "must be followed by"},
		{`{"kind":"regex","replacement":"x"}`, "varchar", MaskOptions{}, ErrInvalidMask, "need a pattern"},
		{`{"kind":"regex","pattern":"a","replacement":"b"}`, "bigint", MaskOptions{}, ErrIncompatibleMask, "regex masks strings"},
		{`{"kind":"custom","expression":"{{column}}; DROP TABLE t"}`, "varchar", MaskOptions{}, ErrInvalidExpression, "semicolons"},
		{`{"kind":"custom","expression":"{{column}} -- x"}`, "varchar", MaskOptions{}, ErrInvalidExpression, "comments"},
		{`{"kind":"custom","expression":"({{column}}"}`, "varchar", MaskOptions{}, ErrInvalidExpression, "expected \")\""},
		{`{"kind":"custom","expression":"(SELECT 1)"}`, "varchar", MaskOptions{}, ErrInvalidExpression, "SELECT is not allowed"},
		{`{"kind":"custom","expression":"other"}`, "varchar", MaskOptions{}, ErrInvalidExpression, "unknown column"},
		{`{"kind":"custom","expression":"secret_fn({{column}})"}`, "varchar", MaskOptions{}, ErrInvalidExpression, "function secret_fn is not allowed"},
		{`{"kind":"custom","expression":"{{user.name}}"}`, "varchar", MaskOptions{}, ErrInvalidExpression, "only allowed in row policy"},
		{`{"kind":"custom"}`, "varchar", MaskOptions{}, ErrInvalidMask, "need an expression"},
		{`{"kind":"constant"}`, "varchar", MaskOptions{}, ErrInvalidMask, "needs a value"},
		{`{"kind":"constant","value":{"a":1}}`, "varchar", MaskOptions{}, ErrInvalidMask, "string, number or boolean"},
		{`{"kind":"last4","digits":2}`, "varchar", MaskOptions{}, ErrInvalidMask, "last4 masks take no digits"},
		{`{"kind":"shuffle"}`, "varchar", MaskOptions{}, ErrInvalidMask, `unknown kind "shuffle"`},
	}
	for _, tc := range tests {
		t.Run(tc.spec+" on "+tc.typ, func(t *testing.T) {
			t.Parallel()
			var m Mask
			require.NoError(t, json.Unmarshal([]byte(tc.spec), &m))
			_, err := CompileMask(m, Column{Name: "c", Type: MustParseType(tc.typ)}, tc.opts)
			require.ErrorIs(t, err, tc.want)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

// TestMaskColumnQuoting checks that a hostile column name stays one
// identifier in every mask.
func TestMaskColumnQuoting(t *testing.T) {
	t.Parallel()
	col := Column{Name: `x") FROM t; --"`, Type: MustParseType("varchar(20)")}
	for _, spec := range []string{`{"kind":"last4"}`, `{"kind":"email"}`, `{"kind":"custom","expression":"upper({{column}})"}`} {
		var m Mask
		require.NoError(t, json.Unmarshal([]byte(spec), &m))
		ve, err := CompileMask(m, col, MaskOptions{})
		require.NoError(t, err)
		toks, err := tokenize(ve.Expression)
		require.NoError(t, err, ve.Expression)
		for _, tk := range toks {
			if tk.kind == tokQuotedIdent {
				require.Equal(t, col.Name, tk.val)
			}
		}
		requireBalanced(t, toks)
	}
	_, err := CompileMask(Mask{Kind: MaskNull}, Column{Name: "a\x00", Type: MustParseType("bigint")}, MaskOptions{})
	require.ErrorIs(t, err, ErrInvalidName)
}

// TestRoundGuard evaluates the generated guard the way Trino would, for
// every tinyint and smallint value and around the edges of bigint and
// decimal types, and checks that round() is only reached when its result
// fits the type and that the result is always within range.
func TestRoundGuard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ    string
		digits int
		lo, hi *big.Int // scaled range to test
	}{
		{"tinyint", -1, big.NewInt(-128), big.NewInt(127)},
		{"tinyint", -2, big.NewInt(-128), big.NewInt(127)},
		{"smallint", -2, big.NewInt(-32768), big.NewInt(32767)},
		{"smallint", -4, big.NewInt(-32768), big.NewInt(32767)},
		{"bigint", -3, big.NewInt(-9223372036854775808), big.NewInt(-9223372036854774000)},
		{"bigint", -3, big.NewInt(9223372036854774000), big.NewInt(9223372036854775807)},
		{"decimal(5,2)", 0, big.NewInt(-99999), big.NewInt(99999)},
		{"decimal(5,2)", -2, big.NewInt(-99999), big.NewInt(99999)},
		{"decimal(4,4)", 2, big.NewInt(-9999), big.NewInt(9999)},
	}
	for _, tc := range tests {
		typ := MustParseType(tc.typ)
		expr, err := roundMask(`"c"`, typ, tc.digits, "c")
		require.NoError(t, err)
		scale := 0
		var max *big.Int
		if typ.Kind == KindDecimal {
			p, s := typ.DecimalPrecision()
			scale = s
			max = new(big.Int).Sub(pow10(p), big.NewInt(1))
		} else {
			max = big.NewInt(integerBounds[typ.Kind][1])
		}
		min := new(big.Int).Neg(max)
		if typ.IsInteger() {
			min = big.NewInt(integerBounds[typ.Kind][0])
		}
		guard := parseGuard(t, expr, scale)
		m := pow10(scale - tc.digits)
		for v := new(big.Int).Set(tc.lo); v.Cmp(tc.hi) <= 0; v.Add(v, big.NewInt(1)) {
			got, viaRound := guard.eval(v)
			if viaRound {
				got = roundHalfAway(v, m)
			}
			require.True(t, got.Cmp(max) <= 0 && got.Cmp(min) >= 0, "%s round %d: %v -> %v out of range (%s)", tc.typ, tc.digits, v, got, expr)
			require.Zero(t, new(big.Int).Rem(got, m).Sign(), "%s: %v -> %v is not a multiple of %v", tc.typ, v, got, m)
		}
	}
}

type guard struct{ topEdge, top, bottomEdge, bottom *big.Int }

func (g guard) eval(v *big.Int) (*big.Int, bool) {
	if g.topEdge != nil && v.Cmp(g.topEdge) >= 0 {
		return g.top, false
	}
	if g.bottomEdge != nil && v.Cmp(g.bottomEdge) <= 0 {
		return g.bottom, false
	}
	return nil, true
}

// parseGuard reads back the constants of a generated CASE guard.
func parseGuard(t *testing.T, expr string, scale int) guard {
	t.Helper()
	var g guard
	toks, err := tokenize(expr)
	require.NoError(t, err)
	num := func(i int) *big.Int {
		neg := toks[i].val == "-"
		if neg {
			i++
		}
		r, ok := new(big.Rat).SetString(toks[i].val)
		require.True(t, ok)
		r.Mul(r, new(big.Rat).SetInt(pow10(scale)))
		require.True(t, r.IsInt())
		n := r.Num()
		if neg {
			n.Neg(n)
		}
		return n
	}
	for i, tk := range toks {
		if tk.val == ">=" {
			g.topEdge = num(i + 1)
			j := i + 2
			for toks[j].val != "then" {
				j++
			}
			g.top = num(j + 1)
		}
		if tk.val == "<=" {
			g.bottomEdge = num(i + 1)
			j := i + 2
			for toks[j].val != "then" {
				j++
			}
			g.bottom = num(j + 1)
		}
	}
	return g
}

// roundHalfAway rounds v to a multiple of m, halves away from zero.
func roundHalfAway(v, m *big.Int) *big.Int {
	a := new(big.Int).Abs(v)
	q, r := new(big.Int).QuoRem(a, m, new(big.Int))
	if new(big.Int).Mul(r, big.NewInt(2)).Cmp(m) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	q.Mul(q, m)
	if v.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

func TestSampleMaskProbe(t *testing.T) {
	t.Parallel()
	col := Column{Name: "amount", Type: MustParseType("decimal(12,2)")}
	ve, err := CompileMask(Mask{Kind: MaskRound, Digits: new(-3)}, col, MaskOptions{})
	require.NoError(t, err)
	q, err := SampleMask(col, ve.Expression)
	require.NoError(t, err)
	require.Equal(t, `SELECT `+ve.Expression+` FROM (VALUES (CAST(NULL AS decimal(12,2))), (CAST('0' AS decimal(12,2))), (CAST('9999999999.99' AS decimal(12,2))), (CAST('-9999999999.99' AS decimal(12,2)))) AS t("amount")`, q)
	_, err = tokenize(q)
	require.NoError(t, err)

	view := QualifiedName{Catalog: "governed", Schema: "s", Name: "t"}
	e, err := ExplainMask(view, "amount", ve.Expression)
	require.NoError(t, err)
	require.Equal(t, `EXPLAIN SELECT `+ve.Expression+` AS "amount" FROM "governed"."s"."t"`, e)
	f, err := ExplainRowFilter(view, "region = 'EU'")
	require.NoError(t, err)
	require.Equal(t, `EXPLAIN SELECT count(*) FROM "governed"."s"."t" WHERE (region = 'EU')`, f)

	for _, typ := range goldenTypes {
		q, err := SampleMask(Column{Name: "c", Type: MustParseType(typ)}, `"c"`)
		require.NoError(t, err)
		toks, err := tokenize(q)
		require.NoError(t, err, q)
		requireBalanced(t, toks)
	}
}

func FuzzCustomMask(f *testing.F) {
	for _, s := range []string{
		"{{column}}", "upper({{column}})", "IF(length({{column}}) > 2, {{column}}, NULL)",
		"CASE WHEN other = 'x' THEN {{column}} ELSE '***' END", "CAST({{column}} AS varchar(3))",
		"{{column}} || '--'", "regexp_replace({{column}}, '(a)', '$1')", "'a''b' || {{column}}",
	} {
		f.Add(s)
	}
	col := Column{Name: "c", Type: MustParseType("varchar(20)")}
	f.Fuzz(func(t *testing.T, expr string) {
		ve, err := CompileMask(Mask{Kind: MaskCustom, Expression: expr}, col, MaskOptions{Columns: []string{"c", "other"}})
		if err != nil {
			if !errors.Is(err, ErrInvalidExpression) && !errors.Is(err, ErrInvalidMask) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		// The accepted mask is one expression: it tokenizes, its parentheses
		// balance, it ends in the CAST to the column type at depth 0, and the
		// only identifiers are the allowed columns, keywords and functions.
		toks, err := tokenize(ve.Expression)
		if err != nil {
			t.Fatalf("compiled mask %q does not tokenize: %v", ve.Expression, err)
		}
		depth := 0
		for i, tk := range toks {
			switch {
			case tk.kind == tokOp && tk.val == "(":
				depth++
			case tk.kind == tokOp && tk.val == ")":
				depth--
				if depth == 0 && i != len(toks)-2 {
					t.Fatalf("mask %q closes its outer CAST early", ve.Expression)
				}
			case tk.kind == tokIdent && forbidden[tk.val] && tk.val != "from":
				t.Fatalf("mask %q contains %s", ve.Expression, tk.val)
			case tk.kind == tokPlaceholder:
				t.Fatalf("mask %q kept a placeholder", ve.Expression)
			}
		}
		if depth != 0 {
			t.Fatalf("mask %q is unbalanced", ve.Expression)
		}
		p := &exprParser{toks: toks, columns: map[string]bool{"c": true, "other": true}}
		if _, err := p.parseExpr(); err != nil {
			t.Fatalf("compiled mask %q does not parse: %v", ve.Expression, err)
		}
	})
}

// FuzzMaskSpec decodes random mask documents and compiles them for several
// column types: whatever is accepted must be one expression whose outermost
// operation is the CAST to the column's type.
func FuzzMaskSpec(f *testing.F) {
	for _, s := range append(slices.Clone(goldenMasks), `{"kind":"constant","value":"2024-02-29"}`,
		`{"kind":"constant","value":"it's"}`, `{"kind":"regex","pattern":"(?<x>a)'","replacement":"${x}\\$"}`) {
		f.Add(s)
	}
	types := []Type{MustParseType("varchar(10)"), MustParseType("char(3)"), MustParseType("decimal(5,2)"),
		MustParseType("bigint"), MustParseType("date"), MustParseType("timestamp(6) with time zone"), MustParseType("json")}
	f.Fuzz(func(t *testing.T, spec string) {
		var m Mask
		if json.Unmarshal([]byte(spec), &m) != nil {
			return
		}
		for _, typ := range types {
			ve, err := CompileMask(m, Column{Name: "c", Type: typ}, MaskOptions{Keys: testKeys})
			if err != nil {
				continue
			}
			toks, err := tokenize(ve.Expression)
			if err != nil {
				t.Fatalf("%s on %s gave %q, which does not tokenize: %v", spec, typ, ve.Expression, err)
			}
			if toks[0].val != "cast" {
				t.Fatalf("%s on %s gave %q", spec, typ, ve.Expression)
			}
			depth := 0
			for i, tk := range toks[1:] {
				if tk.kind == tokOp && tk.val == "(" {
					depth++
				}
				if tk.kind == tokOp && tk.val == ")" {
					depth--
					if depth == 0 && i+1 != len(toks)-2 {
						t.Fatalf("%s on %s: the CAST is not outermost: %s", spec, typ, ve.Expression)
					}
				}
			}
			if !strings.HasSuffix(ve.Expression, " AS "+typ.String()+")") {
				t.Fatalf("%s on %s does not end in the CAST to the type: %s", spec, typ, ve.Expression)
			}
		}
	})
}
