//go:build ignore

// Command crd2schema turns CustomResourceDefinitions (YAML or JSON, several
// documents per file) into the JSON schemas kubeconform reads, one per served
// version, named <kind>-<group's first label>-<version>.json. Like
// openapi2jsonschema --strict, every object schema that lists properties and
// says nothing of others gets additionalProperties: false, unless it keeps
// unknown fields (x-kubernetes-preserve-unknown-fields).
//
//	go run .ci/crd2schema.go OUTDIR CRD-FILE…
//
// .ci/helm.sh uses it for the ServiceMonitor and cert-manager Certificate
// kinds the chart renders.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

type crd struct {
	Kind string `yaml:"kind"`
	Spec struct {
		Group string `yaml:"group"`
		Names struct {
			Kind string `yaml:"kind"`
		} `yaml:"names"`
		Versions []struct {
			Name   string `yaml:"name"`
			Served bool   `yaml:"served"`
			Schema struct {
				OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
			} `yaml:"schema"`
		} `yaml:"versions"`
	} `yaml:"spec"`
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: go run .ci/crd2schema.go OUTDIR CRD-FILE…")
		os.Exit(2)
	}
	out := os.Args[1]
	if err := os.MkdirAll(out, 0o755); err != nil {
		fail(err)
	}
	n := 0
	for _, file := range os.Args[2:] {
		b, err := os.ReadFile(file)
		if err != nil {
			fail(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var c crd
			if err := dec.Decode(&c); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				fail(fmt.Errorf("%s: %w", file, err))
			}
			if c.Kind != "CustomResourceDefinition" {
				continue
			}
			for _, v := range c.Spec.Versions {
				if !v.Served || v.Schema.OpenAPIV3Schema == nil {
					continue
				}
				s := strict(v.Schema.OpenAPIV3Schema)
				j, err := json.MarshalIndent(s, "", "  ")
				if err != nil {
					fail(fmt.Errorf("%s: %w", file, err))
				}
				group, _, _ := strings.Cut(c.Spec.Group, ".")
				name := fmt.Sprintf("%s-%s-%s.json", strings.ToLower(c.Spec.Names.Kind), strings.ToLower(group), strings.ToLower(v.Name))
				if err := os.WriteFile(filepath.Join(out, name), j, 0o644); err != nil {
					fail(err)
				}
				n++
			}
		}
	}
	if n == 0 {
		fail(errors.New("no CustomResourceDefinition schema found"))
	}
}

// strict closes every object schema that lists its properties.
func strict(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = strict(x)
		}
		_, props := t["properties"]
		_, extra := t["additionalProperties"]
		keep, _ := t["x-kubernetes-preserve-unknown-fields"].(bool)
		if props && !extra && !keep {
			t["additionalProperties"] = false
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = strict(x)
		}
		return t
	default:
		return v
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "crd2schema:", err)
	os.Exit(1)
}
