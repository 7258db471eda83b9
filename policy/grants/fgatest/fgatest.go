// Package fgatest runs a real OpenFGA server for tests. The binary is built
// once with go install at a pinned version into a cache outside the checkout
// ($WARDEN_CACHE_DIR, else $XDG_CACHE_HOME/warden/bin, else
// $HOME/.cache/warden/bin) and reused. Each test binary starts one server
// (Main), and each test gets its own store (NewStore).
package fgatest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	fgaclient "github.com/openfga/go-sdk/client"
)

// Version is the pinned OpenFGA server version; it matches the module
// Warden embeds (go.mod).
const Version = "v1.15.0"

// Options configures a server.
type Options struct {
	// DatastoreURI selects the postgres datastore (openfga migrate runs
	// first); empty uses memory.
	DatastoreURI string
	// Args are extra flags for openfga run, e.g. --listObjects-deadline=1s.
	Args []string
}

// Server is a running OpenFGA process.
type Server struct {
	opts     Options
	bin      string
	grpcAddr string
	httpAddr string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// CacheDir returns the directory binaries are cached in.
func CacheDir() string {
	if d := os.Getenv("WARDEN_CACHE_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "warden", "bin")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "warden", "bin")
	}
	return filepath.Join(home, ".cache", "warden", "bin")
}

// Binary returns the path of the openfga binary, building it with go
// install on first use. A file lock keeps parallel test binaries from
// building twice.
func Binary() (string, error) {
	dir := filepath.Join(CacheDir(), "openfga-"+Version)
	bin := filepath.Join(dir, "openfga")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // released on close anyway
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	cmd := exec.Command("go", "install", "github.com/openfga/openfga/cmd/openfga@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false")
	cmd.Dir = os.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install openfga %s: %w\n%s", Version, err, out)
	}
	return bin, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	a := l.Addr().String()
	return a, l.Close()
}

// Start builds (if needed) and starts a server.
func Start(opts Options) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, bin: bin}
	if opts.DatastoreURI != "" {
		out, err := exec.Command(bin, "migrate", "--datastore-engine", "postgres", "--datastore-uri", opts.DatastoreURI).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("openfga migrate: %w\n%s", err, out)
		}
	}
	if s.grpcAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	if s.httpAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	return s, s.Start()
}

// Start (re)starts the process on the same ports.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	args := []string{"run", "--grpc-addr", s.grpcAddr, "--http-addr", s.httpAddr,
		"--playground-enabled=false", "--metrics-enabled=false", "--log-level", "warn"}
	if s.opts.DatastoreURI != "" {
		args = append(args, "--datastore-engine", "postgres", "--datastore-uri", s.opts.DatastoreURI)
	} else {
		args = append(args, "--datastore-engine", "memory")
	}
	args = append(args, s.opts.Args...)
	cmd := exec.Command(s.bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); close(done) }()
	if err := waitHealthy(s.URL(), 60*time.Second, done); err != nil {
		_ = cmd.Process.Kill()
		return err
	}
	s.cmd = cmd
	return nil
}

// Stop kills the process (a crash, for fault tests); Start brings it back,
// with an empty memory datastore.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_, _ = s.cmd.Process.Wait()
	s.cmd = nil
}

// URL is the HTTP API.
func (s *Server) URL() string { return "http://" + s.httpAddr }

func waitHealthy(url string, timeout time.Duration, done <-chan error) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("openfga exited before it was healthy: %v", err)
		default:
		}
		c, err := net.DialTimeout("tcp", url[len("http://"):], time.Second)
		if err == nil {
			_ = c.Close()
			cl, err := fgaclient.NewSdkClient(&fgaclient.ClientConfiguration{ApiUrl: url})
			if err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_, err = cl.ListStores(ctx).Execute()
				cancel()
				if err == nil {
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("openfga not healthy in time")
}

var (
	shared    *Server
	sharedErr error
)

// Main starts the shared server, runs the tests and stops it:
//
//	func TestMain(m *testing.M) { os.Exit(fgatest.Main(m, fgatest.Options{})) }
func Main(m *testing.M, opts Options) int {
	shared, sharedErr = Start(opts)
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	return code
}

// Shared returns the server Main started; it fails the test if it could not
// start.
func Shared(t testing.TB) *Server {
	t.Helper()
	if sharedErr != nil {
		t.Fatalf("openfga test server: %v", sharedErr)
	}
	if shared == nil {
		t.Fatal("openfga test server: call fgatest.Main from TestMain")
	}
	return shared
}

// NewStore creates a store for one test and returns a client bound to it
// (the model is the caller's to write). The store is deleted at cleanup.
func (s *Server) NewStore(t testing.TB) *fgaclient.OpenFgaClient {
	t.Helper()
	c, err := fgaclient.NewSdkClient(&fgaclient.ClientConfiguration{ApiUrl: s.URL()})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.CreateStore(context.Background()).Body(fgaclient.ClientCreateStoreRequest{Name: storeName(t.Name())}).Execute()
	if err != nil {
		t.Fatalf("create store: %v", err)
	}
	if err := c.SetStoreId(resp.GetId()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.DeleteStore(context.Background()).Execute()
	})
	return c
}

// storeName fits a test name to OpenFGA's store name pattern.
func storeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '/' || c == '_'
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[len(b)-64:]
	}
	for len(b) < 3 {
		b = append(b, '_')
	}
	return string(b)
}
