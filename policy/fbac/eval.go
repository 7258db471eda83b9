package fbac

const informationSchema = "information_schema"

// catalogAccess is canAccessCatalog: the first catalog rule that matches
// decides, and its mode must imply the required one.
func (v *view) catalogAccess(catalog string, required accessMode) (bool, string) {
	for _, r := range v.catalogs {
		if matchOpt(r.cat, catalog) {
			return r.mode.implies(required), r.name
		}
	}
	return false, ""
}

// anyCatalogAccess is checkAnyCatalogAccess: a catalog is visible to its
// owner, or with read-only access when any rule grants something in it.
func (v *view) anyCatalogAccess(catalog string) (bool, string) {
	if ok, rule := v.catalogAccess(catalog, modeOwner); ok {
		return true, rule
	}
	ok, rule := v.catalogAccess(catalog, modeReadOnly)
	if !ok {
		return false, rule
	}
	for _, r := range v.anyCatalog {
		if matchOpt(r.cat, catalog) {
			return true, r.name
		}
	}
	return false, "no rule grants anything in the catalog"
}

// anySchemaAccess is checkAnySchemaAccess.
func (v *view) anySchemaAccess(catalog, schema string) (bool, string) {
	ok, rule := v.catalogAccess(catalog, modeReadOnly)
	if !ok {
		return false, rule
	}
	for _, r := range v.anyCatalogSchema {
		if matchOpt(r.cat, catalog) && matchOpt(r.schema, schema) {
			return true, r.name
		}
	}
	return false, "no rule grants anything in the schema"
}

// schemaOwner is isSchemaOwner: catalog access "all", and the first
// matching schema rule has owner true.
func (v *view) schemaOwner(catalog, schema string) (bool, string) {
	ok, rule := v.catalogAccess(catalog, modeAll)
	if !ok {
		return false, rule
	}
	for _, r := range v.schemas {
		if matchOpt(r.cat, catalog) && matchOpt(r.schema, schema) {
			return r.owner, r.name
		}
	}
	return false, ""
}

func (v *view) firstTableRule(catalog, schema, table string) *tableRule {
	for _, r := range v.tables {
		if matchOpt(r.cat, catalog) && matchOpt(r.schema, schema) && matchOpt(r.table, table) {
			return r
		}
	}
	return nil
}

// tablePermission is checkTablePermission: catalog access, then
// information_schema is always allowed, then the first matching table rule's
// privileges decide.
func (v *view) tablePermission(catalog, schema, table string, catalogMode accessMode, need privSet, anyPriv bool) (bool, string) {
	ok, rule := v.catalogAccess(catalog, catalogMode)
	if !ok {
		return false, rule
	}
	if schema == informationSchema {
		return true, "information_schema"
	}
	r := v.firstTableRule(catalog, schema, table)
	if r == nil {
		return false, ""
	}
	if anyPriv {
		return r.privs != 0, r.name
	}
	return r.privs&need != 0, r.name
}

// tablePriv checks one table privilege; SELECT and GRANT_SELECT need
// read-only catalog access, every other privilege needs "all".
func (v *view) tablePriv(catalog, schema, table string, need privSet) (bool, string) {
	mode := modeAll
	if need == privSelect || need == privGrantSelect {
		mode = modeReadOnly
	}
	return v.tablePermission(catalog, schema, table, mode, need, false)
}

func (v *view) anyTablePermission(catalog, schema, table string) (bool, string) {
	return v.tablePermission(catalog, schema, table, modeReadOnly, 0, true)
}

func (r *tableRule) canSelect(columns []string) bool {
	if r.privs&(privSelect|privGrantSelect) == 0 {
		return false
	}
	if len(r.restricted) == 0 {
		return true
	}
	for _, c := range columns {
		if _, bad := r.restricted[c]; bad {
			return false
		}
	}
	return true
}

func (v *view) selectColumns(catalog, schema, table string, columns []string) (bool, string) {
	ok, rule := v.catalogAccess(catalog, modeReadOnly)
	if !ok {
		return false, rule
	}
	if schema == informationSchema {
		return true, "information_schema"
	}
	r := v.firstTableRule(catalog, schema, table)
	if r == nil {
		return false, ""
	}
	return r.canSelect(columns), r.name
}

