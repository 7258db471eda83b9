package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// adminClient calls the admin API.
type adminClient struct {
	url   string
	token string
	http  *http.Client
}

func adminFlags(fs *flag.FlagSet) (*string, *authFlags) {
	url := fs.String("admin-url", envOr("WARDEN_ADMIN_URL", "http://127.0.0.1:8182"), "Warden admin listener `URL` (env WARDEN_ADMIN_URL)")
	var a authFlags
	a.register(fs)
	return url, &a
}

func newAdminClient(ctx context.Context, url string, a *authFlags, stderr io.Writer) (*adminClient, error) {
	tok, err := a.bearerToken(ctx, stderr)
	if err != nil {
		return nil, err
	}
	return &adminClient{url: strings.TrimRight(url, "/"), token: tok, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// call sends a request and decodes a 2xx JSON answer into out; any other
// status becomes an error carrying the API's message.
func (c *adminClient) call(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("call the admin API: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Message != "" {
			msg := fmt.Sprintf("%s (%s): %s", resp.Status, e.Code, e.Message)
			for k, v := range e.Fields {
				msg += fmt.Sprintf("\n  %s: %s", k, v)
			}
			return errors.New(msg)
		}
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

type document struct {
	Kind    string `json:"kind"`
	Path    string `json:"path"`
	Content string `json:"content"`
}

// collectDocuments reads a policy from files and directories: a .json file
// is a rules.json unless it is named data.json; a directory contributes its
// .rego modules (tests excluded) and data.json files, by relative path.
func collectDocuments(paths []string) ([]document, error) {
	var docs []document
	add := func(kind, path, file string) error {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		docs = append(docs, document{Kind: kind, Path: filepath.ToSlash(path), Content: string(b)})
		return nil
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			kind := "rules"
			switch {
			case strings.HasSuffix(p, ".rego"):
				kind = "rego"
			case filepath.Base(p) == "data.json":
				kind = "data"
			}
			if err := add(kind, filepath.Base(p), p); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(p, func(file string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(p, file)
			switch {
			case strings.HasSuffix(file, "_test.rego"):
				return nil
			case strings.HasSuffix(file, ".rego"):
				return add("rego", rel, file)
			case d.Name() == "data.json":
				return add("data", rel, file)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(docs) == 0 {
		return nil, errors.New("no policy documents found: give a rules.json and/or a directory of .rego modules")
	}
	return docs, nil
}

// policyCmd is warden policy push|ls|rollback (and test, handled apart).
func policyCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: warden policy test|push|import|ls|rollback: %w", errUsage)
	}
	switch args[0] {
	case "test":
		return policyTest(args[1:], stdout, stderr)
	case "import":
		return policyImport(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("policy "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	url, af := adminFlags(fs)
	cluster := fs.String("cluster", "default", "Trino cluster whose policy this is")
	message := fs.String("message", "", "change message recorded with the revision")
	limit := fs.Int("limit", 20, "how many revisions ls shows")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx := context.Background()
	switch args[0] {
	case "push":
		docs, err := collectDocuments(fs.Args())
		if err != nil {
			return err
		}
		c, err := newAdminClient(ctx, *url, af, stderr)
		if err != nil {
			return err
		}
		var out struct {
			Revision int64 `json:"revision"`
		}
		if err := c.call(ctx, http.MethodPut, "/api/v1/policies/"+*cluster, map[string]any{"documents": docs, "message": *message}, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "pushed %d documents to cluster %s: revision %d\n", len(docs), *cluster, out.Revision)
	case "ls":
		c, err := newAdminClient(ctx, *url, af, stderr)
		if err != nil {
			return err
		}
		var out struct {
			Revisions []struct {
				Revision     int64     `json:"revision"`
				Actor        string    `json:"actor"`
				Message      string    `json:"message"`
				RestoredFrom int64     `json:"restored_from"`
				CreatedAt    time.Time `json:"created_at"`
			} `json:"revisions"`
		}
		if err := c.call(ctx, http.MethodGet, "/api/v1/policies/"+*cluster+"/revisions?limit="+strconv.Itoa(*limit), nil, &out); err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "REVISION\tWHEN\tWHO\tMESSAGE")
		for _, r := range out.Revisions {
			msg := r.Message
			if r.RestoredFrom != 0 {
				msg = fmt.Sprintf("rollback to %d. %s", r.RestoredFrom, msg)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", r.Revision, r.CreatedAt.UTC().Format(time.RFC3339), r.Actor, msg)
		}
		return w.Flush()
	case "rollback":
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: warden policy rollback [--cluster NAME] REVISION: %w", errUsage)
		}
		rev, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil {
			return fmt.Errorf("revision %q is not a number: %w", fs.Arg(0), errUsage)
		}
		c, err := newAdminClient(ctx, *url, af, stderr)
		if err != nil {
			return err
		}
		var out struct {
			Revision int64 `json:"revision"`
		}
		if err := c.call(ctx, http.MethodPost, "/api/v1/policies/"+*cluster+"/rollback", map[string]int64{"revision": rev}, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "cluster %s rolled back to revision %d's policy: revision %d\n", *cluster, rev, out.Revision)
	default:
		return fmt.Errorf("unknown policy command %q (test, push, import, ls, rollback): %w", args[0], errUsage)
	}
	return nil
}
