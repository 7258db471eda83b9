package adminapi_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/server"
	"github.com/trino-warden/warden/server/adminapi"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/server/auth/oidctest"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
	"github.com/trino-warden/warden/views"
	"github.com/trino-warden/warden/views/trinotest"
)

// governedBundle is an admin API with a real Trino (memory and tpch
// catalogs, allow-all), a real PostgreSQL and in-process OpenFGA.
type governedBundle struct {
	*testBundle
	trino  *trinotest.Trino
	client *views.Client
	owner  string // olga, a data owner
}

func setupGoverned(t *testing.T) *governedBundle {
	t.Helper()
	tr := trinotest.Start(t, trinotest.Options{AccessControl: trinotest.AccessAllowAll})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	iss := oidctest.New(t)
	au, err := auth.New(auth.Config{Issuer: iss.URL, Audience: "warden", NameClaim: "preferred_username",
		AdminValues: []string{"warden-admins"}, OwnerValues: []string{"owners"}, ReaderValues: []string{"auditors"}})
	require.NoError(t, err)
	st, err := store.Open(ctx, pgtest.NewDatabase(t), store.Options{})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	src, err := grants.New(ctx, grants.Options{ChangesInterval: -1})
	require.NoError(t, err)
	t.Cleanup(src.Close)

	// The directory the render endpoint enriches users from.
	_, err = st.UserCreate(ctx, "test", store.User{UserName: "alice", Active: true, Attributes: map[string]any{"region": "EU"}})
	require.NoError(t, err)
	_, err = st.GroupCreate(ctx, "test", store.Group{Name: "analysts"})
	require.NoError(t, err)
	require.NoError(t, st.GroupMemberAdd(ctx, "test", "analysts", "alice"))
	s := server.New(server.Options{MaxBodyBytes: 1 << 20, Store: st, Auth: au, Grants: src}, slog.New(slog.DiscardHandler))
	require.NoError(t, s.LoadPolicy())
	// Follow the store as a replica does: checks wait for the revision of
	// the registration they check against.
	go func() { _ = st.Listen(ctx, func(int64) { _ = s.LoadPolicy() }) }()

	client, err := views.NewClient(views.ClientOptions{URL: tr.URL(), User: "warden"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	adminapi.New(adminapi.Options{Store: st, Auth: au, Grants: src, Engine: s.Engine(), Trino: client,
		Views: views.Options{Catalog: "governed", ServiceUser: "warden"}}).Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	b := &governedBundle{testBundle: &testBundle{st: st, iss: iss, admin: srv, tokens: map[string]string{}}, trino: tr, client: client}
	for role, group := range map[string]string{"admin": "warden-admins", "reader": "auditors"} {
		b.tokens[role] = iss.Token(t, oidctest.Claims{Subject: "sub-" + role, Audience: "warden",
			Extra: map[string]any{"groups": []string{group}, "preferred_username": role + "-user"}})
	}
	b.owner = iss.Token(t, oidctest.Claims{Subject: "o1", Audience: "warden",
		Extra: map[string]any{"groups": []string{"owners"}, "preferred_username": "olga"}})
	tr.Exec(t, "admin",
		"CREATE SCHEMA memory.sales",
		"CREATE SCHEMA memory.hr",
		`CREATE TABLE memory.sales.customers (id bigint, name varchar(25), email varchar(64), phone varchar(15),
			acctbal decimal(12,2), birth_date date, region varchar(8))`,
		`INSERT INTO memory.sales.customers VALUES
			(1, 'Ada', 'ada.lovelace@example.com', '+44 20 79460000', 1234.56, DATE '1815-12-10', 'EU'),
			(2, 'Grace', 'grace@example.com', '+1 202 555 0100', 99.99, DATE '1906-12-09', 'US')`,
		"CREATE TABLE memory.sales.orders (id bigint, total decimal(12,2))",
		"CREATE TABLE memory.hr.salaries (id bigint, salary decimal(12,2))")
	return b
}

func (b *governedBundle) revision(t *testing.T) int64 {
	t.Helper()
	rev, err := b.st.CurrentRevision(context.Background())
	require.NoError(t, err)
	return rev
}

// rejectCase is a request that must be refused without writing anything.
type rejectCase struct {
	name, method, path, token, body string
	status                          int
	field                           string // a key of fields, when set
	contains                        string // in the message or that field's message
}

func (b *governedBundle) rejectAll(t *testing.T, cases []rejectCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := b.revision(t)
			r := b.do(t, tc.method, tc.path, tc.token, tc.body)
			require.Equal(t, tc.status, r.status, r.raw)
			msg, _ := r.body["message"].(string)
			if tc.field != "" {
				fields, _ := r.body["fields"].(map[string]any)
				require.Contains(t, fields, tc.field, r.raw)
				msg, _ = fields[tc.field].(string)
			}
			require.Contains(t, msg, tc.contains, r.raw)
			require.Equal(t, before, b.revision(t), "nothing is written on a rejection")
		})
	}
}

