package trino

import (
	"errors"
	"fmt"
)

// Endpoint is one of the five decision paths the plugin is configured with.
type Endpoint uint8

// The decision endpoints, by the last element of their OPA data path.
const (
	EndpointAllow            Endpoint = iota // opa.policy.uri
	EndpointBatch                            // opa.policy.batched-uri
	EndpointRowFilters                       // opa.policy.row-filters-uri
	EndpointColumnMask                       // opa.policy.column-masking-uri
	EndpointBatchColumnMasks                 // opa.policy.batch-column-masking-uri
	NumEndpoints
)

var endpointNames = [NumEndpoints]string{"allow", "batch", "rowFilters", "columnMask", "batchColumnMasks"}

// String returns the endpoint's path element, such as "batch".
func (e Endpoint) String() string {
	if e >= NumEndpoints {
		return "unknown"
	}
	return endpointNames[e]
}

// ParseEndpoint maps a path element to its Endpoint.
func ParseEndpoint(s string) (Endpoint, bool) {
	for i, n := range endpointNames {
		if n == s {
			return Endpoint(i), true
		}
	}
	return 0, false
}

// InputError says what is wrong with a request body. The server answers it
// with 400.
type InputError struct {
	Message string
}

func (e *InputError) Error() string { return e.Message }

func inputErrorf(format string, args ...any) error {
	return &InputError{Message: fmt.Sprintf(format, args...)}
}

// Request is a decoded and validated request.
type Request struct {
	Input
	// Op is the parsed operation; OpUnknown for a name Warden does not know.
	Op Operation
	// rawInput is where Decode found the input object in the body: the
	// start and end offsets of its text.
	rawInput [2]int
}

// RawInput returns the text of the input object in body, the body this
// request was decoded from, exactly as it was sent; nil for a request
// that was not decoded from a body or whose input was null.
func (r *Request) RawInput(body []byte) []byte {
	from, to := r.rawInput[0], r.rawInput[1]
	if to <= from || to > len(body) {
		return nil
	}
	return body[from:to]
}

// Validate checks that the input has the shape the endpoint needs and sets
// r.Op. An unknown operation is not an error: it is answered with a denial.
func (r *Request) Validate(ep Endpoint) error {
	a := &r.Action
	if a.Operation == "" {
		return inputErrorf("input.action.operation is missing or empty")
	}
	r.Op = ParseOperation(a.Operation)
	if a.Resource != nil && a.FilterResources != nil {
		return inputErrorf("input.action has both resource and filterResources")
	}
	switch ep {
	case EndpointAllow:
		if a.FilterResources != nil {
			return inputErrorf("input.action.filterResources is only accepted by the batch and batchColumnMasks endpoints")
		}
		if r.Op == OpUnknown {
			return nil
		}
		if r.Op == OpGetRowFilters || r.Op == OpGetColumnMask {
			return inputErrorf("operation %s is answered by the %s endpoint, not allow", a.Operation, map[bool]string{true: "rowFilters", false: "columnMask or batchColumnMasks"}[r.Op == OpGetRowFilters])
		}
		return r.validateResource("input.action.resource", a.Resource)
	case EndpointBatch:
		if a.Resource != nil {
			return inputErrorf("the batch endpoint needs input.action.filterResources, not resource")
		}
		if r.Op == OpUnknown {
			return nil
		}
		if !r.Op.IsFilter() {
			return inputErrorf("operation %s is not a filter operation; the batch endpoint takes FilterCatalogs, FilterSchemas, FilterTables, FilterColumns, FilterFunctions and FilterViewQueryOwnedBy", a.Operation)
		}
		if err := r.validateItems(); err != nil {
			return err
		}
		if r.Op == OpFilterColumns && len(a.FilterResources) > 1 {
			return inputErrorf("FilterColumns takes exactly one table in filterResources, got %d", len(a.FilterResources))
		}
		return nil
	case EndpointRowFilters:
		if r.Op != OpGetRowFilters {
			return inputErrorf("the rowFilters endpoint takes operation GetRowFilters, got %q", a.Operation)
		}
		return r.validateResource("input.action.resource", a.Resource)
	case EndpointColumnMask:
		if r.Op != OpGetColumnMask {
			return inputErrorf("the columnMask endpoint takes operation GetColumnMask, got %q", a.Operation)
		}
		if a.FilterResources != nil {
			return inputErrorf("the columnMask endpoint takes one input.action.resource.column; send filterResources to batchColumnMasks")
		}
		return r.validateResource("input.action.resource", a.Resource)
	case EndpointBatchColumnMasks:
		if r.Op != OpGetColumnMask {
			return inputErrorf("the batchColumnMasks endpoint takes operation GetColumnMask, got %q", a.Operation)
		}
		if a.Resource != nil {
			return inputErrorf("the batchColumnMasks endpoint needs input.action.filterResources, not resource")
		}
		return r.validateItems()
	}
	return inputErrorf("unknown endpoint")
}

