package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/store"
)

func TestValueRedacts(t *testing.T) {
	const secret = "hunter2-s3cr3t"
	for _, v := range []Value{StringValue(secret), BinaryValue([]byte(secret))} {
		holder := struct{ V Value }{v}
		for _, format := range []string{"%s", "%v", "%+v", "%#v", "%x", "%X", "%q", "%d"} {
			for _, arg := range []any{v, &v, holder, &holder} {
				if got := fmt.Sprintf(format, arg); strings.Contains(got, "hunter2") || strings.Contains(got, "68756e74657232") {
					t.Errorf("Sprintf(%q) = %q leaks the value", format, got)
				}
			}
		}
		if got := fmt.Errorf("wrapped: %v", v).Error(); strings.Contains(got, "hunter2") {
			t.Errorf("error text leaks: %q", got)
		}
		b, err := json.Marshal(holder)
		if err != nil || strings.Contains(string(b), "hunter2") || !strings.Contains(string(b), "[redacted]") {
			t.Errorf("json.Marshal = %s, %v", b, err)
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "value", v, "holder", holder)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "value", v, "holder", holder)
		if strings.Contains(buf.String(), "hunter2") {
			t.Errorf("slog leaks: %s", buf.String())
		}
		if string(v.Reveal()) != secret {
			t.Errorf("Reveal() = %q", v.Reveal())
		}
	}
	if !StringValue("a").Equal(StringValue("a")) || StringValue("a").Equal(BinaryValue([]byte("a"))) || StringValue("a").Equal(StringValue("b")) {
		t.Error("Equal is wrong")
	}
	if !(Value{}).IsZero() || StringValue("").IsZero() || BinaryValue(nil).IsZero() {
		t.Error("IsZero is wrong")
	}
}

func TestCreate(t *testing.T) {
	long := strings.Repeat("a", MaxNameLen)
	tests := []struct {
		name string
		in   CreateInput
		want error
	}{
		{"ok/name-only", CreateInput{Name: "/prod/exampleCredential"}, nil},
		{"ok/all-name-characters", CreateInput{Name: "aZ09/_+=.@-"}, nil},
		{"ok/longest-name", CreateInput{Name: long}, nil},
		{"ok/string-value", CreateInput{Name: "s", Value: StringValue("v")}, nil},
		{"ok/binary-value", CreateInput{Name: "b", Value: BinaryValue([]byte{0, 1, 2})}, nil},
		{"ok/largest-value", CreateInput{Name: "big", Value: StringValue(strings.Repeat("x", MaxValueSize))}, nil},
		{"ok/token", CreateInput{Name: "tok", Value: StringValue("v"), VersionID: token('a')}, nil},
		{"ok/tags", CreateInput{Name: "tagged", Tags: []Tag{{"team", "ci"}, {"env", ""}}}, nil},
		{"fail/empty-name", CreateInput{Name: ""}, ErrValidation},
		{"fail/long-name", CreateInput{Name: long + "a"}, ErrValidation},
		{"fail/name-space", CreateInput{Name: "a b"}, ErrValidation},
		{"fail/name-colon", CreateInput{Name: "a:b"}, ErrValidation},
		{"fail/name-unicode", CreateInput{Name: "caf\u00e9"}, ErrValidation},
		{"fail/value-too-large", CreateInput{Name: "x", Value: StringValue(strings.Repeat("x", MaxValueSize+1))}, ErrValidation},
		{"fail/empty-string", CreateInput{Name: "x", Value: StringValue("")}, ErrValidation},
		{"fail/empty-binary", CreateInput{Name: "x", Value: BinaryValue(nil)}, ErrValidation},
		{"fail/invalid-utf8-string", CreateInput{Name: "x", Value: StringValue("\xff")}, ErrValidation},
		{"fail/short-token", CreateInput{Name: "x", Value: StringValue("v"), VersionID: "abc"}, ErrValidation},
		{"fail/token-with-space", CreateInput{Name: "x", Value: StringValue("v"), VersionID: token('a')[:35] + " "}, ErrValidation},
		{"fail/long-description", CreateInput{Name: "x", Description: strings.Repeat("d", MaxDescriptionLen+1)}, ErrValidation},
		{"fail/reserved-tag", CreateInput{Name: "x", Tags: []Tag{{"aws:team", "x"}}}, ErrInvalidParameter},
		{"fail/duplicate-tag", CreateInput{Name: "x", Tags: []Tag{{"a", "1"}, {"a", "2"}}}, ErrInvalidParameter},
		{"fail/tag-character", CreateInput{Name: "x", Tags: []Tag{{"a\x00", "1"}}}, ErrInvalidParameter},
		{"fail/too-many-tags", CreateInput{Name: "x", Tags: manyTags(MaxTags + 1)}, ErrLimitExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			res, err := f.svc.Create(context.Background(), tt.in)
			wantKind(t, "Create()", err, tt.want)
			if err != nil {
				return
			}
			if !strings.HasPrefix(res.ARN, testPrefix+tt.in.Name+"-") || len(res.ARN) != len(testPrefix)+len(tt.in.Name)+7 {
				t.Errorf("ARN = %q", res.ARN)
			}
			if _, ok := cutSuffix(strings.TrimPrefix(res.ARN, testPrefix)); !ok {
				t.Errorf("ARN %q has no six-character suffix", res.ARN)
			}
			sec, err := f.svc.Describe(context.Background(), tt.in.Name)
			if err != nil {
				t.Fatal(err)
			}
			if tt.in.Value.IsZero() {
				if res.VersionID != "" || len(sec.Versions) != 0 {
					t.Errorf("secret without value has version %q / %v", res.VersionID, sec.Versions)
				}
				return
			}
			if len(res.VersionID) < MinVersionIDLen || (tt.in.VersionID != "" && res.VersionID != tt.in.VersionID) {
				t.Errorf("VersionID = %q", res.VersionID)
			}
			v, err := f.svc.GetValue(context.Background(), res.ARN, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if !v.Value.Equal(tt.in.Value) || !slices.Equal(v.Stages, []string{StageCurrent}) {
				t.Errorf("GetValue = %v %v", v.Value.Len(), v.Stages)
			}
		})
	}
}

