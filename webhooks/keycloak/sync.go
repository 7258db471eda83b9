package keycloak

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/webhooks"
)

// groupName is the store name of a Keycloak group: its path without the
// leading "/", so that subgroups of different parents stay distinct.
func groupName(g Group) string {
	if g.Path != "" {
		return strings.TrimPrefix(g.Path, "/")
	}
	return g.Name
}

// attributes converts Keycloak's multi-valued attributes to the store's
// JSON object: each a list of strings.
func attributes(in map[string][]string) map[string]any {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]any, len(in))
	for k, vs := range in {
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		out[k] = list
	}
	return out
}

// applyUser writes a Keycloak user's state: deletes the user when state is
// nil, otherwise creates or updates it and makes its Keycloak groups (those
// with an external ID) exactly state's. Groups without an external ID are
// Warden's own, and their memberships are left alone.
func applyUser(ctx context.Context, tx *store.Tx, kcID string, state *userState) (string, error) {
	local, found, err := findUser(ctx, tx, kcID, "")
	if err != nil {
		return "", err
	}
	if state == nil {
		if !found {
			return "user absent: nothing to delete", nil
		}
		if err := tx.UserDelete(ctx, Actor, local.ID); err != nil {
			return "", err
		}
		return "deleted user " + local.UserName, nil
	}
	kc := state.user
	if kc.Username == "" {
		return "", webhooks.Unprocessable("Keycloak user %s has no username", kcID)
	}
	if !found {
		if local, found, err = findUser(ctx, tx, "", kc.Username); err != nil {
			return "", err
		}
		if found && local.ExternalID != "" {
			return "", &webhooks.Error{Status: 409, Code: webhooks.CodeConflict,
				Message: fmt.Sprintf("user name %q belongs to a user with another external ID", kc.Username)}
		}
	}
	want := local
	want.UserName = kc.Username
	want.ExternalID = kcID
	want.Email = kc.Email
	want.DisplayName = strings.TrimSpace(kc.FirstName + " " + kc.LastName)
	want.Active = kc.Enabled
	want.Attributes = attributes(kc.Attributes)
	var notes []string
	switch {
	case !found:
		if local, err = tx.UserCreate(ctx, Actor, want); err != nil {
			return "", err
		}
		notes = append(notes, "created user "+local.UserName)
	case userChanged(local, want):
		if local, err = tx.UserUpdate(ctx, Actor, want); err != nil {
			return "", err
		}
		notes = append(notes, "updated user "+local.UserName)
	default:
		notes = append(notes, "user "+local.UserName+" unchanged")
	}
	// Ancestors first, shortest path first, so that every subgroup's parent
	// exists under its current name.
	ancestors := slices.Clone(state.ancestors)
	slices.SortFunc(ancestors, func(a, b Group) int { return len(a.Path) - len(b.Path) })
	for _, a := range ancestors {
		if _, err := ensureGroup(ctx, tx, a); err != nil {
			return "", err
		}
	}
	n, err := syncMemberships(ctx, tx, local, state.groups)
	if err != nil {
		return "", err
	}
	return strings.Join(append(notes, n), "; "), nil
}

func userChanged(have, want store.User) bool {
	return have.UserName != want.UserName || have.ExternalID != want.ExternalID ||
		have.DisplayName != want.DisplayName || have.Email != want.Email || have.Active != want.Active ||
		!(len(have.Attributes) == 0 && len(want.Attributes) == 0 || reflect.DeepEqual(have.Attributes, want.Attributes))
}

func syncMemberships(ctx context.Context, tx *store.Tx, u store.User, kcGroups []Group) (string, error) {
	want := make(map[string]string, len(kcGroups)) // lower name → name
	for _, kg := range kcGroups {
		g, err := ensureGroup(ctx, tx, kg)
		if err != nil {
			return "", err
		}
		want[strings.ToLower(g.Name)] = g.Name
	}
	have, err := tx.WebhookUserGroups(ctx, u.ID)
	if err != nil {
		return "", err
	}
	haveSet := make(map[string]bool, len(have))
	removed, added := 0, 0
	for _, g := range have {
		lower := strings.ToLower(g.Name)
		haveSet[lower] = true
		if g.ExternalID == "" || want[lower] != "" {
			continue
		}
		if err := tx.GroupMemberRemove(ctx, Actor, g.Name, u.UserName); err != nil {
			return "", err
		}
		removed++
	}
	for lower, name := range want {
		if haveSet[lower] {
			continue
		}
		if err := tx.GroupMemberAdd(ctx, Actor, name, u.UserName); err != nil {
			return "", err
		}
		added++
	}
	return fmt.Sprintf("groups: %d added, %d removed", added, removed), nil
}

