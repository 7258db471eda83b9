package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// decodeFile applies the YAML file at path onto the struct that dst points
// to. Keys absent from the file keep their value; an unknown key, a
// duplicate key or a bad value is an error naming the file, line and key,
// and all such errors are reported together.
//
// It walks the yaml.Node tree itself rather than calling Decode with
// KnownFields so that errors name the full key path, values parse exactly
// as they do from env and flags, and keys inside maps are checked too.
func decodeFile(path string, dst any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil // empty file
	}
	d := yamlDecoder{file: path}
	d.value(doc.Content[0], reflect.ValueOf(dst).Elem(), "")
	return errors.Join(d.errs...)
}

type yamlDecoder struct {
	file string
	errs []error
}

func (d *yamlDecoder) errorf(n *yaml.Node, key, format string, args ...any) {
	err := fmt.Errorf(format, args...)
	if key != "" {
		err = fmt.Errorf("%s: %w", key, err)
	}
	d.errs = append(d.errs, fmt.Errorf("%s:%d: %w", d.file, n.Line, err))
}

// value decodes n into v, the field at key ("" for the root). A null node
// leaves v unchanged, like an absent key.
func (d *yamlDecoder) value(n *yaml.Node, v reflect.Value, key string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	switch {
	case v.Kind() == reflect.Struct:
		d.structure(n, v, key)
	case v.Kind() == reflect.Map:
		d.mapping(n, v, key)
	case v.Type() == stringsType:
		d.list(n, v, key)
	case n.Kind != yaml.ScalarNode:
		d.errorf(n, key, "expected a single %s value, got %s", typeName(v.Type()), kindName(n))
	default:
		pv, err := parseValue(v.Type(), n.Value)
		if err != nil {
			d.errorf(n, key, "%w", err)
			return
		}
		v.Set(pv)
	}
}

// pairs returns the key/value pairs of mapping node n, reporting non-scalar
// and duplicate keys.
func (d *yamlDecoder) pairs(n *yaml.Node, key string) [][2]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, key, "expected a mapping, got %s", kindName(n))
		return nil
	}
	var out [][2]*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, key, "expected a key, got %s", kindName(k))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "", "duplicate key %q", join(key, k.Value))
			continue
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

func (d *yamlDecoder) structure(n *yaml.Node, v reflect.Value, key string) {
	fields := map[string]int{}
	for i := range v.NumField() {
		if name := yamlName(v.Type().Field(i)); name != "-" {
			fields[name] = i
		}
	}
	for _, kv := range d.pairs(n, key) {
		i, ok := fields[kv[0].Value]
		if !ok {
			d.errorf(kv[0], "", "unknown key %q", join(key, kv[0].Value))
			continue
		}
		d.value(kv[1], v.Field(i), join(key, kv[0].Value))
	}
}

// mapping merges the entries of n into the map v; an entry that exists
// already is decoded on top of its current value.
func (d *yamlDecoder) mapping(n *yaml.Node, v reflect.Value, key string) {
	for _, kv := range d.pairs(n, key) {
		elem := reflect.New(v.Type().Elem()).Elem()
		if old := v.MapIndex(reflect.ValueOf(kv[0].Value)); old.IsValid() {
			elem.Set(old)
		}
		d.value(kv[1], elem, join(key, kv[0].Value))
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		v.SetMapIndex(reflect.ValueOf(kv[0].Value), elem)
	}
}

// list sets v, a []string, from a sequence of scalars, replacing the old
// value.
func (d *yamlDecoder) list(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, key, "expected a list, got %s", kindName(n))
		return
	}
	items := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		for item.Kind == yaml.AliasNode {
			item = item.Alias
		}
		if item.Kind != yaml.ScalarNode {
			d.errorf(item, key, "expected a list of strings, got an item that is %s", kindName(item))
			return
		}
		items = append(items, item.Value)
	}
	v.Set(reflect.ValueOf(items))
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("the value %q", n.Value)
	}
}
