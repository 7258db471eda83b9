package grants

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Object types of the model.
const (
	TypeUser    = "user"
	TypeGroup   = "group"
	TypeRole    = "role"
	TypeSystem  = "system"
	TypeCatalog = "catalog"
	TypeSchema  = "schema"
	TypeTable   = "table"
	TypeColumn  = "column"
	TypeRoutine = "routine"
)

// SystemObject is the one object of type system.
const SystemObject = "system:global"

// ConditionNonExpired is the model's expiry condition.
const ConditionNonExpired = "non_expired"

// ErrInvalid is wrapped by every validation error of grants and objects.
var ErrInvalid = errors.New("invalid grant")

// maxIDLen is OpenFGA's limit on an object id.
const maxIDLen = 256

// escapeName percent-encodes a Trino name for an OpenFGA object id. Every
// byte outside [A-Za-z0-9_.-] is written as %XX, so '/', ':', '#', '@',
// '%', spaces and non-ASCII never reach OpenFGA raw, and the encoding is
// injective: two different names never give the same id.
func escapeName(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}

// appendEscaped is escapeName for a byte slice.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' {
			b = append(b, c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return b
}

func unescapeName(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("%w: bad escape in %q", ErrInvalid, s)
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("%w: bad escape in %q", ErrInvalid, s)
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// ObjectID returns the OpenFGA object for a type and the parts of a Trino
// name: ObjectID("table", "c", "s", "t") is "table:c/s/t". Parts are
// percent-encoded (see escapeName) and joined with '/'.
func ObjectID(typ string, parts ...string) string {
	var b strings.Builder
	n := len(typ) + 1
	for _, p := range parts {
		n += len(p) + 1
	}
	b.Grow(n)
	b.WriteString(typ)
	b.WriteByte(':')
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('/')
		}
		escapeName(&b, p)
	}
	return b.String()
}

// Object is a parsed object: its type and the parts of its name.
type Object struct {
	Type  string
	Parts []string
}

// partsOf is how many name parts each type has; 0 means any single id.
var partsOf = map[string]int{
	TypeUser: 1, TypeGroup: 1, TypeRole: 1, TypeSystem: 1,
	TypeCatalog: 1, TypeSchema: 2, TypeTable: 3, TypeColumn: 4, TypeRoutine: 3,
}

// ID returns the OpenFGA object id.
func (o Object) ID() string { return ObjectID(o.Type, o.Parts...) }

// String returns the user-facing form: type, ':', and the parts joined by
// '.', each part double-quoted when it contains '.', '"' or is empty.
func (o Object) String() string {
	var b strings.Builder
	b.WriteString(o.Type)
	b.WriteByte(':')
	for i, p := range o.Parts {
		if i > 0 {
			b.WriteByte('.')
		}
		if p == "" || strings.ContainsAny(p, ".\"") {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(p, `"`, `""`))
			b.WriteByte('"')
			continue
		}
		b.WriteString(p)
	}
	return b.String()
}

// ParseObject parses the user-facing form of an object: "catalog:tpch",
// "schema:tpch.sf1", "table:tpch.sf1.orders", "column:tpch.sf1.orders.o_id",
// "routine:c.s.f", "user:bob", "group:g", "role:r", "system:global". A part
// containing '.' is double-quoted, with '"' doubled inside:
// table:"my.cat".sf1."a""b". Users, groups and roles take the rest of the
// string as their one part, unquoted.
func ParseObject(s string) (Object, error) {
	typ, rest, ok := strings.Cut(s, ":")
	want, known := partsOf[typ]
	if !ok || !known {
		return Object{}, fmt.Errorf("%w: object %q: want TYPE:NAME with TYPE one of catalog, schema, table, column, routine, user, group, role, system", ErrInvalid, s)
	}
	if rest == "" {
		return Object{}, fmt.Errorf("%w: object %q has an empty name", ErrInvalid, s)
	}
	var parts []string
	switch typ {
	case TypeUser, TypeGroup, TypeRole, TypeSystem:
		parts = []string{rest}
	default:
		var err error
		parts, err = splitQuoted(rest)
		if err != nil {
			return Object{}, fmt.Errorf("%w: object %q: %v", ErrInvalid, s, err)
		}
	}
	if len(parts) != want {
		return Object{}, fmt.Errorf("%w: object %q: a %s has %d dot-separated parts, got %d (quote parts that contain dots)", ErrInvalid, s, typ, want, len(parts))
	}
	if typ == TypeSystem && parts[0] != "global" {
		return Object{}, fmt.Errorf("%w: object %q: the only system object is system:global", ErrInvalid, s)
	}
	o := Object{Type: typ, Parts: parts}
	if id := o.ID(); len(id) > maxIDLen {
		return Object{}, fmt.Errorf("%w: object %q is longer than %d characters once encoded", ErrInvalid, s, maxIDLen)
	}
	return o, nil
}

