package fbac_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/fbac"
	"github.com/trino-warden/warden/policy/trino"
)

// check is one decision against a rules file: the request's action JSON,
// the user and groups, and the expected answer as JSON.
type check struct {
	name     string
	user     string
	groups   []string
	endpoint string // "allow" when empty
	action   string
	want     string
}

func runChecks(t *testing.T, rules string, checks []check) {
	t.Helper()
	p, err := fbac.Parse([]byte(rules))
	require.NoError(t, err)
	snap, err := policy.NewSnapshot(1, "test", map[string]*policy.PolicySet{policy.DefaultCluster: policy.NewPolicySet(fbac.NewSource(p))})
	require.NoError(t, err)
	e := policy.NewEngine(policy.EngineOptions{})
	require.NoError(t, e.Swap(snap))
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			groups, _ := json.Marshal(append([]string{}, c.groups...))
			input := `{"context":{"identity":{"user":"` + c.user + `","groups":` + string(groups) + `},"softwareStack":{"trinoVersion":"476"}},"action":` + c.action + `}`
			ep := c.endpoint
			if ep == "" {
				ep = "allow"
			}
			got := normalise(t, ep, decide(t, e, ep, []byte(input)))
			require.JSONEq(t, c.want, got, "action %s", c.action)
		})
	}
}

func TestCatalogRules(t *testing.T) {
	t.Parallel()
	rules := `{"catalogs":[
		{"role":"admin","allow":"all"},
		{"user":"(?!guest).*","catalog":"sales|hr","allow":"read-only"},
		{"group":"ops","catalog":"ops_.*","allow":"OWNER"},
		{"user":"bob","allow":true},
		{"user":"eve","catalog":"sales","allow":false}
	],
	"tables":[{"privileges":["select"]}]}`
	runChecks(t, rules, []check{
		{"lookahead matches other users", "alice", nil, "", `{"operation":"AccessCatalog","resource":{"catalog":{"name":"sales"}}}`, `true`},
		{"lookahead excludes guest", "guest", nil, "", `{"operation":"AccessCatalog","resource":{"catalog":{"name":"sales"}}}`, `false`},
		{"whole-string match: no prefix match", "alice", nil, "", `{"operation":"AccessCatalog","resource":{"catalog":{"name":"salesforce"}}}`, `false`},
		{"role rules never match over OPA", "root", nil, "", `{"operation":"AccessCatalog","resource":{"catalog":{"name":"anything"}}}`, `false`},
		{"owner mode is case-insensitive and allows create", "x", []string{"ops"}, "", `{"operation":"CreateCatalog","resource":{"catalog":{"name":"ops_1"}}}`, `true`},
		{"all does not imply owner", "bob", nil, "", `{"operation":"CreateCatalog","resource":{"catalog":{"name":"b"}}}`, `false`},
		{"boolean true means all", "bob", nil, "", `{"operation":"AccessCatalog","resource":{"catalog":{"name":"b"}}}`, `true`},
		{"first match wins over a later deny", "eve", nil, "", `{"operation":"AccessCatalog","resource":{"catalog":{"name":"sales"}}}`, `true`},
		{"implicit system rule", "nobody", nil, "", `{"operation":"AccessCatalog","resource":{"catalog":{"name":"system"}}}`, `true`},
		{"read-only cannot write", "alice", nil, "", `{"operation":"InsertIntoTable","resource":{"table":{"catalogName":"sales","schemaName":"s","tableName":"t"}}}`, `false`},
		{"visibility needs a grant in the catalog", "alice", nil, "batch", `{"operation":"FilterCatalogs","filterResources":[{"catalog":{"name":"sales"}},{"catalog":{"name":"other"}},{"catalog":{"name":"system"}}]}`, `[0,2]`},
	})
}

