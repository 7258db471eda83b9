package views_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/views"
	"github.com/trino-warden/warden/views/sqlgen"
)

const svc = "warden"

func governed() store.Governed {
	cols := []store.DatasourceColumn{
		{Name: "id", Type: "bigint", Exposed: true},
		{Name: "email", Type: "varchar(64)", Tags: []string{"pii.email"}, Exposed: true},
		{Name: "ssn", Type: "varchar(11)", Tags: []string{"pii.ssn"}, Exposed: false},
		{Name: "region", Type: "varchar(8)", Exposed: true},
		{Name: "salary", Type: "decimal(12,2)", Tags: []string{"finance.amount"}, Exposed: true},
	}
	return store.Governed{
		Datasources: []store.Datasource{{ID: 1, SourceCatalog: "memory", SourceSchema: "hr", SourceTable: "people",
			ViewSchema: "hr", ViewTable: "people", Columns: cols}},
		MaskPolicies: []store.MaskPolicy{
			{ID: 1, Name: "emails", Tag: "pii.email", Mask: json.RawMessage(`{"kind":"email"}`), ExemptGroups: []string{"hr-admins"}},
			{ID: 2, Name: "salaries", DatasourceID: 1, Column: "salary", Mask: json.RawMessage(`{"kind":"round","digits":-3}`),
				ExemptAttributes: map[string][]string{"level": {"director"}}},
			{ID: 3, Name: "salaries-null", DatasourceID: 1, Column: "salary", Mask: json.RawMessage(`{"kind":"null"}`),
				Priority: 10, ExemptGroups: []string{"finance", "hr-admins"}},
		},
		RowPolicies: []store.RowPolicy{{ID: 1, Name: "by-region", DatasourceID: 1,
			Policy: json.RawMessage(`{"unfiltered_groups":["hr-admins"],"rules":[{"predicate":"region = {{user.region}}"}]}`)}},
		Subscriptions: []store.Subscription{{ID: 1, DatasourceID: 1, Groups: []string{"analysts", "finance", "hr-admins"}}},
	}
}

func source(t *testing.T) *views.Source { return sourceB(t) }

func sourceB(t testing.TB) *views.Source {
	t.Helper()
	c, err := views.Compile(governed(), views.Options{Catalog: "governed", ServiceUser: svc})
	require.NoError(t, err)
	s := views.NewSource(views.Options{Catalog: "governed", ServiceUser: svc})
	s.Set(c)
	return s
}

func req(op trino.Operation, user string, groups []string, attrs map[string]any, res *trino.Resource) *policy.Request {
	return &policy.Request{Request: &trino.Request{Op: op, Input: trino.Input{Action: trino.Action{Operation: op.String(), Resource: res}}},
		Endpoint: trino.EndpointAllow, Cluster: policy.DefaultCluster,
		Subject: policy.Subject{User: user, Groups: groups, Attributes: attrs}}
}

func table(catalog, schema, name string) *trino.Resource {
	return &trino.Resource{Table: &trino.Table{CatalogName: catalog, SchemaName: schema, TableName: name}}
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	s := source(t)
	view := table("governed", "hr", "people")
	tests := []struct {
		name   string
		op     trino.Operation
		user   string
		groups []string
		res    *trino.Resource
		want   policy.Effect
	}{
		{"subscriber selects", trino.OpSelectFromColumns, "ann", []string{"analysts"}, view, policy.Allow},
		{"non-subscriber is vetoed", trino.OpSelectFromColumns, "bob", []string{"staff"}, view, policy.Deny},
		{"view names are case-insensitive", trino.OpSelectFromColumns, "ann", []string{"analysts"}, table("GOVERNED", "HR", "People"), policy.Allow},
		{"an unknown view is vetoed", trino.OpSelectFromColumns, "ann", []string{"analysts"}, table("governed", "hr", "other"), policy.Deny},
		{"subscribers cannot write", trino.OpInsertIntoTable, "ann", []string{"analysts"}, view, policy.Deny},
		{"nobody but the service principal creates views", trino.OpCreateView, "admin", []string{"admins"}, table("governed", "hr", "x"), policy.Deny},
		{"nobody but the service principal drops views", trino.OpDropView, "ann", []string{"analysts"}, view, policy.Deny},
		{"the service principal creates views", trino.OpCreateView, svc, nil, view, policy.Allow},
		{"the service principal never hands ownership away", trino.OpSetViewAuthorization, svc, nil, view, policy.Deny},
		{"the service principal reads the source", trino.OpSelectFromColumns, svc, nil, table("memory", "hr", "people"), policy.Allow},
		{"with grant option", trino.OpCreateViewWithSelectFromColumns, svc, nil, table("memory", "hr", "people"), policy.Allow},
		{"but not other tables", trino.OpSelectFromColumns, svc, nil, table("memory", "hr", "other"), policy.Abstain},
		{"metadata of any table, to register it", trino.OpShowColumns, svc, nil, table("memory", "hr", "other"), policy.Allow},
		{"others on the source: not this source's business", trino.OpSelectFromColumns, "ann", []string{"analysts"}, table("memory", "hr", "people"), policy.Abstain},
		{"subscriber reaches the catalog", trino.OpAccessCatalog, "ann", []string{"analysts"}, &trino.Resource{Catalog: &trino.Catalog{Name: "governed"}}, policy.Allow},
		{"non-subscriber does not", trino.OpAccessCatalog, "bob", nil, &trino.Resource{Catalog: &trino.Catalog{Name: "governed"}}, policy.Deny},
		{"non-subscriber cannot create schemas", trino.OpCreateSchema, "bob", nil, &trino.Resource{Schema: &trino.Schema{CatalogName: "governed", SchemaName: "x"}}, policy.Deny},
		{"subscriber reads information_schema", trino.OpSelectFromColumns, "ann", []string{"analysts"}, table("governed", "information_schema", "tables"), policy.Allow},
		{"non-subscriber does not", trino.OpSelectFromColumns, "bob", nil, table("governed", "information_schema", "tables"), policy.Deny},
		{"subscriber lists the schema", trino.OpShowTables, "ann", []string{"analysts"}, &trino.Resource{Schema: &trino.Schema{CatalogName: "governed", SchemaName: "hr"}}, policy.Allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := s.Authorize(context.Background(), req(tt.op, tt.user, tt.groups, nil, tt.res))
			require.NoError(t, err)
			require.Equal(t, tt.want, v.Effect)
		})
	}
}

