package loader_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/loader"
	"github.com/trino-warden/warden/policy/trino"
)

const goodRego = `package warden

import rego.v1

deny contains "blocked" if "blocked" in input.warden.groups
`

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
}

func files(t *testing.T) (loader.Files, string) {
	t.Helper()
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.json")
	write(t, rules, `{"catalogs":[{"catalog":"tpch","allow":"read-only"}]}`)
	write(t, filepath.Join(dir, "policy", "warden.rego"), goodRego)
	return loader.Files{TrinoRules: rules, PolicyDir: filepath.Join(dir, "policy")}, dir
}

func accessCatalog(t *testing.T, e *policy.Engine, cluster string, groups ...string) bool {
	t.Helper()
	req := &policy.Request{
		Request: &trino.Request{Op: trino.OpAccessCatalog, Input: trino.Input{Action: trino.Action{
			Operation: "AccessCatalog", Resource: &trino.Resource{Catalog: &trino.Catalog{Name: "tpch"}}}}},
		Endpoint: trino.EndpointAllow, Cluster: cluster,
		Subject: policy.Subject{User: "u", Groups: groups},
	}
	d, err := e.Decide(context.Background(), req)
	require.NoError(t, err)
	return d.Allowed
}

func TestBuildOrdersSourcesAndClusters(t *testing.T) {
	t.Parallel()
	f, dir := files(t)
	other := filepath.Join(dir, "other.json")
	write(t, other, `{"catalogs":[{"catalog":"tpch","allow":"none"}]}`)
	snap, err := loader.Build(loader.Config{Default: f, Clusters: map[string]loader.Files{"mirror": {}, "strict": {TrinoRules: other}}}, 7)
	require.NoError(t, err)
	require.EqualValues(t, 7, snap.Revision)
	require.Equal(t, []string{"default", "mirror", "strict"}, snap.Clusters())
	ps, _ := snap.Cluster(policy.DefaultCluster)
	var names []string
	for _, s := range ps.Sources() {
		names = append(names, s.Name())
	}
	require.Equal(t, []string{"rego", "rules"}, names, "mask precedence: extension Rego before rules.json")

	e := policy.NewEngine(policy.EngineOptions{})
	require.NoError(t, e.Swap(snap))
	require.True(t, accessCatalog(t, e, "default"))
	require.False(t, accessCatalog(t, e, "default", "blocked"), "the Rego veto wins over rules.json")
	require.True(t, accessCatalog(t, e, "mirror"), "a cluster without files shares the default policy")
	require.False(t, accessCatalog(t, e, "strict"))
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	f, dir := files(t)
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.MkdirAll(empty, 0o755))
	tests := []struct {
		name string
		cfg  loader.Config
		want string
	}{
		{"missing rules file", loader.Config{Default: loader.Files{TrinoRules: filepath.Join(dir, "nope.json")}}, "nope.json"},
		{"empty policy dir", loader.Config{Default: loader.Files{PolicyDir: empty}}, "no .rego modules"},
		{"broken cluster", loader.Config{Default: f, Clusters: map[string]loader.Files{"x": {TrinoRules: filepath.Join(dir, "nope.json")}}}, "cluster x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loader.Build(tt.cfg, 1)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// TestWatcherKeepsLastGood: a broken module never replaces a good policy;
// fixing it reloads under the next revision, on the watcher's own schedule.
func TestWatcherKeepsLastGood(t *testing.T) {
	t.Parallel()
	f, _ := files(t)
	e := policy.NewEngine(policy.EngineOptions{})
	var reloads []bool
	w := loader.NewWatcher(loader.Config{Default: f}, e, loader.WatcherOptions{Interval: 20 * time.Millisecond,
		ReloadFunc: func(ok bool, _ int64) { reloads = append(reloads, ok) }})
	require.NoError(t, w.Load())
	require.NoError(t, w.Load(), "unchanged files do not rebuild")
	require.EqualValues(t, 1, e.Snapshot().Revision)
	require.Equal(t, []bool{true}, reloads)

	rego := filepath.Join(f.PolicyDir, "warden.rego")
	write(t, rego, "package warden\n\ndeny contains x if {\n")
	err := w.Load()
	require.Error(t, err)
	require.ErrorContains(t, w.LastError(), "warden.rego")
	require.EqualValues(t, 1, e.Snapshot().Revision, "the last good snapshot stays live")
	require.False(t, accessCatalog(t, e, "default", "blocked"), "and still decides")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	write(t, rego, goodRego+"\ndeny contains \"late\" if \"late\" in input.warden.groups\n")
	require.Eventually(t, func() bool { return e.Snapshot().Revision == 2 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, w.LastError())
	require.False(t, accessCatalog(t, e, "default", "late"))
}
