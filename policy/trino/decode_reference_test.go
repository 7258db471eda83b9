package trino

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// DecodeReference is the encoding/json implementation that Decode replaced,
// kept as the oracle of the differential and fuzz tests. Decode must accept
// what it accepts and build what it builds, but for the differences listed
// in Decode's comment.
func DecodeReference(body []byte) (*Request, error) {
	var probe struct {
		Input *struct {
			Context *json.RawMessage `json:"context"`
			Action  *json.RawMessage `json:"action"`
		} `json:"input"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, referenceJSONError(err)
	}
	if probe.Input == nil {
		return nil, inputErrorf("the body has no input object; the plugin sends {\"input\": {\"context\": …, \"action\": …}}")
	}
	if probe.Input.Action == nil || bytes.Equal(*probe.Input.Action, []byte("null")) {
		return nil, inputErrorf("input.action is missing")
	}
	if probe.Input.Context == nil || bytes.Equal(*probe.Input.Context, []byte("null")) {
		return nil, inputErrorf("input.context is missing")
	}
	var q struct {
		Input Input `json:"input"`
	}
	if err := json.Unmarshal(body, &q); err != nil {
		return nil, referenceJSONError(err)
	}
	return &Request{Input: q.Input}, nil
}

func referenceJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return inputErrorf("field %s has the wrong type: got JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return inputErrorf("malformed JSON at byte %d: %v", se.Offset, se)
	}
	return inputErrorf("malformed JSON: %v", fmt.Sprint(err))
}