func manyTags(n int) []Tag {
	var out []Tag
	for i := range n {
		out = append(out, Tag{Key: fmt.Sprintf("k%d", i), Value: "v"})
	}
	return out
}

func TestCreateExistingAndIdempotent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := CreateInput{Name: "/prod/db", Value: StringValue("pw1"), VersionID: token('a')}
	first, err := f.svc.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	// The SDK retries with the same token: same secret, same version.
	again, err := f.svc.Create(ctx, in)
	if err != nil || !reflect.DeepEqual(first, again) {
		t.Errorf("retry = %+v, %v; want %+v", again, err, first)
	}
	// Same token, other value.
	_, err = f.svc.Create(ctx, CreateInput{Name: "/prod/db", Value: StringValue("pw2"), VersionID: token('a')})
	wantKind(t, "Create(same token, other value)", err, ErrExists)
	if err != nil && strings.Contains(err.Error(), "pw") {
		t.Errorf("error quotes a value: %v", err)
	}
	// Another token: the name is taken.
	_, err = f.svc.Create(ctx, CreateInput{Name: "/prod/db", Value: StringValue("pw1"), VersionID: token('b')})
	wantKind(t, "Create(existing name)", err, ErrExists)
	_, err = f.svc.Create(ctx, CreateInput{Name: "/prod/db"})
	wantKind(t, "Create(existing name, no value)", err, ErrExists)
	// Names are case-sensitive.
	f.create(t, "/PROD/db", "")
	if got := f.get(t, "/prod/db", "", ""); got != "pw1" {
		t.Errorf("value = %q", got)
	}
}

func TestLookup(t *testing.T) {
	f := newFixture(t)
	a := f.create(t, "/prod/app", "A")
	// A name that looks like a name with a suffix.
	b := f.create(t, "/prod/app-AbCdEf", "B")
	otherAccount := strings.Replace(a.ARN, testAccount, "999999999999", 1)
	otherRegion := strings.Replace(a.ARN, testRegion, "eu-west-1", 1)
	suffix := a.ARN[len(a.ARN)-6:]
	wrongSuffix := a.ARN[:len(a.ARN)-6] + strings.Map(func(r rune) rune {
		if r == 'z' {
			return 'y'
		}
		return 'z'
	}, suffix)
	tests := []struct {
		name, id, want string
	}{
		{"ok/name", "/prod/app", "A"},
		{"ok/full-arn", a.ARN, "A"},
		{"ok/partial-arn", testPrefix + "/prod/app", "A"},
		{"ok/name-with-suffix-look", "/prod/app-AbCdEf", "B"},
		{"ok/full-arn-of-suffix-look", b.ARN, "B"},
		{"ok/partial-arn-of-suffix-look", testPrefix + "/prod/app-AbCdEf", "B"},
		{"fail/wrong-suffix", wrongSuffix, ""},
		{"fail/other-account", otherAccount, ""},
		{"fail/other-region", otherRegion, ""},
		{"fail/prefix-of-name", "/prod/ap", ""},
		{"fail/case", "/PROD/app", ""},
		{"fail/empty", "", ""},
		{"fail/not-an-arn", "arn:aws:iam::123456789012:user/app", ""},
		{"fail/invalid-name", "/prod/app\x00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := f.svc.GetValue(context.Background(), tt.id, "", "")
			if tt.want == "" {
				wantKind(t, "GetValue()", err, ErrNotFound)
				return
			}
			if err != nil {
				t.Fatalf("GetValue() = %v", err)
			}
			if got := string(v.Value.Reveal()); got != tt.want {
				t.Errorf("GetValue() = %q, want %q", got, tt.want)
			}
		})
	}
	// A full ARN never names a later secret of the same name.
	ctx := context.Background()
	if _, err := f.svc.Delete(ctx, a.ARN, 0, true); err != nil {
		t.Fatal(err)
	}
	c := f.create(t, "/prod/app", "C")
	if _, err := f.svc.GetValue(ctx, a.ARN, "", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("old ARN after re-creation: %v, want not found", err)
	}
	if got := f.get(t, c.ARN, "", ""); got != "C" {
		t.Errorf("new ARN = %q", got)
	}
	if f.svc.WouldBeARN("/x") != testPrefix+"/x-??????" || f.svc.WouldBeARN(c.ARN) != c.ARN || f.svc.WouldBeARN(testPrefix+"/x") != testPrefix+"/x-??????" {
		t.Errorf("WouldBeARN: %q %q", f.svc.WouldBeARN("/x"), f.svc.WouldBeARN(testPrefix+"/x"))
	}
	if f.svc.NameOf(c.ARN) != "/prod/app" || f.svc.NameOf("/a") != "/a" || f.svc.NameOf(testPrefix+"/b") != "/b" {
		t.Error("NameOf is wrong")
	}
}

