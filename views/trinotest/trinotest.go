// Package trinotest runs a real Trino coordinator for tests, configured to
// ask Warden for every authorization decision through Trino's OPA
// access-control plugin (or to allow everything, for baselines).
//
// Trino 476 comes from Maven Central, pinned by SHA-256 (see Install and
// ServerArtifact), and is extracted once into a cache outside the checkout
// (CacheDir). It runs on a JDK 24 or later (FindJava) as a single-node
// coordinator on a free loopback port, with the memory and tpch catalogs, a
// file group provider holding the groups the test gives, and optionally
// password authentication and the HTTP event listener.
//
// Trino takes tens of seconds to start, so a test binary starts it once:
//
//	var trino *trinotest.Trino
//
//	func TestMain(m *testing.M) {
//		t, err := trinotest.Launch(ctx, trinotest.Options{WardenURL: url})
//		…
//		code := m.Run()
//		t.Close()
//		os.Exit(code)
//	}
//
// or, for a test of its own, Start(t, opts), which stops it at cleanup.
// Without a JDK 24+ or the artifacts, tests skip, except when $CI is "true",
// where they fail.
package trinotest

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trinodb/trino-go-client/trino"
)

// Options configure a Trino.
type Options struct {
	// WardenURL is the base URL of the Warden decision listener, e.g.
	// http://127.0.0.1:8181; the OPA plugin's URIs are its /v1/data/trino
	// paths. Required with AccessOPA.
	WardenURL string
	// AccessControl is AccessOPA (the default) or AccessAllowAll.
	AccessControl string
	// Groups maps each Trino-side group to its members, for the file group
	// provider; Trino sends them to Warden in context.identity.groups.
	Groups map[string][]string
	// Catalogs are catalogs by name, each its properties; they are added to
	// memory and tpch, and replace them when named alike.
	Catalogs map[string]map[string]string
	// EventListenerURL, when set, turns on the HTTP event listener, posting
	// query-created and query-completed events there.
	EventListenerURL string
	// EventListener are more http-event-listener.* settings (keyed with or
	// without that prefix), e.g. connect-http-headers for Warden's audit
	// token; see deploy/trino/event-listener.properties.
	EventListener map[string]string
	// Users maps user names to passwords; when set, clients authenticate
	// with HTTP Basic (password-authenticator.name=file), which Trino takes
	// over plain HTTP here. It must include AdminUser.
	Users map[string]string
	// OPAHTTPClient are the OPA plugin's HTTP client settings, keyed with or
	// without the "opa.http-client." prefix (see
	// deploy/trino/access-control.properties).
	OPAHTTPClient map[string]string
	// ConfigProperties are added to, or override, config.properties.
	ConfigProperties map[string]string
	// AdminUser runs ReadyQuery; "admin" by default. With AccessOPA,
	// Warden's policy must let it read tpch.tiny.region.
	AdminUser string
	// Heap is the JVM's maximum heap; "2G" by default.
	Heap string
	// Port is the HTTP port on 127.0.0.1; 0 picks a free one.
	Port int
	// StartTimeout bounds each start; 4 minutes by default, as a start
	// takes about 20 seconds on two busy cores.
	StartTimeout time.Duration
	// Logger receives the harness's own messages; nil discards them.
	Logger *slog.Logger
}

// Trino is a Trino coordinator process and its configuration directory.
type Trino struct {
	opts    Options
	logger  *slog.Logger
	java    string
	server  string // the extracted server: lib/ and plugin/
	dir     string // the instance: etc/, data/, trino.log, pid files
	port    int
	logPath string
	// With password authentication: the HTTPS port and the certificate
	// clients trust.
	httpsPort int
	roots     *x509.CertPool

	mu     sync.Mutex // guards the process
	cmd    *exec.Cmd
	exited chan struct{}
	closed bool

	cmu     sync.Mutex // guards the clients, which Start uses while holding mu
	dbs     map[string]*sql.DB
	clients []string
}

// Start starts a Trino for one test and closes it at the test's cleanup.
// A missing JDK or unavailable artifacts skip the test, unless $CI is
// "true"; any other failure fails it.
func Start(tb testing.TB, opts Options) *Trino {
	tb.Helper()
	t, err := Launch(context.Background(), opts)
	if err != nil {
		SkipOrFatal(tb, err)
	}
	tb.Cleanup(func() {
		if err := t.Close(); err != nil {
			tb.Errorf("trinotest: %v", err)
		}
	})
	return t
}

// SkipOrFatal ends the test on a Launch error: it skips when the error
// wraps ErrUnavailable and $CI is not "true", and fails otherwise.
func SkipOrFatal(tb testing.TB, err error) {
	tb.Helper()
	if Unavailable(err) {
		tb.Skipf("skipped, Trino cannot run here (set CI=true to fail instead): %v", err)
	}
	tb.Fatal(err)
}

// Unavailable reports whether err means a prerequisite is missing and the
// tests should skip: it wraps ErrUnavailable and $CI is not "true".
func Unavailable(err error) bool {
	return errors.Is(err, ErrUnavailable) && os.Getenv("CI") != "true"
}

