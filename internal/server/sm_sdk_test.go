package server

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	sdksm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

const smAccount = "123456789012"

// smBroker is the broker in-process on a test HTTP server, with the
// Secrets Manager plane and a debug log kept in memory.
type smBroker struct {
	url   string
	admin aws.Credentials
	logs  *testutil.Buffer
	// smClock is the clock of the secrets service only (the server's own
	// clock stays real, so that SDK signatures verify).
	smClock *testutil.Clock
	svc     *secrets.Service
}

func newSMBroker(t testing.TB) *smBroker {
	t.Helper()
	core := newTestCore(t, smAccount, nil)
	smClock := &testutil.Clock{}
	svc := core.secretsService(smClock.Now)
	logs, logger := debugLog()
	deps := core.deps()
	deps.Secrets = svc
	srv := New(Config{Account: smAccount, Region: "us-east-1", Logger: logger}, deps)
	ts := newTestServer(t, srv)
	return &smBroker{url: ts, admin: core.admin, logs: logs, smClock: smClock, svc: svc}
}

func (b *smBroker) sm(c aws.Credentials) *sdksm.Client {
	return sdksm.NewFromConfig(sdkConfig(b.url, c))
}

func (b *smBroker) iam() *sdkiam.Client {
	return sdkiam.NewFromConfig(sdkConfig(b.url, b.admin))
}

func (b *smBroker) sts(c aws.Credentials) *sts.Client {
	return sts.NewFromConfig(sdkConfig(b.url, c))
}

// user creates an IAM user with an inline policy and returns its key.
func (b *smBroker) user(t *testing.T, name, policy string) aws.Credentials {
	t.Helper()
	return sdkUser(t, b.iam(), name, policy)
}

