package secrets

import (
	"context"
	"strings"
	"testing"
)

const masterValue = `{"engine":"postgres","host":"127.0.0.1","port":5432,"username":"master","password":"M4ster-pw","dbname":"app"}`

func dynValue(master string, grants string) string {
	return `{"engine":"postgres","host":"127.0.0.1","port":5432,"dbname":"app","masterarn":"` + master + `","grants":` + grants + `}`
}

var dynTag = []Tag{{Key: "shortfuse:dynamic", Value: "true"}}

func TestDynamicValidation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	master, err := f.svc.Create(ctx, CreateInput{Name: "/prod/db-master", Value: StringValue(masterValue)})
	if err != nil {
		t.Fatal(err)
	}
	mysql, _ := f.svc.Create(ctx, CreateInput{Name: "/prod/mysql-master", Value: StringValue(strings.Replace(masterValue, "postgres", "mysql", 1))})
	binary, _ := f.svc.Create(ctx, CreateInput{Name: "/prod/bin-master", Value: BinaryValue([]byte{1, 2})})
	gone, _ := f.svc.Create(ctx, CreateInput{Name: "/prod/gone-master", Value: StringValue(masterValue)})
	if _, err := f.svc.Delete(ctx, gone.ARN, 7, false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, value, authorized string
		tags                    []Tag
		want                    error
		msg                     string
	}{
		{"ok/dynamic", dynValue(master.ARN, `["app_reader"]`), master.ARN, dynTag, nil, ""},
		{"ok/not-dynamic", "anything", "", nil, nil, ""},
		{"ok/dynamic-false", "anything", "", []Tag{{"shortfuse:dynamic", "false"}}, nil, ""},
		{"fail/tag-value", "anything", "", []Tag{{"shortfuse:dynamic", "yes"}}, ErrInvalidParameter, "true or false"},
		{"fail/lease-seconds", "x", "", []Tag{{"shortfuse:lease-seconds", "5"}}, ErrInvalidParameter, "lease-seconds"},
		{"fail/not-config", "hunter2", "", dynTag, ErrInvalidParameter, "JSON object"},
		{"fail/no-master", dynValue(testPrefix+"/prod/none-AbCdEf", `["r"]`), testPrefix + "/prod/none-AbCdEf", dynTag, ErrInvalidParameter, "names no secret"},
		{"fail/partial-arn", dynValue(testPrefix+"/prod/db-master", `["r"]`), testPrefix + "/prod/db-master", dynTag, ErrInvalidParameter, "full ARN"},
		{"fail/other-engine", dynValue(mysql.ARN, `["r"]`), mysql.ARN, dynTag, ErrInvalidParameter, "engine"},
		{"fail/binary-master", dynValue(binary.ARN, `["r"]`), binary.ARN, dynTag, ErrInvalidParameter, "SecretString"},
		{"fail/master-deleted", dynValue(gone.ARN, `["r"]`), gone.ARN, dynTag, ErrInvalidParameter, "scheduled for deletion"},
		{"fail/bad-grant", dynValue(master.ARN, `["r; DROP"]`), master.ARN, dynTag, ErrInvalidParameter, "role name"},
		{"fail/not-authorized", dynValue(master.ARN, `["r"]`), "", dynTag, ErrInvalidParameter, "retry"},
		{"fail/other-host", strings.Replace(dynValue(master.ARN, `["r"]`), "127.0.0.1", "evil.example", 1), master.ARN, dynTag, ErrInvalidParameter, "host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "/dyn/" + strings.ReplaceAll(tc.name, "/", "-")
			_, err := f.svc.Create(ctx, CreateInput{Name: name, Value: StringValue(tc.value), Tags: tc.tags, Master: tc.authorized})
			wantKind(t, "Create", err, tc.want)
			if tc.want != nil {
				if !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "M4ster-pw") {
					t.Errorf("Create() = %v, want a message with %q and no password", err, tc.msg)
				}
				if _, err := f.svc.Describe(ctx, name); err == nil {
					t.Error("a refused secret was stored")
				}
			}
		})
	}

	// A static secret becomes dynamic by TagResource only with a usable
	// value, and a dynamic one takes only usable values.
	plain, _ := f.svc.Create(ctx, CreateInput{Name: "/dyn/plain", Value: StringValue("not a config")})
	wantKind(t, "TagWith(plain value)", f.svc.TagWith(ctx, plain.ARN, dynTag, ""), ErrInvalidParameter)
	if sec, _ := f.svc.Describe(ctx, plain.ARN); IsDynamic(sec.Tags) {
		t.Fatal("a refused TagResource left the tag")
	}
	wantKind(t, "Tag(plain value)", f.svc.Tag(ctx, plain.ARN, []Tag{{"team", "x"}}), nil)
	good, _ := f.svc.Create(ctx, CreateInput{Name: "/dyn/later", Value: StringValue(dynValue(master.ARN, `["r"]`))})
	got, err := f.svc.CurrentMaster(ctx, good.ARN, dynTag)
	if err != nil || got != master.ARN {
		t.Fatalf("CurrentMaster() = %q, %v", got, err)
	}
	wantKind(t, "TagWith(config)", f.svc.TagWith(ctx, good.ARN, dynTag, master.ARN), nil)
	_, err = f.svc.PutValue(ctx, PutInput{SecretID: good.ARN, Value: StringValue("oops")})
	wantKind(t, "PutValue(not a config)", err, ErrInvalidParameter)
	_, err = f.svc.Update(ctx, UpdateInput{SecretID: good.ARN, Value: StringValue(dynValue(master.ARN, `[]`)), Master: master.ARN})
	wantKind(t, "Update(no grants)", err, ErrInvalidParameter)
	_, err = f.svc.PutValue(ctx, PutInput{SecretID: good.ARN, Value: StringValue(dynValue(master.ARN, `["r","w"]`)), Master: master.ARN})
	wantKind(t, "PutValue(config)", err, nil)
	sec, _ := f.svc.Describe(ctx, good.ARN)
	if len(sec.Versions) != 2 {
		t.Fatalf("%d versions, want 2 (the refused writes added none)", len(sec.Versions))
	}
}
