package awsapi

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type testFilter struct {
	Key    *string  `json:"Key,omitempty"`
	Values []string `json:"Values,omitempty"`
}

type testEmbedded struct {
	NextToken *string `json:"NextToken,omitempty"`
}

type testInput struct {
	SecretId     *string           `json:"SecretId,omitempty"`
	MaxResults   *int32            `json:"MaxResults,omitempty"`
	Force        *bool             `json:"ForceDeleteWithoutRecovery,omitempty"`
	SecretBinary []byte            `json:"SecretBinary,omitempty"`
	Filters      []testFilter      `json:"Filters,omitempty"`
	Stages       map[string]string `json:"Stages,omitempty"`
	Free         any               `json:"Free,omitempty"`
	Raw          json.RawMessage   `json:"Raw,omitempty"`
	Window       *int64            `json:"RecoveryWindowInDays,omitempty"`
	Ignored      string            `json:"-"`
	testEmbedded
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		aws      bool // decode with DecodeAWSJSON
		wantCode Code // 0 with wantErr false: success
		wantErr  bool
		check    func(t *testing.T, v *testInput)
	}{
		{name: "ok/empty-body", in: ""},
		{name: "ok/whitespace-body", in: " \n\t"},
		{name: "ok/empty-object", in: "{}"},
		{name: "ok/all-members", in: `{"SecretId":"/prod/x","MaxResults":10,"ForceDeleteWithoutRecovery":true,"SecretBinary":"AAE=","Filters":[{"Key":"name","Values":["a","!b"]}],"Stages":{"a":"b"},"Free":{"x":[1,{"y":null}]},"Raw":[1,2],"RecoveryWindowInDays":7,"NextToken":"t"}`,
			check: func(t *testing.T, v *testInput) {
				if *v.SecretId != "/prod/x" || *v.MaxResults != 10 || !*v.Force || string(v.SecretBinary) != "\x00\x01" ||
					*v.Filters[0].Key != "name" || v.Filters[0].Values[1] != "!b" || v.Stages["a"] != "b" || *v.Window != 7 || *v.NextToken != "t" {
					t.Errorf("decoded %+v", v)
				}
			}},
		{name: "ok/null-members", in: `{"SecretId":null,"Filters":null,"MaxResults":null}`, check: func(t *testing.T, v *testInput) {
			if v.SecretId != nil || v.Filters != nil || v.MaxResults != nil {
				t.Errorf("null members set: %+v", v)
			}
		}},
		{name: "ok/escapes-in-key", in: `{"\u0053ecretId":"a\u00e9\ud83d\ude00\n"}`, check: func(t *testing.T, v *testInput) {
			if *v.SecretId != "aé😀\n" {
				t.Errorf("SecretId = %q", *v.SecretId)
			}
		}},
		{name: "ok/numbers", in: `{"MaxResults":-0,"RecoveryWindowInDays":30,"Free":[1.5e3,-2E-1,0.0]}`},
		{name: "ok/trailing-whitespace", in: "{} \r\n"},

		{name: "fail/duplicate-top", in: `{"SecretId":"a","SecretId":"b"}`, wantCode: CodeSerialization},
		{name: "fail/duplicate-escaped", in: `{"SecretId":"a","\u0053ecretId":"b"}`, wantCode: CodeSerialization},
		{name: "fail/duplicate-nested", in: `{"Filters":[{"Key":"name","Key":"tag-key"}]}`, wantCode: CodeSerialization},
		{name: "fail/duplicate-in-map", in: `{"Stages":{"a":"1","a":"2"}}`, wantCode: CodeSerialization},
		{name: "fail/duplicate-in-free-form", in: `{"Free":{"x":{"y":1,"y":2}}}`, wantCode: CodeSerialization},
		{name: "fail/duplicate-in-raw", in: `{"Raw":{"y":1,"y":2}}`, wantCode: CodeSerialization},
		{name: "fail/unknown-member", in: `{"SecretID2":"a"}`, wantCode: CodeValidation},
		{name: "fail/wrong-case", in: `{"secretid":"a"}`, wantCode: CodeValidation},
		{name: "fail/wrong-case-nested", in: `{"Filters":[{"key":"name"}]}`, wantCode: CodeValidation},
		{name: "fail/dash-member", in: `{"Ignored":"x"}`, wantCode: CodeValidation},

		// DecodeAWSJSON: members the struct does not have are ignored, but
		// only those.
		{name: "ok/aws-unknown-member-ignored", aws: true, in: `{"SecretId":"a","CrossAccountPrimaryARN":"arn:x"}`, check: func(t *testing.T, v *testInput) {
			if *v.SecretId != "a" {
				t.Errorf("SecretId = %q", *v.SecretId)
			}
		}},
		{name: "ok/aws-unknown-nested-member-ignored", aws: true, in: `{"Filters":[{"Key":"name","Future":{"a":[1,true,null]}}]}`},
		{name: "ok/aws-dash-member-ignored", aws: true, in: `{"Ignored":"x"}`, check: func(t *testing.T, v *testInput) {
			if v.Ignored != "" {
				t.Errorf("a json:\"-\" field was set: %q", v.Ignored)
			}
		}},
		{name: "fail/aws-wrong-case", aws: true, in: `{"secretid":"a"}`, wantCode: CodeValidation},
		{name: "fail/aws-wrong-case-nested", aws: true, in: `{"Filters":[{"key":"name"}]}`, wantCode: CodeValidation},
		{name: "fail/aws-unknown-member-duplicate", aws: true, in: `{"Future":1,"Future":2}`, wantCode: CodeSerialization},
		{name: "fail/aws-unknown-member-duplicate-inside", aws: true, in: `{"Future":{"a":1,"a":2}}`, wantCode: CodeSerialization},
		{name: "fail/aws-unknown-member-bad-json", aws: true, in: `{"Future":tru}`, wantCode: CodeSerialization},
		{name: "fail/aws-unknown-member-bad-utf16", aws: true, in: `{"Future":"\ud800"}`, wantCode: CodeSerialization},
		{name: "fail/aws-trailing-data", aws: true, in: `{"Future":1}{}`, wantCode: CodeSerialization},
		{name: "fail/aws-wrong-type", aws: true, in: `{"MaxResults":"10","Future":1}`, wantCode: CodeSerialization},
		{name: "fail/trailing-data", in: `{}{}`, wantCode: CodeSerialization},
		{name: "fail/trailing-garbage", in: `{"SecretId":"a"} x`, wantCode: CodeSerialization},
		{name: "fail/invalid-utf8-raw", in: "{\"SecretId\":\"\xff\"}", wantCode: CodeSerialization},
		{name: "fail/invalid-utf8-outside-string", in: "{}\xff", wantCode: CodeSerialization},
		{name: "fail/lone-high-surrogate", in: `{"SecretId":"\ud800"}`, wantCode: CodeSerialization},
		{name: "fail/lone-low-surrogate", in: `{"SecretId":"\udc00x"}`, wantCode: CodeSerialization},
		{name: "fail/high-then-non-low", in: `{"SecretId":"\ud800\u0041"}`, wantCode: CodeSerialization},
		{name: "fail/control-char", in: "{\"SecretId\":\"a\x01\"}", wantCode: CodeSerialization},
		{name: "fail/bad-escape", in: `{"SecretId":"\x"}`, wantCode: CodeSerialization},
		{name: "fail/not-object", in: `[]`, wantCode: CodeSerialization},
		{name: "fail/null-body", in: `null`, wantCode: CodeSerialization},
		{name: "fail/string-for-number", in: `{"MaxResults":"10"}`, wantCode: CodeSerialization},
		{name: "fail/number-for-string", in: `{"SecretId":1}`, wantCode: CodeSerialization},
		{name: "fail/float-for-int", in: `{"MaxResults":1.5}`, wantCode: CodeSerialization},
		{name: "fail/int-out-of-range", in: `{"MaxResults":4294967296}`, wantCode: CodeSerialization},
		{name: "fail/object-for-list", in: `{"Filters":{}}`, wantCode: CodeSerialization},
		{name: "fail/list-for-blob", in: `{"SecretBinary":[1]}`, wantCode: CodeSerialization},
		{name: "fail/bad-base64", in: `{"SecretBinary":"!!"}`, wantCode: CodeSerialization},
		{name: "fail/bool-for-string", in: `{"SecretId":true}`, wantCode: CodeSerialization},
		{name: "fail/leading-zero", in: `{"MaxResults":01}`, wantCode: CodeSerialization},
		{name: "fail/plus-number", in: `{"MaxResults":+1}`, wantCode: CodeSerialization},
		{name: "fail/unterminated", in: `{"SecretId":"a"`, wantCode: CodeSerialization},
		{name: "fail/trailing-comma", in: `{"SecretId":"a",}`, wantCode: CodeSerialization},
		{name: "fail/single-quotes", in: `{'SecretId':'a'}`, wantCode: CodeSerialization},
		{name: "fail/bad-literal", in: `{"ForceDeleteWithoutRecovery":tru}`, wantCode: CodeSerialization},
		{name: "fail/too-deep", in: `{"Free":` + strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1) + `}`, wantCode: CodeSerialization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v testInput
			decode := DecodeJSON
			if tt.aws {
				decode = DecodeAWSJSON
			}
			err := decode([]byte(tt.in), &v)
			wantErr := strings.HasPrefix(tt.name, "fail/")
			if !wantErr {
				if err != nil {
					t.Fatalf("DecodeJSON() = %v, want success", err)
				}
				if tt.check != nil {
					tt.check(t, &v)
				}
				return
			}
			var we *Error
			if !errors.As(err, &we) {
				t.Fatalf("DecodeJSON() = %v, want *Error", err)
			}
			if we.Code != tt.wantCode {
				t.Errorf("DecodeJSON() code = %s (%s), want %s", we.JSONCode(), we.Message, (&Error{Code: tt.wantCode}).JSONCode())
			}
		})
	}
}

