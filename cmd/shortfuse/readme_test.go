package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// flagOnlyOnce are the server flags without an environment variable, each
// with the reason: a variable would stay set across restarts.
var flagOnlyOnce = map[string]string{
	"audit-accept-break": "accepts one audit chain break at one start; a variable left set would accept every later break",
}

// envName is the SHORTFUSE_* variable of a server flag.
func envName(flag string) string {
	return "SHORTFUSE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// sampleValue is a value of the flag's type that differs from any default.
func sampleValue(t *testing.T, f *pflag.Flag) string {
	t.Helper()
	switch f.Value.Type() {
	case "string":
		return "127.0.0.9:7"
	case "duration":
		return "7m13s"
	case "int", "int64":
		return "7013"
	case "bool":
		return "true"
	}
	t.Fatalf("--%s: no sample value for type %s", f.Name, f.Value.Type())
	return ""
}

func TestEveryServerFlagHasItsEnvironmentVariable(t *testing.T) {
	none := func(string) string { return "" }
	base := newServerCommand(withStreams(none, nil, io.Discard, io.Discard)).Flags()
	base.VisitAll(func(f *pflag.Flag) {
		if _, ok := flagOnlyOnce[f.Name]; ok {
			return
		}
		name, want := envName(f.Name), sampleValue(t, f)
		withEnv := newServerCommand(withStreams(func(k string) string {
			if k == name {
				return want
			}
			return ""
		}, nil, io.Discard, io.Discard)).Flags().Lookup(f.Name)
		if withEnv.DefValue == f.DefValue {
			t.Errorf("--%s: %s=%s does not change its default (%q)", f.Name, name, want, f.DefValue)
		}
	})
	for name := range flagOnlyOnce {
		if base.Lookup(name) == nil {
			t.Errorf("flagOnlyOnce names --%s, which the server does not have", name)
		}
	}
}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the text of a README section, from its "## title" line
// to the next.
func section(t *testing.T, doc, title string) string {
	t.Helper()
	i := strings.Index(doc, "\n## "+title+"\n")
	if i < 0 {
		t.Fatalf("no section %q", title)
	}
	rest := doc[i+len(title)+5:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

func TestReadmeFlagTableListsEveryServerFlag(t *testing.T) {
	table := section(t, readRepoFile(t, "README.md"), "Flags")
	newServerCommand(withStreams(func(string) string { return "" }, nil, io.Discard, io.Discard)).Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if !regexp.MustCompile("(?m)^\\|[^|\n]*`--" + regexp.QuoteMeta(f.Name) + "`").MatchString(table) {
			t.Errorf("README's flag table has no row for --%s", f.Name)
		}
	})
	if _, ok := flagOnlyOnce["audit-accept-break"]; ok && !strings.Contains(table, "except `--audit-accept-break`") {
		t.Errorf("README's flag section does not say which flag has no environment variable")
	}
}

// TestReadmeLayoutListsEveryPackage holds README's and DESIGN.md's layouts
// to the tree: every directory under internal/ with Go files is named.
func TestReadmeLayoutListsEveryPackage(t *testing.T) {
	var pkgs []string
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if d.Name() == "testdata" || d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		if m, _ := filepath.Glob(filepath.Join(path, "*.go")); len(m) > 0 {
			rel, _ := filepath.Rel(root, path)
			pkgs = append(pkgs, filepath.ToSlash(rel)+"/")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []struct{ file, section string }{{"README.md", "Layout"}, {"docs/DESIGN.md", "Layout"}} {
		layout := section(t, readRepoFile(t, doc.file), doc.section)
		for _, p := range pkgs {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(p) + `\s`).MatchString(layout) {
				t.Errorf("%s's layout does not list %s", doc.file, p)
			}
		}
	}
}
