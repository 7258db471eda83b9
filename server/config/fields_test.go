package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// testConfig exercises every supported leaf type and a secret, which the
// real Config does not have yet.
type testConfig struct {
	Name     string            `yaml:"name" help:"A name"`
	Password string            `yaml:"password" secret:"true" help:"A password"`
	Tags     []string          `yaml:"tags" help:"Some tags"`
	Ratio    float64           `yaml:"ratio" help:"A ratio"`
	Count    int64             `yaml:"count" help:"A count"`
	Skipped  string            `yaml:"-"`
	DB       testDB            `yaml:"db"`
	Backends map[string]testDB `yaml:"backends" help:"Named backends"`
}

type testDB struct {
	DSN     string        `yaml:"dsn" secret:"true" help:"Connection string"`
	Timeout time.Duration `yaml:"timeout" help:"Query timeout"`
	Pool    ByteSize      `yaml:"pool_size" help:"Pool memory"`
	TLS     bool          `yaml:"tls" help:"Use TLS"`
}

func TestConfigNames(t *testing.T) {
	t.Parallel()
	ls := leaves(reflect.TypeFor[Config]())
	require.NoError(t, checkNames(ls), "no two fields may map to the same env or flag name")
	for _, l := range ls {
		require.NotEmpty(t, l.help, "%s needs a help tag", l.key)
		require.NotContains(t, l.help, "`", "%s: a backquote in help confuses flag usage", l.key)
	}
	byKey := map[string]leaf{}
	for _, l := range ls {
		byKey[l.key] = l
	}
	for key, want := range map[string][2]string{
		"addr":                    {"WARDEN_ADDR", "addr"},
		"trino_rules":             {"WARDEN_TRINO_RULES", "trino-rules"},
		"shutdown.drain_delay":    {"WARDEN_SHUTDOWN_DRAIN_DELAY", "shutdown-drain-delay"},
		"decision.max_body_bytes": {"WARDEN_DECISION_MAX_BODY_BYTES", "decision-max-body-bytes"},
		"clusters":                {"", ""},
	} {
		require.Equal(t, want, [2]string{byKey[key].env, byKey[key].flag}, key)
	}
}

func TestCheckNames(t *testing.T) {
	t.Parallel()
	type collide struct {
		LogLevel string `yaml:"log_level" help:"x"`
		Log      struct {
			Level string `yaml:"level" help:"x"`
		} `yaml:"log"`
		Config  string `yaml:"config" help:"x"`
		Service struct {
			Host string `yaml:"host" help:"x"`
		} `yaml:"service"`
		Port struct {
			TCP string `yaml:"tcp" help:"x"`
		} `yaml:"port"`
	}
	err := checkNames(leaves(reflect.TypeFor[collide]()))
	require.ErrorContains(t, err, "log_level and log.level both map to WARDEN_LOG_LEVEL")
	require.ErrorContains(t, err, "log_level and log.level both map to log-level")
	require.ErrorContains(t, err, "--config and config both map to WARDEN_CONFIG")
	require.ErrorContains(t, err, "service.host maps to reserved env name WARDEN_SERVICE_HOST")
	require.ErrorContains(t, err, "port.tcp maps to reserved env name WARDEN_PORT_TCP")
}

func TestLeavesRejectsBadFields(t *testing.T) {
	t.Parallel()
	type noTag struct{ Addr string }
	type badType struct {
		Ch chan int `yaml:"ch"`
	}
	type badMap struct {
		M map[string]int `yaml:"m"`
	}
	type badSecret struct {
		S string `yaml:"s" secret:"yes please"`
	}
	require.PanicsWithValue(t, `config: field Addr needs a lower_snake_case yaml tag, got ""`,
		func() { leaves(reflect.TypeFor[noTag]()) })
	require.PanicsWithValue(t, "config: ch: unsupported type chan int", func() { leaves(reflect.TypeFor[badType]()) })
	require.PanicsWithValue(t, "config: m: only map[string]struct is supported, got map[string]int",
		func() { leaves(reflect.TypeFor[badMap]()) })
	require.Panics(t, func() { leaves(reflect.TypeFor[badSecret]()) })
}

func TestParseValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ     reflect.Type
		in      string
		want    any
		wantErr string
	}{
		{typ: stringsType, in: "a,b , c", want: []string{"a", "b", "c"}},
		{typ: stringsType, in: " a ,, b,", want: []string{"a", "b"}},
		{typ: stringsType, in: "", want: []string{}},
		{typ: byteSizeType, in: "64MiB", want: 64 * MiB},
		{typ: byteSizeType, in: "20MB", want: 20 * MB},
		{typ: byteSizeType, in: "x", wantErr: `invalid byte size "x"`},
		{typ: durationType, in: "1m30s", want: 90 * time.Second},
		{typ: durationType, in: "5", wantErr: `invalid duration "5" (want e.g. 500ms, 5s, 2m)`},
		{typ: reflect.TypeFor[bool](), in: "false", want: false},
		{typ: reflect.TypeFor[bool](), in: "yes", wantErr: `invalid bool "yes"`},
		{typ: reflect.TypeFor[int](), in: " 42 ", want: 42},
		{typ: reflect.TypeFor[int](), in: "4.2", wantErr: `invalid integer "4.2"`},
		{typ: reflect.TypeFor[float64](), in: "0.25", want: 0.25},
		{typ: reflect.TypeFor[float64](), in: "½", wantErr: `invalid number "½"`},
		{typ: reflect.TypeFor[string](), in: " kept as is ", want: " kept as is "},
	}
	for _, tt := range tests {
		t.Run(tt.typ.String()+"/"+tt.in, func(t *testing.T) {
			t.Parallel()
			v, err := parseValue(tt.typ, tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, v.Interface())
			if tt.typ != stringsType || tt.in == strings.Join(tt.want.([]string), ",") {
				again, err := parseValue(tt.typ, formatValue(v))
				require.NoError(t, err)
				require.Equal(t, tt.want, again.Interface(), "formatValue round-trips")
			}
		})
	}
}

