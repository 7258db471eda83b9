// Command warden is the access-control service behind Trino's OPA plugin.
//
//	warden serve [flags]            serve decisions (see docs/configuration.md)
//	warden check [flags] OP [RES…]  ask a running Warden for a decision
//	warden grant|revoke P PRIV OBJ  manage grants through the admin API
//	warden grants ls                list grants
//	warden migrate up|down|version  manage the database schema
//	warden rules validate FILE…     check rules.json files as Trino would load them
//	warden policy test DIR          run Rego unit tests, as opa test does
//	warden policy push|ls|rollback  manage policy through the admin API
//	warden audit decisions|get|denies|queries|changes  read the audit
//	warden simulate                 replay recorded decisions against a candidate change
//	warden views sync|status        the governed catalog's reconciler
//	warden version                  print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trino-warden/warden/policy/fbac"
	"github.com/trino-warden/warden/policy/rego"
	"github.com/trino-warden/warden/server"
	"github.com/trino-warden/warden/server/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `usage: warden <command> [arguments]

commands:
  serve            serve decisions to Trino's OPA access-control plugin
  check            ask a running Warden for a decision
  grant, revoke    grant or revoke a privilege through the admin API
  grants ls        list grants by principal or object
  migrate          apply or revert the database schema: up, down [N], version
  rules validate   check rules.json files as Trino would load them
  policy test      run Rego unit tests in a directory, as opa test does
  policy push|ls|rollback
                   upload a policy, list its revisions, roll back (admin API)
  audit            recorded decisions, denials and Trino queries (admin API)
  simulate         replay recorded decisions against a candidate policy or grants (admin API)
  views sync|status
                   the governed catalog's reconciler: sync now, or print the plan (admin API)
  version          print the version

Run 'warden <command> -h' for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks an error already explained to the user.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stderr)
	case "check":
		var code int
		code, err = check(args[1:], stdout, stderr)
		if err == nil {
			return code
		}
	case "grant", "revoke", "grants":
		err = grantCmd(args[0], args[1:], stdout, stderr)
	case "migrate":
		err = migrateCmd(args[1:], stdout, stderr)
	case "rules":
		if len(args) < 2 || args[1] != "validate" {
			fmt.Fprintln(stderr, "usage: warden rules validate FILE…")
			return 2
		}
		err = rulesValidate(args[2:], stdout)
	case "policy":
		err = policyCmd(args[1:], stdout, stderr)
	case "audit":
		err = auditCmd(args[1:], stdout, stderr)
	case "simulate":
		err = simulateCmd(args[1:], stdout, stderr)
	case "views":
		err = viewsCmd(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "warden", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "warden: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintln(stderr, "warden:", err)
		return 1
	}
}

func serve(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, rest, err := config.Load(fs, args, os.Environ())
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", rest)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	logger := newLogger(cfg.Log, stderr)
	logEffectiveConfig(logger, cfg)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	opts := server.OptionsFromConfig(cfg, logger)
	if opts.Auth, err = server.AuthenticatorFromConfig(cfg); err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		st, err := openStore(ctx, cfg, logger)
		if err != nil {
			return err
		}
		defer st.Close()
		opts.Store = st
	}
	opts.Registry = prometheus.NewRegistry()
	if opts.Grants, err = server.GrantsFromConfig(ctx, cfg, logger, opts.Registry); err != nil {
		return fmt.Errorf("start OpenFGA grants: %w", err)
	}
	if opts.Grants != nil {
		defer opts.Grants.Close()
	}
	if opts.Views, err = server.ViewsFromConfig(cfg); err != nil {
		return err
	}
	if opts.Views != nil {
		defer opts.Views.Trino.Close()
	}
	return server.New(opts, logger).Run(ctx)
}

func newLogger(c config.LogConfig, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if c.Format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(server.ContextHandler{Handler: h})
}

func logEffectiveConfig(logger *slog.Logger, cfg config.Config) {
	flat := cfg.Redacted()
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]any, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, flat[k]))
	}
	logger.Info("effective configuration", slog.Group("config", attrs...))
	logger.Info("starting warden", "version", version)
}

func rulesValidate(files []string, stdout io.Writer) error {
	if len(files) == 0 {
		return fmt.Errorf("rules validate needs at least one FILE: %w", errUsage)
	}
	var errs []error
	for _, f := range files {
		if _, err := fbac.ParseFile(f); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", f)
	}
	return errors.Join(errs...)
}

func policyTest(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("policy test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "print every test, not only failures")
	run := fs.String("run", "", "run only tests whose name matches this regular `expression`")
	v0 := fs.Bool("v0-compatible", false, "parse the modules as Rego v0 (OPA 0.x syntax)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("policy test needs exactly one DIR: %w", errUsage)
	}
	passed, failed, err := rego.RunTests(context.Background(), fs.Arg(0), stdout, rego.TestOptions{Verbose: *verbose, Run: *run, V0Compatible: *v0})
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d Rego tests failed", failed, passed+failed)
	}
	return nil
}
