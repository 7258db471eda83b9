package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// writeConfig writes a YAML file named config.yaml and returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func TestDefault(t *testing.T) {
	t.Parallel()
	c := Default()
	require.NoError(t, c.Validate(), "defaults must be valid, even with no policy")
	require.Equal(t, "127.0.0.1:8181", c.Addr)
	require.Equal(t, time.Second, c.ReloadInterval)
	require.Equal(t, 64*MiB, c.Decision.MaxBodyBytes)
	require.Greater(t, c.Decision.MaxBodyBytes, 2*20*MB, "must take a 20MB batch comfortably")
	require.True(t, c.HTTP.ReusePort)
	require.Equal(t, 5*time.Second, c.Shutdown.DrainDelay)

	got, rest, err := Load(newFlagSet(), nil, nil)
	require.NoError(t, err)
	require.Empty(t, rest)
	require.Empty(t, cmp.Diff(Default(), got), "Load with no input returns the defaults")
}

func TestLoadLayers(t *testing.T) {
	t.Parallel()
	const file = `
addr: 0.0.0.0:9000
reload_interval: 0s
log:
  level: debug
decision:
  max_body_bytes: 20MB
http:
  reuse_port: false
shutdown:
  drain_delay: 7s
  timeout: 45s
`
	tests := []struct {
		name    string
		file    string
		env     []string
		args    []string
		want    func(*Config)
		wantArg []string
	}{
		{
			name: "yaml overrides defaults",
			file: file,
			want: func(c *Config) {
				c.Addr = "0.0.0.0:9000"
				c.ReloadInterval = 0
				c.Log.Level = "debug"
				c.Decision.MaxBodyBytes = 20 * MB
				c.HTTP.ReusePort = false
				c.Shutdown.DrainDelay = 7 * time.Second
				c.Shutdown.Timeout = 45 * time.Second
			},
		},
		{
			name: "env overrides yaml",
			file: file,
			env: []string{
				"WARDEN_SHUTDOWN_DRAIN_DELAY=9s", "WARDEN_HTTP_REUSE_PORT=true",
				"WARDEN_TRINO_RULES=/etc/rules.json", "WARDEN_LOG_FORMAT=text",
				"HOME=/root", "WARDEN_SERVICE_HOST=10.0.0.1", // ignored
			},
			want: func(c *Config) {
				c.Addr = "0.0.0.0:9000"
				c.ReloadInterval = 0
				c.Log.Level = "debug"
				c.Log.Format = "text"
				c.Decision.MaxBodyBytes = 20 * MB
				c.TrinoRules = "/etc/rules.json"
				c.Shutdown.DrainDelay = 9 * time.Second
				c.Shutdown.Timeout = 45 * time.Second
			},
		},
		{
			name: "flags override env",
			file: file,
			env:  []string{"WARDEN_SHUTDOWN_DRAIN_DELAY=9s", "WARDEN_POLICY_DIR=/env/rego"},
			args: []string{
				"--shutdown-drain-delay", "11s", "-policy-dir=/flag/rego", "--http-reuse-port",
				"--decision-explain-cache-bytes=1.5GiB", "--log-level=warn", "--log-level=error",
				"extra", "--addr=not-a-flag",
			},
			want: func(c *Config) {
				c.Addr = "0.0.0.0:9000"
				c.ReloadInterval = 0
				c.Log.Level = "error" // the last occurrence wins
				c.Decision.MaxBodyBytes = 20 * MB
				c.Decision.ExplainCacheBytes = 1536 * MiB
				c.PolicyDir = "/flag/rego"
				c.Shutdown.DrainDelay = 11 * time.Second
				c.Shutdown.Timeout = 45 * time.Second
			},
			wantArg: []string{"extra", "--addr=not-a-flag"},
		},
		{
			name: "empty env value sets an empty string",
			env:  []string{"WARDEN_ADDR=", "WARDEN_ADDR=first-wins"},
			want: func(c *Config) { c.Addr = "" },
		},
		{
			name: "empty and null yaml keep defaults",
			file: "# nothing\nlog:\naddr: ~\n",
			want: func(*Config) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if tt.file != "" {
				args = append([]string{"--config", writeConfig(t, tt.file)}, args...)
			}
			got, rest, err := Load(newFlagSet(), args, tt.env)
			require.NoError(t, err)
			want := Default()
			tt.want(&want)
			require.Empty(t, cmp.Diff(want, got))
			require.Equal(t, tt.wantArg, append([]string(nil), rest...))
		})
	}
}

