package trino

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// benchLines reads the request bodies of a corpus in testdata/bench, one a
// line.
func benchLines(tb testing.TB, name string) [][]byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bench", name))
	if err != nil {
		tb.Fatal(err)
	}
	var lines [][]byte
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		tb.Fatalf("%s has no request", name)
	}
	return lines
}

// wrap makes a body from the JSON of a context and an action.
func wrap(context, action string) string {
	return `{"input":{"context":` + context + `,"action":` + action + `}}`
}

const ctx480 = `{"identity":{"user":"foo","groups":["some-group"]},"softwareStack":{"trinoVersion":"480"},"properties":{},"queryId":"20250718_081710_03427_trino"}`

var identity480 = Context{
	Identity:      Identity{User: "foo", Groups: []string{"some-group"}},
	SoftwareStack: SoftwareStack{TrinoVersion: "480"},
	Properties:    map[string]string{},
	QueryID:       "20250718_081710_03427_trino",
}

func request(c Context, a Action) *Request { return &Request{Input: Input{Context: c, Action: a}} }

func TestDecodeValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want *Request
	}{
		{
			name: "ExecuteQuery without queryId (protocol example a)",
			body: `{"input":{"action": {"operation": "ExecuteQuery"},
 "context": {"identity": {"user": "test_user", "groups": ["some_group"]},
             "softwareStack": {"trinoVersion": "12345.67890"},
             "properties": {}}}}`,
			want: request(Context{
				Identity:      Identity{User: "test_user", Groups: []string{"some_group"}},
				SoftwareStack: SoftwareStack{TrinoVersion: "12345.67890"},
				Properties:    map[string]string{},
			}, Action{Operation: "ExecuteQuery"}),
		},
		{
			name: "SelectFromColumns on 480 (protocol example b)",
			body: `{"input": {
  "context": {"identity": {"user": "foo", "groups": ["some-group"]},
              "softwareStack": {"trinoVersion": "480"},
              "properties": {},
              "queryId": "20250718_081710_03427_trino"},
  "action": {"operation": "SelectFromColumns",
             "resource": {"table": {"catalogName": "my_catalog", "schemaName": "my_schema",
                                    "tableName": "my_table", "columns": ["my_column"]}}}}}`,
			want: request(identity480, Action{Operation: "SelectFromColumns", Resource: &Resource{Table: &Table{
				CatalogName: "my_catalog", SchemaName: "my_schema", TableName: "my_table", Columns: []string{"my_column"},
			}}}),
		},
		{
			name: "pre-478 context: no queryId, no properties, empty groups",
			body: wrap(`{"identity":{"user":"u","groups":[]},"softwareStack":{"trinoVersion":"476"}}`, `{"operation":"ExecuteQuery"}`),
			want: request(Context{Identity: Identity{User: "u", Groups: []string{}}, SoftwareStack: SoftwareStack{TrinoVersion: "476"}},
				Action{Operation: "ExecuteQuery"}),
		},
		{
			name: "context properties with a null value",
			body: wrap(`{"identity":{"user":"u","groups":[]},"softwareStack":{"trinoVersion":"480"},"properties":{"namespace":"some-namespace","cluster":"some-cluster","x":null,"":"empty key"}}`, `{"operation":"ExecuteQuery"}`),
			want: request(Context{
				Identity:      Identity{User: "u", Groups: []string{}},
				SoftwareStack: SoftwareStack{TrinoVersion: "480"},
				Properties:    map[string]string{"namespace": "some-namespace", "cluster": "some-cluster", "x": "", "": "empty key"},
			}, Action{Operation: "ExecuteQuery"}),
		},
		{
			name: "batched FilterColumns (protocol example c)",
			body: wrap(ctx480, `{"operation": "FilterColumns",
 "filterResources": [{"table": {"tableName": "table_two", "schemaName": "my_schema", "catalogName": "my_catalog",
                                "columns": ["table_two_column_one", "table_two_column_two"]}}]}`),
			want: request(identity480, Action{Operation: "FilterColumns", FilterResources: []Resource{{Table: &Table{
				CatalogName: "my_catalog", SchemaName: "my_schema", TableName: "table_two",
				Columns: []string{"table_two_column_one", "table_two_column_two"},
			}}}}),
		},
		{
			name: "batched FilterCatalogs",
			body: wrap(ctx480, `{"operation":"FilterCatalogs","filterResources":[{"catalog":{"name":"catalog_one"}},{"catalog":{"name":"catalog_two"}},{"catalog":{"name":"catalog_three"}}]}`),
			want: request(identity480, Action{Operation: "FilterCatalogs", FilterResources: []Resource{
				{Catalog: &Catalog{Name: "catalog_one"}}, {Catalog: &Catalog{Name: "catalog_two"}}, {Catalog: &Catalog{Name: "catalog_three"}},
			}}),
		},
		{
			name: "batched FilterSchemas",
			body: wrap(ctx480, `{"operation":"FilterSchemas","filterResources":[{"schema":{"catalogName":"c","schemaName":"s1"}},{"schema":{"catalogName":"c","schemaName":"s2"}}]}`),
			want: request(identity480, Action{Operation: "FilterSchemas", FilterResources: []Resource{
				{Schema: &Schema{CatalogName: "c", SchemaName: "s1"}}, {Schema: &Schema{CatalogName: "c", SchemaName: "s2"}},
			}}),
		},
		{
			name: "batched FilterTables",
			body: wrap(ctx480, `{"operation":"FilterTables","filterResources":[{"table":{"catalogName":"c","schemaName":"s","tableName":"t1"}},{"table":{"catalogName":"c","schemaName":"s","tableName":"t2"}}]}`),
			want: request(identity480, Action{Operation: "FilterTables", FilterResources: []Resource{
				{Table: &Table{CatalogName: "c", SchemaName: "s", TableName: "t1"}}, {Table: &Table{CatalogName: "c", SchemaName: "s", TableName: "t2"}},
			}}),
		},
		{
			name: "batched FilterViewQueryOwnedBy",
			body: wrap(ctx480, `{"operation":"FilterViewQueryOwnedBy","filterResources":[{"user":{"user":"user-one","groups":[]}},{"user":{"user":"user-two","groups":["g1","g2"]}}]}`),
			want: request(identity480, Action{Operation: "FilterViewQueryOwnedBy", FilterResources: []Resource{
				{User: &User{User: "user-one", Groups: []string{}}}, {User: &User{User: "user-two", Groups: []string{"g1", "g2"}}},
			}}),
		},
		{
			name: "batched FilterFunctions",
			body: wrap(ctx480, `{"operation":"FilterFunctions","filterResources":[{"function":{"catalogName":"system","schemaName":"builtin","functionName":"abs"}}]}`),
			want: request(identity480, Action{Operation: "FilterFunctions", FilterResources: []Resource{
				{Function: &Function{CatalogName: "system", SchemaName: "builtin", FunctionName: "abs"}},
			}}),
		},
		{
			name: "batched GetColumnMask",
			body: wrap(ctx480, `{"operation":"GetColumnMask","filterResources":[{"column":{"catalogName":"c","schemaName":"s","tableName":"t","columnName":"a","columnType":"varchar(25)"}},{"column":{"catalogName":"c","schemaName":"s","tableName":"t","columnName":"b","columnType":"decimal(12,2)"}}]}`),
			want: request(identity480, Action{Operation: "GetColumnMask", FilterResources: []Resource{
				{Column: &Column{CatalogName: "c", SchemaName: "s", TableName: "t", ColumnName: "a", ColumnType: "varchar(25)"}},
				{Column: &Column{CatalogName: "c", SchemaName: "s", TableName: "t", ColumnName: "b", ColumnType: "decimal(12,2)"}},
			}}),
		},
		{
			name: "per-column GetColumnMask",
			body: wrap(ctx480, `{"operation":"GetColumnMask","resource":{"column":{"catalogName":"some_catalog","schemaName":"some_schema","tableName":"some_table","columnName":"some-column","columnType":"varchar"}}}`),
			want: request(identity480, Action{Operation: "GetColumnMask", Resource: &Resource{Column: &Column{
				CatalogName: "some_catalog", SchemaName: "some_schema", TableName: "some_table", ColumnName: "some-column", ColumnType: "varchar",
			}}}),
		},
		{
			name: "ImpersonateUser",
			body: wrap(ctx480, `{"operation":"ImpersonateUser","resource":{"user":{"user":"bob"}}}`),
			want: request(identity480, Action{Operation: "ImpersonateUser", Resource: &Resource{User: &User{User: "bob"}}}),
		},
		{
			name: "SetSystemSessionProperty",
			body: wrap(ctx480, `{"operation":"SetSystemSessionProperty","resource":{"systemSessionProperty":{"name":"query_max_memory"}}}`),
			want: request(identity480, Action{Operation: "SetSystemSessionProperty", Resource: &Resource{SystemSessionProperty: &SystemSessionProperty{Name: "query_max_memory"}}}),
		},
		{
			name: "SetCatalogSessionProperty",
			body: wrap(ctx480, `{"operation":"SetCatalogSessionProperty","resource":{"catalogSessionProperty":{"catalogName":"hive","propertyName":"bucket_execution_enabled"}}}`),
			want: request(identity480, Action{Operation: "SetCatalogSessionProperty", Resource: &Resource{CatalogSessionProperty: &CatalogSessionProperty{
				CatalogName: "hive", PropertyName: "bucket_execution_enabled",
			}}}),
		},
		{
			name: "SetSchemaAuthorization with grantee",
			body: wrap(ctx480, `{"operation":"SetSchemaAuthorization","resource":{"schema":{"catalogName":"my_catalog","schemaName":"my_schema"}},"grantee":{"name":"my_user","type":"USER"}}`),
			want: request(identity480, Action{Operation: "SetSchemaAuthorization",
				Resource: &Resource{Schema: &Schema{CatalogName: "my_catalog", SchemaName: "my_schema"}},
				Grantee:  &Grantee{Type: GranteeUser, Name: "my_user"}}),
		},
		{
			name: "RenameSchema with targetResource",
			body: wrap(ctx480, `{"operation":"RenameSchema","resource":{"schema":{"catalogName":"c","schemaName":"old"}},"targetResource":{"schema":{"catalogName":"c","schemaName":"new"}}}`),
			want: request(identity480, Action{Operation: "RenameSchema",
				Resource:       &Resource{Schema: &Schema{CatalogName: "c", SchemaName: "old"}},
				TargetResource: &Resource{Schema: &Schema{CatalogName: "c", SchemaName: "new"}}}),
		},
		{
			name: "RenameTable with targetResource",
			body: wrap(ctx480, `{"operation":"RenameTable","resource":{"table":{"catalogName":"c","schemaName":"s","tableName":"old"}},"targetResource":{"table":{"catalogName":"c","schemaName":"s2","tableName":"new"}}}`),
			want: request(identity480, Action{Operation: "RenameTable",
				Resource:       &Resource{Table: &Table{CatalogName: "c", SchemaName: "s", TableName: "old"}},
				TargetResource: &Resource{Table: &Table{CatalogName: "c", SchemaName: "s2", TableName: "new"}}}),
		},
		{
			name: "ExecuteTableProcedure: table and function",
			body: wrap(ctx480, `{"operation":"ExecuteTableProcedure","resource":{"table":{"catalogName":"my_catalog","schemaName":"my_schema","tableName":"my_table"},"function":{"functionName":"my_procedure"}}}`),
			want: request(identity480, Action{Operation: "ExecuteTableProcedure", Resource: &Resource{
				Table:    &Table{CatalogName: "my_catalog", SchemaName: "my_schema", TableName: "my_table"},
				Function: &Function{FunctionName: "my_procedure"},
			}}),
		},
		{
			name: "ExecuteFunction",
			body: wrap(ctx480, `{"operation":"ExecuteFunction","resource":{"function":{"catalogName":"c","schemaName":"s","functionName":"f"}}}`),
			want: request(identity480, Action{Operation: "ExecuteFunction", Resource: &Resource{Function: &Function{CatalogName: "c", SchemaName: "s", FunctionName: "f"}}}),
		},
		{
			name: "CreateSchema with properties holding nested values and nulls",
			body: wrap(ctx480, `{"operation":"CreateSchema","resource":{"schema":{"catalogName":"c","schemaName":"s","properties":{"location":"s3://b/k","n":-1.5e+3,"list":[1,"a",null,{"k":[true,false]}],"none":null,"o":{}}}}}`),
			want: request(identity480, Action{Operation: "CreateSchema", Resource: &Resource{Schema: &Schema{
				CatalogName: "c", SchemaName: "s",
				Properties: json.RawMessage(`{"location":"s3://b/k","n":-1.5e+3,"list":[1,"a",null,{"k":[true,false]}],"none":null,"o":{}}`),
			}}}),
		},
		{
			name: "CreateTable with properties, kept byte for byte",
			body: wrap(ctx480, `{"operation":"CreateTable","resource":{"table":{"catalogName":"c","schemaName":"s","tableName":"t","properties":{ "string_item" : "string_value", "empty_item":null,"boxed_number_item":32 }}}}`),
			want: request(identity480, Action{Operation: "CreateTable", Resource: &Resource{Table: &Table{
				CatalogName: "c", SchemaName: "s", TableName: "t",
				Properties: json.RawMessage(`{ "string_item" : "string_value", "empty_item":null,"boxed_number_item":32 }`),
			}}}),
		},
		{
			name: "empty properties objects",
			body: wrap(ctx480, `{"operation":"CreateSchema","resource":{"schema":{"catalogName":"c","schemaName":"s","properties":{}}}}`),
			want: request(identity480, Action{Operation: "CreateSchema", Resource: &Resource{Schema: &Schema{
				CatalogName: "c", SchemaName: "s", Properties: json.RawMessage(`{}`),
			}}}),
		},
		{
			name: "columns: [] is empty, absent and null are nil",
			body: wrap(ctx480, `{"operation":"FilterColumns","filterResources":[{"table":{"tableName":"a","columns":[]}},{"table":{"tableName":"b"}},{"table":{"tableName":"c","columns":null}}]}`),
			want: request(identity480, Action{Operation: "FilterColumns", FilterResources: []Resource{
				{Table: &Table{TableName: "a", Columns: []string{}}}, {Table: &Table{TableName: "b"}}, {Table: &Table{TableName: "c"}},
			}}),
		},
		{
			name: "filterResources: [] is empty, not nil",
			body: wrap(ctx480, `{"operation":"FilterTables","filterResources":[]}`),
			want: request(identity480, Action{Operation: "FilterTables", FilterResources: []Resource{}}),
		},
		{
			name: "null for every optional field",
			body: wrap(`{"identity":{"user":null,"groups":null},"softwareStack":null,"properties":null,"queryId":null}`,
				`{"operation":"X","resource":null,"filterResources":null,"targetResource":null,"grantee":null}`),
			want: request(Context{}, Action{Operation: "X"}),
		},
		{
			name: "null inside resources",
			body: wrap(ctx480, `{"operation":"X","filterResources":[null,{"user":null,"systemSessionProperty":null,"catalogSessionProperty":null,"function":null,"catalog":null,"schema":{"catalogName":null,"properties":null},"table":{"tableName":null,"columns":null,"properties":null},"column":null}]}`),
			want: request(identity480, Action{Operation: "X", FilterResources: []Resource{{}, {Schema: &Schema{}, Table: &Table{}}}}),
		},
		{
			name: "unknown fields at every level are skipped",
			body: `{"u0":[1,{"a":[]}],"input":{"u1":{"x":{"y":[null,true,false,-0.5e-7]}},"context":{"u2":"s","identity":{"user":"u","u3":1,"groups":["g"],"extraCredentials":{"k":"v"}},
				"softwareStack":{"trinoVersion":"482","u4":[]},"principal":{"name":"p"}},
				"action":{"u5":null,"operation":"SelectFromColumns","resource":{"u6":0,"table":{"u7":{},"catalogName":"c","schemaName":"s","tableName":"t","columns":["a"],"u8":"\u0041"},
				"column":{"u9":1,"columnName":"x"},"catalog":{"u10":true,"name":"n"},"schema":{"u11":[],"schemaName":"s"},"function":{"u12":"","functionName":"f"},
				"user":{"u13":1,"user":"v"},"systemSessionProperty":{"u14":1,"name":"p"},"catalogSessionProperty":{"u15":1,"propertyName":"q"}},
				"grantee":{"u16":1,"type":"ROLE","name":"r"}},"u17":"after"},"u18":{}}`,
			want: request(Context{Identity: Identity{User: "u", Groups: []string{"g"}}, SoftwareStack: SoftwareStack{TrinoVersion: "482"}},
				Action{Operation: "SelectFromColumns", Grantee: &Grantee{Type: GranteeRole, Name: "r"}, Resource: &Resource{
					Table:                  &Table{CatalogName: "c", SchemaName: "s", TableName: "t", Columns: []string{"a"}},
					Column:                 &Column{ColumnName: "x"},
					Catalog:                &Catalog{Name: "n"},
					Schema:                 &Schema{SchemaName: "s"},
					Function:               &Function{FunctionName: "f"},
					User:                   &User{User: "v"},
					SystemSessionProperty:  &SystemSessionProperty{Name: "p"},
					CatalogSessionProperty: &CatalogSessionProperty{PropertyName: "q"},
				}}),
		},
		{
			name: "whitespace everywhere",
			body: " \t\r\n{ \"input\" :\n{ \"context\" : { \"identity\" : { \"user\" : \"u\" , \"groups\" : [ \"a\" , \"b\" ] } } ,\t\"action\" : { \"operation\" : \"X\" , \"filterResources\" : [ { \"catalog\" : { \"name\" : \"c\" } } , null ] } } } \n\t\r ",
			want: request(Context{Identity: Identity{User: "u", Groups: []string{"a", "b"}}},
				Action{Operation: "X", FilterResources: []Resource{{Catalog: &Catalog{Name: "c"}}, {}}}),
		},
		{
			name: "string escapes",
			body: wrap(`{"identity":{"user":"q\"b\\s\/b\bf\fn\nr\rt\tu\u00e9\u20AC\ud83d\ude00end","groups":["\u0000", "a\u0022b"]}}`, `{"operation":"X"}`),
			want: request(Context{Identity: Identity{User: "q\"b\\s/b\bf\fn\nr\rt\tu\u00e9\u20ac\U0001F600end", Groups: []string{"\x00", `a"b`}}}, Action{Operation: "X"}),
		},
		{
			name: "lone surrogates and invalid UTF-8 become U+FFFD",
			body: wrap(`{"identity":{"user":"a\ud800b\udc00c\ud800\u0041\ud83d\ud83d\ude00","groups":["x`+"\xff"+`y","`+"\xe2\x82"+`","`+"\xed\xa0\x80"+`","ok é €"]}}`, `{"operation":"X"}`),
			want: request(Context{Identity: Identity{User: "a\uFFFDb\uFFFDc\uFFFDA\uFFFD\U0001F600",
				Groups: []string{"x\uFFFDy", "\uFFFD\uFFFD", "\uFFFD\uFFFD\uFFFD", "ok é €"}}}, Action{Operation: "X"}),
		},
		{
			name: "keys with escapes match",
			body: `{"\u0069nput":{"context":{"identity":{"us\u0065r":"u"}},"action":{"oper\u0061tion":"X"}}}`,
			want: request(Context{Identity: Identity{User: "u"}}, Action{Operation: "X"}),
		},
		{
			name: "keys match case-insensitively, as in encoding/json",
			body: `{"Input":{"CONTEXT":{"identity":{"User":"u"}},"action":{"operatioN":"X","resource":{"TABLE":{"ſchemaName":"s","\u212Aey":1}}}}}`,
			want: request(Context{Identity: Identity{User: "u"}}, Action{Operation: "X", Resource: &Resource{Table: &Table{SchemaName: "s"}}}),
		},
		{
			name: "a repeated key: strings are replaced, objects merge",
			body: wrap(`{"identity":{"user":"a","user":"b","user":null},"identity":{"groups":["g"]}}`,
				`{"operation":"X","resource":{"table":{"tableName":"t"}},"resource":{"catalog":{"name":"c"}}}`),
			want: request(Context{Identity: Identity{User: "b", Groups: []string{"g"}}},
				Action{Operation: "X", Resource: &Resource{Table: &Table{TableName: "t"}, Catalog: &Catalog{Name: "c"}}}),
		},
		{
			name: "a repeated array merges by index, as in encoding/json",
			body: wrap(`{"identity":{"groups":["a","b","c"],"groups":["d"],"groups":[null,null,"e",null]}}`,
				`{"operation":"X","filterResources":[{"table":{"tableName":"t"}},{"catalog":{"name":"c"}}],"filterResources":[{"schema":{"schemaName":"s"}}]}`),
			want: request(Context{Identity: Identity{Groups: []string{"d", "b", "e", ""}}},
				Action{Operation: "X", FilterResources: []Resource{{Table: &Table{TableName: "t"}, Schema: &Schema{SchemaName: "s"}}}}),
		},
		{
			name: "a repeated input merges",
			body: `{"input":{"context":{"queryId":"q"},"action":{"operation":"X"}},"input":{"context":{},"action":{}}}`,
			want: request(Context{QueryID: "q"}, Action{Operation: "X"}),
		},
		{
			name: "keys that differ from a name in any byte are unknown",
			body: wrap(`{"identity":{"user":"u","uſe":"x","usex":"x","users":"x","use":"x"}}`,
				`{"operation":"X","filterR0sources":[{}],"filterResourcez":[{}],"filterResources0":[{}],"targetResourc":{},"resource":{"systemSessionPr0perty":{},"systemSessionPropertx":{},"catalogSessionProperty_":{},"catalogSessionPropert":{},"tableX":{}}}`),
			want: request(Context{Identity: Identity{User: "u"}}, Action{Operation: "X", Resource: &Resource{}}),
		},
		{
			name: "context and action need only be present, as objects",
			body: `{"input":{"context":{},"action":{}}}`,
			want: request(Context{}, Action{}),
		},
		{
			name: "nesting up to the limit in an unknown field",
			body: `{"input":{"context":{},"action":{},"deep":` + strings.Repeat("[", maxDepth-2) + strings.Repeat("]", maxDepth-2) + `}}`,
			want: request(Context{}, Action{}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode([]byte(tt.body))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreUnexported(Request{})); diff != "" {
				t.Errorf("Decode mismatch (-want +got):\n%s", diff)
			}
			checkAgainstReference(t, []byte(tt.body))
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	const ctx = `{"identity":{"user":"u","groups":[]}}`
	tests := []struct {
		name string
		body string
		want string // a substring of the error
	}{
		// Missing pieces.
		{"empty body", ``, "malformed JSON at byte 0: unexpected end of JSON input"},
		{"only whitespace", " \n", "malformed JSON at byte 2: unexpected end of JSON input"},
		{"null body", `null`, "the body has no input object"},
		{"empty object", `{}`, "the body has no input object"},
		{"null input", `{"input":null}`, "the body has no input object"},
		{"input nulled by a repeated key", `{"input":{"context":{},"action":{}},"input":null}`, "the body has no input object"},
		{"no action", `{"input":{"context":{}}}`, "input.action is missing"},
		{"null action", `{"input":{"context":{},"action":null}}`, "input.action is missing"},
		{"no context", `{"input":{"action":{}}}`, "input.context is missing"},
		{"null context", `{"input":{"context":null,"action":{}}}`, "input.context is missing"},
		{"missing before a type error", `{"input":{"context":{"queryId":1}}}`, "input.action is missing"},

		// Wrong types.
		{"body is an array", `[]`, "the body: want an object, got an array"},
		{"body is a string", `"x"`, "the body: want an object, got a string"},
		{"body is a number", `1`, "the body: want an object, got a number"},
		{"input is an array", `{"input":[]}`, "input: want an object, got an array"},
		{"input is a bool", `{"input":true}`, "input: want an object, got a boolean"},
		{"context is a number", `{"input":{"context":5,"action":{}}}`, "input.context: want an object, got a number"},
		{"action is a string", wrap(ctx, `"x"`), "input.action: want an object, got a string"},
		{"identity", wrap(`{"identity":"u"}`, `{}`), "input.context.identity: want an object, got a string"},
		{"identity.user", wrap(`{"identity":{"user":1}}`, `{}`), "input.context.identity.user: want a string, got a number"},
		{"identity.groups", wrap(`{"identity":{"groups":{}}}`, `{}`), "input.context.identity.groups: want an array, got an object"},
		{"identity.groups element", wrap(`{"identity":{"groups":["a",2]}}`, `{}`), "input.context.identity.groups[1]: want a string, got a number"},
		{"softwareStack", wrap(`{"softwareStack":[]}`, `{}`), "input.context.softwareStack: want an object, got an array"},
		{"trinoVersion", wrap(`{"softwareStack":{"trinoVersion":480}}`, `{}`), "input.context.softwareStack.trinoVersion: want a string, got a number"},
		{"context.properties", wrap(`{"properties":[]}`, `{}`), "input.context.properties: want an object, got an array"},
		{"context.properties value", wrap(`{"properties":{"a":"b","x y":1}}`, `{}`), `input.context.properties["x y"]: want a string or null, got a number`},
		{"queryId", wrap(`{"queryId":false}`, `{}`), "input.context.queryId: want a string, got a boolean"},
		{"operation", wrap(ctx, `{"operation":1}`), "input.action.operation: want a string, got a number"},
		{"resource", wrap(ctx, `{"resource":[]}`), "input.action.resource: want an object, got an array"},
		{"filterResources", wrap(ctx, `{"filterResources":{}}`), "input.action.filterResources: want an array, got an object"},
		{"filterResources element", wrap(ctx, `{"filterResources":[{},{},{},"t"]}`), "input.action.filterResources[3]: want an object, got a string"},
		{"filterResources table name", wrap(ctx, `{"filterResources":[{},{},{},{"table":{"tableName":3}}]}`), "input.action.filterResources[3].table.tableName: want a string, got a number"},
		{"targetResource", wrap(ctx, `{"targetResource":"t"}`), "input.action.targetResource: want an object, got a string"},
		{"grantee", wrap(ctx, `{"grantee":1}`), "input.action.grantee: want an object, got a number"},
		{"grantee.type", wrap(ctx, `{"grantee":{"type":1}}`), "input.action.grantee.type: want a string, got a number"},
		{"grantee.name", wrap(ctx, `{"grantee":{"name":[]}}`), "input.action.grantee.name: want a string, got an array"},
		{"user", wrap(ctx, `{"resource":{"user":"u"}}`), "input.action.resource.user: want an object, got a string"},
		{"user.user", wrap(ctx, `{"resource":{"user":{"user":{}}}}`), "input.action.resource.user.user: want a string, got an object"},
		{"user.groups", wrap(ctx, `{"resource":{"user":{"groups":"g"}}}`), "input.action.resource.user.groups: want an array, got a string"},
		{"systemSessionProperty", wrap(ctx, `{"resource":{"systemSessionProperty":1}}`), "input.action.resource.systemSessionProperty: want an object, got a number"},
		{"systemSessionProperty.name", wrap(ctx, `{"resource":{"systemSessionProperty":{"name":1}}}`), "input.action.resource.systemSessionProperty.name: want a string"},
		{"catalogSessionProperty", wrap(ctx, `{"resource":{"catalogSessionProperty":[]}}`), "input.action.resource.catalogSessionProperty: want an object"},
		{"catalogSessionProperty.catalogName", wrap(ctx, `{"resource":{"catalogSessionProperty":{"catalogName":1}}}`), "input.action.resource.catalogSessionProperty.catalogName: want a string"},
		{"catalogSessionProperty.propertyName", wrap(ctx, `{"resource":{"catalogSessionProperty":{"propertyName":1}}}`), "input.action.resource.catalogSessionProperty.propertyName: want a string"},
		{"function", wrap(ctx, `{"resource":{"function":"f"}}`), "input.action.resource.function: want an object"},
		{"function.catalogName", wrap(ctx, `{"resource":{"function":{"catalogName":1}}}`), "input.action.resource.function.catalogName: want a string"},
		{"function.schemaName", wrap(ctx, `{"resource":{"function":{"schemaName":1}}}`), "input.action.resource.function.schemaName: want a string"},
		{"function.functionName", wrap(ctx, `{"resource":{"function":{"functionName":1}}}`), "input.action.resource.function.functionName: want a string"},
		{"catalog", wrap(ctx, `{"resource":{"catalog":"c"}}`), "input.action.resource.catalog: want an object"},
		{"catalog.name", wrap(ctx, `{"resource":{"catalog":{"name":true}}}`), "input.action.resource.catalog.name: want a string, got a boolean"},
		{"schema", wrap(ctx, `{"resource":{"schema":1}}`), "input.action.resource.schema: want an object"},
		{"schema.catalogName", wrap(ctx, `{"resource":{"schema":{"catalogName":1}}}`), "input.action.resource.schema.catalogName: want a string"},
		{"schema.schemaName", wrap(ctx, `{"resource":{"schema":{"schemaName":1}}}`), "input.action.resource.schema.schemaName: want a string"},
		{"schema.properties", wrap(ctx, `{"resource":{"schema":{"properties":[]}}}`), "input.action.resource.schema.properties: want an object, got an array"},
		{"table", wrap(ctx, `{"resource":{"table":[]}}`), "input.action.resource.table: want an object"},
		{"table.catalogName", wrap(ctx, `{"resource":{"table":{"catalogName":1}}}`), "input.action.resource.table.catalogName: want a string"},
		{"table.schemaName", wrap(ctx, `{"resource":{"table":{"schemaName":1}}}`), "input.action.resource.table.schemaName: want a string"},
		{"table.tableName", wrap(ctx, `{"resource":{"table":{"tableName":1}}}`), "input.action.resource.table.tableName: want a string"},
		{"table.columns", wrap(ctx, `{"resource":{"table":{"columns":"a"}}}`), "input.action.resource.table.columns: want an array, got a string"},
		{"table.columns element", wrap(ctx, `{"resource":{"table":{"columns":[{}]}}}`), "input.action.resource.table.columns[0]: want a string, got an object"},
		{"table.properties", wrap(ctx, `{"resource":{"table":{"properties":"p"}}}`), "input.action.resource.table.properties: want an object, got a string"},
		{"column", wrap(ctx, `{"resource":{"column":[]}}`), "input.action.resource.column: want an object"},
		{"column.catalogName", wrap(ctx, `{"resource":{"column":{"catalogName":1}}}`), "input.action.resource.column.catalogName: want a string"},
		{"column.schemaName", wrap(ctx, `{"resource":{"column":{"schemaName":1}}}`), "input.action.resource.column.schemaName: want a string"},
		{"column.tableName", wrap(ctx, `{"resource":{"column":{"tableName":1}}}`), "input.action.resource.column.tableName: want a string"},
		{"column.columnName", wrap(ctx, `{"resource":{"column":{"columnName":1}}}`), "input.action.resource.column.columnName: want a string"},
		{"column.columnType", wrap(ctx, `{"resource":{"column":{"columnType":1}}}`), "input.action.resource.column.columnType: want a string"},
		{"targetResource table", wrap(ctx, `{"targetResource":{"table":{"tableName":1}}}`), "input.action.targetResource.table.tableName: want a string"},
		{"the first type error is reported", wrap(ctx, `{"operation":1,"resource":{"table":{"tableName":1}}}`), "input.action.operation: want a string"},

		// Malformed JSON; the offsets are encoding/json's.
		{"unterminated object", `{"input":{`, "malformed JSON at byte 10: unexpected end of JSON input"},
		{"trailing garbage", wrap(ctx, `{}`) + `x`, "invalid character 'x' after top-level value"},
		{"a second value", wrap(ctx, `{}`) + ` {}`, "invalid character '{' after top-level value"},
		{"trailing comma in object", wrap(ctx, `{"operation":"x",}`), "invalid character '}' looking for beginning of object key string"},
		{"trailing comma in array", wrap(`{"identity":{"groups":["a",]}}`, `{}`), "invalid character ']' looking for beginning of value"},
		{"missing colon", `{"input" {}}`, "malformed JSON at byte 10: invalid character '{' after object key"},
		{"missing comma", `{"input":{} "x":1}`, "invalid character '\"' after object key:value pair"},
		{"missing comma in array", wrap(`{"identity":{"groups":["a" "b"]}}`, `{}`), "after array element"},
		{"single quotes", `{'input':{}}`, "invalid character '\\'' looking for beginning of object key string"},
		{"unquoted key", `{input:{}}`, "invalid character 'i' looking for beginning of object key string"},
		{"control character in a string", wrap(`{"identity":{"user":"a`+"\n"+`b"}}`, `{}`), "invalid character '\\n' in string literal"},
		{"control character in a skipped string", `{"x":"` + "\x01" + `"}`, "in string literal"},
		{"bad escape", wrap(`{"identity":{"user":"\x"}}`, `{}`), "invalid character 'x' in string escape code"},
		{"bad unicode escape", wrap(`{"identity":{"user":"\u12G4"}}`, `{}`), "invalid character 'G' in \\u hexadecimal character escape"},
		{"unterminated string", `{"input":"abc`, "unexpected end of JSON input"},
		{"unterminated escape", `{"input":"abc\`, "unexpected end of JSON input"},
		{"leading zero", `{"x":01}`, "invalid character '1' after object key:value pair"},
		{"bare minus", `{"x":-}`, "invalid character '}' in numeric literal"},
		{"empty fraction", `{"x":1.}`, "invalid character '}' in numeric literal"},
		{"empty exponent", `{"x":1e+}`, "invalid character '}' in numeric literal"},
		{"leading dot", `{"x":.5}`, "invalid character '.' looking for beginning of value"},
		{"leading plus", `{"x":+1}`, "invalid character '+' looking for beginning of value"},
		{"NaN", `{"x":NaN}`, "invalid character 'N' looking for beginning of value"},
		{"bad literal", `{"x":tru}`, "invalid character '}' in literal true (expecting 'e')"},
		{"capital literal", `{"x":True}`, "invalid character 'T' looking for beginning of value"},
		{"bad null", wrap(ctx, `{"resource":nul}`), "in literal null (expecting 'l')"},
		{"byte order mark", "\xef\xbb\xbf{}", "invalid character 'ï' looking for beginning of value"},
		{"comment", `{"input":{}/*c*/}`, "invalid character '/' after object key:value pair"},
		{"non-ASCII outside strings", `{"x":1é}`, "after object key:value pair"},
		{"non-string key in a skipped object", `{"x":{1:2}}`, "invalid character '1' looking for beginning of object key string"},
		{"missing colon in a skipped object", `{"x":{"a" 1}}`, "invalid character '1' after object key"},
		{"missing comma in a skipped array", `{"x":[1 2]}`, "invalid character '2' after array element"},
		{"missing comma in a skipped object", `{"x":{"a":1 "b":2}}`, "after object key:value pair"},
		{"end in a literal", `{"x":tr`, "malformed JSON at byte 7: unexpected end of JSON input"},
		{"end in a number", `{"x":1.`, "malformed JSON at byte 7: unexpected end of JSON input"},
		{"end in a unicode escape", `{"x":"\u12`, "unexpected end of JSON input"},
		{"end after a value", `{"x":1`, "unexpected end of JSON input"},
		{"syntax error after a type error wins", wrap(ctx, `{"operation":1,}`), "malformed JSON"},
		{"too deep", `{"input":{"context":{},"action":{},"deep":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}}`, "nesting deeper than 10000 levels"},
		{"too deep in a known field", `{"input":{"context":{},"action":{"resource":{"table":{"properties":` + strings.Repeat(`{"a":`, maxDepth) + `1` + strings.Repeat("}", maxDepth) + `}}}}}`, "nesting deeper than 10000 levels"},
		{"too deep as the body", strings.Repeat("[", maxDepth+1), "nesting deeper than 10000 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode([]byte(tt.body))
			if err == nil {
				t.Fatalf("Decode succeeded with %+v, want an error containing %q", got, tt.want)
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Decode error is a %T, want an *InputError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %q, want it to contain %q", err, tt.want)
			}
			checkAgainstReference(t, []byte(tt.body))
		})
	}
}

// differentialCases are odd but valid or nearly valid bodies, checked
// against the reference and given to the fuzzer as seeds.
var differentialCases = []string{
	`{"input":{"context":{},"action":{}}}`,
	`{"input":{"context":{"identity":{"groups":["a","b"]}},"action":{"filterResources":[{"table":{"columns":["a","b","c"]}}],"filterResources":[{"table":{"columns":[null,"x"]}},null]}}}`,
	`{"input":{"context":{"identity":{"groups":["a","b"],"groups":[],"groups":[null]}},"action":{}}}`,
	`{"input":{"context":{"identity":{"groups":["a","b"],"groups":null,"groups":[null,null]}},"action":{}}}`,
	`{"input":{"context":{"properties":{"a":"1"},"properties":{"b":"2","a":null}},"action":{}}}`,
	`{"input":{"context":{"properties":{"a":"1"},"properties":null,"properties":{"b":"2"}}},"action":{}}`,
	`{"input":{"context":{},"action":{"resource":{"schema":{"properties":{"a":1}}},"resource":{"schema":{"properties":null}}}}}`,
	`{"input":{"context":{},"action":{"resource":{"table":{"properties":5}}}}}`,
	`{"input":{"context":{},"action":{"resource":{"table":{"properties":5,"properties":{}}}}}}`,
	`{"input":{"context":{},"action":{"resource":{"table":{"tableName":"a"}},"resource":null,"resource":{"catalog":{"name":"c"}}}}}`,
	`{"input":{"context":{"queryId":"q"},"action":{"operation":"x"}},"input":null,"input":{"context":{},"action":{}}}`,
	`{"input":{"context":{},"action":{}},"input":{"context":null}}`,
	`{"input":{"context":{},"action":{}},"input":5}`,
	`{"INPUT":{"Context":{"IDENTITY":{"USER":"u"}},"ACTION":{"Operation":"o","FilterResources":[{"TABLE":{"TABLENAME":"t"}}]}}}`,
	`{"input":{"context":{"identity":{"ſser":"x","user":"u","uſer":"v"}},"action":{"resource":{"table":{"\u212Aey":1,"tableNaMe":"t"}}}}}`,
	`{"input":{"context":{"identity":{"user":"\ud800\udc00\udc00\ud800x\u00e9` + "\xc3\xa9\xc3\x28\xf0\x9f\x98" + `"}},"action":{}}}`,
	`{"input":{"context":{"properties":{"\ud800":"\udfff","` + "\xff" + `":"` + "\xfe" + `"}},"action":{}}}`,
	`{"input":{"context":{},"action":{"filterResources":[{"user":{"user":"a","groups":["g"]}},{"function":{"functionName":"f"}},{"systemSessionProperty":{"name":"n"}},{"catalogSessionProperty":{"catalogName":"c","propertyName":"p"}}]}}}`,
	`{"input":{"context":{},"action":{"filterResources":[{"user":{"user":"a"},"user":{"groups":["g"]}}],"filterResources":[{"user":{"groups":[null,"h"]}},{"user":null}]}}}`,
	`{"input":{"context":{},"action":{"grantee":{"type":"USER"},"grantee":{"name":"n"},"targetResource":{"schema":{"schemaName":"s"}}}}}`,
	`{"input":{"context":{},"action":{"x":[1,-0,0.5,1e10,-2E-3,"s",true,false,null,{},[],{"a":[{"b":{}}]}]}}}`,
	`{"input":{"context":{"identity":null,"softwareStack":null},"action":{"operation":null}}}`,
	`{"input":{"context":{"identity":{"user":"a"},"identity":null},"action":{}}}`,
	`{"input":{"context":{},"action":{"filterResources":[]}}}`,
	"\t{\"input\" : {\"context\"\n:{},\"action\":{} } }\r\n",
	`{"input":{"context":{},"action":{"resource":{"table":{"properties":{"a":"\u0000\"","b":[1,{"c":null}]}}}}}}`,
}

func TestDecodeDifferential(t *testing.T) {
	t.Parallel()
	for _, c := range differentialCases {
		checkAgainstReference(t, []byte(c))
	}
}

// TestDecodeCorpora checks every request of the bench corpora against the
// reference.
func TestDecodeCorpora(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"allow.jsonl", "row_filters.jsonl", "batch_column_masks_250.jsonl",
		"filter_tables_100.jsonl", "filter_tables_1000.jsonl", "filter_tables_10000.jsonl", "filter_tables_20000.jsonl",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for i, line := range benchLines(t, name) {
				want, err := DecodeReference(line)
				if err != nil {
					t.Fatalf("line %d: reference: %v", i+1, err)
				}
				got, err := Decode(line)
				if err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Request{})); diff != "" {
					t.Fatalf("line %d: mismatch (-reference +fast):\n%s", i+1, diff)
				}
			}
		})
	}
}

