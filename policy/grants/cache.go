package grants

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// KeyFunc returns the prefix of every cache key: the model ID, Warden's
// revision and the invalidation epoch, so that a new model, a revision bump
// or a change seen in OpenFGA's feed never reads an older answer.
type KeyFunc func() string

// Cache is a RelationChecker decorator that remembers answers for a TTL.
// Higher-consistency requests bypass it (and refresh it).
type Cache struct {
	next    RelationChecker
	keyFunc KeyFunc
	ttl     time.Duration
	size    int
	metrics *metrics

	mu     sync.RWMutex
	checks map[string]checkEntry
	lists  map[string]listEntry
}

type checkEntry struct {
	allowed bool
	expires time.Time
}

type listEntry struct {
	objects []string
	expires time.Time
}

// NewCache wraps next. size bounds each of the check and list maps; ttl
// bounds how long an answer (and so an expired grant) can outlive a change
// Warden has not been told about.
func NewCache(next RelationChecker, keyFunc KeyFunc, ttl time.Duration, size int, m *metrics) *Cache {
	if m == nil {
		m = newMetrics(nil)
	}
	return &Cache{next: next, keyFunc: keyFunc, ttl: ttl, size: size, metrics: m,
		checks: map[string]checkEntry{}, lists: map[string]listEntry{}}
}

func checkKey(b *strings.Builder, prefix string, it *CheckItem) string {
	b.Reset()
	b.Grow(len(prefix) + len(it.User) + len(it.Relation) + len(it.Object) + 3)
	b.WriteString(prefix)
	b.WriteByte('|')
	b.WriteString(it.User)
	b.WriteByte('|')
	b.WriteString(it.Relation)
	b.WriteByte('|')
	b.WriteString(it.Object)
	return b.String()
}

// Check answers cached items from memory and asks next for the rest, in
// one call.
func (c *Cache) Check(ctx context.Context, items []CheckItem, cons Consistency) ([]bool, error) {
	prefix := c.keyFunc()
	keys := make([]string, len(items))
	var b strings.Builder
	for i := range items {
		keys[i] = checkKey(&b, prefix, &items[i])
	}
	out := make([]bool, len(items))
	var miss []int
	now := time.Now()
	if cons == HigherConsistency {
		miss = make([]int, len(items))
		for i := range miss {
			miss[i] = i
		}
	} else {
		c.mu.RLock()
		for i, k := range keys {
			if e, ok := c.checks[k]; ok && now.Before(e.expires) {
				out[i] = e.allowed
				continue
			}
			miss = append(miss, i)
		}
		c.mu.RUnlock()
	}
	c.metrics.cache.WithLabelValues("check", "hit").Add(float64(len(items) - len(miss)))
	if len(miss) == 0 {
		return out, nil
	}
	c.metrics.cache.WithLabelValues("check", "miss").Add(float64(len(miss)))
	sub := make([]CheckItem, len(miss))
	for j, i := range miss {
		sub[j] = items[i]
	}
	res, err := c.next.Check(ctx, sub, cons)
	if err != nil {
		return nil, err
	}
	exp := now.Add(c.ttl)
	c.mu.Lock()
	if len(c.checks)+len(miss) > c.size {
		c.checks = make(map[string]checkEntry, c.size)
	}
	for j, i := range miss {
		out[i] = res[j]
		c.checks[keys[i]] = checkEntry{allowed: res[j], expires: exp}
	}
	c.mu.Unlock()
	return out, nil
}

// ListObjects answers from memory or asks next. The returned slice is
// shared: callers must not modify it.
func (c *Cache) ListObjects(ctx context.Context, req ListRequest, cons Consistency) ([]string, error) {
	key := c.keyFunc() + "|" + req.User + "|" + req.Relation + "|" + req.Type
	now := time.Now()
	if cons != HigherConsistency {
		c.mu.RLock()
		e, ok := c.lists[key]
		c.mu.RUnlock()
		if ok && now.Before(e.expires) {
			c.metrics.cache.WithLabelValues("list", "hit").Inc()
			return e.objects, nil
		}
	}
	c.metrics.cache.WithLabelValues("list", "miss").Inc()
	objs, err := c.next.ListObjects(ctx, req, cons)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.lists) >= c.size {
		c.lists = make(map[string]listEntry)
	}
	c.lists[key] = listEntry{objects: objs, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return objs, nil
}

// Singleflight is a RelationChecker decorator that merges identical
// concurrent requests into one call to next.
type Singleflight struct {
	next  RelationChecker
	group singleflight.Group
}

// NewSingleflight wraps next.
func NewSingleflight(next RelationChecker) *Singleflight { return &Singleflight{next: next} }

// Check merges concurrent calls with the same items and consistency.
func (s *Singleflight) Check(ctx context.Context, items []CheckItem, cons Consistency) ([]bool, error) {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(cons)))
	for i := range items {
		b.WriteByte('\n')
		b.WriteString(items[i].User)
		b.WriteByte('|')
		b.WriteString(items[i].Relation)
		b.WriteByte('|')
		b.WriteString(items[i].Object)
	}
	v, err, _ := s.group.Do("c"+b.String(), func() (any, error) {
		return s.next.Check(context.WithoutCancel(ctx), items, cons)
	})
	if err != nil {
		return nil, err
	}
	res := v.([]bool)
	return append([]bool(nil), res...), nil
}

// ListObjects merges concurrent calls for the same list.
func (s *Singleflight) ListObjects(ctx context.Context, req ListRequest, cons Consistency) ([]string, error) {
	key := "l" + strconv.Itoa(int(cons)) + "|" + req.User + "|" + req.Relation + "|" + req.Type
	v, err, _ := s.group.Do(key, func() (any, error) {
		return s.next.ListObjects(context.WithoutCancel(ctx), req, cons)
	})
	if err != nil {
		return nil, err
	}
	return v.([]string), nil
}

// epochKey builds KeyFunc values cheaply: it rebuilds the prefix only when
// one of its parts changed.
type epochKey struct {
	modelID string
	rev     *atomic.Int64
	epoch   *atomic.Int64
	cached  atomic.Pointer[keyPrefix]
}

type keyPrefix struct {
	rev, epoch int64
	s          string
}

func (k *epochKey) key() string {
	rev, ep := k.rev.Load(), k.epoch.Load()
	if p := k.cached.Load(); p != nil && p.rev == rev && p.epoch == ep {
		return p.s
	}
	s := k.modelID + "|" + strconv.FormatInt(rev, 10) + "|" + strconv.FormatInt(ep, 10)
	k.cached.Store(&keyPrefix{rev: rev, epoch: ep, s: s})
	return s
}
