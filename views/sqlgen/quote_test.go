package sqlgen

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQuoteIdent(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"a", `"a"`},
		{`a"b`, `"a""b"`},
		{`"`, `""""`},
		{"Straße", `"Straße"`},
		{"with space", `"with space"`},
		{"x';--", `"x';--"`},
	}
	for _, tc := range tests {
		got, err := QuoteIdent(tc.in)
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
		back, n, err := unquoteIdent(got)
		require.NoError(t, err)
		require.Equal(t, tc.in, back)
		require.Equal(t, len(got), n)
	}
	for _, bad := range []string{"", "a\x00b", "\xff"} {
		_, err := QuoteIdent(bad)
		require.True(t, errors.Is(err, ErrInvalidName), "%q: %v", bad, err)
	}
}

func TestQuoteString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", `''`},
		{"it's", `'it''s'`},
		{"''", `''''''`},
		{`back\slash`, `'back\slash'`},
		{"line\nbreak", "'line\nbreak'"},
		{"’unicode quotes‘", "'’unicode quotes‘'"},
		{"'; DROP TABLE x; --", `'''; DROP TABLE x; --'`},
	}
	for _, tc := range tests {
		got, err := QuoteString(tc.in)
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
		toks, err := tokenize(got)
		require.NoError(t, err)
		require.Len(t, toks, 2, "a quoted string is one token")
		require.Equal(t, tc.in, toks[0].val)
	}
	for _, bad := range []string{"a\x00", "\xc3\x28"} {
		_, err := QuoteString(bad)
		require.True(t, errors.Is(err, ErrInvalidName), "%q: %v", bad, err)
	}
}

func TestParseQualifiedName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   QualifiedName
		quoted string
	}{
		{"hive.sales.orders", QualifiedName{"hive", "sales", "orders"}, `"hive"."sales"."orders"`},
		{"Hive.Sales.Orders", QualifiedName{"hive", "sales", "orders"}, `"hive"."sales"."orders"`},
		{`governed."My ""T""".x_1`, QualifiedName{"governed", `My "T"`, "x_1"}, `"governed"."My ""T"""."x_1"`},
		{` "a.b" . c . d `, QualifiedName{"a.b", "c", "d"}, `"a.b"."c"."d"`},
	}
	for _, tc := range tests {
		got, err := ParseQualifiedName(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
		q, err := got.Quoted()
		require.NoError(t, err)
		require.Equal(t, tc.quoted, q)
		again, err := ParseQualifiedName(q)
		require.NoError(t, err)
		require.Equal(t, got, again)
	}
	for _, bad := range []string{"", "a.b", "a.b.c.d", "a..c", `a.b."c`, `a.b.""`, "a.b.c;", "1a.b.c", "a.b.c d"} {
		_, err := ParseQualifiedName(bad)
		require.True(t, errors.Is(err, ErrInvalidName), "%q: %v", bad, err)
	}
	_, err := QualifiedName{"a", "", "c"}.Quoted()
	require.ErrorIs(t, err, ErrInvalidName)
}

func FuzzParseQualifiedName(f *testing.F) {
	for _, s := range []string{"a.b.c", `"x"".y"."s".t`, ` "a.b" . c . d `, "A.B.C"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQualifiedName(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("error %v does not wrap ErrInvalidName", err)
			}
			return
		}
		quoted, err := q.Quoted()
		if err != nil {
			t.Fatalf("parsed %q to %#v, which does not quote: %v", s, q, err)
		}
		again, err := ParseQualifiedName(quoted)
		if err != nil || again != q {
			t.Fatalf("round trip of %q through %q gave %#v, %v", s, quoted, again, err)
		}
		toks, err := tokenize(quoted)
		if err != nil || len(toks) != 6 {
			t.Fatalf("%q is not three identifiers and two dots: %v", quoted, err)
		}
	})
}
