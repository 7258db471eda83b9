package events

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/webhooks"
)

// Actor is who the change log names for the changes of this endpoint.
const Actor = "webhook:events"

// apply applies a decoded event in tx and returns a note on what it did.
func apply(ctx context.Context, tx *store.Tx, ev Event) (string, error) {
	switch d := ev.Data.(type) {
	case *UserUpserted:
		return applyUserUpserted(ctx, tx, d)
	case *UserRef:
		if ev.Type == TypeUserDeleted {
			return applyUserDeleted(ctx, tx, d)
		}
		return applyUserDeactivated(ctx, tx, d)
	case *GroupUpserted:
		return applyGroupUpserted(ctx, tx, d)
	case *GroupRef:
		return applyGroupDeleted(ctx, tx, d)
	case *GroupMembers:
		return applyGroupMembers(ctx, tx, ev.Type, d)
	case *PolicyChanged:
		return applyPolicyChanged(ctx, tx, d)
	}
	return "", fmt.Errorf("events: no applier for %T", ev.Data)
}

// findUser looks a user up by external ID, then by name; found is false
// when neither matches.
func findUser(ctx context.Context, tx *store.Tx, externalID, userName string) (store.User, bool, error) {
	if externalID != "" {
		u, err := tx.WebhookUserByExternalID(ctx, externalID)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return u, err == nil, err
		}
	}
	if userName == "" {
		return store.User{}, false, nil
	}
	u, err := tx.WebhookUserByName(ctx, userName)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, false, nil
	}
	return u, err == nil, err
}

func findGroup(ctx context.Context, tx *store.Tx, externalID, name string) (store.Group, bool, error) {
	if externalID != "" {
		g, err := tx.WebhookGroupByExternalID(ctx, externalID)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return g, err == nil, err
		}
	}
	if name == "" {
		return store.Group{}, false, nil
	}
	g, err := tx.WebhookGroupByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Group{}, false, nil
	}
	return g, err == nil, err
}

func applyUserUpserted(ctx context.Context, tx *store.Tx, d *UserUpserted) (string, error) {
	u, found, err := findUser(ctx, tx, d.ExternalID, d.UserName)
	if err != nil {
		return "", err
	}
	if found && d.ExternalID != "" && u.ExternalID != "" && u.ExternalID != d.ExternalID {
		return "", &webhooks.Error{Status: 409, Code: webhooks.CodeConflict,
			Message: fmt.Sprintf("user name %q belongs to a user with another external ID", d.UserName)}
	}
	want := u
	want.UserName = d.UserName
	if d.ExternalID != "" {
		want.ExternalID = d.ExternalID
	}
	if d.DisplayName != nil {
		want.DisplayName = *d.DisplayName
	}
	if d.Email != nil {
		want.Email = *d.Email
	}
	switch {
	case d.Active != nil:
		want.Active = *d.Active
	case !found:
		want.Active = true
	}
	if d.Attributes != nil {
		want.Attributes = *d.Attributes
	}
	var notes []string
	switch {
	case !found:
		if u, err = tx.UserCreate(ctx, Actor, want); err != nil {
			return "", err
		}
		notes = append(notes, "created user "+u.UserName)
	case userChanged(u, want):
		if u, err = tx.UserUpdate(ctx, Actor, want); err != nil {
			return "", err
		}
		notes = append(notes, "updated user "+u.UserName)
	default:
		notes = append(notes, "user "+u.UserName+" unchanged")
	}
	if d.Groups != nil {
		n, err := setUserGroups(ctx, tx, u, *d.Groups)
		if err != nil {
			return "", err
		}
		notes = append(notes, n)
	}
	return strings.Join(notes, "; "), nil
}

// userChanged reports whether writing want over have changes anything.
func userChanged(have, want store.User) bool {
	return have.UserName != want.UserName || have.ExternalID != want.ExternalID ||
		have.DisplayName != want.DisplayName || have.Email != want.Email ||
		have.Active != want.Active || !attributesEqual(have.Attributes, want.Attributes)
}

func attributesEqual(a, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	// Both sides come from encoding/json, so equal JSON means equal Go values.
	return reflect.DeepEqual(a, b)
}