func TestAbsentAndEmptySections(t *testing.T) {
	t.Parallel()
	tbl := `{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"c","schemaName":"s","tableName":"t","columns":["a"]}}}`
	t.Run("absent", func(t *testing.T) {
		t.Parallel()
		runChecks(t, `{}`, []check{
			{"tables allow", "u", nil, "", tbl, `true`},
			{"system information denies", "u", nil, "", `{"operation":"ReadSystemInformation"}`, `false`},
			{"impersonation denies", "u", nil, "", `{"operation":"ImpersonateUser","resource":{"user":{"user":"v"}}}`, `false`},
			{"authorization denies", "u", nil, "", `{"operation":"SetSchemaAuthorization","resource":{"schema":{"catalogName":"c","schemaName":"s"}},"grantee":{"type":"USER","name":"v"}}`, `false`},
			{"queries allow", "u", nil, "", `{"operation":"KillQueryOwnedBy","resource":{"user":{"user":"v","groups":[]}}}`, `true`},
			{"builtin functions only", "u", nil, "", `{"operation":"ExecuteFunction","resource":{"function":{"catalogName":"system","schemaName":"builtin","functionName":"abs"}}}`, `true`},
			{"other functions denied", "u", nil, "", `{"operation":"ExecuteFunction","resource":{"function":{"catalogName":"c","schemaName":"s","functionName":"f"}}}`, `false`},
			{"create catalog needs owner", "u", nil, "", `{"operation":"CreateCatalog","resource":{"catalog":{"name":"c"}}}`, `false`},
			{"table procedures always", "u", nil, "", `{"operation":"ExecuteTableProcedure","resource":{"table":{"catalogName":"c","schemaName":"s","tableName":"t"},"function":{"functionName":"optimize"}}}`, `true`},
		})
	})
	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		runChecks(t, `{"tables":[],"queries":[],"catalogs":[]}`, []check{
			{"empty tables deny", "u", nil, "", tbl, `false`},
			{"empty queries deny", "u", nil, "", `{"operation":"ExecuteQuery"}`, `false`},
			{"empty catalogs still allow system", "u", nil, "", `{"operation":"AccessCatalog","resource":{"catalog":{"name":"system"}}}`, `true`},
		})
	})
	t.Run("principals make impersonation allowed", func(t *testing.T) {
		t.Parallel()
		runChecks(t, `{"principals":[{"principal":"(.*)","principal_to_user":"$1","allow":true}]}`, []check{
			{"allowed", "u", nil, "", `{"operation":"ImpersonateUser","resource":{"user":{"user":"v"}}}`, `true`},
		})
	})
}

func TestImpersonationExpansion(t *testing.T) {
	t.Parallel()
	rules := `{"impersonation":[
		{"original_user":"svc_(.*)","new_user":"svc_$1_prod"},
		{"original_user":"external_(.*)_(.*)","new_user":"internal-$2-$1-sandbox"},
		{"originalUser":"(?<team>[a-z]+)-lead","newUser":"${team}-.*"},
		{"original_user":"admin","new_user":".*","allow":false},
		{"original_role":"admin","new_user":".*"},
		{"original_user":"dot","new_user":"a\\.b"}
	]}`
	imp := func(to string) string {
		return `{"operation":"ImpersonateUser","resource":{"user":{"user":"` + to + `"}}}`
	}
	runChecks(t, rules, []check{
		{"$1", "svc_alice", nil, "", imp("svc_alice_prod"), `true`},
		{"$1 wrong user", "svc_alice", nil, "", imp("svc_bob_prod"), `false`},
		{"$2 and $1", "external_a_b", nil, "", imp("internal-b-a-sandbox"), `true`},
		{"named group", "data-lead", nil, "", imp("data-analyst"), `true`},
		{"named group other team", "data-lead", nil, "", imp("ops-analyst"), `false`},
		{"explicit deny rule", "admin", nil, "", imp("bob"), `false`},
		{"role rules never match", "root", nil, "", imp("bob"), `false`},
		// appendReplacement turns "\." into ".", so the expanded pattern is "a.b".
		{"escapes are expanded as Java does", "dot", nil, "", imp("axb"), `true`},
	})
}

