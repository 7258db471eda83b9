package sqlgen

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestParseType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		want  Type
		canon string // String(); "" means in
	}{
		{in: "boolean", want: Type{Kind: KindBoolean, Precision: -1}},
		{in: "tinyint", want: Type{Kind: KindTinyint, Precision: -1}},
		{in: "smallint", want: Type{Kind: KindSmallint, Precision: -1}},
		{in: "integer", want: Type{Kind: KindInteger, Precision: -1}},
		{in: "INT", want: Type{Kind: KindInteger, Precision: -1}, canon: "integer"},
		{in: "bigint", want: Type{Kind: KindBigint, Precision: -1}},
		{in: "real", want: Type{Kind: KindReal, Precision: -1}},
		{in: "double", want: Type{Kind: KindDouble, Precision: -1}},
		{in: "double precision", want: Type{Kind: KindDouble, Precision: -1}, canon: "double"},
		{in: "decimal(12,2)", want: Type{Kind: KindDecimal, Precision: 12, Scale: 2}},
		{in: "DECIMAL( 38 , 0 )", want: Type{Kind: KindDecimal, Precision: 38}, canon: "decimal(38,0)"},
		{in: "decimal(5)", want: Type{Kind: KindDecimal, Precision: 5}, canon: "decimal(5,0)"},
		{in: "decimal", want: Type{Kind: KindDecimal, Precision: -1}},
		{in: "varchar", want: Type{Kind: KindVarchar, Length: Unbounded, Precision: -1}},
		{in: "varchar(25)", want: Type{Kind: KindVarchar, Length: 25, Precision: -1}},
		{in: "varchar(0)", want: Type{Kind: KindVarchar, Length: 0, Precision: -1}},
		{in: "char(10)", want: Type{Kind: KindChar, Length: 10, Precision: -1}},
		{in: "char", want: Type{Kind: KindChar, Length: 1, Precision: -1}, canon: "char(1)"},
		{in: "varbinary", want: Type{Kind: KindVarbinary, Precision: -1}},
		{in: "json", want: Type{Kind: KindJSON, Precision: -1}},
		{in: "date", want: Type{Kind: KindDate, Precision: -1}},
		{in: "time(3)", want: Type{Kind: KindTime, Precision: 3}},
		{in: "time(6) with time zone", want: Type{Kind: KindTimeTZ, Precision: 6}},
		{in: "timestamp(3)", want: Type{Kind: KindTimestamp, Precision: 3}},
		{in: "timestamp(6) with time zone", want: Type{Kind: KindTimestampTZ, Precision: 6}},
		{in: "timestamp(12) without time zone", want: Type{Kind: KindTimestamp, Precision: 12}, canon: "timestamp(12)"},
		{in: "timestamp with time zone", want: Type{Kind: KindTimestampTZ, Precision: -1}},
		{in: "interval day to second", want: Type{Kind: KindIntervalDayToSecond, Precision: -1}},
		{in: "interval year to month", want: Type{Kind: KindIntervalYearToMonth, Precision: -1}},
		{in: "uuid", want: Type{Kind: KindUUID, Precision: -1}},
		{in: "ipaddress", want: Type{Kind: KindIPAddress, Precision: -1}},
		{in: "array(varchar(10))", want: Type{Kind: KindArray, Precision: -1, Elems: []Type{{Kind: KindVarchar, Length: 10, Precision: -1}}}},
		{in: "map(varchar,bigint)", canon: "map(varchar, bigint)", want: Type{Kind: KindMap, Precision: -1, Elems: []Type{
			{Kind: KindVarchar, Length: Unbounded, Precision: -1}, {Kind: KindBigint, Precision: -1}}}},
		{in: `row(a bigint, "b c" varchar, timestamp(3) with time zone)`, want: Type{Kind: KindRow, Precision: -1,
			Names: []string{"a", "b c", ""},
			Elems: []Type{{Kind: KindBigint, Precision: -1}, {Kind: KindVarchar, Length: Unbounded, Precision: -1}, {Kind: KindTimestampTZ, Precision: 3}}}},
		{in: `row("A""q" double precision)`, canon: `row("A""q" double)`, want: Type{Kind: KindRow, Precision: -1,
			Names: []string{`A"q`}, Elems: []Type{{Kind: KindDouble, Precision: -1}}}},
		{in: "geometry", want: Type{Kind: KindUnknown, Precision: -1, Raw: "geometry"}},
		{in: "qdigest( BIGINT )", canon: "qdigest(bigint)", want: Type{Kind: KindUnknown, Precision: -1, Raw: "qdigest(bigint)"}},
		{in: "array(HyperLogLog)", canon: "array(hyperloglog)", want: Type{Kind: KindArray, Precision: -1, Elems: []Type{{Kind: KindUnknown, Precision: -1, Raw: "hyperloglog"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseType(tc.in)
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(tc.want, got))
			canon := tc.canon
			if canon == "" {
				canon = tc.in
			}
			require.Equal(t, canon, got.String())
			again, err := ParseType(got.String())
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(got, again))
		})
	}
}

func TestParseTypeErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "   ", "decimal(39,0)", "decimal(0)", "decimal(5,6)", "decimal(12,", "varchar(",
		"varchar(-1)", "varchar(2147483647)", "char(0)", "char(65537)", "timestamp(13)",
		"time(3) with zone", "interval day to month", "array()", "array(bigint, bigint)",
		"map(bigint)", "row()", "bigint bigint", "varchar(10) x", "foo(bar", "foo(')')",
		"foo(1);drop", "array(" + strings.Repeat("array(", 40) + "bigint" + strings.Repeat(")", 41),
		`row("" bigint)`, `row("a`,
	} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			_, err := ParseType(in)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrInvalidType), "%v", err)
		})
	}
}

func TestTypePredicates(t *testing.T) {
	t.Parallel()
	n, ok := MustParseType("varchar(7)").Bounded()
	require.True(t, ok)
	require.Equal(t, 7, n)
	_, ok = MustParseType("varchar").Bounded()
	require.False(t, ok)
	p, s := MustParseType("decimal").DecimalPrecision()
	require.Equal(t, [2]int{38, 0}, [2]int{p, s})
	require.True(t, MustParseType("smallint").IsInteger())
	require.True(t, MustParseType("decimal(3,1)").IsNumeric())
	require.False(t, MustParseType("date").IsNumeric())
	require.True(t, MustParseType("char(2)").IsString())
}

func FuzzParseType(f *testing.F) {
	for _, s := range []string{
		"varchar(25)", "decimal(12,2)", "timestamp(6) with time zone", "map(varchar, array(row(a bigint, \"b\"\"c\" double)))",
		"interval day to second", "qdigest(bigint)", "row(time(3) with time zone)", "char", "double precision",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, err := ParseType(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidType) {
				t.Fatalf("error %v does not wrap ErrInvalidType", err)
			}
			return
		}
		canon := typ.String()
		again, err := ParseType(canon)
		if err != nil {
			t.Fatalf("ParseType(%q) = %q, which does not parse: %v", s, canon, err)
		}
		if d := cmp.Diff(typ, again); d != "" {
			t.Fatalf("round trip of %q through %q changed the type:\n%s", s, canon, d)
		}
		if again.String() != canon {
			t.Fatalf("String is not stable: %q then %q", canon, again.String())
		}
	})
}
