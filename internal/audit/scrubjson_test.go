package audit

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// scrubDecoded is what ScrubJSON replaces: a json.Decoder with UseNumber into a map, then
// Scrub.
func scrubDecoded(r *Redactor, b []byte) (map[string]any, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return r.Scrub(m), nil
}

var scrubJSONSeeds = []string{
	`{}`, `null`, `null x`, `nullx`, ` {"a":1} trailing`, `{"a":1`, `[1]`, `"s"`, `1`, ``, ` `,
	`{"SecretString":"hunter2","Name":"x"}`,
	`{"Credentials":{"SessionToken":"tok","SecretAccessKey":"k","AccessKeyId":"ASIA"},"PackedPolicySize":6}`,
	`{"sessiontoken":{"nested":[1,2]},"list":[{"Password":"p"},{"password":["a"]}]}`,
	`{"a":"\u00e9\ud83d\ude00\n\"","b":"\xff\xfe","c":"é"}`,
	`{"n":[-0,0.5,1e10,-1.5E-3,12345678901234567890],"t":true,"f":false,"z":null}`,
	`{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":tru}`, `{"a":"x` + "\x01" + `"}`, `{"a":"\q"}`,
	`{"dup":1,"dup":2}`, `{"k" : [ 1 , { } , [ ] ] }`, "\ufeff{}",
}

func TestScrubJSONMatchesDecodeAndScrub(t *testing.T) {
	r := NewRedactor([]byte(strings.Repeat("k", 32)))
	for _, s := range scrubJSONSeeds {
		checkScrubJSON(t, r, []byte(s))
	}
	deep := strings.Repeat(`{"a":`, maxJSONDepth+1) + "1" + strings.Repeat("}", maxJSONDepth+1)
	checkScrubJSON(t, r, []byte(deep))
}

func FuzzScrubJSON(f *testing.F) {
	for _, s := range scrubJSONSeeds {
		f.Add([]byte(s))
	}
	r := NewRedactor([]byte(strings.Repeat("k", 32)))
	f.Fuzz(func(t *testing.T, b []byte) { checkScrubJSON(t, r, b) })
}

func checkScrubJSON(t *testing.T, r *Redactor, b []byte) {
	t.Helper()
	want, werr := scrubDecoded(r, b)
	got, gerr := r.ScrubJSON(b)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("ScrubJSON(%q) error = %v; the decoder's = %v", b, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("ScrubJSON(%q) = %#v; want %#v", b, got, want)
	}
}
