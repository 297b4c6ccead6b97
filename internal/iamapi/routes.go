package iamapi

import (
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// Register adds the IAM operations of the broker to the operations table,
// one line each. Shapes and member names follow botocore's iam
// service-2.json.
func Register(m *rpc.Mux, svc *iam.Service) {
	registerIdentities(m, svc)
	registerPolicies(m, svc)
	registerCredentials(m, svc)
}

// registerIdentities: users, their access keys, groups and roles.
func registerIdentities(m *rpc.Mux, svc *iam.Service) {
	// Users
	m.Query("iam", "CreateUser", rpc.IAM, handleCreateUser(svc))
	m.Query("iam", "GetUser", rpc.IAM|rpc.Read, handleGetUser(svc))
	m.Query("iam", "ListUsers", rpc.IAM|rpc.Read, handleListUsers(svc))
	m.Query("iam", "UpdateUser", rpc.IAM, handleRename(svc, iamUsers(svc), svc.UpdateUser))
	m.Query("iam", "DeleteUser", rpc.IAM, handleDelete(iamUsers(svc)))
	m.Query("iam", "TagUser", rpc.IAM, handleTag(iamUsers(svc)))
	m.Query("iam", "UntagUser", rpc.IAM, handleUntag(iamUsers(svc)))
	m.Query("iam", "ListUserTags", rpc.IAM|rpc.Read, handleListTags(iamUsers(svc)))

	// Access keys
	m.Query("iam", "CreateAccessKey", rpc.IAM, handleCreateAccessKey(svc))
	m.Query("iam", "ListAccessKeys", rpc.IAM|rpc.Read, handleListAccessKeys(svc))
	m.Query("iam", "UpdateAccessKey", rpc.IAM, handleUpdateAccessKey(svc))
	m.Query("iam", "DeleteAccessKey", rpc.IAM, handleDeleteAccessKey(svc))
	m.Query("iam", "GetAccessKeyLastUsed", rpc.IAM|rpc.Read, handleGetAccessKeyLastUsed(svc))

	// Groups
	m.Query("iam", "CreateGroup", rpc.IAM, handleCreateGroup(svc))
	m.Query("iam", "GetGroup", rpc.IAM|rpc.Read, handleGetGroup(svc))
	m.Query("iam", "ListGroups", rpc.IAM|rpc.Read, handleListGroups(svc))
	m.Query("iam", "UpdateGroup", rpc.IAM, handleRename(svc, iamGroups(svc), svc.UpdateGroup))
	m.Query("iam", "DeleteGroup", rpc.IAM, handleDelete(iamGroups(svc)))
	m.Query("iam", "AddUserToGroup", rpc.IAM, handleMembership(svc, "iam:AddUserToGroup", svc.AddUserToGroup))
	m.Query("iam", "RemoveUserFromGroup", rpc.IAM, handleMembership(svc, "iam:RemoveUserFromGroup", svc.RemoveUserFromGroup))
	m.Query("iam", "ListGroupsForUser", rpc.IAM|rpc.Read, handleListGroupsForUser(svc))

	// Roles
	m.Query("iam", "CreateRole", rpc.IAM, handleCreateRole(svc))
	m.Query("iam", "GetRole", rpc.IAM|rpc.Read, handleGetRole(svc))
	m.Query("iam", "ListRoles", rpc.IAM|rpc.Read, handleListRoles(svc))
	m.Query("iam", "UpdateRole", rpc.IAM, handleUpdateRole(svc))
	m.Query("iam", "UpdateAssumeRolePolicy", rpc.IAM, handleUpdateAssumeRolePolicy(svc))
	m.Query("iam", "DeleteRole", rpc.IAM, handleDelete(iamRoles(svc)))
	m.Query("iam", "TagRole", rpc.IAM, handleTag(iamRoles(svc)))
	m.Query("iam", "UntagRole", rpc.IAM, handleUntag(iamRoles(svc)))
	m.Query("iam", "ListRoleTags", rpc.IAM|rpc.Read, handleListTags(iamRoles(svc)))
}

// registerPolicies: inline and managed policies, attachments, the
// simulator.
func registerPolicies(m *rpc.Mux, svc *iam.Service) {
	// Inline policies
	m.Query("iam", "PutUserPolicy", rpc.IAM, handlePutInlinePolicy(svc, iam.KindUser))
	m.Query("iam", "GetUserPolicy", rpc.IAM|rpc.Read, handleGetInlinePolicy(svc, iam.KindUser))
	m.Query("iam", "ListUserPolicies", rpc.IAM|rpc.Read, handleListInlinePolicies(svc, iam.KindUser))
	m.Query("iam", "DeleteUserPolicy", rpc.IAM, handleDeleteInlinePolicy(svc, iam.KindUser))
	m.Query("iam", "PutGroupPolicy", rpc.IAM, handlePutInlinePolicy(svc, iam.KindGroup))
	m.Query("iam", "GetGroupPolicy", rpc.IAM|rpc.Read, handleGetInlinePolicy(svc, iam.KindGroup))
	m.Query("iam", "ListGroupPolicies", rpc.IAM|rpc.Read, handleListInlinePolicies(svc, iam.KindGroup))
	m.Query("iam", "DeleteGroupPolicy", rpc.IAM, handleDeleteInlinePolicy(svc, iam.KindGroup))
	m.Query("iam", "PutRolePolicy", rpc.IAM, handlePutInlinePolicy(svc, iam.KindRole))
	m.Query("iam", "GetRolePolicy", rpc.IAM|rpc.Read, handleGetInlinePolicy(svc, iam.KindRole))
	m.Query("iam", "ListRolePolicies", rpc.IAM|rpc.Read, handleListInlinePolicies(svc, iam.KindRole))
	m.Query("iam", "DeleteRolePolicy", rpc.IAM, handleDeleteInlinePolicy(svc, iam.KindRole))

	// Managed policies and versions
	m.Query("iam", "CreatePolicy", rpc.IAM, handleCreatePolicy(svc))
	m.Query("iam", "GetPolicy", rpc.IAM|rpc.Read, handleGetPolicy(svc))
	m.Query("iam", "ListPolicies", rpc.IAM|rpc.Read, handleListPolicies(svc))
	m.Query("iam", "DeletePolicy", rpc.IAM, handleDeletePolicy(svc))
	m.Query("iam", "CreatePolicyVersion", rpc.IAM, handleCreatePolicyVersion(svc))
	m.Query("iam", "GetPolicyVersion", rpc.IAM|rpc.Read, handleGetPolicyVersion(svc))
	m.Query("iam", "ListPolicyVersions", rpc.IAM|rpc.Read, handleListPolicyVersions(svc))
	m.Query("iam", "DeletePolicyVersion", rpc.IAM, handleDeletePolicyVersion(svc))
	m.Query("iam", "SetDefaultPolicyVersion", rpc.IAM, handleSetDefaultPolicyVersion(svc))

	// Attachments
	m.Query("iam", "AttachUserPolicy", rpc.IAM, handleAttachPolicy(svc, iam.KindUser))
	m.Query("iam", "DetachUserPolicy", rpc.IAM, handleDetachPolicy(svc, iam.KindUser))
	m.Query("iam", "ListAttachedUserPolicies", rpc.IAM|rpc.Read, handleListAttachedPolicies(svc, iam.KindUser))
	m.Query("iam", "AttachGroupPolicy", rpc.IAM, handleAttachPolicy(svc, iam.KindGroup))
	m.Query("iam", "DetachGroupPolicy", rpc.IAM, handleDetachPolicy(svc, iam.KindGroup))
	m.Query("iam", "ListAttachedGroupPolicies", rpc.IAM|rpc.Read, handleListAttachedPolicies(svc, iam.KindGroup))
	m.Query("iam", "AttachRolePolicy", rpc.IAM, handleAttachPolicy(svc, iam.KindRole))
	m.Query("iam", "DetachRolePolicy", rpc.IAM, handleDetachPolicy(svc, iam.KindRole))
	m.Query("iam", "ListAttachedRolePolicies", rpc.IAM|rpc.Read, handleListAttachedPolicies(svc, iam.KindRole))
	m.Query("iam", "ListEntitiesForPolicy", rpc.IAM|rpc.Read, handleListEntitiesForPolicy(svc))

	// Policy simulator
	m.Query("iam", "SimulatePrincipalPolicy", rpc.IAM|rpc.Read, handleSimulatePrincipalPolicy(svc))
	m.Query("iam", "SimulateCustomPolicy", rpc.IAM|rpc.Read, handleSimulateCustomPolicy(svc))
}

// registerCredentials: MFA devices, passwords, OpenID Connect providers.
func registerCredentials(m *rpc.Mux, svc *iam.Service) {
	// Virtual MFA devices
	m.Query("iam", "CreateVirtualMFADevice", rpc.IAM, handleCreateVirtualMFADevice(svc))
	m.Query("iam", "EnableMFADevice", rpc.IAM, handleEnableMFADevice(svc))
	m.Query("iam", "DeactivateMFADevice", rpc.IAM, handleDeactivateMFADevice(svc))
	m.Query("iam", "DeleteVirtualMFADevice", rpc.IAM, handleDeleteVirtualMFADevice(svc))
	m.Query("iam", "ListMFADevices", rpc.IAM|rpc.Read, handleListMFADevices(svc))
	m.Query("iam", "ListVirtualMFADevices", rpc.IAM|rpc.Read, handleListVirtualMFADevices(svc))

	// Login profiles, the approval page's passwords (login.go)
	m.Query("iam", "CreateLoginProfile", rpc.IAM, handleCreateLoginProfile(svc))
	m.Query("iam", "GetLoginProfile", rpc.IAM|rpc.Read, handleGetLoginProfile(svc))
	m.Query("iam", "UpdateLoginProfile", rpc.IAM, handleUpdateLoginProfile(svc))
	m.Query("iam", "DeleteLoginProfile", rpc.IAM, handleDeleteLoginProfile(svc))
	m.Query("iam", "ChangePassword", rpc.IAM, handleChangePassword(svc))

	// OpenID Connect providers (oidc.go)
	m.Query("iam", "CreateOpenIDConnectProvider", rpc.IAM, handleCreateOpenIDConnectProvider(svc))
	m.Query("iam", "GetOpenIDConnectProvider", rpc.IAM|rpc.Read, handleGetOpenIDConnectProvider(svc))
	m.Query("iam", "ListOpenIDConnectProviders", rpc.IAM|rpc.Read, handleListOpenIDConnectProviders(svc))
	m.Query("iam", "DeleteOpenIDConnectProvider", rpc.IAM, handleDelete(iamOIDCProviders(svc)))
	m.Query("iam", "AddClientIDToOpenIDConnectProvider", rpc.IAM, handleAddClientIDToOpenIDConnectProvider(svc))
	m.Query("iam", "RemoveClientIDFromOpenIDConnectProvider", rpc.IAM, handleRemoveClientIDFromOpenIDConnectProvider(svc))
	m.Query("iam", "UpdateOpenIDConnectProviderThumbprint", rpc.IAM, handleUpdateOpenIDConnectProviderThumbprint(svc))
	m.Query("iam", "TagOpenIDConnectProvider", rpc.IAM, handleTag(iamOIDCProviders(svc)))
	m.Query("iam", "UntagOpenIDConnectProvider", rpc.IAM, handleUntag(iamOIDCProviders(svc)))
	m.Query("iam", "ListOpenIDConnectProviderTags", rpc.IAM|rpc.Read, handleListTags(iamOIDCProviders(svc)))
}
