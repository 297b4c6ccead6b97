package e2e

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The recipe of docs/PRODUCT.md runs as written against the broker: the
// shell version (testdata/recipe.sh, recipe-expiry.sh) with the real aws
// CLI and jq, and the boto3 version (testdata/recipe.py). Each test then
// checks the result with aws-sdk-go-v2 and that no secret value reached the
// broker's log.

// need finds a tool the recipe uses; without it the test fails under CI and
// is skipped elsewhere.
func need(t *testing.T, tool string, check ...string) {
	t.Helper()
	awsCLI(t)
	path, err := exec.LookPath(tool)
	if err == nil && len(check) > 0 {
		err = exec.Command(path, check...).Run()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not usable (%v); .ci/run installs it", tool, err)
		}
		t.Skipf("%s is not usable: %v", tool, err)
	}
}

// runRecipe runs a recipe script against b with the admin's credentials
// file (or, for boto3, its key in the environment) and returns its work
// directory and output.
func runRecipe(t *testing.T, b *broker, env []string, argv ...string) (work, output string) {
	t.Helper()
	work = filepath.Join(t.TempDir(), "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(argv[len(argv)-1])
	if err != nil {
		t.Fatal(err)
	}
	argv[len(argv)-1] = script
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(env, "WORK="+work)
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s\n--- broker log:\n%s", filepath.Base(script), err, out, b.logs.String())
	}
	return work, string(out)
}

// readValues reads the copies of the secret values a recipe left in work.
func readValues(t *testing.T, work string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(work, "value-*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no value files in %s (%v)", work, err)
	}
	m := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 20 {
			t.Fatalf("%s holds %d bytes, want a generated password", f, len(b))
		}
		m[filepath.Base(f)] = string(b)
	}
	return m
}

// noValuesIn checks that none of the values (nor their base64) occurs in
// text, which is named what.
func noValuesIn(t *testing.T, what, text string, values map[string]string) {
	t.Helper()
	for name, v := range values {
		if strings.Contains(text, v) || strings.Contains(text, base64.StdEncoding.EncodeToString([]byte(v))) {
			t.Errorf("%s contains the secret value of %s", what, name)
		}
	}
}

// currentAndPrevious reads a secret's AWSCURRENT and AWSPREVIOUS values
// with aws-sdk-go-v2.
func currentAndPrevious(t *testing.T, b *broker, c creds, id string) (string, string) {
	t.Helper()
	cur, _ := secretValue(t, b, c, id, "")
	prev, _ := secretValue(t, b, c, id, "AWSPREVIOUS")
	return cur, prev
}

func TestRecipeCLI(t *testing.T) {
	t.Parallel()
	need(t, "jq", "--version")
	b := startBroker(t, "")
	env := b.cliEnv(creds{}, "AWS_SHARED_CREDENTIALS_FILE="+b.adminCredentialsFile())
	work, out := runRecipe(t, b, env, "sh", "testdata/recipe.sh")
	if !strings.Contains(out, "recipe: ok") {
		t.Fatalf("recipe.sh did not finish:\n%s", out)
	}
	for _, want := range []string{
		"the pipeline read /prod/exampleCredential",
		"denied as it should be (AccessDeniedException): in the pipeline: aws secretsmanager get-secret-value --secret-id /staging/exampleCredential",
		"the role session read /prod/exampleCredential",
		"denied as it should be (AccessDenied): in the pipeline: aws iam list-users",
		"denied as it should be (AccessDeniedException): in the pipeline: aws secretsmanager put-secret-value",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("recipe output lacks %q:\n%s", want, out)
		}
	}
	values := readValues(t, work)
	admin := b.adminCreds()
	cur, prev := currentAndPrevious(t, b, admin, "/prod/exampleCredential")
	if cur != values["value-pipe"] || prev != values["value-stdin"] {
		t.Error("AWSCURRENT is not the value from the named pipe, or AWSPREVIOUS not the one from the pipe on stdin")
	}
	versions := b.mustAWS(admin, "secretsmanager", "list-secret-version-ids", "--secret-id", "/prod/exampleCredential", "--include-deprecated")
	if n := len(versions["Versions"].([]any)); n != 3 {
		t.Errorf("%d versions, want 3 (file, stdin, named pipe)", n)
	}
	staging := b.aws(admin, "secretsmanager", "get-secret-value", "--secret-id", "/staging/exampleCredential", "--query", "SecretString", "--output", "text")
	if strings.TrimSpace(staging.Stdout) != values["value-staging"] {
		t.Error("the /staging/ secret does not hold its value")
	}
	noValuesIn(t, "the broker's log", b.logs.String(), values)
	noValuesIn(t, "the recipe's output", out, values)
}