func TestFilterColumnsAndTables(t *testing.T) {
	t.Parallel()
	s := source(t)
	r := req(trino.OpFilterColumns, "ann", []string{"analysts"}, nil, nil)
	r.Action.FilterResources = []trino.Resource{{Table: &trino.Table{CatalogName: "governed", SchemaName: "hr", TableName: "people",
		Columns: []string{"id", "email", "ssn"}}}}
	out := policy.BatchVerdict{Allow: make([]bool, 3), Deny: make([]bool, 3)}
	require.NoError(t, s.Filter(context.Background(), r, &out))
	require.Equal(t, []bool{true, true, false}, out.Allow)
	require.Equal(t, []bool{false, false, true}, out.Deny, "a column the view does not expose")

	r = req(trino.OpFilterTables, "bob", nil, nil, nil)
	r.Action.FilterResources = []trino.Resource{*table("governed", "hr", "people"), *table("memory", "hr", "people")}
	out = policy.BatchVerdict{Allow: make([]bool, 2), Deny: make([]bool, 2)}
	require.NoError(t, s.Filter(context.Background(), r, &out))
	require.Equal(t, []bool{false, false}, out.Allow)
	require.Equal(t, []bool{true, false}, out.Deny)
}

func TestMasksAndRowFilters(t *testing.T) {
	t.Parallel()
	s := source(t)
	cols := func() []*trino.Column {
		var out []*trino.Column
		for _, n := range []string{"id", "email", "region", "salary"} {
			out = append(out, &trino.Column{CatalogName: "governed", SchemaName: "hr", TableName: "people", ColumnName: n})
		}
		return out
	}
	masksFor := func(user string, groups []string, attrs map[string]any) []string {
		out := make([]policy.Mask, 4)
		require.NoError(t, s.ColumnMasks(context.Background(), req(trino.OpGetColumnMask, user, groups, attrs, nil), cols(), out))
		got := make([]string, 4)
		for i, m := range out {
			if m.Set {
				got[i] = m.Expression
			}
		}
		return got
	}
	ann := masksFor("ann", []string{"analysts"}, map[string]any{"region": "emea"})
	require.Empty(t, ann[0])
	require.Contains(t, ann[1], `strpos("email", '@')`, "the email mask")
	require.Empty(t, ann[2])
	require.True(t, strings.HasPrefix(ann[3], "CAST(NULL"), "the higher priority policy wins: %s", ann[3])

	fin := masksFor("fay", []string{"finance"}, nil)
	require.Contains(t, fin[3], "round", "finance is exempt from the null mask, not from rounding")
	dir := masksFor("dan", []string{"finance"}, map[string]any{"level": "director"})
	require.Empty(t, dir[3], "a director is exempt from rounding by attribute")
	adm := masksFor("hal", []string{"hr-admins"}, nil)
	require.Empty(t, adm[1])
	svcMasks := masksFor(svc, nil, nil)
	require.Equal(t, []string{"", "", "", ""}, svcMasks)

	filters := func(user string, groups []string, attrs map[string]any) []trino.ViewExpression {
		f, _, err := s.RowFilters(context.Background(), req(trino.OpGetRowFilters, user, groups, attrs, table("governed", "hr", "people")))
		require.NoError(t, err)
		for i := range f {
			f[i].Expression = strings.Join(strings.Fields(f[i].Expression), " ")
		}
		return f
	}
	require.Equal(t, []trino.ViewExpression{{Expression: "region = 'emea'"}}, filters("ann", []string{"analysts"}, map[string]any{"region": "emea"}))
	require.Equal(t, []trino.ViewExpression{{Expression: "region = 'o''brien'"}}, filters("ann", []string{"analysts"}, map[string]any{"region": "o'brien"}),
		"an attribute value is a quoted literal, never SQL")
	require.Equal(t, []trino.ViewExpression{{Expression: "false"}}, filters("ann", []string{"analysts"}, nil), "no region: no rows")
	require.Empty(t, filters("hal", []string{"hr-admins"}, nil))
	require.Equal(t, []trino.ViewExpression{{Expression: "false"}}, filters("bob", nil, nil), "not subscribed")
}

