package fbac

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trino-warden/warden/policy/javaregex"
	"github.com/trino-warden/warden/policy/trino"
)

// accessMode is a catalog rule's access: owner ⊃ all ⊃ read-only; none
// grants nothing.
type accessMode uint8

const (
	modeNone accessMode = iota
	modeReadOnly
	modeAll
	modeOwner
)

func (m accessMode) implies(required accessMode) bool { return m != modeNone && m >= required }

func (m accessMode) String() string {
	return [...]string{"none", "read-only", "all", "owner"}[m]
}

// Privilege bit sets.
type privSet uint8

const (
	privSelect privSet = 1 << iota
	privInsert
	privDelete
	privUpdate
	privOwnership
	privGrantSelect
	privExecute
	privGrantExecute
)

const allTablePrivileges = privSelect | privInsert | privDelete | privUpdate | privOwnership | privGrantSelect

var tablePrivNames = map[string]privSet{"SELECT": privSelect, "INSERT": privInsert, "DELETE": privDelete,
	"UPDATE": privUpdate, "OWNERSHIP": privOwnership, "GRANT_SELECT": privGrantSelect}
var functionPrivNames = map[string]privSet{"EXECUTE": privExecute, "GRANT_EXECUTE": privGrantExecute, "OWNERSHIP": privOwnership}
var procedurePrivNames = map[string]privSet{"EXECUTE": privExecute, "GRANT_EXECUTE": privGrantExecute}

type queryMode uint8

const (
	queryExecute queryMode = 1 << iota
	queryView
	queryKill
)

type sysInfoMode uint8

const (
	sysInfoRead sysInfoMode = 1 << iota
	sysInfoWrite
)

// identity matches a rule's user, role and group patterns. A nil pattern
// matches anything. Roles are not part of Trino's OPA protocol, so the set
// of enabled roles is always empty here and a rule with a role pattern never
// matches.
type identity struct {
	user, role, group *javaregex.Regexp
}

func (m *identity) matches(user string, groups []string) bool {
	if m.role != nil {
		return false
	}
	if m.user != nil && !m.user.MatchString(user) {
		return false
	}
	if m.group != nil {
		for _, g := range groups {
			if m.group.MatchString(g) {
				return true
			}
		}
		return false
	}
	return true
}

func matchOpt(re *javaregex.Regexp, s string) bool { return re == nil || re.MatchString(s) }

type catalogRule struct {
	name string
	id   identity
	cat  *javaregex.Regexp
	mode accessMode
}

type schemaRule struct {
	name   string
	id     identity
	cat    *javaregex.Regexp
	schema *javaregex.Regexp
	owner  bool
}

type tableRule struct {
	name       string
	id         identity
	cat        *javaregex.Regexp
	schema     *javaregex.Regexp
	table      *javaregex.Regexp
	privs      privSet
	restricted map[string]struct{}
	masks      map[string]trino.ViewExpression
	filter     *trino.ViewExpression
}

type sessionPropRule struct {
	name  string
	id    identity
	prop  *javaregex.Regexp
	allow bool
}

type catalogSessionPropRule struct {
	name  string
	id    identity
	cat   *javaregex.Regexp
	prop  *javaregex.Regexp
	allow bool
}

type functionRule struct {
	name   string
	id     identity
	cat    *javaregex.Regexp
	schema *javaregex.Regexp
	fn     *javaregex.Regexp
	privs  privSet
}

type queryRule struct {
	name  string
	id    identity
	owner *javaregex.Regexp
	modes queryMode
}

type sysInfoRule struct {
	name  string
	user  *javaregex.Regexp
	role  *javaregex.Regexp
	modes sysInfoMode
}

type impersonationRule struct {
	name         string
	originalUser *javaregex.Regexp
	originalRole *javaregex.Regexp
	// newUser is the compiled new_user pattern when it needs no expansion.
	newUser *javaregex.Regexp
	// template is the raw new_user; expanded against original_user's groups
	// when expand is set.
	template string
	expand   bool
	allow    bool
	cache    *patternCache
}

type authorizationRule struct {
	name          string
	originalUser  *javaregex.Regexp
	originalGroup *javaregex.Regexp
	originalRole  *javaregex.Regexp
	newUser       *javaregex.Regexp
	newRole       *javaregex.Regexp
	allow         bool
}

// anyRule is a rule of the implicit-visibility sets: catalog (and schema)
// patterns of rules that grant something.
type anyRule struct {
	name   string
	id     identity
	cat    *javaregex.Regexp
	schema *javaregex.Regexp
}

func parsePrivileges(path string, names []string, known map[string]privSet) (privSet, error) {
	var p privSet
	for i, n := range names {
		bit, ok := known[strings.ToUpper(n)]
		if !ok {
			valid := make([]string, 0, len(known))
			for k := range known {
				valid = append(valid, k)
			}
			return 0, errAt(fmt.Sprintf("%s[%d]", path, i), "unknown privilege %q (valid: %s)", n, strings.Join(sortStrings(valid), ", "))
		}
		p |= bit
	}
	return p, nil
}

func parseCatalogAccess(path string, raw *json.RawMessage) (accessMode, error) {
	if raw == nil {
		return 0, errAt(path, "allow is required in a catalog rule")
	}
	var b bool
	if err := json.Unmarshal(*raw, &b); err == nil {
		if b {
			return modeAll, nil
		}
		return modeNone, nil
	}
	var s string
	if err := json.Unmarshal(*raw, &s); err != nil {
		return 0, errAt(path, "allow must be a boolean or one of \"all\", \"read-only\", \"none\", \"owner\"; got %s", string(*raw))
	}
	switch strings.ToLower(s) {
	case "all", "true":
		return modeAll, nil
	case "read-only":
		return modeReadOnly, nil
	case "none", "false":
		return modeNone, nil
	case "owner":
		return modeOwner, nil
	}
	return 0, errAt(path, "unknown catalog access mode %q: want \"all\", \"read-only\", \"none\" or \"owner\"", s)
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
