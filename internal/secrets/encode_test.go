package secrets

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// sameAsEncodingJSON checks that appendJSON of r decodes exactly as encoding/json's
// output for r does.
func sameAsEncodingJSON(t *testing.T, r *secretRec) {
	t.Helper()
	r.normalize()
	got := r.appendJSON(nil)
	if !json.Valid(got) {
		t.Fatalf("appendJSON wrote invalid JSON: %q", got)
	}
	std, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	a, err := decodeRec(got)
	if err != nil {
		t.Fatalf("decode appendJSON: %v (%q)", err, got)
	}
	b, err := decodeRec(std)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("appendJSON decodes to %+v\nencoding/json to     %+v\n%s\n%s", a, b, got, std)
	}
}

func TestAppendJSON(t *testing.T) {
	now := time.Date(2026, 11, 25, 22, 51, 3, 123456789, time.UTC)
	cases := map[string]*secretRec{
		"minimal": {ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AbCdEf", Name: "a"},
		"full": {
			ARN: "arn:x", Name: "/prod/db", Description: "quote \" backslash \\ newline \n tab \t nul \x00 bell \x07 del \x7f <html> & é 中 \u2028",
			Created: now, Changed: now.Add(time.Second), Accessed: now.Truncate(24 * time.Hour), Deleted: now, DeleteAt: now.Add(7 * 24 * time.Hour),
			Tags:   []Tag{{"team", "red"}, {"k\"", "v\\"}, {"", ""}},
			Tagged: true,
			Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`,
			Versions: []versionRec{
				{ID: "0c1f9f0e-0000-4000-8000-000000000001", Created: now},
				{ID: "0c1f9f0e-0000-4000-8000-000000000002", Stages: []string{"AWSPREVIOUS"}, Created: now, Accessed: now},
				{ID: "0c1f9f0e-0000-4000-8000-000000000003", Stages: []string{"AWSCURRENT", "custom"}, Created: now, Binary: true},
			},
		},
		"invalid-utf8": {ARN: "arn:y", Name: "b", Description: "bad \xff\xfe end \xe2\x82"},
		"zero-times":   {ARN: "arn:z", Name: "c", Versions: []versionRec{{ID: "v"}}},
		"untagged":     {ARN: "arn:t", Name: "d", Tagged: true},
		"rotation": {ARN: "arn:r", Name: "e", Versions: []versionRec{{ID: "v"}}, Rotation: &Rotation{
			Enabled: true, AfterDays: 3, Schedule: "cron(0 8 1 * ? *)", Duration: "2h", LastRotated: now, Next: now.Add(time.Hour),
			ClaimedBy: "host/1", ClaimedAt: now, Failures: 2,
		}},
		"rotation-off": {ARN: "arn:s", Name: "f", Rotation: &Rotation{}},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) { sameAsEncodingJSON(t, r) })
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("desc", "policy", "key", "value", "AWSCURRENT", int64(0), true)
	f.Add("\x00\"\\\n\xff", "\u2028", "<", ">", "&", int64(-1), false)
	f.Fuzz(func(t *testing.T, desc, pol, tk, tv, stage string, ns int64, bin bool) {
		ts := time.Unix(0, ns).UTC()
		if ts.Year() < 1 || ts.Year() > 9999 {
			t.Skip()
		}
		r := &secretRec{ARN: "arn:" + tk, Name: tv, Description: desc, Created: ts, Changed: ts, Accessed: ts,
			Tags: []Tag{{tk, tv}}, Tagged: bin, Policy: pol,
			Versions: []versionRec{{ID: stage, Stages: []string{stage, desc}, Created: ts, Accessed: ts, Binary: bin}}}
		sameAsEncodingJSON(t, r)
	})
}

func BenchmarkEncodeRecord(b *testing.B) {
	now := time.Now().UTC()
	r := &secretRec{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:shortfuse-bench/x-AbCdEf", Name: "shortfuse-bench/x",
		Description: "fixture", Created: now, Changed: now}
	for i := range 50 {
		v := versionRec{ID: "0c1f9f0e-0000-4000-8000-0000000000" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Created: now}
		if i == 48 {
			v.Stages = []string{"AWSPREVIOUS"}
		}
		if i == 49 {
			v.Stages = []string{"AWSCURRENT"}
		}
		r.Versions = append(r.Versions, v)
	}
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("appendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = r.appendJSON(make([]byte, 0, 4096))
		}
	})
}
