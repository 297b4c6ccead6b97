// Command sbom writes a CycloneDX 1.5 JSON bill of materials for a Go
// binary, from the module list the Go linker recorded in it (the same list
// as go version -m BINARY): exactly what was compiled in, at which version,
// with the go.sum hash of each module. It needs nothing beyond the standard
// library, so that a release builds offline.
//
//	go run ./scripts/sbom -version v1.2.3 dist/shortfuse_v1.2.3_linux_amd64 > sbom.cdx.json
package main

import (
	"crypto/rand"
	"debug/buildinfo"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"
)

type component struct {
	Type       string     `json:"type"`
	BOMRef     string     `json:"bom-ref,omitempty"`
	Name       string     `json:"name"`
	Version    string     `json:"version,omitempty"`
	PURL       string     `json:"purl,omitempty"`
	Properties []property `json:"properties,omitempty"`
}

type property struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type bom struct {
	BOMFormat    string      `json:"bomFormat"`
	SpecVersion  string      `json:"specVersion"`
	SerialNumber string      `json:"serialNumber"`
	Version      int         `json:"version"`
	Metadata     metadata    `json:"metadata"`
	Components   []component `json:"components"`
}

type metadata struct {
	Timestamp string    `json:"timestamp"`
	Component component `json:"component"`
}

func main() {
	version := flag.String("version", "", "the version stamped into the binary (default: the module version Go recorded)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: sbom [-version V] BINARY")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *version); err != nil {
		fmt.Fprintln(os.Stderr, "sbom:", err)
		os.Exit(1)
	}
}

func run(path, version string) error {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return err
	}
	if version == "" {
		version = bi.Main.Version
	}
	main := component{Type: "application", Name: bi.Path, Version: version,
		PURL:       purl(bi.Main.Path, version),
		Properties: []property{{"go.version", bi.GoVersion}}}
	for _, s := range bi.Settings {
		if s.Key == "GOOS" || s.Key == "GOARCH" || s.Key == "CGO_ENABLED" {
			main.Properties = append(main.Properties, property{"go.build." + s.Key, s.Value})
		}
	}
	b := bom{BOMFormat: "CycloneDX", SpecVersion: "1.5", SerialNumber: "urn:uuid:" + uuid(), Version: 1,
		Metadata:   metadata{Timestamp: time.Now().UTC().Format(time.RFC3339), Component: main},
		Components: []component{}}
	for _, d := range bi.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		c := component{Type: "library", BOMRef: purl(m.Path, m.Version), Name: m.Path, Version: m.Version, PURL: purl(m.Path, m.Version)}
		if m.Sum != "" {
			c.Properties = append(c.Properties, property{"go.sum", m.Sum})
		}
		b.Components = append(b.Components, c)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(b)
}

// purl is the package URL of a Go module (github.com/package-url/purl-spec,
// type golang).
func purl(path, version string) string {
	if version == "" || version == "(devel)" {
		return "pkg:golang/" + path
	}
	return "pkg:golang/" + path + "@" + version
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
