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
		{"ok/sts-GetCallerIdentity", func() error {
			out, err := cl.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				return err
			}
			return nonEmpty(out.Arn)
		}},
		{"ok/sts-AssumeRole", func() error {
			out, err := cl.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: aws.String("s")})
			if err != nil {
				return err
			}
			if out.Credentials.Expiration == nil {
				return errors.New("no expiration")
			}
			return errors.Join(nonEmpty(out.Credentials.SessionToken), nonEmpty(out.AssumedRoleUser.Arn))
		}},
		{"ok/sts-GetSessionToken", func() error {
			out, err := cl.sts.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
			if err != nil {
				return err
			}
			return nonEmpty(out.Credentials.SecretAccessKey)
		}},
		{"ok/secretsmanager-GetSecretValue", func() error {
			out, err := cl.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("x")})
			if err != nil {
				return err
			}
			if len(aws.ToString(out.SecretString)) != fixtureValueSize || out.CreatedDate == nil {
				return errors.New("wrong value size or no date")
			}
			return nil
		}},
		{"ok/secretsmanager-PutSecretValue", func() error {
			out, err := cl.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("x"), SecretString: aws.String("v")})
			if err != nil {
				return err
			}
			return nonEmpty(out.VersionId)
		}},
		{"ok/secretsmanager-CreateSecret", func() error {
			out, err := cl.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("x"), SecretString: aws.String("v")})
			if err != nil {
				return err
			}
			return nonEmpty(out.ARN)
		}},
		{"ok/secretsmanager-DescribeSecret", func() error {
			_, err := cl.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("x")})
			return err
		}},
		{"ok/secretsmanager-DeleteSecret", func() error {
			_, err := cl.sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("x"), ForceDeleteWithoutRecovery: aws.Bool(true)})
			return err
		}},
		{"ok/iam-CreateUser", func() error {
			out, err := cl.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")})
			if err != nil {
				return err
			}
			return nonEmpty(out.User.Arn)
		}},
		{"ok/iam-CreateAccessKey", func() error {
			out, err := cl.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("u")})
			if err != nil {
				return err
			}
			return errors.Join(nonEmpty(out.AccessKey.AccessKeyId), nonEmpty(out.AccessKey.SecretAccessKey))
		}},
		{"ok/iam-CreateRole", func() error {
			out, err := cl.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String("{}")})
			if err != nil {
				return err
			}
			return nonEmpty(out.Role.Arn)
		}},
		{"ok/iam-PutUserPolicy", func() error {
			_, err := cl.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p"), PolicyDocument: aws.String("{}")})
			return err
		}},
		{"ok/iam-PutRolePolicy", func() error {
			_, err := cl.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String("{}")})
			return err
		}},
		{"ok/iam-DeleteAccessKey", func() error {
			_, err := cl.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("u"), AccessKeyId: aws.String("AKIAEXAMPLEEXAMPLE01")})
			return err
		}},
		{"ok/iam-DeleteUserPolicy", func() error {
			_, err := cl.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p")})
			return err
		}},
		{"ok/iam-DeleteUser", func() error {
			_, err := cl.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("u")})
			return err
		}},
		{"ok/iam-DeleteRolePolicy", func() error {
			_, err := cl.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p")})
			return err
		}},
		{"ok/iam-DeleteRole", func() error {
			_, err := cl.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")})
			return err
		}},
		{"ok/iam-CreatePolicy", func() error {
			out, err := cl.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String("{}")})
			if err != nil {
				return err
			}
			return errors.Join(nonEmpty(out.Policy.Arn), nonEmpty(out.Policy.DefaultVersionId))
		}},
		{"ok/iam-CreateGroup", func() error {
			out, err := cl.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")})
			if err != nil {
				return err
			}
			return errors.Join(nonEmpty(out.Group.Arn), nonEmpty(out.Group.GroupName))
		}},
		{"ok/iam-AddUserToGroup", func() error {
			_, err := cl.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: aws.String("u")})
			return err
		}},
		{"ok/iam-AttachUserPolicy", func() error {
			_, err := cl.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(ceilingPolicyARN)})
			return err
		}},
		{"ok/iam-AttachGroupPolicy", func() error {
			_, err := cl.iam.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(ceilingPolicyARN)})
			return err
		}},
		{"ok/iam-DetachUserPolicy", func() error {
			_, err := cl.iam.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(ceilingPolicyARN)})
			return err
		}},
		{"ok/iam-DetachGroupPolicy", func() error {
			_, err := cl.iam.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(ceilingPolicyARN)})
			return err
		}},
		{"ok/iam-RemoveUserFromGroup", func() error {
			_, err := cl.iam.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("g"), UserName: aws.String("u")})
			return err
		}},
		{"ok/iam-DeleteGroup", func() error {
			_, err := cl.iam.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("g")})
			return err
		}},
		{"ok/iam-DeletePolicy", func() error {
			_, err := cl.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(ceilingPolicyARN)})
			return err
		}},
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
		{"fail/json-ListSecrets", func() error {
			_, err := cl.sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
			return err
		}},
		{"fail/query-ListUsers", func() error {
			_, err := cl.iam.ListUsers(ctx, &iam.ListUsersInput{})
			return err
		}},
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
