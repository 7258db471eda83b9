package grants_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/openfga/language/pkg/go/transformer"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite model.json from model.fga")

// TestModelJSON fails when deploy/openfga/model.json or the bundled copy is
// stale; go test -run TestModelJSON -update rewrites both.
func TestModelJSON(t *testing.T) {
	t.Parallel()
	dsl, err := os.ReadFile(filepath.Join("..", "..", "deploy", "openfga", "model.fga"))
	require.NoError(t, err)
	js, err := transformer.TransformDSLToJSON(string(dsl))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, json.Indent(&buf, []byte(js), "", "  "))
	buf.WriteByte('\n')
	for _, p := range []string{filepath.Join("..", "..", "deploy", "openfga", "model.json"), "model.json"} {
		if *update {
			require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
			continue
		}
		got, err := os.ReadFile(p)
		require.NoError(t, err)
		require.Equal(t, buf.String(), string(got), "%s is stale: go test ./policy/grants -run TestModelJSON -update", p)
	}
}
