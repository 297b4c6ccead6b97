package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// testAWS is a client configuration with made-up credentials.
func testAWS() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLEEXAMPLE01", strings.Repeat("k", 40), ""),
	}
}

const ceilingPolicyARN = "arn:aws:iam::123456789012:policy/p"

// testClients are SDK clients pointed at url.
func testClients(t *testing.T, url string) *clients {
	t.Helper()
	return newClients(Config{AWS: testAWS(), Endpoint: url, Concurrency: 1}, testAWS().Credentials)
}

// sdkCall returns a call of op with in that fails when op fails or, if
// check is not nil, when check refuses op's output.
func sdkCall[I, O, Opt any](ctx context.Context, op func(context.Context, I, ...Opt) (O, error), in I, check func(O) error) func() error {
	return func() error {
		out, err := op(ctx, in)
		if err != nil || check == nil {
			return err
		}
		return check(out)
	}
}

// TestCeilingAnswersEveryOperation checks that the SDK's own deserialisers
// accept every canned response and find what a caller would use in it.
func TestCeilingAnswersEveryOperation(t *testing.T) {
	hs := httptest.NewServer(NewCeilingHandler())
	defer hs.Close()
	cl := testClients(t, hs.URL)
	ctx := context.Background()
	nonEmpty := func(s *string) error {
		if aws.ToString(s) == "" {
			return errors.New("empty field")
		}
		return nil
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"ok/sts-GetCallerIdentity", sdkCall(ctx, cl.sts.GetCallerIdentity, &sts.GetCallerIdentityInput{}, func(out *sts.GetCallerIdentityOutput) error {
			return nonEmpty(out.Arn)
		})},
		{"ok/sts-AssumeRole", sdkCall(ctx, cl.sts.AssumeRole, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: aws.String("s")}, func(out *sts.AssumeRoleOutput) error {
			if out.Credentials.Expiration == nil {
				return errors.New("no expiration")
			}
			return errors.Join(nonEmpty(out.Credentials.SessionToken), nonEmpty(out.AssumedRoleUser.Arn))
		})},
		{"ok/sts-GetSessionToken", sdkCall(ctx, cl.sts.GetSessionToken, &sts.GetSessionTokenInput{}, func(out *sts.GetSessionTokenOutput) error {
			return nonEmpty(out.Credentials.SecretAccessKey)
		})},
		{"ok/secretsmanager-GetSecretValue", sdkCall(ctx, cl.sm.GetSecretValue, &secretsmanager.GetSecretValueInput{SecretId: aws.String("x")}, func(out *secretsmanager.GetSecretValueOutput) error {
			if len(aws.ToString(out.SecretString)) != fixtureValueSize || out.CreatedDate == nil {
				return errors.New("wrong value size or no date")
			}
			return nil
		})},
		{"ok/secretsmanager-PutSecretValue", sdkCall(ctx, cl.sm.PutSecretValue, &secretsmanager.PutSecretValueInput{SecretId: aws.String("x"), SecretString: aws.String("v")}, func(out *secretsmanager.PutSecretValueOutput) error {
			return nonEmpty(out.VersionId)
		})},
		{"ok/secretsmanager-CreateSecret", sdkCall(ctx, cl.sm.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("x"), SecretString: aws.String("v")}, func(out *secretsmanager.CreateSecretOutput) error {
			return nonEmpty(out.ARN)
		})},
		{"ok/secretsmanager-DescribeSecret", sdkCall(ctx, cl.sm.DescribeSecret, &secretsmanager.DescribeSecretInput{SecretId: aws.String("x")}, nil)},
		{"ok/secretsmanager-DeleteSecret", sdkCall(ctx, cl.sm.DeleteSecret, &secretsmanager.DeleteSecretInput{SecretId: aws.String("x"), ForceDeleteWithoutRecovery: aws.Bool(true)}, nil)},
		{"ok/iam-CreateUser", sdkCall(ctx, cl.iam.CreateUser, &iam.CreateUserInput{UserName: aws.String("u")}, func(out *iam.CreateUserOutput) error {
			return nonEmpty(out.User.Arn)
		})},
		{"ok/iam-CreateAccessKey", sdkCall(ctx, cl.iam.CreateAccessKey, &iam.CreateAccessKeyInput{UserName: aws.String("u")}, func(out *iam.CreateAccessKeyOutput) error {
			return errors.Join(nonEmpty(out.AccessKey.AccessKeyId), nonEmpty(out.AccessKey.SecretAccessKey))
		})},
		{"ok/iam-CreateRole", sdkCall(ctx, cl.iam.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String("{}")}, func(out *iam.CreateRoleOutput) error {
			return nonEmpty(out.Role.Arn)
		})},
		{"ok/iam-PutUserPolicy", sdkCall(ctx, cl.iam.PutUserPolicy, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p"), PolicyDocument: aws.String("{}")}, nil)},
		{"ok/iam-PutRolePolicy", sdkCall(ctx, cl.iam.PutRolePolicy, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String("{}")}, nil)},
		{"ok/iam-DeleteAccessKey", sdkCall(ctx, cl.iam.DeleteAccessKey, &iam.DeleteAccessKeyInput{UserName: aws.String("u"), AccessKeyId: aws.String("AKIAEXAMPLEEXAMPLE01")}, nil)},
		{"ok/iam-DeleteUserPolicy", sdkCall(ctx, cl.iam.DeleteUserPolicy, &iam.DeleteUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p")}, nil)},
		{"ok/iam-DeleteUser", sdkCall(ctx, cl.iam.DeleteUser, &iam.DeleteUserInput{UserName: aws.String("u")}, nil)},
		{"ok/iam-DeleteRolePolicy", sdkCall(ctx, cl.iam.DeleteRolePolicy, &iam.DeleteRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p")}, nil)},
		{"ok/iam-DeleteRole", sdkCall(ctx, cl.iam.DeleteRole, &iam.DeleteRoleInput{RoleName: aws.String("r")}, nil)},
		{"ok/iam-CreatePolicy", sdkCall(ctx, cl.iam.CreatePolicy, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String("{}")}, func(out *iam.CreatePolicyOutput) error {
			return errors.Join(nonEmpty(out.Policy.Arn), nonEmpty(out.Policy.DefaultVersionId))
		})},
		{"ok/iam-CreateGroup", sdkCall(ctx, cl.iam.CreateGroup, &iam.CreateGroupInput{GroupName: aws.String("g")}, func(out *iam.CreateGroupOutput) error {
			return errors.Join(nonEmpty(out.Group.Arn), nonEmpty(out.Group.GroupName))
		})},
		{"ok/iam-AddUserToGroup", sdkCall(ctx, cl.iam.AddUserToGroup, &iam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: aws.String("u")}, nil)},
		{"ok/iam-AttachUserPolicy", sdkCall(ctx, cl.iam.AttachUserPolicy, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(ceilingPolicyARN)}, nil)},
		{"ok/iam-AttachGroupPolicy", sdkCall(ctx, cl.iam.AttachGroupPolicy, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(ceilingPolicyARN)}, nil)},
		{"ok/iam-DetachUserPolicy", sdkCall(ctx, cl.iam.DetachUserPolicy, &iam.DetachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(ceilingPolicyARN)}, nil)},
		{"ok/iam-DetachGroupPolicy", sdkCall(ctx, cl.iam.DetachGroupPolicy, &iam.DetachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(ceilingPolicyARN)}, nil)},
		{"ok/iam-RemoveUserFromGroup", sdkCall(ctx, cl.iam.RemoveUserFromGroup, &iam.RemoveUserFromGroupInput{GroupName: aws.String("g"), UserName: aws.String("u")}, nil)},
		{"ok/iam-DeleteGroup", sdkCall(ctx, cl.iam.DeleteGroup, &iam.DeleteGroupInput{GroupName: aws.String("g")}, nil)},
		{"ok/iam-DeletePolicy", sdkCall(ctx, cl.iam.DeletePolicy, &iam.DeletePolicyInput{PolicyArn: aws.String(ceilingPolicyARN)}, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Errorf("call = %v, want success", err)
			}
		})
	}
}

