package fbac

import (
	"strings"
	"sync"

	"github.com/trino-warden/warden/policy/javaregex"
)

func compileImpersonation(path string, r impersonationJSON) (*impersonationRule, error) {
	rule := &impersonationRule{name: path, allow: r.Allow == nil || *r.Allow}
	var err error
	if rule.originalUser, err = compilePattern(path+".original_user", alias(r.OriginalUser, r.OriginalUserAlias)); err != nil {
		return nil, err
	}
	if rule.originalRole, err = compilePattern(path+".original_role", alias(r.OriginalRole, r.OriginalRoleAlias)); err != nil {
		return nil, err
	}
	nu := alias(r.NewUser, r.NewUserAlias)
	if nu == nil {
		return nil, errAt(path+".new_user", "new_user is required in an impersonation rule")
	}
	rule.template = *nu
	// Trino expands new_user with Matcher.appendReplacement against the
	// original_user match, so "$1", "${name}" and "\x" escapes are
	// substituted before new_user is compiled. A template with neither '$'
	// nor '\' expands to itself, so it is compiled once here.
	if rule.originalUser != nil && strings.ContainsAny(*nu, `$\`) {
		rule.expand = true
		rule.cache = &patternCache{m: map[string]*javaregex.Regexp{}}
		return rule, nil
	}
	if rule.newUser, err = compilePattern(path+".new_user", nu); err != nil {
		return nil, err
	}
	return rule, nil
}

// match returns (allowed, matched, err): matched is false when the rule
// does not apply. err reports a new_user template that cannot be expanded
// or compiled for this user; Trino fails the statement then, and Warden
// denies.
func (r *impersonationRule) match(user, newUser string) (allow, matched bool, err error) {
	if r.originalRole != nil {
		return false, false, nil // roles never reach Warden over the OPA protocol
	}
	if !r.expand {
		if !matchOpt(r.originalUser, user) || !r.newUser.MatchString(newUser) {
			return false, false, nil
		}
		return r.allow, true, nil
	}
	expanded, ok, err := r.originalUser.Expand(user, r.template)
	if err != nil {
		return false, false, err
	}
	if !ok {
		return false, false, nil
	}
	re, err := r.cache.get(expanded)
	if err != nil {
		return false, false, err
	}
	if !re.MatchString(newUser) {
		return false, false, nil
	}
	return r.allow, true, nil
}

// patternCache keeps compiled expansions of one rule's new_user template,
// bounded so that hostile user names cannot grow it without limit.
type patternCache struct {
	mu sync.RWMutex
	m  map[string]*javaregex.Regexp
}

const patternCacheMax = 4096

func (c *patternCache) get(p string) (*javaregex.Regexp, error) {
	c.mu.RLock()
	re, ok := c.m[p]
	c.mu.RUnlock()
	if ok {
		return re, nil
	}
	re, err := javaregex.Compile(p)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= patternCacheMax {
		clear(c.m)
	}
	c.m[p] = re
	c.mu.Unlock()
	return re, nil
}
