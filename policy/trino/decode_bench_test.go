package trino

import "testing"

// BenchmarkDecode measures Decode and, for comparison, DecodeReference on
// one request of each corpus: run with -bench Decode -benchmem. The
// reference's numbers are what the hand-written decoder replaced.
func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct {
		name, file string
	}{
		{"allow", "allow.jsonl"},
		{"filter_tables_20000", "filter_tables_20000.jsonl"},
		{"batch_column_masks_250", "batch_column_masks_250.jsonl"},
	} {
		body := benchLines(b, bc.file)[0]
		for _, dc := range []struct {
			name   string
			decode func([]byte) (*Request, error)
		}{
			{"fast", Decode},
			{"reference", DecodeReference},
		} {
			b.Run(bc.name+"/"+dc.name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := dc.decode(body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDecodeAllowCorpus decodes the 1000 requests of allow.jsonl in
// turn, a mix of operations rather than one.
func BenchmarkDecodeAllowCorpus(b *testing.B) {
	lines := benchLines(b, "allow.jsonl")
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := Decode(lines[i]); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(lines)
	}
}
