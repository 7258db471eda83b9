//go:build !race

package store_test

import "time"

// propagationBound is how soon a Listen callback must follow a commit: the
// issue's 1 s.
const propagationBound = time.Second
