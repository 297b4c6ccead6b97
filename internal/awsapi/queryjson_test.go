package awsapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestQueryFormatOf(t *testing.T) {
	tests := []struct {
		name   string
		accept []string
		want   QueryFormat
	}{
		{"ok/no-header", nil, QueryXML},
		{"ok/any", []string{"*/*"}, QueryXML},
		{"ok/xml", []string{"text/xml"}, QueryXML},
		{"ok/json", []string{"application/json"}, QueryJSON},
		{"ok/json-with-params", []string{"Application/JSON; charset=utf-8"}, QueryJSON},
		{"ok/json-in-list", []string{"text/html, application/json;q=0.9"}, QueryJSON},
		{"ok/json-second-header", []string{"text/plain", "application/json"}, QueryJSON},
		{"ok/json-lookalike", []string{"application/jsonx"}, QueryXML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.accept {
				h.Add("Accept", v)
			}
			if got := QueryFormatOf(h); got != tt.want {
				t.Errorf("QueryFormatOf(%q) = %v, want %v", tt.accept, got, tt.want)
			}
		})
	}
}

type qjTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type qjPage struct {
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

type qjResult struct {
	UserName string          `xml:"UserName"`
	Created  Time            `xml:"CreateDate"`
	Count    int             `xml:"Count"`
	Optional string          `xml:"Optional,omitempty"`
	Pointer  *qjTag          `xml:"Pointer,omitempty"`
	Tags     Members[qjTag]  `xml:"Tags"`
	Names    Members[string] `xml:"Names"`
	Empty    Members[string] `xml:"Empty"`
	Context  Entries         `xml:"Context"`
	LastUsed struct{}        `xml:"RoleLastUsed"`
	private  string          // not a member
	Skipped  string          `xml:"-"`
	qjPage
}

func TestQueryFormatEncodeJSON(t *testing.T) {
	res := &qjResult{
		UserName: `a"b`, Created: Time(time.Date(2026, 11, 25, 19, 30, 5, 0, time.UTC)), Count: 3,
		Tags: Members[qjTag]{{"k", "v"}}, Names: Members[string]{"x", "y"}, Empty: Members[string]{},
		Context: Entries{{"a", "1"}}, private: "p", Skipped: "s", qjPage: qjPage{IsTruncated: true},
	}
	out, err := QueryJSON.Encode(NamespaceIAM, "GetUser", res, "rid-1")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"GetUserResponse":{"GetUserResult":{"UserName":"a\"b","CreateDate":1795635005,"Count":3,` +
		`"Tags":[{"Key":"k","Value":"v"}],"Names":["x","y"],"Empty":[],"Context":{"a":"1"},"RoleLastUsed":{},"IsTruncated":true},` +
		`"ResponseMetadata":{"RequestId":"rid-1"}}}`
	if string(out) != want {
		t.Errorf("Encode() =\n%s\nwant\n%s", out, want)
	}
	if !json.Valid(out) {
		t.Error("not valid JSON")
	}

	out, err = QueryJSON.Encode(NamespaceIAM, "DeleteUser", nil, "rid-2")
	if err != nil || string(out) != `{"DeleteUserResponse":{"ResponseMetadata":{"RequestId":"rid-2"}}}` {
		t.Errorf("Encode(nil) = %s, %v", out, err)
	}

	xmlOut, err := QueryXML.Encode(NamespaceIAM, "DeleteUser", nil, "rid-2")
	if err != nil || xmlOut[0] != '<' {
		t.Errorf("QueryXML.Encode = %s, %v", xmlOut, err)
	}

	type nested struct {
		A string `xml:"A>B"`
	}
	if _, err := QueryJSON.Encode(NamespaceIAM, "X", &nested{}, "r"); err == nil {
		t.Error("a nested xml path was encoded; want an error")
	}
}

func TestQueryFormatWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	QueryJSON.Write(rec, []byte(`{}`))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("Write: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}

	rec = httptest.NewRecorder()
	QueryJSON.WriteError(rec, NamespaceSTS, Errorf(CodeInvalidClientTokenID, "The security token included in the request is invalid."), "rid")
	want := `{"Error":{"Code":"InvalidClientTokenId","Message":"The security token included in the request is invalid.","Type":"Sender"},"RequestId":"rid"}`
	if rec.Code != 403 || rec.Body.String() != want || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("WriteError = %d %q %s\nwant 403 %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), want)
	}

	rec = httptest.NewRecorder()
	QueryJSON.WriteError(rec, NamespaceSTS, Internal(), "rid")
	if rec.Code != 500 || !json.Valid(rec.Body.Bytes()) || !strings.Contains(rec.Body.String(), `"Type":"Receiver"`) {
		t.Errorf("WriteError(internal) = %d %s", rec.Code, rec.Body.String())
	}

	rec = httptest.NewRecorder()
	QueryXML.WriteError(rec, NamespaceSTS, Errorf(CodeAccessDenied, "no"), "rid")
	if rec.Header().Get("Content-Type") != "text/xml" || rec.Code != 403 {
		t.Errorf("QueryXML.WriteError: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}
