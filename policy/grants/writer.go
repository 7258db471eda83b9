package grants

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	fga "github.com/openfga/go-sdk"
	fgaclient "github.com/openfga/go-sdk/client"
)

// maxTuplesPerWrite is OpenFGA's default --max-tuples-per-write.
const maxTuplesPerWrite = 100

// Writer writes and lists grants. The admin API and the outbox worker call
// it; every method is idempotent.
type Writer interface {
	// WriteTuples writes and deletes tuples. Writing an existing tuple or
	// deleting a missing one is not an error, so a retry is always safe.
	// Errors wrap ErrUnavailable when OpenFGA could not be reached.
	WriteTuples(ctx context.Context, writes, deletes []Tuple) error
	// ListGrants reads stored tuples by principal and/or object, one page
	// at a time. The error wraps ErrInvalid for a bad filter.
	ListGrants(ctx context.Context, f GrantFilter) (GrantPage, error)
}

var _ Writer = (*Source)(nil)

func toKey(t Tuple) fgaclient.ClientTupleKey {
	k := fgaclient.ClientTupleKey{User: t.User, Relation: t.Relation, Object: t.Object}
	if !t.ExpiresAt.IsZero() {
		k.Condition = &fga.RelationshipCondition{Name: ConditionNonExpired,
			Context: &map[string]any{"expires_at": t.ExpiresAt.UTC().Format(time.RFC3339Nano)}}
	}
	return k
}

// WriteTuples writes and deletes tuples idempotently, in chunks of at most
// 100 (each chunk one OpenFGA transaction).
func (s *Source) WriteTuples(ctx context.Context, writes, deletes []Tuple) error {
	for len(writes) > 0 || len(deletes) > 0 {
		var body fgaclient.ClientWriteRequest
		n := 0
		for ; n < len(writes) && n < maxTuplesPerWrite; n++ {
			body.Writes = append(body.Writes, toKey(writes[n]))
		}
		writes = writes[n:]
		m := 0
		for ; m < len(deletes) && n+m < maxTuplesPerWrite; m++ {
			t := deletes[m]
			body.Deletes = append(body.Deletes, fgaclient.ClientTupleKeyWithoutCondition{User: t.User, Relation: t.Relation, Object: t.Object})
		}
		deletes = deletes[m:]
		opts := fgaclient.ClientWriteOptions{Conflict: fgaclient.ClientWriteConflictOptions{
			OnDuplicateWrites: fgaclient.CLIENT_WRITE_REQUEST_ON_DUPLICATE_WRITES_IGNORE,
			OnMissingDeletes:  fgaclient.CLIENT_WRITE_REQUEST_ON_MISSING_DELETES_IGNORE,
		}}
		wctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
		_, err := s.client.Write(wctx).Body(body).Options(opts).Execute()
		cancel()
		if err != nil {
			return fmt.Errorf("%w: write tuples: %w", ErrUnavailable, err)
		}
	}
	return nil
}

// GrantFilter selects stored tuples. At least one of Principal and Object
// is set; Type narrows a principal-only listing to one object type.
type GrantFilter struct {
	Principal         string
	Object            string
	Type              string
	PageSize          int32
	ContinuationToken string
}

// GrantPage is one page of ListGrants.
type GrantPage struct {
	Grants []Grant
	// Raw holds tuples that are not in Warden's vocabulary (written by
	// other systems), as object#relation@user.
	Raw               []string
	ContinuationToken string
}

var listTypes = []string{TypeCatalog, TypeSchema, TypeTable, TypeColumn, TypeRoutine, TypeSystem, TypeUser, TypeGroup, TypeRole}