func id(r resp) string { return strconv.FormatInt(int64(r.body["id"].(float64)), 10) }

func column(t *testing.T, ds map[string]any, name string) map[string]any {
	t.Helper()
	for _, c := range ds["columns"].([]any) {
		if col := c.(map[string]any); col["name"] == name {
			return col
		}
	}
	t.Fatalf("no column %s in %v", name, ds["columns"])
	return nil
}

// TestGovernedCatalog drives the governed catalog's API end to end against
// a real Trino and PostgreSQL: registration, changes, refresh, masks, row
// policies, subscriptions, data-owner scoping and the effective SQL.
func TestGovernedCatalog(t *testing.T) {
	t.Parallel()
	b := setupGoverned(t)
	admin, reader := b.tokens["admin"], b.tokens["reader"]

	// Registration reads exact types from Trino and suggests tags.
	r := b.do(t, "POST", "/api/v1/datasources", admin, `{"source":"memory.sales.customers","description":"CRM customers"}`)
	require.Equal(t, 201, r.status, r.raw)
	dsID := id(r)
	require.Equal(t, "sales", r.body["view_schema"])
	require.Equal(t, "customers", r.body["view_table"])
	for _, want := range []struct{ name, typ, tag string }{
		{"id", "bigint", ""}, {"name", "varchar(25)", "pii.name"}, {"email", "varchar(64)", "pii.email"},
		{"phone", "varchar(15)", "pii.phone"}, {"acctbal", "decimal(12,2)", "finance.amount"}, {"birth_date", "date", "pii.dob"},
		{"region", "varchar(8)", ""},
	} {
		col := column(t, r.body, want.name)
		require.Equal(t, want.typ, col["type"], want.name)
		require.Equal(t, true, col["exposed"], want.name)
		if want.tag == "" {
			require.Empty(t, col["tags"], want.name)
		} else {
			require.Equal(t, []any{want.tag}, col["tags"], want.name)
		}
	}
	r = b.do(t, "GET", "/api/v1/datasources/"+dsID, reader, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, "CRM customers", r.body["description"])

	b.rejectAll(t, []rejectCase{
		{"no source", "POST", "/api/v1/datasources", admin, `{}`, 400, "source", "is required"},
		{"two-part source", "POST", "/api/v1/datasources", admin, `{"source":"sales.customers"}`, 400, "source", "sales.customers"},
		{"bad view name", "POST", "/api/v1/datasources", admin, `{"source":"memory.sales.orders","view_table":"Bad Name"}`, 400, "view_table", "must match"},
		{"governed source", "POST", "/api/v1/datasources", admin, `{"source":"governed.sales.customers"}`, 400, "source", "governed catalog"},
		{"no such table", "POST", "/api/v1/datasources", admin, `{"source":"memory.sales.nope"}`, 400, "source", "Trino has no table"},
		{"unknown field", "POST", "/api/v1/datasources", admin, `{"source":"memory.sales.orders","viewtable":"x"}`, 400, "", "unknown field"},
		{"registered already", "POST", "/api/v1/datasources", admin, `{"source":"memory.sales.customers","view_table":"c2"}`, 409, "", "registered already"},
		{"view name taken", "POST", "/api/v1/datasources", admin, `{"source":"memory.sales.orders","view_table":"customers"}`, 409, "", "registered already"},
		{"readers cannot register", "POST", "/api/v1/datasources", reader, `{"source":"memory.sales.orders"}`, 403, "", "owner"},
		{"patch unknown column", "PATCH", "/api/v1/datasources/" + dsID, admin, `{"columns":[{"name":"nope","exposed":false}]}`, 400, "columns[0].name", "no column"},
		{"patch bad tag", "PATCH", "/api/v1/datasources/" + dsID, admin, `{"columns":[{"name":"email","tags":["PII Email"]}]}`, 400, "columns[0].tags[0]", "must match"},
		{"patch hides every column", "PATCH", "/api/v1/datasources/" + dsID, admin,
			`{"columns":[{"name":"id","exposed":false},{"name":"name","exposed":false},{"name":"email","exposed":false},{"name":"phone","exposed":false},{"name":"acctbal","exposed":false},{"name":"birth_date","exposed":false},{"name":"region","exposed":false}]}`,
			400, "columns", "at least one"},
		{"patch missing data source", "PATCH", "/api/v1/datasources/9999", admin, `{}`, 404, "", "9999"},
		{"bad id", "GET", "/api/v1/datasources/x", reader, "", 400, "", "positive integer"},
	})

	// Changing tags and exposure.
	r = b.do(t, "PATCH", "/api/v1/datasources/"+dsID, admin, `{"columns":[{"name":"phone","exposed":false},{"name":"region","tags":["geo.region"]}],"description":"CRM"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, false, column(t, r.body, "phone")["exposed"])
	require.Equal(t, []any{"geo.region"}, column(t, r.body, "region")["tags"])

	// Refresh after the source gains a column: kept settings, the new
	// column tagged but not exposed.
	b.trino.Exec(t, "admin", "ALTER TABLE memory.sales.customers ADD COLUMN ssn varchar(11)")
	r = b.do(t, "POST", "/api/v1/datasources/"+dsID+"/refresh", admin, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, []any{"ssn"}, r.body["added"])
	require.Equal(t, true, r.body["changed"])
	ds := r.body["datasource"].(map[string]any)
	require.Equal(t, false, column(t, ds, "ssn")["exposed"])
	require.Equal(t, []any{"pii.ssn"}, column(t, ds, "ssn")["tags"])
	require.Equal(t, false, column(t, ds, "phone")["exposed"], "kept")
	before := b.revision(t)
	r = b.do(t, "POST", "/api/v1/datasources/"+dsID+"/refresh", admin, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, false, r.body["changed"])
	require.Equal(t, before, b.revision(t), "an unchanged source writes nothing")

	// Masks: checked by sqlgen for each column's exact type, then by Trino.
	r = b.do(t, "POST", "/api/v1/mask-policies", admin, `{"name":"email-mask","datasource_id":`+dsID+`,"tag":"pii.email","mask":{"kind":"email"},"exempt_groups":["auditors"]}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, []any{"memory.sales.customers.email"}, r.body["checked_columns"])
	emailMask := strconv.FormatInt(int64(r.body["policy"].(map[string]any)["id"].(float64)), 10)
	r = b.do(t, "POST", "/api/v1/mask-policies", admin, `{"name":"round-balance","datasource_id":`+dsID+`,"column":"acctbal","mask":{"kind":"round","digits":-2}}`)
	require.Equal(t, 201, r.status, r.raw)
	r = b.do(t, "POST", "/api/v1/mask-policies", admin, `{"name":"dob-everywhere","tag":"pii.dob","mask":{"kind":"year"}}`)
	require.Equal(t, 201, r.status, "a tag policy on every data source: %s", r.raw)
	b.rejectAll(t, []rejectCase{
		{"incompatible type", "POST", "/api/v1/mask-policies", admin, `{"name":"x","datasource_id":` + dsID + `,"column":"email","mask":{"kind":"round","digits":-2}}`, 400, "mask", "column email is varchar(64)"},
		{"incompatible by tag", "POST", "/api/v1/mask-policies", admin, `{"name":"x","tag":"finance.amount","mask":{"kind":"last4"}}`, 400, "mask", "column acctbal is decimal(12,2)"},
		{"regex Trino rejects", "POST", "/api/v1/mask-policies", admin, `{"name":"x","datasource_id":` + dsID + `,"column":"name","mask":{"kind":"regex","pattern":"\\p{IsLatin}","replacement":"*"}}`, 400, "mask", "invalid character property name"},
		{"regex Java rejects", "POST", "/api/v1/mask-policies", admin, `{"name":"x","datasource_id":` + dsID + `,"column":"name","mask":{"kind":"regex","pattern":"(","replacement":"*"}}`, 400, "mask", "regular expression"},
		{"custom reading a hidden column", "POST", "/api/v1/mask-policies", admin, `{"name":"x","datasource_id":` + dsID + `,"column":"name","mask":{"kind":"custom","expression":"IF(phone IS NULL, {{column}}, NULL)"}}`, 400, "mask", "phone"},
		{"unknown kind", "POST", "/api/v1/mask-policies", admin, `{"name":"x","tag":"pii.email","mask":{"kind":"fly"}}`, 400, "mask", "unknown kind"},
		{"no mask", "POST", "/api/v1/mask-policies", admin, `{"name":"x","tag":"pii.email"}`, 400, "mask", "is required"},
		{"tag and column", "POST", "/api/v1/mask-policies", admin, `{"name":"x","datasource_id":` + dsID + `,"tag":"pii.email","column":"email","mask":{"kind":"null"}}`, 400, "tag", "exactly one"},
		{"column without data source", "POST", "/api/v1/mask-policies", admin, `{"name":"x","column":"email","mask":{"kind":"null"}}`, 400, "datasource_id", "needs its data source"},
		{"bad name", "POST", "/api/v1/mask-policies", admin, `{"name":"a b","tag":"pii.email","mask":{"kind":"null"}}`, 400, "name", "must match"},
		{"unexposed column", "POST", "/api/v1/mask-policies", admin, `{"name":"x","datasource_id":` + dsID + `,"column":"phone","mask":{"kind":"null"}}`, 400, "column", "exposes no column"},
		{"empty exemption", "POST", "/api/v1/mask-policies", admin, `{"name":"x","tag":"pii.email","mask":{"kind":"null"},"exempt_users":[""]}`, 400, "exempt_users[0]", "empty"},
		{"taken name", "POST", "/api/v1/mask-policies", admin, `{"name":"email-mask","tag":"pii.email","mask":{"kind":"null"}}`, 409, "", "exists"},
	})

	// Row policies: compiled against the exposed columns, checked by Trino
	// with attributes of every shape.
	r = b.do(t, "POST", "/api/v1/row-policies", admin, `{"name":"by-region","datasource_id":`+dsID+`,"policy":{"unfiltered_groups":["auditors"],"rules":[{"predicate":"region = {{user.region}}"},{"groups":["finance"],"predicate":"acctbal > {{user.min_balance}}"},{"groups":["ops"],"predicate":"contains({{user.regions}}, region)"}]}}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, []any{"acctbal", "region"}, r.body["columns"])
	rowPolicy := strconv.FormatInt(int64(r.body["policy"].(map[string]any)["id"].(float64)), 10)
	b.rejectAll(t, []rejectCase{
		{"row policy on a hidden column", "POST", "/api/v1/row-policies", admin, `{"name":"x","datasource_id":` + dsID + `,"policy":{"rules":[{"predicate":"phone LIKE '+44%'"}]}}`, 400, "policy", "phone"},
		{"subquery", "POST", "/api/v1/row-policies", admin, `{"name":"x","datasource_id":` + dsID + `,"policy":{"rules":[{"predicate":"id IN (SELECT 1)"}]}}`, 400, "policy", "SELECT"},
		{"Trino type error", "POST", "/api/v1/row-policies", admin, `{"name":"x","datasource_id":` + dsID + `,"policy":{"rules":[{"predicate":"name = 1"}]}}`, 400, "policy.rules[0]", "Cannot apply operator"},
		{"no rules", "POST", "/api/v1/row-policies", admin, `{"name":"x","datasource_id":` + dsID + `,"policy":{}}`, 400, "policy", "needs rules"},
		{"unknown data source", "POST", "/api/v1/row-policies", admin, `{"name":"x","datasource_id":9999,"policy":{"rules":[{"predicate":"true"}]}}`, 400, "datasource_id", "9999"},
		{"unknown policy field", "POST", "/api/v1/row-policies", admin, `{"name":"x","datasource_id":` + dsID + `,"policy":{"rule":[]}}`, 400, "policy", "unknown field"},
		{"patch breaks a row policy", "PATCH", "/api/v1/datasources/" + dsID, admin, `{"columns":[{"name":"region","exposed":false}]}`, 400, "row_policies.by-region", "region"},
		{"patch breaks a mask", "PATCH", "/api/v1/datasources/" + dsID, admin, `{"columns":[{"name":"id","tags":["pii.email"]}]}`, 400, "mask_policies.email-mask", "column id is bigint"},
	})

	// Subscriptions.
	r = b.do(t, "POST", "/api/v1/subscriptions", admin, `{"datasource_id":`+dsID+`,"groups":["analysts"]}`)
	require.Equal(t, 201, r.status, r.raw)
	r = b.do(t, "POST", "/api/v1/subscriptions", admin, `{"datasource_id":`+dsID+`,"users":["zed"]}`)
	require.Equal(t, 201, r.status, r.raw)
	zed := id(r)
	b.rejectAll(t, []rejectCase{
		{"nobody", "POST", "/api/v1/subscriptions", admin, `{"datasource_id":` + dsID + `}`, 400, "users", "name users"},
		{"subscription to an unknown data source", "POST", "/api/v1/subscriptions", admin, `{"datasource_id":9999,"users":["a"]}`, 400, "datasource_id", "9999"},
		{"empty attribute values", "POST", "/api/v1/subscriptions", admin, `{"datasource_id":` + dsID + `,"attributes":{"dept":[]}}`, 400, "attributes.dept", "at least one"},
	})
	r = b.do(t, "DELETE", "/api/v1/subscriptions/"+zed, admin, "")
	require.Equal(t, 204, r.status, r.raw)
	r = b.do(t, "GET", "/api/v1/subscriptions?datasource_id="+dsID, reader, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Len(t, r.body["subscriptions"], 1)

	// What alice (analysts, region EU in the directory) runs, and that it
	// runs on Trino with her masks and rows.
	r = b.do(t, "GET", "/api/v1/views/"+dsID+"/sql?user=alice", reader, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, true, r.body["subscribed"], r.raw)
	sql := r.body["sql"].(string)
	require.Contains(t, sql, "'EU'")
	require.NotContains(t, sql, "phone", "hidden columns are not selected")
	rows, err := b.client.Query(context.Background(), sql)
	require.NoError(t, err, sql)
	require.Len(t, rows, 1, "alice sees EU rows only")
	require.Contains(t, rows[0], "a***@example.com")
	require.Contains(t, rows[0], "1200.00", "the balance is rounded to hundreds")
	r = b.do(t, "GET", "/api/v1/views/"+dsID+"/sql?user=carol&groups=analysts,auditors", reader, "")
	require.Equal(t, 200, r.status, r.raw)
	require.NotContains(t, r.body["sql"], "WHERE", "auditors are unfiltered")
	require.Contains(t, r.body["sql"], `"email"`)
	require.NotContains(t, r.body["sql"], "strpos", "auditors are exempt from the email mask")
	r = b.do(t, "GET", "/api/v1/views/"+dsID+"/sql?user=bob", reader, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, false, r.body["subscribed"])
	r = b.do(t, "GET", "/api/v1/views/9999/sql?user=bob", reader, "")
	require.Equal(t, 404, r.status, r.raw)
	r = b.do(t, "GET", "/api/v1/views/"+dsID+"/sql", reader, "")
	require.Equal(t, 400, r.status, r.raw)

	// Data owners manage only what they administer in the grants model.
	b.rejectAll(t, []rejectCase{
		{"owner without grant_admin", "POST", "/api/v1/datasources", b.owner, `{"source":"memory.sales.orders"}`, 403, "", "grant_admin"},
		{"owner deleting a policy outside their scope", "DELETE", "/api/v1/mask-policies/" + emailMask, b.owner, "", 403, "", "grant_admin"},
	})
	r = b.do(t, "POST", "/api/v1/grants", admin, `{"principal":"user:olga","privilege":"grant_admin","object":"schema:memory.sales"}`)
	require.Equal(t, 200, r.status, r.raw)
	r = b.do(t, "POST", "/api/v1/datasources", b.owner, `{"source":"memory.sales.orders"}`)
	require.Equal(t, 201, r.status, r.raw)
	ordersID := id(r)
	r = b.do(t, "POST", "/api/v1/mask-policies", b.owner, `{"name":"orders-total","datasource_id":`+ordersID+`,"tag":"finance.amount","mask":{"kind":"null"}}`)
	require.Equal(t, 201, r.status, r.raw)
	b.rejectAll(t, []rejectCase{
		{"owner outside their schema", "POST", "/api/v1/datasources", b.owner, `{"source":"memory.hr.salaries"}`, 403, "", "grant_admin on table:memory.hr.salaries"},
		{"owner and a tag policy everywhere", "POST", "/api/v1/mask-policies", b.owner, `{"name":"y","tag":"finance.amount","mask":{"kind":"null"}}`, 403, "", "admin role"},
	})
	r = b.do(t, "POST", "/api/v1/datasources", admin, `{"source":"memory.hr.salaries"}`)
	require.Equal(t, 201, r.status, r.raw)
	hrID := id(r)
	b.rejectAll(t, []rejectCase{
		{"owner patching another schema", "PATCH", "/api/v1/datasources/" + hrID, b.owner, `{"description":"mine"}`, 403, "", "grant_admin"},
		{"owner deleting another schema", "DELETE", "/api/v1/datasources/" + hrID, b.owner, "", 403, "", "grant_admin"},
		{"owner subscribing to another schema", "POST", "/api/v1/subscriptions", b.owner, `{"datasource_id":` + hrID + `,"users":["olga"]}`, 403, "", "grant_admin"},
	})

	// Every change is in the change log with its actor.
	r = b.do(t, "GET", "/api/v1/changes?object_type=datasource", reader, "")
	require.Equal(t, 200, r.status, r.raw)
	changes := r.body["changes"].([]any)
	require.Len(t, changes, 5, "three registrations, a patch and a refresh")
	actors := map[string]bool{}
	for _, c := range changes {
		actors[c.(map[string]any)["actor"].(string)] = true
	}
	require.Equal(t, map[string]bool{"admin-user (sub-admin)": true, "olga (o1)": true}, actors)

	// Deletes.
	for _, path := range []string{"/api/v1/row-policies/" + rowPolicy, "/api/v1/mask-policies/" + emailMask, "/api/v1/datasources/" + hrID} {
		r = b.do(t, "DELETE", path, admin, "")
		require.Equal(t, 204, r.status, "%s: %s", path, r.raw)
		r = b.do(t, "GET", path, reader, "")
		require.Equal(t, 404, r.status, "%s: %s", path, r.raw)
	}
	r = b.do(t, "GET", "/api/v1/mask-policies", reader, "")
	require.Equal(t, 200, r.status, r.raw)
	names := []string{}
	for _, p := range r.body["mask_policies"].([]any) {
		names = append(names, p.(map[string]any)["name"].(string))
	}
	require.Equal(t, "round-balance dob-everywhere orders-total", strings.Join(names, " "))
}

// TestGovernedWithoutTrino: without a Trino client the writes that need it
// answer 503 and say which setting turns them on.
func TestGovernedWithoutTrino(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/v1/datasources", `{"source":"memory.s.t"}`},
		{"POST", "/api/v1/mask-policies", `{"name":"m","tag":"pii.email","mask":{"kind":"null"}}`},
		{"POST", "/api/v1/row-policies", `{"name":"r","datasource_id":1,"policy":{"rules":[{"predicate":"true"}]}}`},
		{"POST", "/api/v1/datasources/1/refresh", ``},
	} {
		r := b.do(t, tc.method, tc.path, b.tokens["admin"], tc.body)
		require.Equal(t, 503, r.status, "%s %s: %s", tc.method, tc.path, r.raw)
		require.Contains(t, r.body["message"], "views.trino_url")
	}
	r := b.do(t, "GET", "/api/v1/datasources", b.tokens["reader"], "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, []any{}, r.body["datasources"])
}