// TestDecodeJSONNeverQuotesValues: error messages may name members but never
// repeat the values of the body, which may be secret.
func TestDecodeJSONNeverQuotesValues(t *testing.T) {
	const secret = "hunter2-very-secret"
	bodies := []string{
		`{"MaxResults":"` + secret + `"}`,
		`{"SecretBinary":"` + secret + `"}`,
		`{"SecretId":"` + secret + `\q"}`,
		`{"SecretId":"` + secret + `"} ` + secret,
		`{"SecretId":"` + secret + "\x01\"}",
		`{"SecretId":` + secret + `}`,
		`{"Filters":[{"Values":["` + secret + `"],"Values":[]}]}`,
	}
	for _, b := range bodies {
		var v testInput
		err := DecodeJSON([]byte(b), &v)
		if err == nil {
			t.Errorf("DecodeJSON(%q) succeeded", b)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("DecodeJSON(%q) error quotes the value: %v", b, err)
		}
	}
}

func TestDecodeJSONNeedsPointer(t *testing.T) {
	var v testInput
	if err := DecodeJSON([]byte("{}"), v); err == nil {
		t.Error("DecodeJSON(non-pointer) succeeded")
	}
	var we *Error
	if err := DecodeJSON([]byte("{}"), (*testInput)(nil)); err == nil || errors.As(err, &we) {
		t.Errorf("DecodeJSON(nil) = %v, want a non-wire error", err)
	}
}