func TestStagingLabels(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sec := f.create(t, "s", "")
	v1 := f.put(t, "s", "one")
	v2 := f.put(t, "s", "two")
	want := map[string][]string{v1.VersionID: {StagePrevious}, v2.VersionID: {StageCurrent}}
	if got := f.stages(t, "s"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after two puts: %v, want %v", got, want)
	}
	if !slices.Equal(v2.Stages, []string{StageCurrent}) {
		t.Errorf("PutValue stages = %v", v2.Stages)
	}
	v3 := f.put(t, "s", "three", StagePending)
	want[v3.VersionID] = []string{StagePending}
	if got := f.stages(t, "s"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after pending put: %v, want %v", got, want)
	}
	if got := f.get(t, "s", "", ""); got != "two" {
		t.Errorf("current = %q", got)
	}
	if got := f.get(t, "s", "", StagePending); got != "three" {
		t.Errorf("pending = %q", got)
	}
	if got := f.get(t, "s", v1.VersionID, StagePrevious); got != "one" {
		t.Errorf("v1 previous = %q", got)
	}
	// Rotation's last step: AWSCURRENT to the pending version.
	if _, err := f.svc.UpdateStage(ctx, sec.ARN, StageCurrent, v2.VersionID, v3.VersionID); err != nil {
		t.Fatal(err)
	}
	want = map[string][]string{v1.VersionID: nil, v2.VersionID: {StagePrevious}, v3.VersionID: {StageCurrent, StagePending}}
	if got := f.stages(t, "s"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after move: %v, want %v", got, want)
	}
	// Custom labels: attach, move, remove.
	if _, err := f.svc.UpdateStage(ctx, "s", "blue", "", v1.VersionID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateStage(ctx, "s", "blue", v1.VersionID, v2.VersionID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateStage(ctx, "s", StagePending, v3.VersionID, ""); err != nil {
		t.Fatal(err)
	}
	want = map[string][]string{v1.VersionID: nil, v2.VersionID: {StagePrevious, "blue"}, v3.VersionID: {StageCurrent}}
	if got := f.stages(t, "s"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after custom labels: %v, want %v", got, want)
	}
	// A put with AWSCURRENT among explicit labels moves AWSPREVIOUS too.
	v4 := f.put(t, "s", "four", "green", StageCurrent)
	want = map[string][]string{v1.VersionID: nil, v2.VersionID: {"blue"}, v3.VersionID: {StagePrevious}, v4.VersionID: {StageCurrent, "green"}}
	if got := f.stages(t, "s"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after labelled put: %v, want %v", got, want)
	}
	d, err := f.svc.Describe(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.VersionsToStages()[v1.VersionID]; ok || len(d.VersionsToStages()) != 3 {
		t.Errorf("VersionsToStages lists deprecated versions: %v", d.VersionsToStages())
	}

	fails := []struct {
		name, stage, remove, move string
		want                      error
	}{
		{"fail/neither", "blue", "", "", ErrInvalidParameter},
		{"fail/remove-current", StageCurrent, v4.VersionID, "", ErrInvalidParameter},
		{"fail/move-without-remove", "blue", "", v1.VersionID, ErrInvalidParameter},
		{"fail/move-with-wrong-remove", "blue", v3.VersionID, v1.VersionID, ErrInvalidParameter},
		{"fail/remove-from-wrong-version", "blue", v1.VersionID, "", ErrInvalidParameter},
		{"fail/unknown-move-to", "blue", v2.VersionID, token('z'), ErrNotFound},
		{"fail/unknown-remove-from", "blue", token('z'), "", ErrNotFound},
		{"fail/short-version-id", "blue", "abc", "", ErrValidation},
		{"fail/empty-stage", "", v2.VersionID, "", ErrValidation},
		{"fail/long-stage", strings.Repeat("s", MaxStageLen+1), v2.VersionID, "", ErrValidation},
	}
	for _, tt := range fails {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.UpdateStage(ctx, "s", tt.stage, tt.remove, tt.move)
			wantKind(t, "UpdateStage()", err, tt.want)
		})
	}
	t.Run("ok/first-version-is-current", func(t *testing.T) {
		f.create(t, "first", "")
		v := f.put(t, "first", "x", StagePending)
		if got := f.stages(t, "first")[v.VersionID]; !slices.Equal(got, []string{StageCurrent, StagePending}) {
			t.Errorf("first version stages = %v", got)
		}
	})
	t.Run("ok/move-to-holder-is-a-no-op", func(t *testing.T) {
		if _, err := f.svc.UpdateStage(ctx, "s", "blue", "", v2.VersionID); err != nil {
			t.Error(err)
		}
	})
	t.Run("fail/too-many-labels", func(t *testing.T) {
		var labels []string
		for i := range MaxStagesPerVersion + 1 {
			labels = append(labels, fmt.Sprintf("l%d", i))
		}
		_, err := f.svc.PutValue(ctx, PutInput{SecretID: "s", Value: StringValue("x"), Stages: labels})
		wantKind(t, "PutValue(21 labels)", err, ErrValidation)
		v := f.put(t, "s", "x", labels[:MaxStagesPerVersion]...)
		_, err = f.svc.UpdateStage(ctx, "s", "one-more", "", v.VersionID)
		wantKind(t, "UpdateStage(21st label)", err, ErrLimitExceeded)
	})
}

func TestPutValue(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "s", "v0")
	tests := []struct {
		name string
		in   PutInput
		want error
	}{
		{"ok/string", PutInput{SecretID: "s", Value: StringValue("v1")}, nil},
		{"ok/binary", PutInput{SecretID: "s", Value: BinaryValue([]byte{0xff, 0})}, nil},
		{"fail/no-value", PutInput{SecretID: "s"}, ErrInvalidRequest},
		{"fail/missing-secret", PutInput{SecretID: "nope", Value: StringValue("v")}, ErrNotFound},
		{"fail/too-large", PutInput{SecretID: "s", Value: BinaryValue(make([]byte, MaxValueSize+1))}, ErrValidation},
		{"fail/empty-stages", PutInput{SecretID: "s", Value: StringValue("v"), Stages: []string{}}, ErrValidation},
		{"fail/short-token", PutInput{SecretID: "s", Value: StringValue("v"), VersionID: "short"}, ErrValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := f.svc.PutValue(ctx, tt.in)
			wantKind(t, "PutValue()", err, tt.want)
			if err == nil {
				v, err := f.svc.GetValue(ctx, "s", res.VersionID, "")
				if err != nil || !v.Value.Equal(tt.in.Value) {
					t.Errorf("GetValue(new version) = %v", err)
				}
			}
		})
	}

	t.Run("ok/idempotent-retry", func(t *testing.T) {
		in := PutInput{SecretID: "s", Value: StringValue("retry"), VersionID: token('r')}
		first, err := f.svc.PutValue(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		n := len(f.stages(t, "s"))
		// A later put moves AWSCURRENT away; the retry must not move it back.
		f.put(t, "s", "later")
		again, err := f.svc.PutValue(ctx, in)
		if err != nil || again.VersionID != first.VersionID {
			t.Fatalf("retry = %+v, %v", again, err)
		}
		if got := len(f.stages(t, "s")); got != n+1 {
			t.Errorf("retry added a version: %d versions, want %d", got, n+1)
		}
		if got := f.get(t, "s", "", ""); got != "later" {
			t.Errorf("retry moved AWSCURRENT: current = %q", got)
		}
	})
	t.Run("fail/same-token-other-value", func(t *testing.T) {
		_, err := f.svc.PutValue(ctx, PutInput{SecretID: "s", Value: StringValue("other"), VersionID: token('r')})
		wantKind(t, "PutValue()", err, ErrExists)
		// String and binary of the same bytes are different values.
		_, err = f.svc.PutValue(ctx, PutInput{SecretID: "s", Value: BinaryValue([]byte("retry")), VersionID: token('r')})
		wantKind(t, "PutValue(binary)", err, ErrExists)
	})
}

