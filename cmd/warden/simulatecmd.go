package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

const simulateUsage = `usage: warden simulate [flags]

Replays the decisions Warden recorded in a time window against the live
policy with a candidate change applied, and reports which would flip. The
live policy and grants are not changed. For example:

  warden simulate --rules candidate-rules.json --from 24h
  warden simulate --rego policy/ --from 2026-11-20T00:00:00Z --to 2026-11-21T00:00:00Z
  warden simulate --grant group:analysts,select,schema:hive.finance --revoke user:bob,select,table:hive.hr.salaries

--from and --to take an RFC 3339 time or a duration before now.
`

// grantList collects repeated "principal,privilege,object" flags.
type grantList []map[string]string

func (g *grantList) String() string { return fmt.Sprint(*g) }

func (g *grantList) Set(v string) error {
	p := strings.Split(v, ",")
	if len(p) != 3 || p[0] == "" || p[1] == "" || p[2] == "" {
		return errors.New("want principal,privilege,object (e.g. group:analysts,select,table:tpch.sf1.orders)")
	}
	*g = append(*g, map[string]string{"principal": p[0], "privilege": p[1], "object": p[2]})
	return nil
}

type simulateReport struct {
	Replayed     int       `json:"replayed"`
	Undecodable  int       `json:"undecodable"`
	Drifted      int       `json:"drifted"`
	Flipped      int       `json:"flipped"`
	FlippedItems int       `json:"flipped_items"`
	Truncated    bool      `json:"truncated"`
	SampledOut   int64     `json:"sampled_out"`
	Directory    string    `json:"directory"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	ByUser       []count   `json:"by_user"`
	ByOperation  []count   `json:"by_operation"`
	ByObject     []count   `json:"by_object"`
	Examples     []struct {
		DecisionID string    `json:"decision_id"`
		Time       time.Time `json:"time"`
		User       string    `json:"user"`
		Operation  string    `json:"operation"`
		Object     string    `json:"object"`
		Live       string    `json:"live"`
		Candidate  string    `json:"candidate"`
	} `json:"examples"`
}

type count struct {
	Key     string `json:"key"`
	Gained  int    `json:"gained"`
	Lost    int    `json:"lost"`
	Changed int    `json:"changed"`
}

func simulateCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, simulateUsage, "\nflags:\n"); fs.PrintDefaults() }
	adminURL, af := adminFlags(fs)
	cluster := fs.String("cluster", "default", "Trino cluster whose policy and traffic to use")
	rules := fs.String("rules", "", "candidate rules.json, replacing the live one")
	var rego multiFlag
	fs.Var(&rego, "rego", "candidate Rego module file or directory, replacing live modules of the same path (repeatable)")
	var adds, removes grantList
	fs.Var(&adds, "grant", "candidate grant to add: principal,privilege,object (repeatable)")
	fs.Var(&removes, "revoke", "candidate grant to remove: principal,privilege,object (repeatable)")
	from := fs.String("from", "24h", "start of the window: RFC 3339, or a duration before now")
	to := fs.String("to", "", "end of the window: RFC 3339, or a duration before now (default now)")
	examples := fs.Int("examples", 20, "flipped decisions to show")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	body := map[string]any{"cluster": *cluster, "max_examples": *examples}
	now := time.Now()
	for name, v := range map[string]string{"from": *from, "to": *to} {
		if v == "" {
			continue
		}
		t, err := parseWhen(v, now)
		if err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
		body[name] = t.UTC().Format(time.RFC3339Nano)
	}
	var docs []document
	if *rules != "" {
		b, err := os.ReadFile(*rules)
		if err != nil {
			return err
		}
		docs = append(docs, document{Kind: "rules", Path: "rules.json", Content: string(b)})
	}
	if len(rego) > 0 {
		more, err := collectDocuments(rego)
		if err != nil {
			return err
		}
		docs = append(docs, more...)
	}
	if len(docs) == 0 && len(adds) == 0 && len(removes) == 0 {
		return errors.New("nothing to simulate: give --rules, --rego, --grant or --revoke")
	}
	body["documents"] = docs
	body["grants"] = map[string]any{"add": adds, "remove": removes}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := newAdminClient(ctx, *adminURL, af, stderr)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := c.call(ctx, http.MethodPost, "/api/v1/simulate", body, &raw); err != nil {
		return err
	}
	if *asJSON {
		_, err := fmt.Fprintln(stdout, string(raw))
		return err
	}
	var rep simulateReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		return fmt.Errorf("reading the report: %w", err)
	}
	printSimulation(stdout, &rep)
	return nil
}

func printSimulation(w io.Writer, rep *simulateReport) {
	fmt.Fprintf(w, "window %s – %s\n", rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339))
	fmt.Fprintf(w, "replayed %d decisions (%d could not be decoded, %d sampled out of the audit", rep.Replayed, rep.Undecodable, rep.SampledOut)
	if rep.Truncated {
		fmt.Fprint(w, ", window truncated at the limit")
	}
	fmt.Fprintf(w, ")\n%d decisions would flip (%d answers); %d recorded answers differ from today's policy already\n",
		rep.Flipped, rep.FlippedItems, rep.Drifted)
	fmt.Fprintf(w, "directory: %s\n", rep.Directory)
	table := func(title string, rows []count) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s\n", title)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "\tGAINED\tLOST\tCHANGED")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", r.Key, r.Gained, r.Lost, r.Changed)
		}
		_ = tw.Flush()
	}
	table("by user", rep.ByUser)
	table("by operation", rep.ByOperation)
	table("by object", rep.ByObject)
	if len(rep.Examples) > 0 {
		fmt.Fprintln(w, "\nexamples")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tUSER\tOPERATION\tOBJECT\tLIVE\tCANDIDATE\tDECISION")
		for _, e := range rep.Examples {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339), e.User, e.Operation, e.Object, e.Live, e.Candidate, e.DecisionID)
		}
		_ = tw.Flush()
	}
}

// multiFlag collects a repeated string flag.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }

func (m *multiFlag) Set(v string) error {
	*m = append(*m, v)
	return nil
}
