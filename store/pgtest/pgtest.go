// Package pgtest runs the tests of Warden's store against a real PostgreSQL
// (15 or later) in a private cluster: it creates one with initdb in a
// temporary directory, starts it on a free loopback port, migrates a template
// database once, and gives each test its own database copied from the
// template (CREATE DATABASE … TEMPLATE), dropped when the test ends.
//
// A test binary calls Main from its TestMain, so the shared cluster is
// stopped at the end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		t.Parallel()
//		url := pgtest.NewDatabase(t)
//		…
//	}
//
// Fault tests that stop PostgreSQL use a cluster of their own, NewCluster,
// whose Stop and Start restart it on the same port.
//
// PostgreSQL refuses to run as root, so when the tests run as root the
// cluster runs as the postgres OS user, which the Debian postgresql package
// creates. Without PostgreSQL's server binaries, tests fail with a message
// that names the package to install.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trino-warden/warden/store"
)

// TemplateDatabase is the name of the migrated template database.
const TemplateDatabase = "warden_template"

// minMajor is the oldest PostgreSQL major version Warden supports.
const minMajor = 15

var shared struct {
	once    sync.Once
	cluster *Cluster
	err     error
}

// Main runs the tests of a package and then stops the shared cluster, if a
// test started it. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared.cluster != nil {
		if err := shared.cluster.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop PostgreSQL: %v\n", err)
		}
	}
	os.Exit(code)
}

// Shared returns the cluster shared by the tests of this binary, starting it
// on first use. Do not Stop it: use NewCluster for that.
func Shared(tb testing.TB) *Cluster {
	tb.Helper()
	shared.once.Do(func() {
		shared.cluster, shared.err = StartCluster()
	})
	if shared.err != nil {
		tb.Fatalf("pgtest: %v", shared.err)
	}
	return shared.cluster
}

// NewDatabase returns the URL of a new database in the shared cluster, at
// the latest schema, dropped when tb ends.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	return Shared(tb).NewDatabase(tb)
}

// NewEmptyDatabase returns the URL of a new database in the shared cluster
// without any schema, dropped when tb ends: for migration tests.
func NewEmptyDatabase(tb testing.TB) string {
	tb.Helper()
	return Shared(tb).NewEmptyDatabase(tb)
}

// NewCluster starts a cluster of the test's own, closed when tb ends: for
// tests that stop and restart PostgreSQL.
func NewCluster(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := StartCluster()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Errorf("pgtest: close cluster: %v", err)
		}
	})
	return c
}

// Cluster is a private PostgreSQL cluster on 127.0.0.1.
type Cluster struct {
	binDir  string
	dir     string // temporary directory holding everything below
	dataDir string
	sockDir string
	logPath string
	port    int
	cred    *syscall.Credential // the postgres user, when running as root

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	closed  bool
	dbSeq   atomic.Int64
	tmplMu  sync.Mutex
	tmplErr error
	tmplOK  bool
}

// StartCluster creates a cluster with initdb in a temporary directory and
// starts it on a free loopback port. Close stops it and removes the
// directory.
func StartCluster() (*Cluster, error) {
	binDir, err := findBinDir()
	if err != nil {
		return nil, err
	}
	removeStale()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		_ = os.RemoveAll(dir) //nolint:errcheck // already failing.
		return nil, fmt.Errorf("write cluster owner: %w", err)
	}
	c := &Cluster{
		binDir:  binDir,
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		sockDir: filepath.Join(dir, "socket"),
		logPath: filepath.Join(dir, "postgres.log"),
	}
	if err := c.init(); err != nil {
		_ = os.RemoveAll(dir) //nolint:errcheck // already failing.
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		_ = os.RemoveAll(dir) //nolint:errcheck // already failing.
		return nil, err
	}
	c.port = port
	if err := c.Start(); err != nil {
		_ = os.RemoveAll(dir) //nolint:errcheck // already failing.
		return nil, err
	}
	return c, nil
}

// init runs initdb, as the postgres user when running as root.
func (c *Cluster) init() error {
	if err := os.Mkdir(c.sockDir, 0o700); err != nil {
		return fmt.Errorf("create socket directory: %w", err)
	}
	if os.Geteuid() == 0 {
		cred, err := postgresUser()
		if err != nil {
			return err
		}
		c.cred = cred
		for _, p := range []string{c.dir, c.sockDir} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return fmt.Errorf("give %s to the postgres user: %w", p, err)
			}
		}
	}
	out, err := c.command("initdb", "-D", c.dataDir, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// command prepares a PostgreSQL binary to run as the cluster's user.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.binDir, name), args...) //nolint:gosec // our own binaries and arguments.
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	// PostgreSQL stays in the test's process group, so an interrupted test
	// run (Ctrl-C) stops it too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	return cmd
}