func TestTableRulesAndColumns(t *testing.T) {
	t.Parallel()
	rules := `{"tables":[
		{"user":"bob","schema":"hr","table":"salaries","privileges":["SELECT"],"columns":[{"name":"ssn","allow":false},{"name":"salary","mask":"NULL"}],"filter":"dept = 'x'"},
		{"user":"bob","schema":"hr","privileges":[]},
		{"user":"bob","privileges":["SELECT","INSERT"],"columns":[{"name":"secret","allow":false}]},
		{"user":"carol","privileges":["grant_select"]}
	]}`
	tbl := func(op, table string, cols ...string) string {
		c, _ := json.Marshal(append([]string{}, cols...))
		return `{"operation":"` + op + `","resource":{"table":{"catalogName":"c","schemaName":"hr","tableName":"` + table + `","columns":` + string(c) + `}}}`
	}
	runChecks(t, rules, []check{
		{"select allowed column", "bob", nil, "", tbl("SelectFromColumns", "salaries", "name", "salary"), `true`},
		{"select denied column", "bob", nil, "", tbl("SelectFromColumns", "salaries", "ssn"), `false`},
		{"select no columns", "bob", nil, "", tbl("SelectFromColumns", "salaries"), `true`},
		{"empty privileges shadow later rules", "bob", nil, "", tbl("SelectFromColumns", "other"), `false`},
		{"information_schema always", "nobody", nil, "", `{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"c","schemaName":"information_schema","tableName":"tables","columns":["x"]}}}`, `true`},
		{"filter columns drops denied ones", "bob", nil, "batch", `{"operation":"FilterColumns","filterResources":[{"table":{"catalogName":"c","schemaName":"hr","tableName":"salaries","columns":["name","ssn","salary"]}}]}`, `[0,2]`},
		{"filter columns keeps all with INSERT", "bob", nil, "batch", `{"operation":"FilterColumns","filterResources":[{"table":{"catalogName":"c","schemaName":"x","tableName":"t","columns":["a","secret"]}}]}`, `[0,1]`},
		{"grant_select lower case, create view needs catalog all", "carol", nil, "", tbl("CreateViewWithSelectFromColumns", "t", "a"), `true`},
		{"select without grant option cannot create view", "bob", nil, "", tbl("CreateViewWithSelectFromColumns", "salaries", "name"), `false`},
		{"row filter", "bob", nil, "rowFilters", `{"operation":"GetRowFilters","resource":{"table":{"catalogName":"c","schemaName":"hr","tableName":"salaries"}}}`, `[{"expression":"dept = 'x'"}]`},
		{"no row filter on information_schema", "bob", nil, "rowFilters", `{"operation":"GetRowFilters","resource":{"table":{"catalogName":"c","schemaName":"information_schema","tableName":"salaries"}}}`, `[]`},
		{"mask", "bob", nil, "batchColumnMasks", `{"operation":"GetColumnMask","filterResources":[{"column":{"catalogName":"c","schemaName":"hr","tableName":"salaries","columnName":"name","columnType":"varchar"}},{"column":{"catalogName":"c","schemaName":"hr","tableName":"salaries","columnName":"salary","columnType":"decimal(12,2)"}}]}`, `[{"index":1,"viewExpression":{"expression":"NULL"}}]`},
	})
}

