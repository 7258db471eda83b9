package standard_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/webhooks/standard"
)

// The published test vector of the specification's reference libraries
// (libraries/go/webhook_test.go, TestWebhookSign, and the same values in the
// other languages).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorPayload   = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	// otherSignature is the well-formed but wrong signature the reference
	// tests use.
	otherSignature = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
	// rotatedSecret is a second valid secret (32 bytes).
	rotatedSecret = "whsec_Y2hhbmdlZC1zZWNyZXQtZm9yLXJvdGF0aW9uLXRlc3Q="
)

func TestSignVector(t *testing.T) {
	t.Parallel()
	key, err := standard.ParseSecret(vectorSecret)
	require.NoError(t, err)
	require.Equal(t, vectorSignature, standard.Sign(key, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorPayload)))
	// The bare base64 form is the same secret.
	bare, err := standard.ParseSecret(strings.TrimPrefix(vectorSecret, standard.SecretPrefix))
	require.NoError(t, err)
	require.Equal(t, key, bare)
}

func headers(id, ts, sig string) http.Header {
	h := http.Header{}
	if id != "" {
		h.Set(standard.HeaderID, id)
	}
	if ts != "" {
		h.Set(standard.HeaderTimestamp, ts)
	}
	if sig != "" {
		h.Set(standard.HeaderSignature, sig)
	}
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	at := time.Unix(vectorTimestamp, 0)
	ts := strconv.Itoa(vectorTimestamp)
	rotatedKey, err := standard.ParseSecret(rotatedSecret)
	require.NoError(t, err)
	rotatedSig := standard.Sign(rotatedKey, vectorID, at, []byte(vectorPayload))

	tests := []struct {
		name    string
		secrets []string
		now     time.Time
		h       http.Header
		body    string
		want    error // nil, ErrMalformed or ErrUnauthorized
		msg     string
	}{
		{name: "published vector", h: headers(vectorID, ts, vectorSignature)},
		{name: "several signatures, one valid", h: headers(vectorID, ts, otherSignature+" v2,"+otherSignature[3:]+" "+vectorSignature+" "+otherSignature)},
		{name: "asymmetric signature skipped", h: headers(vectorID, ts, "v1a,aGVsbG8= "+vectorSignature)},
		{name: "extra spaces", h: headers(vectorID, ts, "  "+vectorSignature+"  ")},
		{name: "rotation: old secret still listed", secrets: []string{rotatedSecret, vectorSecret}, h: headers(vectorID, ts, vectorSignature)},
		{name: "rotation: new secret", secrets: []string{rotatedSecret, vectorSecret}, h: headers(vectorID, ts, rotatedSig)},
		{name: "rotation: old secret removed", secrets: []string{rotatedSecret}, h: headers(vectorID, ts, vectorSignature), want: standard.ErrUnauthorized},
		{name: "4m59s old", now: at.Add(5*time.Minute - time.Second), h: headers(vectorID, ts, vectorSignature)},
		{name: "exactly at the tolerance", now: at.Add(5 * time.Minute), h: headers(vectorID, ts, vectorSignature)},
		{name: "too old", now: at.Add(5*time.Minute + time.Second), h: headers(vectorID, ts, vectorSignature), want: standard.ErrUnauthorized, msg: "old"},
		{name: "too new", now: at.Add(-5*time.Minute - time.Second), h: headers(vectorID, ts, vectorSignature), want: standard.ErrUnauthorized, msg: "future"},
		{name: "wrong signature", h: headers(vectorID, ts, otherSignature), want: standard.ErrUnauthorized, msg: "no v1 signature"},
		{name: "body changed", h: headers(vectorID, ts, vectorSignature), body: `{"test": 2432232315}`, want: standard.ErrUnauthorized},
		{name: "id changed", h: headers("msg_other", ts, vectorSignature), want: standard.ErrUnauthorized},
		{name: "timestamp changed", now: at.Add(time.Second), h: headers(vectorID, strconv.Itoa(vectorTimestamp+1), vectorSignature), want: standard.ErrUnauthorized},
		{name: "missing id", h: headers("", ts, vectorSignature), want: standard.ErrMalformed, msg: "webhook-id is missing"},
		{name: "missing timestamp", h: headers(vectorID, "", vectorSignature), want: standard.ErrMalformed, msg: "webhook-timestamp is missing"},
		{name: "missing signature", h: headers(vectorID, ts, ""), want: standard.ErrMalformed, msg: "webhook-signature is missing"},
		{name: "id with a full stop", h: headers("msg.1", ts, vectorSignature), want: standard.ErrMalformed, msg: "full stops"},
		{name: "id too long", h: headers(strings.Repeat("a", 257), ts, vectorSignature), want: standard.ErrMalformed},
		{name: "timestamp not a number", h: headers(vectorID, "2021-02-25", vectorSignature), want: standard.ErrMalformed, msg: "Unix seconds"},
		{name: "negative timestamp", h: headers(vectorID, "-1", vectorSignature), want: standard.ErrMalformed},
		{name: "timestamp in milliseconds overflowing", h: headers(vectorID, "99999999999999999999", vectorSignature), want: standard.ErrMalformed},
		{name: "signature without version", h: headers(vectorID, ts, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), want: standard.ErrMalformed, msg: "<version>,<signature>"},
		{name: "signature not base64", h: headers(vectorID, ts, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O!="), want: standard.ErrMalformed, msg: "base64"},
		{name: "signature too short", h: headers(vectorID, ts, "v1,aGVsbG8="), want: standard.ErrMalformed, msg: "44"},
		{name: "only other versions", h: headers(vectorID, ts, "v2,"+otherSignature[3:]), want: standard.ErrMalformed, msg: "no v1 signature"},
		{name: "too many signatures", h: headers(vectorID, ts, strings.Repeat(otherSignature+" ", 9)), want: standard.ErrMalformed, msg: "more than 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secrets := tt.secrets
			if secrets == nil {
				secrets = []string{vectorSecret}
			}
			now := tt.now
			if now.IsZero() {
				now = at
			}
			v, err := standard.NewVerifier(standard.Options{Secrets: secrets, Now: func() time.Time { return now }})
			require.NoError(t, err)
			body := tt.body
			if body == "" {
				body = vectorPayload
			}
			msg, err := v.Verify(tt.h, []byte(body))
			if tt.want == nil {
				require.NoError(t, err)
				require.Equal(t, standard.Message{ID: tt.h.Get(standard.HeaderID), Timestamp: at}, msg)
				return
			}
			require.ErrorIs(t, err, tt.want)
			other := standard.ErrMalformed
			if tt.want == standard.ErrMalformed {
				other = standard.ErrUnauthorized
			}
			require.NotErrorIs(t, err, other)
			require.Contains(t, err.Error(), tt.msg)
			require.NotContains(t, err.Error(), "MfKQ9r8G", "a secret must never appear in an error")
		})
	}
}

func TestToleranceConfigurable(t *testing.T) {
	t.Parallel()
	at := time.Unix(vectorTimestamp, 0)
	h := headers(vectorID, strconv.Itoa(vectorTimestamp), vectorSignature)
	for _, tt := range []struct {
		tolerance time.Duration
		skew      time.Duration
		ok        bool
	}{
		{time.Minute, 59 * time.Second, true},
		{time.Minute, 61 * time.Second, false},
		{time.Minute, -61 * time.Second, false},
		{time.Hour, 59 * time.Minute, true},
		{time.Hour, -59 * time.Minute, true},
	} {
		v, err := standard.NewVerifier(standard.Options{Secrets: []string{vectorSecret}, Tolerance: tt.tolerance,
			Now: func() time.Time { return at.Add(tt.skew) }})
		require.NoError(t, err)
		_, err = v.Verify(h, []byte(vectorPayload))
		if tt.ok {
			require.NoError(t, err, "tolerance %s, skew %s", tt.tolerance, tt.skew)
		} else {
			require.ErrorIs(t, err, standard.ErrUnauthorized, "tolerance %s, skew %s", tt.tolerance, tt.skew)
		}
	}
}

func TestNewVerifierErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opts standard.Options
		msg  string
	}{
		{"no secret", standard.Options{}, "at least one secret"},
		{"not base64", standard.Options{Secrets: []string{"whsec_not base64!"}}, "not base64"},
		{"too short", standard.Options{Secrets: []string{"whsec_c2hvcnQ="}}, "decodes to 5 bytes"},
		{"too long", standard.Options{Secrets: []string{"whsec_" + strings.Repeat("QUFB", 22)}}, "decodes to 66 bytes"},
		{"negative tolerance", standard.Options{Secrets: []string{vectorSecret}, Tolerance: -time.Second}, "negative"},
	} {
		_, err := standard.NewVerifier(tt.opts)
		require.ErrorContains(t, err, tt.msg, tt.name)
	}
}

