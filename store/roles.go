package store

import (
	"context"
	"time"
)

// The role interfaces below are what other packages depend on, each the
// smallest set of methods one role needs. *Store implements all of them;
// each method's errors are named on the method. Every method may also return
// ErrUnavailable when PostgreSQL cannot be reached, or the caller's context
// error.

// DirectoryReader reads the directory.
type DirectoryReader interface {
	// UserGet returns ErrNotFound when there is no user with the ID.
	UserGet(ctx context.Context, id int64) (User, error)
	// UserGetByName matches the name in any case; ErrNotFound when none does.
	UserGetByName(ctx context.Context, userName string) (User, error)
	// UserList pages by ID: up to limit users with an ID above afterID.
	UserList(ctx context.Context, afterID int64, limit int) ([]User, error)
	// UserGroupList returns ErrNotFound when there is no such user.
	UserGroupList(ctx context.Context, userName string) ([]Group, error)
	// GroupGet returns ErrNotFound when there is no group with the ID.
	GroupGet(ctx context.Context, id int64) (Group, error)
	// GroupGetByName matches the name in any case; ErrNotFound when none does.
	GroupGetByName(ctx context.Context, name string) (Group, error)
	// GroupList pages by ID: up to limit groups with an ID above afterID.
	GroupList(ctx context.Context, afterID int64, limit int) ([]Group, error)
	// GroupMemberList returns ErrNotFound when there is no such group.
	GroupMemberList(ctx context.Context, groupName string) ([]User, error)
	// DirectorySnapshot reads the whole directory and its revision
	// consistently.
	DirectorySnapshot(ctx context.Context) (Directory, int64, error)
}

// DirectoryWriter changes the directory, each change in its own transaction
// with its change-log row; actor is who makes it.
type DirectoryWriter interface {
	// UserCreate returns ErrConflict for a taken name (any case) or external
	// ID, ErrInvalid for an empty name.
	UserCreate(ctx context.Context, actor string, u User) (User, error)
	// UserUpdate returns ErrNotFound for an unknown ID, ErrConflict and
	// ErrInvalid as UserCreate.
	UserUpdate(ctx context.Context, actor string, u User) (User, error)
	// UserDelete returns ErrNotFound for an unknown ID.
	UserDelete(ctx context.Context, actor string, id int64) error
	// GroupCreate returns ErrConflict for a taken name (any case) or external
	// ID, ErrInvalid for an empty name.
	GroupCreate(ctx context.Context, actor string, g Group) (Group, error)
	// GroupUpdate returns ErrNotFound for an unknown ID, ErrConflict and
	// ErrInvalid as GroupCreate.
	GroupUpdate(ctx context.Context, actor string, g Group) (Group, error)
	// GroupDelete returns ErrNotFound for an unknown ID.
	GroupDelete(ctx context.Context, actor string, id int64) error
	// GroupMemberAdd returns ErrNotFound for an unknown group or user,
	// ErrConflict when the user is already a member.
	GroupMemberAdd(ctx context.Context, actor, groupName, userName string) error
	// GroupMemberRemove returns ErrNotFound for an unknown group or user, or
	// a user who is not a member.
	GroupMemberRemove(ctx context.Context, actor, groupName, userName string) error
}

// PolicyStore keeps the policy sets of clusters, in revisions.
type PolicyStore interface {
	// PolicyPut replaces a cluster's whole set as one new revision, which it
	// returns. ErrInvalid for an empty cluster, an unknown kind, an empty or
	// repeated path.
	PolicyPut(ctx context.Context, actor, cluster string, docs []PolicyDocument, message string) (int64, error)
	// PolicyGet returns the set in force at revision (0 = newest);
	// ErrNotFound when the cluster had none then.
	PolicyGet(ctx context.Context, cluster string, revision int64) (PolicySet, error)
	// PolicyRevisions lists revisions newest first, below before (0 = all).
	PolicyRevisions(ctx context.Context, cluster string, limit int, before int64) ([]PolicyRevision, error)
	// PolicyRollback restores the set in force at toRevision as a new
	// revision, which it returns; ErrNotFound when there was none then,
	// ErrInvalid for toRevision <= 0.
	PolicyRollback(ctx context.Context, actor, cluster string, toRevision int64) (int64, error)
	// PolicyClusterList returns the clusters that have a set.
	PolicyClusterList(ctx context.Context) ([]string, error)
}

// ChangeLog reads the change log of admin mutations.
type ChangeLog interface {
	// Changes pages newest first: rows below cursor (0 = from the newest),
	// and the next cursor (0 after the last page).
	Changes(ctx context.Context, filter ChangeFilter, cursor int64, limit int) ([]Change, int64, error)
}

// Outbox is the worker's side of the outbox; messages are added inside a
// change's transaction with Tx.OutboxEnqueue.
type Outbox interface {
	// OutboxClaim leases due messages; a row is never handed to two
	// concurrent claims.
	OutboxClaim(ctx context.Context, topic string, limit int, lease time.Duration) ([]OutboxItem, error)
	// OutboxDone returns ErrNotFound for an unknown or already done message.
	OutboxDone(ctx context.Context, id int64) error
	// OutboxRetry returns ErrNotFound for an unknown or already done message.
	OutboxRetry(ctx context.Context, id int64, cause error) (OutboxItem, error)
}

// Revisions tells replicas about committed changes.
type Revisions interface {
	// CurrentRevision returns the newest committed revision.
	CurrentRevision(ctx context.Context) (int64, error)
	// Listen calls fn with each new revision until ctx is done, catching up
	// after a lost connection; it returns ctx's error.
	Listen(ctx context.Context, fn func(revision int64)) error
}

// Transactor runs several mutations in one transaction.
type Transactor interface {
	// InTx commits when fn returns nil; see Store.InTx for retries and errors.
	InTx(ctx context.Context, fn func(tx *Tx) error) error
}

var (
	_ DirectoryReader = (*Store)(nil)
	_ DirectoryWriter = (*Store)(nil)
	_ PolicyStore     = (*Store)(nil)
	_ ChangeLog       = (*Store)(nil)
	_ Outbox          = (*Store)(nil)
	_ Revisions       = (*Store)(nil)
	_ Transactor      = (*Store)(nil)
)
