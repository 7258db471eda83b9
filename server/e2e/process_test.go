package e2e

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/views/trinotest"
)

// recommendedPath is the shipped Trino access-control file whose
// opa.http-client.* settings deployments are told to use.
const recommendedPath = "../../deploy/trino/access-control.properties"

// recommendedHTTPClient returns the opa.http-client.* settings of
// deploy/trino/access-control.properties (the uncommented ones), so the
// scenarios run Trino the way the deployment guide says.
func recommendedHTTPClient(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(recommendedPath)
	require.NoError(t, err)
	defer f.Close() //nolint:errcheck // read only.
	props := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "opa.http-client.") {
			props[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	require.NoError(t, sc.Err())
	require.Contains(t, props, "opa.http-client.max-connections-per-server", "%s lost its recommended settings", recommendedPath)
	return props
}

// buildWarden builds cmd/warden into the test's temporary directory, so
// scenarios can run Warden as real processes: signals, flags and
// SO_REUSEPORT as in production. It is built without -race whatever the
// test binary uses; Go's build cache leaves only the link to do.
func buildWarden(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "warden")
	// go test puts its own GOROOT/bin first on PATH.
	cmd := exec.Command("go", "build", "-o", bin, "github.com/trino-warden/warden/cmd/warden")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/warden:\n%s", out)
	return bin
}

// wardenProc is a Warden process in file mode.
type wardenProc struct {
	name     string
	cmd      *exec.Cmd
	addr     string // the decision listener, host:port
	adminURL string // the admin listener's base URL: health and metrics of this process only
	logPath  string
	client   *http.Client
	exited   chan struct{}
	waitErr  error
}

// procOptions configure a Warden process.
type procOptions struct {
	bin, rules string
	addr       string        // host:port of the decision listener; several processes may share it (SO_REUSEPORT)
	pki        *pki          // when set, both listeners serve TLS and the decision listener requires client certificates
	drainDelay time.Duration // --shutdown-drain-delay
	logDir     string
}

// startWarden starts `warden serve` and waits until its own admin listener
// reports ready. The process is killed at the test's cleanup if still
// running, and dies with the test binary (Pdeathsig).
func startWarden(t *testing.T, name string, o procOptions) *wardenProc {
	t.Helper()
	adminPort := freeTCPPort(t)
	p := &wardenProc{name: name, addr: o.addr, logPath: filepath.Join(o.logDir, "warden-"+name+".log"),
		client: &http.Client{Timeout: 10 * time.Second}, exited: make(chan struct{})}
	scheme := "http"
	args := []string{"serve",
		"--addr", o.addr,
		"--admin-addr", "127.0.0.1:" + strconv.Itoa(adminPort),
		"--trino-rules", o.rules,
		"--http-reuse-port=true",
		"--shutdown-drain-delay", o.drainDelay.String(),
		"--shutdown-timeout", "30s",
		"--log-level", "info",
		"--log-format", "text",
		"--decision-explain-cache-size", "1000",
	}
	if o.pki != nil {
		scheme = "https"
		p.client = o.pki.client
		args = append(args, "--tls-cert-file", o.pki.serverCertFile, "--tls-key-file", o.pki.serverKeyFile,
			"--tls-client-ca-file", o.pki.caFile, "--tls-client-auth", "require")
	}
	p.adminURL = scheme + "://127.0.0.1:" + strconv.Itoa(adminPort)
	logFile, err := os.Create(p.logPath)
	require.NoError(t, err)
	defer logFile.Close()                //nolint:errcheck // the child holds its own descriptor.
	p.cmd = exec.Command(o.bin, args...) //nolint:gosec // the binary built above.
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// Only the flags configure it: no WARDEN_* variable of the environment
	// (a database URL, say) may leak in.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WARDEN_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	require.NoError(t, p.cmd.Start())
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill() //nolint:errcheck // cleanup after a failure.
			<-p.exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.exited:
			t.Fatalf("warden %s exited at start: %v\n%s", name, p.waitErr, p.logTail())
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := p.client.Get(p.adminURL + "/health/ready"); err == nil {
			_ = resp.Body.Close() //nolint:errcheck // only the status matters.
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("warden %s not ready within 30s\n%s", name, p.logTail())
		}
	}
}

// stop sends SIGTERM and waits for a clean exit: readiness off, requests
// served with Connection: close for the drain delay, in-flight requests
// finished. It returns how long the exit took.
func (p *wardenProc) stop(t *testing.T) time.Duration {
	t.Helper()
	began := time.Now()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("warden %s did not exit within 60s of SIGTERM\n%s", p.name, p.logTail())
	}
	require.NoError(t, p.waitErr, "warden %s must exit cleanly after draining\n%s", p.name, p.logTail())
	return time.Since(began)
}

// decisions returns the sum of warden_decisions_total of this process,
// read from its own admin listener, and fails on any invalid or error
// outcome.
func (p *wardenProc) decisions(t *testing.T) float64 {
	t.Helper()
	resp, err := p.client.Get(p.adminURL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close() //nolint:errcheck // read below.
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var n float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := decisionsRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		require.NoError(t, err)
		if m[2] == "invalid" || m[2] == "error" || m[2] == "unavailable" {
			require.Zero(t, v, "warden %s answered %s requests %s", p.name, m[1], m[2])
		}
		n += v
	}
	require.NoError(t, sc.Err())
	return n
}

func (p *wardenProc) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// freeTCPPort returns a loopback port that was free a moment ago.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close() //nolint:errcheck // only probing.
	return l.Addr().(*net.TCPAddr).Port
}

// launchTrinos starts several Trinos at once (each start is mostly waiting
// on the JVM), and stops them all at cleanup.
func launchTrinos(t *testing.T, opts ...trinotest.Options) []*trinotest.Trino {
	t.Helper()
	setup(t)
	out := make([]*trinotest.Trino, len(opts))
	errs := make([]error, len(opts))
	var wg sync.WaitGroup
	for i, o := range opts {
		wg.Go(func() {
			out[i], errs[i] = trinotest.Launch(context.Background(), o)
		})
	}
	wg.Wait()
	for _, tr := range out {
		if tr == nil {
			continue
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("Trino's log (%s): causes of its errors:\n%s\nand its end:\n%s", tr.LogPath(), logCauses(tr.LogPath()), tr.LogTail(30))
			}
			if err := tr.Close(); err != nil {
				t.Errorf("trinotest: %v", err)
			}
		})
	}
	if err := errors.Join(errs...); err != nil {
		trinotest.SkipOrFatal(t, err)
	}
	return out
}

// logCauses returns the distinct exception lines of a Java log (the
// first line of each trace and its "Caused by:" lines), which say why a
// plugin call failed better than the log's last lines.
func logCauses(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var out []string
	seen := map[string]bool{}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "at ") || strings.HasPrefix(line, "...") ||
			!(strings.HasPrefix(line, "Caused by:") || strings.Contains(line, "Exception:") || strings.Contains(line, "\tERROR\t")) {
			continue
		}
		key := line[:min(len(line), 160)]
		if i := strings.Index(line, "\tERROR\t"); i >= 0 {
			key = line[i:min(len(line), i+160)] // without the timestamp
		}
		if !seen[key] && len(out) < 30 {
			seen[key] = true
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
