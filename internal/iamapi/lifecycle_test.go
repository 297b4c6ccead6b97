package iamapi

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TestIAMLifecycle walks every operation through a create–use–delete cycle
// with the handlers, checking each step's response and that each step
// authorized its own action.
func TestIAMLifecycle(t *testing.T) {
	h := newIAMHarness(t)
	const acct = "arn:aws:iam::123456789012:"
	policyARN := acct + "policy/p"
	steps := []struct {
		action string
		kv     []string
		want   string // in the response body
	}{
		{"CreateUser", []string{"UserName", "bob"}, "<UserName>bob</UserName>"},
		{"UpdateUser", []string{"UserName", "bob", "NewUserName", "robert", "NewPath", "/ci/"}, ""},
		{"GetUser", []string{"UserName", "robert"}, "<Arn>" + acct + "user/ci/robert</Arn>"},
		{"TagUser", []string{"UserName", "robert", "Tags.member.1.Key", "team", "Tags.member.1.Value", "ci", "Tags.member.2.Key", "env", "Tags.member.2.Value", "prod"}, ""},
		{"UntagUser", []string{"UserName", "robert", "TagKeys.member.1", "env"}, ""},
		{"ListUserTags", []string{"UserName", "robert"}, "<Tags><member><Key>team</Key><Value>ci</Value></member></Tags>"},
		{"CreateAccessKey", []string{"UserName", "robert"}, "<Status>Active</Status>"},
		{"CreateGroup", []string{"GroupName", "devs"}, "<GroupName>devs</GroupName>"},
		{"UpdateGroup", []string{"GroupName", "devs", "NewGroupName", "builders", "NewPath", "/eng/"}, ""},
		{"ListGroups", []string{"PathPrefix", "/eng/"}, "<GroupName>builders</GroupName>"},
		{"AddUserToGroup", []string{"GroupName", "builders", "UserName", "robert"}, ""},
		{"ListGroupsForUser", []string{"UserName", "robert"}, "<Arn>" + acct + "group/eng/builders</Arn>"},
		{"PutGroupPolicy", []string{"GroupName", "builders", "PolicyName", "gp", "PolicyDocument", iamTestAllowRead}, ""},
		{"GetGroupPolicy", []string{"GroupName", "builders", "PolicyName", "gp"}, "<GroupName>builders</GroupName><PolicyName>gp</PolicyName><PolicyDocument>%7B"},
		{"ListGroupPolicies", []string{"GroupName", "builders"}, "<member>gp</member>"},
		{"DeleteGroupPolicy", []string{"GroupName", "builders", "PolicyName", "gp"}, ""},
		{"PutUserPolicy", []string{"UserName", "robert", "PolicyName", "up", "PolicyDocument", iamTestAllowRead}, ""},
		{"DeleteUserPolicy", []string{"UserName", "robert", "PolicyName", "up"}, ""},
		{"CreateRole", []string{"RoleName", "deploy", "AssumeRolePolicyDocument", iamTestTrust}, "<RoleName>deploy</RoleName>"},
		{"UpdateAssumeRolePolicy", []string{"RoleName", "deploy", "PolicyDocument", strings.Replace(iamTestTrust, ":root", ":user/ci/robert", 1)}, ""},
		{"TagRole", []string{"RoleName", "deploy", "Tags.member.1.Key", "k", "Tags.member.1.Value", "v"}, ""},
		{"ListRoleTags", []string{"RoleName", "deploy"}, "<Key>k</Key>"},
		{"UntagRole", []string{"RoleName", "deploy", "TagKeys.member.1", "k"}, ""},
		{"ListRoles", nil, "%3Auser%2Fci%2Frobert"},
		{"PutRolePolicy", []string{"RoleName", "deploy", "PolicyName", "rp", "PolicyDocument", iamTestAllowRead}, ""},
		{"GetRolePolicy", []string{"RoleName", "deploy", "PolicyName", "rp"}, "<RoleName>deploy</RoleName>"},
		{"ListRolePolicies", []string{"RoleName", "deploy"}, "<member>rp</member>"},
		{"DeleteRolePolicy", []string{"RoleName", "deploy", "PolicyName", "rp"}, ""},
		{"CreatePolicy", []string{"PolicyName", "p", "PolicyDocument", iamTestAllowRead}, "<Arn>" + policyARN + "</Arn>"},
		{"CreatePolicyVersion", []string{"PolicyArn", policyARN, "PolicyDocument", iamTestAllowRead}, "<VersionId>v2</VersionId><IsDefaultVersion>false</IsDefaultVersion>"},
		{"SetDefaultPolicyVersion", []string{"PolicyArn", policyARN, "VersionId", "v2"}, ""},
		{"ListPolicyVersions", []string{"PolicyArn", policyARN}, "<Versions><member><VersionId>v2</VersionId><IsDefaultVersion>true</IsDefaultVersion>"},
		{"DeletePolicyVersion", []string{"PolicyArn", policyARN, "VersionId", "v1"}, ""},
		{"AttachUserPolicy", []string{"UserName", "robert", "PolicyArn", policyARN}, ""},
		{"AttachGroupPolicy", []string{"GroupName", "builders", "PolicyArn", policyARN}, ""},
		{"AttachRolePolicy", []string{"RoleName", "deploy", "PolicyArn", policyARN}, ""},
		{"ListAttachedUserPolicies", []string{"UserName", "robert"}, "<PolicyName>p</PolicyName><PolicyArn>" + policyARN + "</PolicyArn>"},
		{"ListAttachedGroupPolicies", []string{"GroupName", "builders"}, "<PolicyName>p</PolicyName>"},
		{"ListAttachedRolePolicies", []string{"RoleName", "deploy"}, "<PolicyName>p</PolicyName>"},
		{"ListEntitiesForPolicy", []string{"PolicyArn", policyARN, "EntityFilter", "Role"}, "<PolicyGroups></PolicyGroups><PolicyUsers></PolicyUsers><PolicyRoles><member><RoleName>deploy</RoleName>"},
		{"ListPolicies", []string{"Scope", "Local", "OnlyAttached", "true"}, "<AttachmentCount>3</AttachmentCount>"},
		{"DetachUserPolicy", []string{"UserName", "robert", "PolicyArn", policyARN}, ""},
		{"DetachGroupPolicy", []string{"GroupName", "builders", "PolicyArn", policyARN}, ""},
		{"DetachRolePolicy", []string{"RoleName", "deploy", "PolicyArn", policyARN}, ""},
		{"DeletePolicy", []string{"PolicyArn", policyARN}, ""},
		{"DeleteRole", []string{"RoleName", "deploy"}, ""},
		{"RemoveUserFromGroup", []string{"GroupName", "builders", "UserName", "robert"}, ""},
		{"DeleteGroup", []string{"GroupName", "builders"}, ""},
		{"CreateVirtualMFADevice", []string{"VirtualMFADeviceName", "phone"}, "<SerialNumber>" + acct + "mfa/phone</SerialNumber>"},
		{"EnableMFADevice", nil, ""}, // codes filled in below
		{"ListMFADevices", []string{"UserName", "robert"}, "<SerialNumber>" + acct + "mfa/phone</SerialNumber>"},
		{"ListVirtualMFADevices", []string{"AssignmentStatus", "Assigned"}, "<User><Path>/ci/</Path><UserName>robert</UserName>"},
		{"DeactivateMFADevice", []string{"SerialNumber", acct + "mfa/phone"}, ""},
		{"DeleteVirtualMFADevice", []string{"SerialNumber", acct + "mfa/phone"}, ""},
		{"ListAccessKeys", []string{"UserName", "robert"}, "<UserName>robert</UserName>"},
		{"DeleteAccessKey", nil, ""}, // key id filled in below
		{"DeleteUser", []string{"UserName", "robert"}, ""},
		{"ListUsers", nil, "<Users><member><Path>/</Path><UserName>admin</UserName>"},
	}
	var seed string
	for _, st := range steps {
		kv := st.kv
		switch st.action {
		case "EnableMFADevice":
			now := time.Now()
			opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
			c1, _ := totp.GenerateCodeCustom(seed, now.Add(-30*time.Second), opts)
			c2, _ := totp.GenerateCodeCustom(seed, now, opts)
			kv = []string{"UserName", "robert", "SerialNumber", acct + "mfa/phone", "AuthenticationCode1", c1, "AuthenticationCode2", c2}
		case "DeleteAccessKey":
			keys, err := h.svc.ListAccessKeys(context.Background(), "robert")
			if err != nil || len(keys) != 1 {
				t.Fatalf("robert's keys: %v %v", keys, err)
			}
			kv = []string{"UserName", "robert", "AccessKeyId", keys[0].ID}
		}
		body, r, err := h.call(t, iamAdminCaller, st.action, kv...)
		if err != nil {
			t.Fatalf("%s: %v", st.action, err)
		}
		if !strings.Contains(body, st.want) {
			t.Errorf("%s: response lacks %s\n%s", st.action, st.want, body)
		}
		if len(r.Decisions) == 0 || r.Decisions[0].Action != "iam:"+st.action {
			t.Errorf("%s: authorized %+v", st.action, r.Decisions)
		}
		if st.action == "CreateVirtualMFADevice" {
			seed = h.mfaSeed(t, body)
		}
	}
}

// mfaSeed extracts the base32 seed from a CreateVirtualMFADevice response.
func (h *iamHarness) mfaSeed(t *testing.T, body string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, "<Base32StringSeed>")
	b64, _, ok2 := strings.Cut(rest, "</Base32StringSeed>")
	if !ok || !ok2 {
		t.Fatalf("no seed in %s", body)
	}
	seed, err := decodeStdBase64(b64)
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

func decodeStdBase64(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	return string(b), err
}