// validateItems checks every filterResources item. The item's path is only
// formatted for an error, so a 20,000-item batch costs no allocation here.
func (r *Request) validateItems() error {
	for i := range r.Action.FilterResources {
		if err := r.validateResource("", &r.Action.FilterResources[i]); err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				ie.Message = fmt.Sprintf("input.action.filterResources[%d]", i) + ie.Message
			}
			return err
		}
	}
	return nil
}

func (r *Request) validateResource(path string, res *Resource) error {
	kind := r.Op.Kind()
	if kind == KindNone {
		return nil
	}
	if res == nil {
		return inputErrorf("%s is missing; operation %s needs one", path, r.Action.Operation)
	}
	switch kind {
	case KindUser:
		if res.User == nil {
			return inputErrorf("%s.user is missing; operation %s needs it", path, r.Action.Operation)
		}
	case KindSystemSessionProperty:
		if res.SystemSessionProperty == nil {
			return inputErrorf("%s.systemSessionProperty is missing; operation %s needs it", path, r.Action.Operation)
		}
	case KindCatalogSessionProperty:
		if res.CatalogSessionProperty == nil {
			return inputErrorf("%s.catalogSessionProperty is missing; operation %s needs it", path, r.Action.Operation)
		}
	case KindCatalog:
		if res.Catalog == nil {
			return inputErrorf("%s.catalog is missing; operation %s needs it", path, r.Action.Operation)
		}
	case KindSchema:
		if res.Schema == nil {
			return inputErrorf("%s.schema is missing; operation %s needs it", path, r.Action.Operation)
		}
	case KindTable:
		if res.Table == nil {
			return inputErrorf("%s.table is missing; operation %s needs it", path, r.Action.Operation)
		}
		if r.Op == OpExecuteTableProcedure && res.Function == nil {
			return inputErrorf("%s.function is missing; operation ExecuteTableProcedure needs the procedure name", path)
		}
	case KindFunction:
		if res.Function == nil {
			return inputErrorf("%s.function is missing; operation %s needs it", path, r.Action.Operation)
		}
	case KindColumn:
		if res.Column == nil {
			return inputErrorf("%s.column is missing; operation %s needs it", path, r.Action.Operation)
		}
	}
	switch r.Op {
	case OpRenameSchema:
		if r.Action.TargetResource == nil || r.Action.TargetResource.Schema == nil {
			return inputErrorf("input.action.targetResource.schema is missing; RenameSchema needs the new name")
		}
	case OpRenameTable, OpRenameView, OpRenameMaterializedView:
		if r.Action.TargetResource == nil || r.Action.TargetResource.Table == nil {
			return inputErrorf("input.action.targetResource.table is missing; %s needs the new name", r.Action.Operation)
		}
	case OpSetSchemaAuthorization, OpSetTableAuthorization, OpSetViewAuthorization:
		if r.Action.Grantee == nil {
			return inputErrorf("input.action.grantee is missing; %s needs the new owner", r.Action.Operation)
		}
	}
	return nil
}

// IsBatch reports whether the endpoint takes filterResources.
func (e Endpoint) IsBatch() bool { return e == EndpointBatch || e == EndpointBatchColumnMasks }
