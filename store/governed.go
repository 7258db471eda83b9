package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/trino-warden/warden/store/internal/db"
)

// Change-log object types of the governed catalog.
const (
	ObjectDatasource   = "datasource"
	ObjectMaskPolicy   = "mask_policy"
	ObjectRowPolicy    = "row_policy"
	ObjectSubscription = "subscription"
)

// DatasourceColumn is a column of a registered source table.
type DatasourceColumn struct {
	Name string `json:"name"`
	// Type is Trino's exact type, as information_schema reports it.
	Type string `json:"type"`
	// Tags classify the column ("pii.email"); mask policies match on them.
	Tags []string `json:"tags"`
	// Exposed columns are the view's columns; the others are left out.
	Exposed bool `json:"exposed"`
}

// Datasource is a source table registered under the governed catalog.
type Datasource struct {
	ID            int64              `json:"id"`
	SourceCatalog string             `json:"source_catalog"`
	SourceSchema  string             `json:"source_schema"`
	SourceTable   string             `json:"source_table"`
	ViewSchema    string             `json:"view_schema"`
	ViewTable     string             `json:"view_table"`
	Description   string             `json:"description,omitempty"`
	Columns       []DatasourceColumn `json:"columns"`
	Owner         string             `json:"owner"`
	Revision      int64              `json:"revision"`
	CreatedAt     time.Time          `json:"created_at"`
	UpdatedAt     time.Time          `json:"updated_at"`
}

// MaskPolicy binds a mask to the columns with a tag, or to one column of
// one data source, with exemptions.
type MaskPolicy struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// DatasourceID is 0 for a policy on every data source.
	DatasourceID int64  `json:"datasource_id,omitempty"`
	Tag          string `json:"tag,omitempty"`
	Column       string `json:"column,omitempty"`
	// Mask is a views/sqlgen Mask specification.
	Mask             json.RawMessage     `json:"mask"`
	ExemptUsers      []string            `json:"exempt_users"`
	ExemptGroups     []string            `json:"exempt_groups"`
	ExemptAttributes map[string][]string `json:"exempt_attributes"`
	Priority         int32               `json:"priority"`
	CreatedBy        string              `json:"created_by"`
	Revision         int64               `json:"revision"`
	CreatedAt        time.Time           `json:"created_at"`
}

// RowPolicy is a row filter of one data source.
type RowPolicy struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	DatasourceID int64  `json:"datasource_id"`
	// Policy is a views/sqlgen RowPolicy.
	Policy    json.RawMessage `json:"policy"`
	CreatedBy string          `json:"created_by"`
	Revision  int64           `json:"revision"`
	CreatedAt time.Time       `json:"created_at"`
}

// Subscription says who may query a data source's view.
type Subscription struct {
	ID           int64               `json:"id"`
	DatasourceID int64               `json:"datasource_id"`
	Users        []string            `json:"users"`
	Groups       []string            `json:"groups"`
	Attributes   map[string][]string `json:"attributes"`
	CreatedBy    string              `json:"created_by"`
	Revision     int64               `json:"revision"`
	CreatedAt    time.Time           `json:"created_at"`
}

// Governed is the whole governed catalog as of one revision.
type Governed struct {
	Datasources   []Datasource
	MaskPolicies  []MaskPolicy
	RowPolicies   []RowPolicy
	Subscriptions []Subscription
}

