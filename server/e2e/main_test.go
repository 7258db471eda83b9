// Package e2e runs Warden end to end: a real Warden in process, on a
// loopback listener, and a real Trino 476 whose OPA access-control plugin
// asks it every authorization question, driven through trino-go-client as
// different users. Trino starts once per test binary (TestMain), since it
// takes tens of seconds; scenarios only read the shared state, so they run
// in parallel and in any order.
//
// The policy is testdata/e2e/rules.json and the Trino-side groups (the file
// group provider's file) testdata/e2e/groups.txt. Trino reaches Warden over
// mTLS with certificates made for the run. See docs/e2e.md.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trino-warden/warden/policy/loader"
	"github.com/trino-warden/warden/server"
	"github.com/trino-warden/warden/views/trinotest"
)

const (
	rulesPath  = "../../testdata/e2e/rules.json"
	groupsPath = "../../testdata/e2e/groups.txt"
)

// passwords of the users Trino authenticates (HTTP Basic over HTTPS).
var passwords = map[string]string{
	"admin": "admin-pw",
	"alice": "alice-pw",
	"bob":   "bob-pw",
	"carol": "carol-pw",
	"svc":   "svc-pw",
}

// env is what TestMain starts for every test of the binary.
var env struct {
	trino     *trinotest.Trino
	wardenURL string
	// client reaches Warden's decision listener, with the client
	// certificate.
	client *http.Client
	// skip is why the tests skip: Trino cannot run on this machine.
	skip string
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run starts Warden and Trino, creates the fixtures, runs the tests and
// stops both, even when a test fails or panics.
func run(m *testing.M) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	dir, err := os.MkdirTemp("", "warden-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir) //nolint:errcheck // best effort.
	certs, err := newPKI(dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: certificates: %v\n", err)
		return 1
	}
	env.client = certs.client

	warden := server.New(server.Options{
		Addr:              "127.0.0.1:0",
		MaxBodyBytes:      64 << 20,
		ExplainCacheSize:  1000,
		ExplainCacheBytes: 16 << 20,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		DrainDelay:        0,
		ShutdownTimeout:   10 * time.Second,
		Policy:            loader.Config{Default: loader.Files{TrinoRules: rulesPath}},
		TLS: server.TLSOptions{CertFile: certs.serverCertFile, KeyFile: certs.serverKeyFile,
			ClientCAFile: certs.caFile, ClientAuth: "require"},
	}, logger)
	served := make(chan error, 1)
	go func() { served <- warden.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			fmt.Fprintf(os.Stderr, "e2e: warden: %v\n", err)
		}
	}()
	url, err := waitWarden(warden, served)
	if err == nil {
		err = checkMTLS(url)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	env.wardenURL = url

	groups, err := trinotest.ReadGroups(groupsPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	began := time.Now()
	tr, err := trinotest.Launch(ctx, trinotest.Options{
		WardenURL: url,
		Groups:    groups,
		Users:     passwords,
		// Trino presents its client certificate to Warden (mTLS); airlift's
		// HTTP client reads PEM key and trust stores.
		OPAHTTPClient: map[string]string{
			"connect-timeout":  "2s",
			"request-timeout":  "30s",
			"key-store-path":   certs.clientFile,
			"trust-store-path": certs.caFile,
		},
		Logger: logger,
	})
	switch {
	case trinotest.Unavailable(err):
		env.skip = err.Error()
	case err != nil:
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	default:
		defer func() {
			if err := tr.Close(); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			}
		}()
		fmt.Fprintf(os.Stderr, "e2e: Trino %s started in %s at %s, Warden at %s\n",
			trinotest.Version, time.Since(began).Round(time.Millisecond), tr.URL(), url)
		env.trino = tr
		if err := createFixtures(ctx, tr); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: fixtures: %v\nTrino's log ends:\n%s\n", err, tr.LogTail(30))
			return 1
		}
	}
	code := m.Run()
	if code != 0 && env.trino != nil {
		fmt.Fprintf(os.Stderr, "e2e: Trino's log (%s) ends:\n%s\n", env.trino.LogPath(), env.trino.LogTail(30))
	}
	return code
}

// waitWarden waits until Warden listens and reports ready, and returns its
// base URL.
func waitWarden(s *server.Server, served <-chan error) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-served:
			return "", fmt.Errorf("warden stopped at start: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
		addr := s.Addr()
		if addr == "" {
			continue
		}
		resp, err := env.client.Get("https://" + addr + "/health/ready")
		if err != nil {
			continue
		}
		_ = resp.Body.Close() //nolint:errcheck // only the status matters.
		if resp.StatusCode == http.StatusOK {
			return "https://" + addr, nil
		}
	}
	return "", errors.New("warden was not ready within 30s")
}

// checkMTLS makes sure the decision listener refuses a client without a
// certificate, so the suite really runs over mTLS.
func checkMTLS(url string) error {
	tr := env.client.Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.Certificates = nil
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url + "/health/ready")
	if err == nil {
		_ = resp.Body.Close() //nolint:errcheck // only the refusal matters.
		return errors.New("warden's decision listener answered a client without a certificate")
	}
	return nil
}

// Fixture rows of memory.sales.orders: id, region, email, amount.
var orders = [][]any{
	{int64(1), "EU", "anna@example.com", int64(120)},
	{int64(2), "US", "bill@example.com", int64(80)},
	{int64(3), "EU", "chen@example.com", int64(45)},
	{int64(4), "APAC", "dara@example.com", int64(300)},
}

// createFixtures creates, as admin, the memory tables the scenarios read.
func createFixtures(ctx context.Context, tr *trinotest.Trino) error {
	values := make([]string, len(orders))
	for i, o := range orders {
		values[i] = fmt.Sprintf("(%d, '%s', '%s', %d)", o...)
	}
	for _, stmt := range []string{
		"CREATE SCHEMA memory.sales",
		"CREATE TABLE memory.sales.orders (id bigint, region varchar, email varchar, amount bigint)",
		"INSERT INTO memory.sales.orders VALUES " + strings.Join(values, ", "),
		"CREATE TABLE memory.sales.targets (region varchar, target bigint)",
		"INSERT INTO memory.sales.targets VALUES ('EU', 1000), ('US', 2000)",
	} {
		if _, err := tr.QueryContext(ctx, tr.DSN("admin"), stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

// setup returns the shared Trino, skipping the test when Trino cannot run
// on this machine.
func setup(t *testing.T) *trinotest.Trino {
	t.Helper()
	if env.skip != "" {
		t.Skipf("skipped, Trino cannot run here (set CI=true to fail instead): %s", env.skip)
	}
	return env.trino
}
