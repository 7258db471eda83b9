package server

import (
	"sync"
	"time"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// recentDecision is what Warden keeps of a decision so it can be explained
// later by its ID: the exact request body and the snapshot that decided.
// Re-deciding with explanation on against the same snapshot reproduces the
// decision and says why.
type recentDecision struct {
	ID       string
	Time     time.Time
	Endpoint trino.Endpoint
	Cluster  string
	Body     []byte
	Snapshot *policy.Snapshot
}

// explainCache is a bounded ring of recent decisions, limited both in count
// and in bytes of stored bodies.
type explainCache struct {
	mu       sync.Mutex
	ring     []recentDecision
	next     int
	byID     map[string]int
	bytes    int64
	maxBytes int64
	onEvict  func()
}

func newExplainCache(entries int, maxBytes int64, onEvict func()) *explainCache {
	if entries <= 0 {
		return nil
	}
	return &explainCache{ring: make([]recentDecision, entries), byID: make(map[string]int, entries), maxBytes: maxBytes, onEvict: onEvict}
}

func (c *explainCache) evictAt(i int) {
	old := &c.ring[i]
	if old.ID == "" {
		return
	}
	delete(c.byID, old.ID)
	c.bytes -= int64(len(old.Body))
	*old = recentDecision{}
	if c.onEvict != nil {
		c.onEvict()
	}
}

// add stores a decision; body is copied. A body larger than the byte limit
// is not stored.
func (c *explainCache) add(d recentDecision, body []byte) {
	if c == nil || int64(len(body)) > c.maxBytes {
		return
	}
	d.Body = append([]byte(nil), body...)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evictAt(c.next)
	// Make room by evicting the oldest entries until the bytes fit.
	for j := 1; c.bytes+int64(len(d.Body)) > c.maxBytes && j < len(c.ring); j++ {
		c.evictAt((c.next + j) % len(c.ring))
	}
	c.ring[c.next] = d
	c.byID[d.ID] = c.next
	c.bytes += int64(len(d.Body))
	c.next = (c.next + 1) % len(c.ring)
}

func (c *explainCache) get(id string) (recentDecision, bool) {
	if c == nil {
		return recentDecision{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.byID[id]
	if !ok {
		return recentDecision{}, false
	}
	return c.ring[i], true
}
