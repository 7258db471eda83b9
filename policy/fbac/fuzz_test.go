package fbac_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/fbac"
	"github.com/trino-warden/warden/policy/trino"
)

// FuzzParse feeds arbitrary rules files to the parser: it must never panic,
// and a policy it accepts must answer checks without panicking.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(conformanceDir, "rules", "*.json"))
	invalid, _ := filepath.Glob(filepath.Join(conformanceDir, "rules", "invalid", "*.json"))
	for _, p := range append(files, invalid...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"impersonation":[{"original_user":"(.*)","new_user":"$1$2"}]}`))
	reqs := []string{
		`{"input":{"context":{"identity":{"user":"alice","groups":["g"]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"c","schemaName":"s","tableName":"t","columns":["a"]}}}}}`,
		`{"input":{"context":{"identity":{"user":"alice","groups":["g"]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"ImpersonateUser","resource":{"user":{"user":"bob"}}}}}`,
		`{"input":{"context":{"identity":{"user":"alice","groups":["g"]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"FilterCatalogs","filterResources":[{"catalog":{"name":"c"}}]}}}`,
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := fbac.Parse(data)
		if err != nil {
			return
		}
		snap, err := policy.NewSnapshot(1, "fuzz", map[string]*policy.PolicySet{policy.DefaultCluster: policy.NewPolicySet(fbac.NewSource(p))})
		if err != nil {
			t.Fatal(err)
		}
		e := policy.NewEngine(policy.EngineOptions{})
		if err := e.Swap(snap); err != nil {
			t.Fatal(err)
		}
		for i, body := range reqs {
			tr, err := trino.Decode([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			ep := trino.EndpointAllow
			if i == 2 {
				ep = trino.EndpointBatch
			}
			if err := tr.Validate(ep); err != nil {
				t.Fatal(err)
			}
			_, _ = e.Decide(context.Background(), &policy.Request{Request: tr, Endpoint: ep, Cluster: policy.DefaultCluster,
				Subject: policy.Subject{User: "alice", Groups: []string{"g"}}})
		}
	})
}
