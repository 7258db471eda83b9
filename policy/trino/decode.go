package trino

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Decode parses a request body ({"input": …}) into a Request. It rejects
// malformed JSON, a missing input, context or action, and wrongly typed
// fields with an *InputError; unknown fields are ignored, as the plugin may
// add more. It does not validate the shape an endpoint needs: call
// Request.Validate for that.
//
// Decode is a single-pass decoder written for this model. It accepts and
// builds exactly what encoding/json's Unmarshal into Query would, including
// its quirks, which the fuzz test holds it to:
//   - keys match a field exactly or, failing that, case-insensitively
//     (bytes.EqualFold, so "TableName" and "ſchemaName" match too);
//   - a repeated key decodes into what the earlier one built: a string is
//     replaced, but objects merge field by field and array elements merge
//     with the elements the earlier arrays left at the same index;
//   - null leaves a string or a struct as it is and sets a pointer, slice or
//     map to nil; a null inside context.properties is stored as "";
//   - strings are unescaped as encoding/json does, with invalid UTF-8 and
//     lone surrogates replaced by U+FFFD;
//   - objects and arrays nest at most 10000 deep.
//
// It differs from encoding/json in two ways: Schema.Properties and
// Table.Properties must be objects (anything else but null is a type
// error), and null leaves them nil where encoding/json stores the bytes
// "null".
//
// Errors come in encoding/json's order: malformed JSON first (with its byte
// offset), then a body or input that is not an object, then a missing
// input, action or context, then the first wrongly typed field (with its
// path, such as input.action.filterResources[3].table.tableName).
//
// Decode does not keep body, which the caller may reuse. The strings and
// raw properties of the Request share a few byte arenas, copies of the
// body's bytes that the Request owns: a caller that keeps one string for
// long (in a cache, say) keeps its whole arena alive, up to the size of the
// body, and should strings.Clone it.
func Decode(body []byte) (req *Request, err error) {
	d := decoder{buf: body, hint: 1}
	r := new(Request)
	defer func() {
		if e := recover(); e != nil {
			se, ok := e.(syntaxPanic)
			if !ok {
				panic(e)
			}
			req, err = nil, se.err
		}
	}()
	d.body(&r.Input)
	r.rawInput = d.rawInput
	switch {
	case d.probeErr != nil:
		return nil, d.probeErr
	case !d.haveInput:
		return nil, inputErrorf("the body has no input object; the plugin sends {\"input\": {\"context\": …, \"action\": …}}")
	case !d.haveAction:
		return nil, inputErrorf("input.action is missing")
	case !d.haveContext:
		return nil, inputErrorf("input.context is missing")
	case d.err != nil:
		return nil, d.err
	}
	return r, nil
}

// maxDepth is how deep objects and arrays may nest, as in encoding/json.
const maxDepth = 10000

// The field names of each object, as in the json tags of model.go. A field's
// index in its list is what decoder.field returns for it.
var (
	bodyFields     = newFields("input")
	inputFields    = newFields("context", "action")
	contextFields  = newFields("identity", "softwareStack", "properties", "queryId")
	identityFields = newFields("user", "groups")
	stackFields    = newFields("trinoVersion")
	actionFields   = newFields("operation", "resource", "filterResources", "targetResource", "grantee")
	resourceFields = newFields("table", "column", "catalog", "schema", "function", "user", "systemSessionProperty", "catalogSessionProperty")
	userFields     = newFields("user", "groups")
	sspFields      = newFields("name")
	cspFields      = newFields("catalogName", "propertyName")
	functionFields = newFields("catalogName", "schemaName", "functionName")
	catalogFields  = newFields("name")
	schemaFields   = newFields("catalogName", "schemaName", "properties")
	tableFields    = newFields("catalogName", "schemaName", "tableName", "columns", "properties")
	columnFields   = newFields("catalogName", "schemaName", "tableName", "columnName", "columnType")
	granteeFields  = newFields("type", "name")
)

// fields are the field names of an object, with each name's key as it
// stands in compact JSON ("name", quotes included) in a form that one or
// two 8-byte loads compare.
type fields struct {
	names []string
	keys  []rawKey
}

type rawKey struct {
	quoted      string // the key, quotes included
	first, last uint64 // its first and last 8 bytes, little-endian
	mask        uint64 // the bytes of first that belong to it
}

func newFields(names ...string) *fields {
	f := &fields{names: names}
	for _, n := range names {
		q := `"` + n + `"`
		var b [8]byte
		copy(b[:], q)
		k := rawKey{quoted: q, first: binary.LittleEndian.Uint64(b[:]), mask: ^uint64(0)}
		if len(q) < 8 {
			k.mask = 1<<(8*len(q)) - 1
		} else {
			k.last = binary.LittleEndian.Uint64([]byte(q[len(q)-8:]))
		}
		f.keys = append(f.keys, k)
	}
	return f
}

