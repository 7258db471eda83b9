package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds the reflection that derives every name from the struct's
// yaml tags. It works on any struct type so it can be tested on test types.
//
// The mapping rule: YAML key path "a.b_c" ↔ env WARDEN_A_B_C ↔ flag --a-b-c.

const envPrefix = "WARDEN_"

var (
	durationType = reflect.TypeFor[time.Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
	stringsType  = reflect.TypeFor[[]string]()
	yamlNameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)
)

// leaf is one configurable value: a scalar, a list or a YAML-only map.
type leaf struct {
	key    string // YAML path, e.g. "http.read_timeout"
	env    string // e.g. "WARDEN_HTTP_READ_TIMEOUT"; "" for YAML-only leaves
	flag   string // e.g. "http-read-timeout", without dashes; "" for YAML-only leaves
	help   string
	secret bool
	index  []int // field index path from the root struct
	typ    reflect.Type
}

// yamlOnly reports whether the leaf can only be set from a file (maps).
func (l leaf) yamlOnly() bool { return l.typ.Kind() == reflect.Map }

// leaves lists the leaves of struct type t in field order. It panics on a
// field without a valid yaml tag or with an unsupported type: both are
// programming errors caught by this package's tests.
func leaves(t reflect.Type) []leaf {
	return appendLeaves(nil, t, "", nil)
}

func appendLeaves(out []leaf, t reflect.Type, prefix string, index []int) []leaf {
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if name == "-" {
			continue
		}
		key := prefix + name
		idx := append(slices.Clip(index), i)
		if f.Type.Kind() == reflect.Struct {
			out = appendLeaves(out, f.Type, key+".", idx)
			continue
		}
		checkLeafType(key, f.Type)
		l := leaf{key: key, help: f.Tag.Get("help"), index: idx, typ: f.Type}
		if s := f.Tag.Get("secret"); s != "" {
			secret, err := strconv.ParseBool(s)
			if err != nil {
				panic(fmt.Sprintf("config: %s: invalid secret tag %q", key, s))
			}
			l.secret = secret
		}
		if !l.yamlOnly() {
			l.env = envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
			l.flag = strings.NewReplacer(".", "-", "_", "-").Replace(key)
		}
		out = append(out, l)
	}
	return out
}

// yamlName returns the name part of a field's yaml tag.
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return name
	}
	if !f.IsExported() || !yamlNameRE.MatchString(name) {
		panic(fmt.Sprintf("config: field %s needs a lower_snake_case yaml tag, got %q", f.Name, name))
	}
	return name
}

// checkLeafType panics unless t can be parsed by parseValue, or is a map from
// string to a struct of such leaves.
func checkLeafType(key string, t reflect.Type) {
	if t.Kind() == reflect.Map {
		if t.Key().Kind() != reflect.String || t.Elem().Kind() != reflect.Struct {
			panic(fmt.Sprintf("config: %s: only map[string]struct is supported, got %s", key, t))
		}
		for _, l := range leaves(t.Elem()) {
			if l.yamlOnly() {
				panic(fmt.Sprintf("config: %s: nested maps are not supported", key))
			}
		}
		return
	}
	if typeName(t) == "" {
		panic(fmt.Sprintf("config: %s: unsupported type %s", key, t))
	}
}

// typeName names a leaf type for help text and docs; "" means unsupported.
func typeName(t reflect.Type) string {
	switch t {
	case durationType:
		return "duration"
	case byteSizeType:
		return "size"
	case stringsType:
		return "list"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int64:
		return "int"
	case reflect.Float64:
		return "float"
	case reflect.Map:
		return "map"
	}
	return ""
}

// parseValue parses s, from an env variable, a flag or a YAML scalar, as a
// value of leaf type t. Lists are comma-separated; blanks around items and
// empty items are dropped.
func parseValue(t reflect.Type, s string) (reflect.Value, error) {
	v := reflect.New(t).Elem()
	switch t {
	case durationType:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return v, fmt.Errorf("invalid duration %q (want e.g. 500ms, 5s, 2m)", s)
		}
		v.SetInt(int64(d))
		return v, nil
	case byteSizeType:
		b, err := ParseByteSize(s)
		if err != nil {
			return v, err
		}
		v.SetInt(int64(b))
		return v, nil
	case stringsType:
		items := []string{}
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v.Set(reflect.ValueOf(items))
		return v, nil
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return v, fmt.Errorf("invalid bool %q (want true or false)", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, t.Bits())
		if err != nil {
			return v, fmt.Errorf("invalid integer %q", s)
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return v, fmt.Errorf("invalid number %q", s)
		}
		v.SetFloat(f)
	default:
		return v, fmt.Errorf("cannot set a %s from text", t)
	}
	return v, nil
}