func splitQuoted(s string) ([]string, error) {
	var parts []string
	for {
		var part string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for {
				if i >= len(s) {
					return nil, errors.New("unterminated quote")
				}
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						b.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			part, s = b.String(), s[i:]
			parts = append(parts, part)
			if s == "" {
				return parts, nil
			}
			if s[0] != '.' {
				return nil, errors.New("a quoted part must be followed by '.' or the end")
			}
			s = s[1:]
			continue
		}
		i := strings.IndexByte(s, '.')
		if i < 0 {
			if s == "" {
				return nil, errors.New("empty part")
			}
			return append(parts, s), nil
		}
		part, s = s[:i], s[i+1:]
		if part == "" || strings.Contains(part, `"`) {
			return nil, errors.New("empty part or stray quote")
		}
		parts = append(parts, part)
	}
}

// ParseObjectID parses an OpenFGA object id ("table:c/s/t") back to an Object.
func ParseObjectID(id string) (Object, error) {
	typ, rest, ok := strings.Cut(id, ":")
	want, known := partsOf[typ]
	if !ok || !known {
		return Object{}, fmt.Errorf("%w: object id %q", ErrInvalid, id)
	}
	raw := []string{rest}
	if want > 1 {
		raw = strings.Split(rest, "/")
	}
	if len(raw) != want {
		return Object{}, fmt.Errorf("%w: object id %q has %d parts, want %d", ErrInvalid, id, len(raw), want)
	}
	parts := make([]string, len(raw))
	for i, r := range raw {
		p, err := unescapeName(r)
		if err != nil {
			return Object{}, err
		}
		parts[i] = p
	}
	return Object{Type: typ, Parts: parts}, nil
}

// Principal kinds and their OpenFGA user forms.
func principalUser(p string) (string, error) {
	typ, name, ok := strings.Cut(p, ":")
	if !ok || name == "" || strings.ContainsAny(name, "#: \t\n") {
		return "", fmt.Errorf("%w: principal %q: want user:NAME, group:NAME or role:NAME (no '#', ':' or spaces in NAME)", ErrInvalid, p)
	}
	switch typ {
	case TypeUser:
		return p, nil
	case TypeGroup:
		return p + "#member", nil
	case TypeRole:
		return p + "#assignee", nil
	}
	return "", fmt.Errorf("%w: principal %q: want user:, group: or role:", ErrInvalid, p)
}

// principalFromUser is the inverse of principalUser.
func principalFromUser(u string) string {
	if s, ok := strings.CutSuffix(u, "#member"); ok && strings.HasPrefix(u, "group:") {
		return s
	}
	if s, ok := strings.CutSuffix(u, "#assignee"); ok && strings.HasPrefix(u, "role:") {
		return s
	}
	return u
}