func TestRedactOnTestStruct(t *testing.T) {
	t.Parallel()
	c := testConfig{
		Name: "n", Password: "hunter2", Tags: []string{"a"}, Ratio: 0.5, Count: 3, Skipped: "s",
		DB:       testDB{Timeout: time.Second, Pool: 2 * MiB, TLS: true}, // DSN empty: shown as empty
		Backends: map[string]testDB{"pg": {DSN: "postgres://u:p@h/db"}},
	}
	got := redact(reflect.ValueOf(c), "", map[string]any{})
	require.Empty(t, cmp.Diff(map[string]any{
		"name": "n", "password": "[redacted]", "tags": []string{"a"}, "ratio": 0.5, "count": int64(3),
		"db.dsn": "", "db.timeout": "1s", "db.pool_size": "2MiB", "db.tls": true,
		"backends.pg.dsn": "[redacted]", "backends.pg.timeout": "0s", "backends.pg.pool_size": "0B",
		"backends.pg.tls": false,
	}, got))
}

func TestLoadOnTestStruct(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, `
name: from-file
tags: [x, "y,z"]
db:
  dsn: file-dsn
  pool_size: 1GiB
backends:
  pg: {dsn: pg-dsn, timeout: 2s}
  other: &o {tls: true}
  alias: *o
`)
	c := testConfig{Tags: []string{"default"}, DB: testDB{Timeout: time.Minute}}
	rest, err := load(&c, newFlagSet(),
		[]string{"--config", path, "--ratio=0.75", "--db-tls", "--tags=p,q", "pos"},
		[]string{"WARDEN_PASSWORD=env-secret", "WARDEN_COUNT=7", "WARDEN_DB_DSN=env-dsn"})
	require.NoError(t, err)
	require.Equal(t, []string{"pos"}, rest)
	require.Empty(t, cmp.Diff(testConfig{
		Name: "from-file", Password: "env-secret", Tags: []string{"p", "q"}, Ratio: 0.75, Count: 7,
		DB: testDB{DSN: "env-dsn", Timeout: time.Minute, Pool: GiB, TLS: true},
		Backends: map[string]testDB{
			"pg": {DSN: "pg-dsn", Timeout: 2 * time.Second}, "other": {TLS: true}, "alias": {TLS: true},
		},
	}, c))

	c = testConfig{}
	_, err = load(&c, newFlagSet(), []string{"--config", writeConfig(t, "tags: a,b\nbackends: {x: {tags: [1]}}\n")}, nil)
	require.ErrorContains(t, err, `config.yaml:1: tags: expected a list, got the value "a,b"`)
	require.ErrorContains(t, err, `config.yaml:2: unknown key "backends.x.tags"`)
}

func TestReferenceOnTestStruct(t *testing.T) {
	t.Parallel()
	got := reference(reflect.ValueOf(testConfig{Tags: []string{"a", "b"}, DB: testDB{Timeout: time.Second}}))
	keys := make([]string, len(got))
	for i, f := range got {
		keys[i] = f.Key
	}
	require.Equal(t, []string{
		"name", "password", "tags", "ratio", "count", "db.dsn", "db.timeout", "db.pool_size", "db.tls",
		"backends", "backends.<name>.dsn", "backends.<name>.timeout", "backends.<name>.pool_size", "backends.<name>.tls",
	}, keys)
	require.Equal(t, Field{
		Key: "password", Env: "WARDEN_PASSWORD", Flag: "--password", Type: "string", Help: "A password", Secret: true,
	}, got[1])
	require.Equal(t, Field{Key: "tags", Env: "WARDEN_TAGS", Flag: "--tags", Type: "list", Default: "a,b", Help: "Some tags"}, got[2])
	require.Equal(t, Field{Key: "db.timeout", Env: "WARDEN_DB_TIMEOUT", Flag: "--db-timeout", Type: "duration", Default: "1s", Help: "Query timeout"}, got[6])
	require.Equal(t, Field{Key: "backends", Env: "-", Flag: "-", Type: "map", Help: "Named backends"}, got[9])
	require.Equal(t, Field{Key: "backends.<name>.pool_size", Env: "-", Flag: "-", Type: "size", Default: "0B", Help: "Pool memory"}, got[12])
}
