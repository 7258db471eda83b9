package events_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/webhooks/events"
)

const (
	schemaPath  = "../../docs/schemas/warden-event-v1.json"
	fixtureRoot = "../../testdata/webhooks/events"
)

// compileSchema compiles the published schema, asserting formats
// (date-time) as well as structure.
func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaPath)
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource("warden-event-v1.json", doc))
	s, err := c.Compile("warden-event-v1.json")
	require.NoError(t, err)
	return s
}

func fixtures(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtureRoot, dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no fixtures in %s", dir)
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		out[filepath.Base(p)] = b
	}
	return out
}

func schemaAccepts(t *testing.T, s *jsonschema.Schema, body []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// TestSchemaAndDecoderAgree checks every recorded fixture against both the
// published schema and the decoder: the valid ones pass both, the invalid
// ones fail both.
func TestSchemaAndDecoderAgree(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	for dir, wantValid := range map[string]bool{"valid": true, "invalid": false} {
		for name, body := range fixtures(t, dir) {
			t.Run(dir+"/"+name, func(t *testing.T) {
				schemaErr := schemaAccepts(t, s, body)
				_, decodeErr := events.Decode(body)
				if wantValid {
					require.NoError(t, schemaErr, "schema")
					require.NoError(t, decodeErr, "decoder")
				} else {
					require.Error(t, schemaErr, "schema accepts an invalid fixture")
					require.Error(t, decodeErr, "decoder accepts an invalid fixture")
				}
			})
		}
	}
}

// TestSchemaGap lists what the decoder refuses beyond the schema, which the
// schema's description states: a repeated document path.
func TestSchemaGap(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	for name, body := range fixtures(t, "schema-gap") {
		require.NoError(t, schemaAccepts(t, s, body), name)
		_, err := events.Decode(body)
		require.ErrorContains(t, err, "appears twice", name)
	}
}

// TestDecodeMessages checks that a malformed payload is explained.
func TestDecodeMessages(t *testing.T) {
	t.Parallel()
	inv := fixtures(t, "invalid")
	for name, want := range map[string]string{
		"wrong-version.json":            "version 2 is not supported",
		"missing-version.json":          "version is missing",
		"unknown-type.json":             `unknown event type "user.created"`,
		"missing-timestamp.json":        "timestamp is missing",
		"timestamp-comma-fraction.json": "not an RFC 3339 date-time",
		"unknown-envelope-member.json":  `unknown member "id"`,
		"unknown-data-member.json":      `unknown member "username"`,
		"null-member.json":              "email must not be null",
		"data-not-object.json":          "must be a JSON object",
		"wrong-type-active.json":        "active must be a boolean",
		"empty-user-name.json":          "userName must not be empty",
		"name-trailing-space.json":      "must not start or end with a space",
		"name-control-character.json":   "control characters",
		"name-too-long.json":            "257 characters long",
		"user-ref-empty.json":           "externalId or userName",
		"members-added-empty.json":      "users must not be empty",
		"members-missing-users.json":    "users is missing",
		"members-duplicate-user.json":   `lists "bob" twice`,
		"policy-bad-cluster.json":       `cluster "Prod Cluster" must match`,
		"policy-bad-kind.json":          "must be rules, rego or data",
		"policy-missing-content.json":   "content is missing",
		"policy-missing-documents.json": "documents is missing",
		"too-many-attributes.json":      "101 members",
	} {
		body, ok := inv[name]
		require.True(t, ok, "fixture %s", name)
		_, err := events.Decode(body)
		require.ErrorContains(t, err, want, name)
	}
	_, err := events.Decode([]byte(`{"version":1,`))
	require.ErrorContains(t, err, "invalid JSON")
	_, err = events.Decode([]byte(`{"version":1} {}`))
	require.Error(t, err, "trailing data")
}

func TestDecodeSubject(t *testing.T) {
	t.Parallel()
	valid := fixtures(t, "valid")
	for name, want := range map[string]string{
		"01-user-upserted.json":         "user-id:idp-alice",
		"02-user-upserted-minimal.json": "user:bob",
		"04-group-members-added.json":   "group:analysts",
		"08-policy-changed.json":        "policy:default",
		"09-group-deleted.json":         "group-id:idp-admins",
	} {
		ev, err := events.Decode(valid[name])
		require.NoError(t, err)
		require.Equal(t, want, ev.Subject(), name)
	}
}

// FuzzDecode feeds arbitrary bodies to the decoder: it never panics, every
// error is a 400, and what it accepts has a subject and re-encodes.
func FuzzDecode(f *testing.F) {
	for _, dir := range []string{"valid", "invalid", "schema-gap"} {
		for _, b := range fixtures(f, dir) {
			f.Add(b)
		}
	}
	f.Add([]byte(`null`))
	f.Add([]byte(`{"version":1,"type":"group.members.set","timestamp":"2026-01-01T00:00:00Z","data":{"group":"g","users":[null]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := events.Decode(body)
		if err != nil {
			require.Contains(t, err.Error(), "payload")
			return
		}
		require.NotEmpty(t, ev.Subject())
		require.False(t, ev.Timestamp.IsZero())
		_, err = json.Marshal(ev.Data)
		require.NoError(t, err)
	})
}
