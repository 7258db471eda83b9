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

// errUnchanged rolls back a write transaction that would change nothing, so
// that it takes no revision; the handler then answers with the resource as
// it is.
var errUnchanged = errors.New("scim: unchanged")

// readTx is the transaction of a read: one snapshot, read only.
var readTx = store.TxOptions{Isolation: store.RepeatableRead, ReadOnly: true}

// page returns one page of the resources matching the filter terms and the
// number of all matches. With several "or" branches each is read whole (up
// to maxPageSize matches) and the union is paged here.
func page[T any](terms [][]term, startIndex, count int, id func(T) int64,
	find func(conj []term, offset, limit int) ([]T, int, error),
) ([]T, int, error) {
	limit := max(count, 1)
	if len(terms) <= 1 {
		var conj []term
		if len(terms) == 1 {
			conj = terms[0]
		}
		items, total, err := find(conj, startIndex-1, limit)
		if count == 0 {
			items = nil
		}
		return items, total, err
	}
	var all []T
	seen := map[int64]bool{}
	for _, conj := range terms {
		items, total, err := find(conj, 0, maxPageSize)
		if err != nil {
			return nil, 0, err
		}
		if total > maxPageSize {
			return nil, 0, errorf(http.StatusBadRequest, scimTooMany, "a branch of the filter matches more than %d resources", maxPageSize)
		}
		for _, it := range items {
			if !seen[id(it)] {
				seen[id(it)] = true
				all = append(all, it)
			}
		}
	}
	slices.SortFunc(all, func(a, b T) int { return int(min(max(id(a)-id(b), -1), 1)) })
	total := len(all)
	from := min(startIndex-1, total)
	to := min(from+count, total)
	return all[from:to], total, nil
}

func (h *Handler) listUsers(q *request) {
	p, perr := parseListParams(q.r.URL.Query(), userFilterAttrs, SchemaUser)
	if perr != nil {
		h.fail(q, perr)
		return
	}
	ctx := q.r.Context()
	var (
		out   []map[string]any
		total int
	)
	err := h.st.InTxOptions(ctx, readTx, func(tx *store.Tx) error {
		out = out[:0]
		users, n, err := page(p.terms, p.startIndex, p.count, func(u store.User) int64 { return u.ID },
			func(conj []term, offset, limit int) ([]store.User, int, error) {
				f, ok := userFilter(conj)
				if !ok {
					return nil, 0, nil
				}
				return tx.UserFind(ctx, f, offset, limit)
			})
		if err != nil {
			return err
		}
		total = n
		groups, err := h.groupsOf(ctx, tx, users, p.proj)
		if err != nil {
			return err
		}
		for _, u := range users {
			out = append(out, p.proj.apply(userResource(u, groups[u.ID], q.base)))
		}
		return nil
	})
	if err != nil {
		h.fail(q, fromStore(err, "users"))
		return
	}
	q.write(http.StatusOK, newListResponse(total, p.startIndex, out))
}

// groupsOf loads the groups of users when the projection returns them.
func (h *Handler) groupsOf(ctx context.Context, tx *store.Tx, users []store.User, proj projection) (map[int64][]store.Group, error) {
	if !proj.wants("groups") || len(users) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(users))
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	return tx.UserGroups(ctx, ids)
}

func (h *Handler) getUser(q *request, idStr string) {
	id, perr := parseID(idStr, "user")
	if perr != nil {
		h.fail(q, perr)
		return
	}
	proj := parseProjection(q.r.URL.Query())
	ctx := q.r.Context()
	var (
		u      store.User
		groups map[int64][]store.Group
	)
	err := h.st.InTxOptions(ctx, readTx, func(tx *store.Tx) error {
		var err error
		if u, err = tx.UserGet(ctx, id); err != nil {
			return err
		}
		groups, err = h.groupsOf(ctx, tx, []store.User{u}, proj)
		return err
	})
	if err != nil {
		h.fail(q, fromStore(err, "user "+idStr))
		return
	}
	if q.notModified(u.Revision) {
		q.w.Header().Set("ETag", version(u.Revision))
		q.status = http.StatusNotModified
		q.w.WriteHeader(http.StatusNotModified)
		return
	}
	q.writeResource(http.StatusOK, proj.apply(userResource(u, groups[u.ID], q.base)))
}

