package sqlgen

import (
	"testing"
)

// BenchmarkRender measures the per-decision cost of a row filter: rendering
// a parsed template for one user.
func BenchmarkRender(b *testing.B) {
	tmpl, err := ParseTemplate("region = {{user.region}} AND dept IN {{user.departments}} OR owner = {{user.name}}", viewColumns)
	if err != nil {
		b.Fatal(err)
	}
	u := &User{Name: "alice", Groups: []string{"sales"}, Attributes: map[string]any{
		"region": "EU", "departments": []any{"d1", "d2", "o'brien"},
	}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRowPolicyRender measures a three-rule policy for a user two rules
// apply to.
func BenchmarkRowPolicyRender(b *testing.B) {
	p, err := CompileRowPolicy(RowPolicy{
		UnfilteredGroups: []string{"auditors"},
		Rules: []RowRule{
			{Groups: []string{"sales"}, Predicate: "region = {{user.region}}"},
			{Groups: []string{"hr"}, Predicate: "dept IN {{user.departments}}"},
			{Predicate: "owner = {{user.name}}"},
		},
	}, viewColumns)
	if err != nil {
		b.Fatal(err)
	}
	u := &User{Name: "alice", Groups: []string{"sales", "eu"}, Attributes: map[string]any{"region": "EU"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.Render(u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseTemplate measures the write-time cost that Render avoids.
func BenchmarkParseTemplate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseTemplate("region = {{user.region}} AND dept IN {{user.departments}} OR owner = {{user.name}}", viewColumns); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileMask measures generating a mask for a column, for the
// kinds whose generation does the most work.
func BenchmarkCompileMask(b *testing.B) {
	cases := []struct {
		name string
		m    Mask
		typ  string
	}{
		{"last4", Mask{Kind: MaskLast4}, "varchar(25)"},
		{"round", Mask{Kind: MaskRound, Digits: new(-3)}, "decimal(12,2)"},
		{"hash", Mask{Kind: MaskHash, Key: "pii"}, "varchar(25)"},
		{"constant", Mask{Kind: MaskConstant, Value: []byte(`"2024-01-01"`)}, "date"},
		{"custom", Mask{Kind: MaskCustom, Expression: "IF(length({{column}}) > 2, {{column}}, NULL)"}, "varchar(25)"},
	}
	for _, c := range cases {
		col := Column{Name: "c", Type: MustParseType(c.typ)}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CompileMask(c.m, col, MaskOptions{Keys: testKeys}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseType measures parsing a column type as Trino reports it.
func BenchmarkParseType(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseType("map(varchar(10), array(row(a bigint, b timestamp(6) with time zone)))"); err != nil {
			b.Fatal(err)
		}
	}
}
