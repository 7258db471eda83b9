package trinotest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestParseJavaVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{
		"25.0.3":    25,
		"24":        24,
		"17.0.15":   17,
		"1.8.0_412": 8,
		`openjdk version "11.0.2" 2019-01-15` + "\nOpenJDK Runtime Environment": 11,
		`openjdk version "25.0.3" 2026-04-21 LTS`:                               25,
	} {
		got, err := parseJavaVersion(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := parseJavaVersion("no version here")
	require.Error(t, err)
}

func TestFindJavaHonoursJavaHome(t *testing.T) {
	// Not parallel: it sets JAVA_HOME.
	old := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(old, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(old, "bin", "java"), []byte("#!/bin/sh\n"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(old, "release"), []byte(`JAVA_VERSION="17.0.1"`+"\n"), 0o644))
	t.Setenv("JAVA_HOME", old)
	java, err := FindJava()
	if err != nil {
		// No JDK 24+ elsewhere: the error names the too-old JAVA_HOME.
		require.ErrorIs(t, err, ErrUnavailable)
		require.Contains(t, err.Error(), old+" (Java 17)")
		return
	}
	require.NotEqual(t, filepath.Join(old, "bin", "java"), java, "a Java 17 JAVA_HOME must be passed over")
	home := filepath.Dir(filepath.Dir(java))
	v, err := javaVersion(home)
	require.NoError(t, err)
	require.GreaterOrEqual(t, v, MinJava)

	t.Setenv("JAVA_HOME", home)
	again, err := FindJava()
	require.NoError(t, err)
	require.Equal(t, java, again)
}

func TestWriteProperties(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "x.properties")
	require.NoError(t, writeProperties(p, map[string]string{
		"b.key":          `C:\dir`,
		"a.key":          "http://127.0.0.1:1/v1?x=y",
		"key with space": "v",
	}))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	want := "a.key=http://127.0.0.1:1/v1?x=y\nb.key=C:\\\\dir\nkey\\ with\\ space=v\n"
	require.Empty(t, cmp.Diff(want, string(b)))
	require.Error(t, writeProperties(p, map[string]string{"k": "two\nlines"}))
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	o := Options{}
	require.ErrorContains(t, o.validate(), "needs WardenURL")
	o = Options{AccessControl: "file"}
	require.ErrorContains(t, o.validate(), `got "file"`)
	o = Options{AccessControl: AccessAllowAll, Users: map[string]string{"svc": "x"}}
	require.ErrorContains(t, o.validate(), `AdminUser "admin"`)
	o = Options{WardenURL: "http://127.0.0.1:1", Groups: map[string][]string{"a:b": {"u"}}}
	require.ErrorContains(t, o.validate(), `group name "a:b"`)
	o = Options{WardenURL: "http://127.0.0.1:1"}
	require.NoError(t, o.validate())
	require.Equal(t, AccessOPA, o.AccessControl)
	require.Equal(t, "admin", o.AdminUser)
	require.Equal(t, "2G", o.Heap)
}

func TestAccessControlProperties(t *testing.T) {
	t.Parallel()
	got := accessControl(Options{AccessControl: AccessOPA, WardenURL: "http://127.0.0.1:8181/",
		OPAHTTPClient: map[string]string{"connect-timeout": "2s", "opa.http-client.idle-timeout": "5m"}})
	want := map[string]string{
		"access-control.name":                        "opa",
		"opa.policy.uri":                             "http://127.0.0.1:8181/v1/data/trino/allow",
		"opa.policy.batched-uri":                     "http://127.0.0.1:8181/v1/data/trino/batch",
		"opa.policy.row-filters-uri":                 "http://127.0.0.1:8181/v1/data/trino/rowFilters",
		"opa.policy.batch-column-masking-uri":        "http://127.0.0.1:8181/v1/data/trino/batchColumnMasks",
		"opa.allow-permission-management-operations": "false",
		"opa.http-client.connect-timeout":            "2s",
		"opa.http-client.idle-timeout":               "5m",
	}
	require.Empty(t, cmp.Diff(want, got))
	require.Equal(t, map[string]string{"access-control.name": "allow-all"}, accessControl(Options{AccessControl: AccessAllowAll}))
}

func TestWanted(t *testing.T) {
	t.Parallel()
	for rel, want := range map[string]bool{
		"lib/io.trino_trino-main-476.jar":    true,
		"plugin":                             true,
		"plugin/opa/io.trino_trino-opa.jar":  true,
		"plugin/opa":                         true,
		"plugin/opaque/x.jar":                false,
		"plugin/hive/x.jar":                  false,
		"bin/launcher":                       false,
		"NOTICE":                             true,
		"secrets-plugin/keystore/x.jar":      false,
		"plugin/password-authenticators/x.j": true,
	} {
		require.Equal(t, want, wanted(rel), rel)
	}
}

