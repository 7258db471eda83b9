package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/trino-warden/warden/views/trinotest"
)

// The large catalog: catalogSchemas schemas s00… of catalogTables tables
// t000… each, all with the columns below, in the memory connector.
const (
	catalogRulesPath = "../../testdata/e2e/catalog-rules.json"
	catalogSchemas   = 20
	catalogTables    = 100
	catalogColumns   = "id bigint, name varchar, amount double, secret varchar"
	// timingRunsEnv sets how many timed runs each query gets (after one
	// warm-up run); 3 by default, which keeps CI cheap.
	timingRunsEnv = "WARDEN_E2E_TIMING_RUNS"
)

// catalog-rules.json gives dana (group catalog-readers) the tables whose
// number ends in 0 or 5, in schemas s00 to s09, without their secret
// column: 10 schemas × 20 tables × 3 columns.
func danaSees(schema, table string) bool {
	s, _ := strconv.Atoi(strings.TrimPrefix(schema, "s"))
	n, _ := strconv.Atoi(strings.TrimPrefix(table, "t"))
	return s < 10 && n%5 == 0
}

func schemaName(i int) string { return fmt.Sprintf("s%02d", i) }
func tableName(i int) string  { return fmt.Sprintf("t%03d", i) }

// createCatalog creates the large catalog as admin, eight statements at a
// time (Trino runs one DDL statement per query).
func createCatalog(ctx context.Context, tr *trinotest.Trino) error {
	dsn := tr.DSN("admin")
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for s := range catalogSchemas {
		g.Go(func() error {
			_, err := tr.QueryContext(ctx, dsn, "CREATE SCHEMA memory."+schemaName(s))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	g, ctx = errgroup.WithContext(context.WithoutCancel(ctx))
	g.SetLimit(8)
	for s := range catalogSchemas {
		for n := range catalogTables {
			g.Go(func() error {
				_, err := tr.QueryContext(ctx, dsn, fmt.Sprintf("CREATE TABLE memory.%s.%s (%s)", schemaName(s), tableName(n), catalogColumns))
				return err
			})
		}
	}
	return g.Wait()
}

// TestLargeCatalog checks visibility in a catalog of 2,000 tables, and
// measures what Warden adds to the queries that list it.
//
// A Trino whose OPA plugin asks a Warden process (mTLS, the recommended
// opa.http-client settings, testdata/e2e/catalog-rules.json) and a Trino
// with access-control=allow-all both get the same 20 schemas × 100 tables.
// SHOW SCHEMAS, SHOW TABLES and information_schema.columns must answer dana
// exactly the 200 tables (600 columns) the rules give her.
//
// The timing part runs each listing query on both, and logs medians of the
// client's wall time and of Trino's own planning and elapsed times
// (system.runtime.queries). WARDEN_E2E_TIMING_RUNS sets the runs (3 by
// default); docs/performance.md has the numbers.
func TestLargeCatalog(t *testing.T) {
	t.Parallel()
	setup(t)
	bin := buildWarden(t)
	certs, err := newPKI(t.TempDir())
	require.NoError(t, err)
	addr := "127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	warden := startWarden(t, "catalog", procOptions{bin: bin, rules: catalogRulesPath, addr: addr, pki: certs, logDir: t.TempDir()})
	httpClient := recommendedHTTPClient(t)
	// Trino asks for each table's columns in a request of its own, all at
	// once: information_schema.columns over 2,000 tables queues 2,000
	// requests, and beyond airlift's default of 1,024 queued requests per
	// destination the query fails ("Max requests queued per destination
	// 1024 exceeded" → "Failed to query OPA backend"). It must be at least
	// the number of tables in the largest catalog.
	httpClient["opa.http-client.max-requests-queued-per-destination"] = "10000"
	httpClient["key-store-path"] = certs.clientFile
	httpClient["trust-store-path"] = certs.caFile
	groups := map[string][]string{"admins": {"admin"}, "catalog-readers": {"dana"}}
	trinos := launchTrinos(t,
		trinotest.Options{WardenURL: "https://" + addr, Groups: groups, OPAHTTPClient: httpClient},
		trinotest.Options{AccessControl: trinotest.AccessAllowAll, Groups: groups})
	opa, allowAll := trinos[0], trinos[1]

	began := time.Now()
	var g errgroup.Group
	g.Go(func() error { return createCatalog(context.Background(), opa) })
	g.Go(func() error { return createCatalog(context.Background(), allowAll) })
	require.NoError(t, g.Wait())
	t.Logf("created %d tables in each Trino in %s", catalogSchemas*catalogTables, time.Since(began).Round(time.Millisecond))

	// What dana must see.
	var wantSchemas, wantTables, wantColumns []string
	for s := range catalogSchemas {
		for n := range catalogTables {
			if danaSees(schemaName(s), tableName(n)) {
				if !slices.Contains(wantSchemas, schemaName(s)) {
					wantSchemas = append(wantSchemas, schemaName(s))
				}
				if s == 3 {
					wantTables = append(wantTables, tableName(n))
				}
				for _, c := range []string{"id", "name", "amount"} {
					wantColumns = append(wantColumns, schemaName(s)+"."+tableName(n)+"."+c)
				}
			}
		}
	}
	sort.Strings(wantColumns)
	require.Len(t, wantColumns, 600)

	t.Run("visibility", func(t *testing.T) {
		require.Empty(t, cmp.Diff(wantSchemas, column(t, opa.Query(t, "dana", "SHOW SCHEMAS FROM memory"))))
		require.Empty(t, cmp.Diff(wantTables, column(t, opa.Query(t, "dana", "SHOW TABLES FROM memory.s03"))))
		got := column(t, opa.Query(t, "dana", columnsQuery))
		require.Empty(t, cmp.Diff(wantColumns, got))
		// A schema outside the rules is not there for dana.
		err := opa.QueryErr("dana", "SHOW TABLES FROM memory.s15")
		require.Error(t, err)
		require.Contains(t, err.Error(), "Access Denied: Cannot show tables of schema memory.s15")
		err = opa.QueryErr("dana", "SELECT secret FROM memory.s03.t005")
		require.Error(t, err)
		require.Contains(t, err.Error(), "Access Denied: Cannot select from columns [secret] in table or view memory.s03.t005")
		require.Equal(t, [][]any{{int64(0)}}, opa.Query(t, "dana", "SELECT count(*) FROM memory.s03.t005"))
		// admin through Warden and anyone without it see everything.
		all := [][]any{{int64(catalogSchemas * catalogTables * 4)}}
		require.Equal(t, all, opa.Query(t, "admin", "SELECT count(*) FROM ("+columnsQuery+")"))
		require.Equal(t, all, allowAll.Query(t, "dana", "SELECT count(*) FROM ("+columnsQuery+")"))
		require.Len(t, opa.Query(t, "admin", "SHOW TABLES FROM memory.s03"), catalogTables)
	})
	if t.Failed() {
		return
	}

	t.Run("timing", func(t *testing.T) {
		runs := 3
		if v := os.Getenv(timingRunsEnv); v != "" {
			runs, err = strconv.Atoi(v)
			require.NoError(t, err, timingRunsEnv)
			require.Positive(t, runs, timingRunsEnv)
		}
		decisionsBefore := warden.decisions(t)
		type setupCase struct {
			name string
			tr   *trinotest.Trino
			user string
		}
		setups := []setupCase{
			{"allow-all, dana", allowAll, "dana"},
			{"warden, admin", opa, "admin"},
			{"warden, dana", opa, "dana"},
		}
		queries := []struct{ name, sql string }{
			{"information_schema.columns", columnsQuery},
			{"SHOW TABLES", "SHOW TABLES FROM memory.s03"},
		}
		results := map[[2]string]*timings{}
		for _, q := range queries {
			for _, s := range setups {
				results[[2]string{q.name, s.name}] = &timings{}
			}
		}
		for run := range runs + 1 {
			// Interleaved, so that whatever else loads the machine
			// weighs on every setup alike.
			for _, q := range queries {
				for _, s := range setups {
					st := timeQuery(t, s.tr, s.user, q.sql)
					if run > 0 { // the first run warms the JIT and caches.
						results[[2]string{q.name, s.name}].add(st)
					}
				}
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "medians of %d runs (ms): client wall / Trino elapsed / planning / analysis\n", runs)
		for _, q := range queries {
			for _, s := range setups {
				r := results[[2]string{q.name, s.name}]
				fmt.Fprintf(&b, "  %-27s %-16s %6d / %6d / %5d / %5d\n", q.name, s.name,
					median(r.wall), median(r.elapsed), median(r.planning), median(r.analysis))
			}
		}
		t.Log(b.String())
		require.Greater(t, warden.decisions(t), decisionsBefore, "the warden runs asked Warden")

		// Honest but loose: Warden must not make the listing several
		// times slower than the same Trino without access control.
		for _, q := range queries {
			base := median(results[[2]string{q.name, "allow-all, dana"}].elapsed)
			for _, s := range []string{"warden, admin", "warden, dana"} {
				got := median(results[[2]string{q.name, s}].elapsed)
				require.LessOrEqual(t, got, 5*base+2000,
					"%s as %s: %d ms against %d ms without Warden", q.name, s, got, base)
			}
		}
	})
}

// columnsQuery lists every column of the large catalog.
const columnsQuery = `SELECT table_schema || '.' || table_name || '.' || column_name
	FROM memory.information_schema.columns WHERE table_schema LIKE 's%' ORDER BY 1`

// queryTiming is one run of a query: the client's wall time and Trino's
// own times, in milliseconds.
type queryTiming struct{ wall, elapsed, planning, analysis int64 }

type timings struct{ wall, elapsed, planning, analysis []int64 }

func (ts *timings) add(q queryTiming) {
	ts.wall = append(ts.wall, q.wall)
	ts.elapsed = append(ts.elapsed, q.elapsed)
	ts.planning = append(ts.planning, q.planning)
	ts.analysis = append(ts.analysis, q.analysis)
}

func median(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

var timingSeq struct {
	sync.Mutex
	n int
}

// timeQuery runs sql as user with a unique tag in a comment, then reads
// the query's times from system.runtime.queries as admin.
func timeQuery(t *testing.T, tr *trinotest.Trino, user, sql string) queryTiming {
	t.Helper()
	timingSeq.Lock()
	timingSeq.n++
	tag := fmt.Sprintf("warden-timing-%d-%d", os.Getpid(), timingSeq.n)
	timingSeq.Unlock()
	began := time.Now()
	tr.Query(t, user, "/* "+tag+" */ "+sql)
	wall := time.Since(began).Milliseconds()
	rows := tr.Query(t, "admin", `SELECT date_diff('millisecond', created, "end"), planning_time_ms, analysis_time_ms
		FROM system.runtime.queries WHERE state = 'FINISHED' AND strpos(query, '/* `+tag+` */') = 1`)
	require.Len(t, rows, 1, "system.runtime.queries must hold %s", tag)
	return queryTiming{wall: wall, elapsed: rows[0][0].(int64), planning: rows[0][1].(int64), analysis: rows[0][2].(int64)}
}