// at reports whether the key at buf[p:] is k, given w, the 8 bytes there.
// The first and last 8 bytes cover a key of up to 16; a longer one is
// compared whole.
func (k *rawKey) at(buf []byte, p int, w uint64) bool {
	if (w^k.first)&k.mask != 0 {
		return false
	}
	n := len(k.quoted)
	switch {
	case n <= 8:
		return true
	case p+n > len(buf):
		return false
	case n <= 16:
		return binary.LittleEndian.Uint64(buf[p+n-8:]) == k.last
	}
	return string(buf[p:p+n]) == k.quoted
}

// decoder is the state of one Decode call. Syntax errors panic with a
// syntaxPanic, which Decode recovers; type errors are recorded and decoding
// goes on, so that a later syntax error still wins, as in encoding/json.
type decoder struct {
	buf   []byte
	pos   int
	depth int // objects and arrays open at pos

	arena   []byte   // backs the strings and raw properties of the Request
	stored  int      // bytes in the arenas before this one
	strs    []string // backs its string slices: len is used, cap the chunk
	scratch []byte   // an unescaped key

	rawInput [2]int // where the input object lies in buf

	// hint is how many more objects of one kind are likely to be needed:
	// 1, or the estimated remaining length of filterResources.
	hint int

	probeErr error // the body or input is not an object
	err      error // the first other type error

	// Whether input, input.context and input.action are present, with
	// the meaning encoding/json gives them in the reference decoder (a
	// pointer that the last non-null occurrence set).
	haveInput, haveContext, haveAction bool

	path  [8]pathSeg // the fields being decoded, for error messages
	npath int

	users     slab[User]
	ssps      slab[SystemSessionProperty]
	csps      slab[CatalogSessionProperty]
	functions slab[Function]
	catalogs  slab[Catalog]
	schemas   slab[Schema]
	tables    slab[Table]
	columns   slab[Column]
}

type pathSeg struct {
	name  string
	index int // element index into the array name, or -1
}

// syntaxPanic carries a malformed-JSON error up to Decode.
type syntaxPanic struct{ err error }

// slab hands out objects of one kind from chunks, so that a batch of 20,000
// tables costs a few allocations, not 20,000. A chunk holds hint objects,
// at most maxChunk: the hint is a guess, and a hostile body can make it a
// bad one.
type slab[T any] struct{ free []T }

const maxChunk = 8192