// formatValue is the inverse of parseValue, used for defaults in help and
// docs. Maps format as "".
func formatValue(v reflect.Value) string {
	switch v.Type() {
	case durationType:
		return formatDuration(time.Duration(v.Int()))
	case byteSizeType:
		return ByteSize(v.Int()).String()
	case stringsType:
		return strings.Join(v.Interface().([]string), ",")
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return ""
}

// formatDuration is time.Duration.String without trailing zero units:
// "1m" rather than "1m0s", "2h" rather than "2h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// reservedEnv are env names that no leaf may take: WARDEN_CONFIG names the
// file, and Kubernetes injects service links (WARDEN_PORT,
// WARDEN_SERVICE_HOST, WARDEN_PORT_8181_TCP…) for a Service named "warden".
var (
	reservedEnv       = []string{"WARDEN_CONFIG", "WARDEN_PORT", "WARDEN_SERVICE_HOST", "WARDEN_SERVICE_PORT"}
	reservedEnvPrefix = []string{"WARDEN_PORT_", "WARDEN_SERVICE_PORT_"}
)

// checkNames reports leaves whose env or flag names collide with each other
// or with a reserved name.
func checkNames(ls []leaf) error {
	var errs []string
	seen := map[string]string{"WARDEN_CONFIG": "--config", "config": "--config"}
	for _, l := range ls {
		if l.yamlOnly() {
			continue
		}
		for _, name := range []string{l.env, l.flag} {
			if other, ok := seen[name]; ok {
				errs = append(errs, fmt.Sprintf("%s and %s both map to %s", other, l.key, name))
			}
			seen[name] = l.key
		}
		if slices.Contains(reservedEnv, l.env) ||
			slices.ContainsFunc(reservedEnvPrefix, func(p string) bool { return strings.HasPrefix(l.env, p) }) {
			errs = append(errs, fmt.Sprintf("%s maps to reserved env name %s", l.key, l.env))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: name collisions: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Field describes one configuration key, for docs and help.
type Field struct {
	Key     string // YAML key path, e.g. "http.read_timeout"
	Env     string // env variable, e.g. "WARDEN_HTTP_READ_TIMEOUT", or "-" if YAML-only
	Flag    string // flag, e.g. "--http-read-timeout", or "-" if YAML-only
	Type    string // string, bool, int, float, duration, size, list or map
	Default string // default in the form env and flags accept
	Help    string // from the field's help tag
	Secret  bool   // from the field's secret tag; redacted in logs
}

// reference lists the fields of the struct v, whose values are the defaults.
// A map leaf is followed by its element's fields, keyed "map.<name>.field".
func reference(v reflect.Value) []Field {
	var out []Field
	for _, l := range leaves(v.Type()) {
		f := Field{
			Key: l.key, Env: l.env, Flag: "--" + l.flag, Type: typeName(l.typ),
			Default: formatValue(v.FieldByIndex(l.index)), Help: l.help, Secret: l.secret,
		}
		if !l.yamlOnly() {
			out = append(out, f)
			continue
		}
		f.Env, f.Flag = "-", "-"
		out = append(out, f)
		for _, e := range reference(reflect.New(l.typ.Elem()).Elem()) {
			e.Key = l.key + ".<name>." + e.Key
			e.Env, e.Flag = "-", "-"
			out = append(out, e)
		}
	}
	return out
}

// redact flattens the struct v into "a.b_c" → value for logging. Durations
// and sizes become strings; secret leaves that are not zero become
// "[redacted]". Map entries flatten as "map.<name>.field".
func redact(v reflect.Value, prefix string, out map[string]any) map[string]any {
	for _, l := range leaves(v.Type()) {
		fv := v.FieldByIndex(l.index)
		key := prefix + l.key
		switch {
		case l.secret && !fv.IsZero():
			out[key] = "[redacted]"
		case l.yamlOnly():
			iter := fv.MapRange()
			for iter.Next() {
				redact(iter.Value(), key+"."+iter.Key().String()+".", out)
			}
		case l.typ == durationType || l.typ == byteSizeType:
			out[key] = formatValue(fv)
		case l.typ == stringsType:
			out[key] = slices.Clone(fv.Interface().([]string))
		default:
			out[key] = fv.Interface()
		}
	}
	return out
}
