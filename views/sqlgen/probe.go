package sqlgen

import (
	"fmt"
	"math/big"
	"strings"
)

// The probes below are statements Warden runs against a real Trino, as its
// own principal, when a mask or row policy is written, so that Trino itself
// confirms what this package checked syntactically.

// ExplainMask returns EXPLAIN SELECT <mask> AS "column" FROM <view>: Trino
// analyses the mask against the view's real columns and types, including
// the key subquery of a hash mask, without reading data.
func ExplainMask(view QualifiedName, column, mask string) (string, error) {
	v, err := view.Quoted()
	if err != nil {
		return "", err
	}
	c, err := QuoteIdent(column)
	if err != nil {
		return "", err
	}
	return "EXPLAIN SELECT " + mask + " AS " + c + " FROM " + v, nil
}

// ExplainRowFilter returns EXPLAIN SELECT count(*) FROM <view> WHERE
// (<predicate>) for a rendered predicate (render the template for a sample
// user that has every attribute it uses).
func ExplainRowFilter(view QualifiedName, predicate string) (string, error) {
	v, err := view.Quoted()
	if err != nil {
		return "", err
	}
	return "EXPLAIN SELECT count(*) FROM " + v + " WHERE (" + predicate + ")", nil
}

// SampleMask returns a query that runs the mask over sample values of the
// column's type, without any table:
//
//	SELECT <mask> FROM (VALUES (CAST(NULL AS t)), (<sample>), (<max>)) AS t("column")
//
// Running it (not only explaining it) makes Trino compile a regex mask's
// pattern and replacement, parse a constant, and evaluate a round mask's
// overflow guard at the type's largest value.
func SampleMask(col Column, mask string) (string, error) {
	c, err := QuoteIdent(col.Name)
	if err != nil {
		return "", err
	}
	rows := []string{castTo("NULL", col.Type)}
	rows = append(rows, sampleValues(col.Type)...)
	return "SELECT " + mask + " FROM (VALUES (" + strings.Join(rows, "), (") + ")) AS t(" + c + ")", nil
}

// sampleValues returns typed literals of t: an ordinary value and, for
// bounded types, the extreme one.
func sampleValues(t Type) []string {
	q := mustQuoteString
	switch {
	case t.Kind == KindBoolean:
		return []string{"true"}
	case t.IsInteger():
		b := integerBounds[t.Kind]
		return []string{castTo("42", t), castTo(fmt.Sprint(b[1]), t), castTo(fmt.Sprint(b[0]), t)}
	case t.Kind == KindDecimal:
		p, s := t.DecimalPrecision()
		max := scaledLiteral(new(big.Int).Sub(pow10(p), big.NewInt(1)), s)
		return []string{castTo(q("0"), t), castTo(q(max), t), castTo(q("-"+max), t)}
	case t.Kind == KindReal || t.Kind == KindDouble:
		return []string{castTo(q("1234.5678"), t)}
	case t.IsString():
		sample := "Ada.Lovelace@example.com 4242"
		if n, ok := t.Bounded(); ok {
			sample = truncateRunes(sample, n)
		}
		return []string{castTo(q(sample), t), castTo(q(""), t)}
	case t.Kind == KindDate:
		return []string{castTo(q("2024-02-29"), t)}
	case t.Kind == KindTimestamp:
		return []string{castTo(q("2024-02-29 12:34:56.789"), t)}
	case t.Kind == KindTimestampTZ:
		return []string{castTo(q("2024-02-29 12:34:56.789 UTC"), t)}
	case t.Kind == KindTime:
		return []string{castTo(q("12:34:56"), t)}
	case t.Kind == KindTimeTZ:
		return []string{castTo(q("12:34:56+01:00"), t)}
	case t.Kind == KindVarbinary:
		return []string{"X'00FF'"}
	case t.Kind == KindJSON:
		return []string{"JSON '{\"a\":1}'"}
	case t.Kind == KindUUID:
		return []string{castTo(q("12151fd2-7586-11e9-8f9e-2a86e4085a59"), t)}
	case t.Kind == KindIPAddress:
		return []string{castTo(q("192.0.2.1"), t)}
	case t.Kind == KindIntervalDayToSecond:
		return []string{"INTERVAL '1' DAY"}
	case t.Kind == KindIntervalYearToMonth:
		return []string{"INTERVAL '1' MONTH"}
	}
	return nil
}

func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
