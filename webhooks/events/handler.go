// Package events serves POST /webhooks/events: changes to the directory
// (users, groups, memberships) and to policy, pushed by identity tooling or
// a CI pipeline, in Warden's versioned event format
// (docs/schemas/warden-event-v1.json) and signed as Standard Webhooks.
//
// Each delivery is one event. It is verified first (webhook-id,
// webhook-timestamp, webhook-signature), then decoded strictly, then applied
// with webhooks.Deliver in one store transaction that records webhook-id, so
// a redelivery is a no-op. The payload's timestamp orders the events about
// one subject (a user, a group with its members, a cluster's policy): an
// event older than the last one applied to its subject is acknowledged as
// stale and changes nothing.
package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/webhooks"
	"github.com/trino-warden/warden/webhooks/standard"
)

// MountPath is the path the server routes to the handler.
const MountPath = "/webhooks/events"

// Source names this endpoint's deliveries in the store.
const Source = "events"

// DefaultMaxBodyBytes bounds a delivery unless Options say otherwise; a
// policy set of many Rego modules fits.
const DefaultMaxBodyBytes = 8 << 20

// ValidateFunc checks that a cluster's policy documents compile. The server
// supplies it; an error is answered 422 with its message, and nothing is
// written.
type ValidateFunc func(cluster string, docs []store.PolicyDocument) error

// Options configure a Handler.
type Options struct {
	// Secrets are the Standard Webhooks secrets ("whsec_<base64>") accepted;
	// list two while rotating. At least one is required.
	Secrets []string
	// Tolerance is how far webhook-timestamp may be from now, either way
	// (default 5 minutes).
	Tolerance time.Duration
	// MaxBodyBytes bounds a delivery (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Validate, when set, compiles a policy.changed event's documents before
	// anything is written.
	Validate ValidateFunc
	// Logger receives the handler's logs; nil discards them.
	Logger *slog.Logger
	// Registerer, when set, receives the metrics.
	Registerer prometheus.Registerer
	// Now returns the current time (default time.Now); tests set it.
	Now func() time.Time
}

// Handler serves POST /webhooks/events. It is safe for concurrent use.
type Handler struct {
	st       store.Transactor
	verifier *standard.Verifier
	maxBody  int64
	validate ValidateFunc
	log      *slog.Logger
	metrics  *webhooks.Metrics
	now      func() time.Time
}

// NewHandler returns a Handler that applies events to st. It returns an
// error when st is nil, there is no secret or one is malformed, the tolerance
// or the body limit is negative, or the metrics cannot be registered.
func NewHandler(st store.Transactor, opts Options) (*Handler, error) {
	if st == nil {
		return nil, errors.New("events webhook: a store is required")
	}
	if opts.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("events webhook: body limit must not be negative, got %d", opts.MaxBodyBytes)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	v, err := standard.NewVerifier(standard.Options{Secrets: opts.Secrets, Tolerance: opts.Tolerance, Now: now})
	if err != nil {
		return nil, fmt.Errorf("events webhook: %w", err)
	}
	m, err := webhooks.NewMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	h := &Handler{st: st, verifier: v, maxBody: opts.MaxBodyBytes, validate: opts.Validate,
		log: webhooks.DiscardLogger(opts.Logger), metrics: m, now: now}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	return h, nil
}

// ServeHTTP verifies, decodes and applies one delivery. It answers 200 with
// a webhooks.Result (status applied, duplicate or stale); 400 for missing or
// garbled headers or a malformed payload; 401 for a bad signature or a
// timestamp outside the tolerance; 405, 413 and 415 for the wrong method,
// size or media type; 409 and 422 for an event that cannot be applied (a
// name taken, an unknown user, a policy that does not compile); 503 when the
// store is unavailable; 500 otherwise. Nothing is written unless the answer
// is 200.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	res, eventID, err := h.serve(w, r)
	var e *webhooks.Error
	if err != nil {
		e = webhooks.WriteError(w, h.log, r, eventID, err)
	} else {
		h.log.InfoContext(r.Context(), "webhook event", "source", Source, "event_id", res.EventID,
			"subject", res.Subject, "status", res.Status, "revision", res.Revision)
		webhooks.WriteResult(w, res)
	}
	h.metrics.Observe(MountPath, webhooks.OutcomeOf(res.Status, e), h.now().Sub(start))
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (webhooks.Result, string, error) {
	body, err := webhooks.ReadBody(w, r, h.maxBody)
	if err != nil {
		return webhooks.Result{}, "", err
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return webhooks.Result{}, "", webhooks.Errorf(http.StatusUnsupportedMediaType, webhooks.CodeUnsupportedType,
				"Content-Type must be application/json")
		}
	}
	msg, err := h.verifier.Verify(r.Header, body)
	switch {
	case errors.Is(err, standard.ErrMalformed):
		return webhooks.Result{}, "", webhooks.Invalid("%s", err)
	case err != nil:
		return webhooks.Result{}, "", webhooks.Unauthorized("%s", err)
	}
	ev, err := Decode(body)
	if err != nil {
		return webhooks.Result{}, msg.ID, err
	}
	if pc, ok := ev.Data.(*PolicyChanged); ok && h.validate != nil {
		if err := h.validate(pc.Cluster, pc.StoreDocuments()); err != nil {
			return webhooks.Result{}, msg.ID, webhooks.Unprocessable("policy of cluster %s does not compile: %s", pc.Cluster, err)
		}
	}
	d := store.WebhookDelivery{Source: Source, EventID: msg.ID, Type: ev.Type, Subject: ev.Subject(), OccurredAt: ev.Timestamp}
	res, err := webhooks.Deliver(r.Context(), h.st, d, func(ctx context.Context, tx *store.Tx) (string, error) {
		return apply(ctx, tx, ev)
	})
	return res, msg.ID, err
}
