package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

const auditUsage = `usage:
  warden audit decisions [flags]   recorded decisions, newest first
  warden audit get [flags] ID      one decision with its input and explanation
  warden audit denies [flags]      denials per user or table and per hour or day
  warden audit queries [flags]     Trino queries reported by the event listener
  warden audit changes [flags]     the change log of admin mutations

--from and --to take an RFC 3339 time or a duration before now (24h).
`

// auditCmd is warden audit decisions|get|denies|queries.
func auditCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, auditUsage)
		return errUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("audit "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, auditUsage, "\nflags:\n"); fs.PrintDefaults() }
	adminURL, af := adminFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	limit := fs.Int("limit", 50, "most rows to print")
	from := fs.String("from", "", "start of the time range: RFC 3339, or a duration before now")
	to := fs.String("to", "", "end of the time range: RFC 3339, or a duration before now")
	// The filters, by query parameter.
	filters := map[string]*string{}
	filter := func(name, param, usage string) { filters[param] = fs.String(name, "", usage) }
	switch sub {
	case "decisions":
		filter("user", "user", "Trino user")
		filter("group", "group", "a group of the user")
		filter("operation", "operation", "Trino operation, such as SelectFromColumns")
		filter("outcome", "outcome", "allow, deny, partial, filter, mask, none or error")
		filter("endpoint", "endpoint", "allow, batch, rowFilters, columnMask or batchColumnMasks")
		filter("query-id", "query_id", "Trino query ID")
		filter("cluster", "cluster", "Trino cluster")
		filter("catalog", "catalog", "catalog named by the decision")
		filter("schema", "schema", "schema named by the decision")
		filter("table", "table", "table named by the decision")
		filter("column", "column", "column named by the decision")
	case "queries":
		filter("user", "user", "Trino user")
		filter("query-id", "query_id", "Trino query ID")
		filter("state", "state", "QUEUED, FINISHED or FAILED")
		filter("cluster", "cluster", "Trino cluster")
	case "changes":
		filter("actor", "actor", "who made the change")
		filter("object-type", "object_type", "user, group, policy, grant…")
		filter("object-id", "object_id", "the changed object")
	case "denies":
		filter("by", "by", "user or table (default user)")
		filter("bucket", "bucket", "hour or day (default hour)")
	case "get":
	default:
		return usageError(stderr, fmt.Sprintf("unknown audit command %q (decisions, get, denies, queries, changes)", sub))
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	q := url.Values{}
	for param, v := range filters {
		if *v != "" {
			q.Set(param, *v)
		}
	}
	for param, v := range map[string]string{"from": *from, "to": *to} {
		if v == "" {
			continue
		}
		t, err := parseWhen(v, time.Now())
		if err != nil {
			return fmt.Errorf("--%s: %w", param, err)
		}
		q.Set(param, t.UTC().Format(time.RFC3339Nano))
	}
	if sub == "get" && fs.NArg() != 1 {
		return usageError(stderr, "usage: warden audit get [flags] DECISION_ID")
	}
	if sub != "get" && fs.NArg() != 0 {
		return usageError(stderr, fmt.Sprintf("audit %s takes no arguments, got %q", sub, fs.Args()))
	}
	ctx := context.Background()
	c, err := newAdminClient(ctx, *adminURL, af, stderr)
	if err != nil {
		return err
	}
	switch sub {
	case "get":
		var out json.RawMessage
		if err := c.call(ctx, http.MethodGet, "/api/v1/audit/decisions/"+url.PathEscape(fs.Arg(0)), nil, &out); err != nil {
			return err
		}
		return printIndented(stdout, out)
	case "denies":
		var out struct {
			By     string `json:"by"`
			Denies []struct {
				Bucket time.Time `json:"bucket"`
				Key    string    `json:"key"`
				Denies int64     `json:"denies"`
			} `json:"denies"`
		}
		var raw json.RawMessage
		if err := c.call(ctx, http.MethodGet, "/api/v1/audit/aggregates/denies?"+q.Encode(), nil, &raw); err != nil {
			return err
		}
		if *asJSON {
			return printIndented(stdout, raw)
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintf(w, "BUCKET\t%s\tDENIES\n", strings.ToUpper(out.By))
		for _, d := range out.Denies {
			fmt.Fprintf(w, "%s\t%s\t%d\n", d.Bucket.UTC().Format(time.RFC3339), d.Key, d.Denies)
		}
		return w.Flush()
	}
	if sub == "changes" {
		return auditChanges(ctx, c, q, *limit, *asJSON, stdout)
	}
	key, path := "decisions", "/api/v1/audit/decisions"
	if sub == "queries" {
		key, path = "queries", "/api/v1/audit/queries"
	}
	rows, err := fetchPages(ctx, c, path, key, q, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, string(b))
		return err
	}
	w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	if sub == "queries" {
		fmt.Fprintln(w, "CREATED\tQUERY ID\tUSER\tSTATE\tERROR\tQUERY")
		for _, r := range rows {
			var v struct {
				CreateTime time.Time `json:"create_time"`
				QueryID    string    `json:"query_id"`
				User       string    `json:"user"`
				State      string    `json:"state"`
				ErrorCode  string    `json:"error_code"`
				Query      string    `json:"query"`
			}
			if err := json.Unmarshal(r, &v); err != nil {
				return err
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", v.CreateTime.UTC().Format(time.RFC3339), v.QueryID, v.User, v.State, v.ErrorCode, oneLine(v.Query, 60))
		}
		return w.Flush()
	}
	fmt.Fprintln(w, "TIME\tDECISION ID\tUSER\tOPERATION\tRESOURCE\tOUTCOME\tDECIDER")
	for _, r := range rows {
		var v struct {
			DecidedAt  time.Time `json:"decided_at"`
			DecisionID string    `json:"decision_id"`
			User       string    `json:"user"`
			Operation  string    `json:"operation"`
			Resource   string    `json:"resource"`
			Outcome    string    `json:"outcome"`
			Items      int       `json:"items"`
			Kept       int       `json:"kept"`
			Decider    string    `json:"decider"`
		}
		if err := json.Unmarshal(r, &v); err != nil {
			return err
		}
		outcome := v.Outcome
		if v.Items > 0 {
			outcome += " (" + strconv.Itoa(v.Kept) + "/" + strconv.Itoa(v.Items) + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.DecidedAt.UTC().Format(time.RFC3339Nano), v.DecisionID, v.User, v.Operation, oneLine(v.Resource, 60), outcome, v.Decider)
	}
	return w.Flush()
}

// auditChanges prints the change log (GET /api/v1/changes, which pages
// with a numeric cursor). It has no time filter: --from and --to are
// refused.
func auditChanges(ctx context.Context, c *adminClient, q url.Values, limit int, asJSON bool, stdout io.Writer) error {
	if q.Has("from") || q.Has("to") {
		return errors.New("audit changes takes no --from or --to: the change log pages by revision")
	}
	type change struct {
		Revision   int64     `json:"revision"`
		Actor      string    `json:"actor"`
		Action     string    `json:"action"`
		ObjectType string    `json:"object_type"`
		ObjectID   string    `json:"object_id"`
		At         time.Time `json:"at"`
	}
	var rows []json.RawMessage
	for len(rows) < limit {
		q.Set("limit", strconv.Itoa(min(limit-len(rows), 1000)))
		var page struct {
			Changes    []json.RawMessage `json:"changes"`
			NextCursor int64             `json:"next_cursor"`
		}
		if err := c.call(ctx, http.MethodGet, "/api/v1/changes?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		rows = append(rows, page.Changes...)
		if page.NextCursor == 0 || len(page.Changes) == 0 {
			break
		}
		q.Set("cursor", strconv.FormatInt(page.NextCursor, 10))
	}
	if asJSON {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, string(b))
		return err
	}
	w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "REVISION\tWHEN\tWHO\tACTION\tOBJECT")
	for _, r := range rows {
		var v change
		if err := json.Unmarshal(r, &v); err != nil {
			return err
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s:%s\n", v.Revision, v.At.UTC().Format(time.RFC3339), v.Actor, v.Action, v.ObjectType, v.ObjectID)
	}
	return w.Flush()
}

// usageError tells the user what is wrong, since run does not print
// errUsage errors, and returns errUsage (exit status 2).
func usageError(stderr io.Writer, msg string) error {
	fmt.Fprintln(stderr, "warden:", msg)
	return errUsage
}

// fetchPages follows next_cursor until it has limit rows or none is left.
func fetchPages(ctx context.Context, c *adminClient, path, key string, q url.Values, limit int) ([]json.RawMessage, error) {
	var rows []json.RawMessage
	for len(rows) < limit {
		q.Set("limit", strconv.Itoa(min(limit-len(rows), 1000)))
		var page map[string]json.RawMessage
		if err := c.call(ctx, http.MethodGet, path+"?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		var got []json.RawMessage
		if err := json.Unmarshal(page[key], &got); err != nil {
			return nil, fmt.Errorf("unexpected answer from the admin API: %w", err)
		}
		rows = append(rows, got...)
		var next string
		if raw, ok := page["next_cursor"]; ok {
			if err := json.Unmarshal(raw, &next); err != nil {
				return nil, err
			}
		}
		if next == "" || len(got) == 0 {
			break
		}
		q.Set("cursor", next)
	}
	return rows, nil
}

// parseWhen reads an RFC 3339 time, or a duration before now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a positive duration (such as 24h)", s)
	}
	return now.Add(-d), nil
}

func printIndented(w io.Writer, raw json.RawMessage) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// oneLine flattens s and cuts it to n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
