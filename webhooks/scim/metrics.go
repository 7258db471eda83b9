package scim

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the handler's Prometheus metrics. Their labels are bounded:
// the resource (a fixed set), the method (a fixed set) and the class of the
// status code.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "warden",
			Subsystem: "scim",
			Name:      "requests_total",
			Help:      "SCIM requests served, by resource, method and class of status code.",
		}, []string{"resource", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "warden",
			Subsystem: "scim",
			Name:      "request_duration_seconds",
			Help:      "Time to serve a SCIM request, by resource and method.",
			Buckets:   prometheus.ExponentialBuckets(0.001, 2.5, 10),
		}, []string{"resource", "method"}),
	}
	if reg == nil {
		return m, nil
	}
	// A second handler on the same registry shares the first one's metrics.
	if err := reg.Register(m.requests); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, fmt.Errorf("scim: register metrics: %w", err)
		}
		existing, ok := are.ExistingCollector.(*prometheus.CounterVec)
		if !ok {
			return nil, fmt.Errorf("scim: register metrics: %w", err)
		}
		m.requests = existing
	}
	if err := reg.Register(m.duration); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, fmt.Errorf("scim: register metrics: %w", err)
		}
		existing, ok := are.ExistingCollector.(*prometheus.HistogramVec)
		if !ok {
			return nil, fmt.Errorf("scim: register metrics: %w", err)
		}
		m.duration = existing
	}
	return m, nil
}

func (m *metrics) observe(resource, method string, status int, d time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(resource, method, codeClass(status)).Inc()
	m.duration.WithLabelValues(resource, method).Observe(d.Seconds())
}

func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return method
	}
	return "other"
}

func codeClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}
