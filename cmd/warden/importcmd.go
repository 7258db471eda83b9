package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"

	"github.com/trino-warden/warden/policy/loader"
	"github.com/trino-warden/warden/policy/rego"
	"github.com/trino-warden/warden/store"
)

// policyImport writes a policy straight into the store, for bootstrapping
// database mode before the admin API has an identity provider, and for
// scripts that hold the database credentials. Like push, it compiles the
// whole set first and writes nothing when it does not compile; the change
// log records the operating-system user as "cli:<user>".
func policyImport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("policy import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("database-url", "", "PostgreSQL URL (env WARDEN_DATABASE_URL)")
	cluster := fs.String("cluster", store.DefaultCluster, "Trino cluster whose policy this is")
	message := fs.String("message", "", "change message recorded with the revision")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: warden policy import [--database-url URL] [--cluster NAME] [--message M] RULES.json|REGO-DIR…")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		*url = os.Getenv("WARDEN_DATABASE_URL")
	}
	if *url == "" {
		return fmt.Errorf("import needs a database: set WARDEN_DATABASE_URL or --database-url: %w", errUsage)
	}
	docs, err := collectDocuments(fs.Args())
	if err != nil {
		return err
	}
	sdocs := make([]store.PolicyDocument, len(docs))
	for i, d := range docs {
		sdocs[i] = store.PolicyDocument{Kind: store.DocumentKind(d.Kind), Path: d.Path, Content: d.Content}
	}
	d, err := loader.DocumentsFromStore(sdocs)
	if err == nil {
		_, err = loader.BuildSet(d, rego.Options{})
	}
	if err != nil {
		return fmt.Errorf("the policy does not compile; nothing was imported: %w", err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, *url, store.Options{})
	if err != nil {
		return fmt.Errorf("open the database: %w", err)
	}
	defer st.Close()
	if err := st.CheckSchema(ctx); err != nil {
		return err
	}
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	rev, err := st.PolicyPut(ctx, actor, *cluster, sdocs, *message)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d documents into cluster %s: revision %d\n", len(docs), *cluster, rev)
	return nil
}