// TestDecodeFieldNames checks the decoder's field lists against the json
// tags of the model, so that a field added to model.go is not silently
// skipped.
func TestDecodeFieldNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fields *fields
		typ    any
	}{
		{bodyFields, Query{}},
		{inputFields, Input{}},
		{contextFields, Context{}},
		{identityFields, Identity{}},
		{stackFields, SoftwareStack{}},
		{actionFields, Action{}},
		{resourceFields, Resource{}},
		{userFields, User{}},
		{sspFields, SystemSessionProperty{}},
		{cspFields, CatalogSessionProperty{}},
		{functionFields, Function{}},
		{catalogFields, Catalog{}},
		{schemaFields, Schema{}},
		{tableFields, Table{}},
		{columnFields, Column{}},
		{granteeFields, Grantee{}},
	}
	for _, tt := range tests {
		typ := reflect.TypeOf(tt.typ)
		var tags []string
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			tags = append(tags, name)
		}
		got := slices.Sorted(slices.Values(tt.fields.names))
		slices.Sort(tags)
		if diff := cmp.Diff(tags, got); diff != "" {
			t.Errorf("%s: field names differ from the json tags (-tags +decoder):\n%s", typ.Name(), diff)
		}
	}
}

// TestDecodeAllocations guards the allocation counts that make the batch
// path fast: a 20,000-table batch must not cost an allocation a table.
// It is not parallel: AllocsPerRun counts the allocations of every
// goroutine.
func TestDecodeAllocations(t *testing.T) {
	tests := []struct {
		file string
		max  float64
	}{
		{"allow.jsonl", 6},
		{"batch_column_masks_250.jsonl", 8},
		{"filter_tables_20000.jsonl", 12},
	}
	for _, tt := range tests {
		body := benchLines(t, tt.file)[0]
		checkAllocs(t, tt.file, body, tt.max)
	}

	// A repeated key decodes into what the earlier one left, in place: the
	// repeats must not copy the first array, which would be quadratic.
	var b strings.Builder
	b.WriteString(`{"input":{"context":{"identity":{"groups":[` + strings.Repeat(`"g",`, 20000) + `"g"]`)
	b.WriteString(strings.Repeat(`,"groups":[null,"h"]`, 5000))
	b.WriteString(`}},"action":{"filterResources":[` + strings.Repeat(`{"table":{"columns":["c"]}},`, 20000) + `{}]`)
	b.WriteString(strings.Repeat(`,"filterResources":[null,{"table":{"columns":[null]}}]`, 5000))
	b.WriteString(`}}}`)
	checkAllocs(t, "repeated keys", []byte(b.String()), 40)
}