func datasourceFromRow(r db.Datasource) (Datasource, error) {
	d := Datasource{ID: r.ID, SourceCatalog: r.SourceCatalog, SourceSchema: r.SourceSchema, SourceTable: r.SourceTable,
		ViewSchema: r.ViewSchema, ViewTable: r.ViewTable, Description: r.Description, Owner: r.Owner,
		Revision: r.Revision, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal(r.Columns, &d.Columns); err != nil {
		return Datasource{}, fmt.Errorf("store: datasource %d columns: %w", r.ID, err)
	}
	return d, nil
}

func stringListMap(raw json.RawMessage, what string) (map[string][]string, error) {
	m := map[string][]string{}
	if len(raw) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return m, nil
}

func maskPolicyFromRow(r db.MaskPolicy) (MaskPolicy, error) {
	p := MaskPolicy{ID: r.ID, Name: r.Name, Mask: r.Mask, ExemptUsers: r.ExemptUsers, ExemptGroups: r.ExemptGroups,
		Priority: r.Priority, CreatedBy: r.CreatedBy, Revision: r.Revision, CreatedAt: r.CreatedAt}
	if r.DatasourceID != nil {
		p.DatasourceID = *r.DatasourceID
	}
	if r.Tag != nil {
		p.Tag = *r.Tag
	}
	if r.ColumnName != nil {
		p.Column = *r.ColumnName
	}
	var err error
	p.ExemptAttributes, err = stringListMap(r.ExemptAttributes, "mask policy exempt attributes")
	return p, err
}

func subscriptionFromRow(r db.Subscription) (Subscription, error) {
	s := Subscription{ID: r.ID, DatasourceID: r.DatasourceID, Users: r.Users, Groups: r.Groups,
		CreatedBy: r.CreatedBy, Revision: r.Revision, CreatedAt: r.CreatedAt}
	var err error
	s.Attributes, err = stringListMap(r.Attributes, "subscription attributes")
	return s, err
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// DatasourceCreate registers a source table. It returns ErrConflict when
// the source or the view name is registered already, ErrInvalid for an
// empty name.
func (t *Tx) DatasourceCreate(ctx context.Context, actor string, d Datasource) (Datasource, error) {
	rev, err := t.Revision(ctx)
	if err != nil {
		return Datasource{}, err
	}
	cols, err := json.Marshal(d.Columns)
	if err != nil {
		return Datasource{}, fmt.Errorf("%w: columns: %v", ErrInvalid, err)
	}
	row, err := t.q.DatasourceInsert(ctx, t.tx, db.DatasourceInsertParams{SourceCatalog: d.SourceCatalog, SourceSchema: d.SourceSchema,
		SourceTable: d.SourceTable, ViewSchema: d.ViewSchema, ViewTable: d.ViewTable, Description: d.Description,
		Columns: cols, Owner: actor, Revision: rev})
	if err != nil {
		return Datasource{}, fmt.Errorf("store: register %s.%s.%s: %w", d.SourceCatalog, d.SourceSchema, d.SourceTable, translate(err))
	}
	created, err := datasourceFromRow(row)
	if err != nil {
		return Datasource{}, err
	}
	return created, t.record(ctx, actor, ActionCreate, ObjectDatasource, id(created.ID), nil, created)
}

// DatasourceUpdate replaces the view name, description and columns of a
// data source. It returns ErrNotFound when there is none.
func (t *Tx) DatasourceUpdate(ctx context.Context, actor string, d Datasource) (Datasource, error) {
	rev, err := t.Revision(ctx)
	if err != nil {
		return Datasource{}, err
	}
	before, err := t.q.DatasourceGetForUpdate(ctx, t.tx, d.ID)
	if err != nil {
		return Datasource{}, fmt.Errorf("store: datasource %d: %w", d.ID, translate(err))
	}
	old, err := datasourceFromRow(before)
	if err != nil {
		return Datasource{}, err
	}
	cols, err := json.Marshal(d.Columns)
	if err != nil {
		return Datasource{}, fmt.Errorf("%w: columns: %v", ErrInvalid, err)
	}
	row, err := t.q.DatasourceUpdate(ctx, t.tx, db.DatasourceUpdateParams{ID: d.ID, ViewSchema: d.ViewSchema, ViewTable: d.ViewTable,
		Description: d.Description, Columns: cols, Revision: rev})
	if err != nil {
		return Datasource{}, fmt.Errorf("store: update datasource %d: %w", d.ID, translate(err))
	}
	updated, err := datasourceFromRow(row)
	if err != nil {
		return Datasource{}, err
	}
	return updated, t.record(ctx, actor, ActionUpdate, ObjectDatasource, id(d.ID), old, updated)
}

// DatasourceDelete removes a data source with its policies and
// subscriptions. It returns ErrNotFound when there is none.
func (t *Tx) DatasourceDelete(ctx context.Context, actor string, dsID int64) error {
	if _, err := t.Revision(ctx); err != nil {
		return err
	}
	row, err := t.q.DatasourceDelete(ctx, t.tx, dsID)
	if err != nil {
		return fmt.Errorf("store: delete datasource %d: %w", dsID, translate(err))
	}
	old, err := datasourceFromRow(row)
	if err != nil {
		return err
	}
	return t.record(ctx, actor, ActionDelete, ObjectDatasource, id(dsID), old, nil)
}

// DatasourceGet returns a data source; ErrNotFound when there is none.
func (t *Tx) DatasourceGet(ctx context.Context, dsID int64) (Datasource, error) {
	row, err := t.q.DatasourceGet(ctx, t.tx, dsID)
	if err != nil {
		return Datasource{}, fmt.Errorf("store: datasource %d: %w", dsID, translate(err))
	}
	return datasourceFromRow(row)
}

// MaskPolicyCreate adds a mask policy. It returns ErrConflict for a taken
// name, ErrNotFound for an unknown data source, and ErrInvalid when not
// exactly one of Tag and Column is set, or a column has no data source.
func (t *Tx) MaskPolicyCreate(ctx context.Context, actor string, p MaskPolicy) (MaskPolicy, error) {
	rev, err := t.Revision(ctx)
	if err != nil {
		return MaskPolicy{}, err
	}
	attrs, err := json.Marshal(nonNilMap(p.ExemptAttributes))
	if err != nil {
		return MaskPolicy{}, fmt.Errorf("%w: exempt attributes: %v", ErrInvalid, err)
	}
	row, err := t.q.MaskPolicyInsert(ctx, t.tx, db.MaskPolicyInsertParams{Name: p.Name, DatasourceID: nonZero(p.DatasourceID),
		Tag: nonZero(p.Tag), ColumnName: nonZero(p.Column), Mask: p.Mask, ExemptUsers: nonNilStrings(p.ExemptUsers),
		ExemptGroups: nonNilStrings(p.ExemptGroups), ExemptAttributes: attrs, Priority: p.Priority, CreatedBy: actor, Revision: rev})
	if err != nil {
		return MaskPolicy{}, fmt.Errorf("store: create mask policy %q: %w", p.Name, translate(err))
	}
	created, err := maskPolicyFromRow(row)
	if err != nil {
		return MaskPolicy{}, err
	}
	return created, t.record(ctx, actor, ActionCreate, ObjectMaskPolicy, id(created.ID), nil, created)
}

// MaskPolicyDelete removes a mask policy; ErrNotFound when there is none.
func (t *Tx) MaskPolicyDelete(ctx context.Context, actor string, pid int64) error {
	if _, err := t.Revision(ctx); err != nil {
		return err
	}
	row, err := t.q.MaskPolicyDelete(ctx, t.tx, pid)
	if err != nil {
		return fmt.Errorf("store: delete mask policy %d: %w", pid, translate(err))
	}
	old, err := maskPolicyFromRow(row)
	if err != nil {
		return err
	}
	return t.record(ctx, actor, ActionDelete, ObjectMaskPolicy, id(pid), old, nil)
}

// RowPolicyCreate adds a row policy. It returns ErrConflict for a taken
// name and ErrNotFound for an unknown data source.
func (t *Tx) RowPolicyCreate(ctx context.Context, actor string, p RowPolicy) (RowPolicy, error) {
	rev, err := t.Revision(ctx)
	if err != nil {
		return RowPolicy{}, err
	}
	row, err := t.q.RowPolicyInsert(ctx, t.tx, db.RowPolicyInsertParams{Name: p.Name, DatasourceID: p.DatasourceID,
		Policy: p.Policy, CreatedBy: actor, Revision: rev})
	if err != nil {
		return RowPolicy{}, fmt.Errorf("store: create row policy %q: %w", p.Name, translate(err))
	}
	created := RowPolicy(row)
	return created, t.record(ctx, actor, ActionCreate, ObjectRowPolicy, id(created.ID), nil, created)
}

// RowPolicyDelete removes a row policy; ErrNotFound when there is none.
func (t *Tx) RowPolicyDelete(ctx context.Context, actor string, pid int64) error {
	if _, err := t.Revision(ctx); err != nil {
		return err
	}
	row, err := t.q.RowPolicyDelete(ctx, t.tx, pid)
	if err != nil {
		return fmt.Errorf("store: delete row policy %d: %w", pid, translate(err))
	}
	return t.record(ctx, actor, ActionDelete, ObjectRowPolicy, id(pid), RowPolicy(row), nil)
}

// SubscriptionCreate adds a subscription. It returns ErrNotFound for an
// unknown data source and ErrInvalid when it names nobody.
func (t *Tx) SubscriptionCreate(ctx context.Context, actor string, s Subscription) (Subscription, error) {
	rev, err := t.Revision(ctx)
	if err != nil {
		return Subscription{}, err
	}
	attrs, err := json.Marshal(nonNilMap(s.Attributes))
	if err != nil {
		return Subscription{}, fmt.Errorf("%w: attributes: %v", ErrInvalid, err)
	}
	row, err := t.q.SubscriptionInsert(ctx, t.tx, db.SubscriptionInsertParams{DatasourceID: s.DatasourceID,
		Users: nonNilStrings(s.Users), Groups: nonNilStrings(s.Groups), Attributes: attrs, CreatedBy: actor, Revision: rev})
	if err != nil {
		return Subscription{}, fmt.Errorf("store: create subscription: %w", translate(err))
	}
	created, err := subscriptionFromRow(row)
	if err != nil {
		return Subscription{}, err
	}
	return created, t.record(ctx, actor, ActionCreate, ObjectSubscription, id(created.ID), nil, created)
}

// SubscriptionDelete removes a subscription; ErrNotFound when there is none.
func (t *Tx) SubscriptionDelete(ctx context.Context, actor string, sid int64) error {
	if _, err := t.Revision(ctx); err != nil {
		return err
	}
	row, err := t.q.SubscriptionDelete(ctx, t.tx, sid)
	if err != nil {
		return fmt.Errorf("store: delete subscription %d: %w", sid, translate(err))
	}
	old, err := subscriptionFromRow(row)
	if err != nil {
		return err
	}
	return t.record(ctx, actor, ActionDelete, ObjectSubscription, id(sid), old, nil)
}

func nonNilMap(m map[string][]string) map[string][]string {
	if m == nil {
		return map[string][]string{}
	}
	return m
}

// GovernedSnapshot reads the whole governed catalog in one read-only
// transaction, so the parts are consistent with each other.
func (s *Store) GovernedSnapshot(ctx context.Context) (Governed, error) {
	var g Governed
	err := s.InTxOptions(ctx, TxOptions{Isolation: RepeatableRead, ReadOnly: true}, func(tx *Tx) error {
		g = Governed{}
		ds, err := tx.q.DatasourceList(ctx, tx.tx)
		if err != nil {
			return translate(err)
		}
		for _, r := range ds {
			d, err := datasourceFromRow(r)
			if err != nil {
				return err
			}
			g.Datasources = append(g.Datasources, d)
		}
		mps, err := tx.q.MaskPolicyList(ctx, tx.tx)
		if err != nil {
			return translate(err)
		}
		for _, r := range mps {
			p, err := maskPolicyFromRow(r)
			if err != nil {
				return err
			}
			g.MaskPolicies = append(g.MaskPolicies, p)
		}
		rps, err := tx.q.RowPolicyList(ctx, tx.tx)
		if err != nil {
			return translate(err)
		}
		for _, r := range rps {
			g.RowPolicies = append(g.RowPolicies, RowPolicy(r))
		}
		subs, err := tx.q.SubscriptionList(ctx, tx.tx)
		if err != nil {
			return translate(err)
		}
		for _, r := range subs {
			sub, err := subscriptionFromRow(r)
			if err != nil {
				return err
			}
			g.Subscriptions = append(g.Subscriptions, sub)
		}
		return nil
	})
	if err != nil {
		return Governed{}, fmt.Errorf("store: governed catalog: %w", err)
	}
	return g, nil
}
