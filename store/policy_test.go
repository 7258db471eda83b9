package store_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
)

var ignorePolicyTimes = cmpopts.IgnoreFields(store.PolicyRevision{}, "CreatedAt")

func TestPolicyPutGetRevisionsRollback(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store

	_, err := s.PolicyGet(ctx, store.DefaultCluster, 0)
	require.ErrorIs(t, err, store.ErrNotFound)

	v1 := []store.PolicyDocument{
		{Kind: store.KindRules, Path: "rules.json", Content: `{"catalogs":[]}`},
		{Kind: store.KindRego, Path: "extra/a.rego", Content: "package a\n"},
	}
	r1, err := s.PolicyPut(ctx, "alice", store.DefaultCluster, v1, "first")
	require.NoError(t, err)
	// Another cluster's change takes a revision in between.
	rOther, err := s.PolicyPut(ctx, "alice", "prod", []store.PolicyDocument{{Kind: store.KindData, Path: "data.json", Content: `{}`}}, "")
	require.NoError(t, err)
	v2 := []store.PolicyDocument{{Kind: store.KindRules, Path: "rules.json", Content: `{"tables":[]}`}}
	r2, err := s.PolicyPut(ctx, "bob", store.DefaultCluster, v2, "second")
	require.NoError(t, err)
	require.Less(t, r1, rOther)
	require.Less(t, rOther, r2)

	sorted := func(docs []store.PolicyDocument) []store.PolicyDocument {
		return []store.PolicyDocument{docs[1], docs[0]} // by path
	}
	tests := []struct {
		name    string
		cluster string
		at      int64
		wantRev int64
		want    []store.PolicyDocument
	}{
		{"latest", store.DefaultCluster, 0, r2, v2},
		{"at the first", store.DefaultCluster, r1, r1, sorted(v1)},
		{"between revisions", store.DefaultCluster, rOther, r1, sorted(v1)},
		{"at the second", store.DefaultCluster, r2, r2, v2},
		{"after the last", store.DefaultCluster, r2 + 10, r2, v2},
		{"other cluster", "prod", 0, rOther, []store.PolicyDocument{{Kind: store.KindData, Path: "data.json", Content: `{}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := s.PolicyGet(ctx, tt.cluster, tt.at)
			require.NoError(t, err)
			require.Equal(t, tt.wantRev, set.Revision)
			require.Empty(t, cmp.Diff(tt.want, set.Documents))
		})
	}
	_, err = s.PolicyGet(ctx, "prod", r1) // before prod had a policy
	require.ErrorIs(t, err, store.ErrNotFound)

	r3, err := s.PolicyRollback(ctx, "carol", store.DefaultCluster, r1)
	require.NoError(t, err)
	require.Greater(t, r3, r2)
	set, err := s.PolicyGet(ctx, store.DefaultCluster, 0)
	require.NoError(t, err)
	require.Empty(t, cmp.Diff(sorted(v1), set.Documents))
	require.Equal(t, r1, set.RestoredFrom)
	// History is never rewritten: r2 is still there.
	set, err = s.PolicyGet(ctx, store.DefaultCluster, r2)
	require.NoError(t, err)
	require.Empty(t, cmp.Diff(v2, set.Documents))

	revs, err := s.PolicyRevisions(ctx, store.DefaultCluster, 10, 0)
	require.NoError(t, err)
	want := []store.PolicyRevision{
		{Cluster: "default", Revision: r3, Actor: "carol", Message: "roll back to revision 1", RestoredFrom: r1},
		{Cluster: "default", Revision: r2, Actor: "bob", Message: "second"},
		{Cluster: "default", Revision: r1, Actor: "alice", Message: "first"},
	}
	require.Empty(t, cmp.Diff(want, revs, ignorePolicyTimes))
	page, err := s.PolicyRevisions(ctx, store.DefaultCluster, 1, r3)
	require.NoError(t, err)
	require.Empty(t, cmp.Diff(want[1:2], page, ignorePolicyTimes))

	clusters, err := s.PolicyClusterList(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"default", "prod"}, clusters)

	// The change log has before and after of each put.
	changes, _, err := s.Changes(ctx, store.ChangeFilter{ObjectType: store.ObjectPolicy, ObjectID: store.DefaultCluster}, 0, 10)
	require.NoError(t, err)
	require.Len(t, changes, 3)
	require.Equal(t, "rollback", changes[0].Action)
	require.Equal(t, "carol", changes[0].Actor)
	var before, after store.PolicySet
	require.NoError(t, json.Unmarshal(changes[0].Before, &before))
	require.NoError(t, json.Unmarshal(changes[0].After, &after))
	require.Equal(t, r2, before.Revision)
	require.Empty(t, cmp.Diff(v2, before.Documents))
	require.Empty(t, cmp.Diff(sorted(v1), after.Documents))
	require.Nil(t, changes[2].Before, "the first put has no before")
}

func TestPolicyErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	rules := store.PolicyDocument{Kind: store.KindRules, Path: "rules.json", Content: "{}"}
	tests := []struct {
		name    string
		cluster string
		docs    []store.PolicyDocument
		want    error
	}{
		{"empty cluster", "", []store.PolicyDocument{rules}, store.ErrInvalid},
		{"unknown kind", "default", []store.PolicyDocument{{Kind: "yaml", Path: "x"}}, store.ErrInvalid},
		{"empty path", "default", []store.PolicyDocument{{Kind: store.KindRego}}, store.ErrInvalid},
		{"repeated path", "default", []store.PolicyDocument{rules, rules}, store.ErrInvalid},
		{"empty set", "default", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.PolicyPut(ctx, "admin", tt.cluster, tt.docs, "")
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
	_, err := s.PolicyRollback(ctx, "admin", "nocluster", 1)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.PolicyRollback(ctx, "admin", "default", 0)
	require.ErrorIs(t, err, store.ErrInvalid)
}