// setUserGroups makes groups exactly the user's groups, creating the groups
// that do not exist.
func setUserGroups(ctx context.Context, tx *store.Tx, u store.User, groups []string) (string, error) {
	have, err := tx.WebhookUserGroups(ctx, u.ID)
	if err != nil {
		return "", err
	}
	haveSet := make(map[string]string, len(have))
	for _, g := range have {
		haveSet[strings.ToLower(g.Name)] = g.Name
	}
	wantSet := make(map[string]bool, len(groups))
	var added, removed, created int
	for _, name := range groups {
		wantSet[strings.ToLower(name)] = true
		if _, ok := haveSet[strings.ToLower(name)]; ok {
			continue
		}
		if _, found, err := findGroup(ctx, tx, "", name); err != nil {
			return "", err
		} else if !found {
			if _, err := tx.GroupCreate(ctx, Actor, store.Group{Name: name}); err != nil {
				return "", err
			}
			created++
		}
		if err := tx.GroupMemberAdd(ctx, Actor, name, u.UserName); err != nil {
			return "", err
		}
		added++
	}
	for lower, name := range haveSet {
		if wantSet[lower] {
			continue
		}
		if err := tx.GroupMemberRemove(ctx, Actor, name, u.UserName); err != nil {
			return "", err
		}
		removed++
	}
	return fmt.Sprintf("groups: %d added, %d removed, %d created", added, removed, created), nil
}

func applyUserDeleted(ctx context.Context, tx *store.Tx, d *UserRef) (string, error) {
	u, found, err := findUser(ctx, tx, d.ExternalID, d.UserName)
	if err != nil {
		return "", err
	}
	if !found {
		return "user absent: nothing to delete", nil
	}
	if err := tx.UserDelete(ctx, Actor, u.ID); err != nil {
		return "", err
	}
	return "deleted user " + u.UserName, nil
}

func applyUserDeactivated(ctx context.Context, tx *store.Tx, d *UserRef) (string, error) {
	u, found, err := findUser(ctx, tx, d.ExternalID, d.UserName)
	if err != nil {
		return "", err
	}
	if !found {
		return "", webhooks.Unprocessable("no user %s", describeRef(d.ExternalID, d.UserName))
	}
	if !u.Active {
		return "user " + u.UserName + " already inactive", nil
	}
	u.Active = false
	if _, err := tx.UserUpdate(ctx, Actor, u); err != nil {
		return "", err
	}
	return "deactivated user " + u.UserName, nil
}

func describeRef(externalID, name string) string {
	if externalID != "" {
		return fmt.Sprintf("with external ID %q", externalID)
	}
	return fmt.Sprintf("named %q", name)
}

func applyGroupUpserted(ctx context.Context, tx *store.Tx, d *GroupUpserted) (string, error) {
	g, found, err := findGroup(ctx, tx, d.ExternalID, d.Name)
	if err != nil {
		return "", err
	}
	if found && d.ExternalID != "" && g.ExternalID != "" && g.ExternalID != d.ExternalID {
		return "", &webhooks.Error{Status: 409, Code: webhooks.CodeConflict,
			Message: fmt.Sprintf("group name %q belongs to a group with another external ID", d.Name)}
	}
	want := g
	want.Name = d.Name
	if d.ExternalID != "" {
		want.ExternalID = d.ExternalID
	}
	if d.DisplayName != nil {
		want.DisplayName = *d.DisplayName
	}
	var notes []string
	switch {
	case !found:
		if g, err = tx.GroupCreate(ctx, Actor, want); err != nil {
			return "", err
		}
		notes = append(notes, "created group "+g.Name)
	case g.Name != want.Name || g.ExternalID != want.ExternalID || g.DisplayName != want.DisplayName:
		if g, err = tx.GroupUpdate(ctx, Actor, want); err != nil {
			return "", err
		}
		notes = append(notes, "updated group "+g.Name)
	default:
		notes = append(notes, "group "+g.Name+" unchanged")
	}
	if d.Members != nil {
		n, err := setMembers(ctx, tx, g, *d.Members)
		if err != nil {
			return "", err
		}
		notes = append(notes, n)
	}
	return strings.Join(notes, "; "), nil
}

func applyGroupDeleted(ctx context.Context, tx *store.Tx, d *GroupRef) (string, error) {
	g, found, err := findGroup(ctx, tx, d.ExternalID, d.Name)
	if err != nil {
		return "", err
	}
	if !found {
		return "group absent: nothing to delete", nil
	}
	if err := tx.GroupDelete(ctx, Actor, g.ID); err != nil {
		return "", err
	}
	return "deleted group " + g.Name, nil
}

