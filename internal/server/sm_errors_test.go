package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/secrets"
)

// TestSecretsErrorMessages is AWS's documented (and observed) error of each
// Secrets Manager operation for each case, with the exact code, HTTP status
// and message, and the message in "Message" as AWS sends it.
func TestSecretsErrorMessages(t *testing.T) {
	b := newSMBroker(t)
	tok := func(c string) string { return `"ClientRequestToken":"` + strings.Repeat(c, 36) + `"` }
	if status, _, body := smRaw(t, b, "CreateSecret", `{"Name":"/prod/db","SecretString":"pw-1",`+tok("a")+`}`); status != 200 {
		t.Fatalf("CreateSecret: %d %s", status, body)
	}
	const (
		noToken    = "You must provide a ClientRequestToken value. We recommend a UUID-type value."
		notFound   = "Secrets Manager can't find the specified secret."
		mismatch   = "You provided a VersionStage that is not associated to the provided VersionId."
		invalidID  = secrets.MsgInvalidName
		badID      = `"SecretId":"/prod/db name"`
		validation = "ValidationException"
	)
	tests := []struct {
		name, op, body string
		wantStatus     int
		wantType       string
		wantMessage    string
	}{
		{"fail/create-invalid-name", "CreateSecret", `{"Name":"/prod/db name",` + tok("b") + `}`, 400, validation, invalidID},
		{"fail/create-unicode-name", "CreateSecret", `{"Name":"/prod/caf\u00e9",` + tok("b") + `}`, 400, validation, invalidID},
		{"fail/create-value-without-token", "CreateSecret", `{"Name":"/prod/new","SecretString":"x"}`, 400, "InvalidRequestException", noToken},
		{"fail/create-binary-without-token", "CreateSecret", `{"Name":"/prod/new","SecretBinary":"AAE="}`, 400, "InvalidRequestException", noToken},
		{"ok/create-without-value-or-token", "CreateSecret", `{"Name":"/prod/empty"}`, 200, "", ""},
		{"fail/put-without-token", "PutSecretValue", `{"SecretId":"/prod/db","SecretString":"x"}`, 400, "InvalidRequestException", noToken},
		{"fail/update-value-without-token", "UpdateSecret", `{"SecretId":"/prod/db","SecretString":"x"}`, 400, "InvalidRequestException", noToken},
		{"ok/update-description-without-token", "UpdateSecret", `{"SecretId":"/prod/db","Description":"d"}`, 200, "", ""},
		{"ok/put-with-token", "PutSecretValue", `{"SecretId":"/prod/db","SecretString":"pw-2",` + tok("c") + `}`, 200, "", ""},
		{"fail/move-current-without-remove-from", "UpdateSecretVersionStage", `{"SecretId":"/prod/db","VersionStage":"AWSCURRENT","MoveToVersionId":"` + strings.Repeat("a", 36) + `"}`, 400, "InvalidParameterException",
			"The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version " + strings.Repeat("c", 36) + ", so you must explicitly reference that version in RemoveFromVersionId."},

		{"fail/describe-invalid-id", "DescribeSecret", `{` + badID + `}`, 400, validation, invalidID},
		{"fail/get-invalid-id", "GetSecretValue", `{` + badID + `}`, 400, validation, invalidID},
		{"fail/put-invalid-id", "PutSecretValue", `{` + badID + `,"SecretString":"x",` + tok("d") + `}`, 400, validation, invalidID},
		{"fail/tag-invalid-id", "TagResource", `{` + badID + `,"Tags":[]}`, 400, validation, invalidID},
		{"fail/untag-invalid-id", "UntagResource", `{` + badID + `,"TagKeys":[]}`, 400, validation, invalidID},
		{"fail/update-invalid-id", "UpdateSecret", `{` + badID + `,"Description":"d"}`, 400, validation, invalidID},
		{"fail/list-versions-invalid-id", "ListSecretVersionIds", `{` + badID + `}`, 400, validation, invalidID},
		{"fail/validate-policy-invalid-id", "ValidateResourcePolicy", `{` + badID + `,"ResourcePolicy":"{}"}`, 400, validation, invalidID},
		{"fail/force-delete-invalid-id", "DeleteSecret", `{` + badID + `,"ForceDeleteWithoutRecovery":true}`, 400, validation, invalidID},
		{"ok/force-delete-missing", "DeleteSecret", `{"SecretId":"/prod/never","ForceDeleteWithoutRecovery":true}`, 200, "", ""},
		{"ok/service-linked-name-is-valid", "DescribeSecret", `{"SecretId":"rds!cluster-1"}`, 400, "ResourceNotFoundException", notFound},
		{"ok/arn-id-is-looked-up", "DescribeSecret", `{"SecretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/none-abcdef"}`, 400, "ResourceNotFoundException", notFound},

		{"fail/get-missing", "GetSecretValue", `{"SecretId":"/prod/none"}`, 400, "ResourceNotFoundException", notFound},
		{"fail/get-version-and-other-stage", "GetSecretValue", `{"SecretId":"/prod/db","VersionId":"` + strings.Repeat("a", 36) + `","VersionStage":"AWSCURRENT"}`, 400, "InvalidRequestException", mismatch},
		{"ok/get-version-and-its-stage", "GetSecretValue", `{"SecretId":"/prod/db","VersionId":"` + strings.Repeat("a", 36) + `","VersionStage":"AWSPREVIOUS"}`, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, typ, body := smRaw(t, b, tt.op, tt.body)
			if status != tt.wantStatus || typ != tt.wantType {
				t.Fatalf("%s = %d %q %s, want %d %q", tt.op, status, typ, body, tt.wantStatus, tt.wantType)
			}
			if tt.wantType == "" {
				return
			}
			var doc map[string]string
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatal(err)
			}
			if doc["__type"] != tt.wantType || doc["Message"] != tt.wantMessage || len(doc) != 2 {
				t.Errorf("error document %s\nwant __type %q, Message %q", body, tt.wantType, tt.wantMessage)
			}
		})
	}
}