func (v *view) createViewWithSelect(catalog, schema, table string, columns []string) (bool, string) {
	ok, rule := v.catalogAccess(catalog, modeAll)
	if !ok {
		return false, rule
	}
	if schema == informationSchema {
		return true, "information_schema"
	}
	r := v.firstTableRule(catalog, schema, table)
	if r == nil {
		return false, ""
	}
	return r.canSelect(columns) && r.privs&privGrantSelect != 0, r.name
}

// function checks the first matching function (or procedure) rule with
// read-only catalog access.
func (v *view) function(rules []*functionRule, catalog, schema, name string, need privSet) (bool, string) {
	ok, rule := v.catalogAccess(catalog, modeReadOnly)
	if !ok {
		return false, rule
	}
	for _, r := range rules {
		if matchOpt(r.cat, catalog) && matchOpt(r.schema, schema) && matchOpt(r.fn, name) {
			return r.privs&need != 0, r.name
		}
	}
	return false, ""
}

func (v *view) sessionProperty(name string) (bool, string) {
	for _, r := range v.sessionProps {
		if matchOpt(r.prop, name) {
			return r.allow, r.name
		}
	}
	return false, ""
}

func (v *view) catalogSessionProperty(catalog, name string) (bool, string) {
	ok, rule := v.catalogAccess(catalog, modeReadOnly)
	if !ok {
		return false, rule
	}
	for _, r := range v.catalogSessionProps {
		if matchOpt(r.cat, catalog) && matchOpt(r.prop, name) {
			return r.allow, r.name
		}
	}
	return false, ""
}

// query is canAccessQuery. owner is empty with hasOwner false for
// ExecuteQuery, which matches only rules without queryOwner.
func (p *Policy) query(v *view, owner string, hasOwner bool, need queryMode) (bool, string) {
	if !p.hasQueries {
		return true, "queries (absent: allow)"
	}
	for _, r := range v.queries {
		var matched bool
		if !hasOwner {
			matched = r.owner == nil
		} else {
			matched = matchOpt(r.owner, owner)
		}
		if matched {
			return r.modes&need != 0, r.name
		}
	}
	return false, ""
}

func (p *Policy) systemInformation(user string, need sysInfoMode) (bool, string) {
	for _, r := range p.sysInfo {
		if r.role != nil {
			continue // roles never reach Warden over the OPA protocol
		}
		if matchOpt(r.user, user) {
			return r.modes&need != 0, r.name
		}
	}
	return false, ""
}

func (p *Policy) impersonate(user, newUser string) (bool, string, error) {
	if !p.hasImpersonation {
		if p.hasPrincipals {
			return true, "impersonation (absent, principals present: allow)", nil
		}
		return false, "impersonation (absent: deny)", nil
	}
	for _, r := range p.impersonation {
		allow, matched, err := r.match(user, newUser)
		if err != nil {
			return false, r.name, err
		}
		if matched {
			return allow, r.name, nil
		}
	}
	return false, "", nil
}

// authorize is checkCanSetAuthorization: the first rule that matches the
// caller and the grantee decides. A USER grantee needs new_user, a ROLE
// grantee new_role; a rule without that pattern does not match.
func (p *Policy) authorize(user string, groups []string, granteeType, granteeName string) (bool, string) {
	for _, r := range p.authorization {
		if r.originalRole != nil || !matchOpt(r.originalUser, user) {
			continue
		}
		if r.originalGroup != nil && !anyMatch(r.originalGroup.MatchString, groups) {
			continue
		}
		var pat = r.newUser
		switch granteeType {
		case "USER":
		case "ROLE":
			pat = r.newRole
		default:
			continue
		}
		if pat == nil || !pat.MatchString(granteeName) {
			continue
		}
		return r.allow, r.name
	}
	return false, ""
}

func anyMatch(match func(string) bool, ss []string) bool {
	for _, s := range ss {
		if match(s) {
			return true
		}
	}
	return false
}
