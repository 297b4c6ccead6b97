package server

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The shape of a response is the set of its members, as paths ("a.b",
// "a[].c" for the members of a list's elements, "m.*" for the values of a
// map keyed by data), each with the kind of its value:
//
//	JSON: s (string), n (number), b (boolean), uuid, {} (object), [] (list),
//	      time (epoch seconds, at most millisecond precision), day (epoch
//	      seconds of a midnight UTC: LastAccessedDate);
//	XML:  s, int, bool, uuid, date (ISO 8601 to the second in UTC, "Z"),
//	      empty (an element with no content), {} (an element with children).
//
// An empty list is a list member without element members.

var (
	reShapeUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	reShapeDate = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	reShapeInt  = regexp.MustCompile(`^-?\d+$`)
)

// shapeMaps are the JSON members whose keys are data (version ids).
var shapeMaps = map[string]bool{"VersionIdsToStages": true, "SecretVersionsToStages": true}

func jsonShape(t *testing.T, body string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, body)
	}
	set := map[string]bool{}
	var walk func(path, key string, v any)
	walk = func(path, key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if path != "" {
				set[path+":{}"] = true
			}
			for k, c := range v {
				name := k
				if shapeMaps[key] {
					name = "*"
				}
				p := name
				if path != "" {
					p = path + "." + name
				}
				walk(p, k, c)
			}
		case []any:
			set[path+":[]"] = true
			for _, c := range v {
				walk(path+"[]", key, c)
			}
		case string:
			kind := "s"
			if reShapeUUID.MatchString(v) {
				kind = "uuid"
			}
			set[path+":"+kind] = true
		case bool:
			set[path+":b"] = true
		case json.Number:
			set[path+":"+jsonNumberKind(t, key, v)] = true
		default:
			t.Errorf("%s: unexpected JSON value %v", path, v)
		}
	}
	walk("", "", doc)
	return slices.Sorted(maps.Keys(set))
}

// jsonNumberKind tells a timestamp (a member named …Date) from a number.
func jsonNumberKind(t *testing.T, key string, n json.Number) string {
	if !strings.HasSuffix(key, "Date") {
		return "n"
	}
	s := n.String()
	if _, frac, ok := strings.Cut(s, "."); ok && len(frac) > 3 {
		t.Errorf("%s = %s: more than millisecond precision", key, s)
	}
	f, err := n.Float64()
	if err != nil || f < 1e9 || f > 1e10 {
		t.Errorf("%s = %s: not epoch seconds", key, s)
	}
	if math.Mod(f, 86400) == 0 {
		return "day"
	}
	return "time"
}

