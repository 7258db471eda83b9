package grants

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/openfga/openfga/cmd/run"
	"github.com/openfga/openfga/pkg/logger"
	serverconfig "github.com/openfga/openfga/pkg/server/config"
)

// EmbeddedOptions configures an in-process OpenFGA.
type EmbeddedOptions struct {
	// ListObjectsDeadline is the server's list deadline (default 3s).
	ListObjectsDeadline time.Duration
	// StartTimeout bounds the wait for health (default 30s).
	StartTimeout time.Duration
}

// StartEmbedded runs OpenFGA in-process, with its memory datastore, on free
// loopback ports, and returns its HTTP API URL. It is the same server as
// the standalone binary (cmd/run), so the model behaves identically; only
// the state is lost on stop. stop shuts it down and waits.
//
// OpenFGA's runner listens for SIGINT and SIGTERM while it runs, and shuts
// itself down on them as Warden does.
func StartEmbedded(ctx context.Context, opts EmbeddedOptions) (apiURL string, stop func(), err error) {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	grpcAddr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	cfg := serverconfig.DefaultConfig()
	cfg.Datastore.Engine = "memory"
	cfg.GRPC.Addr = grpcAddr
	cfg.HTTP.Addr = httpAddr
	cfg.Playground.Enabled = false
	cfg.Metrics.Enabled = false
	cfg.Log.Level = "error"
	if opts.ListObjectsDeadline > 0 {
		cfg.ListObjectsDeadline = opts.ListObjectsDeadline
	}
	if err := cfg.Verify(); err != nil {
		return "", nil, fmt.Errorf("embedded openfga config: %w", err)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	sc := &run.ServerContext{Logger: logger.NewNoopLogger()}
	go func() {
		done <- sc.Run(rctx, cfg)
		close(done)
	}()
	stop = func() {
		cancel()
		<-done
	}
	apiURL = "http://" + httpAddr
	if err := waitHealthy(ctx, apiURL, opts.StartTimeout, done); err != nil {
		stop()
		return "", nil, fmt.Errorf("embedded openfga: %w", err)
	}
	return apiURL, stop, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// waitHealthy polls apiURL/healthz until it answers 200, done reports an
// exit, or timeout passes.
func waitHealthy(ctx context.Context, apiURL string, timeout time.Duration, done <-chan error) error {
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, apiURL+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-done:
			if err == nil {
				err = errors.New("exited")
			}
			return fmt.Errorf("openfga stopped before it was healthy: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("openfga not healthy after %v", timeout)
		}
	}
}
