package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/trino-warden/warden/policy/trino"
)

type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

const checkUsage = `usage: warden check [flags] OPERATION [RESOURCE…]

Asks a running Warden for the decision Trino's plugin would get, for example:

  warden check --user alice --group analysts SelectFromColumns tpch.sf1.orders --columns custkey,totalprice
  warden check --user alice FilterCatalogs tpch memory system
  warden check --user svc-superset ImpersonateUser alice
  warden check --user alice GetRowFilters tpch.sf1.orders
  warden check --user alice GetColumnMask tpch.sf1.customer --columns phone,address --explain

RESOURCE names, by operation: catalog; catalog.schema; catalog.schema.table;
catalog.schema.function; a user name; a session property name, or
catalog.property for SetCatalogSessionProperty. Several resources of a Filter
operation are sent as one batch; GetColumnMask with --columns is sent as a
batch of columns. Exit status: 0 allowed (or any answer of the filter, row
filter and mask endpoints), 3 denied, 1 error.

flags:
`

func check(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, checkUsage); fs.PrintDefaults() }
	defURL := os.Getenv("WARDEN_URL")
	if defURL == "" {
		defURL = "http://127.0.0.1:8181"
	}
	url := fs.String("url", defURL, "Warden decision listener `URL` (env WARDEN_URL)")
	user := fs.String("user", "", "Trino user the check is for (required)")
	var groups, columns stringList
	fs.Var(&groups, "group", "Trino group of the user; repeat or separate with commas")
	fs.Var(&columns, "columns", "columns, for SelectFromColumns, FilterColumns and GetColumnMask")
	colType := fs.String("column-type", "varchar", "Trino type sent with GetColumnMask columns")
	cluster := fs.String("cluster", "", "named cluster (sends to /clusters/NAME/…)")
	target := fs.String("target", "", "new name for Rename* operations (catalog.schema or catalog.schema.table)")
	grantee := fs.String("grantee", "", "new owner for Set*Authorization, as user:NAME or role:NAME")
	function := fs.String("procedure", "", "procedure name for ExecuteTableProcedure")
	trinoVersion := fs.String("trino-version", "476", "Trino version sent in the context")
	queryID := fs.String("query-id", "", "query ID sent in the context (Trino 478 and later)")
	explain := fs.Bool("explain", false, "ask Warden to explain the decision")
	raw := fs.Bool("json", false, "print Warden's JSON answer as it is")
	timeout := fs.Duration("timeout", 10*time.Second, "request timeout")
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	if fs.NArg() < 1 || *user == "" {
		fs.Usage()
		return 0, errUsage
	}
	// Flags may follow the positional arguments, as in the examples.
	pos := fs.Args()
	for len(pos) > 0 {
		i := indexFlag(pos)
		if i < 0 {
			break
		}
		if err := fs.Parse(pos[i:]); err != nil {
			return 0, err
		}
		pos = append(pos[:i:i], fs.Args()...)
	}
	op := pos[0]
	endpoint, input, err := buildCheck(op, pos[1:], checkFlags{user: *user, groups: groups, columns: columns,
		colType: *colType, target: *target, grantee: *grantee, procedure: *function, trinoVersion: *trinoVersion, queryID: *queryID})
	if err != nil {
		return 0, err
	}
	path := "/v1/data/trino/" + endpoint
	if *cluster != "" {
		path = "/clusters/" + *cluster + path
	}
	if *explain {
		path += "?explain=true"
	}
	body, err := json.Marshal(trino.Query{Input: input})
	if err != nil {
		return 0, err
	}
	client := &http.Client{Timeout: *timeout}
	resp, err := client.Post(strings.TrimRight(*url, "/")+path, "application/json; charset=utf-8", bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("ask Warden: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("read Warden's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("Warden answered %s: %s", resp.Status, strings.TrimSpace(string(out)))
	}
	if *raw {
		fmt.Fprintln(stdout, string(out))
	}
	return printAnswer(stdout, endpoint, out, *raw)
}

func indexFlag(args []string) int {
	for i, a := range args {
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			return i
		}
	}
	return -1
}

type checkFlags struct {
	user, colType, target, grantee, procedure, trinoVersion, queryID string
	groups, columns                                                  []string
}

func split(name string, parts int, what string) ([]string, error) {
	p := strings.Split(name, ".")
	if len(p) != parts {
		return nil, fmt.Errorf("%q is not a %s", name, what)
	}
	return p, nil
}

