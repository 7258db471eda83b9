package fbac

import (
	"fmt"
	"os"

	"github.com/trino-warden/warden/policy/javaregex"
	"github.com/trino-warden/warden/policy/trino"
)

// Policy is a compiled rules.json. It is immutable and safe for concurrent
// use.
type Policy struct {
	catalogs            []*catalogRule
	schemas             []*schemaRule
	tables              []*tableRule
	sessionProps        []*sessionPropRule
	catalogSessionProps []*catalogSessionPropRule
	functions           []*functionRule
	procedures          []*functionRule
	queries             []*queryRule
	hasQueries          bool
	sysInfo             []*sysInfoRule
	impersonation       []*impersonationRule
	hasImpersonation    bool
	hasPrincipals       bool
	authorization       []*authorizationRule
	anyCatalog          []*anyRule
	anyCatalogSchema    []*anyRule

	views *viewCache
}

// ParseFile reads and compiles a rules file.
func ParseFile(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rules file: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Parse compiles rules.json content with the semantics of Trino's
// FileBasedSystemAccessControl: absent sections take Trino's defaults,
// present sections are ordered lists whose first matching rule wins.
func Parse(data []byte) (*Policy, error) {
	f, err := decodeStrict(data)
	if err != nil {
		return nil, err
	}
	p := &Policy{views: newViewCache()}
	if err := p.compileCatalogs(f); err != nil {
		return nil, err
	}
	if err := p.compileSchemas(f); err != nil {
		return nil, err
	}
	if err := p.compileTables(f); err != nil {
		return nil, err
	}
	if err := p.compileSessionProps(f); err != nil {
		return nil, err
	}
	if err := p.compileFunctions(f); err != nil {
		return nil, err
	}
	if err := p.compileQueries(f); err != nil {
		return nil, err
	}
	if err := p.compileSystem(f); err != nil {
		return nil, err
	}
	p.buildAnyRules()
	return p, nil
}

var dotStar = javaregex.MustCompile(".*")

func (p *Policy) compileCatalogs(f *fileJSON) error {
	if f.Catalogs == nil {
		p.catalogs = []*catalogRule{{name: "catalogs (absent: all access to every catalog)", mode: modeAll}}
		return nil
	}
	for i, r := range *f.Catalogs {
		c := patterns{path: fmt.Sprintf("catalogs[%d]", i)}
		rule := &catalogRule{name: c.path, id: c.identity(r.identityJSON), cat: c.re("catalog", r.Catalog)}
		if c.err != nil {
			return c.err
		}
		mode, err := parseCatalogAccess(c.path+".allow", r.Allow)
		if err != nil {
			return err
		}
		rule.mode = mode
		p.catalogs = append(p.catalogs, rule)
	}
	// FileBasedSystemAccessControlModule appends this rule whenever catalog
	// rules are configured, so the system catalog stays usable.
	p.catalogs = append(p.catalogs, &catalogRule{name: "catalogs (implicit last rule: system catalog)",
		id: identity{user: dotStar}, cat: javaregex.MustCompile("system"), mode: modeAll})
	return nil
}

func (p *Policy) compileSchemas(f *fileJSON) error {
	if f.Schemas == nil {
		p.schemas = []*schemaRule{{name: "schemas (absent: everyone owns every schema)", owner: true}}
		return nil
	}
	for i, r := range *f.Schemas {
		c := patterns{path: fmt.Sprintf("schemas[%d]", i)}
		rule := &schemaRule{name: c.path, id: c.identity(r.identityJSON), cat: c.re("catalog", r.Catalog), schema: c.re("schema", r.Schema),
			owner: r.Owner != nil && *r.Owner}
		if c.err != nil {
			return c.err
		}
		p.schemas = append(p.schemas, rule)
	}
	return nil
}

func (p *Policy) compileTables(f *fileJSON) error {
	if f.Tables == nil {
		p.tables = []*tableRule{{name: "tables (absent: all privileges on every table)", privs: allTablePrivileges}}
		return nil
	}
	for i, r := range *f.Tables {
		path := fmt.Sprintf("tables[%d]", i)
		c := patterns{path: path}
		t := &tableRule{name: path, id: c.identity(r.identityJSON), cat: c.re("catalog", r.Catalog), schema: c.re("schema", r.Schema), table: c.re("table", r.Table)}
		if c.err != nil {
			return c.err
		}
		var err error
		if r.Privileges == nil {
			return errAt(path+".privileges", "privileges is required in a table rule")
		}
		if t.privs, err = parsePrivileges(path+".privileges", *r.Privileges, tablePrivNames); err != nil {
			return err
		}
		if r.Columns != nil {
			for j, c := range *r.Columns {
				cpath := fmt.Sprintf("%s.columns[%d]", path, j)
				if c.Name == nil {
					return errAt(cpath+".name", "name is required in a column constraint")
				}
				if _, dup := t.restricted[*c.Name]; dup {
					return errAt(cpath+".name", "duplicate column %q", *c.Name)
				}
				if _, dup := t.masks[*c.Name]; dup {
					return errAt(cpath+".name", "duplicate column %q", *c.Name)
				}
				if c.Allow != nil && !*c.Allow {
					if t.restricted == nil {
						t.restricted = map[string]struct{}{}
					}
					t.restricted[*c.Name] = struct{}{}
				}
				if c.Mask != nil {
					if t.masks == nil {
						t.masks = map[string]trino.ViewExpression{}
					}
					ve := trino.ViewExpression{Expression: *c.Mask}
					if c.MaskEnvironment != nil && c.MaskEnvironment.User != nil {
						ve.Identity = *c.MaskEnvironment.User
					}
					t.masks[*c.Name] = ve
				}
			}
		}
		if r.Filter != nil {
			ve := trino.ViewExpression{Expression: *r.Filter}
			if r.FilterEnvironment != nil && r.FilterEnvironment.User != nil {
				ve.Identity = *r.FilterEnvironment.User
			}
			t.filter = &ve
		}
		p.tables = append(p.tables, t)
	}
	return nil
}

func (p *Policy) compileSessionProps(f *fileJSON) error {
	if f.SystemSessionProperties == nil {
		p.sessionProps = []*sessionPropRule{{name: "system_session_properties (absent: allow all)", allow: true}}
	} else {
		for i, r := range *f.SystemSessionProperties {
			c := patterns{path: fmt.Sprintf("system_session_properties[%d]", i)}
			rule := &sessionPropRule{name: c.path, id: c.identity(r.identityJSON), prop: c.re("property", r.Property), allow: r.Allow != nil && *r.Allow}
			if c.err != nil {
				return c.err
			}
			p.sessionProps = append(p.sessionProps, rule)
		}
	}
	if f.CatalogSessionProperties == nil {
		p.catalogSessionProps = []*catalogSessionPropRule{{name: "catalog_session_properties (absent: allow all)", allow: true}}
		return nil
	}
	for i, r := range *f.CatalogSessionProperties {
		c := patterns{path: fmt.Sprintf("catalog_session_properties[%d]", i)}
		rule := &catalogSessionPropRule{name: c.path, id: c.identity(r.identityJSON), cat: c.re("catalog", r.Catalog),
			prop: c.re("property", r.Property), allow: r.Allow != nil && *r.Allow}
		if c.err != nil {
			return c.err
		}
		p.catalogSessionProps = append(p.catalogSessionProps, rule)
	}
	return nil
}

func builtinOnly(name string) *functionRule {
	return &functionRule{name: name, cat: javaregex.MustCompile("system"), schema: javaregex.MustCompile("builtin"),
		privs: privExecute | privGrantExecute}
}

// routineJSON is what function and procedure rules share.
type routineJSON struct {
	identityJSON
	catalog, schema, name *string
	privileges            *[]string
}

// compileRoutine compiles a function or procedure rule; nameKey is the
// property naming the routine ("function" or "procedure").
func compileRoutine(path, nameKey string, r routineJSON, known map[string]privSet) (*functionRule, error) {
	c := patterns{path: path}
	fr := &functionRule{name: path, id: c.identity(r.identityJSON), cat: c.re("catalog", r.catalog), schema: c.re("schema", r.schema), fn: c.re(nameKey, r.name)}
	if c.err != nil {
		return nil, c.err
	}
	var err error
	if r.privileges == nil {
		return nil, errAt(path+".privileges", "privileges is required in a %s rule", nameKey)
	}
	if fr.privs, err = parsePrivileges(path+".privileges", *r.privileges, known); err != nil {
		return nil, err
	}
	return fr, nil
}

func (p *Policy) compileFunctions(f *fileJSON) error {
	if f.Functions == nil {
		p.functions = []*functionRule{builtinOnly("functions (absent: only system.builtin functions)")}
	} else {
		for i, r := range *f.Functions {
			path := fmt.Sprintf("functions[%d]", i)
			kinds := r.FunctionKinds
			if kinds == nil {
				kinds = r.FunctionKindsAlias
			}
			if kinds != nil && len(*kinds) > 0 {
				return errAt(path+".function_kinds", "function_kinds is not supported: Trino rejects a non-empty list")
			}
			fr, err := compileRoutine(path, "function", routineJSON{r.identityJSON, r.Catalog, r.Schema, r.Function, r.Privileges}, functionPrivNames)
			if err != nil {
				return err
			}
			p.functions = append(p.functions, fr)
		}
	}
	if f.Procedures == nil {
		p.procedures = []*functionRule{builtinOnly("procedures (absent: only system.builtin procedures)")}
		return nil
	}
	for i, r := range *f.Procedures {
		fr, err := compileRoutine(fmt.Sprintf("procedures[%d]", i), "procedure", routineJSON{r.identityJSON, r.Catalog, r.Schema, r.Procedure, r.Privileges}, procedurePrivNames)
		if err != nil {
			return err
		}
		p.procedures = append(p.procedures, fr)
	}
	return nil
}

func (p *Policy) compileQueries(f *fileJSON) error {
	if f.Queries == nil {
		return nil
	}
	p.hasQueries = true
	for i, r := range *f.Queries {
		path := fmt.Sprintf("queries[%d]", i)
		c := patterns{path: path}
		id, owner := c.identity(r.identityJSON), c.re("queryOwner", r.QueryOwner)
		if c.err != nil {
			return c.err
		}
		if r.Allow == nil {
			return errAt(path+".allow", "allow is required in a query rule")
		}
		var modes queryMode
		for j, m := range *r.Allow {
			switch lower(m) {
			case "execute":
				modes |= queryExecute
			case "view":
				modes |= queryView
			case "kill":
				modes |= queryKill
			default:
				return errAt(fmt.Sprintf("%s.allow[%d]", path, j), "unknown query access %q: want \"execute\", \"view\" or \"kill\"", m)
			}
		}
		if owner != nil && modes&queryExecute != 0 {
			return errAt(path, "a query rule cannot combine a queryOwner condition with access mode \"execute\"")
		}
		p.queries = append(p.queries, &queryRule{name: path, id: id, owner: owner, modes: modes})
	}
	return nil
}

func (p *Policy) compileSystem(f *fileJSON) error {
	if f.SystemInformation != nil {
		for i, r := range *f.SystemInformation {
			path := fmt.Sprintf("system_information[%d]", i)
			c := patterns{path: path}
			rule := &sysInfoRule{name: path, user: c.re("user", r.User), role: c.re("role", r.Role)}
			if c.err != nil {
				return c.err
			}
			if r.Allow == nil {
				return errAt(path+".allow", "allow is required in a system_information rule")
			}
			for j, m := range *r.Allow {
				switch lower(m) {
				case "read":
					rule.modes |= sysInfoRead
				case "write":
					rule.modes |= sysInfoWrite
				default:
					return errAt(fmt.Sprintf("%s.allow[%d]", path, j), "unknown system information access %q: want \"read\" or \"write\"", m)
				}
			}
			p.sysInfo = append(p.sysInfo, rule)
		}
	}
	if f.Impersonation != nil {
		p.hasImpersonation = true
		for i, r := range *f.Impersonation {
			rule, err := compileImpersonation(fmt.Sprintf("impersonation[%d]", i), r)
			if err != nil {
				return err
			}
			p.impersonation = append(p.impersonation, rule)
		}
	}
	if f.Principals != nil {
		p.hasPrincipals = true
		for i, r := range *f.Principals {
			path := fmt.Sprintf("principals[%d]", i)
			if r.Principal == nil {
				return errAt(path+".principal", "principal is required in a principals rule")
			}
			for _, pat := range []struct {
				name string
				v    *string
			}{{"principal", r.Principal}, {"principal_to_user", r.PrincipalToUser}, {"user", r.User}} {
				if _, err := compilePattern(path+"."+pat.name, pat.v); err != nil {
					return err
				}
			}
			if r.Allow == nil {
				return errAt(path+".allow", "allow is required in a principals rule")
			}
		}
	}
	if f.Authorization != nil {
		for i, r := range *f.Authorization {
			path := fmt.Sprintf("authorization[%d]", i)
			c := patterns{path: path}
			rule := &authorizationRule{name: path, allow: r.Allow == nil || *r.Allow,
				originalUser:  c.re("original_user", alias(r.OriginalUser, r.OriginalUserAlias)),
				originalGroup: c.re("original_group", alias(r.OriginalGroup, r.OriginalGroupAlias)),
				originalRole:  c.re("original_role", alias(r.OriginalRole, r.OriginalRoleAlias)),
				newUser:       c.re("new_user", alias(r.NewUser, r.NewUserAlias)),
				newRole:       c.re("new_role", alias(r.NewRole, r.NewRoleAlias))}
			if c.err != nil {
				return c.err
			}
			p.authorization = append(p.authorization, rule)
		}
	}
	return nil
}

// buildAnyRules derives the rule sets of implicit visibility, as
// FileBasedSystemAccessControl's constructor does: a catalog is visible when
// a schema-owner rule, a table rule with privileges, a function or procedure
// rule with privileges, or an allowing catalog-session-property rule covers
// it; a schema likewise, without the session-property rules.
func (p *Policy) buildAnyRules() {
	for _, r := range p.schemas {
		if r.owner {
			p.anyCatalog = append(p.anyCatalog, &anyRule{name: r.name, id: r.id, cat: r.cat})
			p.anyCatalogSchema = append(p.anyCatalogSchema, &anyRule{name: r.name, id: r.id, cat: r.cat, schema: r.schema})
		}
	}
	for _, r := range p.tables {
		if r.privs != 0 {
			p.anyCatalog = append(p.anyCatalog, &anyRule{name: r.name, id: r.id, cat: r.cat})
			p.anyCatalogSchema = append(p.anyCatalogSchema, &anyRule{name: r.name, id: r.id, cat: r.cat, schema: r.schema})
		}
	}
	for _, r := range p.catalogSessionProps {
		if r.allow {
			p.anyCatalog = append(p.anyCatalog, &anyRule{name: r.name, id: r.id, cat: r.cat})
		}
	}
	for _, list := range [][]*functionRule{p.functions, p.procedures} {
		for _, r := range list {
			if r.privs != 0 {
				p.anyCatalog = append(p.anyCatalog, &anyRule{name: r.name, id: r.id, cat: r.cat})
				p.anyCatalogSchema = append(p.anyCatalogSchema, &anyRule{name: r.name, id: r.id, cat: r.cat, schema: r.schema})
			}
		}
	}
}

func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
