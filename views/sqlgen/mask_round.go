package sqlgen

import (
	"fmt"
	"math/big"
	"strconv"
)

// roundMask rounds a number to digits digits after the decimal point
// (negative: before it), half away from zero as Trino's round does.
//
// Rounding can carry a value past the largest its type holds: round(125, -1)
// is 130, which a tinyint cannot hold, and round(9999999999.99, -3) needs a
// thirteenth digit in a decimal(12,2). Trino would fail the query on such a
// row, so the expression guards both ends with a CASE (which Trino evaluates
// lazily): a value that would overflow becomes the largest multiple of
// 10^-digits the type holds. The guard is left out when no value can
// overflow.
//
// An integer rounded to 0 or more digits, or a decimal rounded to its scale
// or more, would not change, and a rounding coarser than the whole type
// would change every value to 0; both are refused as mistakes.
func roundMask(ref string, t Type, digits int, column string) (string, error) {
	d := strconv.Itoa(digits)
	switch {
	case t.Kind == KindReal || t.Kind == KindDouble:
		return "round(" + ref + ", " + d + ")", nil
	case t.IsInteger():
		if digits >= 0 {
			return "", fmt.Errorf("%w: round masks on integer column %s need negative digits; %d changes nothing", ErrIncompatibleMask, column, digits)
		}
		b := integerBounds[t.Kind]
		return guardedRound(ref, d, big.NewInt(b[1]), big.NewInt(b[0]), pow10(-digits), 0, column, t)
	case t.Kind == KindDecimal:
		p, s := t.DecimalPrecision()
		if digits >= s {
			return "", fmt.Errorf("%w: round mask with digits %d changes nothing in column %s of type %s", ErrIncompatibleMask, digits, column, t)
		}
		hi := new(big.Int).Sub(pow10(p), big.NewInt(1))
		return guardedRound(ref, d, hi, new(big.Int).Neg(hi), pow10(s-digits), s, column, t)
	}
	return "", fmt.Errorf("%w: round masks numbers; column %s is %s", ErrIncompatibleMask, column, t)
}

// guardedRound builds the CASE for a type whose values, scaled by 10^scale,
// lie in [lo, hi], rounded to multiples of m (also scaled).
func guardedRound(ref, digits string, hi, lo, m *big.Int, scale int, column string, t Type) (string, error) {
	if m.Cmp(hi) > 0 {
		return "", fmt.Errorf("%w: round mask with digits %s would turn every value of column %s (%s) into 0", ErrIncompatibleMask, digits, column, t)
	}
	half := new(big.Int).Rsh(m, 1)
	// Largest multiple of m not above hi, and the value from which rounding
	// would pass it.
	top := new(big.Int).Mul(new(big.Int).Quo(hi, m), m)
	topEdge := new(big.Int).Add(top, half)
	// Likewise below lo (lo is negative; Quo truncates toward zero).
	bottom := new(big.Int).Mul(new(big.Int).Quo(lo, m), m)
	bottomEdge := new(big.Int).Sub(bottom, half)
	round := "round(" + ref + ", " + digits + ")"
	upper := topEdge.Cmp(hi) <= 0
	lower := bottomEdge.Cmp(lo) >= 0
	if !upper && !lower {
		return round, nil
	}
	expr := "CASE"
	if upper {
		expr += " WHEN " + ref + " >= " + scaledLiteral(topEdge, scale) + " THEN " + scaledLiteral(top, scale)
	}
	if lower {
		expr += " WHEN " + ref + " <= " + scaledLiteral(bottomEdge, scale) + " THEN " + scaledLiteral(bottom, scale)
	}
	return expr + " ELSE " + round + " END", nil
}
