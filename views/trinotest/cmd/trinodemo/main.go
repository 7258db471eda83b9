// Command trinodemo runs the test harness's Trino by hand, for demos and
// debugging: Trino 476 from the cache (downloaded and verified on first
// use), its OPA plugin pointed at a running Warden, with the memory and tpch
// catalogs and the groups of a file group provider's file. It prints how to
// connect with the Trino CLI and runs until interrupted.
//
//	go run ./cmd/warden serve --trino-rules testdata/e2e/rules.json &
//	go run ./views/trinotest/cmd/trinodemo -groups testdata/e2e/groups.txt
//
// With -install it only downloads, verifies and extracts Trino and the CLI
// into the cache, as .ci/deps.sh does before the tests run, and warns when
// there is no JDK 24+ to run Trino with.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/trino-warden/warden/views/trinotest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "trinodemo:", err)
		os.Exit(1)
	}
}

func run() error {
	install := flag.Bool("install", false, "only download, verify and extract Trino and the CLI into the cache, then exit")
	warden := flag.String("warden", "http://127.0.0.1:8181", "base URL of Warden's decision listener")
	allowAll := flag.Bool("allow-all", false, "use allow-all access control instead of Warden")
	groups := flag.String("groups", "testdata/e2e/groups.txt", `file group provider's file ("group:user,user" lines); empty for none`)
	port := flag.Int("port", 8080, "Trino's HTTP port on 127.0.0.1 (0 picks a free one)")
	heap := flag.String("heap", "2G", "the JVM's maximum heap")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *install {
		dir, err := trinotest.Install(ctx)
		if err != nil {
			return err
		}
		cli, err := trinotest.InstallCLI(ctx)
		if err != nil {
			return err
		}
		logger.Info("trino installed", "server", dir, "cli", cli)
		if _, err := trinotest.FindJava(); err != nil {
			// The tests skip without one, and fail in CI.
			logger.Warn("no JDK to run Trino with", "error", err)
		}
		return nil
	}
	opts := trinotest.Options{WardenURL: *warden, Port: *port, Heap: *heap, Logger: logger}
	if *allowAll {
		opts.AccessControl = trinotest.AccessAllowAll
	}
	if *groups != "" {
		g, err := trinotest.ReadGroups(*groups)
		if err != nil {
			return err
		}
		opts.Groups = g
	}
	tr, err := trinotest.Launch(ctx, opts)
	if err != nil {
		return err
	}
	cli, err := trinotest.InstallCLI(ctx)
	if err != nil {
		return errors.Join(err, tr.Close())
	}
	java, _ := trinotest.FindJava() //nolint:errcheck // Launch found one.
	fmt.Printf("Trino %s is up at %s (log: %s)\nConnect with:\n  %s -jar %s --server %s --user alice\nCtrl-C stops it.\n",
		trinotest.Version, tr.URL(), tr.LogPath(), java, cli, tr.URL())
	<-ctx.Done()
	return tr.Close()
}