// Launch installs Trino if needed, writes a configuration for opts into a
// new instance directory and starts Trino, returning once it answers
// queries. Close stops it and removes the directory.
func Launch(ctx context.Context, opts Options) (*Trino, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("trinotest: options: %w", err)
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 4 * time.Minute
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	java, err := FindJava()
	if err != nil {
		return nil, err
	}
	server, err := Install(ctx)
	if err != nil {
		return nil, err
	}
	run := filepath.Join(CacheDir(), "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		return nil, err
	}
	removeStale(run, logger)
	dir, err := os.MkdirTemp(run, "trino-")
	if err != nil {
		return nil, fmt.Errorf("create the instance directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	port := opts.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, errors.Join(err, os.RemoveAll(dir))
		}
	}
	t := &Trino{opts: opts, logger: logger, java: java, server: server, dir: dir, port: port,
		logPath: filepath.Join(dir, "trino.log"), dbs: map[string]*sql.DB{}}
	if len(opts.Users) > 0 {
		if t.httpsPort, err = freePort(); err != nil {
			return nil, errors.Join(err, os.RemoveAll(dir))
		}
	}
	if err := t.writeConfig(); err != nil {
		return nil, errors.Join(fmt.Errorf("trinotest: write the configuration: %w", err), os.RemoveAll(dir))
	}
	if err := t.Start(); err != nil {
		return nil, errors.Join(err, t.Close())
	}
	return t, nil
}

// URL returns the coordinator's base URL.
func (t *Trino) URL() string { return "http://127.0.0.1:" + strconv.Itoa(t.port) }

// Port returns the coordinator's TCP port on 127.0.0.1; it stays the same
// across Stop and Start.
func (t *Trino) Port() int { return t.port }

// Dir returns the instance directory, holding etc/ and trino.log.
func (t *Trino) Dir() string { return t.dir }

// LogPath returns the path of Trino's log (its standard output and error).
func (t *Trino) LogPath() string { return t.logPath }

// command builds the java command line from etc/: jvm.config, node.properties
// as system properties (as Trino's launcher does), then the main class.
func (t *Trino) command() *exec.Cmd {
	etc := filepath.Join(t.dir, "etc")
	args := append(t.jvmArgs(),
		"-Dconfig="+filepath.Join(etc, "config.properties"),
		"-Dlog.levels-file="+filepath.Join(etc, "log.properties"))
	node := t.nodeProperties()
	for _, k := range slices.Sorted(maps.Keys(node)) {
		args = append(args, "-D"+k+"="+node[k])
	}
	args = append(args, "-cp", filepath.Join(t.server, "lib", "*"), "io.trino.server.TrinoServer")
	cmd := exec.Command(t.java, args...) //nolint:gosec // a JDK found on this machine, with our arguments.
	cmd.Dir = t.dir
	cmd.Env = append(os.Environ(), "TZ=UTC")
	// Trino stays in the test's process group, so Ctrl-C stops it too, and
	// dies with the test binary even when no cleanup runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Start starts Trino (again) on its port and waits until it reports it has
// started and answers a query. Starting a running Trino does nothing. On
// failure the error ends with the tail of Trino's log.
func (t *Trino) Start() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errors.New("trinotest: Trino is closed")
	}
	if t.cmd != nil {
		return nil
	}
	logFile, err := os.OpenFile(t.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("trinotest: open the log: %w", err)
	}
	defer logFile.Close() //nolint:errcheck // the child holds its own descriptor.
	cmd := t.command()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("trinotest: start %s: %w", t.java, err)
	}
	if err := os.WriteFile(filepath.Join(t.dir, trinoPIDFile), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		t.logger.Warn("cannot record Trino's pid", "error", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() //nolint:errcheck // the exit status is in the log.
		close(exited)
	}()
	t.cmd, t.exited = cmd, exited
	if err := t.waitReady(exited); err != nil {
		_ = t.stopLocked() //nolint:errcheck // already failing.
		return fmt.Errorf("trinotest: %w; Trino's log (%s) says:\n%s", err, t.logPath, t.logExcerpt())
	}
	t.logger.Info("trino started", "url", t.URL(), "pid", cmd.Process.Pid, "seconds", time.Since(began).Seconds())
	return nil
}

