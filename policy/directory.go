package policy

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Where a directory user's Trino name comes from (IdentityOptions.UserNameFrom).
const (
	NameFromUserName   = "user_name"
	NameFromEmail      = "email"
	NameFromExternalID = "external_id"
	// NameFromAttribute is a prefix: "attribute:<name>" takes the named
	// string attribute.
	NameFromAttribute = "attribute:"
)

// Normalisations applied, in order, to both the directory's value and the
// name Trino sends (IdentityOptions.Normalize).
const (
	NormalizeLower       = "lower"        // Unicode lower case
	NormalizeStripDomain = "strip_domain" // drop "@…" and everything after it
	NormalizeTrim        = "trim"         // drop surrounding white space
)

// What becomes of a user the directory does not know (IdentityOptions.Unknown).
const (
	// UnknownPass decides for the user on what Trino sends alone: its
	// groups, no attributes. It is the default, for service accounts and
	// for deployments without a directory.
	UnknownPass = "pass"
	// UnknownDeny denies every check for the user, except ServiceUsers.
	UnknownDeny = "deny"
)

// IdentityOptions say how directory users map to the names Trino sends.
type IdentityOptions struct {
	// UserNameFrom is NameFromUserName (default), NameFromEmail,
	// NameFromExternalID or NameFromAttribute+"<name>".
	UserNameFrom string
	// Normalize lists normalisations, applied in order to both sides.
	Normalize []string
	// Unknown is UnknownPass (default) or UnknownDeny.
	Unknown string
	// ServiceUsers are Trino user names that pass unchanged even when
	// Unknown is UnknownDeny: service accounts, the view reconciler's
	// principal. A directory entry for the same name still applies.
	ServiceUsers []string
}

// Validate reports the first invalid option.
func (o IdentityOptions) Validate() error {
	switch {
	case o.UserNameFrom == "", o.UserNameFrom == NameFromUserName, o.UserNameFrom == NameFromEmail, o.UserNameFrom == NameFromExternalID:
	case strings.HasPrefix(o.UserNameFrom, NameFromAttribute) && len(o.UserNameFrom) > len(NameFromAttribute):
	default:
		return fmt.Errorf("identity.user_name_from %q: want %s, %s, %s or %s<name>", o.UserNameFrom,
			NameFromUserName, NameFromEmail, NameFromExternalID, NameFromAttribute)
	}
	for _, n := range o.Normalize {
		switch n {
		case NormalizeLower, NormalizeStripDomain, NormalizeTrim:
		default:
			return fmt.Errorf("identity.normalize %q: want %s, %s or %s", n, NormalizeLower, NormalizeStripDomain, NormalizeTrim)
		}
	}
	switch o.Unknown {
	case "", UnknownPass, UnknownDeny:
	default:
		return fmt.Errorf("identity.unknown_users %q: want %s or %s", o.Unknown, UnknownPass, UnknownDeny)
	}
	return nil
}

// normalize applies the configured normalisations to a name.
func (o *IdentityOptions) normalize(s string) string {
	for _, n := range o.Normalize {
		switch n {
		case NormalizeLower:
			s = strings.ToLower(s)
		case NormalizeStripDomain:
			if i := strings.IndexByte(s, '@'); i >= 0 {
				s = s[:i]
			}
		case NormalizeTrim:
			s = strings.TrimSpace(s)
		}
	}
	return s
}

// DirectoryUser is one user of the directory, as the store holds it.
type DirectoryUser struct {
	UserName   string
	Email      string
	ExternalID string
	Active     bool
	// Deleted marks a user deleted from the directory: still denied, so a
	// deletion cannot hand the user back to the unknown-user rule.
	Deleted    bool
	Groups     []string
	Attributes map[string]any
}

// Directory is the directory as decisions read it: users by the Trino name
// they map to. It is immutable once built and is part of a Snapshot.
type Directory struct {
	opts    IdentityOptions
	users   map[string]*dirEntry
	service map[string]struct{}
}

type dirEntry struct {
	groups     []string
	attributes map[string]any
	disabled   string // why every check is denied; "" for an active user
}

// NewDirectory indexes users under the names IdentityOptions map them to.
// Users without a value for the name (no email, say) are skipped: they
// cannot match any Trino name. Two users that map to the same name make
// that name ambiguous, and it is denied everything rather than guessed.
func NewDirectory(opts IdentityOptions, users []DirectoryUser) (*Directory, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	d := &Directory{opts: opts, users: make(map[string]*dirEntry, len(users)), service: map[string]struct{}{}}
	for _, s := range opts.ServiceUsers {
		d.service[opts.normalize(s)] = struct{}{}
	}
	for i := range users {
		u := &users[i]
		name := d.opts.normalize(d.nameOf(u))
		if name == "" {
			continue
		}
		e := &dirEntry{groups: slices.Clone(u.Groups), attributes: u.Attributes}
		sort.Strings(e.groups)
		switch {
		case u.Deleted:
			e.disabled = "deleted from the directory"
		case !u.Active:
			e.disabled = "deactivated in the directory"
		}
		if prev, dup := d.users[name]; dup {
			// Keep one deny entry: a deleted duplicate of an active user
			// (an account re-created under a new ID) does not lock out the
			// active one, but two live users under one name are ambiguous.
			switch {
			case prev.disabled == "" && e.disabled != "":
				continue
			case prev.disabled != "" && e.disabled == "":
			default:
				e = &dirEntry{disabled: "ambiguous: several directory users map to this name"}
			}
		}
		d.users[name] = e
	}
	return d, nil
}

func (d *Directory) nameOf(u *DirectoryUser) string {
	switch from := d.opts.UserNameFrom; {
	case from == "" || from == NameFromUserName:
		return u.UserName
	case from == NameFromEmail:
		return u.Email
	case from == NameFromExternalID:
		return u.ExternalID
	default:
		v, _ := u.Attributes[strings.TrimPrefix(from, NameFromAttribute)].(string)
		return v
	}
}

// NameOf returns the Trino user name a directory user maps to, normalised;
// "" when the user has no value for the mapped field.
func (d *Directory) NameOf(u DirectoryUser) string {
	return d.opts.normalize(d.nameOf(&u))
}

// Len returns the number of indexed names.
func (d *Directory) Len() int { return len(d.users) }

// Enrich adds the directory's groups and attributes for sub.User to sub,
// and marks it Disabled when the user is deactivated, deleted, ambiguous,
// or unknown under UnknownDeny.
func (d *Directory) Enrich(sub *Subject) {
	if sub.enriched {
		return
	}
	sub.enriched = true
	name := d.opts.normalize(sub.User)
	e, ok := d.users[name]
	if !ok {
		if d.opts.Unknown == UnknownDeny {
			if _, svc := d.service[name]; !svc {
				sub.Disabled = "not in the directory, and identity.unknown_users is deny"
			}
		}
		return
	}
	sub.Known = true
	if e.disabled != "" {
		sub.Disabled = e.disabled
		return
	}
	sub.Attributes = e.attributes
	if len(e.groups) > 0 {
		sub.Groups = unionGroups(sub.Groups, e.groups)
	}
}

// Disabled returns why every check for the Trino user name would be denied,
// "" when it would not be.
func (d *Directory) Disabled(user string) string {
	s := Subject{User: user}
	d.Enrich(&s)
	return s.Disabled
}

// unionGroups returns a followed by the members of b not in a. a is not
// modified.
func unionGroups(a, b []string) []string {
	out := make([]string, len(a), len(a)+len(b))
	copy(out, a)
	for _, g := range b {
		if !slices.Contains(a, g) {
			out = append(out, g)
		}
	}
	return out
}
