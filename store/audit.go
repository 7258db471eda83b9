package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/trino-warden/warden/store/internal/db"
)

// AuditWriter is the decision recorder's side of the audit tables.
type AuditWriter interface {
	// AuditCopy records a batch idempotently; see Store.AuditCopy.
	AuditCopy(ctx context.Context, b *AuditBatch, keepAfter time.Time) (AuditWriteResult, error)
	// AuditCopyFresh records a batch never written before, cheaper; see
	// Store.AuditCopyFresh.
	AuditCopyFresh(ctx context.Context, b *AuditBatch, keepAfter time.Time) (AuditWriteResult, error)
	// AuditPartitionsEnsure creates the day partitions from from to to.
	AuditPartitionsEnsure(ctx context.Context, from, to time.Time) (int, error)
	// AuditRetain deletes what is older than cutoff.
	AuditRetain(ctx context.Context, cutoff time.Time) (AuditRetention, error)
	// AuditSamplingAdd adds to the counts of one hour.
	AuditSamplingAdd(ctx context.Context, hour time.Time, counts []AuditSamplingCount) error
	// AuditQueryRecord stores a Trino query event; ErrInvalid for a row
	// the schema refuses.
	AuditQueryRecord(ctx context.Context, q AuditQuery) error
}

// AuditReader reads the audit tables. A malformed cursor, bucket or
// grouping is ErrInvalid.
type AuditReader interface {
	// AuditDecisions pages newest first.
	AuditDecisions(ctx context.Context, f AuditFilter, cursor string, limit int) ([]AuditDecision, string, error)
	// AuditDecisionGet returns ErrNotFound for an unknown ID.
	AuditDecisionGet(ctx context.Context, decisionID string) (AuditDecision, error)
	// AuditDecisionWindow pages oldest first, with inputs, for replay.
	AuditDecisionWindow(ctx context.Context, cluster string, from, to time.Time, cursor string, limit int) ([]AuditDecision, string, error)
	// AuditDenies counts denials per bucket and user or table.
	AuditDenies(ctx context.Context, by, bucket string, from, to time.Time) ([]AuditDenyCount, error)
	// AuditSamplingList returns the counts of decisions not recorded.
	AuditSamplingList(ctx context.Context, from, to time.Time) ([]AuditSamplingCount, error)
	// AuditQueries pages recorded Trino queries newest first.
	AuditQueries(ctx context.Context, f AuditQueryFilter, cursor string, limit int) ([]AuditQuery, string, error)
}

var (
	_ AuditWriter = (*Store)(nil)
	_ AuditReader = (*Store)(nil)
)

// AuditDecision is one recorded decision. The recorder fills it; the list
// leaves Explanation and Input out.
type AuditDecision struct {
	DecidedAt    time.Time `json:"decided_at"`
	DecisionID   string    `json:"decision_id"`
	Cluster      string    `json:"cluster"`
	Endpoint     string    `json:"endpoint"`
	Operation    string    `json:"operation"`
	User         string    `json:"user"`
	Groups       []string  `json:"groups"`
	QueryID      string    `json:"query_id,omitempty"`
	TrinoVersion string    `json:"trino_version,omitempty"`
	// Outcome is allow, deny, partial (a batch that kept some items),
	// filter, mask, none (no filter or mask) or error.
	Outcome string `json:"outcome"`
	// Items and Kept count a batch's items and those allowed.
	Items int `json:"items"`
	Kept  int `json:"kept"`
	// Resource is a one-line summary of what was asked about.
	Resource string `json:"resource"`
	// QualifiedTable is catalog.schema.table for a decision about one table.
	QualifiedTable string `json:"qualified_table,omitempty"`
	// Facets are the searchable names, each prefixed with its kind
	// (catalog:, schema:, table:, column:, function:, group:).
	Facets        []string        `json:"facets"`
	FacetsCapped  bool            `json:"facets_capped,omitempty"`
	Result        json.RawMessage `json:"result,omitempty"`
	Decider       string          `json:"decider,omitempty"`
	Explanation   json.RawMessage `json:"explanation,omitempty"`
	ExplainCapped bool            `json:"explain_capped,omitempty"`
	Error         string          `json:"error,omitempty"`
	Revision      int64           `json:"revision"`
	LatencyMicros int64           `json:"latency_us"`
	Input         json.RawMessage `json:"input,omitempty"`
}

