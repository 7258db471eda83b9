package e2e

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// pythonTrinoVersion is the PyPI trino client the Python scenario pins
// (Python 3.9 or later).
const pythonTrinoVersion = "0.340.0"

const pythonScript = "../../testdata/e2e/trino_client.py"

// pythonVenvDir is where the venv is cached, outside the checkout:
// $WARDEN_CACHE_DIR/pyvenv-trino-<version>, else
// ${XDG_CACHE_HOME:-~/.cache}/warden/pyvenv-trino-<version>.
func pythonVenvDir() (string, error) {
	name := "pyvenv-trino-" + pythonTrinoVersion
	if d := os.Getenv("WARDEN_CACHE_DIR"); d != "" {
		return filepath.Join(d, name), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "warden", name), nil
}

// errNoPython marks a machine without a usable python3, venv or pip.
var errNoPython = errors.New("python3 with venv and pip is not available")

// pythonVenv returns the venv's python, creating the venv and installing
// the pinned trino client from PyPI on first use, under a file lock so
// that parallel test binaries install once. A venv is used only once
// .complete is written, so an interrupted install starts over.
func pythonVenv() (string, error) {
	python3, err := exec.LookPath("python3")
	if err != nil {
		return "", fmt.Errorf("%w: %v", errNoPython, err)
	}
	dir, err := pythonVenvDir()
	if err != nil {
		return "", err
	}
	python := filepath.Join(dir, "bin", "python")
	complete := filepath.Join(dir, ".complete")
	if _, err := os.Stat(complete); err == nil {
		return python, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close() //nolint:errcheck // closing releases the lock.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if _, err := os.Stat(complete); err == nil {
		return python, nil // another binary installed it while we waited
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	run := func(name string, args ...string) error {
		out, err := exec.Command(name, args...).CombinedOutput() //nolint:gosec // python3 from PATH, fixed arguments.
		if err != nil {
			return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run(python3, "-m", "venv", dir); err != nil {
		return "", fmt.Errorf("%w: %v", errNoPython, err)
	}
	if err := run(python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet",
		"trino=="+pythonTrinoVersion); err != nil {
		return "", fmt.Errorf("%w: %v", errNoPython, err)
	}
	return python, os.WriteFile(complete, []byte("trino=="+pythonTrinoVersion+"\n"), 0o644)
}

// TestPythonClient runs testdata/e2e/trino_client.py with the PyPI trino
// client, the one Querybook-style tools use, against the package's Trino
// over HTTPS with password authentication, as three users: alice gets
// memory.sales.orders filtered and masked, admin gets it whole, and bob's
// forbidden read raises TrinoUserError with Trino's Access Denied. The
// JSON the script prints must match exactly.
//
// Without python3, venv or PyPI it skips, unless $CI is "true".
func TestPythonClient(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	python, err := pythonVenv()
	if err != nil {
		if errors.Is(err, errNoPython) && os.Getenv("CI") != "true" {
			t.Skipf("skipped (set CI=true to fail instead): %v", err)
		}
		t.Fatal(err)
	}

	// The instance's key store holds its key and self-signed certificate;
	// the client trusts the certificate alone.
	pemBytes, err := os.ReadFile(filepath.Join(tr.Dir(), "etc", "https.pem"))
	require.NoError(t, err)
	var ca bytes.Buffer
	for block, rest := pem.Decode(pemBytes); block != nil; block, rest = pem.Decode(rest) {
		if block.Type == "CERTIFICATE" {
			require.NoError(t, pem.Encode(&ca, block))
		}
	}
	require.NotZero(t, ca.Len(), "no certificate in https.pem")
	caFile := filepath.Join(t.TempDir(), "trino-ca.pem")
	require.NoError(t, os.WriteFile(caFile, ca.Bytes(), 0o600))

	cmd := exec.Command(python, pythonScript, "--url", tr.HTTPSURL(), "--ca", caFile, //nolint:gosec // the venv's python.
		"--password", "alice="+passwords["alice"], "--password", "admin="+passwords["admin"], "--password", "bob="+passwords["bob"])
	// requests lets REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE override the
	// session's verify (a known requests behaviour), which would
	// drop --ca.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REQUESTS_CA_BUNDLE=") && !strings.HasPrefix(kv, "CURL_CA_BUNDLE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "trino_client.py: %s", stderr.String())

	const want = `{
	  "client_version": "` + pythonTrinoVersion + `",
	  "alice_orders": {"columns": ["id", "region", "email", "amount"],
	    "rows": [[1, "EU", "an***", 120], [3, "EU", "ch***", 45]]},
	  "admin_orders": {"columns": ["id", "region", "email", "amount"],
	    "rows": [[1, "EU", "anna@example.com", 120], [2, "US", "bill@example.com", 80],
	             [3, "EU", "chen@example.com", 45], [4, "APAC", "dara@example.com", 300]]},
	  "alice_current_user": [["alice"]],
	  "bob_denied": {"class": "trino.exceptions.TrinoUserError", "error_name": "PERMISSION_DENIED",
	    "error_type": "USER_ERROR",
	    "message": "Access Denied: Cannot select from columns [] in table or view tpch.tiny.orders"}
	}`
	var got, expected map[string]any
	require.NoError(t, json.Unmarshal(out, &got), "output: %s", out)
	require.NoError(t, json.Unmarshal([]byte(want), &expected))
	require.Empty(t, cmp.Diff(expected, got))
}
