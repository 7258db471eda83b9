package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/trino-warden/warden/store"
)

// opaEvent is OPA's decision-log event (EventV1) with the fields Warden
// can fill. Collectors written for OPA's decision_logs service read it
// unchanged.
type opaEvent struct {
	Labels      map[string]string    `json:"labels"`
	DecisionID  string               `json:"decision_id"`
	Bundles     map[string]opaBundle `json:"bundles,omitempty"`
	Path        string               `json:"path"`
	Input       json.RawMessage      `json:"input,omitempty"`
	Result      json.RawMessage      `json:"result,omitempty"`
	Error       *opaError            `json:"error,omitempty"`
	RequestedBy string               `json:"requested_by,omitempty"`
	Timestamp   time.Time            `json:"timestamp"`
	Metrics     map[string]int64     `json:"metrics,omitempty"`
}

type opaBundle struct {
	Revision string `json:"revision"`
}

type opaError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// opaSink uploads events in batches, as OPA's decision_logs plugin does:
// POST of a gzip'd JSON array, Content-Encoding gzip. Failed uploads are
// retried with a jittered exponential backoff; a 4xx other than 408 and 429
// drops the batch. When the buffer is full the oldest events are dropped.
// The sink is best effort: it never slows the recorder.
type opaSink struct {
	opts    OPASinkOptions
	client  *http.Client
	log     *slog.Logger
	m       *metrics
	labels  map[string]string
	every   time.Duration
	mu      sync.Mutex
	buf     []opaEvent
	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
}

func newOPASink(opts OPASinkOptions, every time.Duration, log *slog.Logger, m *metrics) *opaSink {
	var id [8]byte
	_, _ = crand.Read(id[:])
	labels := map[string]string{"id": hex.EncodeToString(id[:]), "version": "warden", "app": "warden"}
	for k, v := range opts.Labels {
		labels[k] = v
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: opts.Timeout}
	}
	s := &opaSink{opts: opts, client: client, log: log, m: m, labels: labels, every: every,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go s.run()
	return s
}

// add converts rows to events and buffers them.
func (s *opaSink) add(rows []store.AuditDecision) {
	events := make([]opaEvent, len(rows))
	for i := range rows {
		events[i] = s.event(&rows[i])
	}
	s.mu.Lock()
	s.buf = append(s.buf, events...)
	if over := len(s.buf) - s.opts.BufferSize; over > 0 {
		s.buf = append(s.buf[:0], s.buf[over:]...)
		s.m.sinkEvents.WithLabelValues("dropped").Add(float64(over))
	}
	n := len(s.buf)
	s.mu.Unlock()
	if n >= s.opts.BatchSize {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *opaSink) event(r *store.AuditDecision) opaEvent {
	labels := s.labels
	if r.Cluster != "" && r.Cluster != "default" {
		labels = make(map[string]string, len(s.labels)+1)
		for k, v := range s.labels {
			labels[k] = v
		}
		labels["cluster"] = r.Cluster
	}
	ev := opaEvent{
		Labels: labels, DecisionID: r.DecisionID, Path: "trino/" + r.Endpoint,
		Bundles: map[string]opaBundle{"warden": {Revision: strconv.FormatInt(r.Revision, 10)}},
		Input:   r.Input, Result: r.Result, RequestedBy: r.User, Timestamp: r.DecidedAt,
		Metrics: map[string]int64{"timer_server_handler_ns": r.LatencyMicros * 1000},
	}
	if r.Error != "" {
		ev.Error = &opaError{Code: "internal_error", Message: r.Error}
	}
	return ev
}

func (s *opaSink) run() {
	defer close(s.stopped)
	ticker := time.NewTicker(s.every)
	defer ticker.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.C:
		case <-s.wake:
		}
		for {
			sent, err := s.uploadOnce(context.Background())
			if err != nil {
				backoff = nextBackoff(backoff, s.opts.MinBackoff, s.opts.MaxBackoff)
				s.log.Warn("uploading decision events failed; retrying", "error", err, "retry_in", backoff)
				select {
				case <-s.stop:
					return
				case <-time.After(backoff):
				}
				continue
			}
			backoff = 0
			if !sent {
				break
			}
		}
	}
}

func nextBackoff(cur, lo, hi time.Duration) time.Duration {
	if cur == 0 {
		cur = lo
	} else {
		cur *= 2
	}
	cur = min(cur, hi)
	// Jitter of up to a fifth, so replicas do not retry in step.
	return cur - time.Duration(rand.Int64N(int64(cur)/5+1))
}

// uploadOnce sends the oldest batch. It reports whether it sent (or
// dropped) one, and returns an error when the batch must be retried.
func (s *opaSink) uploadOnce(ctx context.Context) (bool, error) {
	s.mu.Lock()
	n := min(len(s.buf), s.opts.BatchSize)
	batch := append([]opaEvent(nil), s.buf[:n]...)
	s.mu.Unlock()
	if n == 0 {
		return false, nil
	}
	status, err := s.post(ctx, batch)
	switch {
	case err != nil:
		return false, err
	case status/100 == 2:
		s.m.sinkEvents.WithLabelValues("sent").Add(float64(n))
	case status/100 == 4 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests:
		s.log.Error("the decision-log service refused a batch; dropping it", "status", status, "events", n)
		s.m.sinkEvents.WithLabelValues("rejected").Add(float64(n))
	default:
		return false, fmt.Errorf("decision-log service answered %d", status)
	}
	s.mu.Lock()
	// Events may have been dropped from the front meanwhile; remove what
	// is still there of this batch.
	k := 0
	for k < n && k < len(s.buf) && s.buf[k].DecisionID == batch[k].DecisionID {
		k++
	}
	s.buf = append(s.buf[:0], s.buf[k:]...)
	s.mu.Unlock()
	return true, nil
}

func (s *opaSink) post(ctx context.Context, batch []opaEvent) (int, error) {
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	if err := json.NewEncoder(zw).Encode(batch); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.URL, &body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	for k, v := range s.opts.Headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// close stops the background loop and uploads what is buffered until ctx
// ends; it returns an error naming how many events were left.
func (s *opaSink) close(ctx context.Context) error {
	close(s.stop)
	<-s.stopped
	backoff := time.Duration(0)
	for {
		sent, err := s.uploadOnce(ctx)
		if err == nil && !sent {
			return nil
		}
		if err != nil {
			backoff = nextBackoff(backoff, s.opts.MinBackoff, s.opts.MaxBackoff)
			select {
			case <-ctx.Done():
				s.mu.Lock()
				n := len(s.buf)
				s.mu.Unlock()
				s.m.sinkEvents.WithLabelValues("dropped").Add(float64(n))
				return fmt.Errorf("audit: %d decision events were not uploaded before the shutdown deadline: %w", n, err)
			case <-time.After(backoff):
			}
		}
	}
}