// TestFetchRefusesChecksumMismatch serves an artifact whose bytes do not
// match the pinned digest: Fetch must refuse it and leave nothing cached.
func TestFetchRefusesChecksumMismatch(t *testing.T) {
	body := []byte("not the artifact you pinned")
	var hits sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Store(r.URL.Path, true)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	t.Setenv("WARDEN_MAVEN_REPO", srv.URL+"/maven2/")
	t.Setenv("WARDEN_CACHE_DIR", t.TempDir())
	a := Artifact{Path: "io/trino/x/1/x-1.jar", SHA256: strings.Repeat("0", 64)}
	_, err := Fetch(context.Background(), a)
	require.ErrorIs(t, err, ErrChecksum)
	_, ok := hits.Load("/maven2/io/trino/x/1/x-1.jar")
	require.True(t, ok, "the download must come from WARDEN_MAVEN_REPO")
	entries, err := os.ReadDir(filepath.Join(CacheDir(), "download"))
	require.NoError(t, err)
	require.Empty(t, entries, "a refused download must leave no file behind")

	sum := sha256.Sum256(body)
	a.SHA256 = hex.EncodeToString(sum[:])
	p, err := Fetch(context.Background(), a)
	require.NoError(t, err)
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, body, got)

	// A cached file that no longer matches is downloaded again.
	require.NoError(t, os.WriteFile(p, []byte("corrupted"), 0o644))
	p, err = Fetch(context.Background(), a)
	require.NoError(t, err)
	got, err = os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, body, got)

	srv.Close()
	_, err = Fetch(context.Background(), Artifact{Path: "io/trino/y/1/y-1.jar", SHA256: a.SHA256})
	require.ErrorIs(t, err, ErrUnavailable)
}

// eventSink collects the bodies the HTTP event listener posts.
type eventSink struct {
	mu     sync.Mutex
	events []map[string]any
}

func (s *eventSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer trinotest-token" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	b, _ := io.ReadAll(r.Body)
	var ev map[string]any
	if json.Unmarshal(b, &ev) == nil {
		s.mu.Lock()
		s.events = append(s.events, ev)
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

// completed returns the query IDs of the completed queries whose SQL
// contains marker.
func (s *eventSink) completed(marker string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, ev := range s.events {
		meta, _ := ev["metadata"].(map[string]any)
		if _, done := ev["statistics"]; !done || meta == nil {
			continue
		}
		if q, _ := meta["query"].(string); strings.Contains(q, marker) {
			id, _ := meta["queryId"].(string)
			ids = append(ids, id)
		}
	}
	return ids
}

// TestTrino starts a real Trino with allow-all access control, password
// authentication and the HTTP event listener, and checks queries,
// authentication, impersonation, events and a restart on the same port.
func TestTrino(t *testing.T) {
	sink := &eventSink{}
	events := httptest.NewServer(sink)
	defer events.Close()
	began := time.Now()
	tr := Start(t, Options{
		AccessControl:    AccessAllowAll,
		Users:            map[string]string{"admin": "admin-secret", "svc": "svc-secret"},
		Groups:           map[string][]string{"analysts": {"alice"}},
		EventListenerURL: events.URL + "/events",
		EventListener:    map[string]string{"connect-http-headers": "Authorization: Bearer trinotest-token"},
		Logger:           nil,
	})
	t.Logf("Trino %s started in %s on %s", Version, time.Since(began).Round(time.Millisecond), tr.URL())
	info, err := tr.Info(context.Background())
	require.NoError(t, err)
	require.Equal(t, Version, info.NodeVersion.Version)
	require.False(t, info.Starting)

	rows := tr.Query(t, "admin", "SELECT count(*), min(name) FROM tpch.tiny.nation")
	require.Equal(t, [][]any{{int64(25), "ALGERIA"}}, rows)
	rows = tr.Query(t, "admin", "SHOW CATALOGS")
	require.Equal(t, [][]any{{"memory"}, {"system"}, {"tpch"}}, rows)

	// A user without a password entry is not authenticated.
	err = tr.QueryErr("mallory", "SELECT 1")
	require.Error(t, err)
	require.Contains(t, err.Error(), "401")

	// svc logs in and runs as alice; allow-all lets it, and the group file
	// gives alice her group.
	rows, err = tr.QueryContext(context.Background(), tr.ImpersonationDSN("svc", "alice"),
		"SELECT current_user, contains(current_groups(), 'analysts')")
	require.NoError(t, err)
	require.Equal(t, [][]any{{"alice", true}}, rows)

	tr.Query(t, "admin", "SELECT 'trinotest-event-marker'")
	began = time.Now()
	require.Eventually(t, func() bool { return len(sink.completed("trinotest-event-marker")) == 1 },
		30*time.Second, 100*time.Millisecond, "the event listener must post the completed query")
	t.Logf("the completed event arrived in %s", time.Since(began).Round(time.Millisecond))

	port := tr.Port()
	began = time.Now()
	require.NoError(t, tr.Stop())
	t.Logf("Trino stopped in %s", time.Since(began).Round(time.Millisecond))
	_, err = tr.Info(context.Background())
	require.Error(t, err, "a stopped Trino answers nothing")
	began = time.Now()
	require.NoError(t, tr.Start())
	t.Logf("Trino restarted in %s", time.Since(began).Round(time.Millisecond))
	require.Equal(t, port, tr.Port())
	rows = tr.Query(t, "admin", "SELECT count(*) FROM tpch.tiny.region")
	require.Equal(t, [][]any{{int64(5)}}, rows)

	began = time.Now()
	require.NoError(t, tr.Close())
	t.Logf("Trino closed in %s", time.Since(began).Round(time.Millisecond))
	_, err = os.Stat(tr.Dir())
	require.True(t, errors.Is(err, os.ErrNotExist), "Close removes the instance directory")
}

func TestReadGroups(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "groups.txt")
	require.NoError(t, os.WriteFile(p, []byte("# comment\nadmins:admin\n\nanalysts:alice,carol\n"), 0o644))
	got, err := ReadGroups(p)
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"admins": {"admin"}, "analysts": {"alice", "carol"}}, got)
	require.NoError(t, os.WriteFile(p, []byte("no separator\n"), 0o644))
	_, err = ReadGroups(p)
	require.ErrorContains(t, err, "is not group:user")
}

