package sqlgen

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// constantText decodes a constant mask's JSON value into its text: a JSON
// string as its contents, a number or a boolean as written.
func constantText(raw json.RawMessage) (text string, isString bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, fmt.Errorf("%w: constant needs a value (use kind null for NULL)", ErrInvalidMask)
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, fmt.Errorf("%w: constant value: %w", ErrInvalidMask, err)
		}
		return s, true, nil
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return "", false, fmt.Errorf("%w: constant value: %w", ErrInvalidMask, err)
		}
		return strconv.FormatBool(b), false, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", false, fmt.Errorf("%w: constant value must be a string, number or boolean", ErrInvalidMask)
	}
	return n.String(), false, nil
}

var (
	integerRE   = regexp.MustCompile(`^[+-]?[0-9]+$`)
	decimalRE   = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$`)
	floatRE     = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
	timeRE      = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.([0-9]{1,12}))?)?$`)
	timestampRE = regexp.MustCompile(`^([0-9]{4}-[0-9]{2}-[0-9]{2})( ([0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,12})?)?))?( (UTC|Z|[+-][0-9]{2}:[0-9]{2}|[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*))?$`)
	offsetRE    = regexp.MustCompile(`^[+-][0-9]{2}:[0-9]{2}$`)
	uuidRE      = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// integerBounds are the ranges of Trino's integer types.
var integerBounds = map[Kind][2]int64{
	KindTinyint:  {math.MinInt8, math.MaxInt8},
	KindSmallint: {math.MinInt16, math.MaxInt16},
	KindInteger:  {math.MinInt32, math.MaxInt32},
	KindBigint:   {math.MinInt64, math.MaxInt64},
}

// constantLiteral checks that text is a valid value of t and returns a SQL
// expression of exactly type t for it.
func constantLiteral(text string, isString bool, t Type, column string) (string, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: constant %q for column %s of type %s: %s", ErrIncompatibleMask, truncate(text, 60), column, t, fmt.Sprintf(format, args...))
	}
	if err := checkText("constant", text); err != nil {
		return "", err
	}
	switch {
	case t.Kind == KindBoolean:
		if text != "true" && text != "false" {
			return "", bad("want true or false")
		}
		return castTo(text, t), nil
	case t.IsInteger():
		b := integerBounds[t.Kind]
		n, err := strconv.ParseInt(text, 10, 64)
		if !integerRE.MatchString(text) || err != nil || n < b[0] || n > b[1] {
			return "", bad("want an integer from %d to %d", b[0], b[1])
		}
		return castTo(strconv.FormatInt(n, 10), t), nil
	case t.Kind == KindDecimal:
		p, s := t.DecimalPrecision()
		if !decimalRE.MatchString(text) {
			return "", bad("want a decimal number")
		}
		intPart, frac, _ := strings.Cut(strings.TrimLeft(text, "+-"), ".")
		intPart = strings.TrimLeft(intPart, "0")
		if len(frac) > s || len(intPart) > p-s {
			return "", bad("does not fit decimal(%d,%d)", p, s)
		}
		return castTo(mustQuoteString(text), t), nil
	case t.Kind == KindReal || t.Kind == KindDouble:
		bits := 64
		if t.Kind == KindReal {
			bits = 32
		}
		f, err := strconv.ParseFloat(text, bits)
		if !floatRE.MatchString(text) || err != nil || math.IsInf(f, 0) {
			return "", bad("want a finite number")
		}
		return castTo(mustQuoteString(text), t), nil
	case t.IsString():
		if !isString {
			return "", bad("want a JSON string")
		}
		if n, ok := t.Bounded(); ok && utf8.RuneCountInString(text) > n {
			return "", bad("longer than %d characters", n)
		}
		return castTo(mustQuoteString(text), t), nil
	case t.Kind == KindDate:
		if _, err := time.Parse(time.DateOnly, text); err != nil {
			return "", bad("want an ISO date, YYYY-MM-DD")
		}
		return castTo(mustQuoteString(text), t), nil
	case t.Kind == KindTime || t.Kind == KindTimeTZ:
		body := text
		if t.Kind == KindTimeTZ {
			i := strings.LastIndexAny(text, "+-")
			if i < 0 || !offsetRE.MatchString(text[i:]) {
				return "", bad("want HH:MM:SS[.fff]+HH:MM")
			}
			body = text[:i]
		}
		if !timeRE.MatchString(body) {
			return "", bad("want HH:MM:SS[.fff]")
		}
		return castTo(mustQuoteString(text), t), nil
	case t.Kind == KindTimestamp || t.Kind == KindTimestampTZ:
		m := timestampRE.FindStringSubmatch(text)
		if m == nil {
			return "", bad("want YYYY-MM-DD[ HH:MM:SS[.fff]]%s", map[bool]string{true: " ZONE", false: ""}[t.Kind == KindTimestampTZ])
		}
		if _, err := time.Parse(time.DateOnly, m[1]); err != nil {
			return "", bad("invalid date %s", m[1])
		}
		if m[3] != "" && !timeRE.MatchString(m[3]) {
			return "", bad("invalid time %s", m[3])
		}
		if hasZone := m[6] != ""; hasZone != (t.Kind == KindTimestampTZ) {
			return "", bad("a time zone is required exactly for timestamp with time zone")
		}
		return castTo(mustQuoteString(text), t), nil
	case t.Kind == KindVarbinary:
		if _, err := hex.DecodeString(text); err != nil || !isString {
			return "", bad("want an even number of hex digits")
		}
		return castTo("X"+mustQuoteString(text), t), nil
	case t.Kind == KindJSON:
		if !isString || !json.Valid([]byte(text)) {
			return "", bad("want a JSON document in a string")
		}
		return castTo("JSON "+mustQuoteString(text), t), nil
	case t.Kind == KindUUID:
		if !uuidRE.MatchString(text) {
			return "", bad("want a UUID")
		}
		return castTo(mustQuoteString(text), t), nil
	case t.Kind == KindIPAddress:
		if _, err := netip.ParseAddr(text); err != nil || strings.Contains(text, "%") {
			return "", bad("want an IPv4 or IPv6 address")
		}
		return castTo(mustQuoteString(text), t), nil
	}
	return "", fmt.Errorf("%w: constant masks apply to scalar types; column %s is %s (use kind null)", ErrIncompatibleMask, column, t)
}

// castTo wraps expr in a CAST to t.
func castTo(expr string, t Type) string {
	return "CAST(" + expr + " AS " + t.String() + ")"
}

// pow10 returns 10^n as a big integer.
func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// scaledLiteral formats v/10^scale as a decimal literal.
func scaledLiteral(v *big.Int, scale int) string {
	neg := v.Sign() < 0
	digits := new(big.Int).Abs(v).String()
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}
