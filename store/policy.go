package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/trino-warden/warden/store/internal/db"
)

// validatePolicy checks a policy set before it is written, so a bad set
// fails with a message rather than a constraint name.
func validatePolicy(cluster string, docs []PolicyDocument) error {
	if strings.TrimSpace(cluster) == "" {
		return fmt.Errorf("%w: empty cluster name", ErrInvalid)
	}
	seen := make(map[string]bool, len(docs))
	for _, d := range docs {
		switch d.Kind {
		case KindRules, KindRego, KindData:
		default:
			return fmt.Errorf("%w: document %q: unknown kind %q (want rules, rego or data)", ErrInvalid, d.Path, d.Kind)
		}
		if d.Path == "" {
			return fmt.Errorf("%w: a %s document has an empty path", ErrInvalid, d.Kind)
		}
		if seen[d.Path] {
			return fmt.Errorf("%w: document path %q appears twice", ErrInvalid, d.Path)
		}
		seen[d.Path] = true
	}
	return nil
}

// policyGet reads the policy set of a cluster in force at a revision (0 =
// the newest).
func policyGet(ctx context.Context, q *db.Queries, conn db.DBTX, cluster string, revision int64) (PolicySet, error) {
	rev, err := q.PolicyRevisionGetAt(ctx, conn, db.PolicyRevisionGetAtParams{Cluster: cluster, AtRevision: revision})
	if err != nil {
		return PolicySet{}, fmt.Errorf("store: policy of cluster %q at revision %d: %w", cluster, revision, translate(err))
	}
	rows, err := q.PolicyDocumentList(ctx, conn, db.PolicyDocumentListParams{Cluster: cluster, Revision: rev.Revision})
	if err != nil {
		return PolicySet{}, fmt.Errorf("store: policy documents of cluster %q: %w", cluster, translate(err))
	}
	set := PolicySet{PolicyRevision: policyRevisionFromRow(rev), Documents: make([]PolicyDocument, 0, len(rows))}
	for _, r := range rows {
		set.Documents = append(set.Documents, PolicyDocument{Kind: DocumentKind(r.Kind), Path: r.Path, Content: r.Content})
	}
	return set, nil
}

// policyWrite writes a new policy revision of a cluster holding docs, and
// its change-log row.
func (t *Tx) policyWrite(ctx context.Context, actor, cluster string, docs []PolicyDocument,
	message string, restoredFrom int64, action string,
) (int64, error) {
	if err := validatePolicy(cluster, docs); err != nil {
		return 0, err
	}
	rev, err := t.Revision(ctx)
	if err != nil {
		return 0, err
	}
	var before any
	prev, err := policyGet(ctx, t.q, t.tx, cluster, 0)
	switch {
	case err == nil:
		before = prev
	case !isNotFound(err):
		return 0, err
	}
	pr, err := t.q.PolicyRevisionInsert(ctx, t.tx, db.PolicyRevisionInsertParams{
		Cluster:      cluster,
		Revision:     rev,
		Actor:        actor,
		Message:      message,
		RestoredFrom: nonZero(restoredFrom),
	})
	if err != nil {
		return 0, fmt.Errorf("store: policy revision of cluster %q: %w", cluster, translate(err))
	}
	sorted := slices.Clone(docs)
	slices.SortFunc(sorted, func(a, b PolicyDocument) int { return strings.Compare(a.Path, b.Path) })
	for _, d := range sorted {
		err := t.q.PolicyDocumentInsert(ctx, t.tx, db.PolicyDocumentInsertParams{
			Cluster: cluster, Revision: rev, Kind: string(d.Kind), Path: d.Path, Content: d.Content,
		})
		if err != nil {
			return 0, fmt.Errorf("store: policy document %q: %w", d.Path, translate(err))
		}
	}
	after := PolicySet{PolicyRevision: policyRevisionFromRow(pr), Documents: sorted}
	return rev, t.record(ctx, actor, action, ObjectPolicy, cluster, before, after)
}

