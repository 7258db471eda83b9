package grants

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the grants source. Labels are bounded: endpoint is "check"
// or "list" (the OpenFGA call), outcome is "hit" or "miss".
type metrics struct {
	unavailable *prometheus.CounterVec
	cache       *prometheus.CounterVec
}

// newMetrics creates the metrics and registers them with reg when it is not
// nil.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		unavailable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_grants_unavailable_total",
			Help: "OpenFGA requests that failed (unreachable, timed out or truncated) and so failed closed.",
		}, []string{"endpoint"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_grants_cache_total",
			Help: "Grant lookups answered by the cache (hit) or sent on to OpenFGA (miss).",
		}, []string{"endpoint", "outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.unavailable, m.cache)
	}
	return m
}
