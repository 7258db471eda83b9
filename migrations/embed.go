// Package migrations holds Warden's PostgreSQL schema as golang-migrate SQL
// files, embedded so that the binary can apply them (`warden migrate up`).
//
// Versions are zero-padded so that sqlc, which reads the up files in
// lexicographic order, sees them in the same order as golang-migrate.
package migrations

import "embed"

// FS holds every migration file, up and down.
//
//go:embed *.sql
var FS embed.FS
