package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a number of bytes. It parses from a plain number of bytes or a
// number with a decimal (KB, MB, GB, TB) or binary (KiB, MiB, GiB, TiB) unit,
// such as "20MB" or "64MiB", and prints in the largest unit that is exact.
type ByteSize int64

// Byte size units. Decimal units are powers of 1000, binary ones of 1024.
const (
	B   ByteSize = 1
	KB  ByteSize = 1000
	MB           = 1000 * KB
	GB           = 1000 * MB
	TB           = 1000 * GB
	KiB ByteSize = 1 << 10
	MiB          = 1024 * KiB
	GiB          = 1024 * MiB
	TiB          = 1024 * GiB
)

// byteUnits lists the units from largest to smallest; String picks the first
// that divides the size exactly, so binary units win over decimal ones of the
// same magnitude.
var byteUnits = []struct {
	name string
	size ByteSize
}{
	{"TiB", TiB}, {"TB", TB}, {"GiB", GiB}, {"GB", GB},
	{"MiB", MiB}, {"MB", MB}, {"KiB", KiB}, {"KB", KB}, {"B", B},
}

// ParseByteSize parses a size such as "64MiB", "20MB", "512KiB", "1.5GiB",
// "64 MiB" or "1048576". Units are case-insensitive; negative sizes are an
// error.
func ParseByteSize(s string) (ByteSize, error) {
	in := strings.TrimSpace(s)
	i := strings.IndexFunc(in, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(in)
	}
	num, unit := in[:i], strings.TrimSpace(in[i:])
	mult := B
	if unit != "" {
		mult = 0
		for _, u := range byteUnits {
			if strings.EqualFold(unit, u.name) {
				mult = u.size
				break
			}
		}
	}
	if num == "" || mult == 0 {
		return 0, fmt.Errorf("invalid byte size %q (want e.g. 64MiB, 20MB, 512KiB or a number of bytes)", s)
	}
	if n, err := strconv.ParseInt(num, 10, 64); err == nil {
		if n > math.MaxInt64/int64(mult) {
			return 0, fmt.Errorf("invalid byte size %q: too large", s)
		}
		return ByteSize(n) * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid byte size %q (want e.g. 64MiB, 20MB, 512KiB or a number of bytes)", s)
	}
	total := math.Round(f * float64(mult))
	if total >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid byte size %q: too large", s)
	}
	return ByteSize(total), nil
}

// String formats the size in the largest unit that represents it exactly,
// e.g. "64MiB", "20MB" or "1500B". ParseByteSize reads it back.
func (b ByteSize) String() string {
	if b == 0 {
		return "0B"
	}
	for _, u := range byteUnits {
		if b%u.size == 0 {
			return strconv.FormatInt(int64(b/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B" // unreachable: B divides everything
}

// MarshalText implements encoding.TextMarshaler, so sizes appear as "64MiB"
// in JSON and YAML output.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler using ParseByteSize.
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}