func TestEffectiveSQLAndViewSQL(t *testing.T) {
	t.Parallel()
	c, err := views.Compile(governed(), views.Options{Catalog: "governed", ServiceUser: svc})
	require.NoError(t, err)
	got, err := c.EffectiveSQL(1, policy.Subject{User: "ann", Groups: []string{"analysts"}, Attributes: map[string]any{"region": "emea"}})
	require.NoError(t, err)
	require.Contains(t, got, `FROM "memory"."hr"."people"`)
	require.Contains(t, strings.Join(strings.Fields(got), " "), `WHERE (region = 'emea' )`)
	require.Contains(t, got, `AS "email"`)
	require.NotContains(t, got, "ssn")
	_, err = c.EffectiveSQL(1, policy.Subject{User: "bob"})
	require.ErrorIs(t, err, views.ErrNotSubscribed)

	sql, err := views.ViewSQL("governed", governed().Datasources[0])
	require.NoError(t, err)
	require.Equal(t, `CREATE OR REPLACE VIEW "governed"."hr"."people" SECURITY DEFINER AS SELECT "id", "email", "region", "salary" FROM "memory"."hr"."people"`, sql)
}

func TestBrokenMaskFailsClosed(t *testing.T) {
	t.Parallel()
	g := governed()
	g.MaskPolicies = append(g.MaskPolicies, store.MaskPolicy{ID: 9, Name: "bad", DatasourceID: 1, Column: "id",
		Mask: json.RawMessage(`{"kind":"last4"}`)}) // last4 on a bigint
	c, err := views.Compile(g, views.Options{Catalog: "governed", ServiceUser: svc})
	require.NoError(t, err)
	s := views.NewSource(views.Options{Catalog: "governed", ServiceUser: svc})
	s.Set(c)
	out := make([]policy.Mask, 1)
	err = s.ColumnMasks(context.Background(), req(trino.OpGetColumnMask, "ann", []string{"analysts"}, nil, nil),
		[]*trino.Column{{CatalogName: "governed", SchemaName: "hr", TableName: "people", ColumnName: "id"}}, out)
	require.Error(t, err, "a mask that cannot apply fails the request, never leaves the column bare")
}

func TestInformationSchemaOfTheGovernedCatalog(t *testing.T) {
	t.Parallel()
	s := source(t)
	f, _, err := s.RowFilters(context.Background(), req(trino.OpGetRowFilters, "ann", []string{"analysts"}, nil,
		table("governed", "information_schema", "tables")))
	require.NoError(t, err)
	require.Empty(t, f, "information_schema is filtered by the filter operations, not by a row filter")
}

func TestKeyTableIsForTheKeyIdentityOnly(t *testing.T) {
	t.Parallel()
	opts := views.Options{Catalog: "governed", ServiceUser: svc, Keys: &sqlgen.KeyStore{
		Table: sqlgen.QualifiedName{Catalog: "warden", Schema: "keys", Name: "mask_keys"}, IDColumn: "key_id", KeyColumn: "key", Identity: "warden-keys"}}
	c, err := views.Compile(governed(), opts)
	require.NoError(t, err)
	s := views.NewSource(opts)
	s.Set(c)
	keys := table("warden", "keys", "mask_keys")
	for _, tc := range []struct {
		user string
		op   trino.Operation
		want policy.Effect
	}{
		{"warden-keys", trino.OpSelectFromColumns, policy.Allow},
		{"warden-keys", trino.OpInsertIntoTable, policy.Deny},
		{"admin", trino.OpSelectFromColumns, policy.Deny},
		{svc, trino.OpSelectFromColumns, policy.Deny},
		{"ann", trino.OpShowColumns, policy.Deny},
	} {
		v, err := s.Authorize(context.Background(), req(tc.op, tc.user, nil, nil, keys))
		require.NoError(t, err)
		require.Equal(t, tc.want, v.Effect, "%s %s", tc.user, tc.op)
	}
}
