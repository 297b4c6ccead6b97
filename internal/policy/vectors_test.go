package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// vector is one known-answer case from testdata/vectors/*.json.
type vector struct {
	Name     string          `json:"name"`
	Policies []vectorPolicy  `json:"policies"`
	Session  *[]vectorPolicy `json:"session"` // present (even empty): the request has a session
	Request  struct {
		Action    string `json:"action"`
		Resource  string `json:"resource"`
		Principal *struct {
			AWS        []string `json:"aws"`
			Account    string   `json:"account"`
			SessionARN string   `json:"sessionArn"`
			Federated  string   `json:"federated"`
			Service    string   `json:"service"`
		} `json:"principal"`
		Context map[string][]string `json:"context"`
	} `json:"request"`
	Expect string `json:"expect"` // "Allow", "ExplicitDeny" or "ImplicitDeny"
}

type vectorPolicy struct {
	Kind string          `json:"kind"` // "identity" (default), "resource" or "trust"
	Doc  json.RawMessage `json:"doc"`  // the policy document, as an object or a string
}

func (vp vectorPolicy) kind(tb testing.TB) Kind {
	switch vp.Kind {
	case "", "identity":
		return KindIdentity
	case "resource":
		return KindResource
	case "trust":
		return KindTrust
	}
	tb.Fatalf("unknown kind %q", vp.Kind)
	return 0
}

// doc returns the policy document bytes: a JSON string is unquoted, an object kept as is.
func (vp vectorPolicy) doc() []byte {
	var s string
	if err := json.Unmarshal(vp.Doc, &s); err == nil {
		return []byte(s)
	}
	return vp.Doc
}

// forEachVector runs fn in parallel for every vector in testdata/vectors.
func forEachVector(t *testing.T, fn func(t *testing.T, v *vector)) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "vectors", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("found %d vectors, want at least 40", len(files))
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		v := new(vector)
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if v.Name == "" {
			t.Fatalf("%s: no name", file)
		}
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, v)
		})
	}
}

// vectorDocs returns every policy document of the vectors, with its kind (fuzz seeds).
func vectorDocs(t testing.TB) (docs [][]byte, kinds []Kind) {
	files, _ := filepath.Glob(filepath.Join("testdata", "vectors", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var v vector
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		all := v.Policies
		if v.Session != nil {
			all = append(all, *v.Session...)
		}
		for _, p := range all {
			docs = append(docs, p.doc())
			kinds = append(kinds, p.kind(t))
		}
	}
	return docs, kinds
}

func TestVectors(t *testing.T) {
	forEachVector(t, func(t *testing.T, v *vector) {
		var in Input
		for i, vp := range v.Policies {
			p, err := Parse(vp.doc(), vp.kind(t))
			if err != nil {
				t.Fatalf("policies[%d]: %v", i, err)
			}
			l := Labeled{ID: "policies[" + strconv.Itoa(i) + "]", Policy: p}
			if p.Kind() == KindIdentity {
				in.Identity = append(in.Identity, l)
			} else {
				in.Resource = append(in.Resource, l)
			}
		}
		if v.Session != nil {
			in.HasSession = true
			for i, vp := range *v.Session {
				p, err := Parse(vp.doc(), KindIdentity)
				if err != nil {
					t.Fatalf("session[%d]: %v", i, err)
				}
				in.Session = append(in.Session, Labeled{ID: "session[" + strconv.Itoa(i) + "]", Policy: p})
			}
		}
		req := &Request{Action: v.Request.Action, Resource: v.Request.Resource, Context: v.Request.Context}
		if rp := v.Request.Principal; rp != nil {
			req.Principal = &Principal{AWS: rp.AWS, Account: rp.Account, SessionARN: rp.SessionARN, Federated: rp.Federated, Service: rp.Service}
		}
		r := Authorize(req, in)
		var got string
		switch r.Decision {
		case Allow:
			got = "Allow"
		case ExplicitDeny:
			got = "ExplicitDeny"
		default:
			got = "ImplicitDeny"
		}
		if got != v.Expect {
			t.Errorf("Authorize() = %s, want %s (matched %+v)", got, v.Expect, r.Matched)
		}
		// The policies must also survive Marshal → Parse unchanged in meaning.
		for _, set := range [][]Labeled{in.Identity, in.Session, in.Resource} {
			for i := range set {
				again, err := Parse(set[i].Policy.Marshal(), set[i].Policy.Kind())
				if err != nil {
					t.Fatalf("Parse(Marshal()) error: %v", err)
				}
				set[i].Policy = again
			}
		}
		if r2 := Authorize(req, in); r2.Decision != r.Decision {
			t.Errorf("after Marshal → Parse: Authorize() = %v, want %v", r2.Decision, r.Decision)
		}
	})
}
