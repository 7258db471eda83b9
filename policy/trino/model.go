// Package trino models the requests that Trino's OPA access-control plugin
// sends and the answers it decodes. It holds no policy: it is the wire
// contract, shared by every policy source and by the HTTP server.
package trino

import "encoding/json"

// Query is the body of every request: {"input": …}.
type Query struct {
	Input Input `json:"input"`
}

// Input is the plugin's OpaQueryInput. Context and Action are always sent.
type Input struct {
	Context Context `json:"context"`
	Action  Action  `json:"action"`
}

// Context is the plugin's OpaQueryContext. QueryID arrives from Trino 478 on,
// Properties from 480 on; both are optional.
type Context struct {
	Identity      Identity          `json:"identity"`
	SoftwareStack SoftwareStack     `json:"softwareStack"`
	Properties    map[string]string `json:"properties,omitempty"`
	QueryID       string            `json:"queryId,omitempty"`
}

// Identity is the user a check is made for, with the groups Trino's group
// provider resolved.
type Identity struct {
	User   string   `json:"user"`
	Groups []string `json:"groups"`
}

// SoftwareStack carries the Trino version.
type SoftwareStack struct {
	TrinoVersion string `json:"trinoVersion"`
}

// Action is the plugin's OpaQueryInputAction. Resource and FilterResources
// are never both present.
type Action struct {
	Operation       string     `json:"operation"`
	Resource        *Resource  `json:"resource,omitempty"`
	FilterResources []Resource `json:"filterResources,omitempty"`
	TargetResource  *Resource  `json:"targetResource,omitempty"`
	Grantee         *Grantee   `json:"grantee,omitempty"`
}

// Resource is the plugin's OpaQueryInputResource: only the fields relevant to
// the operation are set.
type Resource struct {
	User                   *User                   `json:"user,omitempty"`
	SystemSessionProperty  *SystemSessionProperty  `json:"systemSessionProperty,omitempty"`
	CatalogSessionProperty *CatalogSessionProperty `json:"catalogSessionProperty,omitempty"`
	Function               *Function               `json:"function,omitempty"`
	Catalog                *Catalog                `json:"catalog,omitempty"`
	Schema                 *Schema                 `json:"schema,omitempty"`
	Table                  *Table                  `json:"table,omitempty"`
	Column                 *Column                 `json:"column,omitempty"`
}

// User is a user named by a resource: the target of ImpersonateUser (no
// groups) or the owner of a query (with groups).
type User struct {
	User   string   `json:"user"`
	Groups []string `json:"groups,omitempty"`
}

// SystemSessionProperty names a system session property.
type SystemSessionProperty struct {
	Name string `json:"name"`
}

// CatalogSessionProperty names a catalog session property.
type CatalogSessionProperty struct {
	CatalogName  string `json:"catalogName"`
	PropertyName string `json:"propertyName"`
}

// Function names a function or procedure. CatalogName and SchemaName are
// empty for ExecuteTableProcedure.
type Function struct {
	CatalogName  string `json:"catalogName,omitempty"`
	SchemaName   string `json:"schemaName,omitempty"`
	FunctionName string `json:"functionName"`
}

// Catalog names a catalog.
type Catalog struct {
	Name string `json:"name"`
}

// Schema names a schema. Properties holds the raw JSON object sent with
// CreateSchema, nil when absent.
type Schema struct {
	CatalogName string          `json:"catalogName"`
	SchemaName  string          `json:"schemaName"`
	Properties  json.RawMessage `json:"properties,omitempty"`
}

// Table names a table. Columns is nil when the plugin sent no column list and
// empty (non-nil) when it sent []. Properties holds the raw JSON object, nil
// when absent.
type Table struct {
	CatalogName string          `json:"catalogName"`
	SchemaName  string          `json:"schemaName"`
	TableName   string          `json:"tableName"`
	Columns     []string        `json:"columns,omitempty"`
	Properties  json.RawMessage `json:"properties,omitempty"`
}

// Column names one column of a table, with its Trino type in display form
// ("varchar(25)", "decimal(12,2)").
type Column struct {
	CatalogName string `json:"catalogName"`
	SchemaName  string `json:"schemaName"`
	TableName   string `json:"tableName"`
	ColumnName  string `json:"columnName"`
	ColumnType  string `json:"columnType"`
}

// Grantee is the new owner in Set*Authorization.
type Grantee struct {
	Type string `json:"type"` // "USER" or "ROLE"
	Name string `json:"name"`
}

// GranteeUser and GranteeRole are the two principal types Trino sends.
const (
	GranteeUser = "USER"
	GranteeRole = "ROLE"
)

// ViewExpression is a row filter or column mask: SQL text, optionally
// evaluated as another identity.
type ViewExpression struct {
	Expression string `json:"expression"`
	Identity   string `json:"identity,omitempty"`
}

// IndexedMask is one entry of a batchColumnMasks answer: Index points into
// filterResources.
type IndexedMask struct {
	Index          int            `json:"index"`
	ViewExpression ViewExpression `json:"viewExpression"`
}