// waitReady polls /v1/info until Trino says it has started, then runs
// ReadyQuery as the admin user until the scheduler has a node for it.
func (t *Trino) waitReady(exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), t.opts.StartTimeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	var last string
	opaRetries := 0
	for {
		select {
		case <-exited:
			return errors.New("trino exited while starting")
		case <-ctx.Done():
			return fmt.Errorf("trino did not start within %s (last /v1/info: %s)", t.opts.StartTimeout, last)
		case <-time.After(250 * time.Millisecond):
		}
		info, err := t.info(ctx, client)
		if err != nil {
			last = err.Error()
			continue
		}
		last = fmt.Sprintf("%+v", info)
		if info.Starting {
			continue
		}
		_, err = t.QueryContext(ctx, t.DSN(t.opts.AdminUser), ReadyQuery)
		if err != nil && strings.Contains(err.Error(), "Failed to query OPA backend") && opaRetries < 3 {
			// The first OPA call of a fresh JVM can fail inside Jetty's
			// HTTP client (seen: a NullPointerException on its connection
			// pool, "this.pool is null"); a few retries tell that apart
			// from a Warden that cannot be reached.
			opaRetries++
			last = err.Error()
			continue
		}
		if err != nil && strings.Contains(err.Error(), "No nodes available") {
			// The coordinator reports started before its node scheduler
			// sees it as a worker: queries that scan a table fail for up to
			// a few seconds, more after a restart.
			last = err.Error()
			continue
		}
		if err != nil {
			return fmt.Errorf("trino started but %s as %q failed: %w", ReadyQuery, t.opts.AdminUser, err)
		}
		return nil
	}
}

// ReadyQuery is the query a start waits for. It scans a table, so it needs
// the node scheduler, which starts later than GET /v1/info reports: a
// SELECT 1 can succeed while table scans still fail with "No nodes
// available to run query".
const ReadyQuery = "SELECT count(*) FROM tpch.tiny.region"

// Info is the part of GET /v1/info the harness reads.
type Info struct {
	Starting    bool `json:"starting"`
	Coordinator bool `json:"coordinator"`
	NodeVersion struct {
		Version string `json:"version"`
	} `json:"nodeVersion"`
}

// Stop stops Trino: SIGTERM, then SIGKILL if it has not exited within 30
// seconds. Stopping a stopped Trino does nothing.
func (t *Trino) Stop() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stopLocked()
}

func (t *Trino) stopLocked() error {
	if t.cmd == nil {
		return nil
	}
	cmd, exited := t.cmd, t.exited
	t.cmd = nil
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("trinotest: stop Trino: %w", err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill() //nolint:errcheck // last resort.
		<-exited
		return errors.New("trinotest: Trino did not stop within 30s of SIGTERM; killed it")
	}
}

// Close stops Trino, closes the database handles and removes the instance
// directory.
func (t *Trino) Close() error {
	err := t.Stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return err
	}
	t.closed = true
	t.cmu.Lock()
	defer t.cmu.Unlock()
	for _, db := range t.dbs {
		err = errors.Join(err, db.Close())
	}
	for _, key := range t.clients {
		trino.DeregisterCustomClient(key)
	}
	return errors.Join(err, os.RemoveAll(t.dir))
}

// LogTail returns about the last n lines of Trino's log.
func (t *Trino) LogTail(n int) string {
	b, err := os.ReadFile(t.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// logExcerpt returns what a start failure shows of the log: the first
// error and what follows it (Trino prints configuration and Guice errors
// there, followed by long stack traces), then the log's last lines.
func (t *Trino) logExcerpt() string {
	b, err := os.ReadFile(t.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i, l := range lines {
		if strings.Contains(l, "\tERROR\t") && i < len(lines)-25 {
			end := min(i+25, len(lines)-15)
			return strings.Join(lines[i:end], "\n") + "\n[…]\n" + strings.Join(lines[max(end, len(lines)-15):], "\n")
		}
	}
	return t.LogTail(40)
}

const (
	ownerFile    = "owner.pid"
	trinoPIDFile = "trino.pid"
)

// removeStale kills the Trino processes and removes the instance
// directories that test binaries which died without cleaning up (a panic, a
// -timeout, a SIGKILL) left in run. A pid is only killed if its command line
// names the instance directory, so a recycled pid is left alone.
func removeStale(run string, logger *slog.Logger) {
	dirs, _ := filepath.Glob(filepath.Join(run, "trino-*")) //nolint:errcheck // the pattern is valid.
	for _, dir := range dirs {
		owner, err := readPID(filepath.Join(dir, ownerFile))
		if err == nil && processAlive(owner) {
			continue
		}
		if err != nil {
			// Another binary may have just created it and not yet written
			// its owner: only an old directory without one is stale.
			if st, serr := os.Stat(dir); serr != nil || time.Since(st.ModTime()) < time.Minute {
				continue
			}
		}
		if pid, err := readPID(filepath.Join(dir, trinoPIDFile)); err == nil && processAlive(pid) {
			if cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline")); err == nil && strings.Contains(string(cmdline), dir) {
				logger.Warn("killing a Trino left behind by an earlier test run", "pid", pid, "dir", dir)
				_ = syscall.Kill(pid, syscall.SIGKILL) //nolint:errcheck // best effort.
				for i := 0; i < 100 && processAlive(pid); i++ {
					time.Sleep(50 * time.Millisecond)
				}
			}
		}
		_ = os.RemoveAll(dir) //nolint:errcheck // best effort.
	}
}

// readPID reads the process ID a file holds.
func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close() //nolint:errcheck // only probing.
	return l.Addr().(*net.TCPAddr).Port, nil
}