// FuzzDecodeJSON: DecodeJSON and DecodeAWSJSON never panic; what either
// accepts, encoding/json accepts too and decodes the same way; DecodeAWSJSON
// accepts all DecodeJSON does; and a decoded value re-encoded decodes again
// to the same value.
func FuzzDecodeJSON(f *testing.F) {
	seeds := []string{
		"", "{}", `{"SecretId":"a"}`, `{"SecretId":"a","SecretId":"b"}`, `{"secretid":"a"}`,
		`{"Filters":[{"Key":"name","Values":["x","!y"]}],"MaxResults":3}`,
		`{"SecretBinary":"AAE="}`, `{"Free":{"a":[1,2,{"b":null}]}}`, `{"SecretId":"\ud83d\ude00"}`,
		`{"SecretId":"\ud800"}`, "{\"SecretId\":\"\xff\"}", `{} {}`, `{"Stages":{"x":"y"}}`,
		`{"RecoveryWindowInDays":7,"ForceDeleteWithoutRecovery":false}`, `{"MaxResults":1e2}`,
		`{"SecretId":"a","Future":{"x":[1,{"y":2}]}}`, `{"Filters":[{"Key":"name","Later":true}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var strict testInput
		strictErr := DecodeJSON(data, &strict)
		for _, mode := range []struct {
			name   string
			decode func([]byte, any) error
		}{{"DecodeJSON", DecodeJSON}, {"DecodeAWSJSON", DecodeAWSJSON}} {
			var v testInput
			err := mode.decode(data, &v)
			if err != nil {
				var we *Error
				if !errors.As(err, &we) {
					t.Fatalf("%s error is not *Error: %v", mode.name, err)
				}
				if strictErr == nil {
					t.Fatalf("%s refuses what DecodeJSON accepts: %v", mode.name, err)
				}
				continue
			}
			body := data
			if strings.TrimSpace(string(data)) == "" {
				body = []byte("{}")
			}
			if !json.Valid(body) {
				t.Fatalf("%s accepted what encoding/json finds invalid: %q", mode.name, data)
			}
			var std testInput
			if err := json.Unmarshal(body, &std); err != nil {
				t.Fatalf("encoding/json refuses what %s accepted: %v", mode.name, err)
			}
			if !reflect.DeepEqual(v, std) {
				t.Fatalf("%s and encoding/json disagree:\n%+v\n%+v", mode.name, v, std)
			}
			again, err := json.Marshal(&v)
			if err != nil {
				t.Fatal(err)
			}
			var v2 testInput
			if err := DecodeJSON(again, &v2); err != nil {
				t.Fatalf("re-encoded value does not decode: %v\n%s", err, again)
			}
			if !reflect.DeepEqual(normalize(v), normalize(v2)) {
				t.Fatalf("round trip changed the value:\n%+v\n%+v", v, v2)
			}
		}
	})
}

// normalize clears what a JSON round trip may legitimately change: free-form
// members (numbers become float64 either way, but RawMessage keeps its
// spacing) and empty slices/maps dropped by omitempty.
func normalize(v testInput) testInput {
	v.Raw = nil
	v.Free = nil
	if len(v.SecretBinary) == 0 {
		v.SecretBinary = nil
	}
	if len(v.Filters) == 0 {
		v.Filters = nil
	}
	for i := range v.Filters {
		if len(v.Filters[i].Values) == 0 {
			v.Filters[i].Values = nil
		}
	}
	if len(v.Stages) == 0 {
		v.Stages = nil
	}
	return v
}

// TestDecodeJSONUnknownMembersHook: the hook gets the path of every member
// ignored, and nothing for a request without one or one that is refused.
func TestDecodeJSONUnknownMembersHook(t *testing.T) {
	var got [][]string
	SetUnknownMembersHook(func(paths []string) { got = append(got, paths) })
	t.Cleanup(func() { SetUnknownMembersHook(nil) })

	var v testInput
	if err := DecodeAWSJSON([]byte(`{"SecretId":"a","PolicyName":"p","Filters":[{"Key":"k"},{"Key":"k","New\u0001":1}]}`), &v); err != nil {
		t.Fatal(err)
	}
	if err := DecodeAWSJSON([]byte(`{"SecretId":"a"}`), &v); err != nil {
		t.Fatal(err)
	}
	if err := DecodeAWSJSON([]byte(`{"Extra":1,"secretid":"a"}`), &v); err == nil {
		t.Fatal("a case variant of a member was accepted")
	}
	if err := DecodeJSON([]byte(`{"Extra":1}`), &v); err == nil {
		t.Fatal("DecodeJSON accepted an unknown member")
	}
	want := [][]string{{"PolicyName", "Filters[1].New?"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hook calls = %q, want %q", got, want)
	}
}
