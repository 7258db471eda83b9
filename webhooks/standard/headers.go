package standard

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// MaxSignatures bounds the v1 signatures one webhook-signature header may
// carry; a sender rotating secrets sends two.
const MaxSignatures = 8

// Signatures are the v1 signatures of a webhook-signature header, decoded.
type Signatures struct {
	n  int
	v1 [MaxSignatures][sha256.Size]byte
}

// Len returns how many v1 signatures there are.
func (s *Signatures) Len() int { return s.n }

// V1 returns the i-th v1 signature, decoded.
func (s *Signatures) V1(i int) []byte { return s.v1[i][:] }

// ParseSignatures decodes a webhook-signature header: a space-separated list
// of "<version>,<base64 signature>". Signatures of other versions (such as
// the asymmetric v1a) are skipped, since this receiver verifies v1 only. It
// returns an error wrapping ErrMalformed for an empty header, an entry
// without a version, a v1 signature that is not the base64 of 32 bytes, more
// than MaxSignatures v1 signatures, or no v1 signature at all.
func ParseSignatures(header string) (Signatures, error) {
	var out Signatures
	if strings.TrimSpace(header) == "" {
		return out, fmt.Errorf("%w: %s is missing", ErrMalformed, HeaderSignature)
	}
	rest := header
	for rest != "" {
		var entry string
		entry, rest, _ = strings.Cut(rest, " ")
		if entry == "" {
			continue
		}
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version == "" || sig == "" {
			return Signatures{}, fmt.Errorf("%w: %s entry %d is not \"<version>,<signature>\"",
				ErrMalformed, HeaderSignature, out.n+1)
		}
		if version != "v1" {
			continue
		}
		if out.n == MaxSignatures {
			return Signatures{}, fmt.Errorf("%w: %s has more than %d v1 signatures", ErrMalformed, HeaderSignature, MaxSignatures)
		}
		// A 32-byte HMAC is 44 base64 characters; decode into room for 33 so
		// that a longer value is caught rather than truncated.
		var buf [sha256.Size + 3]byte
		if len(sig) != base64.StdEncoding.EncodedLen(sha256.Size) {
			return Signatures{}, fmt.Errorf("%w: %s has a v1 signature of %d characters, want %d (base64 of a SHA-256 HMAC)",
				ErrMalformed, HeaderSignature, len(sig), base64.StdEncoding.EncodedLen(sha256.Size))
		}
		n, err := base64.StdEncoding.Decode(buf[:], []byte(sig))
		if err != nil || n != sha256.Size {
			return Signatures{}, fmt.Errorf("%w: %s has a v1 signature that is not valid base64", ErrMalformed, HeaderSignature)
		}
		copy(out.v1[out.n][:], buf[:n])
		out.n++
	}
	if out.n == 0 {
		return Signatures{}, fmt.Errorf("%w: %s has no v1 signature (only v1, HMAC-SHA256, is accepted)", ErrMalformed, HeaderSignature)
	}
	return out, nil
}

// ParseTimestamp decodes webhook-timestamp: Unix seconds, in decimal digits.
// It returns an error wrapping ErrMalformed when the header is missing or is
// not such a number.
func ParseTimestamp(header string) (int64, error) {
	if header == "" {
		return 0, fmt.Errorf("%w: %s is missing", ErrMalformed, HeaderTimestamp)
	}
	if len(header) > 12 || strings.TrimLeft(header, "0123456789") != "" {
		return 0, fmt.Errorf("%w: %s must be Unix seconds in decimal digits", ErrMalformed, HeaderTimestamp)
	}
	sec, err := strconv.ParseInt(header, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s must be Unix seconds in decimal digits", ErrMalformed, HeaderTimestamp)
	}
	return sec, nil
}

// checkID validates webhook-id: 1 to 256 printable ASCII characters without
// a full stop, which the specification forbids because the signed content is
// joined with full stops.
func checkID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: %s is missing", ErrMalformed, HeaderID)
	case len(id) > maxIDLength:
		return fmt.Errorf("%w: %s is longer than %d characters", ErrMalformed, HeaderID, maxIDLength)
	}
	for i := range len(id) {
		if c := id[i]; c <= ' ' || c > '~' || c == '.' {
			return fmt.Errorf("%w: %s must be printable ASCII without spaces or full stops", ErrMalformed, HeaderID)
		}
	}
	return nil
}