// sdkUser creates, with c, an IAM user with an inline policy (none if
// policy is "") and returns its new access key.
func sdkUser(t *testing.T, c *sdkiam.Client, name, policy string) aws.Credentials {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateUser(ctx, &sdkiam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if policy != "" {
		if _, err := c.PutUserPolicy(ctx, &sdkiam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
	}
	k, err := c.CreateAccessKey(ctx, &sdkiam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return accessKeyCreds(k.AccessKey)
}

func stagesOf(t *testing.T, c *sdksm.Client, id string) map[string]string {
	t.Helper()
	out, err := c.DescribeSecret(context.Background(), &sdksm.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for v, s := range out.VersionIdsToStages {
		s = slices.Clone(s)
		sort.Strings(s)
		m[v] = strings.Join(s, ",")
	}
	return m
}

// TestSecretsManagerWithSDK drives every operation with the real
// aws-sdk-go-v2 client: request serialisation, response shapes (epoch
// timestamps, blobs), pagination and typed errors are those the SDK knows.
func TestSecretsManagerWithSDK(t *testing.T) {
	b := newSMBroker(t)
	c := b.sm(b.admin)
	ctx := context.Background()

	// CreateSecret, with and without a value.
	before := time.Now().Add(-time.Second)
	cr, err := c.CreateSecret(ctx, &sdksm.CreateSecretInput{
		Name: aws.String("/prod/db"), SecretString: aws.String(`{"password":"pw-1"}`),
		Description: aws.String("database"), Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("data")}},
	})
	must(t, "CreateSecret", err)
	arn := aws.ToString(cr.ARN)
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/db-") || len(arn) != len("arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/db-")+6 {
		t.Errorf("ARN = %q", arn)
	}
	v1 := aws.ToString(cr.VersionId)
	if len(v1) != 36 {
		t.Errorf("VersionId = %q, want the SDK's generated UUID", v1)
	}
	_, err = c.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("/prod/db")})
	var exists *smtypes.ResourceExistsException
	if !errors.As(err, &exists) {
		t.Errorf("CreateSecret(existing) = %v, want ResourceExistsException", err)
	}
	empty, err := c.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("/prod/empty")})
	must(t, "CreateSecret(no value)", err)
	if empty.VersionId != nil {
		t.Errorf("VersionId of a secret without value = %q", *empty.VersionId)
	}
	_, err = c.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("bad name")})
	wantCode(t, "CreateSecret(bad name)", err, "ValidationException")
	_, err = c.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("x"), SecretString: aws.String("a"), SecretBinary: []byte("b")})
	wantCode(t, "CreateSecret(string and binary)", err, "InvalidParameterException")
	_, err = c.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("x"), KmsKeyId: aws.String("arn:aws:kms:us-east-1:123456789012:key/1")})
	wantCode(t, "CreateSecret(KmsKeyId)", err, "InvalidParameterException")
	_, err = c.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("x"), AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("eu-west-1")}}})
	wantCode(t, "CreateSecret(AddReplicaRegions)", err, "InvalidParameterException")
	_, err = c.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("x"), SecretString: aws.String(strings.Repeat("x", 65537))})
	wantCode(t, "CreateSecret(65537 bytes)", err, "ValidationException")
	// Same token, other value.
	_, err = c.PutSecretValue(ctx, &sdksm.PutSecretValueInput{SecretId: aws.String("/prod/db"), ClientRequestToken: aws.String(v1), SecretString: aws.String("other")})
	wantCode(t, "PutSecretValue(same token, other value)", err, "ResourceExistsException")

	// GetSecretValue by name, partial ARN, full ARN.
	for _, id := range []string{"/prod/db", "arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/db", arn} {
		gv, err := c.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String(id)})
		must(t, "GetSecretValue("+id+")", err)
		if aws.ToString(gv.SecretString) != `{"password":"pw-1"}` || aws.ToString(gv.ARN) != arn || aws.ToString(gv.VersionId) != v1 ||
			!slices.Equal(gv.VersionStages, []string{"AWSCURRENT"}) || gv.CreatedDate == nil || gv.CreatedDate.Before(before) || gv.SecretBinary != nil {
			t.Errorf("GetSecretValue(%s) = %+v", id, gv)
		}
	}
	_, err = c.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/nope")})
	var nf *smtypes.ResourceNotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Secrets Manager can't find the specified secret." {
		t.Errorf("GetSecretValue(missing) = %v", err)
	}
	_, err = c.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/empty")})
	wantCode(t, "GetSecretValue(no version)", err, "ResourceNotFoundException")
	wrong := "Q" // a suffix letter the ARN does not have
	if strings.HasSuffix(arn, wrong) {
		wrong = "R"
	}
	_, err = c.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String(arn[:len(arn)-1] + wrong)})
	wantCode(t, "GetSecretValue(wrong suffix)", err, "ResourceNotFoundException")

	// PutSecretValue: binary, labels, idempotency.
	pv, err := c.PutSecretValue(ctx, &sdksm.PutSecretValueInput{SecretId: aws.String(arn), SecretBinary: []byte{0, 1, 2, 0xff}})
	must(t, "PutSecretValue", err)
	v2 := aws.ToString(pv.VersionId)
	if !slices.Equal(pv.VersionStages, []string{"AWSCURRENT"}) || aws.ToString(pv.ARN) != arn {
		t.Errorf("PutSecretValue = %+v", pv)
	}
	again, err := c.PutSecretValue(ctx, &sdksm.PutSecretValueInput{SecretId: aws.String(arn), SecretBinary: []byte{0, 1, 2, 0xff}, ClientRequestToken: aws.String(v2)})
	must(t, "PutSecretValue(retry)", err)
	if aws.ToString(again.VersionId) != v2 {
		t.Errorf("retry made version %s", aws.ToString(again.VersionId))
	}
	gv, err := c.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/db")})
	must(t, "GetSecretValue(binary)", err)
	if !bytes.Equal(gv.SecretBinary, []byte{0, 1, 2, 0xff}) || gv.SecretString != nil {
		t.Errorf("binary value = %v / %v", gv.SecretBinary, gv.SecretString)
	}
	prev, err := c.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/db"), VersionStage: aws.String("AWSPREVIOUS")})
	must(t, "GetSecretValue(AWSPREVIOUS)", err)
	if aws.ToString(prev.VersionId) != v1 {
		t.Errorf("AWSPREVIOUS = %s, want %s", aws.ToString(prev.VersionId), v1)
	}
	_, err = c.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/db"), VersionId: aws.String(v1), VersionStage: aws.String("AWSCURRENT")})
	wantCode(t, "GetSecretValue(version and stage disagree)", err, "InvalidRequestException")
	pend, err := c.PutSecretValue(ctx, &sdksm.PutSecretValueInput{SecretId: aws.String("/prod/db"), SecretString: aws.String("pw-3"), VersionStages: []string{"AWSPENDING"}})
	must(t, "PutSecretValue(AWSPENDING)", err)
	v3 := aws.ToString(pend.VersionId)
	_, err = c.PutSecretValue(ctx, &sdksm.PutSecretValueInput{SecretId: aws.String("/prod/db")})
	wantCode(t, "PutSecretValue(no value)", err, "InvalidRequestException")
	_, err = c.PutSecretValue(ctx, &sdksm.PutSecretValueInput{SecretId: aws.String("/prod/db"), SecretString: aws.String("x"), RotationToken: aws.String(strings.Repeat("a", 36))})
	wantCode(t, "PutSecretValue(RotationToken)", err, "InvalidParameterException")
	_, err = c.PutSecretValue(ctx, &sdksm.PutSecretValueInput{SecretId: aws.String("/prod/nope"), SecretString: aws.String("x")})
	wantCode(t, "PutSecretValue(missing)", err, "ResourceNotFoundException")

	// UpdateSecretVersionStage: finish a "rotation" by hand.
	_, err = c.UpdateSecretVersionStage(ctx, &sdksm.UpdateSecretVersionStageInput{SecretId: aws.String("/prod/db"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(v3)})
	wantCode(t, "UpdateSecretVersionStage(without RemoveFrom)", err, "InvalidParameterException")
	_, err = c.UpdateSecretVersionStage(ctx, &sdksm.UpdateSecretVersionStageInput{SecretId: aws.String("/prod/db"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(v3), RemoveFromVersionId: aws.String(v2)})
	must(t, "UpdateSecretVersionStage", err)
	want := map[string]string{v2: "AWSPREVIOUS", v3: "AWSCURRENT,AWSPENDING"}
	if got := stagesOf(t, c, "/prod/db"); !maps.Equal(got, want) {
		t.Errorf("stages = %v, want %v", got, want)
	}
	_, err = c.UpdateSecretVersionStage(ctx, &sdksm.UpdateSecretVersionStageInput{SecretId: aws.String("/prod/db"), VersionStage: aws.String("AWSCURRENT"), RemoveFromVersionId: aws.String(v3)})
	wantCode(t, "UpdateSecretVersionStage(remove AWSCURRENT)", err, "InvalidParameterException")

	// ListSecretVersionIds, with deprecated versions and pagination.
	lv, err := c.ListSecretVersionIds(ctx, &sdksm.ListSecretVersionIdsInput{SecretId: aws.String("/prod/db")})
	must(t, "ListSecretVersionIds", err)
	if len(lv.Versions) != 2 || aws.ToString(lv.ARN) != arn || aws.ToString(lv.Name) != "/prod/db" {
		t.Errorf("ListSecretVersionIds = %+v", lv)
	}
	pager := sdksm.NewListSecretVersionIdsPaginator(c, &sdksm.ListSecretVersionIdsInput{SecretId: aws.String("/prod/db"), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(1)})
	var all []string
	versions := allPages(t, "ListSecretVersionIds page", pager.HasMorePages, pager.NextPage, func(p *sdksm.ListSecretVersionIdsOutput) []smtypes.SecretVersionsListEntry { return p.Versions })
	for _, v := range versions {
		all = append(all, aws.ToString(v.VersionId))
		if v.CreatedDate == nil {
			t.Error("version without CreatedDate")
		}
	}
	if got, want := strings.Join(all, ","), strings.Join([]string{v1, v2, v3}, ","); got != want {
		t.Errorf("paged versions = %s, want %s", got, want)
	}
	_, err = c.ListSecretVersionIds(ctx, &sdksm.ListSecretVersionIdsInput{SecretId: aws.String("/prod/db"), NextToken: aws.String("garbage")})
	wantCode(t, "ListSecretVersionIds(bad token)", err, "InvalidNextTokenException")

	// UpdateSecret: description, then a value.
	up, err := c.UpdateSecret(ctx, &sdksm.UpdateSecretInput{SecretId: aws.String("/prod/db"), Description: aws.String("db password")})
	must(t, "UpdateSecret(description)", err)
	if up.VersionId != nil {
		t.Errorf("UpdateSecret without value made version %s", *up.VersionId)
	}
	up, err = c.UpdateSecret(ctx, &sdksm.UpdateSecretInput{SecretId: aws.String("/prod/db"), SecretString: aws.String("pw-4")})
	must(t, "UpdateSecret(value)", err)
	v4 := aws.ToString(up.VersionId)
	_, err = c.UpdateSecret(ctx, &sdksm.UpdateSecretInput{SecretId: aws.String("/prod/db"), KmsKeyId: aws.String("alias/mine")})
	wantCode(t, "UpdateSecret(KmsKeyId)", err, "InvalidParameterException")

	// DescribeSecret.
	ds, err := c.DescribeSecret(ctx, &sdksm.DescribeSecretInput{SecretId: aws.String(arn)})
	must(t, "DescribeSecret", err)
	if aws.ToString(ds.Description) != "db password" || aws.ToString(ds.Name) != "/prod/db" || ds.CreatedDate == nil || ds.LastChangedDate == nil ||
		ds.LastAccessedDate == nil || ds.DeletedDate != nil || len(ds.Tags) != 1 || ds.VersionIdsToStages[v4][0] != "AWSCURRENT" {
		t.Errorf("DescribeSecret = %+v", ds)
	}
	if ds.LastChangedDate.Before(*ds.CreatedDate) || time.Since(*ds.CreatedDate) > time.Minute {
		t.Errorf("dates: created %v changed %v", ds.CreatedDate, ds.LastChangedDate)
	}

	// Tags.
	_, err = c.TagResource(ctx, &sdksm.TagResourceInput{SecretId: aws.String("/prod/db"), Tags: []smtypes.Tag{{Key: aws.String("tier"), Value: aws.String("gold")}}})
	must(t, "TagResource", err)
	_, err = c.UntagResource(ctx, &sdksm.UntagResourceInput{SecretId: aws.String("/prod/db"), TagKeys: []string{"team"}})
	must(t, "UntagResource", err)
	ds, _ = c.DescribeSecret(ctx, &sdksm.DescribeSecretInput{SecretId: aws.String(arn)})
	if len(ds.Tags) != 1 || aws.ToString(ds.Tags[0].Key) != "tier" {
		t.Errorf("tags = %+v", ds.Tags)
	}
	_, err = c.TagResource(ctx, &sdksm.TagResourceInput{SecretId: aws.String("/prod/db"), Tags: []smtypes.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}})
	wantCode(t, "TagResource(aws:)", err, "InvalidParameterException")
	_, err = c.TagResource(ctx, &sdksm.TagResourceInput{SecretId: aws.String("/prod/nope"), Tags: []smtypes.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantCode(t, "TagResource(missing)", err, "ResourceNotFoundException")

	// ListSecrets: filters, sort, pagination.
	for _, n := range []string{"/staging/db", "/prod/api"} {
		_, err := c.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String(n), SecretString: aws.String("v-" + n)})
		must(t, "CreateSecret "+n, err)
	}
	lp := sdksm.NewListSecretsPaginator(c, &sdksm.ListSecretsInput{MaxResults: aws.Int32(2), SortBy: smtypes.SortByTypeName})
	var names []string
	listed := allPages(t, "ListSecrets page", lp.HasMorePages, lp.NextPage, func(p *sdksm.ListSecretsOutput) []smtypes.SecretListEntry { return p.SecretList })
	for _, s := range listed {
		names = append(names, aws.ToString(s.Name))
	}
	if got := strings.Join(names, ","); got != "/prod/api,/prod/db,/prod/empty,/staging/db" {
		t.Errorf("ListSecrets by name = %s", got)
	}
	ls, err := c.ListSecrets(ctx, &sdksm.ListSecretsInput{Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{"/prod/"}}, {Key: smtypes.FilterNameStringTypeTagKey, Values: []string{"tier"}}}})
	must(t, "ListSecrets(filters)", err)
	if len(ls.SecretList) != 1 || aws.ToString(ls.SecretList[0].ARN) != arn || len(ls.SecretList[0].SecretVersionsToStages) != 2 {
		t.Errorf("ListSecrets(filters) = %+v", ls.SecretList)
	}
	_, err = c.ListSecrets(ctx, &sdksm.ListSecretsInput{Filters: []smtypes.Filter{{Key: "nope", Values: []string{"x"}}}})
	wantCode(t, "ListSecrets(bad filter key)", err, "ValidationException")
	_, err = c.ListSecrets(ctx, &sdksm.ListSecretsInput{NextToken: aws.String("c20xOjE")}) // "sm1:1" is fine
	must(t, "ListSecrets(token)", err)
	_, err = c.ListSecrets(ctx, &sdksm.ListSecretsInput{NextToken: aws.String("!!")})
	wantCode(t, "ListSecrets(bad token)", err, "InvalidNextTokenException")

	// BatchGetSecretValue: by ids (with an error entry) and by filters.
	bg, err := c.BatchGetSecretValue(ctx, &sdksm.BatchGetSecretValueInput{SecretIdList: []string{"/prod/db", "/prod/nope", "/staging/db", "/prod/empty"}})
	must(t, "BatchGetSecretValue", err)
	if len(bg.SecretValues) != 2 || aws.ToString(bg.SecretValues[0].SecretString) != "pw-4" || aws.ToString(bg.SecretValues[1].SecretString) != "v-/staging/db" {
		t.Errorf("BatchGetSecretValue values = %+v", bg.SecretValues)
	}
	if len(bg.Errors) != 2 || aws.ToString(bg.Errors[0].SecretId) != "/prod/nope" || aws.ToString(bg.Errors[0].ErrorCode) != "ResourceNotFoundException" {
		t.Errorf("BatchGetSecretValue errors = %+v", bg.Errors)
	}
	bf, err := c.BatchGetSecretValue(ctx, &sdksm.BatchGetSecretValueInput{Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{"/prod/"}}}, MaxResults: aws.Int32(1)})
	must(t, "BatchGetSecretValue(filters)", err)
	if len(bf.SecretValues)+len(bf.Errors) != 1 || bf.NextToken == nil {
		t.Errorf("BatchGetSecretValue(filters) = %+v", bf)
	}
	_, err = c.BatchGetSecretValue(ctx, &sdksm.BatchGetSecretValueInput{})
	wantCode(t, "BatchGetSecretValue(neither)", err, "InvalidParameterException")
	_, err = c.BatchGetSecretValue(ctx, &sdksm.BatchGetSecretValueInput{SecretIdList: []string{"a"}, Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{"a"}}}})
	wantCode(t, "BatchGetSecretValue(both)", err, "InvalidParameterException")

	// Resource policies.
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/ci"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	vr, err := c.ValidateResourcePolicy(ctx, &sdksm.ValidateResourcePolicyInput{ResourcePolicy: aws.String(pol)})
	must(t, "ValidateResourcePolicy", err)
	if !vr.PolicyValidationPassed || len(vr.ValidationErrors) != 0 {
		t.Errorf("ValidateResourcePolicy(good) = %+v", vr)
	}
	vr, err = c.ValidateResourcePolicy(ctx, &sdksm.ValidateResourcePolicyInput{SecretId: aws.String("/prod/db"), ResourcePolicy: aws.String(public)})
	must(t, "ValidateResourcePolicy(public)", err)
	if vr.PolicyValidationPassed || len(vr.ValidationErrors) != 1 || aws.ToString(vr.ValidationErrors[0].CheckName) != secrets.CheckPublicAccess {
		t.Errorf("ValidateResourcePolicy(public) = %+v", vr)
	}
	_, err = c.ValidateResourcePolicy(ctx, &sdksm.ValidateResourcePolicyInput{ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
	wantCode(t, "ValidateResourcePolicy(no principal)", err, "MalformedPolicyDocumentException")
	_, err = c.PutResourcePolicy(ctx, &sdksm.PutResourcePolicyInput{SecretId: aws.String("/prod/db"), ResourcePolicy: aws.String(public), BlockPublicPolicy: aws.Bool(true)})
	wantCode(t, "PutResourcePolicy(public, blocked)", err, "PublicPolicyException")
	_, err = c.PutResourcePolicy(ctx, &sdksm.PutResourcePolicyInput{SecretId: aws.String("/prod/db"), ResourcePolicy: aws.String(`{"Statement":`)})
	wantCode(t, "PutResourcePolicy(malformed)", err, "MalformedPolicyDocumentException")
	pr, err := c.PutResourcePolicy(ctx, &sdksm.PutResourcePolicyInput{SecretId: aws.String("/prod/db"), ResourcePolicy: aws.String(pol)})
	must(t, "PutResourcePolicy", err)
	if aws.ToString(pr.ARN) != arn {
		t.Errorf("PutResourcePolicy ARN = %s", aws.ToString(pr.ARN))
	}
	gp, err := c.GetResourcePolicy(ctx, &sdksm.GetResourcePolicyInput{SecretId: aws.String("/prod/db")})
	must(t, "GetResourcePolicy", err)
	if aws.ToString(gp.ResourcePolicy) != pol {
		t.Errorf("GetResourcePolicy = %q", aws.ToString(gp.ResourcePolicy))
	}
	_, err = c.DeleteResourcePolicy(ctx, &sdksm.DeleteResourcePolicyInput{SecretId: aws.String("/prod/db")})
	must(t, "DeleteResourcePolicy", err)
	gp, err = c.GetResourcePolicy(ctx, &sdksm.GetResourcePolicyInput{SecretId: aws.String("/prod/db")})
	must(t, "GetResourcePolicy(after delete)", err)
	if gp.ResourcePolicy != nil {
		t.Errorf("policy left: %q", *gp.ResourcePolicy)
	}
	_, err = c.GetResourcePolicy(ctx, &sdksm.GetResourcePolicyInput{SecretId: aws.String("/prod/nope")})
	wantCode(t, "GetResourcePolicy(missing)", err, "ResourceNotFoundException")

	// GetRandomPassword.
	rp, err := c.GetRandomPassword(ctx, &sdksm.GetRandomPasswordInput{PasswordLength: aws.Int64(40), ExcludePunctuation: aws.Bool(true)})
	must(t, "GetRandomPassword", err)
	if pw := aws.ToString(rp.RandomPassword); len(pw) != 40 || strings.Trim(pw, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		t.Errorf("RandomPassword = %q", pw)
	}
	_, err = c.GetRandomPassword(ctx, &sdksm.GetRandomPasswordInput{PasswordLength: aws.Int64(5000)})
	wantCode(t, "GetRandomPassword(5000)", err, "ValidationException")
	_, err = c.GetRandomPassword(ctx, &sdksm.GetRandomPasswordInput{ExcludeLowercase: aws.Bool(true), ExcludeUppercase: aws.Bool(true), ExcludeNumbers: aws.Bool(true), ExcludePunctuation: aws.Bool(true)})
	wantCode(t, "GetRandomPassword(nothing left)", err, "InvalidParameterException")

	// DeleteSecret and RestoreSecret.
	_, err = c.DeleteSecret(ctx, &sdksm.DeleteSecretInput{SecretId: aws.String("/prod/db"), RecoveryWindowInDays: aws.Int64(6)})
	wantCode(t, "DeleteSecret(6 days)", err, "InvalidParameterException")
	_, err = c.DeleteSecret(ctx, &sdksm.DeleteSecretInput{SecretId: aws.String("/prod/db"), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)})
	wantCode(t, "DeleteSecret(window and force)", err, "InvalidParameterException")
	del, err := c.DeleteSecret(ctx, &sdksm.DeleteSecretInput{SecretId: aws.String("/prod/db"), RecoveryWindowInDays: aws.Int64(7)})
	must(t, "DeleteSecret", err)
	if d := time.Until(*del.DeletionDate); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour+time.Minute {
		t.Errorf("DeletionDate in %v, want 7 days", d)
	}
	_, err = c.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/db")})
	var ir *smtypes.InvalidRequestException
	if !errors.As(err, &ir) || !strings.Contains(ir.ErrorMessage(), "marked for deletion") {
		t.Errorf("GetSecretValue(scheduled) = %v, want InvalidRequestException", err)
	}
	ds, err = c.DescribeSecret(ctx, &sdksm.DescribeSecretInput{SecretId: aws.String("/prod/db")})
	must(t, "DescribeSecret(scheduled)", err)
	if ds.DeletedDate == nil {
		t.Error("DescribeSecret of a scheduled secret has no DeletedDate")
	}
	ls, err = c.ListSecrets(ctx, &sdksm.ListSecretsInput{})
	must(t, "ListSecrets", err)
	if len(ls.SecretList) != 3 {
		t.Errorf("ListSecrets lists a scheduled secret: %d entries", len(ls.SecretList))
	}
	ls, err = c.ListSecrets(ctx, &sdksm.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})
	must(t, "ListSecrets(IncludePlannedDeletion)", err)
	if len(ls.SecretList) != 4 {
		t.Errorf("ListSecrets(IncludePlannedDeletion) = %d entries", len(ls.SecretList))
	}
	_, err = c.DeleteSecret(ctx, &sdksm.DeleteSecretInput{SecretId: aws.String("/prod/db")})
	wantCode(t, "DeleteSecret(scheduled)", err, "InvalidRequestException")
	_, err = c.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("/prod/db")})
	wantCode(t, "CreateSecret(name scheduled)", err, "InvalidRequestException")
	rs, err := c.RestoreSecret(ctx, &sdksm.RestoreSecretInput{SecretId: aws.String("/prod/db")})
	must(t, "RestoreSecret", err)
	if aws.ToString(rs.ARN) != arn {
		t.Errorf("RestoreSecret ARN = %s", aws.ToString(rs.ARN))
	}
	if gv, err := c.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/db")}); err != nil || aws.ToString(gv.SecretString) != "pw-4" {
		t.Errorf("GetSecretValue after restore = %v", err)
	}
	// The window ends (the secrets clock moves on): the secret is gone.
	if _, err := c.DeleteSecret(ctx, &sdksm.DeleteSecretInput{SecretId: aws.String("/prod/db"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatal(err)
	}
	b.smClock.Shift(7 * 24 * time.Hour)
	_, err = c.DescribeSecret(ctx, &sdksm.DescribeSecretInput{SecretId: aws.String(arn)})
	wantCode(t, "DescribeSecret(past window)", err, "ResourceNotFoundException")
	if n, err := b.svc.Purge(ctx, time.Now().Add(7*24*time.Hour)); err != nil || n != 1 {
		t.Errorf("Purge = %d, %v", n, err)
	}
	b.smClock.Shift(0)
	fd, err := c.DeleteSecret(ctx, &sdksm.DeleteSecretInput{SecretId: aws.String("/prod/api"), ForceDeleteWithoutRecovery: aws.Bool(true)})
	must(t, "DeleteSecret(force)", err)
	if fd.DeletionDate == nil || time.Since(*fd.DeletionDate) > time.Minute {
		t.Errorf("DeleteSecret(force) = %+v", fd)
	}
	if _, err := c.DeleteSecret(ctx, &sdksm.DeleteSecretInput{SecretId: aws.String("/prod/api"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Errorf("DeleteSecret(force, already gone) = %v, want success as AWS documents", err)
	}
	_, err = c.DeleteSecret(ctx, &sdksm.DeleteSecretInput{SecretId: aws.String("/prod/api")})
	wantCode(t, "DeleteSecret(missing)", err, "ResourceNotFoundException")
	_, err = c.RestoreSecret(ctx, &sdksm.RestoreSecretInput{SecretId: aws.String("/prod/api")})
	wantCode(t, "RestoreSecret(missing)", err, "ResourceNotFoundException")

	// Rotation and replication are refused with a clear error.
	_, err = c.RotateSecret(ctx, &sdksm.RotateSecretInput{SecretId: aws.String("/staging/db")})
	if !errors.As(err, &ir) || !strings.Contains(ir.ErrorMessage(), "Rotation is not supported") {
		t.Errorf("RotateSecret = %v", err)
	}
	_, err = c.CancelRotateSecret(ctx, &sdksm.CancelRotateSecretInput{SecretId: aws.String("/staging/db")})
	wantCode(t, "CancelRotateSecret", err, "InvalidRequestException")
	_, err = c.ReplicateSecretToRegions(ctx, &sdksm.ReplicateSecretToRegionsInput{SecretId: aws.String("/staging/db"), AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("eu-west-1")}}})
	wantCode(t, "ReplicateSecretToRegions", err, "InvalidRequestException")
	_, err = c.RemoveRegionsFromReplication(ctx, &sdksm.RemoveRegionsFromReplicationInput{SecretId: aws.String("/staging/db"), RemoveReplicaRegions: []string{"eu-west-1"}})
	wantCode(t, "RemoveRegionsFromReplication", err, "InvalidRequestException")
	_, err = c.StopReplicationToReplica(ctx, &sdksm.StopReplicationToReplicaInput{SecretId: aws.String("/staging/db")})
	wantCode(t, "StopReplicationToReplica", err, "InvalidRequestException")

	// No value, ever, in the broker's log.
	logs := b.logs.String()
	for _, v := range []string{"pw-1", "pw-3", "pw-4", "v-/staging/db", aws.ToString(rp.RandomPassword)} {
		if strings.Contains(logs, v) {
			t.Errorf("the broker's log contains the secret value %q", v)
		}
	}
}

func newTestServer(t testing.TB, srv *Server) string {
	t.Helper()
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}
