package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"
)

const grantUsage = `usage:
  warden grant  [flags] PRINCIPAL PRIVILEGE OBJECT   e.g. warden grant group:analysts select table:tpch.sf1.orders
  warden revoke [flags] PRINCIPAL PRIVILEGE OBJECT
  warden grants ls [flags] (--principal P | --object O)

PRINCIPAL is user:NAME, group:NAME or role:NAME. OBJECT is catalog:C,
schema:C.S, table:C.S.T, column:C.S.T.COL, routine:C.S.F, system:global,
user:U (for impersonator) or role:R (for assignee); double-quote a name part
that holds a dot.
`

// grantCmd is warden grant, warden revoke and warden grants ls.
func grantCmd(cmd string, args []string, stdout, stderr io.Writer) error {
	if cmd == "grants" {
		if len(args) == 0 || args[0] != "ls" {
			fmt.Fprint(stderr, grantUsage)
			return errUsage
		}
		args = args[1:]
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, grantUsage, "\nflags:\n"); fs.PrintDefaults() }
	adminURL, af := adminFlags(fs)
	deny := fs.Bool("deny", false, "make the grant a deny: a veto over every allow")
	expires := fs.String("expires", "", "end the grant at this RFC 3339 time, or after this duration (e.g. 720h)")
	principal := fs.String("principal", "", "grants ls: list this principal's grants")
	object := fs.String("object", "", "grants ls: list the grants on this object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	if cmd == "grants" {
		if *principal == "" && *object == "" {
			fs.Usage()
			return errUsage
		}
		c, err := newAdminClient(ctx, *adminURL, af, stderr)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "PRINCIPAL\tPRIVILEGE\tOBJECT\tDENY\tEXPIRES")
		token := ""
		for {
			q := url.Values{"principal": {*principal}, "object": {*object}, "page_token": {token}}
			var out struct {
				Grants []struct {
					Principal string     `json:"principal"`
					Privilege string     `json:"privilege"`
					Object    string     `json:"object"`
					Deny      bool       `json:"deny"`
					ExpiresAt *time.Time `json:"expires_at"`
				} `json:"grants"`
				PageToken string `json:"page_token"`
			}
			if err := c.call(ctx, http.MethodGet, "/api/v1/grants?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			for _, g := range out.Grants {
				exp := ""
				if g.ExpiresAt != nil {
					exp = g.ExpiresAt.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", g.Principal, g.Privilege, g.Object, strconv.FormatBool(g.Deny), exp)
			}
			if out.PageToken == "" {
				break
			}
			token = out.PageToken
		}
		return w.Flush()
	}
	if fs.NArg() != 3 {
		fs.Usage()
		return errUsage
	}
	body := map[string]any{"principal": fs.Arg(0), "privilege": fs.Arg(1), "object": fs.Arg(2), "deny": *deny}
	if *expires != "" {
		t, err := time.Parse(time.RFC3339, *expires)
		if err != nil {
			d, derr := time.ParseDuration(*expires)
			if derr != nil {
				return fmt.Errorf("--expires %q is neither an RFC 3339 time nor a duration: %w", *expires, errUsage)
			}
			t = time.Now().Add(d)
		}
		body["expires_at"] = t.UTC().Format(time.RFC3339)
	}
	c, err := newAdminClient(ctx, *adminURL, af, stderr)
	if err != nil {
		return err
	}
	method := http.MethodPost
	if cmd == "revoke" {
		method = http.MethodDelete
	}
	var out struct {
		Status   string `json:"status"`
		Revision int64  `json:"revision"`
		Message  string `json:"message"`
	}
	if err := c.call(ctx, method, "/api/v1/grants", body, &out); err != nil {
		return err
	}
	verb := "granted"
	if cmd == "revoke" {
		verb = "revoked"
	}
	switch out.Status {
	case "applied":
		fmt.Fprintf(stdout, "%s %s %s on %s (revision %d)\n", verb, fs.Arg(0), fs.Arg(1), fs.Arg(2), out.Revision)
	case "pending":
		fmt.Fprintf(stdout, "recorded (revision %d) but not yet in OpenFGA: %s\n", out.Revision, out.Message)
	default:
		return errors.New("unexpected answer from the admin API")
	}
	return nil
}