func resourceFor(op trino.Operation, name string, f checkFlags) (trino.Resource, error) {
	switch op.Kind() {
	case trino.KindUser:
		return trino.Resource{User: &trino.User{User: name}}, nil
	case trino.KindSystemSessionProperty:
		return trino.Resource{SystemSessionProperty: &trino.SystemSessionProperty{Name: name}}, nil
	case trino.KindCatalogSessionProperty:
		p, err := split(name, 2, "catalog.property name")
		if err != nil {
			return trino.Resource{}, err
		}
		return trino.Resource{CatalogSessionProperty: &trino.CatalogSessionProperty{CatalogName: p[0], PropertyName: p[1]}}, nil
	case trino.KindCatalog:
		return trino.Resource{Catalog: &trino.Catalog{Name: name}}, nil
	case trino.KindSchema:
		p, err := split(name, 2, "catalog.schema name")
		if err != nil {
			return trino.Resource{}, err
		}
		s := &trino.Schema{CatalogName: p[0], SchemaName: p[1]}
		if op == trino.OpCreateSchema {
			s.Properties = json.RawMessage("{}")
		}
		return trino.Resource{Schema: s}, nil
	case trino.KindFunction:
		p, err := split(name, 3, "catalog.schema.function name")
		if err != nil {
			return trino.Resource{}, err
		}
		return trino.Resource{Function: &trino.Function{CatalogName: p[0], SchemaName: p[1], FunctionName: p[2]}}, nil
	case trino.KindTable, trino.KindColumn:
		p, err := split(name, 3, "catalog.schema.table name")
		if err != nil {
			return trino.Resource{}, err
		}
		t := &trino.Table{CatalogName: p[0], SchemaName: p[1], TableName: p[2]}
		switch op {
		case trino.OpSelectFromColumns, trino.OpUpdateTableColumns, trino.OpCreateViewWithSelectFromColumns, trino.OpFilterColumns:
			t.Columns = append([]string{}, f.columns...)
		case trino.OpCreateTable, trino.OpCreateMaterializedView, trino.OpSetTableProperties, trino.OpSetMaterializedViewProperties:
			t.Properties = json.RawMessage("{}")
		}
		r := trino.Resource{Table: t}
		if op == trino.OpExecuteTableProcedure {
			if f.procedure == "" {
				return trino.Resource{}, errors.New("ExecuteTableProcedure needs --procedure")
			}
			r.Function = &trino.Function{FunctionName: f.procedure}
		}
		return r, nil
	}
	return trino.Resource{}, nil
}

func buildCheck(opName string, names []string, f checkFlags) (string, trino.Input, error) {
	op := trino.ParseOperation(opName)
	in := trino.Input{
		Context: trino.Context{Identity: trino.Identity{User: f.user, Groups: append([]string{}, f.groups...)},
			SoftwareStack: trino.SoftwareStack{TrinoVersion: f.trinoVersion}, QueryID: f.queryID},
		Action: trino.Action{Operation: opName},
	}
	if op == trino.OpUnknown {
		return "allow", in, nil
	}
	if op.Kind() == trino.KindNone {
		if len(names) > 0 {
			return "", in, fmt.Errorf("%s takes no resource", opName)
		}
		return "allow", in, nil
	}
	if len(names) == 0 {
		return "", in, fmt.Errorf("%s needs a resource", opName)
	}
	if op == trino.OpGetColumnMask {
		p, err := split(names[0], 3, "catalog.schema.table name")
		if err != nil {
			return "", in, err
		}
		cols := f.columns
		if len(cols) == 0 {
			return "", in, errors.New("GetColumnMask needs --columns")
		}
		if len(cols) == 1 {
			in.Action.Resource = &trino.Resource{Column: &trino.Column{CatalogName: p[0], SchemaName: p[1], TableName: p[2], ColumnName: cols[0], ColumnType: f.colType}}
			return "columnMask", in, nil
		}
		for _, c := range cols {
			in.Action.FilterResources = append(in.Action.FilterResources, trino.Resource{Column: &trino.Column{CatalogName: p[0], SchemaName: p[1], TableName: p[2], ColumnName: c, ColumnType: f.colType}})
		}
		return "batchColumnMasks", in, nil
	}
	var resources []trino.Resource
	for _, n := range names {
		r, err := resourceFor(op, n, f)
		if err != nil {
			return "", in, err
		}
		resources = append(resources, r)
	}
	if op.IsFilter() && (len(resources) > 1 || op == trino.OpFilterColumns) {
		in.Action.FilterResources = resources
		return "batch", in, nil
	}
	if len(resources) > 1 {
		return "", in, fmt.Errorf("%s takes one resource, got %d", opName, len(resources))
	}
	in.Action.Resource = &resources[0]
	switch op {
	case trino.OpRenameSchema, trino.OpRenameTable, trino.OpRenameView, trino.OpRenameMaterializedView:
		if f.target == "" {
			return "", in, fmt.Errorf("%s needs --target", opName)
		}
		kindOp := trino.OpShowTables
		if op != trino.OpRenameSchema {
			kindOp = trino.OpShowColumns
		}
		t, err := resourceFor(kindOp, f.target, f)
		if err != nil {
			return "", in, err
		}
		in.Action.TargetResource = &t
	case trino.OpSetSchemaAuthorization, trino.OpSetTableAuthorization, trino.OpSetViewAuthorization:
		kind, name, ok := strings.Cut(f.grantee, ":")
		if !ok || (kind != "user" && kind != "role") {
			return "", in, fmt.Errorf("%s needs --grantee user:NAME or role:NAME", opName)
		}
		in.Action.Grantee = &trino.Grantee{Type: strings.ToUpper(kind), Name: name}
	}
	if op == trino.OpGetRowFilters {
		return "rowFilters", in, nil
	}
	return "allow", in, nil
}

func printAnswer(w io.Writer, endpoint string, body []byte, quiet bool) (int, error) {
	var ans struct {
		DecisionID  string          `json:"decision_id"`
		Result      json.RawMessage `json:"result"`
		Explanation json.RawMessage `json:"explanation"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return 0, fmt.Errorf("Warden's answer is not JSON: %w", err)
	}
	code := 0
	if endpoint == "allow" && string(ans.Result) != "true" {
		code = 3
	}
	if quiet {
		return code, nil
	}
	switch {
	case endpoint == "allow" && code == 0:
		fmt.Fprintln(w, "ALLOW")
	case endpoint == "allow":
		fmt.Fprintln(w, "DENY")
	default:
		fmt.Fprintln(w, string(ans.Result))
	}
	fmt.Fprintln(w, "decision_id:", ans.DecisionID)
	if len(ans.Explanation) > 0 {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, ans.Explanation, "", "  "); err == nil {
			fmt.Fprintln(w, "explanation:", pretty.String())
		}
	}
	return code, nil
}