// ensureGroup finds the store group of a Keycloak group, or creates it
// under its path. It never renames a group it finds: names follow the group
// events, so that a user sync that read a path before a rename cannot undo
// the rename.
func ensureGroup(ctx context.Context, tx *store.Tx, kg Group) (store.Group, error) {
	g, found, err := findGroup(ctx, tx, kg.ID, "")
	if err != nil || found {
		return g, err
	}
	g, _, err = upsertGroup(ctx, tx, kg.ID, groupName(kg))
	return g, err
}

// upsertGroup makes the group with external ID kcID exist under name, and
// returns it with a note.
func upsertGroup(ctx context.Context, tx *store.Tx, kcID, name string) (store.Group, string, error) {
	g, found, err := findGroup(ctx, tx, kcID, "")
	if err != nil {
		return store.Group{}, "", err
	}
	if found {
		if g.Name == name {
			return g, "group " + name + " unchanged", nil
		}
		return renameGroup(ctx, tx, g, name)
	}
	g, found, err = findGroup(ctx, tx, "", name)
	switch {
	case err != nil:
		return store.Group{}, "", err
	case found && g.ExternalID != "":
		return store.Group{}, "", &webhooks.Error{Status: 409, Code: webhooks.CodeConflict,
			Message: fmt.Sprintf("group name %q belongs to a group with another external ID", name)}
	case found:
		g.ExternalID = kcID
		g, err = tx.GroupUpdate(ctx, Actor, g)
		return g, "adopted group " + name, err
	}
	g, err = tx.GroupCreate(ctx, Actor, store.Group{Name: name, ExternalID: kcID})
	return g, "created group " + name, err
}

// renameGroup renames g and its Keycloak subgroups ("old/…" → "new/…"),
// since a Keycloak rename moves the whole subtree but sends one event.
func renameGroup(ctx context.Context, tx *store.Tx, g store.Group, name string) (store.Group, string, error) {
	old := g.Name
	subs, err := tx.WebhookGroupsByNamePrefix(ctx, old+"/")
	if err != nil {
		return store.Group{}, "", err
	}
	g.Name = name
	if g, err = tx.GroupUpdate(ctx, Actor, g); err != nil {
		return store.Group{}, "", err
	}
	moved := 0
	for _, s := range subs {
		if s.ExternalID == "" {
			continue
		}
		s.Name = name + "/" + s.Name[len(old)+1:]
		if _, err := tx.GroupUpdate(ctx, Actor, s); err != nil {
			return store.Group{}, "", err
		}
		moved++
	}
	return g, fmt.Sprintf("renamed group %s to %s with %d subgroups", old, name, moved), nil
}

// applyGroup writes a Keycloak group's state: deletes it and its Keycloak
// subgroups when g is nil, otherwise creates, adopts or renames it.
func applyGroup(ctx context.Context, tx *store.Tx, kcID string, g *Group) (string, error) {
	if g != nil {
		_, note, err := upsertGroup(ctx, tx, kcID, groupName(*g))
		return note, err
	}
	local, found, err := findGroup(ctx, tx, kcID, "")
	if err != nil {
		return "", err
	}
	if !found {
		return "group absent: nothing to delete", nil
	}
	subs, err := tx.WebhookGroupsByNamePrefix(ctx, local.Name+"/")
	if err != nil {
		return "", err
	}
	deleted := 0
	for _, s := range subs {
		if s.ExternalID == "" {
			continue
		}
		if err := tx.GroupDelete(ctx, Actor, s.ID); err != nil {
			return "", err
		}
		deleted++
	}
	if err := tx.GroupDelete(ctx, Actor, local.ID); err != nil {
		return "", err
	}
	return fmt.Sprintf("deleted group %s and %d subgroups", local.Name, deleted), nil
}

func findUser(ctx context.Context, tx *store.Tx, externalID, userName string) (store.User, bool, error) {
	var (
		u   store.User
		err error
	)
	if externalID != "" {
		u, err = tx.WebhookUserByExternalID(ctx, externalID)
	} else {
		u, err = tx.WebhookUserByName(ctx, userName)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, false, nil
	}
	return u, err == nil, err
}

func findGroup(ctx context.Context, tx *store.Tx, externalID, name string) (store.Group, bool, error) {
	var (
		g   store.Group
		err error
	)
	if externalID != "" {
		g, err = tx.WebhookGroupByExternalID(ctx, externalID)
	} else {
		g, err = tx.WebhookGroupByName(ctx, name)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Group{}, false, nil
	}
	return g, err == nil, err
}
