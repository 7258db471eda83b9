package fbac

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/trino-warden/warden/policy/javaregex"
)

// The JSON shapes of rules.json. Every struct rejects unknown properties, as
// Trino's Jackson mapper does (FAIL_ON_UNKNOWN_PROPERTIES). Pointers tell an
// absent property from a present one. Aliases are the camelCase names Trino
// accepts through @JsonAlias.

type fileJSON struct {
	Catalogs                 *[]catalogJSON            `json:"catalogs"`
	Queries                  *[]queryJSON              `json:"queries"`
	Impersonation            *[]impersonationJSON      `json:"impersonation"`
	Principals               *[]principalJSON          `json:"principals"`
	SystemInformation        *[]systemInfoJSON         `json:"system_information"`
	Authorization            *[]authorizationJSON      `json:"authorization"`
	Schemas                  *[]schemaJSON             `json:"schemas"`
	Tables                   *[]tableJSON              `json:"tables"`
	SystemSessionProperties  *[]sessionPropertyJSON    `json:"system_session_properties"`
	CatalogSessionProperties *[]catalogSessionPropJSON `json:"catalog_session_properties"`
	Functions                *[]functionJSON           `json:"functions"`
	Procedures               *[]procedureJSON          `json:"procedures"`
}

type identityJSON struct {
	User  *string `json:"user"`
	Role  *string `json:"role"`
	Group *string `json:"group"`
}

type catalogJSON struct {
	identityJSON
	Catalog *string          `json:"catalog"`
	Allow   *json.RawMessage `json:"allow"`
}

type queryJSON struct {
	identityJSON
	QueryOwner *string   `json:"queryOwner"`
	Allow      *[]string `json:"allow"`
}

type impersonationJSON struct {
	OriginalUser      *string `json:"original_user"`
	OriginalUserAlias *string `json:"originalUser"`
	OriginalRole      *string `json:"original_role"`
	OriginalRoleAlias *string `json:"originalRole"`
	NewUser           *string `json:"new_user"`
	NewUserAlias      *string `json:"newUser"`
	Allow             *bool   `json:"allow"`
}

type principalJSON struct {
	Principal       *string `json:"principal"`
	PrincipalToUser *string `json:"principal_to_user"`
	User            *string `json:"user"`
	Allow           *bool   `json:"allow"`
}

type systemInfoJSON struct {
	User  *string   `json:"user"`
	Role  *string   `json:"role"`
	Allow *[]string `json:"allow"`
}

type authorizationJSON struct {
	OriginalUser       *string `json:"original_user"`
	OriginalUserAlias  *string `json:"originalUser"`
	OriginalGroup      *string `json:"original_group"`
	OriginalGroupAlias *string `json:"originalGroup"`
	OriginalRole       *string `json:"original_role"`
	OriginalRoleAlias  *string `json:"originalRole"`
	NewUser            *string `json:"new_user"`
	NewUserAlias       *string `json:"newUser"`
	NewRole            *string `json:"new_role"`
	NewRoleAlias       *string `json:"newRole"`
	Allow              *bool   `json:"allow"`
}

type schemaJSON struct {
	identityJSON
	Catalog *string `json:"catalog"`
	Schema  *string `json:"schema"`
	Owner   *bool   `json:"owner"`
}

type tableJSON struct {
	identityJSON
	Catalog           *string       `json:"catalog"`
	Schema            *string       `json:"schema"`
	Table             *string       `json:"table"`
	Privileges        *[]string     `json:"privileges"`
	Columns           *[]columnJSON `json:"columns"`
	Filter            *string       `json:"filter"`
	FilterEnvironment *envJSON      `json:"filter_environment"`
}

type columnJSON struct {
	Name            *string  `json:"name"`
	Allow           *bool    `json:"allow"`
	Mask            *string  `json:"mask"`
	MaskEnvironment *envJSON `json:"mask_environment"`
}

type envJSON struct {
	User *string `json:"user"`
}

type sessionPropertyJSON struct {
	identityJSON
	Property *string `json:"property"`
	Allow    *bool   `json:"allow"`
}

type catalogSessionPropJSON struct {
	identityJSON
	Catalog  *string `json:"catalog"`
	Property *string `json:"property"`
	Allow    *bool   `json:"allow"`
}

type functionJSON struct {
	identityJSON
	Catalog            *string   `json:"catalog"`
	Schema             *string   `json:"schema"`
	Function           *string   `json:"function"`
	Privileges         *[]string `json:"privileges"`
	FunctionKinds      *[]string `json:"function_kinds"`
	FunctionKindsAlias *[]string `json:"functionKinds"`
}

type procedureJSON struct {
	identityJSON
	Catalog    *string   `json:"catalog"`
	Schema     *string   `json:"schema"`
	Procedure  *string   `json:"procedure"`
	Privileges *[]string `json:"privileges"`
}

// ParseError says what is wrong with a rules file and where.
type ParseError struct {
	// Path is the JSON path of the offending value, such as
	// "tables[3].privileges[1]"; empty for a syntax error.
	Path    string
	Message string
}

func (e *ParseError) Error() string {
	if e.Path == "" {
		return "invalid rules file: " + e.Message
	}
	return fmt.Sprintf("invalid rules file: %s: %s", e.Path, e.Message)
}

func errAt(path, format string, args ...any) error {
	return &ParseError{Path: path, Message: fmt.Sprintf(format, args...)}
}

func decodeStrict(data []byte) (*fileJSON, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fileJSON
	if err := dec.Decode(&f); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, &ParseError{Message: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, err)}
		case errors.As(err, &te):
			return nil, &ParseError{Path: te.Field, Message: fmt.Sprintf("wrong type: got JSON %s, want %s", te.Value, te.Type)}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.TrimPrefix(err.Error(), "json: unknown field ")
			return nil, &ParseError{Message: fmt.Sprintf("unknown property %s (Trino rejects unknown properties)", name)}
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, &ParseError{Message: "malformed JSON: the document ends early"}
		}
		return nil, &ParseError{Message: err.Error()}
	}
	if dec.More() {
		return nil, &ParseError{Message: "trailing data after the top-level JSON object"}
	}
	return &f, nil
}

// compilePattern compiles an optional pattern; nil means "matches anything".
func compilePattern(path string, p *string) (*javaregex.Regexp, error) {
	if p == nil {
		return nil, nil
	}
	re, err := javaregex.Compile(*p)
	if err != nil {
		return nil, errAt(path, "%v", err)
	}
	return re, nil
}

// alias picks a property given under its snake_case name or its camelCase
// alias.
func alias(primary, secondary *string) *string {
	if primary != nil {
		return primary
	}
	return secondary
}

// patterns compiles one rule's optional patterns and keeps the first error,
// so a rule's compile reads as a list of its properties.
type patterns struct {
	path string
	err  error
}

func (c *patterns) re(key string, p *string) *javaregex.Regexp {
	if c.err != nil {
		return nil
	}
	re, err := compilePattern(c.path+"."+key, p)
	c.err = err
	return re
}

func (c *patterns) identity(id identityJSON) identity {
	return identity{user: c.re("user", id.User), role: c.re("role", id.Role), group: c.re("group", id.Group)}
}