// AuditFilter selects recorded decisions; zero fields match everything.
// Catalog, Schema, Table, Column and Group match a decision that names
// them anywhere, in any of its items.
type AuditFilter struct {
	User, Group, Operation, Outcome, QueryID, Cluster, Endpoint string
	Catalog, Schema, Table, Column                              string
	// From and To bound the decision time, [From, To).
	From, To time.Time
}

// AuditWriteResult says what a batch write did.
type AuditWriteResult struct {
	// Inserted rows are new; Duplicates were recorded before (a replay).
	Inserted, Duplicates int
	// Expired rows fell on days before the retention cutoff that have no
	// partition: they were not recorded.
	Expired int
	// Repaired rows were refused by PostgreSQL as they were and recorded
	// with their input replaced by the reason; they count as Inserted too.
	Repaired int
	// Refused rows were refused by PostgreSQL even repaired: they were not
	// recorded.
	Refused int
}

// AuditRetention says what AuditRetain deleted.
type AuditRetention struct {
	Partitions int   `json:"partitions"`
	Queries    int64 `json:"queries"`
	Sampling   int64 `json:"sampling"`
}

// AuditDenyCount is the number of denials of one user or table in one bucket.
type AuditDenyCount struct {
	Bucket time.Time `json:"bucket"`
	Key    string    `json:"key"`
	Denies int64     `json:"denies"`
}

// AuditSamplingCount is how many decisions of an operation were not
// recorded in an hour, and why: skipped, sampled_out or dropped.
type AuditSamplingCount struct {
	Hour      time.Time `json:"hour"`
	Operation string    `json:"operation"`
	Reason    string    `json:"reason"`
	Count     int64     `json:"count"`
}

// AuditQuery is a Trino query as its event listener reported it.
type AuditQuery struct {
	Cluster             string          `json:"cluster"`
	QueryID             string          `json:"query_id"`
	State               string          `json:"state"`
	User                string          `json:"user"`
	Principal           string          `json:"principal,omitempty"`
	Source              string          `json:"source,omitempty"`
	Catalog             string          `json:"catalog,omitempty"`
	Schema              string          `json:"schema,omitempty"`
	Query               string          `json:"query"`
	QueryType           string          `json:"query_type,omitempty"`
	ServerVersion       string          `json:"server_version,omitempty"`
	RemoteClientAddress string          `json:"remote_client_address,omitempty"`
	CreateTime          time.Time       `json:"create_time"`
	ExecutionStartTime  *time.Time      `json:"execution_start_time,omitempty"`
	EndTime             *time.Time      `json:"end_time,omitempty"`
	ErrorCode           string          `json:"error_code,omitempty"`
	ErrorType           string          `json:"error_type,omitempty"`
	FailureMessage      string          `json:"failure_message,omitempty"`
	Inputs              json.RawMessage `json:"inputs"`
	ReceivedAt          time.Time       `json:"received_at"`
}

// AuditQueryFilter selects recorded queries; zero fields match everything.
type AuditQueryFilter struct {
	User, QueryID, State, Cluster string
	From, To                      time.Time
}

// AuditWrite records rows as AuditCopy does; it encodes them first.
func (s *Store) AuditWrite(ctx context.Context, rows []AuditDecision, keepAfter time.Time) (AuditWriteResult, error) {
	return s.AuditCopy(ctx, encodeDecisions(rows), keepAfter)
}

// AuditWriteFresh records rows as AuditCopyFresh does; it encodes them
// first.
func (s *Store) AuditWriteFresh(ctx context.Context, rows []AuditDecision, keepAfter time.Time) (AuditWriteResult, error) {
	return s.AuditCopyFresh(ctx, encodeDecisions(rows), keepAfter)
}

func encodeDecisions(rows []AuditDecision) *AuditBatch {
	var b AuditBatch
	for i := range rows {
		b.AddDecision(&rows[i])
	}
	return &b
}