func TestCeilingRefusesOtherOperations(t *testing.T) {
	hs := httptest.NewServer(NewCeilingHandler())
	defer hs.Close()
	cl := testClients(t, hs.URL)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"fail/json-ListSecrets", sdkCall(ctx, cl.sm.ListSecrets, &secretsmanager.ListSecretsInput{}, nil)},
		{"fail/query-ListUsers", sdkCall(ctx, cl.iam.ListUsers, &iam.ListUsersInput{}, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidAction" {
				t.Errorf("call = %v, want API error InvalidAction", err)
			}
		})
	}

	resp, err := http.Post(hs.URL, "application/x-www-form-urlencoded", strings.NewReader("Version=2011-06-15"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no Action: status %d, want 400", resp.StatusCode)
	}
}

func TestQueryAction(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"ok/first", "Action=AssumeRole&Version=2011-06-15", "AssumeRole"},
		{"ok/last", "Version=2011-06-15&Action=GetSessionToken", "GetSessionToken"},
		{"ok/only", "Action=GetCallerIdentity", "GetCallerIdentity"},
		{"ok/escaped", "Action=Get%43allerIdentity", "GetCallerIdentity"},
		{"fail/none", "Version=2011-06-15", ""},
		{"fail/empty", "", ""},
		{"fail/suffix-of-name", "XAction=AssumeRole", ""},
		{"fail/bad-escape", "Action=%zz", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := queryAction([]byte(tt.body)); got != tt.want {
				t.Errorf("queryAction(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

// FuzzCeiling sends arbitrary requests to the ceiling: it must never panic
// and must answer 200 only for an operation it knows.
func FuzzCeiling(f *testing.F) {
	f.Add("", "Action=AssumeRole&Version=2011-06-15")
	f.Add("secretsmanager.GetSecretValue", `{"SecretId":"x"}`)
	f.Add("", "Action=%zz&&&=")
	f.Add("secretsmanager.", "")
	h := NewCeilingHandler()
	known := map[string]bool{}
	for k := range cannedJSON() {
		known[k] = true
	}
	for k := range cannedQuery() {
		known[k] = true
	}
	f.Fuzz(func(t *testing.T, target, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if target != "" {
			r.Header["X-Amz-Target"] = []string{target}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == http.StatusOK {
			op := target
			if op == "" {
				op = queryAction([]byte(body))
			}
			if !known[op] {
				t.Fatalf("200 for unknown operation target=%q body=%q", target, body)
			}
		}
	})
}
