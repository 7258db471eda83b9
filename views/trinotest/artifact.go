package trinotest

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Version is the pinned Trino version the harness runs.
const Version = "476"

// Artifact is a file the harness downloads from a Maven repository and
// checks against a pinned SHA-256 before using it.
type Artifact struct {
	// Path is the file's path below the repository root.
	Path string
	// SHA256 is the pinned hex digest; a download that does not match it is
	// refused.
	SHA256 string
	// SHA1 is Maven Central's published .sha1 of the same file, recorded so
	// the pin can be checked against the repository by hand.
	SHA1 string
}

// File returns the artifact's file name.
func (a Artifact) File() string { return path.Base(a.Path) }

// The pinned artifacts. Trino 476 publishes no separate plugin archives for
// the OPA access control and the HTTP event listener (io.trino:trino-opa is
// not on Maven Central, and trino-http-event-listener stops at 368), so the
// server comes from the full trino-server tarball, of which only the
// libraries and the plugins the tests load are extracted (about 90 MB
// instead of 2 GB). The digests were computed from the downloads and the
// SHA-1s match the .sha1 files Maven Central publishes.
var (
	// ServerArtifact is io.trino:trino-server:476:tar.gz.
	ServerArtifact = Artifact{
		Path:   "io/trino/trino-server/476/trino-server-476.tar.gz",
		SHA256: "cfd5accde17e8ebd251eeeb78aed1f490e77bb3a164d95a0f454bf8a7c1cbd3f",
		SHA1:   "c9b38be4017ebd2f7095455aaac772fb40247ebe",
	}
	// CLIArtifact is io.trino:trino-cli:476:jar:executable, used by hand
	// (docs/e2e.md), not by the tests.
	CLIArtifact = Artifact{
		Path:   "io/trino/trino-cli/476/trino-cli-476-executable.jar",
		SHA256: "fe4e9c7fb569cd67673afa1622945f6308e1e59bdb825419352b80887661757b",
		SHA1:   "c835824e01842036d4e0c071b5e2b7e1d28ba299",
	}
)

// Plugins are the plugin directories extracted from the server tarball.
var Plugins = []string{"opa", "memory", "tpch", "http-event-listener", "password-authenticators"}

// DefaultRepository is the Maven repository artifacts come from unless
// $WARDEN_MAVEN_REPO names another (a mirror).
const DefaultRepository = "https://repo1.maven.org/maven2"

// ErrUnavailable marks a missing prerequisite (no JDK 24+, artifacts that
// cannot be downloaded): tests skip on it outside CI.
var ErrUnavailable = errors.New("trinotest: prerequisite unavailable")

// ErrChecksum means a downloaded file does not match its pinned digest.
var ErrChecksum = errors.New("trinotest: checksum mismatch")

// CacheDir returns the directory Trino is cached in: $WARDEN_CACHE_DIR/trino-476,
// else $XDG_CACHE_HOME/warden/trino/476, else $HOME/.cache/warden/trino/476.
func CacheDir() string {
	if d := os.Getenv("WARDEN_CACHE_DIR"); d != "" {
		return filepath.Join(d, "trino-"+Version)
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "warden", "trino", Version)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "warden", "trino", Version)
	}
	return filepath.Join(home, ".cache", "warden", "trino", Version)
}

func repository() string {
	if r := os.Getenv("WARDEN_MAVEN_REPO"); r != "" {
		return strings.TrimRight(r, "/")
	}
	return DefaultRepository
}

// Install makes sure the Trino server is extracted in the cache,
// downloading and verifying the tarball when missing, and returns the
// server's directory (holding lib/ and plugin/). A file lock serializes
// parallel test binaries; a finished extraction is marked complete, so later
// calls only check the marker.
func Install(ctx context.Context) (string, error) {
	cache := CacheDir()
	serverDir := filepath.Join(cache, "server")
	marker := filepath.Join(serverDir, ".complete")
	if b, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(b)) == ServerArtifact.SHA256 {
		return serverDir, nil
	}
	if err := os.MkdirAll(filepath.Join(cache, "download"), 0o755); err != nil {
		return "", fmt.Errorf("create the Trino cache: %w", err)
	}
	unlock, err := lockFile(filepath.Join(cache, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if b, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(b)) == ServerArtifact.SHA256 {
		return serverDir, nil
	}
	tarball, err := Fetch(ctx, ServerArtifact)
	if err != nil {
		return "", err
	}
	tmp := serverDir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return "", fmt.Errorf("remove an unfinished extraction: %w", err)
	}
	if err := extractServer(tarball, tmp); err != nil {
		_ = os.RemoveAll(tmp) //nolint:errcheck // already failing.
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), []byte(ServerArtifact.SHA256+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("mark the extraction complete: %w", err)
	}
	if err := os.RemoveAll(serverDir); err != nil {
		return "", fmt.Errorf("remove an outdated extraction: %w", err)
	}
	if err := os.Rename(tmp, serverDir); err != nil {
		return "", fmt.Errorf("move the extraction in place: %w", err)
	}
	return serverDir, nil
}

