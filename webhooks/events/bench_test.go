package events_test

import (
	"testing"

	"github.com/trino-warden/warden/webhooks/events"
)

// BenchmarkDecode measures decoding a user upsert and a policy change.
func BenchmarkDecode(b *testing.B) {
	valid := fixtures(b, "valid")
	for _, name := range []string{"01-user-upserted.json", "08-policy-changed.json"} {
		body := valid[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := events.Decode(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