// AuditCopy records a batch of decisions idempotently, in one transaction:
// it copies them into the staging table, creates the partitions of days
// that have none (or, for days before keepAfter, drops their rows as
// expired), and moves them into audit_decisions, skipping decisions
// already recorded, so writing the same batch twice records it once.
//
// A row PostgreSQL refuses does not cost the others: the batch is split
// until the row is alone, and that row is stored repaired (its input
// replaced by the reason), or else left out and counted as Refused. It
// returns ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) AuditCopy(ctx context.Context, b *AuditBatch, keepAfter time.Time) (AuditWriteResult, error) {
	if b == nil || b.Len() == 0 {
		return AuditWriteResult{}, nil
	}
	res, err := s.auditCopyStaged(ctx, b, keepAfter)
	if err == nil || !errors.Is(err, ErrInvalid) {
		return res, err
	}
	if b.Len() == 1 {
		fixed, ferr := b.repaired(err.Error())
		if ferr == nil {
			res, ferr = s.auditCopyStaged(ctx, fixed, keepAfter)
			if ferr == nil {
				res.Repaired = 1
				return res, nil
			}
		}
		if errors.Is(ferr, ErrUnavailable) {
			return AuditWriteResult{}, ferr
		}
		return AuditWriteResult{Refused: 1}, nil
	}
	lo, hi, serr := b.split()
	if serr != nil {
		return AuditWriteResult{}, fmt.Errorf("store: write %d audit rows: %w", b.Len(), serr)
	}
	var total AuditWriteResult
	for _, half := range [2]*AuditBatch{lo, hi} {
		r, err := s.AuditCopy(ctx, half, keepAfter)
		if err != nil {
			return AuditWriteResult{}, err
		}
		total.add(r)
	}
	return total, nil
}

func (r *AuditWriteResult) add(o AuditWriteResult) {
	r.Inserted += o.Inserted
	r.Duplicates += o.Duplicates
	r.Expired += o.Expired
	r.Repaired += o.Repaired
	r.Refused += o.Refused
}

// auditCopyStaged is one attempt of AuditCopy: ErrInvalid when PostgreSQL
// refuses a row of the batch.
func (s *Store) auditCopyStaged(ctx context.Context, b *AuditBatch, keepAfter time.Time) (AuditWriteResult, error) {
	var res AuditWriteResult
	cutoff := utcDay(keepAfter)
	err := s.InTx(ctx, func(tx *Tx) error {
		res = AuditWriteResult{}
		if err := copyBatch(ctx, tx.tx.Conn().PgConn(), auditCopyStaging, b); err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		missing, err := tx.q.AuditStagingMissingDays(ctx, tx.tx)
		if err != nil {
			return fmt.Errorf("find missing partitions: %w", err)
		}
		for _, d := range missing {
			if !keepAfter.IsZero() && d.Time.Before(cutoff) {
				n, err := tx.q.AuditStagingDeleteDay(ctx, tx.tx, d)
				if err != nil {
					return fmt.Errorf("drop expired rows: %w", err)
				}
				res.Expired += int(n)
				continue
			}
			if _, err := tx.q.AuditPartitionCreate(ctx, tx.tx, d); err != nil {
				return fmt.Errorf("create partition %s: %w", d.Time.Format(time.DateOnly), err)
			}
		}
		n, err := tx.q.AuditStagingMove(ctx, tx.tx)
		if err != nil {
			return fmt.Errorf("move: %w", err)
		}
		res.Inserted = int(n)
		res.Duplicates = b.Len() - res.Expired - res.Inserted
		return tx.q.AuditStagingClear(ctx, tx.tx)
	})
	if err != nil {
		return AuditWriteResult{}, fmt.Errorf("store: write %d audit rows: %w", b.Len(), translate(err))
	}
	return res, nil
}

