package policy_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

var directoryUsers = []policy.DirectoryUser{
	{UserName: "Alice", Email: "Alice.Smith@Example.com", ExternalID: "00u1", Active: true,
		Groups: []string{"finance", "analysts"}, Attributes: map[string]any{"region": "emea", "trino_user": "asmith"}},
	{UserName: "bob", Email: "bob@example.com", ExternalID: "00u2", Active: false, Groups: []string{"finance"}},
	{UserName: "carol", Email: "carol@example.com", ExternalID: "00u3", Active: true, Deleted: true},
	{UserName: "dave", Email: "", ExternalID: "00u4", Active: true, Groups: []string{"ops"}},
	// Two live accounts whose e-mail local parts collide.
	{UserName: "erin1", Email: "erin@example.com", Active: true, Groups: []string{"a"}},
	{UserName: "erin2", Email: "erin@example.org", Active: true, Groups: []string{"b"}},
	// A deleted account and its live successor under the same e-mail.
	{UserName: "frank-old", Email: "frank@example.com", Active: true, Deleted: true},
	{UserName: "frank", Email: "frank@example.com", Active: true, Groups: []string{"eng"}},
}

func TestDirectoryEnrich(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		opts         policy.IdentityOptions
		user         string
		trinoGroups  []string
		wantGroups   []string
		wantAttrs    map[string]any
		wantKnown    bool
		wantDisabled string
	}{
		{name: "user name, exact", user: "Alice", trinoGroups: []string{"staff"},
			wantGroups: []string{"staff", "analysts", "finance"}, wantAttrs: directoryUsers[0].Attributes, wantKnown: true},
		{name: "user name is case-sensitive without lower", user: "alice", trinoGroups: []string{"staff"},
			wantGroups: []string{"staff"}},
		{name: "lower on both sides", opts: policy.IdentityOptions{Normalize: []string{"lower"}}, user: "ALICE",
			wantGroups: []string{"analysts", "finance"}, wantAttrs: directoryUsers[0].Attributes, wantKnown: true},
		{name: "Trino's groups are kept, without duplicates", user: "Alice", trinoGroups: []string{"finance", "staff"},
			wantGroups: []string{"finance", "staff", "analysts"}, wantAttrs: directoryUsers[0].Attributes, wantKnown: true},
		{name: "email, lower, strip domain (Okta/Entra UPN principal)",
			opts: policy.IdentityOptions{UserNameFrom: "email", Normalize: []string{"lower", "strip_domain"}},
			user: "alice.smith@EXAMPLE.com", wantGroups: []string{"analysts", "finance"}, wantAttrs: directoryUsers[0].Attributes, wantKnown: true},
		{name: "email, full address", opts: policy.IdentityOptions{UserNameFrom: "email", Normalize: []string{"lower"}},
			user: "alice.smith@example.com", wantGroups: []string{"analysts", "finance"}, wantAttrs: directoryUsers[0].Attributes, wantKnown: true},
		{name: "external ID (Keycloak sub)", opts: policy.IdentityOptions{UserNameFrom: "external_id"},
			user: "00u4", wantGroups: []string{"ops"}, wantKnown: true},
		{name: "attribute", opts: policy.IdentityOptions{UserNameFrom: "attribute:trino_user"},
			user: "asmith", wantGroups: []string{"analysts", "finance"}, wantAttrs: directoryUsers[0].Attributes, wantKnown: true},
		{name: "deactivated", user: "bob", trinoGroups: []string{"staff"}, wantGroups: []string{"staff"},
			wantKnown: true, wantDisabled: "deactivated in the directory"},
		{name: "deleted stays denied", user: "carol", wantKnown: true, wantDisabled: "deleted from the directory"},
		{name: "unknown passes by default", user: "svc-etl", trinoGroups: []string{"etl"}, wantGroups: []string{"etl"}},
		{name: "unknown denied", opts: policy.IdentityOptions{Unknown: "deny"}, user: "mallory",
			wantDisabled: "not in the directory, and identity.unknown_users is deny"},
		{name: "service user passes under deny", opts: policy.IdentityOptions{Unknown: "deny", ServiceUsers: []string{"warden"}},
			user: "warden"},
		{name: "ambiguous mapping is denied",
			opts: policy.IdentityOptions{UserNameFrom: "email", Normalize: []string{"strip_domain"}},
			user: "erin", wantKnown: true, wantDisabled: "ambiguous: several directory users map to this name"},
		{name: "a deleted duplicate does not lock out the live user",
			opts: policy.IdentityOptions{UserNameFrom: "email"},
			user: "frank@example.com", wantGroups: []string{"eng"}, wantKnown: true},
		{name: "a user without the mapped value cannot match",
			opts: policy.IdentityOptions{UserNameFrom: "email", Unknown: "deny"},
			user: "", wantDisabled: "not in the directory, and identity.unknown_users is deny"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := policy.NewDirectory(tt.opts, directoryUsers)
			require.NoError(t, err)
			sub := policy.Subject{User: tt.user, Groups: tt.trinoGroups}
			d.Enrich(&sub)
			if tt.wantDisabled == "" {
				require.Equal(t, tt.wantGroups, sub.Groups)
				require.Equal(t, tt.wantAttrs, sub.Attributes)
			}
			require.Equal(t, tt.wantKnown, sub.Known)
			require.Equal(t, tt.wantDisabled, sub.Disabled)
			require.Equal(t, tt.user, sub.User, "the Trino name is never rewritten")
		})
	}
}

func TestIdentityOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, bad := range []policy.IdentityOptions{
		{UserNameFrom: "mail"}, {UserNameFrom: "attribute:"}, {Normalize: []string{"upper"}}, {Unknown: "allow"},
	} {
		_, err := policy.NewDirectory(bad, nil)
		require.Error(t, err, "%+v", bad)
	}
}

// recorder is a source that allows everything and remembers the subject it
// was asked about.
type recorder struct{ got policy.Subject }

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Authorize(_ context.Context, req *policy.Request) (policy.Verdict, error) {
	r.got = req.Subject
	return policy.Verdict{Effect: policy.Allow}, nil
}
func (r *recorder) Filter(_ context.Context, req *policy.Request, out *policy.BatchVerdict) error {
	r.got = req.Subject
	for i := range out.Allow {
		out.Allow[i] = true
	}
	return nil
}
func (r *recorder) RowFilters(context.Context, *policy.Request) ([]trino.ViewExpression, policy.Reason, error) {
	return nil, policy.Reason{}, nil
}
func (r *recorder) ColumnMasks(context.Context, *policy.Request, []*trino.Column, []policy.Mask) error {
	return nil
}

func TestEngineDirectory(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	snap, err := policy.NewSnapshot(1, "test", map[string]*policy.PolicySet{policy.DefaultCluster: policy.NewPolicySet(rec)})
	require.NoError(t, err)
	snap.Directory, err = policy.NewDirectory(policy.IdentityOptions{}, directoryUsers)
	require.NoError(t, err)
	e := policy.NewEngine(policy.EngineOptions{})
	require.NoError(t, e.Swap(snap))
	ctx := context.Background()
	as := func(user string, r *policy.Request) *policy.Request {
		r.Subject = policy.Subject{User: user, Groups: []string{"staff"}}
		r.Explain = true
		return r
	}
	table := trino.Action{Resource: &trino.Resource{Table: &trino.Table{CatalogName: "c", SchemaName: "s", TableName: "t"}}}

	// An active user reaches the sources with the directory's groups and
	// attributes.
	d, err := e.Decide(ctx, as("Alice", request(trino.EndpointAllow, trino.OpSelectFromColumns, table)))
	require.NoError(t, err)
	require.True(t, d.Allowed)
	require.Equal(t, []string{"staff", "analysts", "finance"}, rec.got.Groups)
	require.Equal(t, "emea", rec.got.Attributes["region"])
	require.Equal(t, []string{"staff", "analysts", "finance"}, d.Explanation.Groups)

	// A deactivated user is denied everything, ExecuteQuery included,
	// whatever the sources say; no source is asked.
	rec.got = policy.Subject{}
	for _, op := range []trino.Operation{trino.OpExecuteQuery, trino.OpSelectFromColumns, trino.OpAccessCatalog} {
		d, err = e.Decide(ctx, as("bob", request(trino.EndpointAllow, op, table)))
		require.NoError(t, err)
		require.False(t, d.Allowed, op.String())
		require.Contains(t, d.Explanation.Decider, "directory")
	}
	require.Empty(t, rec.got.User, "no source was asked")
	batch := trino.Action{FilterResources: []trino.Resource{{Catalog: &trino.Catalog{Name: "a"}}, {Catalog: &trino.Catalog{Name: "b"}}}}
	d, err = e.Decide(ctx, as("carol", request(trino.EndpointBatch, trino.OpFilterCatalogs, batch)))
	require.NoError(t, err)
	require.Empty(t, d.Indices)
	d, err = e.Decide(ctx, as("bob", request(trino.EndpointRowFilters, trino.OpGetRowFilters, table)))
	require.NoError(t, err)
	require.Equal(t, []trino.ViewExpression{{Expression: "false"}}, d.Filters, "a row filter that keeps nothing, never none")
	cols := trino.Action{FilterResources: []trino.Resource{{Column: &trino.Column{CatalogName: "c", SchemaName: "s", TableName: "t", ColumnName: "x", ColumnType: "varchar"}}}}
	_, err = e.Decide(ctx, as("bob", request(trino.EndpointBatchColumnMasks, trino.OpGetColumnMask, cols)))
	var se *policy.SourceError
	require.ErrorAs(t, err, &se, "no mask answer is safe: the request fails")

	// Impersonating a deactivated user is denied too.
	imp := trino.Action{Resource: &trino.Resource{User: &trino.User{User: "bob"}}}
	d, err = e.Decide(ctx, as("Alice", request(trino.EndpointAllow, trino.OpImpersonateUser, imp)))
	require.NoError(t, err)
	require.False(t, d.Allowed)
	imp = trino.Action{Resource: &trino.Resource{User: &trino.User{User: "dave"}}}
	d, err = e.Decide(ctx, as("Alice", request(trino.EndpointAllow, trino.OpImpersonateUser, imp)))
	require.NoError(t, err)
	require.True(t, d.Allowed)
}

func BenchmarkDirectoryEnrich(b *testing.B) {
	users := make([]policy.DirectoryUser, 0, 10_000)
	for i := range 10_000 {
		users = append(users, policy.DirectoryUser{UserName: "user" + string(rune('a'+i%26)) + strconv.Itoa(i), Active: true,
			Groups: []string{"g1", "g2", "g3"}, Attributes: map[string]any{"region": "emea"}})
	}
	d, err := policy.NewDirectory(policy.IdentityOptions{Normalize: []string{"lower"}}, users)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		sub := policy.Subject{User: "userb1", Groups: []string{"staff"}}
		d.Enrich(&sub)
		if !sub.Known {
			b.Fatal("not found")
		}
	}
}
