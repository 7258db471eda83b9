package grants_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy/grants"
)

// TestEmbeddedRestart starts and stops the in-process server twice in one
// process.
func TestEmbeddedRestart(t *testing.T) {
	t.Parallel()
	for i := 0; i < 2; i++ {
		url, stop, err := grants.StartEmbedded(context.Background(), grants.EmbeddedOptions{})
		require.NoError(t, err)
		require.NotEmpty(t, url)
		stop()
	}
}
