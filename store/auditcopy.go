package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The decision audit is written with PostgreSQL's binary COPY, encoded here
// directly from the recorder's fields. This is the one place where runtime
// SQL bypasses sqlc, on purpose: sqlc's :copyfrom hands every value to
// pgx's type map, which looks up an encode plan per value and boxes each
// field in an interface, and that cost Warden more CPU per recorded
// decision than the rest of the audit together (docs/performance.md). The
// statements below are fixed text; the tests write through them to a real
// PostgreSQL, so a column list that drifts from the schema fails at once.
const (
	auditColumns = "decided_at, decision_id, cluster, endpoint, operation, user_name, groups, " +
		"query_id, trino_version, outcome, items, kept, resource, qualified_table, facets, " +
		"facets_capped, result, decider, explanation, explain_capped, error, revision, " +
		"latency_us, input"
	auditFields = 24
	// auditCopyDirect writes fresh rows straight into the partitioned table.
	auditCopyDirect = "COPY audit_decisions (" + auditColumns + ") FROM STDIN (FORMAT binary)"
	// auditCopyStaging writes rows that may repeat into the staging table.
	auditCopyStaging = "COPY audit_decisions_staging (" + auditColumns + ") FROM STDIN (FORMAT binary)"
)

// The fields of a tuple, by position, that need more than their bytes when
// a refused row is repaired.
const (
	fieldOperation   = 4
	fieldInput       = 23
	fieldResult      = 16
	fieldExplanation = 18
)

// textFields are the positions of the text columns, which a repair makes
// valid UTF-8 without NUL bytes. Arrays are rebuilt element by element.
var textFields = [auditFields]bool{1: true, 2: true, 3: true, 4: true, 5: true, 7: true, 8: true,
	9: true, 12: true, 13: true, 17: true, 20: true}

var (
	copyHeader  = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	copyTrailer = []byte{0xff, 0xff}
)

// pgEpochMicros is 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in
// microseconds since the Unix epoch.
const pgEpochMicros = 946684800 * 1_000_000

// textOID is the element type of the text[] columns.
const textOID = 25

// AuditFacet is one searchable name of a decision, stored as "kind:name".
// Keeping the two apart lets the recorder name a facet without building
// its string.
type AuditFacet struct {
	Kind, Name string
}

// AuditRecord is one decision as the recorder hands it to an AuditBatch.
// Its fields reference bytes the caller owns; AuditBatch.Add copies them
// out, so one record can be filled again for the next row. Empty QueryID,
// TrinoVersion, QualifiedTable and Error are stored as NULL, as are empty
// Result and Explanation; an empty Input is stored as JSON null.
type AuditRecord struct {
	DecidedAt                                      time.Time
	DecisionID, Cluster, Endpoint, Operation, User string
	Groups                                         []string
	QueryID, TrinoVersion, Outcome                 string
	Items, Kept                                    int
	Resource, QualifiedTable                       []byte
	Facets                                         []AuditFacet
	FacetsCapped                                   bool
	Result                                         []byte
	Decider                                        []byte
	Explanation                                    []byte
	ExplainCapped                                  bool
	Error                                          string
	Revision, LatencyMicros                        int64
	Input                                          []byte
}

// AuditBatch is a batch of decisions encoded as the tuples of a binary
// COPY, ready for PostgreSQL or the spool. The zero value is empty and
// ready to use.
type AuditBatch struct {
	buf []byte
	n   int
}

// Len is the number of rows.
func (b *AuditBatch) Len() int { return b.n }

// Bytes are the encoded tuples, without the COPY header and trailer. They
// stay valid until the next Add or Reset.
func (b *AuditBatch) Bytes() []byte { return b.buf }

// Reset empties the batch and keeps its memory.
func (b *AuditBatch) Reset() {
	b.buf = b.buf[:0]
	b.n = 0
}

// Append adds the rows of o, which stays as it was.
func (b *AuditBatch) Append(o *AuditBatch) {
	b.buf = append(b.buf, o.buf...)
	b.n += o.n
}

// AuditBatchOf takes back the tuples of n rows that Bytes returned (read
// from the spool). It checks their framing, and returns ErrInvalid when
// data is not n whole tuples.
func AuditBatchOf(data []byte, n int) (*AuditBatch, error) {
	offsets, err := tupleOffsets(data)
	if err != nil {
		return nil, err
	}
	if len(offsets) != n {
		return nil, fmt.Errorf("%w: audit batch holds %d rows, not %d", ErrInvalid, len(offsets), n)
	}
	return &AuditBatch{buf: data, n: n}, nil
}

