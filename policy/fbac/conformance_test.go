package fbac_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/fbac"
	"github.com/trino-warden/warden/policy/trino"
)

const conformanceDir = "../../testdata/conformance/trino-fbac"

type vector struct {
	ID       string          `json:"id"`
	Rules    string          `json:"rules"`
	Endpoint string          `json:"endpoint"`
	Input    json.RawMessage `json:"input"`
	Expect   json.RawMessage `json:"expect"`
	Derived  bool            `json:"derived"`
	Note     string          `json:"note"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	f, err := os.Open(filepath.Join(conformanceDir, "vectors.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	var out []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var v vector
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v))
		out = append(out, v)
	}
	require.NoError(t, sc.Err())
	return out
}

// engineFor builds an engine whose only source is the rules file.
func engineFor(t *testing.T, rulesFile string, cache map[string]*policy.Engine) *policy.Engine {
	t.Helper()
	if e, ok := cache[rulesFile]; ok {
		return e
	}
	p, err := fbac.ParseFile(filepath.Join(conformanceDir, "rules", rulesFile))
	require.NoError(t, err, "rules file %s must load", rulesFile)
	snap, err := policy.NewSnapshot(1, rulesFile, map[string]*policy.PolicySet{policy.DefaultCluster: policy.NewPolicySet(fbac.NewSource(p))})
	require.NoError(t, err)
	e := policy.NewEngine(policy.EngineOptions{})
	require.NoError(t, e.Swap(snap))
	cache[rulesFile] = e
	return e
}

// decide runs one vector's input through the engine and returns the JSON
// result the server would send.
func decide(t *testing.T, e *policy.Engine, endpoint string, input []byte) any {
	t.Helper()
	ep, ok := trino.ParseEndpoint(endpoint)
	require.True(t, ok, "endpoint %s", endpoint)
	body := append(append([]byte(`{"input":`), input...), '}')
	tr, err := trino.Decode(body)
	require.NoError(t, err)
	require.NoError(t, tr.Validate(ep))
	req := &policy.Request{Request: tr, Endpoint: ep, Cluster: policy.DefaultCluster,
		Subject: policy.Subject{User: tr.Context.Identity.User, Groups: tr.Context.Identity.Groups}}
	d, err := e.Decide(context.Background(), req)
	require.NoError(t, err)
	switch ep {
	case trino.EndpointAllow:
		return d.Allowed
	case trino.EndpointBatch:
		return d.Indices
	case trino.EndpointRowFilters:
		return d.Filters
	case trino.EndpointColumnMask:
		return d.Mask
	default:
		return d.Masks
	}
}

// normalise turns a result into comparable JSON: batch indices sorted,
// batch masks sorted by index.
func normalise(t *testing.T, endpoint string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var x any
	require.NoError(t, json.Unmarshal(b, &x))
	if arr, ok := x.([]any); ok {
		sort.SliceStable(arr, func(i, j int) bool {
			ki, kj := sortKey(arr[i]), sortKey(arr[j])
			return ki < kj
		})
		if endpoint == "rowFilters" && len(arr) == 0 {
			x = []any{}
		}
	}
	if x == nil && endpoint == "columnMask" {
		x = nil
	}
	out, err := json.Marshal(x)
	require.NoError(t, err)
	return string(out)
}

func sortKey(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case map[string]any:
		if i, ok := x["index"].(float64); ok {
			return i
		}
	}
	return 0
}

func TestConformanceVectors(t *testing.T) {
	t.Parallel()
	vectors := loadVectors(t)
	require.Len(t, vectors, 650)
	engines := map[string]*policy.Engine{}
	for _, v := range vectors {
		e := engineFor(t, v.Rules, engines)
		var want any
		require.NoError(t, json.Unmarshal(v.Expect, &want))
		wantJSON := normalise(t, v.Endpoint, want)
		got := normalise(t, v.Endpoint, decide(t, e, v.Endpoint, v.Input))
		if got != wantJSON {
			t.Errorf("%s (%s, %s): got %s, want %s\n  note: %s\n  input: %s", v.ID, v.Rules, v.Endpoint, got, wantJSON, v.Note, v.Input)
		}
	}
}

// TestConformanceVectorsNewerPlugins replays every vector with the context
// fields that Trino 478 (queryId) and 480 (properties) add: the answers must
// not change.
func TestConformanceVectorsNewerPlugins(t *testing.T) {
	t.Parallel()
	engines := map[string]*policy.Engine{}
	for _, v := range loadVectors(t) {
		var in map[string]any
		require.NoError(t, json.Unmarshal(v.Input, &in))
		ctx := in["context"].(map[string]any)
		ctx["queryId"] = "20250718_081710_03427_trino"
		ctx["properties"] = map[string]any{"cluster": "some-cluster", "x": nil}
		ctx["principal"] = map[string]any{"name": "ignored-unknown-field"}
		patched, err := json.Marshal(in)
		require.NoError(t, err)
		e := engineFor(t, v.Rules, engines)
		want := normalise(t, v.Endpoint, decide(t, e, v.Endpoint, v.Input))
		got := normalise(t, v.Endpoint, decide(t, e, v.Endpoint, patched))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: answer changed with 480 context fields (-476 +480):\n%s", v.ID, diff)
		}
	}
}

func TestInvalidRulesAreRefused(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(conformanceDir, "rules", "invalid", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		_, err := fbac.ParseFile(f)
		require.Error(t, err, "%s must be refused", filepath.Base(f))
		t.Logf("%s: %v", filepath.Base(f), err)
	}
}
