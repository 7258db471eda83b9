// Package trinotest holds test helpers for the plugin's wire format.
package trinotest

import (
	"bufio"
	"bytes"
	"os"
	"testing"
)

// Bodies reads a JSONL file of request bodies, one per line, as the
// benchmark corpora and the load generator use them. Blank lines are
// skipped; lines of several MB are fine.
func Bodies(tb testing.TB, path string) [][]byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			out = append(out, append([]byte(nil), sc.Bytes()...))
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