// privilegesOf lists the privileges each object type accepts. "member" and
// "assignee" record group membership and role assignment.
var privilegesOf = map[string][]string{
	TypeUser:    {"impersonator"},
	TypeGroup:   {"member"},
	TypeRole:    {"assignee"},
	TypeSystem:  {"read", "write"},
	TypeCatalog: {"use", "select", "insert", "update", "delete", "ownership", "grant_select", "grant_admin", "execute"},
	TypeSchema:  {"select", "insert", "update", "delete", "ownership", "grant_select", "grant_admin", "execute"},
	TypeTable:   {"select", "insert", "update", "delete", "ownership", "grant_select", "grant_admin"},
	TypeColumn:  {"select"},
	TypeRoutine: {"execute"},
}

// Grant is one relationship as the admin API and the CLI write it.
type Grant struct {
	// Principal is "user:NAME", "group:NAME" (its members) or "role:NAME"
	// (its assignees).
	Principal string `json:"principal"`
	// Privilege is a relation of the object's type: select, insert, update,
	// delete, ownership, grant_select, grant_admin, use, execute, read,
	// write, impersonator, member, assignee.
	Privilege string `json:"privilege"`
	// Object is in the user-facing form ParseObject reads.
	Object string `json:"object"`
	// Deny makes the grant a veto (relation denied_PRIVILEGE).
	Deny bool `json:"deny,omitempty"`
	// ExpiresAt, when set, ends the grant at that instant (condition
	// non_expired).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// FieldError names the field of a Grant that failed validation.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Tuple returns the grant as an OpenFGA tuple, validating every field. The
// error is a *FieldError wrapping ErrInvalid.
func (g Grant) Tuple() (Tuple, error) {
	user, err := principalUser(g.Principal)
	if err != nil {
		return Tuple{}, &FieldError{"principal", err}
	}
	o, err := ParseObject(g.Object)
	if err != nil {
		return Tuple{}, &FieldError{"object", err}
	}
	ok := false
	for _, p := range privilegesOf[o.Type] {
		ok = ok || p == g.Privilege
	}
	if !ok {
		return Tuple{}, &FieldError{"privilege", fmt.Errorf("%w: %q is not a privilege of a %s (want one of %s)", ErrInvalid, g.Privilege, o.Type, strings.Join(privilegesOf[o.Type], ", "))}
	}
	rel := g.Privilege
	if g.Deny {
		if o.Type == TypeGroup || o.Type == TypeRole || rel == "grant_admin" {
			return Tuple{}, &FieldError{"deny", fmt.Errorf("%w: %s on a %s cannot be denied", ErrInvalid, rel, o.Type)}
		}
		rel = "denied_" + rel
	}
	if o.Type == TypeGroup && strings.HasPrefix(g.Principal, "role:") {
		return Tuple{}, &FieldError{"principal", fmt.Errorf("%w: a role cannot be a group member", ErrInvalid)}
	}
	if o.Type == TypeRole && strings.HasPrefix(g.Principal, "role:") {
		return Tuple{}, &FieldError{"principal", fmt.Errorf("%w: a role cannot be assigned to a role", ErrInvalid)}
	}
	t := Tuple{User: user, Relation: rel, Object: o.ID()}
	if g.ExpiresAt != nil {
		t.ExpiresAt = g.ExpiresAt.UTC()
	}
	return t, nil
}

// Tuple is a relationship tuple as OpenFGA stores it.
type Tuple struct {
	User     string
	Relation string
	Object   string
	// ExpiresAt is the expiry of a non_expired condition; zero for none.
	ExpiresAt time.Time
}

// Grant returns the user-facing form of a tuple written by Warden or in the
// model's vocabulary.
func (t Tuple) Grant() (Grant, error) {
	o, err := ParseObjectID(t.Object)
	if err != nil {
		return Grant{}, err
	}
	g := Grant{Principal: principalFromUser(t.User), Privilege: t.Relation, Object: o.String()}
	if p, ok := strings.CutPrefix(t.Relation, "denied_"); ok {
		g.Privilege, g.Deny = p, true
	}
	if !t.ExpiresAt.IsZero() {
		e := t.ExpiresAt
		g.ExpiresAt = &e
	}
	return g, nil
}

// String names the tuple as OpenFGA does: object#relation@user.
func (t Tuple) String() string { return t.Object + "#" + t.Relation + "@" + t.User }
