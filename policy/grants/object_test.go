package grants_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy/grants"
)

func TestParseObject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, id, back string
		err          bool
	}{
		{in: "catalog:tpch", id: "catalog:tpch"},
		{in: "schema:tpch.sf1", id: "schema:tpch/sf1"},
		{in: "table:tpch.sf1.orders", id: "table:tpch/sf1/orders"},
		{in: `table:"my.cat".sf1."a""b"`, id: "table:my.cat/sf1/a%22b"},
		{in: `table:c.s."x/y:z#1 @%"`, id: "table:c/s/x%2Fy%3Az%231%20%40%25", back: `table:c.s.x/y:z#1 @%`},
		{in: "column:c.s.t.col", id: "column:c/s/t/col"},
		{in: "routine:c.s.f", id: "routine:c/s/f"},
		{in: "user:bob", id: "user:bob"},
		{in: "system:global", id: "system:global"},
		{in: "table:c.s", err: true},
		{in: "table:c..t", err: true},
		{in: `table:"c.s.t`, err: true},
		{in: "view:c.s.t", err: true},
		{in: "system:other", err: true},
		{in: "catalog:", err: true},
	} {
		o, err := grants.ParseObject(tc.in)
		if tc.err {
			require.ErrorIs(t, err, grants.ErrInvalid, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.id, o.ID())
		back := tc.back
		if back == "" {
			back = tc.in
		}
		require.Equal(t, back, o.String())
		o2, err := grants.ParseObjectID(o.ID())
		require.NoError(t, err)
		require.Equal(t, o, o2)
	}
}

func TestGrantValidation(t *testing.T) {
	t.Parallel()
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tp, err := grants.Grant{Principal: "group:analysts", Privilege: "select", Object: "table:tpch.sf1.orders", ExpiresAt: &exp}.Tuple()
	require.NoError(t, err)
	require.Equal(t, grants.Tuple{User: "group:analysts#member", Relation: "select", Object: "table:tpch/sf1/orders", ExpiresAt: exp}, tp)
	tp, err = grants.Grant{Principal: "role:etl", Privilege: "insert", Object: "schema:a.b", Deny: true}.Tuple()
	require.NoError(t, err)
	require.Equal(t, "role:etl#assignee", tp.User)
	require.Equal(t, "denied_insert", tp.Relation)
	g, err := tp.Grant()
	require.NoError(t, err)
	require.Equal(t, grants.Grant{Principal: "role:etl", Privilege: "insert", Object: "schema:a.b", Deny: true}, g)

	for _, bad := range []struct {
		g     grants.Grant
		field string
	}{
		{grants.Grant{Principal: "alice", Privilege: "select", Object: "table:a.b.c"}, "principal"},
		{grants.Grant{Principal: "user:a#b", Privilege: "select", Object: "table:a.b.c"}, "principal"},
		{grants.Grant{Principal: "user:a", Privilege: "use", Object: "table:a.b.c"}, "privilege"},
		{grants.Grant{Principal: "user:a", Privilege: "select", Object: "table:a.b"}, "object"},
		{grants.Grant{Principal: "user:a", Privilege: "member", Object: "group:g", Deny: true}, "deny"},
		{grants.Grant{Principal: "role:r", Privilege: "assignee", Object: "role:q"}, "principal"},
	} {
		_, err := bad.g.Tuple()
		require.ErrorIs(t, err, grants.ErrInvalid)
		var fe *grants.FieldError
		require.True(t, errors.As(err, &fe))
		require.Equal(t, bad.field, fe.Field, "%+v", bad.g)
	}
}
