package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/trino-warden/warden/store"
)

func (h *Handler) listGroups(q *request) {
	p, perr := parseListParams(q.r.URL.Query(), groupFilterAttrs, SchemaGroup)
	if perr != nil {
		h.fail(q, perr)
		return
	}
	ctx := q.r.Context()
	withMembers := p.proj.wants("members")
	var (
		out   []map[string]any
		total int
	)
	err := h.st.InTxOptions(ctx, readTx, func(tx *store.Tx) error {
		out = out[:0]
		groups, n, err := page(p.terms, p.startIndex, p.count, func(g store.Group) int64 { return g.ID },
			func(conj []term, offset, limit int) ([]store.Group, int, error) {
				f, ok := groupFilter(conj)
				if !ok {
					return nil, 0, nil
				}
				return tx.GroupFind(ctx, f, offset, limit)
			})
		if err != nil {
			return err
		}
		total = n
		members, err := membersOf(ctx, tx, groups, withMembers)
		if err != nil {
			return err
		}
		for _, g := range groups {
			out = append(out, p.proj.apply(groupResource(g, members[g.ID], withMembers, q.base)))
		}
		return nil
	})
	if err != nil {
		h.fail(q, fromStore(err, "groups"))
		return
	}
	q.write(http.StatusOK, newListResponse(total, p.startIndex, out))
}

// membersOf loads the members of groups when they are returned; Entra's
// excludedAttributes=members skips the query.
func membersOf(ctx context.Context, tx *store.Tx, groups []store.Group, load bool) (map[int64][]store.Member, error) {
	if !load || len(groups) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(groups))
	for _, g := range groups {
		ids = append(ids, g.ID)
	}
	return tx.GroupMembers(ctx, ids)
}

func (h *Handler) getGroup(q *request, idStr string) {
	id, perr := parseID(idStr, "group")
	if perr != nil {
		h.fail(q, perr)
		return
	}
	proj := parseProjection(q.r.URL.Query())
	withMembers := proj.wants("members")
	ctx := q.r.Context()
	var (
		g       store.Group
		members map[int64][]store.Member
	)
	err := h.st.InTxOptions(ctx, readTx, func(tx *store.Tx) error {
		var err error
		if g, err = tx.GroupGet(ctx, id); err != nil {
			return err
		}
		members, err = membersOf(ctx, tx, []store.Group{g}, withMembers)
		return err
	})
	if err != nil {
		h.fail(q, fromStore(err, "group "+idStr))
		return
	}
	if q.notModified(g.Revision) {
		q.w.Header().Set("ETag", version(g.Revision))
		q.status = http.StatusNotModified
		q.w.WriteHeader(http.StatusNotModified)
		return
	}
	q.writeResource(http.StatusOK, proj.apply(groupResource(g, members[g.ID], withMembers, q.base)))
}

// memberError turns the store's ErrNotFound for a member into a 400: the
// request names a user that does not exist.
func memberError(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusBadRequest, scimInvalidValue, "a member is not a user of this directory")
	}
	return err
}

func (h *Handler) createGroup(q *request) {
	var body map[string]any
	if err := q.readJSON(&body); err != nil {
		h.fail(q, err)
		return
	}
	canonicalize(body)
	spec, verr := groupFromResource(body, 0)
	if verr != nil {
		h.fail(q, verr)
		return
	}
	ctx := q.r.Context()
	var res map[string]any
	var created store.Group
	err := h.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if created, err = tx.GroupCreate(ctx, q.actor(), spec.group); err != nil {
			return err
		}
		if len(spec.members) > 0 {
			if created, err = tx.GroupMembersSet(ctx, q.actor(), created.ID, spec.members); err != nil {
				return memberError(err)
			}
		}
		members, err := tx.GroupMembers(ctx, []int64{created.ID})
		if err != nil {
			return err
		}
		res = groupResource(created, members[created.ID], true, q.base)
		return nil
	})
	if err != nil {
		h.fail(q, fromStore(err, fmt.Sprintf("group %q", spec.group.Name)))
		return
	}
	h.logWrite(q, "create", "Group", created.ID, created.Revision)
	q.writeResource(http.StatusCreated, res)
}