func TestUpdate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "s", "v1")
	desc := "the database password"
	res, err := f.svc.Update(ctx, UpdateInput{SecretID: "s", Description: &desc})
	if err != nil || res.VersionID != "" {
		t.Fatalf("Update(description) = %+v, %v", res, err)
	}
	res, err = f.svc.Update(ctx, UpdateInput{SecretID: "s", Value: StringValue("v2"), VersionID: token('u')})
	if err != nil || res.VersionID != token('u') {
		t.Fatalf("Update(value) = %+v, %v", res, err)
	}
	if got := f.get(t, "s", "", ""); got != "v2" {
		t.Errorf("current = %q", got)
	}
	if got := f.get(t, "s", "", StagePrevious); got != "v1" {
		t.Errorf("previous = %q", got)
	}
	sec, _ := f.svc.Describe(ctx, "s")
	if sec.Description != desc {
		t.Errorf("Description = %q", sec.Description)
	}
	_, err = f.svc.Update(ctx, UpdateInput{SecretID: "s", Value: StringValue("v3"), VersionID: token('u')})
	wantKind(t, "Update(same token, other value)", err, ErrExists)
	long := strings.Repeat("d", MaxDescriptionLen+1)
	_, err = f.svc.Update(ctx, UpdateInput{SecretID: "s", Description: &long})
	wantKind(t, "Update(long description)", err, ErrValidation)
	_, err = f.svc.Update(ctx, UpdateInput{SecretID: "nope", Description: &desc})
	wantKind(t, "Update(missing)", err, ErrNotFound)
}

