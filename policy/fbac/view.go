package fbac

import (
	"hash/maphash"
	"slices"
	"sync"
)

// view is the part of a policy that applies to one identity: every rule
// whose user, role and group patterns match, in file order. Most checks of
// a query come from the same identity, so a view is built once and cached;
// then a check only tests resource patterns.
type view struct {
	user   string
	groups []string

	catalogs            []*catalogRule
	schemas             []*schemaRule
	tables              []*tableRule
	sessionProps        []*sessionPropRule
	catalogSessionProps []*catalogSessionPropRule
	functions           []*functionRule
	procedures          []*functionRule
	queries             []*queryRule
	anyCatalog          []*anyRule
	anyCatalogSchema    []*anyRule
}

func filterRules[R any](rules []R, id func(R) *identity, user string, groups []string) []R {
	var out []R
	for _, r := range rules {
		if id(r).matches(user, groups) {
			out = append(out, r)
		}
	}
	return out
}

func (p *Policy) buildView(user string, groups []string) *view {
	return &view{
		user:                user,
		groups:              slices.Clone(groups),
		catalogs:            filterRules(p.catalogs, func(r *catalogRule) *identity { return &r.id }, user, groups),
		schemas:             filterRules(p.schemas, func(r *schemaRule) *identity { return &r.id }, user, groups),
		tables:              filterRules(p.tables, func(r *tableRule) *identity { return &r.id }, user, groups),
		sessionProps:        filterRules(p.sessionProps, func(r *sessionPropRule) *identity { return &r.id }, user, groups),
		catalogSessionProps: filterRules(p.catalogSessionProps, func(r *catalogSessionPropRule) *identity { return &r.id }, user, groups),
		functions:           filterRules(p.functions, func(r *functionRule) *identity { return &r.id }, user, groups),
		procedures:          filterRules(p.procedures, func(r *functionRule) *identity { return &r.id }, user, groups),
		queries:             filterRules(p.queries, func(r *queryRule) *identity { return &r.id }, user, groups),
		anyCatalog:          filterRules(p.anyCatalog, func(r *anyRule) *identity { return &r.id }, user, groups),
		anyCatalogSchema:    filterRules(p.anyCatalogSchema, func(r *anyRule) *identity { return &r.id }, user, groups),
	}
}

// viewFor returns the cached view of an identity, building it on a miss.
func (p *Policy) viewFor(user string, groups []string) *view {
	return p.views.get(user, groups, p.buildView)
}

// viewCache is a bounded, sharded cache of views keyed by user and groups.
// A full shard is cleared rather than tracked for recency: views are cheap
// to rebuild, and the bound only guards memory against many identities.
type viewCache struct {
	seed   maphash.Seed
	shards [viewShards]viewShard
}

const (
	viewShards   = 16
	viewShardMax = 512
)

type viewShard struct {
	mu sync.RWMutex
	m  map[uint64]*view
}

func newViewCache() *viewCache {
	c := &viewCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = map[uint64]*view{}
	}
	return c
}

func (c *viewCache) key(user string, groups []string) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(user)
	for _, g := range groups {
		h.WriteByte(0)
		h.WriteString(g)
	}
	return h.Sum64()
}

func (c *viewCache) get(user string, groups []string, build func(string, []string) *view) *view {
	k := c.key(user, groups)
	s := &c.shards[k%viewShards]
	s.mu.RLock()
	v, ok := s.m[k]
	s.mu.RUnlock()
	if ok && v.user == user && slices.Equal(v.groups, groups) {
		return v
	}
	v = build(user, groups)
	s.mu.Lock()
	if len(s.m) >= viewShardMax {
		clear(s.m)
	}
	s.m[k] = v
	s.mu.Unlock()
	return v
}