func TestLoadConfigFileSource(t *testing.T) {
	t.Parallel()
	envFile := writeConfig(t, "addr: env:1\n")
	flagFile := writeConfig(t, "addr: flag:2\n")

	got, _, err := Load(newFlagSet(), nil, []string{"WARDEN_CONFIG=" + envFile})
	require.NoError(t, err)
	require.Equal(t, "env:1", got.Addr)

	got, _, err = Load(newFlagSet(), []string{"--config=" + flagFile}, []string{"WARDEN_CONFIG=" + envFile})
	require.NoError(t, err)
	require.Equal(t, "flag:2", got.Addr, "--config wins over WARDEN_CONFIG")

	got, _, err = Load(newFlagSet(), []string{"--config="}, []string{"WARDEN_CONFIG=" + envFile})
	require.NoError(t, err)
	require.Equal(t, Default().Addr, got.Addr, "an explicit empty --config reads no file")

	_, _, err = Load(newFlagSet(), []string{"--config", filepath.Join(t.TempDir(), "missing.yaml")}, nil)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		env  []string
		args []string
		want []string
	}{
		{
			name: "unknown yaml key names key and line",
			file: "addr: x:1\nlog:\n  level: info\n  lvl: debug\n",
			want: []string{`config.yaml:4: unknown key "log.lvl"`},
		},
		{
			name: "unknown top-level and cluster keys",
			file: "adr: x\nclusters:\n  a:\n    trino_rule: r.json\n",
			want: []string{`config.yaml:1: unknown key "adr"`, `config.yaml:4: unknown key "clusters.a.trino_rule"`},
		},
		{
			name: "duplicate yaml key",
			file: "http:\n  read_timeout: 1s\n  read_timeout: 2s\n",
			want: []string{`config.yaml:3: duplicate key "http.read_timeout"`},
		},
		{
			name: "bad yaml values, all reported",
			file: "shutdown:\n  drain_delay: abc\nhttp:\n  reuse_port: maybe\n  max_header_bytes: 1XB\n" +
				"decision:\n  explain_cache_size: many\n",
			want: []string{
				`config.yaml:2: shutdown.drain_delay: invalid duration "abc"`,
				`config.yaml:4: http.reuse_port: invalid bool "maybe"`,
				`config.yaml:5: http.max_header_bytes: invalid byte size "1XB"`,
				`config.yaml:7: decision.explain_cache_size: invalid integer "many"`,
			},
		},
		{
			name: "yaml shape errors",
			file: "log: debug\naddr: [a, b]\nclusters: [a]\n",
			want: []string{
				`config.yaml:1: log: expected a mapping, got the value "debug"`,
				`config.yaml:2: addr: expected a single string value, got a list`,
				`config.yaml:3: clusters: expected a mapping, got a list`,
			},
		},
		{
			name: "yaml syntax error",
			file: "addr: [\n",
			want: []string{"config.yaml: yaml:"},
		},
		{
			name: "errors from all layers are reported together",
			file: "shutdown:\n  drain_delay: abc\n",
			env:  []string{"WARDEN_SHUTDOWN_DRAIN_DELAY=abc"},
			args: []string{"--shutdown-drain-delay=abc"},
			want: []string{
				`config.yaml:2: shutdown.drain_delay: invalid duration "abc"`,
				`WARDEN_SHUTDOWN_DRAIN_DELAY: invalid duration "abc"`,
				`--shutdown-drain-delay: invalid duration "abc"`,
			},
		},
		{
			name: "bad env values",
			env:  []string{"WARDEN_SHUTDOWN_DRAIN_DELAY=abc", "WARDEN_DECISION_MAX_BODY_BYTES=lots"},
			want: []string{
				`WARDEN_SHUTDOWN_DRAIN_DELAY: invalid duration "abc"`,
				`WARDEN_DECISION_MAX_BODY_BYTES: invalid byte size "lots"`,
			},
		},
		{
			name: "bad flag values",
			args: []string{"--shutdown-drain-delay=abc", "--http-reuse-port=maybe"},
			want: []string{`--shutdown-drain-delay: invalid duration "abc"`, `--http-reuse-port: invalid bool "maybe"`},
		},
		{
			name: "unknown flag",
			args: []string{"--no-such-flag"},
			want: []string{"flag provided but not defined: -no-such-flag"},
		},
		{
			name: "clusters have no flag",
			args: []string{"--clusters=a"},
			want: []string{"flag provided but not defined: -clusters"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if tt.file != "" {
				args = append([]string{"--config", writeConfig(t, tt.file)}, args...)
			}
			got, _, err := Load(newFlagSet(), args, tt.env)
			require.Error(t, err)
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
			require.Empty(t, cmp.Diff(Config{}, got), "no partial config on error")
		})
	}
}

func TestLoadHelp(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(&out)
	_, _, err := Load(fs, []string{"-h"}, nil)
	require.ErrorIs(t, err, flag.ErrHelp)
	for _, want := range []string{
		"-addr string\n",
		"Decision listener address (host:port) (string; env WARDEN_ADDR) (default 127.0.0.1:8181)",
		"-shutdown-drain-delay duration\n",
		"env WARDEN_SHUTDOWN_DRAIN_DELAY) (default 5s)",
		"-http-reuse-port\n",
		"(env WARDEN_HTTP_REUSE_PORT) (default true)",
		"-decision-max-body-bytes size\n",
		"-config file\n",
	} {
		require.Contains(t, out.String(), want)
	}
	require.Contains(t, out.String(), "(string; env WARDEN_TRINO_RULES)\n", "no default shown for an empty one")
	require.NotContains(t, out.String(), "-clusters")
}