// TestDeletionWindow checks the recovery window at its boundary with an
// injected clock: at t−1 s the secret is scheduled (readable metadata,
// unreadable value, restorable); at t and t+1 s it is gone.
func TestDeletionWindow(t *testing.T) {
	for _, tt := range []struct {
		name   string
		offset time.Duration
		gone   bool
	}{
		{"ok/t-1s-still-scheduled", -time.Second, false},
		{"ok/t-gone", 0, true},
		{"ok/t+1s-gone", time.Second, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			res := f.create(t, "/prod/db", "pw")
			other := f.create(t, "/prod/other", "keep")
			sec, err := f.svc.Delete(ctx, "/prod/db", 7, false)
			if err != nil {
				t.Fatal(err)
			}
			end := t0.Add(7 * 24 * time.Hour)
			if !sec.DeletionDate.Equal(end) || !sec.DeletedDate.Equal(t0) || !sec.ScheduledForDeletion() {
				t.Fatalf("Delete = %v / %v", sec.DeletedDate, sec.DeletionDate)
			}
			f.clock.Set(end.Add(tt.offset))
			_, err = f.svc.GetValue(ctx, res.ARN, "", "")
			d, derr := f.svc.Describe(ctx, res.ARN)
			if !tt.gone {
				wantKind(t, "GetValue(scheduled)", err, ErrInvalidRequest)
				if derr != nil || !d.ScheduledForDeletion() {
					t.Errorf("Describe(scheduled) = %v", derr)
				}
				_, err = f.svc.PutValue(ctx, PutInput{SecretID: "/prod/db", Value: StringValue("x")})
				wantKind(t, "PutValue(scheduled)", err, ErrInvalidRequest)
				err = f.svc.Tag(ctx, "/prod/db", []Tag{{"a", "b"}})
				wantKind(t, "Tag(scheduled)", err, ErrInvalidRequest)
				_, err = f.svc.Delete(ctx, "/prod/db", 7, false)
				wantKind(t, "Delete(scheduled)", err, ErrInvalidRequest)
				_, err = f.svc.Create(ctx, CreateInput{Name: "/prod/db"})
				wantKind(t, "Create(name scheduled)", err, ErrInvalidRequest)
				if n, err := f.svc.Purge(ctx, f.clock.Now()); err != nil || n != 0 {
					t.Errorf("Purge before the end = %d, %v", n, err)
				}
				if _, err := f.svc.Restore(ctx, "/prod/db"); err != nil {
					t.Fatal(err)
				}
				if got := f.get(t, "/prod/db", "", ""); got != "pw" {
					t.Errorf("after restore = %q", got)
				}
				return
			}
			wantKind(t, "GetValue(past window)", err, ErrNotFound)
			wantKind(t, "Describe(past window)", derr, ErrNotFound)
			_, err = f.svc.Restore(ctx, "/prod/db")
			wantKind(t, "Restore(past window)", err, ErrNotFound)
			list, err := f.svc.List(ctx, ListInput{IncludePlannedDeletion: true})
			if err != nil || len(list) != 1 || list[0].Name != "/prod/other" {
				t.Errorf("List after window = %v, %v", list, err)
			}
			if n, err := f.svc.Purge(ctx, f.clock.Now()); err != nil || n != 1 {
				t.Errorf("Purge = %d, %v; want 1", n, err)
			}
			if n := countValues(t, f, res.ARN); n != 0 {
				t.Errorf("%d values left after purge", n)
			}
			if got := f.get(t, other.ARN, "", ""); got != "keep" {
				t.Errorf("other secret = %q", got)
			}
			// The name is free again.
			again := f.create(t, "/prod/db", "new")
			if again.ARN == res.ARN {
				t.Error("re-created secret has the old ARN")
			}
		})
	}
}

func TestLazyPurge(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res := f.create(t, "/prod/db", "pw")
	if _, err := f.svc.Delete(ctx, "/prod/db", 30, false); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(t0.Add(30 * 24 * time.Hour))
	// Creating the name again purges the old secret on the way.
	f.create(t, "/prod/db", "new")
	if n := countValues(t, f, res.ARN); n != 0 {
		t.Errorf("%d values of the old secret left", n)
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		days   int
		force  bool
		want   error
		window time.Duration
	}{
		{"ok/7-days", 7, false, nil, 7 * 24 * time.Hour},
		{"ok/30-days", 30, false, nil, 30 * 24 * time.Hour},
		{"ok/force", 0, true, nil, 0},
		{"fail/6-days", 6, false, ErrInvalidParameter, 0},
		{"fail/31-days", 31, false, ErrInvalidParameter, 0},
		{"fail/0-days", 0, false, ErrInvalidParameter, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			res := f.create(t, "s", "v")
			sec, err := f.svc.Delete(ctx, "s", tt.days, tt.force)
			wantKind(t, "Delete()", err, tt.want)
			if err != nil {
				return
			}
			if !sec.DeletionDate.Equal(t0.Add(tt.window)) {
				t.Errorf("DeletionDate = %v", sec.DeletionDate)
			}
			if tt.force {
				if _, err := f.svc.Describe(ctx, "s"); !errors.Is(err, ErrNotFound) {
					t.Errorf("after force delete: %v", err)
				}
				if n := countValues(t, f, res.ARN); n != 0 {
					t.Errorf("%d values left", n)
				}
			}
		})
	}
	t.Run("ok/force-after-schedule", func(t *testing.T) {
		f := newFixture(t)
		f.create(t, "s", "v")
		if _, err := f.svc.Delete(ctx, "s", 7, false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Delete(ctx, "s", 0, true); err != nil {
			t.Fatal(err)
		}
		f.create(t, "s", "again")
	})
	t.Run("fail/missing", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.svc.Delete(ctx, "s", 0, true)
		wantKind(t, "Delete(missing, force)", err, ErrNotFound)
	})
	t.Run("ok/restore-not-scheduled", func(t *testing.T) {
		f := newFixture(t)
		f.create(t, "s", "v")
		if _, err := f.svc.Restore(ctx, "s"); err != nil {
			t.Error(err)
		}
	})
}

