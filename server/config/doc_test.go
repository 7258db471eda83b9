package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the generated table in docs/configuration.md")

const (
	docBegin = "<!-- BEGIN GENERATED -->"
	docEnd   = "<!-- END GENERATED -->"
)

// TestReferenceDocUpToDate fails when the table in docs/configuration.md is
// not what Reference generates; -update rewrites it.
func TestReferenceDocUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "configuration.md")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	doc := string(data)
	start, end := strings.Index(doc, docBegin), strings.Index(doc, docEnd)
	require.True(t, start >= 0 && end > start, "%s needs %s and %s markers", path, docBegin, docEnd)

	want := doc[:start+len(docBegin)] + "\n" + referenceTable(Reference()) + doc[end:]
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
		return
	}
	require.Equal(t, want, doc, "%s is stale: run go test ./server/config -run TestReferenceDocUpToDate -update", path)
}

// referenceTable renders fields as a Markdown table.
func referenceTable(fields []Field) string {
	var b strings.Builder
	b.WriteString("| Key | Env | Flag | Type | Default | Description |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, f := range fields {
		def := "`" + f.Default + "`"
		switch {
		case f.Type == "map":
			def = "-"
		case f.Default == "":
			def = `""`
		}
		help := f.Help
		if f.Secret {
			help += " (secret: redacted in logs)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n",
			code(f.Key), code(f.Env), code(f.Flag), f.Type, cell(def), cell(help))
	}
	return b.String()
}

func code(s string) string {
	if s == "-" {
		return s
	}
	return cell("`" + s + "`")
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
