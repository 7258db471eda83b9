package policy

import (
	"fmt"
	"sort"
	"time"
)

// PolicySet is the ordered sources that decide for one cluster. The order is
// the mask precedence; for every other answer the order does not matter.
type PolicySet struct {
	sources      []Source
	authorizers  []Authorizer
	filterers    []Filterer
	rowFilterers []RowFilterer
	maskers      []Masker
}

// NewPolicySet builds a policy set from sources in precedence order.
func NewPolicySet(sources ...Source) *PolicySet {
	ps := &PolicySet{sources: sources}
	for _, s := range sources {
		if a, ok := s.(Authorizer); ok {
			ps.authorizers = append(ps.authorizers, a)
		}
		if f, ok := s.(Filterer); ok {
			ps.filterers = append(ps.filterers, f)
		}
		if f, ok := s.(RowFilterer); ok {
			ps.rowFilterers = append(ps.rowFilterers, f)
		}
		if m, ok := s.(Masker); ok {
			ps.maskers = append(ps.maskers, m)
		}
	}
	return ps
}

// Sources returns the sources in precedence order.
func (ps *PolicySet) Sources() []Source { return ps.sources }

// Snapshot is all the policy a decision reads. It is immutable once built and
// is replaced as a whole, so a decision never sees a half-applied change.
//
// Revision orders snapshots. In file mode it counts successful reloads from
// 1. In database mode it is the store's revision counter, which orders every
// committed change; the store then builds a snapshot for each new revision it
// learns of and swaps it in through the same Engine.Swap, which refuses to go
// backwards.
type Snapshot struct {
	Revision int64
	// Origin describes where the policy came from, for readiness and logs:
	// the files in file mode, the store in database mode.
	Origin  string
	BuiltAt time.Time
	// Directory, when set, enriches every request's subject with the
	// directory's groups and attributes, and denies its deactivated and
	// deleted users. Set it before the snapshot is swapped in.
	Directory *Directory

	clusters map[string]*PolicySet
}

// NewSnapshot builds a snapshot. clusters must hold DefaultCluster.
func NewSnapshot(revision int64, origin string, clusters map[string]*PolicySet) (*Snapshot, error) {
	if _, ok := clusters[DefaultCluster]; !ok {
		return nil, fmt.Errorf("snapshot has no %q cluster", DefaultCluster)
	}
	return &Snapshot{Revision: revision, Origin: origin, BuiltAt: time.Now(), clusters: clusters}, nil
}

// Cluster returns the policy set of a cluster, and whether it exists.
func (s *Snapshot) Cluster(name string) (*PolicySet, bool) {
	ps, ok := s.clusters[name]
	return ps, ok
}

// Clusters returns the cluster names, sorted.
func (s *Snapshot) Clusters() []string {
	names := make([]string, 0, len(s.clusters))
	for n := range s.clusters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