// PolicyPut replaces the whole policy set of a cluster by docs, as one new
// revision, which it returns. It returns ErrInvalid for an empty cluster
// name, a document with an unknown kind or an empty path, or two documents
// with the same path. An empty docs is a valid set: the cluster then has no
// policy documents.
func (t *Tx) PolicyPut(ctx context.Context, actor, cluster string, docs []PolicyDocument, message string) (int64, error) {
	return t.policyWrite(ctx, actor, cluster, docs, message, 0, ActionPut)
}

// PolicyRollback makes the policy set of a cluster in force at toRevision the
// current one again, as a new revision that it returns: history is never
// rewritten. It returns ErrNotFound when the cluster had no policy set at
// toRevision.
func (t *Tx) PolicyRollback(ctx context.Context, actor, cluster string, toRevision int64) (int64, error) {
	if toRevision <= 0 {
		return 0, fmt.Errorf("%w: roll back to revision %d", ErrInvalid, toRevision)
	}
	if _, err := t.Revision(ctx); err != nil {
		return 0, err
	}
	target, err := policyGet(ctx, t.q, t.tx, cluster, toRevision)
	if err != nil {
		return 0, err
	}
	message := fmt.Sprintf("roll back to revision %d", target.Revision)
	return t.policyWrite(ctx, actor, cluster, target.Documents, message, target.Revision, ActionRollback)
}

// PolicyPut replaces a cluster's policy set in its own transaction; see
// Tx.PolicyPut.
func (s *Store) PolicyPut(ctx context.Context, actor, cluster string, docs []PolicyDocument, message string) (int64, error) {
	return inTx(ctx, s, func(tx *Tx) (int64, error) { return tx.PolicyPut(ctx, actor, cluster, docs, message) })
}

// PolicyRollback rolls a cluster's policy set back in its own transaction;
// see Tx.PolicyRollback.
func (s *Store) PolicyRollback(ctx context.Context, actor, cluster string, toRevision int64) (int64, error) {
	return inTx(ctx, s, func(tx *Tx) (int64, error) { return tx.PolicyRollback(ctx, actor, cluster, toRevision) })
}

// PolicyGet returns the policy set of a cluster in force at a revision: that
// of its newest policy revision at or below it (0 = the newest). It returns
// ErrNotFound when the cluster had no policy set then, ErrUnavailable when
// PostgreSQL cannot be reached.
func (s *Store) PolicyGet(ctx context.Context, cluster string, revision int64) (PolicySet, error) {
	var set PolicySet
	err := s.InTxOptions(ctx, TxOptions{Isolation: RepeatableRead, ReadOnly: true}, func(tx *Tx) error {
		var err error
		set, err = policyGet(ctx, tx.q, tx.tx, cluster, revision)
		return err
	})
	return set, err
}

// PolicyRevisions returns up to limit revisions of a cluster's policy set,
// newest first, below before (0 = from the newest). It returns
// ErrUnavailable when PostgreSQL cannot be reached; a cluster without policy
// has no revisions, which is no error.
func (s *Store) PolicyRevisions(ctx context.Context, cluster string, limit int, before int64) ([]PolicyRevision, error) {
	rows, err := s.q.PolicyRevisionList(ctx, s.pool, db.PolicyRevisionListParams{
		Cluster: cluster, BeforeRevision: before, MaxRows: clampLimit(limit),
	})
	if err != nil {
		return nil, fmt.Errorf("store: policy revisions of cluster %q: %w", cluster, translate(err))
	}
	out := make([]PolicyRevision, 0, len(rows))
	for _, r := range rows {
		out = append(out, policyRevisionFromRow(r))
	}
	return out, nil
}

// PolicyClusterList returns the names of the clusters that have a policy
// set, sorted. It returns ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) PolicyClusterList(ctx context.Context) ([]string, error) {
	names, err := s.q.PolicyClusterList(ctx, s.pool)
	if err != nil {
		return nil, fmt.Errorf("store: policy clusters: %w", translate(err))
	}
	return names, nil
}