// TestRecipeExpiry: the recipe's token explodes at its expiry. Sessions
// live 15s: the recipe's first read, an aws CLI process started after the
// token is minted, must fit in that on a loaded machine too (8s did not
// always); the recipe then waits for the expiry itself.
func TestRecipeExpiry(t *testing.T) {
	t.Parallel()
	need(t, "jq", "--version")
	b := startBroker(t, "", "--max-session-duration", "15s")
	env := b.cliEnv(creds{}, "AWS_SHARED_CREDENTIALS_FILE="+b.adminCredentialsFile())
	work, out := runRecipe(t, b, env, "sh", "testdata/recipe-expiry.sh")
	if !strings.Contains(out, "the token exploded: ExpiredTokenException") || !strings.Contains(out, "recipe-expiry: ok") {
		t.Fatalf("recipe-expiry.sh did not finish:\n%s", out)
	}
	values := readValues(t, work)
	noValuesIn(t, "the broker's log", b.logs.String(), values)
	noValuesIn(t, "the recipe's output", out, values)
}

func TestRecipeBoto3(t *testing.T) {
	t.Parallel()
	need(t, "python3", "-c", "import boto3")
	b := startBroker(t, "")
	admin := b.adminCreds()
	work, out := runRecipe(t, b, b.cliEnv(admin), "python3", "testdata/recipe.py")
	if !strings.Contains(out, "recipe.py: ok") {
		t.Fatalf("recipe.py did not finish:\n%s", out)
	}
	values := readValues(t, work)
	cur, prev := currentAndPrevious(t, b, admin, "/prod/exampleCredential")
	if cur != values["value-pipe"] || prev != values["value-file"] {
		t.Error("AWSCURRENT is not the value from the named pipe, or AWSPREVIOUS not the one from the file")
	}
	noValuesIn(t, "the broker's log", b.logs.String(), values)
	noValuesIn(t, "the recipe's output", out, values)
}

