package store

import (
	"context"
	"fmt"

	"github.com/trino-warden/warden/store/internal/db"
)

// Changes returns up to limit change-log rows that match filter, newest
// first, with an ID below cursor (0 = from the newest), and the cursor of the
// next page (0 when this page is the last). It returns ErrUnavailable when
// PostgreSQL cannot be reached.
func (s *Store) Changes(ctx context.Context, filter ChangeFilter, cursor int64, limit int) ([]Change, int64, error) {
	maxRows := clampLimit(limit)
	rows, err := s.q.ChangeLogList(ctx, s.pool, db.ChangeLogListParams{
		BeforeID:    cursor,
		Actor:       nonZero(filter.Actor),
		ObjectType:  nonZero(filter.ObjectType),
		ObjectID:    nonZero(filter.ObjectID),
		MinRevision: nonZero(filter.MinRevision),
		MaxRows:     maxRows,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: changes: %w", translate(err))
	}
	out := make([]Change, 0, len(rows))
	for _, r := range rows {
		out = append(out, changeFromRow(r))
	}
	var next int64
	if len(rows) == int(maxRows) {
		next = rows[len(rows)-1].ID
	}
	return out, next, nil
}
