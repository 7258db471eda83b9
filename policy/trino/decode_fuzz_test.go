package trino

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzDecode holds Decode to DecodeReference: on any input both must fail,
// with the same kind of error, or both succeed with equal Requests. The
// differences that are on purpose are normalised; see checkAgainstReference.
func FuzzDecode(f *testing.F) {
	// A sample of the corpora: the fuzzer mutates and minimises every
	// seed, so the batches are cut to a few elements of the same shape.
	for _, name := range []string{"allow.jsonl", "row_filters.jsonl"} {
		lines := benchLines(f, name)
		for i := 0; i < len(lines); i += max(len(lines)/20, 1) {
			f.Add(lines[i])
		}
	}
	for _, name := range []string{"batch_column_masks_250.jsonl", "filter_tables_100.jsonl"} {
		r, err := DecodeReference(benchLines(f, name)[0])
		if err != nil {
			f.Fatal(err)
		}
		r.Action.FilterResources = r.Action.FilterResources[:3]
		seed, err := json.Marshal(Query{Input: r.Input})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed)
	}
	for _, c := range differentialCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstReference(t, data)
	})
}

// checkAgainstReference decodes data with Decode and DecodeReference and
// fails t unless they agree. Two differences are on purpose:
//   - Schema.Properties and Table.Properties must be objects or null:
//     where DecodeReference keeps any other value, Decode must fail;
//   - for null, DecodeReference keeps the bytes "null", Decode nil.
//
// Errors must be of the same kind (malformed JSON at the same offset, a
// missing input, action or context, or a type error); their wording differs.
func checkAgainstReference(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := DecodeReference(data)

	// Decode a copy and scribble over it after: the Request must not
	// alias the body, which a server reuses.
	body := bytes.Clone(data)
	got, gotErr := Decode(body)
	for i := range body {
		body[i] = '#'
	}

	if gotErr != nil {
		var ie *InputError
		if !errors.As(gotErr, &ie) {
			t.Fatalf("Decode(%q) = %T %v, want an *InputError", data, gotErr, gotErr)
		}
		if got != nil {
			t.Fatalf("Decode(%q) returned both a Request and %v", data, gotErr)
		}
	}
	if wantErr == nil && hasNonObjectProperties(data) {
		if gotErr == nil {
			t.Fatalf("Decode(%q) accepted schema or table properties that are not an object", data)
		}
		return
	}
	switch {
	case wantErr != nil && gotErr != nil:
		if w, g := errorKind(wantErr), errorKind(gotErr); w != g {
			t.Fatalf("Decode(%q):\n got error %q (%s)\nwant error %q (%s)", data, gotErr, g, wantErr, w)
		}
	case wantErr != nil:
		t.Fatalf("Decode(%q) succeeded, want error %q", data, wantErr)
	case gotErr != nil:
		t.Fatalf("Decode(%q) = error %q, want success", data, gotErr)
	default:
		normaliseReference(want)
		if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Request{})); diff != "" {
			t.Fatalf("Decode(%q) mismatch (-reference +fast):\n%s", data, diff)
		}
		checkRawInput(t, data, got)
	}
}

// checkRawInput fails t unless got.RawInput(data) is the text of the input
// object that encoding/json takes from data.
func checkRawInput(t *testing.T, data []byte, got *Request) {
	t.Helper()
	raw := got.RawInput(data)
	var q struct{ Input json.RawMessage }
	if err := json.Unmarshal(data, &q); err != nil {
		t.Fatalf("encoding/json refuses %q: %v", data, err)
	}
	var a, b any
	if err := json.Unmarshal(raw, &a); err != nil || len(raw) == 0 || raw[0] != '{' {
		t.Fatalf("RawInput of %q = %q, not an object: %v", data, raw, err)
	}
	if err := json.Unmarshal(q.Input, &b); err != nil {
		t.Fatalf("the input of %q: %v", data, err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("RawInput of %.200q is not its input: got %.300q", data, raw)
	}
}

// errorKind classifies an error of either decoder; for malformed JSON, it
// includes the byte offset.
func errorKind(err error) string {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "malformed JSON at byte "):
		off, _, _ := strings.Cut(strings.TrimPrefix(msg, "malformed JSON at byte "), ":")
		return "malformed JSON at byte " + off
	case strings.HasPrefix(msg, "the body has no input object"):
		return "no input"
	case msg == "input.action is missing", msg == "input.context is missing":
		return msg
	}
	return "type error"
}

// normaliseReference turns properties that DecodeReference kept as the
// bytes "null" into nil, as Decode leaves them.
func normaliseReference(r *Request) {
	fix := func(res *Resource) {
		if res == nil {
			return
		}
		if res.Schema != nil && string(res.Schema.Properties) == "null" {
			res.Schema.Properties = nil
		}
		if res.Table != nil && string(res.Table.Properties) == "null" {
			res.Table.Properties = nil
		}
	}
	fix(r.Action.Resource)
	fix(r.Action.TargetResource)
	for i := range r.Action.FilterResources {
		fix(&r.Action.FilterResources[i])
	}
}

// hasNonObjectProperties reports whether encoding/json, matching keys as
// DecodeReference does, meets a schema or table properties value that is
// neither an object nor null anywhere in data, even one a later duplicate
// key replaces.
func hasNonObjectProperties(data []byte) bool {
	var q struct {
		Input struct {
			Action struct {
				Resource        *strictResource  `json:"resource"`
				FilterResources []strictResource `json:"filterResources"`
				TargetResource  *strictResource  `json:"targetResource"`
			} `json:"action"`
		} `json:"input"`
	}
	return errors.Is(json.Unmarshal(data, &q), errNonObjectProperties)
}

type strictResource struct {
	Schema *strictHolder `json:"schema"`
	Table  *strictHolder `json:"table"`
}

type strictHolder struct {
	Properties strictProperties `json:"properties"`
}

var errNonObjectProperties = errors.New("properties is not an object")

type strictProperties struct{}

func (*strictProperties) UnmarshalJSON(b []byte) error {
	if b[0] == '{' || string(b) == "null" {
		return nil
	}
	return errNonObjectProperties
}
