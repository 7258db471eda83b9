package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"
)

const viewsUsage = `usage:
  warden views sync [--dry-run]   make the governed catalog match the registrations now (or print the plan)
  warden views status             the outcome of the last sync
`

func viewsCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "sync" && args[0] != "status") {
		fmt.Fprint(stderr, viewsUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("views "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	adminURL, af := adminFlags(fs)
	dryRun := fs.Bool("dry-run", false, "print the plan without applying it")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := newAdminClient(ctx, *adminURL, af, stderr)
	if err != nil {
		return err
	}
	var out struct {
		Plan struct {
			Actions []struct {
				Kind, Schema, View, Reason, SQL string
			} `json:"actions"`
			Views int `json:"views"`
		} `json:"plan"`
		Status *struct {
			Applied, Planned int
			Done             bool
			Error            string
		} `json:"status"`
		Error string `json:"error"`
	}
	var raw json.RawMessage
	if args[0] == "status" {
		err = c.call(ctx, http.MethodGet, "/api/v1/views/status", nil, &raw)
	} else {
		err = c.call(ctx, http.MethodPost, "/api/v1/views/sync", map[string]bool{"dry_run": *dryRun}, &raw)
	}
	if err != nil {
		return err
	}
	if *asJSON || args[0] == "status" {
		_, err := fmt.Fprintln(stdout, string(raw))
		return err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return err
	}
	if len(out.Plan.Actions) == 0 {
		fmt.Fprintf(stdout, "the governed catalog matches its %d registrations\n", out.Plan.Views)
	} else {
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ACTION\tVIEW\tWHY\tSQL")
		for _, a := range out.Plan.Actions {
			fmt.Fprintf(w, "%s\t%s.%s\t%s\t%s\n", a.Kind, a.Schema, a.View, a.Reason, a.SQL)
		}
		_ = w.Flush()
	}
	if out.Status != nil {
		fmt.Fprintf(stdout, "applied %d of %d\n", out.Status.Applied, out.Status.Planned)
	}
	if out.Error != "" {
		return errors.New(out.Error)
	}
	return nil
}