// InstallCLI makes sure the trino-cli executable jar is in the cache,
// downloading and verifying it when missing, and returns its path. The
// tests do not need it; people running the setup by hand do.
func InstallCLI(ctx context.Context) (string, error) {
	cache := CacheDir()
	if err := os.MkdirAll(filepath.Join(cache, "download"), 0o755); err != nil {
		return "", fmt.Errorf("create the Trino cache: %w", err)
	}
	unlock, err := lockFile(filepath.Join(cache, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	return Fetch(ctx, CLIArtifact)
}

// CLIJar returns where InstallCLI puts the trino-cli executable jar.
func CLIJar() string { return filepath.Join(CacheDir(), "download", CLIArtifact.File()) }

// Fetch returns the path of the artifact in the cache's download directory,
// downloading it when missing or when the cached file does not match the
// pinned SHA-256. A download is checked before it is moved in place, and a
// mismatch is refused with ErrChecksum. Callers that share the cache hold its
// lock (Install does).
func Fetch(ctx context.Context, a Artifact) (string, error) {
	dst := filepath.Join(CacheDir(), "download", a.File())
	if sum, err := fileSHA256(dst); err == nil && sum == a.SHA256 {
		return dst, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("create the download directory: %w", err)
	}
	if err := download(ctx, repository()+"/"+a.Path, dst, a.SHA256); err != nil {
		return "", err
	}
	return dst, nil
}

// download fetches url into dst through a temporary file, hashing it on the
// way, and moves it in place only when its SHA-256 is want.
func download(ctx context.Context, url, dst, want string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: download %s: %w", ErrUnavailable, url, err)
	}
	defer resp.Body.Close() //nolint:errcheck // read to the end below.
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: download %s: %s", ErrUnavailable, url, resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".part-*")
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename.
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w: download %s: %w", ErrUnavailable, url, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%w: %s has SHA-256 %s, want %s", ErrChecksum, url, got, want)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	return nil
}

// fileSHA256 returns the hex SHA-256 of a file.
func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close() //nolint:errcheck // read only.
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// wanted reports whether a path below the tarball's top directory is
// extracted: the libraries, the license notice and the chosen plugins.
func wanted(rel string) bool {
	if rel == "NOTICE" || rel == "lib" || strings.HasPrefix(rel, "lib/") || rel == "plugin" {
		return true
	}
	for _, p := range Plugins {
		if rel == "plugin/"+p || strings.HasPrefix(rel, "plugin/"+p+"/") {
			return true
		}
	}
	return false
}

// extractServer extracts the wanted part of the server tarball into dir,
// dropping the tarball's top directory. Hard links (the plugins share
// lib/'s jars) become hard links; entries that would leave dir are refused.
func extractServer(tarball, dir string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return fmt.Errorf("open %s: %w", tarball, err)
	}
	defer f.Close() //nolint:errcheck // read only.
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", tarball, err)
	}
	tr := tar.NewReader(gz)
	top := "trino-server-" + Version + "/"
	local := func(name string) (string, bool) {
		rel, ok := strings.CutPrefix(path.Clean(name), top)
		if !ok || rel == "" || strings.HasPrefix(rel, "../") || !wanted(strings.TrimSuffix(rel, "/")) {
			return "", false
		}
		return filepath.Join(dir, filepath.FromSlash(rel)), true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", tarball, err)
		}
		dst, ok := local(hdr.Name)
		if !ok {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(dst, 0o755)
		case tar.TypeReg:
			err = writeFile(dst, tr, hdr.FileInfo().Mode().Perm())
		case tar.TypeLink:
			target, ok := local(hdr.Linkname)
			if !ok {
				return fmt.Errorf("%s links to %s, which is not extracted", hdr.Name, hdr.Linkname)
			}
			if err = os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
				err = os.Link(target, dst)
			}
		default:
			return fmt.Errorf("%s: unexpected tar entry type %q", hdr.Name, hdr.Typeflag)
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", hdr.Name, err)
		}
	}
}

func writeFile(dst string, r io.Reader, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	return errors.Join(err, f.Close())
}

// lockFile takes an exclusive lock on path and returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the cache lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close() //nolint:errcheck // already failing.
		return nil, fmt.Errorf("lock the cache: %w", err)
	}
	return func() { _ = f.Close() }, nil //nolint:errcheck // closing releases the lock.
}
