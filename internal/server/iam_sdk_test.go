package server

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

const iamTestAccount = "123456789012"

const (
	iamTestAllowRead = `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:*:secret:/prod/*"}]}`
	iamTestTrust     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
)

// iamSDKBroker starts the broker in-process on a test HTTP server and
// returns an aws-sdk-go-v2 IAM client signed with the bootstrap admin's
// key, and a function making clients for other keys.
func iamSDKBroker(t *testing.T) (*sdkiam.Client, func(aws.Credentials) *sdkiam.Client) {
	t.Helper()
	b := newTestBroker(t, 0, nil)
	client := func(c aws.Credentials) *sdkiam.Client { return sdkiam.NewFromConfig(sdkConfig(b.url, c)) }
	return b.iamClient(), client
}

// TestIAMWithSDK drives the IAM API with the real aws-sdk-go-v2 client, so
// that request serialisation, response shapes and error codes are those
// the SDK understands.
func TestIAMWithSDK(t *testing.T) {
	admin, newClient := iamSDKBroker(t)
	ctx := context.Background()

	// Users, tags and pagination.
	for _, n := range []string{"ci", "dev1", "dev2"} {
		_, err := admin.CreateUser(ctx, &sdkiam.CreateUserInput{UserName: aws.String(n), Path: aws.String("/team/"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("ci")}}})
		must(t, "CreateUser", err)
	}
	gu, err := admin.GetUser(ctx, &sdkiam.GetUserInput{UserName: aws.String("CI")})
	must(t, "GetUser", err)
	if aws.ToString(gu.User.Arn) != "arn:aws:iam::123456789012:user/team/ci" || len(gu.User.Tags) != 1 || gu.User.CreateDate == nil {
		t.Errorf("GetUser = %+v", gu.User)
	}
	self, err := admin.GetUser(ctx, &sdkiam.GetUserInput{})
	must(t, "GetUser self", err)
	if aws.ToString(self.User.UserName) != "admin" {
		t.Errorf("GetUser self = %s", aws.ToString(self.User.UserName))
	}
	pager := sdkiam.NewListUsersPaginator(admin, &sdkiam.ListUsersInput{MaxItems: aws.Int32(2)})
	var names []string
	users := allPages(t, "ListUsers", pager.HasMorePages, pager.NextPage, func(p *sdkiam.ListUsersOutput) []iamtypes.User { return p.Users })
	for _, u := range users {
		names = append(names, aws.ToString(u.UserName))
	}
	if s := strings.Join(names, ","); s != "admin,ci,dev1,dev2" {
		t.Errorf("paged ListUsers = %s", s)
	}
	_, err = admin.GetUser(ctx, &sdkiam.GetUserInput{UserName: aws.String("nobody")})
	if errCode(err) != "NoSuchEntity" {
		t.Errorf("GetUser(nobody) = %v, want NoSuchEntity", err)
	}
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) || !strings.Contains(nse.ErrorMessage(), "The user with name nobody cannot be found.") {
		t.Errorf("GetUser(nobody) error is not a typed NoSuchEntityException with AWS's message: %v", err)
	}

	// Access keys: the new user can act only within its policies.
	key, err := admin.CreateAccessKey(ctx, &sdkiam.CreateAccessKeyInput{UserName: aws.String("ci")})
	must(t, "CreateAccessKey", err)
	ci := newClient(accessKeyCreds(key.AccessKey))
	_, err = ci.ListUsers(ctx, &sdkiam.ListUsersInput{})
	if errCode(err) != "AccessDenied" {
		t.Errorf("ci ListUsers without policy = %v, want AccessDenied", err)
	}
	selfPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:ListAccessKeys"],"Resource":"arn:aws:iam::123456789012:user/team/${aws:username}"}]}`
	_, err = admin.PutUserPolicy(ctx, &sdkiam.PutUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("self"), PolicyDocument: aws.String(selfPolicy)})
	must(t, "PutUserPolicy", err)
	if _, err := ci.GetUser(ctx, &sdkiam.GetUserInput{}); err != nil {
		t.Errorf("ci GetUser self with policy: %v", err)
	}
	if _, err := ci.GetUser(ctx, &sdkiam.GetUserInput{UserName: aws.String("dev1")}); errCode(err) != "AccessDenied" {
		t.Errorf("ci GetUser dev1 = %v, want AccessDenied", err)
	}
	lk, err := ci.ListAccessKeys(ctx, &sdkiam.ListAccessKeysInput{})
	must(t, "ListAccessKeys", err)
	if len(lk.AccessKeyMetadata) != 1 || lk.AccessKeyMetadata[0].Status != iamtypes.StatusTypeActive {
		t.Errorf("ListAccessKeys = %+v", lk.AccessKeyMetadata)
	}
	gp, err := admin.GetUserPolicy(ctx, &sdkiam.GetUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("self")})
	must(t, "GetUserPolicy", err)
	if doc, err := url.QueryUnescape(aws.ToString(gp.PolicyDocument)); err != nil || doc != selfPolicy {
		t.Errorf("GetUserPolicy document decodes to %q, %v", doc, err)
	}
	lu, err := admin.GetAccessKeyLastUsed(ctx, &sdkiam.GetAccessKeyLastUsedInput{AccessKeyId: key.AccessKey.AccessKeyId})
	must(t, "GetAccessKeyLastUsed", err)
	if aws.ToString(lu.UserName) != "ci" || lu.AccessKeyLastUsed == nil {
		t.Errorf("GetAccessKeyLastUsed = %+v", lu)
	}
	_, err = admin.UpdateAccessKey(ctx, &sdkiam.UpdateAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: key.AccessKey.AccessKeyId, Status: iamtypes.StatusTypeInactive})
	must(t, "UpdateAccessKey", err)
	if _, err := ci.GetUser(ctx, &sdkiam.GetUserInput{}); errCode(err) != "InvalidClientTokenId" {
		t.Errorf("inactive key = %v, want InvalidClientTokenId", err)
	}

	// Groups.
	_, err = admin.CreateGroup(ctx, &sdkiam.CreateGroupInput{GroupName: aws.String("devs")})
	must(t, "CreateGroup", err)
	_, err = admin.AddUserToGroup(ctx, &sdkiam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("dev1")})
	must(t, "AddUserToGroup", err)
	gg, err := admin.GetGroup(ctx, &sdkiam.GetGroupInput{GroupName: aws.String("devs")})
	must(t, "GetGroup", err)
	if len(gg.Users) != 1 || aws.ToString(gg.Users[0].UserName) != "dev1" || aws.ToString(gg.Group.GroupName) != "devs" {
		t.Errorf("GetGroup = %+v", gg)
	}
	_, err = admin.DeleteGroup(ctx, &sdkiam.DeleteGroupInput{GroupName: aws.String("devs")})
	var dc *iamtypes.DeleteConflictException
	if !errors.As(err, &dc) {
		t.Errorf("DeleteGroup with members = %v, want DeleteConflictException", err)
	}

	// Roles and trust policies.
	_, err = admin.CreateRole(ctx, &sdkiam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: aws.String(iamTestTrust), MaxSessionDuration: aws.Int32(7200), Description: aws.String("CI deploys")})
	must(t, "CreateRole", err)
	gr, err := admin.GetRole(ctx, &sdkiam.GetRoleInput{RoleName: aws.String("deploy")})
	must(t, "GetRole", err)
	if doc, _ := url.QueryUnescape(aws.ToString(gr.Role.AssumeRolePolicyDocument)); doc != iamTestTrust || aws.ToInt32(gr.Role.MaxSessionDuration) != 7200 || aws.ToString(gr.Role.Description) != "CI deploys" {
		t.Errorf("GetRole = %+v", gr.Role)
	}
	_, err = admin.CreateRole(ctx, &sdkiam.CreateRoleInput{RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String(iamTestAllowRead)})
	var mpd *iamtypes.MalformedPolicyDocumentException
	if !errors.As(err, &mpd) {
		t.Errorf("CreateRole with identity policy as trust = %v, want MalformedPolicyDocumentException", err)
	}
	_, err = admin.UpdateRole(ctx, &sdkiam.UpdateRoleInput{RoleName: aws.String("deploy"), MaxSessionDuration: aws.Int32(3600)})
	must(t, "UpdateRole", err)

	// Managed policies, versions and attachments.
	cp, err := admin.CreatePolicy(ctx, &sdkiam.CreatePolicyInput{PolicyName: aws.String("read-prod"), PolicyDocument: aws.String(iamTestAllowRead), Description: aws.String("read /prod")})
	must(t, "CreatePolicy", err)
	arn := cp.Policy.Arn
	_, err = admin.CreatePolicyVersion(ctx, &sdkiam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(selfPolicy), SetAsDefault: true})
	must(t, "CreatePolicyVersion", err)
	pv, err := admin.GetPolicyVersion(ctx, &sdkiam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v2")})
	must(t, "GetPolicyVersion", err)
	if doc, _ := url.QueryUnescape(aws.ToString(pv.PolicyVersion.Document)); doc != selfPolicy || !pv.PolicyVersion.IsDefaultVersion {
		t.Errorf("GetPolicyVersion = %+v", pv.PolicyVersion)
	}
	lv, err := admin.ListPolicyVersions(ctx, &sdkiam.ListPolicyVersionsInput{PolicyArn: arn})
	must(t, "ListPolicyVersions", err)
	if len(lv.Versions) != 2 {
		t.Errorf("ListPolicyVersions = %d versions", len(lv.Versions))
	}
	_, err = admin.AttachRolePolicy(ctx, &sdkiam.AttachRolePolicyInput{RoleName: aws.String("deploy"), PolicyArn: arn})
	must(t, "AttachRolePolicy", err)
	_, err = admin.AttachGroupPolicy(ctx, &sdkiam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: arn})
	must(t, "AttachGroupPolicy", err)
	ents, err := admin.ListEntitiesForPolicy(ctx, &sdkiam.ListEntitiesForPolicyInput{PolicyArn: arn})
	must(t, "ListEntitiesForPolicy", err)
	if len(ents.PolicyRoles) != 1 || len(ents.PolicyGroups) != 1 || len(ents.PolicyUsers) != 0 {
		t.Errorf("ListEntitiesForPolicy = %+v", ents)
	}
	lap, err := admin.ListAttachedRolePolicies(ctx, &sdkiam.ListAttachedRolePoliciesInput{RoleName: aws.String("deploy")})
	must(t, "ListAttachedRolePolicies", err)
	if len(lap.AttachedPolicies) != 1 || aws.ToString(lap.AttachedPolicies[0].PolicyName) != "read-prod" {
		t.Errorf("ListAttachedRolePolicies = %+v", lap.AttachedPolicies)
	}
	lp, err := admin.ListPolicies(ctx, &sdkiam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal})
	must(t, "ListPolicies", err)
	if len(lp.Policies) != 1 || aws.ToInt32(lp.Policies[0].AttachmentCount) != 2 {
		t.Errorf("ListPolicies(Local) = %+v", lp.Policies)
	}
	_, err = admin.DeletePolicy(ctx, &sdkiam.DeletePolicyInput{PolicyArn: arn})
	if !errors.As(err, &dc) {
		t.Errorf("DeletePolicy attached = %v, want DeleteConflictException", err)
	}

	// Virtual MFA.
	mfa, err := admin.CreateVirtualMFADevice(ctx, &sdkiam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("ci-phone")})
	must(t, "CreateVirtualMFADevice", err)
	seed := string(mfa.VirtualMFADevice.Base32StringSeed)
	if len(seed) != 64 || len(mfa.VirtualMFADevice.QRCodePNG) < 100 || string(mfa.VirtualMFADevice.QRCodePNG[1:4]) != "PNG" {
		t.Fatalf("CreateVirtualMFADevice seed %d chars, QR %d bytes", len(seed), len(mfa.VirtualMFADevice.QRCodePNG))
	}
	now := time.Now()
	opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	c1, _ := totp.GenerateCodeCustom(seed, now.Add(-30*time.Second), opts)
	c2, _ := totp.GenerateCodeCustom(seed, now, opts)
	_, err = admin.EnableMFADevice(ctx, &sdkiam.EnableMFADeviceInput{UserName: aws.String("dev2"), SerialNumber: mfa.VirtualMFADevice.SerialNumber, AuthenticationCode1: aws.String(c2), AuthenticationCode2: aws.String(c1)})
	var iac *iamtypes.InvalidAuthenticationCodeException
	if !errors.As(err, &iac) {
		t.Errorf("EnableMFADevice with codes swapped = %v, want InvalidAuthenticationCodeException", err)
	}
	_, err = admin.EnableMFADevice(ctx, &sdkiam.EnableMFADeviceInput{UserName: aws.String("dev2"), SerialNumber: mfa.VirtualMFADevice.SerialNumber, AuthenticationCode1: aws.String(c1), AuthenticationCode2: aws.String(c2)})
	must(t, "EnableMFADevice", err)
	lm, err := admin.ListMFADevices(ctx, &sdkiam.ListMFADevicesInput{UserName: aws.String("dev2")})
	must(t, "ListMFADevices", err)
	if len(lm.MFADevices) != 1 || aws.ToString(lm.MFADevices[0].SerialNumber) != aws.ToString(mfa.VirtualMFADevice.SerialNumber) {
		t.Errorf("ListMFADevices = %+v", lm.MFADevices)
	}
	lvm, err := admin.ListVirtualMFADevices(ctx, &sdkiam.ListVirtualMFADevicesInput{AssignmentStatus: iamtypes.AssignmentStatusTypeAssigned})
	must(t, "ListVirtualMFADevices", err)
	if len(lvm.VirtualMFADevices) != 1 || lvm.VirtualMFADevices[0].User == nil || lvm.VirtualMFADevices[0].Base32StringSeed != nil {
		t.Errorf("ListVirtualMFADevices = %+v", lvm.VirtualMFADevices)
	}
	_, err = admin.DeactivateMFADevice(ctx, &sdkiam.DeactivateMFADeviceInput{UserName: aws.String("dev2"), SerialNumber: mfa.VirtualMFADevice.SerialNumber})
	must(t, "DeactivateMFADevice", err)
	_, err = admin.DeleteVirtualMFADevice(ctx, &sdkiam.DeleteVirtualMFADeviceInput{SerialNumber: mfa.VirtualMFADevice.SerialNumber})
	must(t, "DeleteVirtualMFADevice", err)

	// Policy simulator.
	sim, err := admin.SimulatePrincipalPolicy(ctx, &sdkiam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::123456789012:role/deploy"),
		ActionNames:     []string{"iam:GetUser", "iam:DeleteUser"},
		ResourceArns:    []string{"arn:aws:iam::123456789012:user/team/ci"},
		ContextEntries:  []iamtypes.ContextEntry{{ContextKeyName: aws.String("aws:username"), ContextKeyType: iamtypes.ContextKeyTypeEnumString, ContextKeyValues: []string{"ci"}}},
	})
	must(t, "SimulatePrincipalPolicy", err)
	if len(sim.EvaluationResults) != 2 || sim.EvaluationResults[0].EvalDecision != iamtypes.PolicyEvaluationDecisionTypeAllowed || sim.EvaluationResults[1].EvalDecision != iamtypes.PolicyEvaluationDecisionTypeImplicitDeny {
		t.Errorf("SimulatePrincipalPolicy = %+v", sim.EvaluationResults)
	} else if m := sim.EvaluationResults[0].MatchedStatements; len(m) != 1 || aws.ToString(m[0].SourcePolicyId) != aws.ToString(arn) || m[0].SourcePolicyType != iamtypes.PolicySourceTypeUserManaged || m[0].StartPosition == nil {
		t.Errorf("MatchedStatements = %+v", m)
	}

}