// AuditCopyFresh records a batch that has never been written: it copies
// the rows straight into audit_decisions, which costs PostgreSQL about half
// of AuditCopy's staging and move. When that fails because a row's day has
// no partition yet, a row is recorded already (a write whose commit was
// not acknowledged, retried) or PostgreSQL refuses a row, nothing is
// written and the batch goes through AuditCopy, which handles all three.
// Errors are AuditCopy's.
func (s *Store) AuditCopyFresh(ctx context.Context, b *AuditBatch, keepAfter time.Time) (AuditWriteResult, error) {
	if b == nil || b.Len() == 0 {
		return AuditWriteResult{}, nil
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return AuditWriteResult{}, fmt.Errorf("store: write %d audit rows: %w", b.Len(), translate(err))
	}
	err = copyBatch(ctx, conn.Conn().PgConn(), auditCopyDirect, b)
	conn.Release()
	if err == nil {
		return AuditWriteResult{Inserted: b.Len()}, nil
	}
	if e := translate(err); errors.Is(e, ErrUnavailable) {
		return AuditWriteResult{}, fmt.Errorf("store: write %d audit rows: %w", b.Len(), e)
	}
	return s.AuditCopy(ctx, b, keepAfter)
}

// copyBatch streams a batch through one binary COPY statement.
func copyBatch(ctx context.Context, conn *pgconn.PgConn, sql string, b *AuditBatch) error {
	r := io.MultiReader(bytes.NewReader(copyHeader), bytes.NewReader(b.Bytes()), bytes.NewReader(copyTrailer))
	tag, err := conn.CopyFrom(ctx, r, sql)
	if err != nil {
		return err
	}
	if n := tag.RowsAffected(); n != int64(b.Len()) {
		return fmt.Errorf("copied %d audit rows of %d", n, b.Len())
	}
	return nil
}

func auditFromRow(r db.AuditDecision) AuditDecision {
	return AuditDecision{
		DecidedAt: r.DecidedAt, DecisionID: r.DecisionID, Cluster: r.Cluster, Endpoint: r.Endpoint,
		Operation: r.Operation, User: r.UserName, Groups: r.Groups, QueryID: deref(r.QueryID),
		TrinoVersion: deref(r.TrinoVersion), Outcome: r.Outcome, Items: int(r.Items), Kept: int(r.Kept),
		Resource: r.Resource, QualifiedTable: deref(r.QualifiedTable), Facets: r.Facets,
		FacetsCapped: r.FacetsCapped, Result: r.Result, Decider: r.Decider, Explanation: r.Explanation,
		ExplainCapped: r.ExplainCapped, Error: deref(r.Error), Revision: r.Revision,
		LatencyMicros: r.LatencyUs, Input: r.Input,
	}
}

// AuditDecisions returns up to limit decisions that match f, newest first,
// after cursor ("" = from the newest), and the cursor of the next page (""
// when this page is the last). Rows leave out the explanation and input;
// AuditDecisionGet has them. It returns ErrInvalid for a malformed cursor,
// ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) AuditDecisions(ctx context.Context, f AuditFilter, cursor string, limit int) ([]AuditDecision, string, error) {
	at, id, err := decodeAuditCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	maxRows := clampLimit(limit)
	var facets []string
	for _, kv := range [...][2]string{{"catalog", f.Catalog}, {"schema", f.Schema}, {"table", f.Table}, {"column", f.Column}, {"group", f.Group}} {
		if kv[1] != "" {
			facets = append(facets, kv[0]+":"+kv[1])
		}
	}
	if facets == nil {
		facets = []string{}
	}
	rows, err := s.q.AuditDecisionList(ctx, s.pool, db.AuditDecisionListParams{
		BeforeAt: at, BeforeID: id, FromAt: nonZeroTime(f.From), ToAt: nonZeroTime(f.To),
		UserName: nonZero(f.User), Operation: nonZero(f.Operation), Outcome: nonZero(f.Outcome),
		QueryID: nonZero(f.QueryID), Cluster: nonZero(f.Cluster), Endpoint: nonZero(f.Endpoint),
		Facets: facets, MaxRows: maxRows,
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: list audit decisions: %w", translate(err))
	}
	out := make([]AuditDecision, 0, len(rows))
	for _, r := range rows {
		out = append(out, AuditDecision{
			DecidedAt: r.DecidedAt, DecisionID: r.DecisionID, Cluster: r.Cluster, Endpoint: r.Endpoint,
			Operation: r.Operation, User: r.UserName, Groups: r.Groups, QueryID: deref(r.QueryID),
			Outcome: r.Outcome, Items: int(r.Items), Kept: int(r.Kept), Resource: r.Resource,
			Facets: r.Facets, FacetsCapped: r.FacetsCapped, Result: r.Result, Decider: r.Decider,
			Revision: r.Revision, LatencyMicros: r.LatencyUs, Error: deref(r.Error),
		})
	}
	next := ""
	if len(rows) == int(maxRows) {
		last := rows[len(rows)-1]
		next = encodeAuditCursor(last.DecidedAt, last.DecisionID)
	}
	return out, next, nil
}