// Start starts PostgreSQL (again) on the cluster's port and waits until it
// accepts connections. Starting a running cluster does nothing.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("cluster is closed")
	}
	if c.cmd != nil {
		return nil
	}
	logFile, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open PostgreSQL log: %w", err)
	}
	defer logFile.Close() //nolint:errcheck // the child holds its own descriptor.
	cmd := c.command("postgres", "-D", c.dataDir, "-p", strconv.Itoa(c.port), "-k", c.sockDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=32MB",
		"-c", "log_min_messages=warning", "-c", "log_min_error_statement=panic")
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() //nolint:errcheck // exit status is in the log.
		close(exited)
	}()
	c.cmd, c.exited = cmd, exited
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err == nil {
			_ = conn.Close(ctx) //nolint:errcheck // only a probe.
			cancel()
			return nil
		}
		cancel()
		select {
		case <-exited:
			c.cmd = nil
			return fmt.Errorf("postgres exited at start: see %s:\n%s", c.logPath, c.logTail())
		default:
		}
		if time.Now().After(deadline) {
			c.stopLocked()
			return fmt.Errorf("postgres did not accept connections within a minute: %w\n%s", err, c.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop shuts PostgreSQL down (fast shutdown: open connections get
// admin_shutdown) and waits until it has exited. Stopping a stopped cluster
// does nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopLocked()
}

func (c *Cluster) stopLocked() error {
	if c.cmd == nil {
		return nil
	}
	cmd, exited := c.cmd, c.exited
	c.cmd = nil
	// SIGINT is PostgreSQL's fast shutdown.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop postgres: %w", err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill() //nolint:errcheck // last resort.
		<-exited
		return errors.New("postgres did not stop within 30s; killed it")
	}
}

// Close stops PostgreSQL and removes the cluster's directory.
func (c *Cluster) Close() error {
	err := c.Stop()
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return errors.Join(err, os.RemoveAll(c.dir))
}

// Port is the TCP port the cluster listens on, on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// URL returns the URL of a database of the cluster.
func (c *Cluster) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, database)
}

// admin runs one statement on the cluster's postgres database.
func (c *Cluster) admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx) //nolint:errcheck // nothing to do about it.
	_, err = conn.Exec(ctx, sql)
	return err
}

// template makes sure the template database exists at the latest schema.
func (c *Cluster) template(ctx context.Context) error {
	c.tmplMu.Lock()
	defer c.tmplMu.Unlock()
	if c.tmplOK || c.tmplErr != nil {
		return c.tmplErr
	}
	err := c.admin(ctx, "CREATE DATABASE "+TemplateDatabase)
	if err == nil {
		err = store.MigrateUp(ctx, c.URL(TemplateDatabase))
	}
	if err != nil {
		c.tmplErr = fmt.Errorf("migrate the template database: %w", err)
		return c.tmplErr
	}
	c.tmplOK = true
	return nil
}

// NewDatabase returns the URL of a new database at the latest schema, copied
// from the template, and drops it when tb ends.
func (c *Cluster) NewDatabase(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	if err := c.template(ctx); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return c.newDatabase(tb, " TEMPLATE "+TemplateDatabase)
}

// NewEmptyDatabase returns the URL of a new database without any schema, and
// drops it when tb ends.
func (c *Cluster) NewEmptyDatabase(tb testing.TB) string {
	tb.Helper()
	return c.newDatabase(tb, "")
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9_]+`)

func (c *Cluster) newDatabase(tb testing.TB, suffix string) string {
	tb.Helper()
	name := strings.ToLower(tb.Name())
	name = strings.Trim(unsafeChars.ReplaceAllString(name, "_"), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("t%d_%s", c.dbSeq.Add(1), name)
	ctx := context.Background()
	// Copies of one template are made one at a time: PostgreSQL refuses to
	// copy a template that another session is connected to.
	c.tmplMu.Lock()
	err := c.admin(ctx, "CREATE DATABASE "+name+suffix)
	c.tmplMu.Unlock()
	if err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		c.mu.Lock()
		running := c.cmd != nil
		c.mu.Unlock()
		if !running {
			return // a stopped cluster is removed whole.
		}
		if err := c.admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return c.URL(name)
}

// logTail returns the end of the PostgreSQL log, for error messages.
func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

const (
	dirPrefix = "warden-pgtest-"
	ownerFile = "owner.pid"
)

// removeStale stops and removes the clusters left behind by test binaries
// that died without stopping them (a panic, a -timeout).
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*")) //nolint:errcheck // the pattern is valid.
	for _, dir := range dirs {
		owner, err := readPID(filepath.Join(dir, ownerFile))
		if err != nil || processAlive(owner) {
			continue
		}
		if pid, err := readPID(filepath.Join(dir, "data", "postmaster.pid")); err == nil && processAlive(pid) {
			_ = syscall.Kill(pid, syscall.SIGQUIT) //nolint:errcheck // best effort: immediate shutdown.
			for i := 0; i < 100 && processAlive(pid); i++ {
				time.Sleep(50 * time.Millisecond)
			}
		}
		_ = os.RemoveAll(dir) //nolint:errcheck // best effort.
	}
}

// readPID reads the process ID on the first line of a file.
func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
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

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL refuses to run as root, and there is no postgres user to run it as "+
			"(install PostgreSQL with `apt-get install postgresql`, which creates it): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres user id %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres group id %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// findBinDir finds PostgreSQL's server binaries: the highest version in
// /usr/lib/postgresql/*/bin, then `pg_config --bindir`, then PATH.
func findBinDir() (string, error) {
	var candidates []string
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin") //nolint:errcheck // the pattern is valid.
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	candidates = append(candidates, dirs...)
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, dir := range candidates {
		if !isFile(filepath.Join(dir, "initdb")) || !isFile(filepath.Join(dir, "postgres")) {
			continue
		}
		out, err := exec.Command(filepath.Join(dir, "postgres"), "--version").Output() //nolint:gosec // found above.
		if err != nil {
			continue
		}
		if major := versionMajor(string(out)); major < minMajor {
			return "", fmt.Errorf("PostgreSQL in %s is %q; Warden's tests need %d or later "+
				"(`apt-get install postgresql`)", dir, strings.TrimSpace(string(out)), minMajor)
		}
		return dir, nil
	}
	return "", fmt.Errorf("PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin, "+
		"`pg_config --bindir` or PATH: install PostgreSQL %d or later with `apt-get install postgresql`", minMajor)
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir))) //nolint:errcheck // 0 sorts last.
	return n
}

var versionRE = regexp.MustCompile(`(\d+)(?:\.\d+)?`)

func versionMajor(s string) int {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1]) //nolint:errcheck // digits only.
	return n
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
