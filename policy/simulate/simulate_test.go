package simulate_test

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/fbac"
	"github.com/trino-warden/warden/policy/simulate"
	"github.com/trino-warden/warden/policy/trino"
)

func snapshot(t *testing.T, rev int64, rules string, dir *policy.Directory) *policy.Snapshot {
	t.Helper()
	p, err := fbac.Parse([]byte(rules))
	require.NoError(t, err)
	s, err := policy.NewSnapshot(rev, "test", map[string]*policy.PolicySet{policy.DefaultCluster: policy.NewPolicySet(fbac.NewSource(p))})
	require.NoError(t, err)
	s.Directory = dir
	return s
}

func records(rs ...simulate.Recorded) iter.Seq2[simulate.Recorded, error] {
	return func(yield func(simulate.Recorded, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func input(user, group, action string) []byte {
	return []byte(`{"input":{"context":{"identity":{"user":"` + user + `","groups":["` + group + `"]},"softwareStack":{"trinoVersion":"476"}},"action":` + action + `}}`)
}

const (
	selectOrders = `{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"hive","schemaName":"sales","tableName":"orders","columns":["id"]}}}`
	selectHR     = `{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"hive","schemaName":"hr","tableName":"salaries","columns":["id"]}}}`
	filterTables = `{"operation":"FilterTables","filterResources":[{"table":{"catalogName":"hive","schemaName":"sales","tableName":"orders"}},{"table":{"catalogName":"hive","schemaName":"hr","tableName":"salaries"}},{"table":{"catalogName":"hive","schemaName":"sales","tableName":"items"}}]}`
	rowFilter    = `{"operation":"GetRowFilters","resource":{"table":{"catalogName":"hive","schemaName":"sales","tableName":"orders"}}}`
)

// TestRunFlipsExactlyTheExpected: the candidate takes hr away from
// analysts and adds a row filter on orders; exactly the recorded decisions
// that touch those change, and the counts and examples say so.
func TestRunFlipsExactlyTheExpected(t *testing.T) {
	t.Parallel()
	live := snapshot(t, 1, `{"schemas":[{"owner":false}],"tables":[{"group":"analysts","catalog":"hive","privileges":["SELECT"]}]}`, nil)
	candidate := snapshot(t, 2, `{"schemas":[{"owner":false}],"tables":[
		{"group":"analysts","catalog":"hive","schema":"hr","privileges":[]},
		{"group":"analysts","catalog":"hive","schema":"sales","table":"orders","privileges":["SELECT"],"filter":"region = 'emea'"},
		{"group":"analysts","catalog":"hive","privileges":["SELECT"]}]}`, nil)
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	recs := records(
		simulate.Recorded{DecisionID: "d1", Time: at, Endpoint: trino.EndpointAllow, Input: input("alice", "analysts", selectOrders), Allowed: true},
		simulate.Recorded{DecisionID: "d2", Time: at, Endpoint: trino.EndpointAllow, Input: input("alice", "analysts", selectHR), Allowed: true},
		simulate.Recorded{DecisionID: "d3", Time: at, Endpoint: trino.EndpointAllow, Input: input("bob", "sales", selectHR), Allowed: false},
		simulate.Recorded{DecisionID: "d4", Time: at, Endpoint: trino.EndpointBatch, Input: input("alice", "analysts", filterTables), Kept: []int{0, 1, 2}},
		simulate.Recorded{DecisionID: "d5", Time: at, Endpoint: trino.EndpointRowFilters, Input: input("alice", "analysts", rowFilter)},
		// Recorded as denied, though the live policy allows it now: drift,
		// not a flip.
		simulate.Recorded{DecisionID: "d6", Time: at, Endpoint: trino.EndpointAllow, Input: input("carl", "analysts", selectOrders), Allowed: false},
		simulate.Recorded{DecisionID: "d7", Time: at, Endpoint: trino.EndpointAllow, Input: []byte(`{"input":{}}`)},
	)
	e := policy.NewEngine(policy.EngineOptions{})
	r, err := simulate.Run(context.Background(), e, live, candidate, recs, simulate.Options{})
	require.NoError(t, err)
	require.Equal(t, 6, r.Replayed)
	require.Equal(t, 1, r.Undecodable)
	require.Equal(t, 1, r.Drifted)
	require.Equal(t, 3, r.Flipped, "d2, d4 and d5 flip; d1, d3 and d6 do not: %+v", r.Examples)
	require.Equal(t, 3, r.FlippedItems)
	ids := map[string]simulate.Flip{}
	for _, f := range r.Examples {
		ids[f.DecisionID+":"+f.Object] = f
	}
	require.Equal(t, "deny", ids["d2:hive.hr.salaries"].Candidate)
	require.Equal(t, "allow", ids["d2:hive.hr.salaries"].Live)
	require.Equal(t, "deny", ids["d4:hive.hr.salaries"].Candidate)
	require.Equal(t, "region = 'emea'", ids["d5:hive.sales.orders"].Candidate)
	require.Equal(t, []simulate.Count{{Key: "alice", Lost: 3}}, r.ByUser)
	require.Equal(t, []simulate.Count{{Key: "hive.hr.salaries", Lost: 2}, {Key: "hive.sales.orders", Lost: 1}}, r.ByObject)
	require.Equal(t, []simulate.Count{{Key: "FilterTables", Lost: 1}, {Key: "GetRowFilters", Lost: 1}, {Key: "SelectFromColumns", Lost: 1}}, r.ByOperation)
}

// TestRunUsesTheLiveDirectory: a deactivated directory user flips nothing,
// since both sides deny them as of now.
func TestRunUsesTheLiveDirectory(t *testing.T) {
	t.Parallel()
	dir, err := policy.NewDirectory(policy.IdentityOptions{}, []policy.DirectoryUser{{UserName: "alice", Active: false}})
	require.NoError(t, err)
	live := snapshot(t, 1, `{"tables":[{"group":"analysts","catalog":"hive","privileges":["SELECT"]}]}`, dir)
	candidate := snapshot(t, 2, `{"tables":[{"catalog":"hive","privileges":[]}]}`, dir)
	e := policy.NewEngine(policy.EngineOptions{})
	r, err := simulate.Run(context.Background(), e, live, candidate, records(
		simulate.Recorded{DecisionID: "d1", Endpoint: trino.EndpointAllow, Input: input("alice", "analysts", selectOrders), Allowed: true},
		simulate.Recorded{DecisionID: "d2", Endpoint: trino.EndpointAllow, Input: input("bob", "analysts", selectOrders), Allowed: true},
	), simulate.Options{})
	require.NoError(t, err)
	require.Equal(t, 1, r.Flipped)
	require.Equal(t, "d2", r.Examples[0].DecisionID)
	require.Equal(t, 1, r.Drifted, "alice was allowed when recorded, and is denied now")
}
