package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
)

// idGen makes decision IDs: a random 64-bit prefix per process and a
// counter, formatted as a UUID. IDs are unique across restarts and replicas
// without a random read per request.
type idGen struct {
	prefix [8]byte
	n      atomic.Uint64
}

func newIDGen() *idGen {
	g := &idGen{}
	if _, err := rand.Read(g.prefix[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return g
}

// next returns a new ID as 36 bytes: 8-4-4-4-12 hex digits.
func (g *idGen) next() string {
	var raw [16]byte
	copy(raw[:8], g.prefix[:])
	n := g.n.Add(1)
	for i := 0; i < 8; i++ {
		raw[15-i] = byte(n >> (8 * i))
	}
	var out [36]byte
	hex.Encode(out[0:8], raw[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], raw[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], raw[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], raw[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], raw[10:16])
	return string(out[:])
}

type decisionIDKey struct{}

// withDecisionID returns ctx carrying a decision ID, for log lines.
func withDecisionID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, decisionIDKey{}, id)
}

// DecisionID returns the decision ID carried by ctx, or "".
func DecisionID(ctx context.Context) string {
	id, _ := ctx.Value(decisionIDKey{}).(string)
	return id
}