func TestFilterTablesLargeBatchMatchesSingleChecks(t *testing.T) {
	t.Parallel()
	rules := `{"catalogs":[{"catalog":"lake","allow":"read-only"},{"user":"admin","allow":"all"}],
	"schemas":[{"user":"admin","owner":true}],
	"tables":[{"schema":"s1","table":"t[0-4]","privileges":["SELECT"]},{"schema":"s1","privileges":[]},{"schema":"s[2-3]","privileges":["SELECT"]}]}`
	p, err := fbac.Parse([]byte(rules))
	require.NoError(t, err)
	snap, err := policy.NewSnapshot(1, "t", map[string]*policy.PolicySet{policy.DefaultCluster: policy.NewPolicySet(fbac.NewSource(p))})
	require.NoError(t, err)
	e := policy.NewEngine(policy.EngineOptions{})
	require.NoError(t, e.Swap(snap))
	var items []string
	for _, cat := range []string{"lake", "other"} {
		for s := 0; s < 5; s++ {
			for tb := 0; tb < 10; tb++ {
				items = append(items, `{"table":{"catalogName":"`+cat+`","schemaName":"s`+string(rune('0'+s))+`","tableName":"t`+string(rune('0'+tb))+`"}}`)
			}
		}
	}
	for _, user := range []string{"alice", "admin"} {
		ctx := `{"identity":{"user":"` + user + `","groups":[]},"softwareStack":{"trinoVersion":"476"}}`
		batch := decide(t, e, "batch", []byte(`{"context":`+ctx+`,"action":{"operation":"FilterTables","filterResources":[`+strings.Join(items, ",")+`]}}`)).([]int)
		var single []int
		for i, it := range items {
			if decide(t, e, "allow", []byte(`{"context":`+ctx+`,"action":{"operation":"FilterTables","resource":`+it+`}}`)) == true {
				single = append(single, i)
			}
		}
		require.Equal(t, single, batch, "user %s", user)
		require.NotEmpty(t, batch)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, rules, want string }{
		{"unknown root property", `{"session_properties":[]}`, "unknown property"},
		{"unknown rule property", `{"tables":[{"privileges":[],"colums":[]}]}`, "unknown property"},
		{"catalog allow missing", `{"catalogs":[{"catalog":"x"}]}`, "catalogs[0].allow"},
		{"catalog allow invalid", `{"catalogs":[{"allow":"sometimes"}]}`, "sometimes"},
		{"bad privilege", `{"tables":[{"privileges":["SELECT","FLY"]}]}`, "tables[0].privileges[1]"},
		{"privileges required", `{"tables":[{"user":"x"}]}`, "privileges is required"},
		{"bad regex", `{"catalogs":[{"catalog":"(unclosed","allow":"all"}]}`, "catalogs[0].catalog"},
		{"queryOwner with execute", `{"queries":[{"queryOwner":"a","allow":["execute"]}]}`, "queryOwner"},
		{"function kinds", `{"functions":[{"privileges":["EXECUTE"],"function_kinds":["SCALAR"]}]}`, "function_kinds"},
		{"system information group", `{"system_information":[{"group":"g","allow":["read"]}]}`, "unknown property"},
		{"impersonation needs new_user", `{"impersonation":[{"original_user":"a"}]}`, "new_user"},
		{"duplicate column", `{"tables":[{"privileges":[],"columns":[{"name":"a","allow":false},{"name":"a","mask":"x"}]}]}`, "duplicate column"},
		{"not JSON", `{"tables":`, "malformed JSON"},
		{"wrong type", `{"tables":{}}`, "wrong type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := fbac.Parse([]byte(tt.rules))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestExplainNamesTheRule(t *testing.T) {
	t.Parallel()
	p, err := fbac.Parse([]byte(`{"catalogs":[{"user":"a","allow":"none"},{"allow":"all"}]}`))
	require.NoError(t, err)
	snap, err := policy.NewSnapshot(1, "t", map[string]*policy.PolicySet{policy.DefaultCluster: policy.NewPolicySet(fbac.NewSource(p))})
	require.NoError(t, err)
	e := policy.NewEngine(policy.EngineOptions{})
	require.NoError(t, e.Swap(snap))
	tr, err := trino.Decode([]byte(`{"input":{"context":{"identity":{"user":"b","groups":[]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"AccessCatalog","resource":{"catalog":{"name":"x"}}}}}`))
	require.NoError(t, err)
	require.NoError(t, tr.Validate(trino.EndpointAllow))
	d, err := e.Decide(context.Background(), &policy.Request{Request: tr, Endpoint: trino.EndpointAllow, Cluster: policy.DefaultCluster, Explain: true,
		Subject: policy.Subject{User: "b"}})
	require.NoError(t, err)
	require.True(t, d.Allowed)
	require.Equal(t, "rules: catalogs[1]", d.Explanation.Decider)
	require.NotEmpty(t, d.Explanation.Sources[0].Detail)
}

func TestSchemaQuerySessionAndSystemRules(t *testing.T) {
	t.Parallel()
	rules := `{
	"catalogs":[{"catalog":"ro","allow":"read-only"},{"allow":"all"}],
	"schemas":[{"user":"alice","schema":"alice_.*","owner":true},{"group":"dba","owner":true},{"owner":false}],
	"tables":[{"user":"bob","catalog":"c","schema":"reports","privileges":["SELECT"]}],
	"queries":[{"group":"dba","allow":["execute","view","kill"]},{"user":"alice","queryOwner":"bob|carol","allow":["view"]},{"allow":["execute"]}],
	"system_session_properties":[{"user":"alice","property":"query_max_.*","allow":true},{"property":"join_distribution_type","allow":false}],
	"catalog_session_properties":[{"user":"alice","catalog":"c","property":"p","allow":true}],
	"system_information":[{"user":"ops-.*","allow":["read"]},{"role":"admin","allow":["read","write"]}],
	"authorization":[{"original_group":"dba","new_role":"r_.*"},{"original_user":"alice","new_user":"bob","allow":false},{"original_user":"alice","new_user":".*"}]
	}`
	schema := func(op, cat, name string) string {
		return `{"operation":"` + op + `","resource":{"schema":{"catalogName":"` + cat + `","schemaName":"` + name + `"}}}`
	}
	runChecks(t, rules, []check{
		{"owner creates", "alice", nil, "", schema("DropSchema", "c", "alice_x"), `true`},
		{"not owner", "alice", nil, "", schema("DropSchema", "c", "bob_x"), `false`},
		{"owner needs catalog all", "alice", nil, "", schema("DropSchema", "ro", "alice_x"), `false`},
		{"rename needs both names", "alice", nil, "", `{"operation":"RenameSchema","resource":{"schema":{"catalogName":"c","schemaName":"alice_a"}},"targetResource":{"schema":{"catalogName":"c","schemaName":"b"}}}`, `false`},
		{"show tables through a table grant", "bob", nil, "", schema("ShowTables", "c", "reports"), `true`},
		{"no grant in the schema", "bob", nil, "", schema("ShowTables", "c", "other"), `false`},
		{"filter schemas", "bob", nil, "batch", `{"operation":"FilterSchemas","filterResources":[{"schema":{"catalogName":"c","schemaName":"reports"}},{"schema":{"catalogName":"c","schemaName":"x"}}]}`, `[0]`},
		{"execute query", "zed", nil, "", `{"operation":"ExecuteQuery"}`, `true`},
		{"view with queryOwner", "alice", nil, "", `{"operation":"ViewQueryOwnedBy","resource":{"user":{"user":"carol","groups":["dba"]}}}`, `true`},
		{"owner's groups are ignored", "alice", nil, "", `{"operation":"ViewQueryOwnedBy","resource":{"user":{"user":"dave","groups":["bob"]}}}`, `false`},
		{"kill needs kill", "alice", nil, "", `{"operation":"KillQueryOwnedBy","resource":{"user":{"user":"bob","groups":[]}}}`, `false`},
		{"group may kill", "x", []string{"dba"}, "", `{"operation":"KillQueryOwnedBy","resource":{"user":{"user":"bob","groups":[]}}}`, `true`},
		{"filter query owners", "alice", nil, "batch", `{"operation":"FilterViewQueryOwnedBy","filterResources":[{"user":{"user":"bob","groups":[]}},{"user":{"user":"dave","groups":[]}}]}`, `[0]`},
		{"system session property", "alice", nil, "", `{"operation":"SetSystemSessionProperty","resource":{"systemSessionProperty":{"name":"query_max_run_time"}}}`, `true`},
		{"system session property denied", "alice", nil, "", `{"operation":"SetSystemSessionProperty","resource":{"systemSessionProperty":{"name":"join_distribution_type"}}}`, `false`},
		{"catalog session property", "alice", nil, "", `{"operation":"SetCatalogSessionProperty","resource":{"catalogSessionProperty":{"catalogName":"c","propertyName":"p"}}}`, `true`},
		{"system information read", "ops-1", nil, "", `{"operation":"ReadSystemInformation"}`, `true`},
		{"system information write", "ops-1", nil, "", `{"operation":"WriteSystemInformation"}`, `false`},
		{"authorization to a role", "x", []string{"dba"}, "", `{"operation":"SetSchemaAuthorization","resource":{"schema":{"catalogName":"c","schemaName":"s"}},"grantee":{"type":"ROLE","name":"r_1"}}`, `true`},
		{"a rule without new_user does not match a user grantee", "x", []string{"dba"}, "", `{"operation":"SetSchemaAuthorization","resource":{"schema":{"catalogName":"c","schemaName":"s"}},"grantee":{"type":"USER","name":"r_1"}}`, `false`},
		{"first matching authorization rule denies", "alice", nil, "", `{"operation":"SetSchemaAuthorization","resource":{"schema":{"catalogName":"c","schemaName":"alice_s"}},"grantee":{"type":"USER","name":"bob"}}`, `false`},
		{"authorization needs ownership too", "alice", nil, "", `{"operation":"SetSchemaAuthorization","resource":{"schema":{"catalogName":"c","schemaName":"other"}},"grantee":{"type":"USER","name":"carol"}}`, `false`},
		{"authorization with ownership", "alice", nil, "", `{"operation":"SetSchemaAuthorization","resource":{"schema":{"catalogName":"c","schemaName":"alice_s"}},"grantee":{"type":"USER","name":"carol"}}`, `true`},
	})
}

func TestFunctionAndProcedureRules(t *testing.T) {
	t.Parallel()
	rules := `{
	"schemas":[{"owner":false}],
	"functions":[{"user":"alice","catalog":"c","schema":"udf","function":"f_.*","privileges":["EXECUTE"]},{"user":"alice","function":"g","privileges":["GRANT_EXECUTE","OWNERSHIP"]},{"function":"h","privileges":[]}],
	"procedures":[{"user":"alice","procedure":"flush","privileges":["EXECUTE"]},{"procedure":"rebuild","privileges":[]}]
	}`
	fn := func(op, cat, schema, name string) string {
		return `{"operation":"` + op + `","resource":{"function":{"catalogName":"` + cat + `","schemaName":"` + schema + `","functionName":"` + name + `"}}}`
	}
	runChecks(t, rules, []check{
		{"execute", "alice", nil, "", fn("ExecuteFunction", "c", "udf", "f_1"), `true`},
		{"execute elsewhere", "alice", nil, "", fn("ExecuteFunction", "c", "other", "f_1"), `false`},
		{"view needs grant execute", "alice", nil, "", fn("CreateViewWithExecuteFunction", "c", "udf", "f_1"), `false`},
		{"grant execute", "alice", nil, "", fn("CreateViewWithExecuteFunction", "x", "y", "g"), `true`},
		{"create needs ownership", "alice", nil, "", fn("CreateFunction", "x", "y", "g"), `true`},
		{"drop without ownership", "alice", nil, "", fn("DropFunction", "c", "udf", "f_1"), `false`},
		{"filter functions", "alice", nil, "batch", `{"operation":"FilterFunctions","filterResources":[{"function":{"catalogName":"c","schemaName":"udf","functionName":"f_2"}},{"function":{"catalogName":"c","schemaName":"udf","functionName":"h"}}]}`, `[0]`},
		{"procedure", "alice", nil, "", fn("ExecuteProcedure", "c", "system", "flush"), `true`},
		{"procedure with empty privileges", "alice", nil, "", fn("ExecuteProcedure", "c", "system", "rebuild"), `false`},
		{"show functions through a function rule", "alice", nil, "", `{"operation":"ShowFunctions","resource":{"schema":{"catalogName":"c","schemaName":"udf"}}}`, `true`},
	})
}
