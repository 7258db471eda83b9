// Package dbmode runs Warden end to end in database mode against a real
// Trino 476, a real PostgreSQL and a real OpenFGA: the governed catalog
// (registered sources, generated views, masks, row policies and
// subscriptions), SCIM and grants changing the next query, and the audit
// joined to Trino's query events. Trino, Warden and the servers start once
// per test binary (TestMain).
package dbmode

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/grants/fgatest"
	"github.com/trino-warden/warden/server"
	"github.com/trino-warden/warden/server/audit"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/server/auth/oidctest"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
	"github.com/trino-warden/warden/views"
	"github.com/trino-warden/warden/views/trinotest"
	"github.com/trino-warden/warden/webhooks/scim"
)

const (
	scimToken      = "e2e-scim-token-0123456789"
	eventsToken    = "e2e-trino-events-token"
	serviceUser    = "warden"
	governedCat    = "governed"
	propagationMax = 5 * time.Second // asserted loosely: Trino caches nothing, but queries take time
)

// rules is the store's rules.json: admin may do everything; analysts read
// memory.sales; hr-analysts may read the source memory.hr.people directly,
// through a row filter that keeps nothing; everyone may run queries and
// read system. The governed catalog is the views source's business.
const rules = `{
  "catalogs": [
    {"user": "admin", "allow": "all"},
    {"group": "(analysts|hr-analysts)", "catalog": "(memory|system)", "allow": "read-only"},
    {"catalog": "system", "allow": "read-only"}
  ],
  "schemas": [{"user": "admin", "owner": true}, {"owner": false}],
  "tables": [
    {"user": "admin", "privileges": ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP", "GRANT_SELECT"]},
    {"group": "hr-analysts", "catalog": "memory", "schema": "hr", "table": "people", "privileges": ["SELECT"], "filter": "region = 'nowhere'"},
    {"group": "analysts", "catalog": "memory", "schema": "sales", "privileges": ["SELECT"]},
    {"catalog": "system", "privileges": ["SELECT"]}
  ]
}`

var env struct {
	trino   *trinotest.Trino
	st      *store.Store
	iss     *oidctest.Issuer
	admin   string // Warden's admin listener base URL
	decide  string // Warden's decision listener base URL
	warden  *server.Server
	skip    error
	started time.Time
}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close() //nolint:errcheck // only the port matters.
	return l.Addr().(*net.TCPAddr).Port, nil
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "e2e dbmode: "+format+"\n", args...)
	return 1
}

