package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/trinodb/trino-go-client/trino"

	"github.com/trino-warden/warden/views/trinotest"
)

// loadProbe is a statement of the steady load and what it must answer:
// rows, or an error containing wantErr.
type loadProbe struct {
	query   string
	want    [][]any
	wantErr string
}

// loadProbes are the statements each user runs in a loop during a rolling
// restart. Each needs Warden: catalog and table checks, row filters,
// column masks and batched table filtering; the denial must stay a denial.
var loadProbes = map[string][]loadProbe{
	"alice": {
		{query: "SELECT count(*) FROM tpch.tiny.nation", want: [][]any{{int64(5)}}},
		{query: "SELECT name, comment FROM tpch.tiny.nation WHERE nationkey = 1", want: [][]any{{"ARGENTINA", "***"}}},
		{query: "SHOW TABLES FROM tpch.tiny", want: [][]any{{"customer"}, {"nation"}, {"region"}}},
	},
	"bob": {
		{query: "SELECT count(*) FROM tpch.tiny.nation", want: [][]any{{int64(25)}}},
		{query: "SHOW TABLES FROM tpch.tiny", want: [][]any{{"nation"}, {"region"}}},
		{query: "SELECT count(*) FROM tpch.tiny.orders", wantErr: "Access Denied: Cannot select from columns [] in table or view tpch.tiny.orders"},
	},
	"admin": {
		{query: "SELECT count(*) FROM tpch.tiny.orders", want: [][]any{{int64(15000)}}},
		{query: "SHOW SCHEMAS FROM memory", want: [][]any{{"default"}, {"information_schema"}}},
	},
	"carol": {
		{query: "SHOW CATALOGS", want: [][]any{{"system"}}},
	},
}

// loadStats counts the statements of a steady load.
type loadStats struct {
	mu       sync.Mutex
	ok       int
	failures []string
	// starts are the start times of the statements that succeeded.
	starts []time.Time
}

func (s *loadStats) record(began time.Time, failure string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if failure != "" {
		s.failures = append(s.failures, failure)
		return
	}
	s.ok++
	s.starts = append(s.starts, began)
}

// between counts the successful statements that started in [from, to].
func (s *loadStats) between(from, to time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.starts {
		if !b.Before(from) && !b.After(to) {
			n++
		}
	}
	return n
}

func (s *loadStats) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ok
}

// failureCauses returns the Java exception chain behind a failed
// statement, which Trino sends with the error but does not log: for
// "Failed to query OPA backend" it tells a reset from a closed connection
// or a timeout.
func failureCauses(err error) string {
	var te trino.ErrTrino
	if !errors.As(err, &te) {
		return ""
	}
	var b strings.Builder
	for f := te.FailureInfo.Cause; f != nil; f = f.Cause {
		fmt.Fprintf(&b, "\n\tcaused by %s: %s", f.Type, f.Message)
	}
	return b.String()
}

// runLoad runs loadProbes as each user, one goroutine per user (two for
// alice), until ctx is done, checking every answer.
func runLoad(ctx context.Context, tr *trinotest.Trino, stats *loadStats) *sync.WaitGroup {
	var wg sync.WaitGroup
	workers := []string{"alice", "alice", "bob", "admin", "carol"}
	for w, user := range workers {
		wg.Go(func() {
			for i := w; ctx.Err() == nil; i++ {
				p := loadProbes[user][i%len(loadProbes[user])]
				began := time.Now()
				// A statement is never cut short by the end of the load:
				// only its own timeout stops it.
				rows, err := tr.QueryContext(context.WithoutCancel(ctx), tr.DSN(user), p.query)
				switch {
				case p.wantErr != "" && err == nil:
					stats.record(began, fmt.Sprintf("%s %s as %s: succeeded, want %q", began.Format("15:04:05.000"), p.query, user, p.wantErr))
				case p.wantErr != "" && !strings.Contains(err.Error(), p.wantErr):
					stats.record(began, fmt.Sprintf("%s %s as %s: %v, want %q", began.Format("15:04:05.000"), p.query, user, err, p.wantErr))
				case p.wantErr == "" && err != nil:
					stats.record(began, fmt.Sprintf("%s %s as %s: %v%s", began.Format("15:04:05.000"), p.query, user, err, failureCauses(err)))
				case p.wantErr == "" && !reflect.DeepEqual(rows, p.want):
					stats.record(began, fmt.Sprintf("%s %s as %s: got %v, want %v", began.Format("15:04:05.000"), p.query, user, rows, p.want))
				default:
					stats.record(began, "")
				}
			}
		})
	}
	return &wg
}