// Add encodes a row. Text is made valid UTF-8 without NUL bytes, which
// PostgreSQL refuses in text, so no decision, however odd its names, can
// make PostgreSQL refuse a batch.
func (b *AuditBatch) Add(r *AuditRecord) {
	buf := binary.BigEndian.AppendUint16(b.buf, auditFields)
	buf = appendTimestamp(buf, r.DecidedAt)
	buf = appendText(buf, r.DecisionID)
	buf = appendText(buf, r.Cluster)
	buf = appendText(buf, r.Endpoint)
	buf = appendText(buf, r.Operation)
	buf = appendText(buf, r.User)
	buf = appendTextArray(buf, r.Groups)
	buf = appendNullableText(buf, r.QueryID)
	buf = appendNullableText(buf, r.TrinoVersion)
	buf = appendText(buf, r.Outcome)
	buf = appendInt4(buf, r.Items)
	buf = appendInt4(buf, r.Kept)
	buf = appendTextBytes(buf, r.Resource)
	if len(r.QualifiedTable) == 0 {
		buf = appendNull(buf)
	} else {
		buf = appendTextBytes(buf, r.QualifiedTable)
	}
	buf = appendFacets(buf, r.Facets)
	buf = appendBool(buf, r.FacetsCapped)
	buf = appendJSON(buf, r.Result, false)
	buf = appendTextBytes(buf, r.Decider)
	buf = appendJSON(buf, r.Explanation, false)
	buf = appendBool(buf, r.ExplainCapped)
	buf = appendNullableText(buf, r.Error)
	buf = appendInt8(buf, r.Revision)
	buf = appendInt8(buf, max(r.LatencyMicros, 0))
	buf = appendJSON(buf, r.Input, true)
	b.buf = buf
	b.n++
}

// AddDecision encodes a row given as an AuditDecision.
func (b *AuditBatch) AddDecision(d *AuditDecision) {
	facets := make([]AuditFacet, len(d.Facets))
	for i, f := range d.Facets {
		facets[i] = AuditFacet{Name: f}
	}
	b.Add(&AuditRecord{
		DecidedAt: d.DecidedAt, DecisionID: d.DecisionID, Cluster: d.Cluster, Endpoint: d.Endpoint,
		Operation: d.Operation, User: d.User, Groups: d.Groups, QueryID: d.QueryID,
		TrinoVersion: d.TrinoVersion, Outcome: d.Outcome, Items: d.Items, Kept: d.Kept,
		Resource: []byte(d.Resource), QualifiedTable: []byte(d.QualifiedTable), Facets: facets,
		FacetsCapped: d.FacetsCapped, Result: d.Result, Decider: []byte(d.Decider),
		Explanation: d.Explanation, ExplainCapped: d.ExplainCapped, Error: d.Error,
		Revision: d.Revision, LatencyMicros: d.LatencyMicros, Input: d.Input,
	})
}

// Decision returns the record as an AuditDecision, with its own copies of
// the bytes (for exports that keep it).
func (r *AuditRecord) Decision() AuditDecision {
	facets := make([]string, len(r.Facets))
	for i, f := range r.Facets {
		facets[i] = facetString(f)
	}
	groups := r.Groups
	if groups == nil {
		groups = []string{}
	}
	return AuditDecision{
		DecidedAt: r.DecidedAt.UTC().Truncate(time.Microsecond), DecisionID: r.DecisionID,
		Cluster: r.Cluster, Endpoint: r.Endpoint, Operation: r.Operation, User: r.User,
		Groups: groups, QueryID: r.QueryID, TrinoVersion: r.TrinoVersion, Outcome: r.Outcome,
		Items: r.Items, Kept: r.Kept, Resource: string(r.Resource),
		QualifiedTable: string(r.QualifiedTable), Facets: facets, FacetsCapped: r.FacetsCapped,
		Result: bytes.Clone(r.Result), Decider: string(r.Decider),
		Explanation: bytes.Clone(r.Explanation), ExplainCapped: r.ExplainCapped, Error: r.Error,
		Revision: r.Revision, LatencyMicros: r.LatencyMicros, Input: bytes.Clone(r.Input),
	}
}

func facetString(f AuditFacet) string {
	if f.Kind == "" {
		return f.Name
	}
	return f.Kind + ":" + f.Name
}