// resolveUsers returns the users named, in order, or a 422 naming those
// that do not exist.
func resolveUsers(ctx context.Context, tx *store.Tx, names []string) ([]store.User, error) {
	users := make([]store.User, 0, len(names))
	var missing []string
	for _, n := range names {
		u, found, err := findUser(ctx, tx, "", n)
		if err != nil {
			return nil, err
		}
		if !found {
			missing = append(missing, n)
			continue
		}
		users = append(users, u)
	}
	if len(missing) > 0 {
		if len(missing) > 10 {
			missing = append(missing[:10], fmt.Sprintf("and %d more", len(missing)-10))
		}
		return nil, webhooks.Unprocessable("unknown users: %s", strings.Join(missing, ", "))
	}
	return users, nil
}

func applyGroupMembers(ctx context.Context, tx *store.Tx, typ string, d *GroupMembers) (string, error) {
	g, found, err := findGroup(ctx, tx, "", d.Group)
	if err != nil {
		return "", err
	}
	if !found {
		return "", webhooks.Unprocessable("no group named %q", d.Group)
	}
	if typ == TypeGroupMembersSet {
		return setMembers(ctx, tx, g, d.Users)
	}
	have, err := tx.WebhookGroupMembers(ctx, g.ID)
	if err != nil {
		return "", err
	}
	isMember := make(map[string]string, len(have))
	for _, n := range have {
		isMember[strings.ToLower(n)] = n
	}
	// Memberships are checked first rather than written and their
	// ErrConflict ignored: a failed statement aborts the whole transaction.
	if typ == TypeGroupMembersAdded {
		users, err := resolveUsers(ctx, tx, d.Users)
		if err != nil {
			return "", err
		}
		added := 0
		for _, u := range users {
			if _, ok := isMember[strings.ToLower(u.UserName)]; ok {
				continue
			}
			if err := tx.GroupMemberAdd(ctx, Actor, g.Name, u.UserName); err != nil {
				return "", err
			}
			added++
		}
		return fmt.Sprintf("group %s: %d added, %d already members", g.Name, added, len(users)-added), nil
	}
	removed := 0
	for _, n := range d.Users {
		name, ok := isMember[strings.ToLower(n)]
		if !ok {
			continue
		}
		if err := tx.GroupMemberRemove(ctx, Actor, g.Name, name); err != nil {
			return "", err
		}
		removed++
	}
	return fmt.Sprintf("group %s: %d removed, %d were not members", g.Name, removed, len(d.Users)-removed), nil
}

// setMembers makes names exactly the members of g; every one must exist.
func setMembers(ctx context.Context, tx *store.Tx, g store.Group, names []string) (string, error) {
	users, err := resolveUsers(ctx, tx, names)
	if err != nil {
		return "", err
	}
	have, err := tx.WebhookGroupMembers(ctx, g.ID)
	if err != nil {
		return "", err
	}
	haveSet := make(map[string]bool, len(have))
	for _, n := range have {
		haveSet[strings.ToLower(n)] = true
	}
	wantSet := make(map[string]bool, len(users))
	added, removed := 0, 0
	for _, u := range users {
		wantSet[strings.ToLower(u.UserName)] = true
		if haveSet[strings.ToLower(u.UserName)] {
			continue
		}
		if err := tx.GroupMemberAdd(ctx, Actor, g.Name, u.UserName); err != nil {
			return "", err
		}
		added++
	}
	for _, n := range have {
		if wantSet[strings.ToLower(n)] {
			continue
		}
		if err := tx.GroupMemberRemove(ctx, Actor, g.Name, n); err != nil {
			return "", err
		}
		removed++
	}
	return fmt.Sprintf("group %s members: %d added, %d removed", g.Name, added, removed), nil
}

func applyPolicyChanged(ctx context.Context, tx *store.Tx, d *PolicyChanged) (string, error) {
	rev, err := tx.PolicyPut(ctx, Actor, d.Cluster, d.StoreDocuments(), policyMessage(d))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("policy of cluster %s: %d documents at revision %d", d.Cluster, len(d.Documents), rev), nil
}

// policyMessage is the message of the policy revision: the sender's, with
// the repository and commit it came from.
func policyMessage(d *PolicyChanged) string {
	msg := d.Message
	var from string
	switch {
	case d.Repository != "" && d.Commit != "":
		from = d.Repository + "@" + d.Commit
	case d.Repository != "":
		from = d.Repository
	case d.Commit != "":
		from = "commit " + d.Commit
	}
	if from == "" {
		return msg
	}
	if msg == "" {
		return "from " + from
	}
	return msg + " (from " + from + ")"
}
