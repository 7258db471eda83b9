// Package standard verifies webhook deliveries signed as the Standard
// Webhooks specification (https://www.standardwebhooks.com/) describes: the
// webhook-id, webhook-timestamp and webhook-signature headers, and a
// signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>" under a secret
// written "whsec_<base64>".
//
// A Verifier accepts several secrets at once, so that a sender can rotate
// its secret without downtime, and a delivery whose timestamp is further
// than the tolerance (5 minutes by default) from the receiver's clock, in
// either direction, is refused as a possible replay. Signatures are compared
// in constant time.
package standard

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The headers of a Standard Webhooks delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// The headers in the canonical form http.Header stores them in.
const (
	canonicalID        = "Webhook-Id"
	canonicalTimestamp = "Webhook-Timestamp"
	canonicalSignature = "Webhook-Signature"
)

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock, in either direction, unless Options say otherwise.
const DefaultTolerance = 5 * time.Minute

// SecretPrefix starts the serialized form of a symmetric signing secret.
const SecretPrefix = "whsec_"

// Bounds on a secret's decoded length, as the specification sets them: at
// least 24 bytes (192 bits) and at most 64 (512 bits).
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
)

// maxIDLength bounds webhook-id; real IDs are a few dozen characters.
const maxIDLength = 256

// Errors of Verify. Every error it returns wraps exactly one of them.
var (
	// ErrMalformed means a header is missing or garbled: the request is bad
	// (HTTP 400).
	ErrMalformed = errors.New("malformed webhook headers")
	// ErrUnauthorized means the headers are well formed but the delivery is
	// not authentic or not fresh: no signature matches, or the timestamp is
	// outside the tolerance (HTTP 401).
	ErrUnauthorized = errors.New("webhook not authenticated")
)

// ParseSecret decodes a secret written "whsec_<base64>". Like the
// specification's reference libraries it also takes the bare base64. It
// returns an error naming the problem, never the secret, for bad base64 or a
// decoded length outside 24..64 bytes.
func ParseSecret(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), SecretPrefix))
	if err != nil {
		return nil, errors.New("standard webhooks secret: not base64 after the whsec_ prefix")
	}
	if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return nil, fmt.Errorf("standard webhooks secret: decodes to %d bytes, want %d to %d", len(key), MinSecretBytes, MaxSecretBytes)
	}
	return key, nil
}

// Options configure a Verifier.
type Options struct {
	// Secrets are the signing secrets currently valid, each "whsec_<base64>".
	// A delivery signed with any of them is accepted: list the new and the
	// old secret while rotating. At least one is required.
	Secrets []string
	// Tolerance is how far a delivery's timestamp may be from now, in either
	// direction (default DefaultTolerance).
	Tolerance time.Duration
	// Now returns the current time (default time.Now); tests set it.
	Now func() time.Time
}

// Verifier checks the signature and freshness of deliveries. It is safe for
// concurrent use.
type Verifier struct {
	keys      []key
	tolerance time.Duration
	now       func() time.Time
}

// key is one secret with a pool of HMAC states for it, so that verifying
// does not allocate one per request.
type key struct {
	pool *sync.Pool
}

// macState is a reusable HMAC with a scratch buffer for "id.timestamp.".
type macState struct {
	h   hash.Hash
	buf []byte
}

func (k key) sum(id, ts string, body []byte, out *[sha256.Size]byte) {
	m := k.pool.Get().(*macState)
	m.h.Reset()
	m.buf = append(append(append(append(m.buf[:0], id...), '.'), ts...), '.')
	_, _ = m.h.Write(m.buf)
	_, _ = m.h.Write(body)
	m.h.Sum(out[:0])
	k.pool.Put(m)
}

var dot = []byte{'.'}

// NewVerifier checks the options and decodes the secrets. It returns an
// error when there is no secret, a secret is bad, or the tolerance is
// negative.
func NewVerifier(opts Options) (*Verifier, error) {
	if len(opts.Secrets) == 0 {
		return nil, errors.New("standard webhooks: at least one secret is required")
	}
	if opts.Tolerance < 0 {
		return nil, fmt.Errorf("standard webhooks: tolerance must not be negative, got %s", opts.Tolerance)
	}
	v := &Verifier{tolerance: opts.Tolerance, now: opts.Now}
	if v.tolerance == 0 {
		v.tolerance = DefaultTolerance
	}
	if v.now == nil {
		v.now = time.Now
	}
	for i, s := range opts.Secrets {
		raw, err := ParseSecret(s)
		if err != nil {
			return nil, fmt.Errorf("secret %d: %w", i+1, err)
		}
		v.keys = append(v.keys, key{pool: &sync.Pool{New: func() any {
			return &macState{h: hmac.New(sha256.New, raw), buf: make([]byte, 0, maxIDLength+32)}
		}}})
	}
	return v, nil
}

// Message is the verified metadata of a delivery.
type Message struct {
	// ID is webhook-id: the sender's idempotency key, the same on retries.
	ID string
	// Timestamp is webhook-timestamp: when this attempt was sent.
	Timestamp time.Time
}

// Verify checks a delivery's headers and body. It returns an error wrapping
// ErrMalformed when a header is missing or garbled, and ErrUnauthorized when
// the timestamp is outside the tolerance or no v1 signature matches any
// secret. Messages name the header and the problem, never a secret or a
// signature.
func (v *Verifier) Verify(h http.Header, body []byte) (Message, error) {
	// The canonical spellings spare http.Header.Get a conversion per call.
	id, ts, sigHeader := h.Get(canonicalID), h.Get(canonicalTimestamp), h.Get(canonicalSignature)
	if err := checkID(id); err != nil {
		return Message{}, err
	}
	sec, err := ParseTimestamp(ts)
	if err != nil {
		return Message{}, err
	}
	sigs, err := ParseSignatures(sigHeader)
	if err != nil {
		return Message{}, err
	}
	when := time.Unix(sec, 0)
	now := v.now()
	if d := now.Sub(when); d > v.tolerance {
		return Message{}, fmt.Errorf("%w: %s is %s old, more than the %s allowed: a replay, or a clock off",
			ErrUnauthorized, HeaderTimestamp, d.Truncate(time.Second), v.tolerance)
	} else if -d > v.tolerance {
		return Message{}, fmt.Errorf("%w: %s is %s in the future, more than the %s allowed",
			ErrUnauthorized, HeaderTimestamp, (-d).Truncate(time.Second), v.tolerance)
	}
	var want [sha256.Size]byte
	matched := false
	for _, k := range v.keys {
		k.sum(id, ts, body, &want)
		// Every candidate is compared, in constant time each, so the time
		// taken does not tell which secret or signature matched.
		for i := range sigs.n {
			if hmac.Equal(want[:], sigs.v1[i][:]) {
				matched = true
			}
		}
	}
	if !matched {
		return Message{}, fmt.Errorf("%w: no v1 signature in %s matches a configured secret", ErrUnauthorized, HeaderSignature)
	}
	return Message{ID: id, Timestamp: when}, nil
}

// Sign returns the v1 signature of a delivery under a secret (as decoded by
// ParseSecret): "v1," and the base64 HMAC-SHA256 of "id.timestamp.body".
// Senders and tests use it; Verify does not.
func Sign(secret []byte, id string, timestamp time.Time, body []byte) string {
	h := hmac.New(sha256.New, secret)
	ts := strconv.FormatInt(timestamp.Unix(), 10)
	_, _ = h.Write([]byte(id))
	_, _ = h.Write(dot)
	_, _ = h.Write([]byte(ts))
	_, _ = h.Write(dot)
	_, _ = h.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(h.Sum(nil))
}