func appendNull(buf []byte) []byte {
	return binary.BigEndian.AppendUint32(buf, 0xffffffff)
}

func appendTimestamp(buf []byte, t time.Time) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 8)
	return binary.BigEndian.AppendUint64(buf, uint64(t.UnixMicro()-pgEpochMicros)) //nolint:gosec // two's complement, as PostgreSQL reads it.
}

func appendInt4(buf []byte, v int) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 4)
	return binary.BigEndian.AppendUint32(buf, uint32(clampInt32(v))) //nolint:gosec // two's complement, as PostgreSQL reads it.
}

func appendInt8(buf []byte, v int64) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 8)
	return binary.BigEndian.AppendUint64(buf, uint64(v)) //nolint:gosec // two's complement, as PostgreSQL reads it.
}

func appendBool(buf []byte, v bool) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 1)
	if v {
		return append(buf, 1)
	}
	return append(buf, 0)
}

func appendNullableText(buf []byte, s string) []byte {
	if s == "" {
		return appendNull(buf)
	}
	return appendText(buf, s)
}

// appendText appends a text field. Text PostgreSQL would refuse (invalid
// UTF-8, or a NUL byte) is stored cleaned instead: invalid bytes become
// U+FFFD, and so do NUL bytes.
func appendText(buf []byte, s string) []byte {
	if !cleanText(s) {
		s = sanitizeText(s)
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s))) //nolint:gosec // a field is far below 4 GiB.
	return append(buf, s...)
}

func appendTextBytes(buf []byte, s []byte) []byte {
	if !cleanBytes(s) {
		return appendText(buf, sanitizeText(string(s)))
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s))) //nolint:gosec // a field is far below 4 GiB.
	return append(buf, s...)
}

// cleanText reports whether PostgreSQL takes s as text as it is.
func cleanText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= utf8.RuneSelf {
			return utf8.ValidString(s[i:]) && strings.IndexByte(s[i:], 0) < 0
		}
	}
	return true
}

func cleanBytes(s []byte) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= utf8.RuneSelf {
			return utf8.Valid(s[i:]) && bytes.IndexByte(s[i:], 0) < 0
		}
	}
	return true
}

func sanitizeText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// appendTextArray appends a one-dimensional text[]; nil is the empty array.
func appendTextArray(buf []byte, elems []string) []byte {
	at := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, 0) // the length, set below
	buf = appendArrayHeader(buf, len(elems))
	for _, e := range elems {
		buf = appendText(buf, e)
	}
	return setLength(buf, at)
}

func appendFacets(buf []byte, facets []AuditFacet) []byte {
	at := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, 0)
	buf = appendArrayHeader(buf, len(facets))
	for _, f := range facets {
		if f.Kind == "" {
			buf = appendText(buf, f.Name)
			continue
		}
		if !cleanText(f.Kind) || !cleanText(f.Name) {
			buf = appendText(buf, sanitizeText(f.Kind+":"+f.Name))
			continue
		}
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(f.Kind)+1+len(f.Name))) //nolint:gosec // a field is far below 4 GiB.
		buf = append(buf, f.Kind...)
		buf = append(buf, ':')
		buf = append(buf, f.Name...)
	}
	return setLength(buf, at)
}

func appendArrayHeader(buf []byte, n int) []byte {
	if n == 0 {
		buf = binary.BigEndian.AppendUint32(buf, 0) // no dimensions
		buf = binary.BigEndian.AppendUint32(buf, 0) // no nulls
		return binary.BigEndian.AppendUint32(buf, textOID)
	}
	buf = binary.BigEndian.AppendUint32(buf, 1)
	buf = binary.BigEndian.AppendUint32(buf, 0)
	buf = binary.BigEndian.AppendUint32(buf, textOID)
	buf = binary.BigEndian.AppendUint32(buf, uint32(n)) //nolint:gosec // n is a slice length.
	return binary.BigEndian.AppendUint32(buf, 1)        // lower bound
}

// setLength writes the length of the field whose length word is at at.
func setLength(buf []byte, at int) []byte {
	binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4)) //nolint:gosec // a field is far below 4 GiB.
	return buf
}

// appendJSON appends a json field: NULL when empty, or JSON null when
// required. JSON that is not valid UTF-8 is stored cleaned.
func appendJSON(buf []byte, v []byte, required bool) []byte {
	if len(v) == 0 {
		if !required {
			return appendNull(buf)
		}
		v = []byte("null")
	}
	if !utf8.Valid(v) {
		v = bytes.ToValidUTF8(v, []byte("\uFFFD"))
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(v))) //nolint:gosec // a field is far below 4 GiB.
	return append(buf, v...)
}

