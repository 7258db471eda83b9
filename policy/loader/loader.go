// Package loader builds policy snapshots from files: Trino's rules.json and a
// directory of Rego modules, for the default cluster and any named ones. It
// is file mode's source of truth; a database-backed store later builds
// snapshots the same way from documents it holds, and swaps them in through
// the same Engine.Swap.
package loader

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/fbac"
	"github.com/trino-warden/warden/policy/rego"
)

// Files are one cluster's policy files. Both are optional.
type Files struct {
	TrinoRules string
	PolicyDir  string
}

func (f Files) empty() bool { return f.TrinoRules == "" && f.PolicyDir == "" }

func (f Files) String() string {
	var parts []string
	if f.TrinoRules != "" {
		parts = append(parts, "rules "+f.TrinoRules)
	}
	if f.PolicyDir != "" {
		parts = append(parts, "rego "+f.PolicyDir)
	}
	if len(parts) == 0 {
		return "no policy files"
	}
	return strings.Join(parts, ", ")
}

// Config says which files make up each cluster's policy.
type Config struct {
	// Rego configures how modules are compiled and evaluated.
	Rego rego.Options
	// Extra are sources every cluster shares, such as OpenFGA grants,
	// placed after Rego and before rules.json.
	Extra   []policy.Source
	Default Files
	// Clusters are the named clusters. A cluster with empty Files uses the
	// default cluster's policy; the cluster name still reaches Rego as
	// input.warden.cluster.
	Clusters map[string]Files
}

// Fingerprint identifies the content of every file a Config reads, so a
// watcher can tell whether anything changed.
func (c Config) Fingerprint() (string, error) {
	h := sha256.New()
	add := func(f Files) error {
		if f.TrinoRules != "" {
			b, err := os.ReadFile(f.TrinoRules)
			if err != nil {
				return fmt.Errorf("read rules file: %w", err)
			}
			fmt.Fprintf(h, "rules:%s:%d:", f.TrinoRules, len(b))
			h.Write(b)
		}
		if f.PolicyDir != "" {
			var paths []string
			err := filepath.WalkDir(f.PolicyDir, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && isPolicyFile(p) {
					paths = append(paths, p)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("read policy directory: %w", err)
			}
			sort.Strings(paths)
			for _, p := range paths {
				b, err := os.ReadFile(p)
				if err != nil {
					return fmt.Errorf("read policy file: %w", err)
				}
				fmt.Fprintf(h, "file:%s:%d:", p, len(b))
				h.Write(b)
			}
		}
		return nil
	}
	if err := add(c.Default); err != nil {
		return "", err
	}
	names := make([]string, 0, len(c.Clusters))
	for n := range c.Clusters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "cluster:%s:", n)
		if err := add(c.Clusters[n]); err != nil {
			return "", fmt.Errorf("cluster %s: %w", n, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func isPolicyFile(p string) bool {
	base := filepath.Base(p)
	return strings.HasSuffix(p, ".rego") || base == "data.json" || base == "data.yaml" || base == "data.yml"
}

// Build compiles every cluster's files into a snapshot with the given
// revision. Any error (a missing file, a rules file Trino would refuse, a
// Rego compile error) fails the whole build, so a half-applied policy never
// happens.
func Build(c Config, revision int64) (*policy.Snapshot, error) {
	def, err := buildSet(c.Default, c.Rego, c.Extra)
	if err != nil {
		return nil, err
	}
	clusters := map[string]*policy.PolicySet{policy.DefaultCluster: def}
	for name, f := range c.Clusters {
		if f.empty() {
			clusters[name] = def
			continue
		}
		ps, err := buildSet(f, c.Rego, c.Extra)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", name, err)
		}
		clusters[name] = ps
	}
	return policy.NewSnapshot(revision, describe(c), clusters)
}

func describe(c Config) string {
	s := "files: " + c.Default.String()
	if len(c.Clusters) > 0 {
		names := make([]string, 0, len(c.Clusters))
		for n := range c.Clusters {
			names = append(names, n)
		}
		sort.Strings(names)
		s += "; clusters: " + strings.Join(names, ", ")
	}
	return s
}

// Documents are one cluster's policy in memory: what file mode reads from
// disk and database mode reads from the store.
type Documents struct {
	// Rules is a rules.json; nil when there is none.
	Rules []byte
	// RulesName names the rules document in errors ("rules.json", a path).
	RulesName string
	// Modules are Rego modules by name; Data is static data for data.*.
	Modules map[string]string
	Data    map[string]any
}

// BuildSet compiles one cluster's documents into its sources, ordered by
// mask precedence: Rego extension modules, data-source mask policies (extra
// sources that are a policy.DataPolicy), OPA-compatible Rego, the other
// extra sources (grants), then rules.json. Any error fails the whole set.
func BuildSet(d Documents, opts rego.Options, extra ...policy.Source) (*policy.PolicySet, error) {
	var sources []policy.Source
	var compat policy.Source
	if len(d.Modules) > 0 {
		rp, err := rego.New(d.Modules, d.Data, opts)
		if err != nil {
			return nil, err
		}
		if ext := rp.Extension(); ext != nil {
			sources = append(sources, ext)
		}
		compat = rp.Compat()
	}
	// Data-source mask policies come right after the extension modules.
	for _, s := range extra {
		if _, ok := s.(policy.DataPolicy); ok {
			sources = append(sources, s)
		}
	}
	if compat != nil {
		sources = append(sources, compat)
	}
	for _, s := range extra {
		if _, ok := s.(policy.DataPolicy); !ok {
			sources = append(sources, s)
		}
	}
	if d.Rules != nil {
		p, err := fbac.Parse(d.Rules)
		if err != nil {
			if d.RulesName != "" {
				return nil, fmt.Errorf("%s: %w", d.RulesName, err)
			}
			return nil, err
		}
		sources = append(sources, fbac.NewSource(p))
	}
	return policy.NewPolicySet(sources...), nil
}

// readFiles reads one cluster's files into Documents.
func readFiles(f Files) (Documents, error) {
	var d Documents
	if f.PolicyDir != "" {
		modules, data, err := rego.LoadDir(f.PolicyDir)
		if err != nil {
			return d, err
		}
		if len(modules) == 0 {
			return d, fmt.Errorf("policy directory %s holds no .rego modules", f.PolicyDir)
		}
		d.Modules, d.Data = modules, data
	}
	if f.TrinoRules != "" {
		b, err := os.ReadFile(f.TrinoRules)
		if err != nil {
			return d, fmt.Errorf("read rules file: %w", err)
		}
		d.Rules, d.RulesName = b, f.TrinoRules
	}
	return d, nil
}

func buildSet(f Files, opts rego.Options, extra []policy.Source) (*policy.PolicySet, error) {
	d, err := readFiles(f)
	if err != nil {
		return nil, err
	}
	return BuildSet(d, opts, extra...)
}

// ErrNoPolicy is what readiness reports when neither a rules file nor a
// policy directory is configured: the server is up, but denies everything.
var ErrNoPolicy = errors.New("no rules file and no policy directory configured: every check is denied")