// migrateSysctl makes the kernel hand the connections waiting in a closing
// SO_REUSEPORT listener's accept queue to another listener of the port,
// instead of resetting them (Linux 5.14+).
const migrateSysctl = "/proc/sys/net/ipv4/tcp_migrate_req"

// migrateAcceptQueue turns net.ipv4.tcp_migrate_req on for the test and
// back off after it. Without it, a connection Trino opens in the instant
// the old Warden closes its listener is reset before its request is sent,
// and the statement fails: the one remaining loss this test found once
// Warden stopped closing idle connections under Trino (docs/e2e.md).
func migrateAcceptQueue(t *testing.T) {
	t.Helper()
	old, err := os.ReadFile(migrateSysctl)
	if err == nil && strings.TrimSpace(string(old)) == "1" {
		return
	}
	if err == nil {
		err = os.WriteFile(migrateSysctl, []byte("1"), 0o644)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("a rolling restart on one host needs %s=1: %v", migrateSysctl, err)
		}
		t.Skipf("skipped: a rolling restart on one host needs %s=1 (run as root, or set it): %v", migrateSysctl, err)
	}
	t.Cleanup(func() { _ = os.WriteFile(migrateSysctl, old, 0o644) })
}

// restartRounds is how many times the rolling restart replaces the
// serving Warden.
const restartRounds = 3

// restartDrainDelay is Warden's shutdown.drain_delay in the rolling
// restart (its default), and restartIdleTimeout Trino's
// opa.http-client.idle-timeout, which must be well below it. A connection
// used during the drain is closed cleanly by its Connection: close
// answer; after the drain Warden stops accepting and waits for Trino to
// close every other connection (its idle timeout), since closing one
// itself races a request Trino may just have sent on it, and the plugin
// does not retry. The last loss, a connection reset in the closing
// listener's accept queue, is what migrateAcceptQueue removes
// (docs/e2e.md).
const (
	restartDrainDelay  = 5 * time.Second
	restartIdleTimeout = 2 * time.Second
)

// TestRollingRestart restarts Warden under a steady Trino query load, the
// way a deployment on one host does it, and requires that no statement
// fails.
//
// Trino's OPA plugin has one URL per endpoint and never retries: a refused
// connection or a reset fails the authorization check, and so the
// statement (OpaHttpClient.submitOpaRequest → airlift's executeAsync, no
// retry). So a restart that lets the port go away, even briefly, fails
// statements. The production pattern, tested here, is a rolling
// replacement on the same port: the new process binds with SO_REUSEPORT
// (http.reuse_port, on by default) and is ready before the old one gets
// SIGTERM; the old one then turns readiness off, keeps answering for the
// drain delay with Connection: close (so Trino's pooled connections move to
// the new process), finishes what is in flight and exits.
//
// Both Wardens are real `warden serve` processes in file mode with
// testdata/e2e/rules.json; the Trino is this test's own, with the
// recommended opa.http-client settings. The "mtls" variant does the same
// with the decision listener requiring Trino's client certificate.
func TestRollingRestart(t *testing.T) {
	t.Parallel()
	setup(t)
	migrateAcceptQueue(t)
	bin := buildWarden(t)
	groups, err := trinotest.ReadGroups(groupsPath)
	require.NoError(t, err)

	type variant struct {
		name string
		pki  *pki
		addr string
		opts trinotest.Options
	}
	var variants []*variant
	for _, name := range []string{"http", "mtls"} {
		v := &variant{name: name, addr: "127.0.0.1:" + strconv.Itoa(freeTCPPort(t))}
		httpClient := recommendedHTTPClient(t)
		// Trino must close its idle connections before Warden would: see
		// restartIdleTimeout.
		httpClient["opa.http-client.idle-timeout"] = restartIdleTimeout.String()
		scheme := "http"
		if name == "mtls" {
			v.pki, err = newPKI(t.TempDir())
			require.NoError(t, err)
			scheme = "https"
			httpClient["key-store-path"] = v.pki.clientFile
			httpClient["trust-store-path"] = v.pki.caFile
		}
		v.opts = trinotest.Options{WardenURL: scheme + "://" + v.addr, Groups: groups, OPAHTTPClient: httpClient}
		variants = append(variants, v)
	}
	// The first Wardens must listen before Trino starts: its readiness
	// query already asks them.
	logDir := t.TempDir()
	first := make([]*wardenProc, len(variants))
	for i, v := range variants {
		first[i] = startWarden(t, v.name+"-0", procOptions{bin: bin, rules: rulesPath, addr: v.addr, pki: v.pki,
			drainDelay: restartDrainDelay, logDir: logDir})
	}
	trinos := launchTrinos(t, variants[0].opts, variants[1].opts)

	for i, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			rollingRestart(t, trinos[i], first[i], procOptions{bin: bin, rules: rulesPath, addr: v.addr, pki: v.pki,
				drainDelay: restartDrainDelay, logDir: logDir})
		})
	}
}

