package rego

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/open-policy-agent/opa/v1/util"
)

// dataFiles are the names of data documents in a policy directory, as in an
// OPA bundle.
var dataFiles = map[string]bool{"data.json": true, "data.yaml": true, "data.yml": true}

// LoadDir reads a policy directory the way OPA reads a bundle directory:
//
//   - every *.rego file, recursively, except *_test.rego (tests, which
//     RunTests runs) — keyed by its path (dir joined with the path inside
//     it), which is the file name compile errors report;
//   - every data.json, data.yaml or data.yml, whose document is placed at
//     the path of its directory: dir/a/b/data.json becomes data.a.b. The
//     document of dir/data.json itself must be an object.
//
// Documents are merged; two files that set the same non-object value are an
// error. Entries whose name starts with a dot (.git, .manifest) are
// skipped. The result depends only on the directory's contents.
func LoadDir(dir string) (modules map[string]string, data map[string]any, err error) {
	return loadDir(dir, false)
}

func loadDir(dir string, tests bool) (map[string]string, map[string]any, error) {
	modules := map[string]string{}
	data := map[string]any{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if path != dir && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		switch {
		case strings.HasSuffix(name, ".rego"):
			if !tests && strings.HasSuffix(name, "_test.rego") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			modules[path] = string(src)
		case dataFiles[name]:
			rel, err := filepath.Rel(dir, filepath.Dir(path))
			if err != nil {
				return err
			}
			return loadData(data, path, rel)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("loading policy directory %s: %w", dir, err)
	}
	return modules, data, nil
}

// loadData reads one data file and merges it into data at the path of rel.
func loadData(data map[string]any, file, rel string) error {
	bs, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var doc any
	if err := util.Unmarshal(bs, &doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var keys []string
	if rel != "." {
		keys = strings.Split(filepath.ToSlash(rel), "/")
	}
	if len(keys) == 0 {
		obj, ok := doc.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: the root data document must be an object", file)
		}
		return merge(data, obj, file, "data")
	}
	parent, at := data, "data"
	for _, k := range keys[:len(keys)-1] {
		at += "." + k
		next, ok := parent[k]
		if !ok {
			m := map[string]any{}
			parent[k] = m
			parent = m
			continue
		}
		m, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %s is already set to a non-object value", file, at)
		}
		parent = m
	}
	last := keys[len(keys)-1]
	return merge(parent, map[string]any{last: doc}, file, at)
}

// merge merges src into dst, recursively for objects; a key both set to a
// non-object value is a conflict.
func merge(dst, src map[string]any, file, at string) error {
	for k, v := range src {
		cur, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		cm, ok1 := cur.(map[string]any)
		vm, ok2 := v.(map[string]any)
		if !ok1 || !ok2 {
			return fmt.Errorf("%s: %s.%s is already set by another data file", file, at, k)
		}
		if err := merge(cm, vm, file, at+"."+k); err != nil {
			return err
		}
	}
	return nil
}