// AuditDecisionGet returns one recorded decision with its input and
// explanation. It returns ErrNotFound when no decision has the ID,
// ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) AuditDecisionGet(ctx context.Context, decisionID string) (AuditDecision, error) {
	r, err := s.q.AuditDecisionGet(ctx, s.pool, decisionID)
	if err != nil {
		return AuditDecision{}, fmt.Errorf("store: audit decision %q: %w", decisionID, translate(err))
	}
	return auditFromRow(r), nil
}

// AuditDecisionWindow returns up to limit decisions of cluster ("" = every
// cluster) made in [from, to), oldest first and with their inputs, after
// cursor, and the cursor of the next page ("" after the last): what a policy
// simulator replays. It returns ErrInvalid for a malformed cursor,
// ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) AuditDecisionWindow(ctx context.Context, cluster string, from, to time.Time, cursor string, limit int) ([]AuditDecision, string, error) {
	at, id, err := decodeAuditCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	maxRows := clampLimit(limit)
	rows, err := s.q.AuditDecisionWindow(ctx, s.pool, db.AuditDecisionWindowParams{
		FromAt: from, ToAt: to, AfterAt: at, AfterID: id, Cluster: nonZero(cluster), MaxRows: maxRows,
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: audit window: %w", translate(err))
	}
	out := make([]AuditDecision, 0, len(rows))
	for _, r := range rows {
		out = append(out, auditFromRow(r))
	}
	next := ""
	if len(rows) == int(maxRows) {
		last := rows[len(rows)-1]
		next = encodeAuditCursor(last.DecidedAt, last.DecisionID)
	}
	return out, next, nil
}

// AuditDenies counts denied decisions in [from, to) per bucket ("hour" or
// "day", in UTC) and per user or per table (by "user" or "table"; a table
// counts the single-table decisions about it), busiest first in each
// bucket, at most 1000 rows. It returns ErrInvalid for another by or
// bucket, ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) AuditDenies(ctx context.Context, by, bucket string, from, to time.Time) ([]AuditDenyCount, error) {
	if bucket != "hour" && bucket != "day" {
		return nil, fmt.Errorf("%w: bucket must be hour or day, not %q", ErrInvalid, bucket)
	}
	var out []AuditDenyCount
	switch by {
	case "user":
		rows, err := s.q.AuditDeniesByUser(ctx, s.pool, db.AuditDeniesByUserParams{Bucket: bucket, FromAt: from, ToAt: to, MaxRows: 1000})
		if err != nil {
			return nil, fmt.Errorf("store: denies by user: %w", translate(err))
		}
		for _, r := range rows {
			out = append(out, AuditDenyCount{Bucket: r.Bucket, Key: r.Key, Denies: r.Denies})
		}
	case "table":
		rows, err := s.q.AuditDeniesByTable(ctx, s.pool, db.AuditDeniesByTableParams{Bucket: bucket, FromAt: from, ToAt: to, MaxRows: 1000})
		if err != nil {
			return nil, fmt.Errorf("store: denies by table: %w", translate(err))
		}
		for _, r := range rows {
			out = append(out, AuditDenyCount{Bucket: r.Bucket, Key: r.Key, Denies: r.Denies})
		}
	default:
		return nil, fmt.Errorf("%w: by must be user or table, not %q", ErrInvalid, by)
	}
	if out == nil {
		out = []AuditDenyCount{}
	}
	return out, nil
}