func run(m *testing.M) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	env.started = time.Now()

	pg, err := pgtest.StartCluster()
	if err != nil {
		return fail("PostgreSQL: %v", err)
	}
	defer pg.Close() //nolint:errcheck // best effort.
	dbURL := pg.URL("postgres")
	if err := store.MigrateUp(ctx, dbURL); err != nil {
		return fail("migrate: %v", err)
	}
	st, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		return fail("store: %v", err)
	}
	defer st.Close()
	env.st = st
	if _, err := st.PolicyPut(ctx, "e2e", store.DefaultCluster, []store.PolicyDocument{{Kind: store.KindRules, Path: "rules.json", Content: rules}}, "e2e"); err != nil {
		return fail("policy: %v", err)
	}

	fga, err := fgatest.Start(fgatest.Options{})
	if err != nil {
		return fail("OpenFGA: %v", err)
	}
	defer fga.Stop()
	src, err := grants.New(ctx, grants.Options{APIURL: fga.URL(), StoreName: "warden-e2e", ChangesInterval: -1})
	if err != nil {
		return fail("grants: %v", err)
	}
	defer src.Close()

	env.iss, err = oidctest.Start()
	if err != nil {
		return fail("OIDC issuer: %v", err)
	}
	defer env.iss.Close()
	au, err := auth.New(auth.Config{Issuer: env.iss.URL, Audience: "warden", NameClaim: "preferred_username",
		AdminValues: []string{"warden-admins"}, ReaderValues: []string{"auditors"}})
	if err != nil {
		return fail("auth: %v", err)
	}

	trinoPort, err := freePort()
	if err != nil {
		return fail("port: %v", err)
	}
	client, err := views.NewClient(views.ClientOptions{URL: "http://127.0.0.1:" + strconv.Itoa(trinoPort), User: serviceUser})
	if err != nil {
		return fail("views client: %v", err)
	}
	defer client.Close() //nolint:errcheck // best effort.
	spool, err := os.MkdirTemp("", "warden-e2e-spool-")
	if err != nil {
		return fail("spool: %v", err)
	}
	defer os.RemoveAll(spool) //nolint:errcheck // best effort.

	env.warden = server.New(server.Options{
		Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", MaxBodyBytes: 64 << 20, ShutdownTimeout: 10 * time.Second,
		Store: st, Auth: au, Grants: src,
		SCIM: scim.Options{Clients: []scim.Client{{Name: "okta", Token: scimToken}}},
		Audit: server.AuditOptions{Enabled: true, TrinoEventsToken: eventsToken,
			Options: audit.Options{FlushInterval: 100 * time.Millisecond, SpoolDir: spool, Explain: audit.ExplainAll}},
		Views: &server.ViewsOptions{Trino: client, SyncInterval: 2 * time.Second,
			Options: views.Options{Catalog: governedCat, ServiceUser: serviceUser}},
	}, logger)
	served := make(chan error, 1)
	go func() { served <- env.warden.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			fmt.Fprintf(os.Stderr, "e2e dbmode: warden: %v\n", err)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for env.warden.Addr() == "" || env.warden.AdminAddr() == "" || env.warden.Engine().Snapshot() == nil {
		if time.Now().After(deadline) {
			return fail("warden did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	env.decide, env.admin = "http://"+env.warden.Addr(), "http://"+env.warden.AdminAddr()

	tr, err := trinotest.Launch(ctx, trinotest.Options{
		WardenURL:        env.decide,
		Port:             trinoPort,
		Catalogs:         map[string]map[string]string{governedCat: {"connector.name": "memory"}},
		EventListenerURL: env.admin + "/v1/audit/trino-events",
		EventListener:    map[string]string{"connect-http-headers": "Authorization: Bearer " + eventsToken},
		Logger:           logger,
	})
	switch {
	case trinotest.Unavailable(err):
		env.skip = err
	case err != nil:
		return fail("%v", err)
	default:
		defer tr.Close() //nolint:errcheck // best effort.
		env.trino = tr
		if err := fixtures(ctx, tr); err != nil {
			return fail("fixtures: %v\n%s", err, tr.LogTail(30))
		}
		fmt.Fprintf(os.Stderr, "e2e dbmode: PostgreSQL, OpenFGA, Warden and Trino ready in %s\n", time.Since(env.started).Round(time.Millisecond))
	}
	code := m.Run()
	if code != 0 && env.trino != nil {
		fmt.Fprintf(os.Stderr, "e2e dbmode: Trino's log ends:\n%s\n", env.trino.LogTail(40))
	}
	return code
}

// fixtures creates the source tables as admin.
func fixtures(ctx context.Context, tr *trinotest.Trino) error {
	for _, s := range []string{
		"CREATE SCHEMA memory.hr",
		"CREATE TABLE memory.hr.people (id bigint, name varchar(32), email varchar(64), region varchar(8), salary decimal(12,2))",
		`INSERT INTO memory.hr.people VALUES
			(1, 'Anna', 'anna@example.com', 'emea', DECIMAL '81234.50'),
			(2, 'Bill', 'bill@example.com', 'amer', DECIMAL '92000.00'),
			(3, 'Chen', 'chen@example.com', 'emea', DECIMAL '67800.25'),
			(4, 'Dara', 'dara@example.com', 'apac', DECIMAL '123456.78')`,
		"CREATE SCHEMA memory.sales",
		"CREATE TABLE memory.sales.orders (id bigint, amount bigint)",
		"INSERT INTO memory.sales.orders VALUES (1, 120), (2, 80)",
		"CREATE SCHEMA memory.finance",
		"CREATE TABLE memory.finance.ledger (id bigint, amount bigint)",
		"INSERT INTO memory.finance.ledger VALUES (1, 5)",
	} {
		if _, err := tr.QueryContext(ctx, tr.DSN("admin"), s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// need skips a test when Trino cannot run here (never in CI).
func need(t *testing.T) *trinotest.Trino {
	t.Helper()
	if env.trino == nil {
		trinotest.SkipOrFatal(t, env.skip)
	}
	return env.trino
}
