package sqlgen

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on the attribute values Render turns into literals.
const (
	// MaxAttributeBytes bounds one string value.
	MaxAttributeBytes = 64 << 10
	// MaxListElements bounds one list value.
	MaxListElements = 10000
)

// scalarKind groups literal types, so that a list mixing them (which Trino
// would refuse to type) is caught here.
type scalarKind uint8

const (
	scalarString scalarKind = iota + 1
	scalarNumber
	scalarBool
)

// appendPlaceholder writes the literal for one placeholder. It reports
// false when the user lacks the value.
func appendPlaceholder(b *strings.Builder, s *slot, u *User) (bool, error) {
	var v any
	switch s.name {
	case "user.name":
		if u.Name == "" {
			return false, nil
		}
		v = u.Name
	case "user.groups":
		v = u.Groups
	default:
		v = u.Attributes[s.attr]
	}
	return appendValue(b, v, s.inList)
}

// appendValue writes v as a literal, a tuple (inList) or an ARRAY.
func appendValue(b *strings.Builder, v any, inList bool) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case []string:
		if len(x) == 0 {
			return false, nil
		}
		if len(x) > MaxListElements {
			return false, fmt.Errorf("%w: list of %d elements (at most %d)", ErrAttributeValue, len(x), MaxListElements)
		}
		openList(b, inList)
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := appendString(b, e); err != nil {
				return false, err
			}
		}
		closeList(b, inList)
		return true, nil
	case []any:
		if len(x) == 0 {
			return false, nil
		}
		if len(x) > MaxListElements {
			return false, fmt.Errorf("%w: list of %d elements (at most %d)", ErrAttributeValue, len(x), MaxListElements)
		}
		openList(b, inList)
		var first scalarKind
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			k, err := appendScalar(b, e)
			if err != nil {
				return false, err
			}
			if i == 0 {
				first = k
			} else if k != first {
				return false, fmt.Errorf("%w: list mixes strings, numbers and booleans", ErrAttributeValue)
			}
		}
		closeList(b, inList)
		return true, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8 {
		// Typed slices of numbers or booleans ([]int, []float64, []bool).
		elems := make([]any, rv.Len())
		for i := range elems {
			elems[i] = rv.Index(i).Interface()
		}
		return appendValue(b, elems, inList)
	}
	if inList {
		b.WriteByte('(')
	}
	if _, err := appendScalar(b, v); err != nil {
		return false, err
	}
	if inList {
		b.WriteByte(')')
	}
	return true, nil
}

func openList(b *strings.Builder, inList bool) {
	if inList {
		b.WriteByte('(')
	} else {
		b.WriteString("ARRAY[")
	}
}

func closeList(b *strings.Builder, inList bool) {
	if inList {
		b.WriteByte(')')
	} else {
		b.WriteByte(']')
	}
}

var jsonNumberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// appendScalar writes one string, number or boolean literal.
func appendScalar(b *strings.Builder, v any) (scalarKind, error) {
	switch x := v.(type) {
	case string:
		return scalarString, appendString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
		return scalarBool, nil
	case json.Number:
		if !jsonNumberRE.MatchString(string(x)) {
			return 0, fmt.Errorf("%w: malformed number %q", ErrAttributeValue, truncate(string(x), 40))
		}
		b.WriteString(string(x))
		return scalarNumber, nil
	case float64:
		return scalarNumber, appendFloat(b, x)
	case float32:
		return scalarNumber, appendFloat(b, float64(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int8, int16, int32, int64:
		b.WriteString(strconv.FormatInt(reflect.ValueOf(x).Int(), 10))
	case uint, uint8, uint16, uint32, uint64:
		b.WriteString(strconv.FormatUint(reflect.ValueOf(x).Uint(), 10))
	case nil:
		return 0, fmt.Errorf("%w: null inside a list", ErrAttributeValue)
	default:
		return 0, fmt.Errorf("%w: a %T cannot be a literal (only strings, numbers, booleans and lists of them)", ErrAttributeValue, v)
	}
	return scalarNumber, nil
}

// appendFloat writes an integral value as an integer literal and any other
// as the shortest decimal (1.5) or exponent (1e+21) form that round-trips,
// both of which Trino's lexer reads as one number.
func appendFloat(b *strings.Builder, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%w: %v is not a finite number", ErrAttributeValue, f)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		b.WriteString(strconv.FormatInt(int64(f), 10))
		return nil
	}
	b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	return nil
}

// appendString writes s as a quoted literal.
func appendString(b *strings.Builder, s string) error {
	if len(s) > MaxAttributeBytes {
		return fmt.Errorf("%w: string of %d bytes (at most %d)", ErrAttributeValue, len(s), MaxAttributeBytes)
	}
	if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		return fmt.Errorf("%w: string contains NUL or invalid UTF-8", ErrAttributeValue)
	}
	appendQuoted(b, s, '\'')
	return nil
}