func (h *Handler) createUser(q *request) {
	var body map[string]any
	if err := q.readJSON(&body); err != nil {
		h.fail(q, err)
		return
	}
	canonicalize(body)
	u, verr := userFromResource(body, nil)
	if verr != nil {
		h.fail(q, verr)
		return
	}
	ctx := q.r.Context()
	var created store.User
	err := h.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		created, err = tx.UserCreate(ctx, q.actor(), u)
		return err
	})
	if err != nil {
		h.fail(q, fromStore(err, fmt.Sprintf("user %q", u.UserName)))
		return
	}
	h.logWrite(q, "create", "User", created.ID, created.Revision)
	q.writeResource(http.StatusCreated, userResource(created, nil, q.base))
}

// updateUser runs a PUT or PATCH: under the store's write lock it reads the
// user, checks If-Match, computes the new user with next and writes it, or
// writes nothing when it equals the current one.
func (h *Handler) updateUser(q *request, idStr string, next func(cur store.User) (store.User, *Error)) {
	id, perr := parseID(idStr, "user")
	if perr != nil {
		h.fail(q, perr)
		return
	}
	ctx := q.r.Context()
	var (
		res     map[string]any
		written store.User
	)
	err := h.st.InTx(ctx, func(tx *store.Tx) error {
		written = store.User{}
		// Take the revision first: it serializes writers, so nothing changes
		// the user between the read and the write.
		if _, err := tx.Revision(ctx); err != nil {
			return err
		}
		cur, err := tx.UserGet(ctx, id)
		if err != nil {
			return err
		}
		if err := q.checkIfMatch(cur.Revision); err != nil {
			return err
		}
		u, verr := next(cur)
		if verr != nil {
			return verr
		}
		groups, err := tx.UserGroups(ctx, []int64{id})
		if err != nil {
			return err
		}
		if sameUser(cur, u) {
			res = userResource(cur, groups[id], q.base)
			return errUnchanged
		}
		if written, err = tx.UserUpdate(ctx, q.actor(), u); err != nil {
			return err
		}
		res = userResource(written, groups[id], q.base)
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		h.fail(q, fromStore(err, "user "+idStr))
		return
	}
	if written.ID != 0 {
		h.logWrite(q, "update", "User", written.ID, written.Revision)
	}
	q.writeResource(http.StatusOK, res)
}

func (h *Handler) replaceUser(q *request, idStr string) {
	var body map[string]any
	if err := q.readJSON(&body); err != nil {
		h.fail(q, err)
		return
	}
	canonicalize(body)
	h.updateUser(q, idStr, func(cur store.User) (store.User, *Error) {
		return userFromResource(cloneJSON(body).(map[string]any), &cur) //nolint:forcetypeassert // a clone of a map is a map.
	})
}

func (h *Handler) patchUser(q *request, idStr string) {
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
	h.updateUser(q, idStr, func(cur store.User) (store.User, *Error) {
		return patchedUser(cur, ops)
	})
}

// patchedUser applies a patch to a user: to the resource GET would return,
// which is then read back as a PUT body would be. Whatever the patch does,
// the result must be a valid User.
func patchedUser(cur store.User, ops []operation) (store.User, *Error) {
	doc := cloneJSON(userResource(cur, nil, "")).(map[string]any) //nolint:forcetypeassert // a clone of a map is a map.
	delete(doc, "meta")
	if err := applyPatch(doc, ops, strconv.FormatInt(cur.ID, 10)); err != nil {
		return store.User{}, err
	}
	return userFromResource(doc, &cur)
}

func (h *Handler) deleteUser(q *request, idStr string) {
	h.deleteResource(q, idStr, "user", "User",
		func(ctx context.Context, tx *store.Tx, id int64) (int64, error) {
			cur, err := tx.UserGet(ctx, id)
			return cur.Revision, err
		}, (*store.Tx).UserDelete)
}

// logWrite logs a committed write. It names the resource by ID only.
func (h *Handler) logWrite(q *request, action, resource string, id, revision int64) {
	h.log.InfoContext(q.r.Context(), "scim write",
		"client", q.client, "action", action, "resource", resource, "id", id, "revision", revision)
}

// cloneJSON deep-copies a decoded JSON value.
func cloneJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = cloneJSON(e)
		}
		return l
	}
	return v
}