func xmlShape(t *testing.T, body string) []string {
	t.Helper()
	set := map[string]bool{}
	dec := xml.NewDecoder(strings.NewReader(body))
	type frame struct {
		path     string
		text     bytes.Buffer
		children bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("response is not XML: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			// Paths start below the result element: the document
			// element (XResponse) and XResult are the same in every
			// answer and not recorded.
			name := tok.Name.Local
			path := ""
			switch n := len(stack); {
			case n == 0:
			case n == 1 && name == stack[0].path+"Result":
			default:
				parent := stack[n-1]
				parent.children = true
				switch {
				case name == "member":
					path = parent.path + "[]"
					set[parent.path+":[]"] = true
				case parent.path == "" || n == 1:
					path = name
				default:
					path = parent.path + "." + name
				}
			}
			if len(stack) == 0 {
				path = strings.TrimSuffix(name, "Response")
			}
			stack = append(stack, &frame{path: path})
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(tok)
			}
		case xml.EndElement:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if len(stack) == 0 || f.path == "" {
				continue // the document and result elements
			}
			text := strings.TrimSpace(f.text.String())
			var kind string
			switch {
			case f.children:
				if set[f.path+":[]"] {
					continue
				}
				kind = "{}"
			case text == "":
				kind = "empty"
			case text == "true" || text == "false":
				kind = "bool"
			case reShapeUUID.MatchString(text):
				kind = "uuid"
			case reShapeDate.MatchString(text):
				kind = "date"
			case reShapeInt.MatchString(text):
				kind = "int"
			default:
				kind = "s"
			}
			set[f.path+":"+kind] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// shapeStep is one call of TestResponseShapes: a Query call (params) or a
// Secrets Manager call (op, body), made as the credentials named as (the
// admin's by default), whose response must succeed and have the shape
// recorded under its name in shapeWants.
type shapeStep struct {
	name   string
	as     string
	params []string // Query: Action, …
	op     string   // Secrets Manager
	body   string
	save   string // keep the Credentials of the response under this name
	match  string // a regular expression the body must match
}

const (
	shapeTok1 = "11111111-1111-4111-8111-111111111111"
	shapeTok2 = "22222222-2222-4222-8222-222222222222"
	shapeTok3 = "33333333-3333-4333-8333-333333333333"
)

// TestResponseShapes drives every kind of answer of the implemented
// operations through the wire and compares the members present, and the
// format of their values, with what AWS answers (botocore's service models
// and examples, the API references, responses recorded from AWS): which
// optional members are sent or left out, empty lists, timestamps.
func TestResponseShapes(t *testing.T) {
	b := newSMBroker(t)
	creds := map[string]aws.Credentials{"admin": b.admin}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`
	rp := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	rpJSON, _ := json.Marshal(rp)
	pol := "arn:aws:iam::123456789012:policy/"
	for _, st := range shapeSteps(trust, doc, string(rpJSON), pol) {
		c, ok := creds[st.as]
		if st.as == "" {
			c, ok = creds["admin"]
		}
		if !ok {
			t.Fatalf("%s: no credentials %q", st.name, st.as)
		}
		var status int
		var body string
		var got []string
		for i := range st.params {
			if st.params[i] == "ADMINKEY" {
				st.params[i] = b.admin.AccessKeyID
			}
		}
		if st.op != "" {
			resp := signedPost(t, b.url, c, st.body, "secretsmanager", "us-east-1", time.Now(),
				http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"secretsmanager." + st.op}})
			status, body = resp.status, resp.body
			if status == 200 {
				got = jsonShape(t, body)
			}
		} else {
			v := url.Values{"Version": {"2010-05-08"}}
			service := "iam"
			for i := 0; i+1 < len(st.params); i += 2 {
				v.Set(st.params[i], st.params[i+1])
			}
			if strings.HasPrefix(st.name, "sts/") {
				service = "sts"
				v.Set("Version", "2011-06-15")
			}
			resp := signedPost(t, b.url, c, v.Encode(), service, "us-east-1", time.Now(),
				http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}})
			status, body = resp.status, resp.body
			if status == 200 {
				got = xmlShape(t, body)
			}
			if st.save != "" && status == 200 {
				field := func(name string) string {
					m := regexp.MustCompile("<" + name + ">([^<]*)</" + name + ">").FindStringSubmatch(body)
					if m == nil {
						t.Fatalf("%s: no %s in %s", st.name, name, body)
					}
					return m[1]
				}
				creds[st.save] = aws.Credentials{AccessKeyID: field("AccessKeyId"), SecretAccessKey: field("SecretAccessKey"), SessionToken: field("SessionToken")}
			}
		}
		if status != 200 {
			t.Fatalf("%s: %d %s", st.name, status, body)
		}
		if st.match != "" && !regexp.MustCompile(st.match).MatchString(body) {
			t.Errorf("%s: body does not match %s\n%s", st.name, st.match, body)
		}
		want, ok := shapeWants[st.name]
		if !ok {
			t.Errorf("%s: no recorded shape; got %s", st.name, quoteAll(got))
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: shape differs\n  missing: %v\n  extra:   %v\n  got: %s", st.name, missing(want, got), missing(got, want), quoteAll(got))
		}
	}
}

func missing(want, got []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, w)
		}
	}
	return out
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return "{" + strings.Join(q, ", ") + "}"
}