// checkAllocs fails t if decoding body makes more than maxAllocs
// allocations or allocates more than 8 bytes a byte of body: 20,000 tables
// take 4.4 MB for a 1.9 MB body, where a quadratic copy would take
// gigabytes.
func checkAllocs(t *testing.T, name string, body []byte, maxAllocs float64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := Decode(body); err != nil {
			t.Fatal(err)
		}
	})
	runtime.ReadMemStats(&after)
	if allocs > maxAllocs {
		t.Errorf("%s: Decode made %.0f allocations, want at most %.0f", name, allocs, maxAllocs)
	}
	// AllocsPerRun runs the function once more to warm up.
	perRun := (after.TotalAlloc - before.TotalAlloc) / 6
	if limit := 8 * uint64(len(body)); perRun > limit {
		t.Errorf("%s: Decode allocated %d bytes for a %d-byte body, want at most %d", name, perRun, len(body), limit)
	}
	t.Logf("%s: %.0f allocations, %d bytes for a %d-byte body", name, allocs, perRun, len(body))
}

func TestRawInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, want string }{
		{`{"input":{"action":{"operation":"ExecuteQuery"},"context":{}}}`, `{"action":{"operation":"ExecuteQuery"},"context":{}}`},
		{` { "input" : { "action":{"operation":"X"}, "context":{} } } `, `{ "action":{"operation":"X"}, "context":{} }`},
		{`{"input":{"action":{"operation":"X","a":"}"},"context":{}},"extra":{"b":2}}`, `{"action":{"operation":"X","a":"}"},"context":{}}`},
		{`{"input":{"action":{"operation":"X"},"context":{"x":"\"}"}}}`, `{"action":{"operation":"X"},"context":{"x":"\"}"}}`},
	} {
		r, err := Decode([]byte(tc.body))
		if err != nil {
			t.Fatalf("Decode(%s): %v", tc.body, err)
		}
		if got := string(r.RawInput([]byte(tc.body))); got != tc.want {
			t.Errorf("RawInput(%s) = %s, want %s", tc.body, got, tc.want)
		}
	}
	var zero Request
	if got := zero.RawInput([]byte(`{"input":{}}`)); got != nil {
		t.Errorf("RawInput of a request not decoded = %q, want nil", got)
	}
}
