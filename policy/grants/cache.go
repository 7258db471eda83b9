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
//
// It refreshes ahead: an answer read in the last quarter of its life is
// queued for a background refresh, batched with others into one call to
// next, so a check that is asked for steadily never expires and never waits
// for OpenFGA. No answer is ever served past its TTL; a refresh that fails
// leaves the old answer to expire, and the next request then asks OpenFGA
// itself (and fails closed if it cannot).
type Cache struct {
	next    RelationChecker
	keyFunc KeyFunc
	ttl     time.Duration
	size    int
	metrics *metrics

	mu     sync.RWMutex
	checks map[string]checkEntry
	lists  map[string]listEntry

	refreshMu  sync.Mutex
	refreshing map[string]struct{} // keys queued or being refreshed
	refreshQ   chan refreshItem
}

type checkEntry struct {
	allowed bool
	refresh time.Time // from here on, a read queues a refresh
	expires time.Time
}

type listEntry struct {
	objects []string
	refresh time.Time
	expires time.Time
}

// refreshItem is one queued refresh: a check (list is nil) or a list.
type refreshItem struct {
	key   string
	check CheckItem
	list  *ListRequest
}

// refreshBatch bounds the checks refreshed in one call to next.
const refreshBatch = 200

// NewCache wraps next. size bounds each of the check and list maps; ttl
// bounds how long an answer (and so an expired grant) can outlive a change
// Warden has not been told about. Refresh-ahead runs only while Run does.
func NewCache(next RelationChecker, keyFunc KeyFunc, ttl time.Duration, size int, m *metrics) *Cache {
	if m == nil {
		m = newMetrics(nil)
	}
	return &Cache{next: next, keyFunc: keyFunc, ttl: ttl, size: size, metrics: m,
		checks: map[string]checkEntry{}, lists: map[string]listEntry{},
		refreshing: map[string]struct{}{}, refreshQ: make(chan refreshItem, 4096)}
}

// entryTimes returns when an answer stored now should be refreshed and
// when it expires.
func (c *Cache) entryTimes(now time.Time) (refresh, expires time.Time) {
	return now.Add(c.ttl * 3 / 4), now.Add(c.ttl)
}

// queueRefresh queues key for a background refresh unless it already is;
// when the queue is full the answer simply expires as it would without
// refresh-ahead.
func (c *Cache) queueRefresh(it refreshItem) {
	c.refreshMu.Lock()
	if _, ok := c.refreshing[it.key]; ok {
		c.refreshMu.Unlock()
		return
	}
	select {
	case c.refreshQ <- it:
		c.refreshing[it.key] = struct{}{}
	default:
	}
	c.refreshMu.Unlock()
}

func (c *Cache) refreshDone(items []refreshItem) {
	c.refreshMu.Lock()
	for _, it := range items {
		delete(c.refreshing, it.key)
	}
	c.refreshMu.Unlock()
}

// Run refreshes queued answers until ctx ends. Checks are sent to next in
// batches of up to refreshBatch; lists one by one.
func (c *Cache) Run(ctx context.Context) {
	batch := make([]refreshItem, 0, refreshBatch)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case it := <-c.refreshQ:
			batch = append(batch, it)
		}
	drain:
		for len(batch) < refreshBatch {
			select {
			case it := <-c.refreshQ:
				batch = append(batch, it)
			default:
				break drain
			}
		}
		c.refresh(ctx, batch)
		c.refreshDone(batch)
	}
}

func (c *Cache) refresh(ctx context.Context, batch []refreshItem) {
	var checks []CheckItem
	var keys []string
	for _, it := range batch {
		if it.list == nil {
			checks = append(checks, it.check)
			keys = append(keys, it.key)
			continue
		}
		objs, err := c.next.ListObjects(ctx, *it.list, MinimizeLatency)
		c.metrics.refresh.WithLabelValues("list", outcomeOf(err)).Inc()
		if err != nil {
			continue
		}
		refresh, exp := c.entryTimes(time.Now())
		c.mu.Lock()
		if len(c.lists) < c.size {
			c.lists[it.key] = listEntry{objects: objs, refresh: refresh, expires: exp}
		}
		c.mu.Unlock()
	}
	if len(checks) == 0 {
		return
	}
	// The time is taken before the call, so the refreshed answer's life
	// starts no later than the state OpenFGA read.
	now := time.Now()
	res, err := c.next.Check(ctx, checks, MinimizeLatency)
	c.metrics.refresh.WithLabelValues("check", outcomeOf(err)).Add(float64(len(checks)))
	if err != nil {
		return
	}
	refresh, exp := c.entryTimes(now)
	c.mu.Lock()
	for i, k := range keys {
		if len(c.checks) >= c.size {
			break
		}
		c.checks[k] = checkEntry{allowed: res[i], refresh: refresh, expires: exp}
	}
	c.mu.Unlock()
}

func outcomeOf(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
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
		var stale []int
		c.mu.RLock()
		for i, k := range keys {
			if e, ok := c.checks[k]; ok && now.Before(e.expires) {
				out[i] = e.allowed
				if !now.Before(e.refresh) {
					stale = append(stale, i)
				}
				continue
			}
			miss = append(miss, i)
		}
		c.mu.RUnlock()
		for _, i := range stale {
			c.queueRefresh(refreshItem{key: keys[i], check: items[i]})
		}
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
	refresh, exp := c.entryTimes(now)
	c.mu.Lock()
	if len(c.checks)+len(miss) > c.size {
		c.checks = make(map[string]checkEntry, c.size)
	}
	for j, i := range miss {
		out[i] = res[j]
		c.checks[keys[i]] = checkEntry{allowed: res[j], refresh: refresh, expires: exp}
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
			if !now.Before(e.refresh) {
				c.queueRefresh(refreshItem{key: key, list: &req})
			}
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
	refresh, exp := c.entryTimes(now)
	c.lists[key] = listEntry{objects: objs, refresh: refresh, expires: exp}
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