func TestLoadClusters(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, `
trino_rules: /etc/rules.json
clusters:
  etl: {}
  adhoc:
  analytics:
    trino_rules: /etc/analytics.json
    policy_dir: /etc/analytics-rego
`)
	got, _, err := Load(newFlagSet(), []string{"--config", path}, nil)
	require.NoError(t, err)
	require.NoError(t, got.Validate())
	require.Equal(t, map[string]ClusterConfig{
		"etl":       {},
		"adhoc":     {},
		"analytics": {TrinoRules: "/etc/analytics.json", PolicyDir: "/etc/analytics-rego"},
	}, got.Clusters)

	red := got.Redacted()
	require.Equal(t, "/etc/analytics.json", red["clusters.analytics.trino_rules"])
	require.Equal(t, "", red["clusters.etl.policy_dir"])
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*Config)
		want   []string
	}{
		{name: "defaults", modify: func(*Config) {}},
		{
			name: "any host and port 0",
			modify: func(c *Config) {
				c.Addr = ":0"
				c.ReloadInterval, c.HTTP.ReadTimeout, c.Shutdown.DrainDelay = 0, 0, 0
				c.Decision.MaxBodyBytes = MiB
				c.Clusters = map[string]ClusterConfig{"a": {}, "prod-eu_1": {PolicyDir: "x"}}
			},
		},
		{name: "empty addr", modify: func(c *Config) { c.Addr = "" }, want: []string{"addr: must not be empty"}},
		{name: "addr without port", modify: func(c *Config) { c.Addr = "localhost" }, want: []string{"addr: must be host:port"}},
		{name: "addr with bad port", modify: func(c *Config) { c.Addr = "localhost:http" }, want: []string{`addr: port "http" must be a number`}},
		{
			name: "negative durations and sizes",
			modify: func(c *Config) {
				c.ReloadInterval = -time.Second
				c.Shutdown.Timeout = -time.Millisecond
				c.HTTP.MaxHeaderBytes = -1
			},
			want: []string{
				"reload_interval: must not be negative, got -1s",
				"shutdown.timeout: must not be negative, got -1ms",
				"http.max_header_bytes: must not be negative, got -1B",
			},
		},
		{
			name: "enums and bounds",
			modify: func(c *Config) {
				c.Log.Level = "verbose"
				c.Log.Format = "xml"
				c.Decision.MaxBodyBytes = 512 * KiB
				c.Decision.ExplainCacheSize = -1
			},
			want: []string{
				`log.level: must be debug, info, warn or error, got "verbose"`,
				`log.format: must be json or text, got "xml"`,
				"decision.max_body_bytes: must be at least 1MiB, got 512KiB",
				"decision.explain_cache_size: must not be negative, got -1",
			},
		},
		{
			name: "cluster names",
			modify: func(c *Config) {
				c.Clusters = map[string]ClusterConfig{"default": {}, "Prod": {}, "-x": {}, "ok": {}}
			},
			want: []string{
				`clusters.default: the name "default" is reserved`,
				"clusters.Prod: name must match",
				"clusters.-x: name must match",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tt.modify(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
			require.Len(t, unwrapJoined(err), len(tt.want), "one error per problem: %v", err)
		})
	}
}

// unwrapJoined flattens errors.Join trees into their leaves.
func unwrapJoined(err error) []error {
	var j interface{ Unwrap() []error }
	if !errors.As(err, &j) {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, unwrapJoined(e)...)
	}
	return out
}

func TestLogLevel(t *testing.T) {
	t.Parallel()
	for level, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	} {
		require.Equal(t, want, LogConfig{Level: level}.SlogLevel(), level)
	}
}

func TestRedactedConfig(t *testing.T) {
	t.Parallel()
	red := Default().Redacted()
	require.Equal(t, "127.0.0.1:8181", red["addr"])
	require.Equal(t, "5s", red["shutdown.drain_delay"])
	require.Equal(t, "64MiB", red["decision.max_body_bytes"])
	require.Equal(t, true, red["http.reuse_port"])
	require.Equal(t, 10000, red["decision.explain_cache_size"])
	maps := 0
	for _, r := range Reference() {
		if strings.Contains(r.Key, "<name>") || r.Type == "map" {
			maps++ // the rows of YAML-only maps (clusters, audit.rules)
		}
	}
	require.Len(t, red, len(Reference())-maps, "every leaf but the rows of maps")
	require.Equal(t, "[redacted]", red["scim.tokens"])
}

func TestYAMLRoundTrip(t *testing.T) {
	t.Parallel()
	want := Default()
	want.Clusters = map[string]ClusterConfig{"etl": {}, "analytics": {TrinoRules: "/r.json"}}
	want.Decision.MaxBodyBytes = 20 * MB
	want.HTTP.IdleTimeout = 90 * time.Minute
	out, err := yaml.Marshal(want)
	require.NoError(t, err)
	got, _, err := Load(newFlagSet(), []string{"--config", writeConfig(t, string(out))}, nil)
	require.NoError(t, err, "yaml.Marshal output must load back:\n%s", out)
	require.Empty(t, cmp.Diff(want, got))
}