// TestSecretsShapes checks output members whose presence AWS decides
// beyond the service model: Tags absent for a secret never tagged and []
// once its last tag is removed; KmsKeyIds of each version.
func TestSecretsShapes(t *testing.T) {
	b := newSMBroker(t)
	tok := `"ClientRequestToken":"` + strings.Repeat("a", 36) + `"`
	mustRaw := func(op, body string) map[string]any {
		t.Helper()
		status, _, out := smRaw(t, b, op, body)
		if status != 200 {
			t.Fatalf("%s: %d %s", op, status, out)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	mustRaw("CreateSecret", `{"Name":"/plain","SecretString":"v",`+tok+`}`)
	mustRaw("CreateSecret", `{"Name":"/tagged","Tags":[{"Key":"team","Value":"red"}]}`)

	if d := mustRaw("DescribeSecret", `{"SecretId":"/plain"}`); d["Tags"] != nil {
		t.Errorf("never tagged: Tags = %v, want absent", d["Tags"])
	}
	if d := mustRaw("DescribeSecret", `{"SecretId":"/tagged"}`); len(d["Tags"].([]any)) != 1 {
		t.Errorf("tagged: Tags = %v", d["Tags"])
	}
	mustRaw("UntagResource", `{"SecretId":"/tagged","TagKeys":["team"]}`)
	d := mustRaw("DescribeSecret", `{"SecretId":"/tagged"}`)
	if tags, ok := d["Tags"].([]any); !ok || len(tags) != 0 {
		t.Errorf("last tag removed: Tags = %#v, want []", d["Tags"])
	}
	for _, e := range mustRaw("ListSecrets", `{}`)["SecretList"].([]any) {
		entry := e.(map[string]any)
		_, has := entry["Tags"]
		if want := entry["Name"] == "/tagged"; has != want {
			t.Errorf("ListSecrets %v: has Tags %v, want %v", entry["Name"], has, want)
		}
	}

	v := mustRaw("ListSecretVersionIds", `{"SecretId":"/plain"}`)["Versions"].([]any)[0].(map[string]any)
	if ids, _ := v["KmsKeyIds"].([]any); len(ids) != 1 || ids[0] != "DefaultEncryptionKey" {
		t.Errorf("KmsKeyIds = %v, want [DefaultEncryptionKey]", v["KmsKeyIds"])
	}
}
