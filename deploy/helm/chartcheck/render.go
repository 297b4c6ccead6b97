// Package chartcheck lints and renders the shortfuse Helm chart with the Helm
// SDK, as `helm lint` and `helm template` do, and checks every rendered object
// against the Kubernetes API: strictly decoded into its k8s.io/api Go type
// (unknown, duplicate and wrongly cased fields refused) and validated against
// the OpenAPI-derived schema that client-go ships for server-side apply.
package chartcheck

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	chartcommon "helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"sigs.k8s.io/yaml"
)

// Release is the release name and namespace the checks render with.
const (
	Release   = "sf"
	Namespace = "shortfuse"
)

// Load loads the chart in dir.
func Load(dir string) (*chart.Chart, error) {
	return loader.Load(dir)
}

// ParseValues parses a YAML values document.
func ParseValues(doc string) (map[string]any, error) {
	vals := map[string]any{}
	if err := yaml.Unmarshal([]byte(doc), &vals); err != nil {
		return nil, err
	}
	return vals, nil
}

// Lint runs Helm's linter on the chart in dir with vals as the values given
// on the command line, and returns its messages of warning or error severity
// as one error.
func Lint(dir string, vals map[string]any) error {
	l := lint.RunAll(dir, vals, Namespace)
	var msgs []string
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			msgs = append(msgs, m.Error())
		}
	}
	if len(msgs) > 0 {
		return errors.New(strings.Join(msgs, "\n"))
	}
	return nil
}

// Manifest is one rendered document: the template it came from and its YAML.
type Manifest struct {
	Template string
	YAML     string
}

// Render renders the chart with vals as `helm template` does (the values
// checked against values.schema.json first, unless skipSchema, as with
// --skip-schema-validation), and returns the non-empty documents of every
// template but NOTES.txt, sorted by template name, and the rendered
// NOTES.txt.
func Render(ch *chart.Chart, vals map[string]any, skipSchema bool) (docs []Manifest, notes string, err error) {
	opts := chartcommon.ReleaseOptions{Name: Release, Namespace: Namespace, Revision: 1, IsInstall: true}
	top, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, opts, chartcommon.DefaultCapabilities, skipSchema)
	if err != nil {
		return nil, "", err
	}
	out, err := engine.Render(ch, top)
	if err != nil {
		return nil, "", err
	}
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		base := path.Base(name)
		if base == "NOTES.txt" {
			notes = out[name]
			continue
		}
		if strings.HasPrefix(base, "_") {
			continue
		}
		for _, doc := range splitDocuments(out[name]) {
			docs = append(docs, Manifest{Template: name, YAML: doc})
		}
	}
	return docs, notes, nil
}

// splitDocuments splits a YAML stream at its "---" lines and drops the
// documents that hold nothing but comments and blank lines.
func splitDocuments(s string) []string {
	var docs []string
	var cur bytes.Buffer
	flush := func() {
		if hasContent(cur.String()) {
			docs = append(docs, cur.String())
		}
		cur.Reset()
	}
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.TrimRight(line, " \t\r\n") == "---" {
			flush()
			continue
		}
		cur.WriteString(line)
	}
	flush()
	return docs
}

func hasContent(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}

// Describe names a manifest for messages: template, kind and name.
func (m Manifest) Describe() string {
	var head struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	_ = yaml.Unmarshal([]byte(m.YAML), &head)
	return fmt.Sprintf("%s (%s %s)", m.Template, head.Kind, head.Metadata.Name)
}