// TestRemoveStale leaves a run directory behind as a killed test binary
// would: its owner is gone and its "Trino" (a sleeping shell whose command
// line names the directory) still runs. removeStale must kill that process
// and remove the directory, and leave alone a directory whose owner lives
// and a process that does not name its directory.
func TestRemoveStale(t *testing.T) {
	t.Parallel()
	run := t.TempDir()
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	deadPID := strconv.Itoa(dead.Process.Pid)

	type proc struct {
		pid    int
		exited chan struct{}
	}
	start := func(args ...string) proc {
		cmd := exec.Command("sh", append([]string{"-c", "sleep 300"}, args...)...)
		require.NoError(t, cmd.Start())
		p := proc{pid: cmd.Process.Pid, exited: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(p.exited) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.exited })
		return p
	}
	mkdir := func(name, owner string, pid int) string {
		dir := filepath.Join(run, name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, trinoPIDFile), []byte(strconv.Itoa(pid)), 0o644))
		return dir
	}
	staleDir := filepath.Join(run, "trino-stale")
	stale := start(staleDir)
	mkdir("trino-stale", deadPID, stale.pid)
	// Owner alive: not touched, even though its process names it.
	liveDir := filepath.Join(run, "trino-live")
	live := start(liveDir)
	mkdir("trino-live", strconv.Itoa(os.Getpid()), live.pid)
	// Owner dead, but the pid now belongs to a process that is not its
	// Trino: the directory goes, the process stays.
	other := start("unrelated")
	mkdir("trino-recycled", deadPID, other.pid)

	removeStale(run, slog.New(slog.DiscardHandler))

	select {
	case <-stale.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the stale Trino was not killed")
	}
	_, err := os.Stat(staleDir)
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat(filepath.Join(run, "trino-recycled"))
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat(liveDir)
	require.NoError(t, err)
	for _, p := range []proc{live, other} {
		select {
		case <-p.exited:
			t.Fatalf("process %d was killed: only a dead owner's Trino may be", p.pid)
		default:
		}
	}
}

func TestUnavailable(t *testing.T) {
	missing := fmt.Errorf("%w: no JDK", ErrUnavailable)
	t.Setenv("CI", "")
	require.True(t, Unavailable(missing), "outside CI a missing JDK skips")
	require.False(t, Unavailable(errors.New("trino exited while starting")), "other failures never skip")
	require.False(t, Unavailable(fmt.Errorf("%w: bad download", ErrChecksum)), "a checksum mismatch never skips")
	t.Setenv("CI", "true")
	require.False(t, Unavailable(missing), "in CI a missing JDK fails")
}
