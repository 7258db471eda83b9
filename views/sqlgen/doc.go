// Package sqlgen generates the Trino SQL that Warden's data policies hand to
// Trino: column masks and row filters for governed views.
//
// It is pure Go and never talks to Trino. It has four parts:
//
//   - Trino types (ParseType): the signatures information_schema.columns
//     reports, parsed into a Type that prints back to the same text.
//   - Quoting (QuoteIdent, QuoteString, QualifiedName): identifiers and
//     string literals that cannot break out of their quotes.
//   - Masks (Mask, CompileMask): a JSON mask specification turned into an
//     expression over one column, always cast to the column's exact type, so
//     that Trino accepts it as that column's mask.
//   - Row policies (ParseTemplate, RowPolicy): predicate templates with
//     {{user.<attr>}} placeholders, validated once when written and rendered
//     per user with every attribute value as a quoted literal.
//
// Everything it generates can be checked against a real Trino with the probe
// statements of probe.go before it is stored.
package sqlgen

import "errors"

// Sentinel errors. Every error the package returns wraps exactly one of
// them, so callers can map them with errors.Is.
var (
	// ErrInvalidType reports a type signature that cannot be parsed.
	ErrInvalidType = errors.New("sqlgen: invalid type")
	// ErrInvalidName reports an identifier or literal that cannot be quoted
	// safely: empty, containing NUL or not valid UTF-8.
	ErrInvalidName = errors.New("sqlgen: invalid name")
	// ErrInvalidMask reports a mask specification that is malformed whatever
	// the column: an unknown kind, a missing parameter, a bad pattern.
	ErrInvalidMask = errors.New("sqlgen: invalid mask")
	// ErrIncompatibleMask reports a mask that is well formed but cannot be
	// applied to the column's type.
	ErrIncompatibleMask = errors.New("sqlgen: mask incompatible with column type")
	// ErrInvalidExpression reports SQL (a predicate template or a custom
	// mask) that is not a simple expression over columns, literals,
	// operators, allowed functions and placeholders.
	ErrInvalidExpression = errors.New("sqlgen: invalid expression")
	// ErrAttributeValue reports a user attribute whose value cannot be
	// rendered as a literal: a nested object, a mixed list, a string with
	// NUL or invalid UTF-8, or one too long.
	ErrAttributeValue = errors.New("sqlgen: attribute value cannot be rendered")
)
