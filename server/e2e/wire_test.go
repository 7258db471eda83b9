package e2e

import (
	"bufio"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

var decisionsRE = regexp.MustCompile(`^warden_decisions_total\{endpoint="([^"]+)",outcome="([^"]+)"\} (\S+)$`)

// decisionCounts reads warden_decisions_total from Warden's /metrics, by
// endpoint and outcome.
func decisionCounts(t *testing.T) map[[2]string]float64 {
	t.Helper()
	resp, err := env.client.Get(env.wardenURL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close() //nolint:errcheck // read below.
	require.Equal(t, http.StatusOK, resp.StatusCode)
	counts := map[[2]string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if m := decisionsRE.FindStringSubmatch(sc.Text()); m != nil {
			v, err := strconv.ParseFloat(m[3], 64)
			require.NoError(t, err)
			counts[[2]string{m[1], m[2]}] = v
		}
	}
	require.NoError(t, sc.Err())
	return counts
}

// TestTrinoUsesEveryEndpoint checks the wiring from Trino's side: the
// queries below make Trino call each of the four URIs the harness
// configures, and Warden decodes every request Trino 476 sends (no invalid
// or error outcome across the whole run so far).
func TestTrinoUsesEveryEndpoint(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	before := decisionCounts(t)
	tr.Query(t, "alice", "SELECT name, comment FROM tpch.tiny.nation")     // allow, rowFilters, batchColumnMasks
	tr.Query(t, "alice", "SHOW TABLES FROM tpch.tiny")                     // batch (FilterTables)
	require.Error(t, tr.QueryErr("bob", "SELECT * FROM tpch.tiny.orders")) // a deny
	after := decisionCounts(t)

	sum := func(c map[[2]string]float64, endpoint string) float64 {
		var n float64
		for k, v := range c {
			if k[0] == endpoint {
				n += v
			}
		}
		return n
	}
	for _, ep := range []string{"allow", "batch", "rowFilters", "batchColumnMasks"} {
		require.Greater(t, sum(after, ep), sum(before, ep), "Trino must call %s", ep)
	}
	require.Zero(t, sum(after, "columnMask"), "with batch-column-masking-uri set, Trino never asks for single masks")
	require.Greater(t, after[[2]string{"allow", "deny"}], before[[2]string{"allow", "deny"}])
	for k, v := range after {
		if k[1] == "invalid" || k[1] == "error" || k[1] == "unavailable" {
			require.Zero(t, v, "%s requests answered %s", k[0], k[1])
		}
	}
}
