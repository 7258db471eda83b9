package standard_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trino-warden/warden/webhooks/standard"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// BenchmarkVerify measures one verification of a 4 KiB body, with one
// secret and with two during a rotation.
func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"version":1,"type":"user.upserted","data":{"userName":"` + strings.Repeat("a", 4000) + `"}}`)
	at := time.Unix(vectorTimestamp, 0)
	key, err := standard.ParseSecret(vectorSecret)
	if err != nil {
		b.Fatal(err)
	}
	h := http.Header{}
	h.Set(standard.HeaderID, vectorID)
	h.Set(standard.HeaderTimestamp, strconv.Itoa(vectorTimestamp))
	h.Set(standard.HeaderSignature, standard.Sign(key, vectorID, at, body))
	for _, bc := range []struct {
		name    string
		secrets []string
	}{
		{"one_secret", []string{vectorSecret}},
		{"rotation", []string{rotatedSecret, vectorSecret}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v, err := standard.NewVerifier(standard.Options{Secrets: bc.secrets, Now: func() time.Time { return at }})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := v.Verify(h, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseSignatures(b *testing.B) {
	header := otherSignature + " " + vectorSignature
	b.ReportAllocs()
	for b.Loop() {
		if _, err := standard.ParseSignatures(header); err != nil {
			b.Fatal(err)
		}
	}
}