// updateGroup runs a PUT or PATCH on a group, like updateUser: next computes
// the new group and member set from the current ones.
func (h *Handler) updateGroup(q *request, idStr string, next func(cur store.Group, members []store.Member) (groupSpec, *Error)) {
	id, perr := parseID(idStr, "group")
	if perr != nil {
		h.fail(q, perr)
		return
	}
	ctx := q.r.Context()
	var (
		res     map[string]any
		written store.Group
	)
	err := h.st.InTx(ctx, func(tx *store.Tx) error {
		written = store.Group{}
		if _, err := tx.Revision(ctx); err != nil {
			return err
		}
		cur, err := tx.GroupGet(ctx, id)
		if err != nil {
			return err
		}
		if err := q.checkIfMatch(cur.Revision); err != nil {
			return err
		}
		members, err := tx.GroupMembers(ctx, []int64{id})
		if err != nil {
			return err
		}
		spec, verr := next(cur, members[id])
		if verr != nil {
			return verr
		}
		fieldsSame := cur.Name == spec.group.Name && cur.ExternalID == spec.group.ExternalID && cur.DisplayName == spec.group.DisplayName
		membersSame := slices.Equal(memberIDs(members[id]), spec.members)
		if fieldsSame && membersSame {
			res = groupResource(cur, members[id], true, q.base)
			return errUnchanged
		}
		written = cur
		if !fieldsSame {
			if written, err = tx.GroupUpdate(ctx, q.actor(), spec.group); err != nil {
				return err
			}
		}
		if !membersSame {
			if written, err = tx.GroupMembersSet(ctx, q.actor(), id, spec.members); err != nil {
				return memberError(err)
			}
		}
		after, err := tx.GroupMembers(ctx, []int64{id})
		if err != nil {
			return err
		}
		res = groupResource(written, after[id], true, q.base)
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		h.fail(q, fromStore(err, "group "+idStr))
		return
	}
	if written.ID != 0 {
		h.logWrite(q, "update", "Group", written.ID, written.Revision)
	}
	q.writeResource(http.StatusOK, res)
}

func (h *Handler) replaceGroup(q *request, idStr string) {
	var body map[string]any
	if err := q.readJSON(&body); err != nil {
		h.fail(q, err)
		return
	}
	canonicalize(body)
	h.updateGroup(q, idStr, func(cur store.Group, _ []store.Member) (groupSpec, *Error) {
		return groupFromResource(body, cur.ID)
	})
}

func (h *Handler) patchGroup(q *request, idStr string) {
	var req patchRequest
	if err := q.readJSON(&req); err != nil {
		h.fail(q, err)
		return
	}
	ops, perr := compilePatch(req)
	if perr != nil {
		h.fail(q, perr)
		return
	}
	h.updateGroup(q, idStr, func(cur store.Group, members []store.Member) (groupSpec, *Error) {
		return patchedGroup(cur, members, ops)
	})
}

// patchedGroup applies a patch to a group as GET renders it, members
// included, and reads the result back as a PUT body.
func patchedGroup(cur store.Group, members []store.Member, ops []operation) (groupSpec, *Error) {
	doc := groupResource(cur, members, true, "")
	delete(doc, "meta")
	if err := applyPatch(doc, ops, strconv.FormatInt(cur.ID, 10)); err != nil {
		return groupSpec{}, err
	}
	return groupFromResource(doc, cur.ID)
}

func (h *Handler) deleteGroup(q *request, idStr string) {
	h.deleteResource(q, idStr, "group", "Group",
		func(ctx context.Context, tx *store.Tx, id int64) (int64, error) {
			cur, err := tx.GroupGet(ctx, id)
			return cur.Revision, err
		}, (*store.Tx).GroupDelete)
}

// deleteResource deletes a user or group in one transaction, after
// checking that it exists and matches If-Match.
func (h *Handler) deleteResource(q *request, idStr, kind, resource string,
	revisionOf func(ctx context.Context, tx *store.Tx, id int64) (int64, error),
	del func(tx *store.Tx, ctx context.Context, actor string, id int64) error) {
	id, perr := parseID(idStr, kind)
	if perr != nil {
		h.fail(q, perr)
		return
	}
	ctx := q.r.Context()
	err := h.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Revision(ctx); err != nil {
			return err
		}
		rev, err := revisionOf(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := q.checkIfMatch(rev); err != nil {
			return err
		}
		return del(tx, ctx, q.actor(), id)
	})
	if err != nil {
		h.fail(q, fromStore(err, kind+" "+idStr))
		return
	}
	h.logWrite(q, "delete", resource, id, 0)
	q.noContent()
}