// TestRecipeEveryOperation drives every Secrets Manager operation with the
// aws CLI against the real binary, with its main errors.
func TestRecipeEveryOperation(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", "111122223333")
	admin := b.adminCreds()
	const value = "every-operation-value-0042"
	valueFile := writeFile(t, "value", value)
	newValueFile := writeFile(t, "value2", value+"-new")
	binFile := writeFile(t, "bin", "\x00\x01binary-value-0042\xff")

	// CreateSecret.
	out := b.mustAWS(admin, "secretsmanager", "create-secret", "--name", "/prod/db", "--description", "db",
		"--secret-string", "file://"+valueFile, "--tags", "Key=team,Value=data")
	arn := str(t, out, "ARN")
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db-") || len(arn) != len("arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db-")+6 {
		t.Errorf("ARN = %s", arn)
	}
	v1 := str(t, out, "VersionId")
	b.wantAWSError(admin, "ResourceExistsException", "secretsmanager", "create-secret", "--name", "/prod/db")
	b.wantAWSError(admin, "InvalidParameterException", "secretsmanager", "create-secret", "--name", "x", "--kms-key-id", "alias/mine")
	b.mustAWS(admin, "secretsmanager", "create-secret", "--name", "/prod/bin", "--secret-binary", "fileb://"+binFile)

	// GetSecretValue.
	got := b.mustAWS(admin, "secretsmanager", "get-secret-value", "--secret-id", "/prod/db")
	if str(t, got, "SecretString") != value || str(t, got, "ARN") != arn {
		t.Errorf("get-secret-value = %v", got["ARN"])
	}
	gotBin := b.mustAWS(admin, "secretsmanager", "get-secret-value", "--secret-id", "/prod/bin")
	if dec, err := base64.StdEncoding.DecodeString(str(t, gotBin, "SecretBinary")); err != nil || string(dec) != "\x00\x01binary-value-0042\xff" {
		t.Errorf("SecretBinary = %q, %v", dec, err)
	}
	b.mustAWS(admin, "secretsmanager", "get-secret-value", "--secret-id", "arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db")
	b.wantAWSError(admin, "ResourceNotFoundException", "secretsmanager", "get-secret-value", "--secret-id", "/prod/nope")

	// PutSecretValue, idempotency, labels.
	put := b.mustAWS(admin, "secretsmanager", "put-secret-value", "--secret-id", "/prod/db", "--secret-string", "file://"+newValueFile, "--client-request-token", strings.Repeat("a", 36))
	v2 := str(t, put, "VersionId")
	b.wantAWSError(admin, "ResourceExistsException", "secretsmanager", "put-secret-value", "--secret-id", "/prod/db", "--secret-string", "file://"+valueFile, "--client-request-token", strings.Repeat("a", 36))
	b.wantAWSError(admin, "InvalidRequestException", "secretsmanager", "put-secret-value", "--secret-id", "/prod/db")
	pending := b.mustAWS(admin, "secretsmanager", "put-secret-value", "--secret-id", "/prod/db", "--secret-string", "file://"+valueFile, "--version-stages", "AWSPENDING")
	v3 := str(t, pending, "VersionId")

	// UpdateSecretVersionStage.
	b.wantAWSError(admin, "InvalidParameterException", "secretsmanager", "update-secret-version-stage", "--secret-id", "/prod/db", "--version-stage", "AWSCURRENT", "--move-to-version-id", v3)
	b.mustAWS(admin, "secretsmanager", "update-secret-version-stage", "--secret-id", "/prod/db", "--version-stage", "AWSCURRENT", "--move-to-version-id", v3, "--remove-from-version-id", v2)
	prev := b.mustAWS(admin, "secretsmanager", "get-secret-value", "--secret-id", "/prod/db", "--version-stage", "AWSPREVIOUS")
	if str(t, prev, "VersionId") != v2 {
		t.Errorf("AWSPREVIOUS = %s, want %s", str(t, prev, "VersionId"), v2)
	}

	// ListSecretVersionIds.
	lv := b.mustAWS(admin, "secretsmanager", "list-secret-version-ids", "--secret-id", "/prod/db", "--include-deprecated")
	var ids []string
	for _, v := range lv["Versions"].([]any) {
		ids = append(ids, v.(map[string]any)["VersionId"].(string))
	}
	if !slices.Equal(ids, []string{v1, v2, v3}) {
		t.Errorf("versions = %v", ids)
	}

	// UpdateSecret, DescribeSecret, tags.
	b.mustAWS(admin, "secretsmanager", "update-secret", "--secret-id", "/prod/db", "--description", "database password")
	b.mustAWS(admin, "secretsmanager", "tag-resource", "--secret-id", "/prod/db", "--tags", "Key=tier,Value=gold")
	b.mustAWS(admin, "secretsmanager", "untag-resource", "--secret-id", "/prod/db", "--tag-keys", "team")
	desc := b.mustAWS(admin, "secretsmanager", "describe-secret", "--secret-id", "/prod/db")
	if str(t, desc, "Description") != "database password" {
		t.Errorf("Description = %v", desc["Description"])
	}
	if tags := desc["Tags"].([]any); len(tags) != 1 || tags[0].(map[string]any)["Key"] != "tier" {
		t.Errorf("Tags = %v", tags)
	}
	if _, ok := desc["CreatedDate"].(float64); !ok {
		t.Errorf("CreatedDate = %v (%T), want epoch seconds", desc["CreatedDate"], desc["CreatedDate"])
	}
	b.wantAWSError(admin, "ResourceNotFoundException", "secretsmanager", "describe-secret", "--secret-id", "/prod/nope")

	// ListSecrets.
	ls := b.mustAWS(admin, "secretsmanager", "list-secrets", "--filters", "Key=name,Values=/prod/d", "--sort-order", "desc")
	if l := ls["SecretList"].([]any); len(l) != 1 || l[0].(map[string]any)["Name"] != "/prod/db" {
		t.Errorf("list-secrets = %v", l)
	}
	b.wantAWSError(admin, "ValidationException", "secretsmanager", "list-secrets", "--filters", "Key=name,Values=a*b")

	// BatchGetSecretValue.
	bg := b.mustAWS(admin, "secretsmanager", "batch-get-secret-value", "--secret-id-list", "/prod/db", "/prod/nope")
	if len(bg["SecretValues"].([]any)) != 1 || len(bg["Errors"].([]any)) != 1 {
		t.Errorf("batch-get-secret-value = %d values, %d errors", len(bg["SecretValues"].([]any)), len(bg["Errors"].([]any)))
	}
	b.wantAWSError(admin, "InvalidParameterException", "secretsmanager", "batch-get-secret-value", "--secret-id-list", "/prod/db", "--filters", "Key=name,Values=/prod")

	// GetRandomPassword.
	pw := b.mustAWS(admin, "secretsmanager", "get-random-password", "--password-length", "24", "--exclude-punctuation")
	if p := str(t, pw, "RandomPassword"); len(p) != 24 {
		t.Errorf("RandomPassword has %d characters", len(p))
	}
	b.wantAWSError(admin, "InvalidParameterException", "secretsmanager", "get-random-password", "--exclude-lowercase", "--exclude-uppercase", "--exclude-numbers", "--exclude-punctuation")

	// Resource policies.
	pol := writeFile(t, "pol.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/ci"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)
	public := writeFile(t, "public.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)
	vr := b.mustAWS(admin, "secretsmanager", "validate-resource-policy", "--resource-policy", "file://"+public)
	if vr["PolicyValidationPassed"] != false {
		t.Errorf("validate-resource-policy(public) = %v", vr)
	}
	b.wantAWSError(admin, "MalformedPolicyDocumentException", "secretsmanager", "validate-resource-policy", "--resource-policy", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Conditions":{}}]}`)
	b.wantAWSError(admin, "PublicPolicyException", "secretsmanager", "put-resource-policy", "--secret-id", "/prod/db", "--resource-policy", "file://"+public, "--block-public-policy")
	b.mustAWS(admin, "secretsmanager", "put-resource-policy", "--secret-id", "/prod/db", "--resource-policy", "file://"+pol, "--block-public-policy")
	gp := b.mustAWS(admin, "secretsmanager", "get-resource-policy", "--secret-id", "/prod/db")
	if !strings.Contains(str(t, gp, "ResourcePolicy"), "user/ci") {
		t.Errorf("get-resource-policy = %v", gp)
	}
	b.mustAWS(admin, "secretsmanager", "delete-resource-policy", "--secret-id", "/prod/db")
	b.wantAWSError(admin, "ResourceNotFoundException", "secretsmanager", "get-resource-policy", "--secret-id", "/prod/nope")

	// DeleteSecret, RestoreSecret.
	b.wantAWSError(admin, "InvalidParameterException", "secretsmanager", "delete-secret", "--secret-id", "/prod/db", "--recovery-window-in-days", "7", "--force-delete-without-recovery")
	del := b.mustAWS(admin, "secretsmanager", "delete-secret", "--secret-id", "/prod/db", "--recovery-window-in-days", "7")
	if d, ok := del["DeletionDate"].(float64); !ok || time.Until(time.Unix(int64(d), 0)) < 6*24*time.Hour {
		t.Errorf("DeletionDate = %v", del["DeletionDate"])
	}
	b.wantAWSError(admin, "InvalidRequestException", "secretsmanager", "get-secret-value", "--secret-id", "/prod/db")
	b.mustAWS(admin, "secretsmanager", "restore-secret", "--secret-id", "/prod/db")
	b.mustAWS(admin, "secretsmanager", "get-secret-value", "--secret-id", "/prod/db")
	b.mustAWS(admin, "secretsmanager", "delete-secret", "--secret-id", "/prod/bin", "--force-delete-without-recovery")
	b.wantAWSError(admin, "ResourceNotFoundException", "secretsmanager", "restore-secret", "--secret-id", "/prod/bin")

	// Refused: replication (all three operations: the server package's
	// SDK test), and rotation of a secret not in the RDS shape (rotation:
	// rotation_test.go).
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rotate-secret", "--secret-id", "/prod/db", "--rotation-rules", "AutomaticallyAfterDays=1"}, "RDS shape"},
		{[]string{"replicate-secret-to-regions", "--secret-id", "/prod/db", "--add-replica-regions", "Region=eu-west-1"}, "not supported"},
	} {
		r := b.wantAWSError(admin, "InvalidRequestException", append([]string{"secretsmanager"}, tc.args...)...)
		if !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%s: %s", tc.args[0], r.Stderr)
		}
	}

	// Authorization with the CLI: a user without rights learns nothing.
	nobody := newUser(t, b, admin, "nobody", "")
	r1 := b.wantAWSError(nobody, "AccessDeniedException", "secretsmanager", "get-secret-value", "--secret-id", "/prod/db")
	r2 := b.wantAWSError(nobody, "AccessDeniedException", "secretsmanager", "get-secret-value", "--secret-id", "/prod/nope")
	if strings.Replace(r1.Stderr, "/prod/db", "X", 1) != strings.Replace(r2.Stderr, "/prod/nope", "X", 1) {
		t.Errorf("denials differ:\n%s\n%s", r1.Stderr, r2.Stderr)
	}

	values := map[string]string{"value": value, "value2": value + "-new", "bin": "binary-value-0042", "password": str(t, pw, "RandomPassword")}
	noValuesIn(t, "the broker's log", b.logs.String(), values)
}