// AuditPartitionsEnsure creates the partitions of every UTC day from from
// to to, both included, that has none, and returns how many it created.
// Replicas may call it concurrently. It returns ErrUnavailable when
// PostgreSQL cannot be reached.
func (s *Store) AuditPartitionsEnsure(ctx context.Context, from, to time.Time) (int, error) {
	created := 0
	for d := utcDay(from); !d.After(utcDay(to)); d = d.AddDate(0, 0, 1) {
		ok, err := s.q.AuditPartitionCreate(ctx, s.pool, pgDate(d))
		if err != nil {
			return created, fmt.Errorf("store: create audit partition %s: %w", d.Format(time.DateOnly), translate(err))
		}
		if ok {
			created++
		}
	}
	return created, nil
}

// AuditPartitionDays lists the UTC days that have a partition, oldest
// first. It returns ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) AuditPartitionDays(ctx context.Context) ([]time.Time, error) {
	days, err := s.q.AuditPartitionDays(ctx, s.pool)
	if err != nil {
		return nil, fmt.Errorf("store: audit partitions: %w", translate(err))
	}
	out := make([]time.Time, 0, len(days))
	for _, d := range days {
		out = append(out, d.Time)
	}
	return out, nil
}

// AuditRetain drops the decision partitions of the days before cutoff's
// UTC day, and deletes query events and sampling counts older than cutoff.
// It returns ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) AuditRetain(ctx context.Context, cutoff time.Time) (AuditRetention, error) {
	var r AuditRetention
	n, err := s.q.AuditPartitionsDropBefore(ctx, s.pool, pgDate(utcDay(cutoff)))
	if err != nil {
		return r, fmt.Errorf("store: drop audit partitions: %w", translate(err))
	}
	r.Partitions = int(n)
	if r.Queries, err = s.q.AuditQueriesDeleteBefore(ctx, s.pool, cutoff); err != nil {
		return r, fmt.Errorf("store: delete old query events: %w", translate(err))
	}
	if r.Sampling, err = s.q.AuditSamplingDeleteBefore(ctx, s.pool, cutoff); err != nil {
		return r, fmt.Errorf("store: delete old sampling counts: %w", translate(err))
	}
	return r, nil
}

// AuditSamplingAdd adds counts to the hour's counters (the hour is
// truncated to the hour); counts of one operation and reason add up. It
// returns ErrInvalid for an unknown reason, ErrUnavailable when PostgreSQL
// cannot be reached.
func (s *Store) AuditSamplingAdd(ctx context.Context, hour time.Time, counts []AuditSamplingCount) error {
	if len(counts) == 0 {
		return nil
	}
	p := db.AuditSamplingAddParams{Hour: hour.UTC().Truncate(time.Hour)}
	for _, c := range counts {
		p.Operations = append(p.Operations, c.Operation)
		p.Reasons = append(p.Reasons, c.Reason)
		p.Counts = append(p.Counts, c.Count)
	}
	if err := s.q.AuditSamplingAdd(ctx, s.pool, p); err != nil {
		return fmt.Errorf("store: add sampling counts: %w", translate(err))
	}
	return nil
}

// AuditSamplingList returns the counts of the hours in [from, to), by hour,
// operation and reason. It returns ErrUnavailable when PostgreSQL cannot be
// reached.
func (s *Store) AuditSamplingList(ctx context.Context, from, to time.Time) ([]AuditSamplingCount, error) {
	rows, err := s.q.AuditSamplingList(ctx, s.pool, db.AuditSamplingListParams{FromAt: from, ToAt: to})
	if err != nil {
		return nil, fmt.Errorf("store: list sampling counts: %w", translate(err))
	}
	out := make([]AuditSamplingCount, 0, len(rows))
	for _, r := range rows {
		out = append(out, AuditSamplingCount{Hour: r.Hour, Operation: r.Operation, Reason: r.Reason, Count: r.Count})
	}
	return out, nil
}