// ListGrants reads OpenFGA's stored tuples (the authority for grants). A
// principal-only listing without Type walks every object type; its
// continuation token carries the type it stopped at.
func (s *Source) ListGrants(ctx context.Context, f GrantFilter) (GrantPage, error) {
	var req fgaclient.ClientReadRequest
	if f.Principal != "" {
		u, err := principalUser(f.Principal)
		if err != nil {
			return GrantPage{}, &FieldError{"principal", err}
		}
		req.User = &u
	}
	types := []string{""}
	if f.Object != "" {
		o, err := ParseObject(f.Object)
		if err != nil {
			return GrantPage{}, &FieldError{"object", err}
		}
		id := o.ID()
		req.Object = &id
	} else {
		if f.Principal == "" {
			return GrantPage{}, &FieldError{"filter", fmt.Errorf("%w: give a principal or an object", ErrInvalid)}
		}
		types = listTypes
		if f.Type != "" {
			if _, ok := partsOf[f.Type]; !ok {
				return GrantPage{}, &FieldError{"type", fmt.Errorf("%w: unknown type %q", ErrInvalid, f.Type)}
			}
			types = []string{f.Type}
		}
	}
	ti, token := 0, f.ContinuationToken
	if len(types) > 1 && token != "" {
		a, b, _ := strings.Cut(token, ":")
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 || n >= len(types) {
			return GrantPage{}, &FieldError{"continuation_token", fmt.Errorf("%w: bad token", ErrInvalid)}
		}
		ti, token = n, b
	}
	if req.Object == nil {
		o := types[ti] + ":"
		req.Object = &o
	}
	opts := fgaclient.ClientReadOptions{}
	if f.PageSize > 0 {
		opts.PageSize = &f.PageSize
	}
	if token != "" {
		opts.ContinuationToken = &token
	}
	rctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	resp, err := s.client.Read(rctx).Body(req).Options(opts).Execute()
	if err != nil {
		return GrantPage{}, fmt.Errorf("%w: read tuples: %w", ErrUnavailable, err)
	}
	var page GrantPage
	for _, tp := range resp.GetTuples() {
		k := tp.GetKey()
		t := Tuple{User: k.GetUser(), Relation: k.GetRelation(), Object: k.GetObject()}
		if c, ok := k.GetConditionOk(); ok && c.GetName() == ConditionNonExpired {
			if v, ok := c.GetContext()["expires_at"].(string); ok {
				t.ExpiresAt, _ = time.Parse(time.RFC3339Nano, v)
			}
		}
		g, err := t.Grant()
		if err != nil {
			page.Raw = append(page.Raw, t.String())
			continue
		}
		page.Grants = append(page.Grants, g)
	}
	next := resp.GetContinuationToken()
	switch {
	case len(types) == 1:
		page.ContinuationToken = next
	case next != "":
		page.ContinuationToken = strconv.Itoa(ti) + ":" + next
	case ti+1 < len(types):
		page.ContinuationToken = strconv.Itoa(ti+1) + ":"
	}
	return page, nil
}

// MayAdminister reports whether a user (with their groups) holds
// grant_admin on the object or a container of it, so a data owner may
// grant there without being a full administrator.
func (s *Source) MayAdminister(ctx context.Context, user string, groups []string, object string) (bool, error) {
	o, err := ParseObject(object)
	if err != nil {
		return false, &FieldError{"object", err}
	}
	var id string
	switch o.Type {
	case TypeCatalog, TypeSchema:
		id = o.ID()
	case TypeTable, TypeColumn:
		id = ObjectID(TypeTable, o.Parts[:3]...)
	default:
		return false, nil
	}
	var items []CheckItem
	if validName(user) {
		items = append(items, CheckItem{User: "user:" + user, Relation: "grant_admin", Object: id})
	}
	for _, g := range groups {
		if validName(g) {
			items = append(items, CheckItem{User: "group:" + g + "#member", Relation: "grant_admin", Object: id})
		}
	}
	if len(items) == 0 {
		return false, nil
	}
	res, err := s.checker.Check(ctx, items, HigherConsistency)
	if err != nil {
		return false, err
	}
	for _, r := range res {
		if r {
			return true, nil
		}
	}
	return false, nil
}

// TupleExists reports whether OpenFGA stores exactly this tuple.
func (s *Source) TupleExists(ctx context.Context, t Tuple) (bool, error) {
	u, r, o := t.User, t.Relation, t.Object
	rctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	resp, err := s.client.Read(rctx).Body(fgaclient.ClientReadRequest{User: &u, Relation: &r, Object: &o}).Execute()
	if err != nil {
		return false, fmt.Errorf("%w: read tuple: %w", ErrUnavailable, err)
	}
	return len(resp.GetTuples()) > 0, nil
}
