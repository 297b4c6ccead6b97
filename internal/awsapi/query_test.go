package awsapi

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantCode Code
		check    func(t *testing.T, p *Params)
	}{
		{name: "ok/empty", in: ""},
		{name: "ok/simple", in: "Action=GetCallerIdentity&Version=2011-06-15", check: func(t *testing.T, p *Params) {
			if p.String("Action") != "GetCallerIdentity" || p.String("Version") != "2011-06-15" {
				t.Errorf("got %v", p.values)
			}
		}},
		{name: "ok/escapes", in: "Policy=%7B%22a%22%3A+1%7D", check: func(t *testing.T, p *Params) {
			if got := p.String("Policy"); got != `{"a": 1}` {
				t.Errorf("Policy = %q", got)
			}
		}},
		{name: "ok/key-without-value", in: "Marker&Action=X", check: func(t *testing.T, p *Params) {
			if !p.Has("Marker") || p.String("Marker") != "" {
				t.Errorf("Marker not present and empty")
			}
		}},
		{name: "ok/lists-in-index-order", in: "A.member.2=b&A.member.10=c&A.member.1=a", check: func(t *testing.T, p *Params) {
			if got := p.Strings("A"); !slices.Equal(got, []string{"a", "b", "c"}) {
				t.Errorf("Strings = %v", got)
			}
		}},
		{name: "ok/tags", in: "Tags.member.1.Key=k1&Tags.member.1.Value=v1&Tags.member.2.Key=k2&Tags.member.2.Value=", check: func(t *testing.T, p *Params) {
			got := p.Tags("Tags")
			if len(got) != 2 || got[0] != (Tag{"k1", "v1"}) || got[1] != (Tag{"k2", ""}) {
				t.Errorf("Tags = %v", got)
			}
		}},
		{name: "ok/members-ignore-non-canonical-index", in: "A.member.01=x&A.member.1=y&A.member.-1=z", check: func(t *testing.T, p *Params) {
			if got := p.Strings("A"); !slices.Equal(got, []string{"y"}) {
				t.Errorf("Strings = %v", got)
			}
		}},
		{name: "fail/duplicate-key", in: "Action=A&Action=B", wantCode: CodeMalformedQueryString},
		{name: "fail/duplicate-after-decoding", in: "Action=A&Act%69on=B", wantCode: CodeMalformedQueryString},
		{name: "fail/bad-escape", in: "Action=%zz", wantCode: CodeMalformedQueryString},
		{name: "fail/invalid-utf8", in: "Action=%ff", wantCode: CodeMalformedQueryString},
		{name: "fail/empty-name", in: "=x", wantCode: CodeMalformedQueryString},
		{name: "fail/too-many", in: strings.Repeat("a=1&", 1) + manyParams(MaxQueryParams+1), wantCode: CodeValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseQuery(tt.in)
			if refused(t, "ParseQuery", err, tt.wantCode) {
				return
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

func TestParseForm(t *testing.T) {
	tests := []struct {
		name, query, body string
		wantCode          Code
		want              map[string]string
	}{
		{name: "ok/body-only", body: "Action=GetCallerIdentity&Version=2011-06-15",
			want: map[string]string{"Action": "GetCallerIdentity", "Version": "2011-06-15"}},
		{name: "ok/query-only", query: "Action=GetCallerIdentity&Version=2011-06-15",
			want: map[string]string{"Action": "GetCallerIdentity", "Version": "2011-06-15"}},
		{name: "ok/action-in-query-rest-in-body", query: "Action=GetUser&Version=2010-05-08", body: "UserName=bob",
			want: map[string]string{"Action": "GetUser", "Version": "2010-05-08", "UserName": "bob"}},
		{name: "fail/same-key-in-both", query: "Action=GetUser", body: "Action=DeleteUser", wantCode: CodeMalformedQueryString},
		{name: "fail/bad-escape-in-query", query: "Action=%zz", body: "Version=2010-05-08", wantCode: CodeMalformedQueryString},
		{name: "fail/too-many-together", query: manyParams(MaxQueryParams / 2), body: strings.ReplaceAll("&"+manyParams(MaxQueryParams/2+1), "&k", "&b")[1:], wantCode: CodeValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseForm(tt.query, tt.body)
			if refused(t, "ParseForm", err, tt.wantCode) {
				return
			}
			if len(p.values) != len(tt.want) {
				t.Errorf("parameters = %v, want %v", p.values, tt.want)
			}
			for k, v := range tt.want {
				if got, ok := p.Lookup(k); !ok || got != v {
					t.Errorf("%s = %q (given %v), want %q", k, got, ok, v)
				}
			}
		})
	}
}

func manyParams(n int) string {
	v := url.Values{}
	for i := range n {
		v.Set("k"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+url.QueryEscape(string(rune('0'+i/26%10)))+strings.Repeat("y", i/260), "v")
	}
	return v.Encode()
}

func TestParamsInt(t *testing.T) {
	p, err := ParseQuery("D=900&Bad=x&Low=1")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := p.Int("D", 0, 900, 3600); err != nil || n != 900 {
		t.Errorf("Int(D) = %d, %v", n, err)
	}
	if n, err := p.Int("Missing", 42, 0, 100); err != nil || n != 42 {
		t.Errorf("Int(Missing) = %d, %v", n, err)
	}
	for _, name := range []string{"Bad", "Low"} {
		if _, err := p.Int(name, 0, 900, 3600); err == nil {
			t.Errorf("Int(%s) accepted", name)
		}
	}
}

func TestRequired(t *testing.T) {
	p, _ := ParseQuery("A=&B=x")
	if _, err := p.Required("A"); err == nil {
		t.Error("empty value accepted as present")
	}
	if v, err := p.Required("B"); err != nil || v != "x" {
		t.Errorf("Required(B) = %q, %v", v, err)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"Action=GetCallerIdentity&Version=2011-06-15", "A.member.1=x&A.member.2=y", "Tags.member.1.Key=k", "%", "a=%zz", "&&&=", "a=1&a=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseQuery(s)
		if err != nil {
			return
		}
		// Re-encoding and parsing again yields the same parameters.
		v := url.Values{}
		for k, val := range p.values {
			v.Set(k, val)
		}
		p2, err := ParseQuery(v.Encode())
		if err != nil {
			t.Fatalf("re-encoded form does not parse: %v", err)
		}
		if len(p2.values) != len(p.values) {
			t.Fatalf("round trip changed the parameter count")
		}
		for k, val := range p.values {
			if p2.values[k] != val {
				t.Fatalf("round trip changed %q", k)
			}
		}
		_ = p.Strings("A")
		_ = p.Tags("Tags")
	})
}

// refused reports whether want is a code: then err, the error of call,
// must carry it. Otherwise err must be nil. Either way a wrong err fails t.
func refused(t *testing.T, call string, err error, want Code) bool {
	t.Helper()
	if want != 0 {
		var we *Error
		if !errors.As(err, &we) || we.Code != want {
			t.Fatalf("%s() error = %v, want code %v", call, err, want)
		}
		return true
	}
	if err != nil {
		t.Fatalf("%s() error = %v", call, err)
	}
	return false
}
