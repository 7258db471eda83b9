package webhooks

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a delivery, the values of the outcome label.
const (
	OutcomeApplied      = "applied"
	OutcomeDuplicate    = "duplicate"
	OutcomeStale        = "stale"
	OutcomeIgnored      = "ignored"
	OutcomeInvalid      = "invalid"
	OutcomeUnauthorized = "unauthorized"
	OutcomeUnavailable  = "unavailable"
	OutcomeError        = "error"
)

// Metrics count the deliveries of the webhook endpoints. Labels are bounded:
// endpoint (one per handler) and outcome (the Outcome constants).
type Metrics struct {
	deliveries *prometheus.CounterVec
	duration   *prometheus.HistogramVec
}

// NewMetrics registers the metrics with reg; a nil reg keeps them
// unregistered. Handlers that share a registry share the metrics.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "warden",
			Subsystem: "webhook",
			Name:      "deliveries_total",
			Help:      "Webhook deliveries, by endpoint and outcome (applied, duplicate, stale, ignored, invalid, unauthorized, unavailable, error).",
		}, []string{"endpoint", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "warden",
			Subsystem: "webhook",
			Name:      "delivery_duration_seconds",
			Help:      "Time to answer a webhook delivery, by endpoint.",
			Buckets:   prometheus.ExponentialBuckets(0.001, 2.5, 10),
		}, []string{"endpoint"}),
	}
	if reg == nil {
		return m, nil
	}
	if err := reg.Register(m.deliveries); err != nil {
		existing, err := alreadyRegistered[*prometheus.CounterVec](err)
		if err != nil {
			return nil, err
		}
		m.deliveries = existing
	}
	if err := reg.Register(m.duration); err != nil {
		existing, err := alreadyRegistered[*prometheus.HistogramVec](err)
		if err != nil {
			return nil, err
		}
		m.duration = existing
	}
	return m, nil
}

func alreadyRegistered[T prometheus.Collector](err error) (T, error) {
	var (
		are  prometheus.AlreadyRegisteredError
		zero T
	)
	if !errors.As(err, &are) {
		return zero, fmt.Errorf("webhooks: register metrics: %w", err)
	}
	existing, ok := are.ExistingCollector.(T)
	if !ok {
		return zero, fmt.Errorf("webhooks: register metrics: %w", err)
	}
	return existing, nil
}

// Observe counts one delivery of endpoint and its duration.
func (m *Metrics) Observe(endpoint, outcome string, d time.Duration) {
	m.deliveries.WithLabelValues(endpoint, outcome).Inc()
	m.duration.WithLabelValues(endpoint).Observe(d.Seconds())
}

// OutcomeOf returns the outcome label of an answer: the result's status, or
// the class of the error.
func OutcomeOf(status string, e *Error) string {
	if e == nil {
		switch status {
		case OutcomeApplied, OutcomeDuplicate, OutcomeStale, OutcomeIgnored:
			return status
		}
		return OutcomeApplied
	}
	switch {
	case e.Status == 401:
		return OutcomeUnauthorized
	case e.Status == 503:
		return OutcomeUnavailable
	case e.Status >= 500:
		return OutcomeError
	}
	return OutcomeInvalid
}
