//go:build ignore

// Command chartconfig checks that the Helm chart configures Warden the way
// Warden reads its configuration. From manifests rendered by helm template it
// takes the warden container's WARDEN_* variables (secret ones from the
// chart's Secret when it is in the manifests, else a placeholder) and the
// warden.yaml of the ConfigMap it mounts, then:
//
//   - every WARDEN_* variable the chart sets must be a setting of
//     server/config (Warden ignores unknown ones, so a typo would pass
//     silently);
//
//   - config.Load must accept the file and the variables, and the result must
//     pass Validate.
//
//     go run .ci/chartconfig.go MANIFESTS.yaml
package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/trino-warden/warden/server/config"
)

type object struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Template struct {
			Spec struct {
				Containers []struct {
					Name string   `yaml:"name"`
					Args []string `yaml:"args"`
					Env  []struct {
						Name      string  `yaml:"name"`
						Value     *string `yaml:"value"`
						ValueFrom *struct {
							SecretKeyRef *struct {
								Name string `yaml:"name"`
								Key  string `yaml:"key"`
							} `yaml:"secretKeyRef"`
						} `yaml:"valueFrom"`
					} `yaml:"env"`
				} `yaml:"containers"`
				Volumes []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run .ci/chartconfig.go MANIFESTS.yaml")
		os.Exit(2)
	}
	if err := check(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "chartconfig:", err)
		os.Exit(1)
	}
}

func check(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var objs []object
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var o object
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return err
		}
		objs = append(objs, o)
	}
	find := func(kind, name string) *object {
		for i := range objs {
			if objs[i].Kind == kind && objs[i].Metadata.Name == name {
				return &objs[i]
			}
		}
		return nil
	}
	var work *object
	for i := range objs {
		if objs[i].Kind == "Deployment" || objs[i].Kind == "StatefulSet" {
			work = &objs[i]
		}
	}
	if work == nil {
		return errors.New("no Deployment or StatefulSet in the manifests")
	}
	known := map[string]bool{}
	for _, f := range config.Reference() {
		if f.Env != "-" {
			known[f.Env] = true
		}
	}
	pod := work.Spec.Template.Spec
	var env []string
	var bad []string
	for _, c := range pod.Containers {
		if c.Name != "warden" {
			continue
		}
		for _, e := range c.Env {
			if !strings.HasPrefix(e.Name, "WARDEN_") {
				continue
			}
			if !known[e.Name] {
				bad = append(bad, e.Name)
				continue
			}
			switch {
			case e.Value != nil:
				env = append(env, e.Name+"="+*e.Value)
			case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
				ref := e.ValueFrom.SecretKeyRef
				if s := find("Secret", ref.Name); s != nil {
					if v, ok := s.Data[ref.Key]; ok {
						d, err := base64.StdEncoding.DecodeString(v)
						if err != nil {
							return fmt.Errorf("Secret %s key %s: %w", ref.Name, ref.Key, err)
						}
						env = append(env, e.Name+"="+string(d))
					}
				} else if e.Name == "WARDEN_DATABASE_URL" {
					env = append(env, e.Name+"=postgres://placeholder@db/warden")
				}
			}
		}
		// The file the container names with --config, from the ConfigMap
		// mounted at its directory.
		file := ""
		for i, a := range c.Args {
			if a == "--config" && i+1 < len(c.Args) {
				file = c.Args[i+1]
			}
		}
		if file == "" {
			return errors.New("the warden container passes no --config")
		}
		cmName := ""
		for _, v := range pod.Volumes {
			if v.Name == "config" && v.ConfigMap != nil {
				cmName = v.ConfigMap.Name
			}
		}
		cm := find("ConfigMap", cmName)
		if cm == nil {
			return fmt.Errorf("ConfigMap %q (volume config) is not in the manifests", cmName)
		}
		content, ok := cm.Data[filepath.Base(file)]
		if !ok {
			return fmt.Errorf("ConfigMap %s has no key %s", cmName, filepath.Base(file))
		}
		if len(bad) > 0 {
			return fmt.Errorf("variables that are no Warden setting: %s", strings.Join(bad, ", "))
		}
		dir, err := os.MkdirTemp("", "chartconfig")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		tmp := filepath.Join(dir, filepath.Base(file))
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			return err
		}
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg, _, err := config.Load(fs, []string{"--config", tmp}, env)
		if err != nil {
			return fmt.Errorf("Warden would refuse the configuration: %w", err)
		}
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("Warden's configuration is invalid: %w", err)
		}
		fmt.Printf("%d WARDEN_* variables and %s accepted by server/config\n", len(env), filepath.Base(file))
		return nil
	}
	return errors.New("no container named warden")
}
