package awsapi

import (
	"bytes"
	"encoding/xml"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestEncodeQuery(t *testing.T) {
	type user struct {
		UserName string `xml:"UserName"`
	}
	type result struct {
		Users       Members[user] `xml:"Users"`
		Empty       Members[user] `xml:"Empty"`
		IsTruncated bool          `xml:"IsTruncated"`
		When        Time          `xml:"When"`
	}
	out, err := EncodeQuery(NamespaceIAM, "ListUsers", &result{
		Users: Members[user]{{"a<b"}, {"c"}},
		When:  Time(time.Date(2026, 11, 25, 19, 30, 5, 123, time.FixedZone("x", 3600))),
	}, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult>` +
		`<Users><member><UserName>a&lt;b</UserName></member><member><UserName>c</UserName></member></Users>` +
		`<Empty></Empty><IsTruncated>false</IsTruncated><When>2026-11-25T18:30:05Z</When></ListUsersResult>` +
		`<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></ListUsersResponse>`
	if string(out) != want {
		t.Errorf("EncodeQuery() =\n%s\nwant\n%s", out, want)
	}
}

func TestWriteQueryError(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteQueryError(rec, NamespaceSTS, Errorf(CodeAccessDenied, "User: x is <not> authorized"), "rid")
	if rec.Code != 403 {
		t.Errorf("status = %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{"<Type>Sender</Type>", "<Code>AccessDenied</Code>", "User: x is &lt;not&gt; authorized", "<RequestId>rid</RequestId>"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func TestWireTableComplete(t *testing.T) {
	for c := CodeInternal; c <= CodePublicPolicy; c++ {
		if _, ok := wire[c]; !ok {
			t.Errorf("code %d has no wire spelling", c)
		}
	}
	e := &Error{Code: Code(9999)}
	if e.QueryCode() != "InternalFailure" || e.Status() != 500 {
		t.Errorf("unknown code spelled %s/%d", e.QueryCode(), e.Status())
	}
}

func TestWriteJSONError(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteJSONError(rec, Errorf(CodeSignatureDoesNotMatch, "nope"), MessageKeyLower)
	if rec.Code != 400 || rec.Body.String() != `{"__type":"InvalidSignatureException","message":"nope"}` {
		t.Errorf("got %d %s", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	WriteJSONError(rec, Errorf(CodeResourceNotFound, `a "quoted" name`), MessageKeyUpper)
	if rec.Code != 400 || rec.Body.String() != `{"__type":"ResourceNotFoundException","Message":"a \"quoted\" name"}` {
		t.Errorf("got %d %s", rec.Code, rec.Body.String())
	}
}

// AppendElement writes what encoding/xml writes for a string member.
func FuzzAppendElement(f *testing.F) {
	for _, s := range []string{"", "plain", `a<b>&"c'`, "tab\tnew\nline\r", "é✓", "\x00\xff\xfe", "]]>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		if err := xml.NewEncoder(&want).Encode(struct {
			XMLName xml.Name `xml:"X"`
			V       string   `xml:"V"`
		}{V: s}); err != nil {
			t.Skip()
		}
		got := "<X>" + string(AppendElement(nil, "V", s)) + "</X>"
		if got != want.String() {
			t.Fatalf("AppendElement(%q) = %s, encoding/xml %s", s, got, want.String())
		}
	})
}
