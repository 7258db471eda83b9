package views_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/trino-warden/warden/views/trinotest"
)

// shared is the one Trino of this test binary, started by the first test
// that needs it (tests that do not, such as the tag suggestions, run
// without it) and stopped by TestMain.
var shared struct {
	once  sync.Once
	trino *trinotest.Trino
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.trino != nil {
		if err := shared.trino.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "views: stop Trino: %v\n", err)
		}
	}
	os.Exit(code)
}

// sharedTrino returns the binary's Trino, with the memory and tpch catalogs
// and access control that allows everything; it skips the test when Trino
// cannot run here (see trinotest.SkipOrFatal).
func sharedTrino(t *testing.T) *trinotest.Trino {
	t.Helper()
	shared.once.Do(func() {
		shared.trino, shared.err = trinotest.Launch(context.Background(), trinotest.Options{AccessControl: trinotest.AccessAllowAll})
	})
	if shared.err != nil {
		trinotest.SkipOrFatal(t, shared.err)
	}
	return shared.trino
}
