package rego

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// benchDir holds the shared benchmark requests: real plugin request bodies.
const benchDir = "../../testdata/bench"

// TestInputMatchesPluginJSON checks that the input built from the decoded
// request equals, as a Rego value, the input parsed from the plugin's JSON:
// every request of the benchmark set and the edge cases of
// testdata/inputs.jsonl (properties, empty collections, optional fields).
func TestInputMatchesPluginJSON(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(benchDir, "*.jsonl"))
	require.NoError(t, err)
	if len(files) == 0 {
		t.Logf("no request files in %s; checking testdata/inputs.jsonl only", benchDir)
	}
	files = append(files, "testdata/inputs.jsonl")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(file)
			require.NoError(t, err)
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 64<<20)
			n := 0
			for sc.Scan() {
				line := bytes.TrimSpace(sc.Bytes())
				if len(line) == 0 {
					continue
				}
				n++
				var doc map[string]any
				require.NoError(t, util.UnmarshalJSON(line, &doc), "line %d", n)
				want, err := ast.InterfaceToValue(doc["input"])
				require.NoError(t, err)

				req, err := trino.Decode(line)
				require.NoError(t, err, "line %d", n)
				req.Op = trino.ParseOperation(req.Action.Operation)
				got, err := pluginInput(req)
				require.NoError(t, err)
				require.Zero(t, ast.Compare(want, got), "line %d:\nwant %v\ngot  %v", n, want, got)
			}
			require.NoError(t, sc.Err())
			require.Positive(t, n)
		})
	}
}

func TestInputWarden(t *testing.T) {
	t.Parallel()
	req := request(t, trino.EndpointAllow, body("alice", []string{"g1"}, `{"operation":"ExecuteQuery"}`))
	req.Cluster = "east"
	req.Subject = policy.Subject{User: "alice", Groups: []string{"g1", "g2"}, Attributes: map[string]any{"level": 2, "tags": []any{"x"}}}
	in, err := inputValue(req, nil, nil)
	require.NoError(t, err)
	want := ast.MustParseTerm(`{
		"cluster": "east", "user": "alice", "groups": ["g1", "g2"],
		"attributes": {"level": 2, "tags": ["x"]}
	}`)
	require.Zero(t, ast.Compare(want.Value, in.(ast.Object).Get(ast.StringTerm("warden")).Value), "%v", in)

	req.Subject = policy.Subject{User: "alice"}
	in, err = inputValue(req, nil, nil)
	require.NoError(t, err)
	want = ast.MustParseTerm(`{"cluster": "east", "user": "alice", "groups": [], "attributes": {}}`)
	require.Zero(t, ast.Compare(want.Value, in.(ast.Object).Get(ast.StringTerm("warden")).Value), "%v", in)
}

func TestInputBadAttributes(t *testing.T) {
	t.Parallel()
	req := request(t, trino.EndpointAllow, body("alice", nil, `{"operation":"ExecuteQuery"}`))
	req.Subject.Attributes = map[string]any{"f": func() {}}
	_, err := inputValue(req, nil, nil)
	require.ErrorContains(t, err, `converting the attributes of "alice"`)
}