func countValues(t *testing.T, f *fixture, arn string) int {
	t.Helper()
	var n int
	err := f.st.View(context.Background(), func(tx store.Tx) error {
		var err error
		n, err = tx.Count(bucketValues, arn+"|")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestVersionQuota: a secret keeps at most MaxVersions versions; versions
// without labels go once they are a day old, and not before.
func TestVersionQuota(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res := f.create(t, "s", "v0")
	for i := 1; i < MaxVersions; i++ {
		f.put(t, "s", fmt.Sprintf("v%d", i))
	}
	_, err := f.svc.PutValue(ctx, PutInput{SecretID: "s", Value: StringValue("one too many")})
	wantKind(t, "PutValue(101st, all recent)", err, ErrLimitExceeded)
	// One second before the oldest deprecated versions are a day old.
	f.clock.Set(t0.Add(DeprecatedVersionMinAge - time.Second))
	_, err = f.svc.PutValue(ctx, PutInput{SecretID: "s", Value: StringValue("one too many")})
	wantKind(t, "PutValue(101st, t-1s)", err, ErrLimitExceeded)
	f.clock.Set(t0.Add(DeprecatedVersionMinAge))
	last := f.put(t, "s", "fits")
	vs := f.stages(t, "s")
	if len(vs) != MaxVersions {
		t.Errorf("%d versions, want %d", len(vs), MaxVersions)
	}
	if n := countValues(t, f, res.ARN); n != MaxVersions {
		t.Errorf("%d stored values, want %d", n, MaxVersions)
	}
	if _, ok := vs[res.VersionID]; ok {
		t.Error("the oldest deprecated version was kept")
	}
	if got := f.get(t, "s", last.VersionID, StageCurrent); got != "fits" {
		t.Errorf("current = %q", got)
	}
}

// TestValuesEncryptedAtRest: the bolt file holds no value in clear, in any
// common encoding.
func TestValuesEncryptedAtRest(t *testing.T) {
	f := newFixture(t)
	const secret = "correct-horse-battery-staple-4242"
	f.create(t, "s", secret)
	if _, err := f.svc.PutValue(context.Background(), PutInput{SecretID: "s", Value: BinaryValue([]byte(secret + "-bin"))}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, needle := range []string{secret, "correct-horse", "Y29ycmVjdC1ob3Jz", "636f72726563742d686f727365"} {
		if bytes.Contains(data, []byte(needle)) {
			t.Errorf("store file contains %q", needle)
		}
	}
	if !bytes.Contains(data, []byte(`"name":"s"`)) {
		t.Error("store file does not hold the secret's record (test is not looking at the right file)")
	}
}

// TestAADBinding: a ciphertext moved to another version or another secret
// does not open; the read fails with ErrDecryption and never returns the
// other record's value.
func TestAADBinding(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.create(t, "a", "value-of-a")
	a2 := f.put(t, "a", "value-of-a2")
	b := f.create(t, "b", "value-of-b")
	swap := func(k1, k2 string) {
		t.Helper()
		err := f.st.Update(ctx, func(tx store.Tx) error {
			v1, err := tx.Get(bucketValues, k1)
			if err != nil {
				return err
			}
			v2, err := tx.Get(bucketValues, k2)
			if err != nil {
				return err
			}
			if err := tx.Put(bucketValues, k1, v2); err != nil {
				return err
			}
			return tx.Put(bucketValues, k2, v1)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Between two versions of one secret.
	swap(valueKey(a.ARN, a.VersionID), valueKey(a.ARN, a2.VersionID))
	for _, vid := range []string{a.VersionID, a2.VersionID} {
		_, err := f.svc.GetValue(ctx, "a", vid, "")
		wantKind(t, "GetValue(swapped version)", err, ErrDecryption)
	}
	swap(valueKey(a.ARN, a.VersionID), valueKey(a.ARN, a2.VersionID))
	if got := f.get(t, "a", a.VersionID, ""); got != "value-of-a" {
		t.Errorf("swapped back: %q", got)
	}
	// Between two secrets.
	swap(valueKey(a.ARN, a2.VersionID), valueKey(b.ARN, b.VersionID))
	_, err := f.svc.GetValue(ctx, "a", "", "")
	wantKind(t, "GetValue(a, swapped secret)", err, ErrDecryption)
	_, err = f.svc.GetValue(ctx, "b", "", "")
	wantKind(t, "GetValue(b, swapped secret)", err, ErrDecryption)
	// An idempotent retry cannot be fooled either.
	_, err = f.svc.PutValue(ctx, PutInput{SecretID: "b", VersionID: b.VersionID, Value: StringValue("value-of-b")})
	wantKind(t, "PutValue(retry over swapped)", err, ErrDecryption)
}

func TestTags(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, CreateInput{Name: "s", Tags: []Tag{{"team", "ci"}}}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Tag(ctx, "s", []Tag{{"team", "ops"}, {"env", "prod"}}); err != nil {
		t.Fatal(err)
	}
	sec, _ := f.svc.Describe(ctx, "s")
	if want := []Tag{{"team", "ops"}, {"env", "prod"}}; !reflect.DeepEqual(sec.Tags, want) {
		t.Errorf("tags = %v, want %v", sec.Tags, want)
	}
	if err := f.svc.Untag(ctx, "s", []string{"team", "absent"}); err != nil {
		t.Fatal(err)
	}
	sec, _ = f.svc.Describe(ctx, "s")
	if want := []Tag{{"env", "prod"}}; !reflect.DeepEqual(sec.Tags, want) {
		t.Errorf("tags = %v, want %v", sec.Tags, want)
	}
	wantKind(t, "Tag(too many)", f.svc.Tag(ctx, "s", manyTags(MaxTags)), ErrLimitExceeded)
	wantKind(t, "Tag(reserved)", f.svc.Tag(ctx, "s", []Tag{{"AWS:x", "y"}}), ErrInvalidParameter)
	wantKind(t, "Tag(missing)", f.svc.Tag(ctx, "nope", []Tag{{"a", "b"}}), ErrNotFound)
	wantKind(t, "Untag(empty key)", f.svc.Untag(ctx, "s", []string{""}), ErrValidation)
}

func TestResourcePolicy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "s", "v")
	good := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/ci"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	pinned := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"123456789012"}}}]}`
	tests := []struct {
		name        string
		doc         string
		blockPublic bool
		want        error
	}{
		{"ok/named-principal", good, true, nil},
		{"ok/public-not-blocked", public, false, nil},
		{"ok/star-pinned-by-account", pinned, true, nil},
		{"fail/public-blocked", public, true, ErrPublicPolicy},
		{"fail/not-json", `{`, false, ErrMalformedPolicy},
		{"fail/wrong-case-element", strings.Replace(good, `"Effect"`, `"effect"`, 1), false, ErrMalformedPolicy},
		{"fail/no-principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, false, ErrMalformedPolicy},
		{"fail/empty", ``, false, ErrValidation},
		{"fail/too-large", `{"Version":"2012-10-17","Id":"` + strings.Repeat("x", MaxPolicySize) + `"}`, false, ErrValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.PutPolicy(ctx, "s", tt.doc, tt.blockPublic)
			wantKind(t, "PutPolicy()", err, tt.want)
			if err != nil {
				return
			}
			sec, _ := f.svc.Describe(ctx, "s")
			p, err := f.svc.ResourcePolicy(sec)
			if sec.Policy != tt.doc || err != nil || p == nil {
				t.Errorf("stored policy = %q, parsed %v, %v", sec.Policy, p, err)
			}
		})
	}
	problems, err := f.svc.ValidatePolicy(public)
	if err != nil || len(problems) != 1 || problems[0].CheckName != CheckPublicAccess {
		t.Errorf("ValidatePolicy(public) = %v, %v", problems, err)
	}
	problems, err = f.svc.ValidatePolicy(good)
	if err != nil || len(problems) != 0 {
		t.Errorf("ValidatePolicy(good) = %v, %v", problems, err)
	}
	_, err = f.svc.ValidatePolicy(`{"Statement":[]`)
	wantKind(t, "ValidatePolicy(bad)", err, ErrMalformedPolicy)
	if _, err := f.svc.DeletePolicy(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	sec, _ := f.svc.Describe(ctx, "s")
	if p, err := f.svc.ResourcePolicy(sec); sec.Policy != "" || p != nil || err != nil {
		t.Errorf("after delete: %q %v %v", sec.Policy, p, err)
	}
}

func TestList(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mk := func(name, desc string, tags ...Tag) {
		t.Helper()
		if _, err := f.svc.Create(ctx, CreateInput{Name: name, Description: desc, Tags: tags}); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(f.clock.Now().Add(time.Minute))
	}
	mk("/prod/db", "Database password", Tag{"team", "data"})
	mk("/prod/api", "API key", Tag{"team", "web"}, Tag{"tier", "gold"})
	mk("/staging/db", "staging database", Tag{"team", "data"})
	mk("other", "")
	mk("/prod/old", "")
	if _, err := f.svc.Delete(ctx, "/prod/old", 7, false); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   ListInput
		want string
		err  error
	}{
		{"ok/all-by-creation", ListInput{}, "/prod/db,/prod/api,/staging/db,other", nil},
		{"ok/desc", ListInput{SortOrder: "desc"}, "other,/staging/db,/prod/api,/prod/db", nil},
		{"ok/by-name", ListInput{SortBy: "name"}, "/prod/api,/prod/db,/staging/db,other", nil},
		{"ok/include-planned-deletion", ListInput{IncludePlannedDeletion: true, SortBy: "name"}, "/prod/api,/prod/db,/prod/old,/staging/db,other", nil},
		{"ok/name-prefix", ListInput{Filters: []Filter{{FilterName, []string{"/prod/"}}}}, "/prod/db,/prod/api", nil},
		{"ok/name-is-case-sensitive", ListInput{Filters: []Filter{{FilterName, []string{"/PROD/"}}}}, "", nil},
		{"ok/name-negated", ListInput{Filters: []Filter{{FilterName, []string{"!/prod/"}}}}, "/staging/db,other", nil},
		{"ok/name-or", ListInput{Filters: []Filter{{FilterName, []string{"/staging", "oth"}}}}, "/staging/db,other", nil},
		{"ok/description-word-prefix-ignores-case", ListInput{Filters: []Filter{{FilterDescription, []string{"database"}}}}, "/prod/db,/staging/db", nil},
		{"ok/tag-key", ListInput{Filters: []Filter{{FilterTagKey, []string{"ti"}}}}, "/prod/api", nil},
		{"ok/tag-value-and-name", ListInput{Filters: []Filter{{FilterTagValue, []string{"data"}}, {FilterName, []string{"/prod"}}}}, "/prod/db", nil},
		{"ok/all-words", ListInput{Filters: []Filter{{FilterAll, []string{"DATA db"}}}}, "/prod/db,/staging/db", nil},
		{"ok/primary-region", ListInput{Filters: []Filter{{FilterPrimaryRegion, []string{"us-east"}}}}, "/prod/db,/prod/api,/staging/db,other", nil},
		{"ok/owning-service", ListInput{Filters: []Filter{{FilterOwningService, []string{"rds"}}}}, "", nil},
		{"fail/filter-key", ListInput{Filters: []Filter{{"Name", []string{"x"}}}}, "", ErrValidation},
		{"fail/no-values", ListInput{Filters: []Filter{{FilterName, nil}}}, "", ErrValidation},
		{"fail/value-pattern", ListInput{Filters: []Filter{{FilterName, []string{"a*"}}}}, "", ErrValidation},
		{"fail/sort-by", ListInput{SortBy: "size"}, "", ErrValidation},
		{"fail/sort-order", ListInput{SortOrder: "up"}, "", ErrValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.svc.List(ctx, tt.in)
			wantKind(t, "List()", err, tt.err)
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
			}
			if err == nil && strings.Join(names, ",") != tt.want {
				t.Errorf("List() = %s, want %s", strings.Join(names, ","), tt.want)
			}
		})
	}
}

func TestAccessDates(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res := f.create(t, "s", "v")
	sec, _ := f.svc.Describe(ctx, "s")
	if !sec.LastAccessed.IsZero() {
		t.Errorf("LastAccessed before any read = %v", sec.LastAccessed)
	}
	f.clock.Set(t0.Add(48 * time.Hour))
	f.get(t, "s", "", "")
	sec, _ = f.svc.Describe(ctx, "s")
	if want := day(t0.Add(48 * time.Hour)); !sec.LastAccessed.Equal(want) || !sec.Versions[0].LastAccessed.Equal(want) {
		t.Errorf("LastAccessed = %v / %v, want %v", sec.LastAccessed, sec.Versions[0].LastAccessed, want)
	}
	if !sec.LastChanged.Equal(t0) || !sec.Created.Equal(t0) || sec.Versions[0].ID != res.VersionID {
		t.Errorf("dates = %v %v", sec.Created, sec.LastChanged)
	}
}

func TestRandomPassword(t *testing.T) {
	f := newFixture(t)
	no := false
	tests := []struct {
		name  string
		in    PasswordInput
		n     int
		allow string
		want  error
	}{
		{"ok/default", PasswordInput{}, 32, lowerChars + upperChars + digitChars + punctuationChars, nil},
		{"ok/digits-only", PasswordInput{Length: 64, ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true}, 64, digitChars, nil},
		{"ok/exclude-characters", PasswordInput{Length: 200, ExcludeCharacters: "abcdefghijklmnopqrstuvwxyz0123456789", ExcludePunctuation: true}, 200, upperChars, nil},
		{"ok/with-space", PasswordInput{Length: 5, IncludeSpace: true}, 5, lowerChars + upperChars + digitChars + punctuationChars + " ", nil},
		{"ok/one-char-not-required", PasswordInput{Length: 1, RequireEachIncludedType: &no}, 1, lowerChars + upperChars + digitChars + punctuationChars, nil},
		{"ok/longest", PasswordInput{Length: MaxPasswordLength}, MaxPasswordLength, lowerChars + upperChars + digitChars + punctuationChars, nil},
		{"fail/too-long", PasswordInput{Length: MaxPasswordLength + 1}, 0, "", ErrValidation},
		{"fail/negative", PasswordInput{Length: -1}, 0, "", ErrValidation},
		{"fail/everything-excluded", PasswordInput{ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true}, 0, "", ErrInvalidParameter},
		{"fail/too-short-for-types", PasswordInput{Length: 3}, 0, "", ErrInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 {
				v, err := f.svc.RandomPassword(tt.in)
				wantKind(t, "RandomPassword()", err, tt.want)
				if err != nil {
					return
				}
				pw := string(v.Reveal())
				if len(pw) != tt.n {
					t.Fatalf("length %d, want %d", len(pw), tt.n)
				}
				if strings.Trim(pw, tt.allow) != "" {
					t.Fatalf("password has characters outside %q", tt.allow)
				}
				if tt.in.RequireEachIncludedType == nil {
					for _, set := range []string{lowerChars, upperChars, digitChars, punctuationChars} {
						if strings.Trim(set, tt.allow) == "" && strings.Contains(tt.allow, set) && !strings.ContainsAny(pw, set) {
							t.Fatalf("password lacks a character of %q", set)
						}
					}
					if tt.in.IncludeSpace && !strings.Contains(pw, " ") {
						t.Fatal("password lacks a space")
					}
				}
			}
		})
	}
}