// tupleOffsets returns where each tuple of data starts, checking that data
// is whole tuples of the audit's fields.
func tupleOffsets(data []byte) ([]int, error) {
	var offsets []int
	for pos := 0; pos < len(data); {
		start := pos
		if len(data)-pos < 2 || binary.BigEndian.Uint16(data[pos:]) != auditFields {
			return nil, fmt.Errorf("%w: audit batch tuple %d is malformed", ErrInvalid, len(offsets))
		}
		pos += 2
		for f := 0; f < auditFields; f++ {
			if len(data)-pos < 4 {
				return nil, fmt.Errorf("%w: audit batch tuple %d is cut short", ErrInvalid, len(offsets))
			}
			n := int32(binary.BigEndian.Uint32(data[pos:])) //nolint:gosec // a field length, -1 for NULL.
			pos += 4
			if n < -1 || int(n) > len(data)-pos {
				return nil, fmt.Errorf("%w: audit batch tuple %d has a bad field length", ErrInvalid, len(offsets))
			}
			if n > 0 {
				pos += int(n)
			}
		}
		offsets = append(offsets, start)
	}
	return offsets, nil
}

// split divides a batch into halves, for finding the rows PostgreSQL
// refuses.
func (b *AuditBatch) split() (*AuditBatch, *AuditBatch, error) {
	offsets, err := tupleOffsets(b.buf)
	if err != nil {
		return nil, nil, err
	}
	if len(offsets) < 2 {
		return nil, nil, errors.New("a batch of one row cannot be split")
	}
	mid := len(offsets) / 2
	return &AuditBatch{buf: b.buf[:offsets[mid]], n: mid},
		&AuditBatch{buf: b.buf[offsets[mid]:], n: len(offsets) - mid}, nil
}

// repaired returns the one row of b rewritten so that PostgreSQL takes it,
// whatever it refused: text is cleaned again, the input is replaced by an
// object that says why it could not be stored, and a result or
// explanation that is not JSON is dropped. The decision itself is still
// recorded.
func (b *AuditBatch) repaired(reason string) (*AuditBatch, error) {
	data := b.buf
	if len(data) < 2 {
		return nil, fmt.Errorf("%w: empty audit batch", ErrInvalid)
	}
	out := binary.BigEndian.AppendUint16(nil, auditFields)
	pos := 2
	for f := 0; f < auditFields; f++ {
		if len(data)-pos < 4 {
			return nil, fmt.Errorf("%w: audit batch tuple is cut short", ErrInvalid)
		}
		n := int32(binary.BigEndian.Uint32(data[pos:])) //nolint:gosec // a field length, -1 for NULL.
		pos += 4
		if n < -1 || int(n) > len(data)-pos {
			return nil, fmt.Errorf("%w: audit batch tuple has a bad field length", ErrInvalid)
		}
		var v []byte
		if n >= 0 {
			v = data[pos : pos+int(n)]
			pos += int(n)
		}
		switch {
		case f == fieldInput:
			msg, _ := jsonString("PostgreSQL refused to store this decision's input: " + reason)
			out = appendJSON(out, []byte(`{"warden_unrecorded_input":`+msg+`}`), true)
		case f == fieldResult || f == fieldExplanation:
			out = appendNull(out)
		case n < 0:
			out = appendNull(out)
		case textFields[f]:
			out = appendText(out, sanitizeText(string(v)))
		default:
			out = binary.BigEndian.AppendUint32(out, uint32(n)) //nolint:gosec // n >= 0 here.
			out = append(out, v...)
		}
	}
	return &AuditBatch{buf: out, n: 1}, nil
}

func jsonString(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// Operations returns the operation of each row, in order.
func (b *AuditBatch) Operations() ([]string, error) {
	offsets, err := tupleOffsets(b.buf)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(offsets))
	for i, off := range offsets {
		pos := off + 2
		for f := 0; f < auditFields; f++ {
			n := int32(binary.BigEndian.Uint32(b.buf[pos:])) //nolint:gosec // a field length, -1 for NULL.
			pos += 4
			if f == fieldOperation {
				if n > 0 {
					out[i] = string(b.buf[pos : pos+int(n)])
				}
				break
			}
			if n > 0 {
				pos += int(n)
			}
		}
	}
	return out, nil
}
