package grants_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	fgaclient "github.com/openfga/go-sdk/client"
	"github.com/openfga/language/pkg/go/transformer"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	fga "github.com/openfga/go-sdk"

	"github.com/trino-warden/warden/policy/grants/fgatest"
)

// modelFile is the subset of OpenFGA's model test format that
// deploy/openfga/model.fga.yaml uses.
type modelFile struct {
	Name      string      `yaml:"name"`
	ModelFile string      `yaml:"model_file"`
	Tuples    []fileTuple `yaml:"tuples"`
	Tests     []struct {
		Name   string      `yaml:"name"`
		Tuples []fileTuple `yaml:"tuples"`
		Check  []struct {
			User       string          `yaml:"user"`
			Object     string          `yaml:"object"`
			Context    map[string]any  `yaml:"context"`
			Assertions map[string]bool `yaml:"assertions"`
		} `yaml:"check"`
		ListObjects []struct {
			User       string              `yaml:"user"`
			Type       string              `yaml:"type"`
			Context    map[string]any      `yaml:"context"`
			Assertions map[string][]string `yaml:"assertions"`
		} `yaml:"list_objects"`
	} `yaml:"tests"`
}

type fileTuple struct {
	User      string `yaml:"user"`
	Relation  string `yaml:"relation"`
	Object    string `yaml:"object"`
	Condition *struct {
		Name    string         `yaml:"name"`
		Context map[string]any `yaml:"context"`
	} `yaml:"condition"`
}

func (ft fileTuple) key() fgaclient.ClientTupleKey {
	k := fgaclient.ClientTupleKey{User: ft.User, Relation: ft.Relation, Object: ft.Object}
	if ft.Condition != nil {
		ctx := ft.Condition.Context
		k.Condition = &fga.RelationshipCondition{Name: ft.Condition.Name, Context: &ctx}
	}
	return k
}

// TestModelFile runs deploy/openfga/model.fga.yaml against a real OpenFGA.
func TestModelFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "deploy", "openfga")
	raw, err := os.ReadFile(filepath.Join(dir, "model.fga.yaml"))
	require.NoError(t, err)
	var mf modelFile
	require.NoError(t, yaml.Unmarshal(raw, &mf))
	dsl, err := os.ReadFile(filepath.Join(dir, mf.ModelFile))
	require.NoError(t, err)
	js, err := transformer.TransformDSLToJSON(string(dsl))
	require.NoError(t, err)
	var body fgaclient.ClientWriteAuthorizationModelRequest
	require.NoError(t, json.Unmarshal([]byte(js), &body))

	srv := fgatest.Shared(t)
	for _, tc := range mf.Tests {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := srv.NewStore(t)
			m, err := c.WriteAuthorizationModel(ctx).Body(body).Execute()
			require.NoError(t, err)
			require.NoError(t, c.SetAuthorizationModelId(m.GetAuthorizationModelId()))
			var keys []fgaclient.ClientTupleKey
			for _, ft := range append(append([]fileTuple(nil), mf.Tuples...), tc.Tuples...) {
				keys = append(keys, ft.key())
			}
			_, err = c.WriteTuples(ctx).Body(keys).Execute()
			require.NoError(t, err)
			for _, ch := range tc.Check {
				for rel, want := range ch.Assertions {
					cx := ch.Context
					resp, err := c.Check(ctx).Body(fgaclient.ClientCheckRequest{User: ch.User, Relation: rel, Object: ch.Object, Context: &cx}).Execute()
					require.NoError(t, err)
					require.Equal(t, want, resp.GetAllowed(), "check %s#%s@%s", ch.Object, rel, ch.User)
				}
			}
			for _, lo := range tc.ListObjects {
				for rel, want := range lo.Assertions {
					cx := lo.Context
					resp, err := c.ListObjects(ctx).Body(fgaclient.ClientListObjectsRequest{User: lo.User, Relation: rel, Type: lo.Type, Context: &cx}).Execute()
					require.NoError(t, err)
					got := resp.GetObjects()
					sort.Strings(got)
					sort.Strings(want)
					if want == nil {
						want = []string{}
					}
					if got == nil {
						got = []string{}
					}
					require.Equal(t, want, got, "list %s#%s@%s", lo.Type, rel, lo.User)
				}
			}
		})
	}
}