// AuditQueryRecord stores a query event. A completion replaces an earlier
// event of the same query; a creation event never replaces a completion,
// so events may arrive in any order and more than once. It returns
// ErrInvalid for an empty cluster or query ID, ErrUnavailable when
// PostgreSQL cannot be reached.
func (s *Store) AuditQueryRecord(ctx context.Context, q AuditQuery) error {
	inputs := q.Inputs
	if len(inputs) == 0 {
		inputs = json.RawMessage("[]")
	}
	_, err := s.q.AuditQueryUpsert(ctx, s.pool, db.AuditQueryUpsertParams{
		Cluster: q.Cluster, QueryID: q.QueryID, State: q.State, UserName: q.User,
		Principal: nonZero(q.Principal), Source: nonZero(q.Source), Catalog: nonZero(q.Catalog),
		SchemaName: nonZero(q.Schema), Query: q.Query, QueryType: nonZero(q.QueryType),
		ServerVersion: nonZero(q.ServerVersion), RemoteClientAddress: nonZero(q.RemoteClientAddress),
		CreateTime: q.CreateTime, ExecutionStartTime: q.ExecutionStartTime, EndTime: q.EndTime,
		ErrorCode: nonZero(q.ErrorCode), ErrorType: nonZero(q.ErrorType),
		FailureMessage: nonZero(q.FailureMessage), Inputs: inputs,
	})
	if err != nil {
		return fmt.Errorf("store: record query %q: %w", q.QueryID, translate(err))
	}
	return nil
}

// AuditQueries returns up to limit recorded queries that match f, newest
// first by creation time, after cursor, and the next page's cursor ("" after
// the last). It returns ErrInvalid for a malformed cursor, ErrUnavailable
// when PostgreSQL cannot be reached.
func (s *Store) AuditQueries(ctx context.Context, f AuditQueryFilter, cursor string, limit int) ([]AuditQuery, string, error) {
	at, id, err := decodeAuditCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	maxRows := clampLimit(limit)
	rows, err := s.q.AuditQueryList(ctx, s.pool, db.AuditQueryListParams{
		BeforeAt: at, BeforeID: id, FromAt: nonZeroTime(f.From), ToAt: nonZeroTime(f.To),
		UserName: nonZero(f.User), QueryID: nonZero(f.QueryID), State: nonZero(f.State),
		Cluster: nonZero(f.Cluster), MaxRows: maxRows,
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: list queries: %w", translate(err))
	}
	out := make([]AuditQuery, 0, len(rows))
	for _, r := range rows {
		out = append(out, AuditQuery{
			Cluster: r.Cluster, QueryID: r.QueryID, State: r.State, User: r.UserName,
			Principal: deref(r.Principal), Source: deref(r.Source), Catalog: deref(r.Catalog),
			Schema: deref(r.SchemaName), Query: r.Query, QueryType: deref(r.QueryType),
			ServerVersion: deref(r.ServerVersion), RemoteClientAddress: deref(r.RemoteClientAddress),
			CreateTime: r.CreateTime, ExecutionStartTime: r.ExecutionStartTime, EndTime: r.EndTime,
			ErrorCode: deref(r.ErrorCode), ErrorType: deref(r.ErrorType),
			FailureMessage: deref(r.FailureMessage), Inputs: r.Inputs, ReceivedAt: r.ReceivedAt,
		})
	}
	next := ""
	if len(rows) == int(maxRows) {
		last := rows[len(rows)-1]
		next = encodeAuditCursor(last.CreateTime, last.QueryID)
	}
	return out, next, nil
}

// encodeAuditCursor makes the opaque cursor of a (time, id) position.
func encodeAuditCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + "|" + id))
}

// decodeAuditCursor reads a cursor; "" is the start (nil time).
func decodeAuditCursor(c string) (*time.Time, string, error) {
	if c == "" {
		return nil, "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, "", fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	us, perr := strconv.ParseInt(ts, 10, 64)
	if !ok || perr != nil {
		return nil, "", fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	t := time.UnixMicro(us).UTC()
	return &t, id, nil
}

func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func pgDate(t time.Time) pgtype.Date { return pgtype.Date{Time: t, Valid: true} }

func nonZeroTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func nilIfEmpty(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return b
}

func clampInt32(n int) int32 {
	switch {
	case n < 0:
		return 0
	case n > 1<<31-1:
		return 1<<31 - 1
	}
	return int32(n)
}