// rollingRestart runs the steady load on tr and replaces the serving
// Warden restartRounds times.
func rollingRestart(t *testing.T, tr *trinotest.Trino, serving *wardenProc, o procOptions) {
	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	stats := &loadStats{}
	wg := runLoad(ctx, tr, stats)
	defer wg.Wait()
	defer stopLoad()

	// Warm up: the load runs against the first Warden alone.
	waitFor(t, func() bool { return stats.total() >= 20 }, "20 statements before the restarts")
	require.Greater(t, serving.decisions(t), 0.0)

	began := time.Now()
	var drains []time.Duration
	// timeline places a failure among the restarts.
	var timeline []string
	var stopped []*wardenProc
	mark := func(what string) { timeline = append(timeline, time.Now().Format("15:04:05.000")+" "+what) }
	for round := 1; round <= restartRounds; round++ {
		mark(fmt.Sprintf("round %d: starting the replacement", round))
		next := startWarden(t, fmt.Sprintf("%s-%d", o.pkiName(), round), o)
		mark(fmt.Sprintf("round %d: replacement ready", round))
		// Both processes now share the port; let the load reach both.
		time.Sleep(time.Second)
		oldDecisions := serving.decisions(t)
		require.Greater(t, oldDecisions, 0.0, "warden %s decided nothing", serving.name)
		mark(fmt.Sprintf("round %d: SIGTERM to %s", round, serving.name))
		drains = append(drains, serving.stop(t))
		mark(fmt.Sprintf("round %d: %s exited", round, serving.name))
		stopped = append(stopped, serving)
		serving = next
		// The replacement must be carrying the whole load now.
		before := serving.decisions(t)
		waitFor(t, func() bool { return serving.decisions(t) > before }, "decisions on the replacement after the old one exited")
	}
	ended := time.Now()
	// Keep the load on the last Warden for a moment, then stop it and let
	// statements in flight finish.
	time.Sleep(500 * time.Millisecond)
	stopLoad()
	wg.Wait()

	during := stats.between(began, ended)
	stats.mu.Lock()
	failures := stats.failures
	stats.mu.Unlock()
	t.Logf("%d restarts in %s (drains %v): %d statements in total, %d of them started during the restarts, %d failed",
		restartRounds, ended.Sub(began).Round(time.Millisecond), drains, stats.total(), during, len(failures))
	if len(failures) > 0 {
		t.Logf("timeline of the restarts:\n%s", strings.Join(timeline, "\n"))
		for _, p := range stopped {
			t.Logf("warden %s's log, its end:\n%s", p.name, p.logTail())
		}
	}
	require.Empty(t, failures, "statements failed across the rolling restart (docs/e2e.md, \"What a restart needs to lose nothing\")")
	// With 5 workers, each round's overlap and drain alone last 6 s; far
	// fewer statements would mean the load stalled.
	require.GreaterOrEqual(t, during, 10*restartRounds, "the load must keep running during the restarts")
}

// pkiName is the variant's name prefix for process names.
func (o procOptions) pkiName() string {
	if o.pki != nil {
		return "mtls"
	}
	return "http"
}

// waitFor polls cond until it holds or a minute passes.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
