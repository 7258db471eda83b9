//go:build race

package store_test

import "time"

// propagationBound is how soon a Listen callback must follow a commit. The
// issue's 1 s holds in a normal run; the race detector slows everything
// several times over on a shared machine, so it gets more.
const propagationBound = 3 * time.Second