func TestParseSignatures(t *testing.T) {
	t.Parallel()
	sigs, err := standard.ParseSignatures(otherSignature + " v1a,xyz " + vectorSignature)
	require.NoError(t, err)
	require.Equal(t, 2, sigs.Len())
	require.Len(t, sigs.V1(1), 32)
}

func FuzzParseSignatures(f *testing.F) {
	for _, s := range []string{vectorSignature, otherSignature + " " + vectorSignature, "v1a,abc v1,", "", " ", ",", "v1,====", strings.Repeat("v1,x ", 10)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		sigs, err := standard.ParseSignatures(header)
		if err != nil {
			require.ErrorIs(t, err, standard.ErrMalformed)
			return
		}
		require.Positive(t, sigs.Len())
		require.LessOrEqual(t, sigs.Len(), standard.MaxSignatures)
	})
}

// FuzzVerify feeds arbitrary headers and bodies: Verify never panics, every
// error is malformed or unauthorized, and only the true signature passes.
func FuzzVerify(f *testing.F) {
	f.Add(vectorID, strconv.Itoa(vectorTimestamp), vectorSignature, []byte(vectorPayload))
	f.Add("msg.1", "1614265330", otherSignature, []byte(`{}`))
	f.Add("", "x", "v1,", []byte(nil))
	key, err := standard.ParseSecret(vectorSecret)
	require.NoError(f, err)
	v, err := standard.NewVerifier(standard.Options{Secrets: []string{vectorSecret},
		Now: func() time.Time { return time.Unix(vectorTimestamp, 0) }})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		msg, err := v.Verify(headers(id, ts, sig), body)
		if err != nil {
			if !errorsIsEither(err) {
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrUnauthorized", err)
			}
			return
		}
		require.Contains(t, strings.Fields(sig), standard.Sign(key, msg.ID, msg.Timestamp, body))
	})
}

func errorsIsEither(err error) bool {
	return errorsIs(err, standard.ErrMalformed) || errorsIs(err, standard.ErrUnauthorized)
}