func (s *slab[T]) get(hint int) *T {
	if len(s.free) == 0 {
		s.free = make([]T, min(max(hint, 1), maxChunk))
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// ---- The model. Each method starts at the first byte of its value.

func (d *decoder) body(in *Input) {
	switch d.ws() {
	case '{':
		for more := d.objBegin(); more; more = d.objNext() {
			if d.field(bodyFields) == 0 {
				d.input(in)
			} else {
				d.skipValue()
			}
		}
	case 'n':
		d.null()
	default:
		d.probeMismatch("", "an object")
	}
	for d.pos < len(d.buf) {
		if !isSpace(d.buf[d.pos]) {
			d.syntaxErr("after top-level value")
		}
		d.pos++
	}
}

func (d *decoder) input(in *Input) {
	switch d.buf[d.pos] {
	case '{':
		d.haveInput = true
	case 'n':
		d.null()
		d.haveInput, d.haveContext, d.haveAction = false, false, false
		return
	default:
		d.probeMismatch("input", "an object")
		return
	}
	d.enter("input", -1)
	start := d.pos
	defer func() { d.rawInput = [2]int{start, d.pos} }()
	for more := d.objBegin(); more; more = d.objNext() {
		switch d.field(inputFields) {
		case 0:
			d.haveContext = d.buf[d.pos] != 'n'
			if d.object("context") {
				d.context(&in.Context)
			}
		case 1:
			d.haveAction = d.buf[d.pos] != 'n'
			if d.object("action") {
				d.action(&in.Action)
			}
		default:
			d.skipValue()
		}
	}
	d.leave()
}

func (d *decoder) context(c *Context) {
	d.enter("context", -1)
	for more := d.objBegin(); more; more = d.objNext() {
		switch d.field(contextFields) {
		case 0:
			if d.object("identity") {
				d.enter("identity", -1)
				for more := d.objBegin(); more; more = d.objNext() {
					switch d.field(identityFields) {
					case 0:
						d.str("user", &c.Identity.User)
					case 1:
						d.strings("groups", &c.Identity.Groups)
					default:
						d.skipValue()
					}
				}
				d.leave()
			}
		case 1:
			if d.object("softwareStack") {
				d.enter("softwareStack", -1)
				for more := d.objBegin(); more; more = d.objNext() {
					if d.field(stackFields) == 0 {
						d.str("trinoVersion", &c.SoftwareStack.TrinoVersion)
					} else {
						d.skipValue()
					}
				}
				d.leave()
			}
		case 2:
			d.stringMap("properties", &c.Properties)
		case 3:
			d.str("queryId", &c.QueryID)
		default:
			d.skipValue()
		}
	}
	d.leave()
}

func (d *decoder) action(a *Action) {
	d.enter("action", -1)
	for more := d.objBegin(); more; more = d.objNext() {
		switch d.field(actionFields) {
		case 0:
			d.str("operation", &a.Operation)
		case 1:
			d.resourcePtr("resource", &a.Resource)
		case 2:
			d.resources(&a.FilterResources)
		case 3:
			d.resourcePtr("targetResource", &a.TargetResource)
		case 4:
			if !d.object("grantee") {
				a.Grantee = nil
				break
			}
			if a.Grantee == nil {
				a.Grantee = new(Grantee)
			}
			g := a.Grantee
			d.enter("grantee", -1)
			for more := d.objBegin(); more; more = d.objNext() {
				switch d.field(granteeFields) {
				case 0:
					d.str("type", &g.Type)
				case 1:
					d.str("name", &g.Name)
				default:
					d.skipValue()
				}
			}
			d.leave()
		default:
			d.skipValue()
		}
	}
	d.leave()
}

func (d *decoder) resourcePtr(name string, dst **Resource) {
	if !d.object(name) {
		*dst = nil
		return
	}
	if *dst == nil {
		*dst = new(Resource)
	}
	d.enter(name, -1)
	d.resource(*dst)
	d.leave()
}

// resources decodes filterResources. Like encoding/json, it decodes element
// i into the element i that an earlier filterResources left, if any.
func (d *decoder) resources(dst *[]Resource) {
	switch d.buf[d.pos] {
	case '[':
	case 'n':
		d.null()
		*dst = nil
		return
	default:
		d.mismatch("filterResources", "an array")
		return
	}
	out := *dst
	out = out[:cap(out)]
	start, n := d.pos, 0
	for more := d.arrBegin(); more; more = d.arrNext() {
		if n == len(out) {
			if n == cap(out) {
				out = growResources(out, d.estimate(start, n))
			}
			out = out[:n+1]
		}
		d.hint = cap(out) - n
		d.enter("filterResources", n)
		switch d.buf[d.pos] {
		case '{':
			d.resource(&out[n])
		case 'n':
			d.null()
		default:
			d.mismatch("", "an object")
		}
		d.leave()
		n++
	}
	d.hint = 1
	if n == 0 {
		*dst = []Resource{}
		return
	}
	*dst = out[:n:len(out)]
}

// estimate guesses the final length of an array that started at start and
// has n elements so far, from the bytes they took and the bytes left, with
// an eighth more as elements vary in size. The guess assumes at least 16
// bytes an element, which bounds what a wrong guess can cost.
func (d *decoder) estimate(start, n int) int {
	if n == 0 {
		return 1
	}
	left := (len(d.buf) - d.pos) / max((d.pos-start)/n, 16)
	return max(2*n, n+left+left/8+4)
}

func growResources(s []Resource, c int) []Resource {
	out := make([]Resource, len(s), c)
	copy(out, s)
	return out
}

func (d *decoder) resource(r *Resource) {
	for more := d.objBegin(); more; more = d.objNext() {
		switch d.field(resourceFields) {
		case 0:
			if d.object("table") {
				if r.Table == nil {
					r.Table = d.tables.get(d.hint)
				}
				d.table(r.Table)
			} else {
				r.Table = nil
			}
		case 1:
			if d.object("column") {
				if r.Column == nil {
					r.Column = d.columns.get(d.hint)
				}
				d.column(r.Column)
			} else {
				r.Column = nil
			}
		case 2:
			if d.object("catalog") {
				if r.Catalog == nil {
					r.Catalog = d.catalogs.get(d.hint)
				}
				d.enter("catalog", -1)
				for more := d.objBegin(); more; more = d.objNext() {
					if d.field(catalogFields) == 0 {
						d.str("name", &r.Catalog.Name)
					} else {
						d.skipValue()
					}
				}
				d.leave()
			} else {
				r.Catalog = nil
			}
		case 3:
			if d.object("schema") {
				if r.Schema == nil {
					r.Schema = d.schemas.get(d.hint)
				}
				d.schema(r.Schema)
			} else {
				r.Schema = nil
			}
		case 4:
			if d.object("function") {
				if r.Function == nil {
					r.Function = d.functions.get(d.hint)
				}
				d.function(r.Function)
			} else {
				r.Function = nil
			}
		case 5:
			if d.object("user") {
				if r.User == nil {
					r.User = d.users.get(d.hint)
				}
				u := r.User
				d.enter("user", -1)
				for more := d.objBegin(); more; more = d.objNext() {
					switch d.field(userFields) {
					case 0:
						d.str("user", &u.User)
					case 1:
						d.strings("groups", &u.Groups)
					default:
						d.skipValue()
					}
				}
				d.leave()
			} else {
				r.User = nil
			}
		case 6:
			if d.object("systemSessionProperty") {
				if r.SystemSessionProperty == nil {
					r.SystemSessionProperty = d.ssps.get(d.hint)
				}
				p := r.SystemSessionProperty
				d.enter("systemSessionProperty", -1)
				for more := d.objBegin(); more; more = d.objNext() {
					if d.field(sspFields) == 0 {
						d.str("name", &p.Name)
					} else {
						d.skipValue()
					}
				}
				d.leave()
			} else {
				r.SystemSessionProperty = nil
			}
		case 7:
			if d.object("catalogSessionProperty") {
				if r.CatalogSessionProperty == nil {
					r.CatalogSessionProperty = d.csps.get(d.hint)
				}
				p := r.CatalogSessionProperty
				d.enter("catalogSessionProperty", -1)
				for more := d.objBegin(); more; more = d.objNext() {
					switch d.field(cspFields) {
					case 0:
						d.str("catalogName", &p.CatalogName)
					case 1:
						d.str("propertyName", &p.PropertyName)
					default:
						d.skipValue()
					}
				}
				d.leave()
			} else {
				r.CatalogSessionProperty = nil
			}
		default:
			d.skipValue()
		}
	}
}

func (d *decoder) table(t *Table) {
	d.enter("table", -1)
	for more := d.objBegin(); more; more = d.objNext() {
		switch d.field(tableFields) {
		case 0:
			d.str("catalogName", &t.CatalogName)
		case 1:
			d.str("schemaName", &t.SchemaName)
		case 2:
			d.str("tableName", &t.TableName)
		case 3:
			d.strings("columns", &t.Columns)
		case 4:
			d.rawObject("properties", &t.Properties)
		default:
			d.skipValue()
		}
	}
	d.leave()
}

func (d *decoder) column(c *Column) {
	d.enter("column", -1)
	for more := d.objBegin(); more; more = d.objNext() {
		switch d.field(columnFields) {
		case 0:
			d.str("catalogName", &c.CatalogName)
		case 1:
			d.str("schemaName", &c.SchemaName)
		case 2:
			d.str("tableName", &c.TableName)
		case 3:
			d.str("columnName", &c.ColumnName)
		case 4:
			d.str("columnType", &c.ColumnType)
		default:
			d.skipValue()
		}
	}
	d.leave()
}

func (d *decoder) schema(s *Schema) {
	d.enter("schema", -1)
	for more := d.objBegin(); more; more = d.objNext() {
		switch d.field(schemaFields) {
		case 0:
			d.str("catalogName", &s.CatalogName)
		case 1:
			d.str("schemaName", &s.SchemaName)
		case 2:
			d.rawObject("properties", &s.Properties)
		default:
			d.skipValue()
		}
	}
	d.leave()
}

func (d *decoder) function(f *Function) {
	d.enter("function", -1)
	for more := d.objBegin(); more; more = d.objNext() {
		switch d.field(functionFields) {
		case 0:
			d.str("catalogName", &f.CatalogName)
		case 1:
			d.str("schemaName", &f.SchemaName)
		case 2:
			d.str("functionName", &f.FunctionName)
		default:
			d.skipValue()
		}
	}
	d.leave()
}

// ---- Field kinds.

// object reports whether the value is an object to decode into the field
// name. Null and any other value, a type error, are consumed: for null, a
// struct field stays as it is and a pointer field becomes nil. After a type
// error, what the fields hold does not matter: Decode fails.
func (d *decoder) object(name string) bool {
	switch d.buf[d.pos] {
	case '{':
		return true
	case 'n':
		d.null()
	default:
		d.mismatch(name, "an object")
	}
	return false
}

func (d *decoder) str(name string, dst *string) {
	switch d.buf[d.pos] {
	case '"':
		*dst = d.stringValue()
	case 'n':
		d.null()
	default:
		d.mismatch(name, "a string")
	}
}

// strings decodes a []string field. As in encoding/json, an element that is
// null keeps the string an earlier array of the same field left at its
// index, which is what cap(*dst) holds. Elements are decoded there in
// place; an array that outgrows it moves to d.strs, a copy its own length
// pays for, so repeating a key costs no more than encoding/json does.
func (d *decoder) strings(name string, dst *[]string) {
	switch d.buf[d.pos] {
	case '[':
	case 'n':
		d.null()
		*dst = nil
		return
	default:
		d.mismatch(name, "an array")
		return
	}
	old := *dst
	old = old[:cap(old)]
	inPlace, start, n := true, 0, 0
	for more := d.arrBegin(); more; more = d.arrNext() {
		if inPlace && n == len(old) {
			inPlace, start = false, len(d.strs)
			for _, s := range old {
				start = d.appendStr(start, s)
			}
		}
		var s string
		switch d.buf[d.pos] {
		case '"':
			s = d.stringValue()
		case 'n':
			d.null()
			if inPlace {
				s = old[n]
			}
		default:
			d.enter(name, n)
			d.mismatch("", "a string")
			d.leave()
		}
		if inPlace {
			old[n] = s
		} else {
			start = d.appendStr(start, s)
		}
		n++
	}
	switch {
	case n == 0:
		*dst = []string{}
	case inPlace:
		*dst = old[:n]
	default:
		*dst = d.strs[start : start+n : start+n]
	}
}

// appendStr appends s to d.strs, where the slice being built starts at
// start, moving that slice to a new chunk when the chunk is full. It returns
// where the slice now starts.
func (d *decoder) appendStr(start int, s string) int {
	if len(d.strs) == cap(d.strs) {
		part := d.strs[start:]
		d.strs = make([]string, len(part), max(2*cap(d.strs), 2*len(part), 8))
		copy(d.strs, part)
		start = 0
	}
	d.strs = append(d.strs, s)
	return start
}

// stringMap decodes context.properties. A null value is stored as "", as
// encoding/json does.
func (d *decoder) stringMap(name string, dst *map[string]string) {
	switch d.buf[d.pos] {
	case '{':
	case 'n':
		d.null()
		*dst = nil
		return
	default:
		d.mismatch(name, "an object")
		return
	}
	m := *dst
	if m == nil {
		m = make(map[string]string)
		*dst = m
	}
	d.enter(name, -1)
	for more := d.objBegin(); more; more = d.objNext() {
		k := d.store(d.key())
		var v string
		switch d.buf[d.pos] {
		case '"':
			v = d.stringValue()
		case 'n':
			d.null()
		default:
			d.mismatch(strconv.Quote(k), "a string or null")
		}
		m[k] = v
	}
	d.leave()
}

// rawObject decodes Schema.Properties and Table.Properties: a copy of the
// object's bytes.
func (d *decoder) rawObject(name string, dst *json.RawMessage) {
	switch d.buf[d.pos] {
	case '{':
		start := d.pos
		d.skipValue()
		raw := d.buf[start:d.pos]
		d.reserve(len(raw))
		n := len(d.arena)
		d.arena = append(d.arena, raw...)
		*dst = d.arena[n:len(d.arena):len(d.arena)]
	case 'n':
		d.null()
		*dst = nil
	default:
		d.mismatch(name, "an object")
	}
}

// ---- Errors.

func (d *decoder) enter(name string, index int) {
	d.path[d.npath] = pathSeg{name, index}
	d.npath++
}

func (d *decoder) leave() { d.npath-- }

// pathTo names the field name of the object being decoded, such as
// input.action.filterResources[3].table.tableName, or with a quoted name
// the entry of a map, such as input.context.properties["x"].
func (d *decoder) pathTo(name string) string {
	var b strings.Builder
	for _, s := range d.path[:d.npath] {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		}
	}
	switch {
	case name == "":
	case name[0] == '"':
		b.WriteByte('[')
		b.WriteString(name)
		b.WriteByte(']')
	default:
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(name)
	}
	if b.Len() == 0 {
		return "the body"
	}
	return b.String()
}

// mismatch records that the value at d.pos, for the field name, is not
// what the field takes, and skips it.
func (d *decoder) mismatch(name, want string) {
	if err := d.typeError(name, want, d.err == nil); err != nil {
		d.err = err
	}
}

// probeMismatch is mismatch for the body and input values, whose type errors
// come before the missing-field errors.
func (d *decoder) probeMismatch(name, want string) {
	if err := d.typeError(name, want, d.probeErr == nil); err != nil {
		d.probeErr = err
	}
}

// typeError skips the value at d.pos, whose first byte says what it is, and
// describes it as a type error if it is the first to be recorded.
func (d *decoder) typeError(name, want string, record bool) error {
	var got string
	switch c := d.buf[d.pos]; {
	case c == '"':
		got = "a string"
	case c == '{':
		got = "an object"
	case c == '[':
		got = "an array"
	case c == 't' || c == 'f':
		got = "a boolean"
	default:
		got = "a number" // or not a value, which skipValue finds
	}
	d.skipValue() // first, so that a syntax error in it wins
	if !record {
		return nil
	}
	return inputErrorf("%s: want %s, got %s", d.pathTo(name), want, got)
}

// syntaxErr reports the byte at d.pos as malformed JSON, in a context
// worded as encoding/json words it.
func (d *decoder) syntaxErr(context string) {
	if d.pos >= len(d.buf) {
		d.eof()
	}
	panic(syntaxPanic{inputErrorf("malformed JSON at byte %d: invalid character %s %s", d.pos+1, quoteChar(d.buf[d.pos]), context)})
}

func (d *decoder) eof() {
	panic(syntaxPanic{inputErrorf("malformed JSON at byte %d: unexpected end of JSON input", len(d.buf))})
}

// quoteChar formats c as encoding/json's syntax errors do.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// ---- JSON syntax.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// ws skips whitespace and returns the byte after it. The end of the input
// is a syntax error: no caller can take it.
func (d *decoder) ws() byte {
	if p := d.pos; p < len(d.buf) {
		if c := d.buf[p]; c > ' ' {
			return c // the usual case: compact JSON
		}
	}
	return d.wsSlow()
}

func (d *decoder) wsSlow() byte {
	for d.pos < len(d.buf) {
		c := d.buf[d.pos]
		if c > ' ' || !isSpace(c) {
			return c
		}
		d.pos++
	}
	d.eof()
	return 0
}

func (d *decoder) push() {
	d.depth++
	if d.depth > maxDepth {
		d.tooDeep()
	}
}

//go:noinline
func (d *decoder) tooDeep() {
	panic(syntaxPanic{inputErrorf("malformed JSON at byte %d: nesting deeper than %d levels", d.pos, maxDepth)})
}

// objBegin consumes the '{' at d.pos and reports whether a member follows.
// Each member is read with field or key and then its value; objNext moves
// past it. These and colon have a fast path for compact JSON, which has no
// whitespace, and leave the rest to a slow one.
func (d *decoder) objBegin() bool {
	d.pos++
	d.push()
	if p := d.pos; p < len(d.buf) && d.buf[p] == '"' {
		return true
	}
	return d.beginSlow('}')
}

// arrBegin consumes the '[' at d.pos and reports whether an element
// follows; arrNext moves past one.
func (d *decoder) arrBegin() bool {
	d.pos++
	d.push()
	if p := d.pos; p < len(d.buf) && d.buf[p] > ' ' && d.buf[p] != ']' {
		return true
	}
	return d.beginSlow(']')
}

func (d *decoder) beginSlow(end byte) bool {
	if d.ws() == end {
		d.pos++
		d.depth--
		return false
	}
	return true
}

func (d *decoder) objNext() bool {
	if p := d.pos; p+1 < len(d.buf) {
		switch d.buf[p] {
		case ',':
			if d.buf[p+1] == '"' {
				d.pos = p + 1
				return true
			}
		case '}':
			d.pos = p + 1
			d.depth--
			return false
		}
	}
	return d.nextSlow('}', "after object key:value pair")
}

func (d *decoder) arrNext() bool {
	if p := d.pos; p+1 < len(d.buf) {
		switch d.buf[p] {
		case ',':
			if d.buf[p+1] > ' ' {
				d.pos = p + 1
				return true
			}
		case ']':
			d.pos = p + 1
			d.depth--
			return false
		}
	}
	return d.nextSlow(']', "after array element")
}

func (d *decoder) nextSlow(end byte, context string) bool {
	switch d.ws() {
	case ',':
		d.pos++
		d.ws()
		return true
	case end:
		d.pos++
		d.depth--
		return false
	}
	d.syntaxErr(context)
	return false
}

// field reads a key and the colon after it and returns the index of the
// field it names in f: an exact match, else a case-insensitive one, as in
// encoding/json; -1 if none.
func (d *decoder) field(f *fields) int {
	// The usual case: the key as it stands is one of f's, closing quote
	// included (which no backslash can escape, as no name ends in one).
	if buf, p := d.buf, d.pos; p+8 <= len(buf) {
		w := binary.LittleEndian.Uint64(buf[p:])
		for i := range f.keys {
			if k := &f.keys[i]; k.at(buf, p, w) {
				d.pos = p + len(k.quoted)
				d.colon()
				return i
			}
		}
	}
	k := d.key()
	for i, n := range f.names {
		if string(k) == n {
			return i
		}
	}
	for i, n := range f.names {
		if strings.EqualFold(unsafe.String(unsafe.SliceData(k), len(k)), n) {
			return i
		}
	}
	return -1
}

// key reads a key and the colon after it, leaving d.pos at the value. The
// key is a slice of the body when it needs no unescaping and else of
// d.scratch: it is good until the next key.
func (d *decoder) key() []byte {
	if d.buf[d.pos] != '"' {
		d.syntaxErr("looking for beginning of object key string")
	}
	start, end, clean := d.scanString()
	k := d.buf[start:end]
	if !clean {
		d.scratch = appendUnquoted(d.scratch[:0], k)
		k = d.scratch
	}
	d.colon()
	return k
}

// colon reads the colon after a key and moves to the value.
func (d *decoder) colon() {
	if p := d.pos; p+1 < len(d.buf) && d.buf[p] == ':' && d.buf[p+1] > ' ' {
		d.pos = p + 1
		return
	}
	d.colonSlow()
}

func (d *decoder) colonSlow() {
	if d.ws() != ':' {
		d.syntaxErr("after object key")
	}
	d.pos++
	d.ws()
}

func (d *decoder) null() { d.literal("null") }

func (d *decoder) literal(lit string) {
	if len(d.buf)-d.pos >= len(lit) && string(d.buf[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return
	}
	for i := 0; i < len(lit); i++ {
		if d.pos >= len(d.buf) {
			d.eof()
		}
		if d.buf[d.pos] != lit[i] {
			d.syntaxErr("in literal " + lit + " (expecting " + quoteChar(lit[i]) + ")")
		}
		d.pos++
	}
}

// skipValue validates and skips the value at d.pos.
func (d *decoder) skipValue() {
	switch c := d.buf[d.pos]; c {
	case '"':
		d.scanString()
	case '{', '[':
		d.skipContainer()
	case 't':
		d.literal("true")
	case 'f':
		d.literal("false")
	case 'n':
		d.literal("null")
	default:
		if c != '-' && (c < '0' || c > '9') {
			d.syntaxErr("looking for beginning of value")
		}
		d.skipNumber()
	}
}

// skipContainer validates and skips the object or array at d.pos, without
// recursion: a bit for each open level says whether it is an object.
func (d *decoder) skipContainer() {
	base := d.depth
	var objs bitStack
	for {
		// d.pos is at a value.
		switch c := d.buf[d.pos]; c {
		case '{', '[':
			d.pos++
			d.push()
			obj := c == '{'
			objs.set(d.depth-base-1, obj)
			close := byte(']')
			if obj {
				close = '}'
			}
			if d.ws() != close {
				if obj {
					d.skipKey()
				}
				continue
			}
			d.pos++
			d.depth--
		case '"':
			d.scanString()
		case 't':
			d.literal("true")
		case 'f':
			d.literal("false")
		case 'n':
			d.literal("null")
		default:
			if c != '-' && (c < '0' || c > '9') {
				d.syntaxErr("looking for beginning of value")
			}
			d.skipNumber()
		}
		// A value ended: close levels until one has a next value.
	next:
		for {
			if d.depth == base {
				return
			}
			c := d.ws()
			if objs.get(d.depth - base - 1) {
				switch c {
				case ',':
					d.pos++
					d.ws()
					d.skipKey()
					break next
				case '}':
					d.pos++
					d.depth--
					continue
				}
				d.syntaxErr("after object key:value pair")
			}
			switch c {
			case ',':
				d.pos++
				d.ws()
				break next
			case ']':
				d.pos++
				d.depth--
				continue
			}
			d.syntaxErr("after array element")
		}
	}
}

// skipKey validates and skips a key and its colon.
func (d *decoder) skipKey() {
	if d.buf[d.pos] != '"' {
		d.syntaxErr("looking for beginning of object key string")
	}
	d.scanString()
	d.colon()
}

// bitStack is a stack of bits, the first 64 without allocation.
type bitStack struct {
	lo uint64
	hi []uint64
}

func (s *bitStack) set(i int, v bool) {
	w := &s.lo
	if i >= 64 {
		j := i/64 - 1
		for len(s.hi) <= j {
			s.hi = append(s.hi, 0)
		}
		w = &s.hi[j]
	}
	if v {
		*w |= 1 << (i % 64)
	} else {
		*w &^= 1 << (i % 64)
	}
}

func (s *bitStack) get(i int) bool {
	w := s.lo
	if i >= 64 {
		w = s.hi[i/64-1]
	}
	return w&(1<<(i%64)) != 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipNumber validates and skips a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) skipNumber() {
	if d.buf[d.pos] == '-' {
		d.pos++
	}
	d.digits(true)
	if d.pos < len(d.buf) && d.buf[d.pos] == '.' {
		d.pos++
		d.digits(false)
	}
	if d.pos < len(d.buf) && (d.buf[d.pos] == 'e' || d.buf[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.buf) && (d.buf[d.pos] == '+' || d.buf[d.pos] == '-') {
			d.pos++
		}
		d.digits(false)
	}
}

// digits skips one or more digits; with integer, a leading 0 stands alone.
func (d *decoder) digits(integer bool) {
	if d.pos >= len(d.buf) {
		d.eof()
	}
	c := d.buf[d.pos]
	if !isDigit(c) {
		d.syntaxErr("in numeric literal")
	}
	d.pos++
	if integer && c == '0' {
		return
	}
	for d.pos < len(d.buf) && isDigit(d.buf[d.pos]) {
		d.pos++
	}
}

// ---- Strings.

// stringValue decodes the string at d.pos into the arena.
func (d *decoder) stringValue() string {
	start, end, clean := d.scanString()
	if clean {
		return d.store(d.buf[start:end])
	}
	raw := d.buf[start:end]
	d.reserve(3 * len(raw)) // the most unescaping can grow: one bad byte becomes U+FFFD
	n := len(d.arena)
	d.arena = appendUnquoted(d.arena, raw) // never empty: raw has an escape or a bad byte
	return unsafe.String(&d.arena[n], len(d.arena)-n)
}

// store copies b into the arena and returns it as a string.
func (d *decoder) store(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	d.reserve(len(b))
	n := len(d.arena)
	d.arena = append(d.arena, b...)
	return unsafe.String(&d.arena[n], len(b))
}

// reserve makes room for n more bytes in the arena. A full arena is left to
// the strings made from it, and a new one is started.
func (d *decoder) reserve(n int) {
	if cap(d.arena)-len(d.arena) < n {
		d.newArena(n)
	}
}

// newArena starts an arena with room for n bytes and a guess at what the
// rest of the body will need. The first guess is the whole rest, up to
// 4 KiB: all of a small body. Later ones assume that the rest stores bytes
// in the proportion the body stored so far, plus an eighth: a batch stores
// its names but not its keys, and a twentieth of a 20,000-table batch is
// over 4 KiB. The arena never needs more than the rest of the body, but
// where unescaping grows a string.
func (d *decoder) newArena(n int) {
	d.stored += len(d.arena)
	rest := len(d.buf) - d.pos
	guess := min(rest, 4096)
	if d.stored > 0 {
		guess = min(rest, int(float64(rest)*float64(d.stored)/float64(d.pos)*1.125)+64)
	}
	d.arena = make([]byte, 0, n+guess)
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plain says which bytes a string can hold as they are: not '"', '\\', a
// control character or a non-ASCII byte.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString validates the string at d.pos and moves past it. It returns the
// bounds of its contents and whether they are clean: free of escapes and of
// invalid UTF-8, and so the string's value as they are.
func (d *decoder) scanString() (start, end int, clean bool) {
	buf := d.buf
	i := d.pos + 1
	start, clean = i, true
	for {
		// Eight bytes at a time to the first that is not plain.
		for ; i+8 <= len(buf); i += 8 {
			w := binary.LittleEndian.Uint64(buf[i:])
			q := w ^ (lsb * '"')
			b := w ^ (lsb * '\\')
			m := ((q - lsb) &^ q) | ((b - lsb) &^ b) | ((w - lsb*0x20) &^ w) | w
			if m &= msb; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
		}
		for i < len(buf) && plain[buf[i]] {
			i++
		}
		if i >= len(buf) {
			d.pos = i
			d.eof()
		}
		switch c := buf[i]; {
		case c == '"':
			d.pos = i + 1
			return start, i, clean
		case c == '\\':
			clean = false
			i = d.escape(i)
		case c < 0x20:
			d.pos = i
			d.syntaxErr("in string literal")
		default:
			r, size := utf8.DecodeRune(buf[i:])
			if r == utf8.RuneError && size == 1 {
				clean = false
			}
			i += size
		}
	}
}

// escape validates the escape at d.buf[i] == '\\' and returns the index
// after it.
func (d *decoder) escape(i int) int {
	buf := d.buf
	if i+1 >= len(buf) {
		d.eof()
	}
	switch buf[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2
	case 'u':
		for j := i + 2; j < i+6; j++ {
			if j >= len(buf) {
				d.eof()
			}
			if hexVal(buf[j]) < 0 {
				d.pos = j
				d.syntaxErr("in \\u hexadecimal character escape")
			}
		}
		return i + 6
	}
	d.pos = i + 1
	d.syntaxErr("in string escape code")
	return 0
}

func hexVal(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// hex4 decodes the four hex digits of a \u escape that scanString checked.
func hex4(s []byte) rune {
	return hexVal(s[0])<<12 | hexVal(s[1])<<8 | hexVal(s[2])<<4 | hexVal(s[3])
}

// appendUnquoted appends the value of the string contents s, which
// scanString validated, exactly as encoding/json's unquote makes it.
func appendUnquoted(dst, s []byte) []byte {
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch e := s[r+1]; e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				rr := hex4(s[r+2:])
				r += 6
				if utf16.IsSurrogate(rr) {
					if r+6 <= len(s) && s[r] == '\\' && s[r+1] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(s[r+2:])); dec != unicode.ReplacementChar {
							dst = utf8.AppendRune(dst, dec)
							r += 6
							continue
						}
					}
					rr = unicode.ReplacementChar
				}
				dst = utf8.AppendRune(dst, rr)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, e)
			}
			r += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			dst = utf8.AppendRune(dst, rr)
			r += size
		}
	}
	return dst
}
