package server

import "github.com/shortfuse/shortfuse/internal/iam"

// addIAMOperations registers the IAM operations of the broker, one line
// each. Shapes and member names follow botocore's iam service-2.json.
func addIAMOperations(m *Mux, svc *iam.Service) {
	// Users
	m.Query("iam", "CreateUser", handleCreateUser(svc))
	m.Query("iam", "GetUser", handleGetUser(svc))
	m.Query("iam", "ListUsers", handleListUsers(svc))
	m.Query("iam", "UpdateUser", handleUpdateUser(svc))
	m.Query("iam", "DeleteUser", handleDeleteUser(svc))
	m.Query("iam", "TagUser", handleTagUser(svc))
	m.Query("iam", "UntagUser", handleUntagUser(svc))
	m.Query("iam", "ListUserTags", handleListUserTags(svc))

	// Access keys
	m.Query("iam", "CreateAccessKey", handleCreateAccessKey(svc))
	m.Query("iam", "ListAccessKeys", handleListAccessKeys(svc))
	m.Query("iam", "UpdateAccessKey", handleUpdateAccessKey(svc))
	m.Query("iam", "DeleteAccessKey", handleDeleteAccessKey(svc))
	m.Query("iam", "GetAccessKeyLastUsed", handleGetAccessKeyLastUsed(svc))

	// Groups
	m.Query("iam", "CreateGroup", handleCreateGroup(svc))
	m.Query("iam", "GetGroup", handleGetGroup(svc))
	m.Query("iam", "ListGroups", handleListGroups(svc))
	m.Query("iam", "UpdateGroup", handleUpdateGroup(svc))
	m.Query("iam", "DeleteGroup", handleDeleteGroup(svc))
	m.Query("iam", "AddUserToGroup", handleAddUserToGroup(svc))
	m.Query("iam", "RemoveUserFromGroup", handleRemoveUserFromGroup(svc))
	m.Query("iam", "ListGroupsForUser", handleListGroupsForUser(svc))

	// Roles
	m.Query("iam", "CreateRole", handleCreateRole(svc))
	m.Query("iam", "GetRole", handleGetRole(svc))
	m.Query("iam", "ListRoles", handleListRoles(svc))
	m.Query("iam", "UpdateRole", handleUpdateRole(svc))
	m.Query("iam", "UpdateAssumeRolePolicy", handleUpdateAssumeRolePolicy(svc))
	m.Query("iam", "DeleteRole", handleDeleteRole(svc))
	m.Query("iam", "TagRole", handleTagRole(svc))
	m.Query("iam", "UntagRole", handleUntagRole(svc))
	m.Query("iam", "ListRoleTags", handleListRoleTags(svc))

	// Inline policies
	m.Query("iam", "PutUserPolicy", handlePutInlinePolicy(svc, iam.KindUser))
	m.Query("iam", "GetUserPolicy", handleGetInlinePolicy(svc, iam.KindUser))
	m.Query("iam", "ListUserPolicies", handleListInlinePolicies(svc, iam.KindUser))
	m.Query("iam", "DeleteUserPolicy", handleDeleteInlinePolicy(svc, iam.KindUser))
	m.Query("iam", "PutGroupPolicy", handlePutInlinePolicy(svc, iam.KindGroup))
	m.Query("iam", "GetGroupPolicy", handleGetInlinePolicy(svc, iam.KindGroup))
	m.Query("iam", "ListGroupPolicies", handleListInlinePolicies(svc, iam.KindGroup))
	m.Query("iam", "DeleteGroupPolicy", handleDeleteInlinePolicy(svc, iam.KindGroup))
	m.Query("iam", "PutRolePolicy", handlePutInlinePolicy(svc, iam.KindRole))
	m.Query("iam", "GetRolePolicy", handleGetInlinePolicy(svc, iam.KindRole))
	m.Query("iam", "ListRolePolicies", handleListInlinePolicies(svc, iam.KindRole))
	m.Query("iam", "DeleteRolePolicy", handleDeleteInlinePolicy(svc, iam.KindRole))

	// Managed policies and versions
	m.Query("iam", "CreatePolicy", handleCreatePolicy(svc))
	m.Query("iam", "GetPolicy", handleGetPolicy(svc))
	m.Query("iam", "ListPolicies", handleListPolicies(svc))
	m.Query("iam", "DeletePolicy", handleDeletePolicy(svc))
	m.Query("iam", "CreatePolicyVersion", handleCreatePolicyVersion(svc))
	m.Query("iam", "GetPolicyVersion", handleGetPolicyVersion(svc))
	m.Query("iam", "ListPolicyVersions", handleListPolicyVersions(svc))
	m.Query("iam", "DeletePolicyVersion", handleDeletePolicyVersion(svc))
	m.Query("iam", "SetDefaultPolicyVersion", handleSetDefaultPolicyVersion(svc))

	// Attachments
	m.Query("iam", "AttachUserPolicy", handleAttachPolicy(svc, iam.KindUser))
	m.Query("iam", "DetachUserPolicy", handleDetachPolicy(svc, iam.KindUser))
	m.Query("iam", "ListAttachedUserPolicies", handleListAttachedPolicies(svc, iam.KindUser))
	m.Query("iam", "AttachGroupPolicy", handleAttachPolicy(svc, iam.KindGroup))
	m.Query("iam", "DetachGroupPolicy", handleDetachPolicy(svc, iam.KindGroup))
	m.Query("iam", "ListAttachedGroupPolicies", handleListAttachedPolicies(svc, iam.KindGroup))
	m.Query("iam", "AttachRolePolicy", handleAttachPolicy(svc, iam.KindRole))
	m.Query("iam", "DetachRolePolicy", handleDetachPolicy(svc, iam.KindRole))
	m.Query("iam", "ListAttachedRolePolicies", handleListAttachedPolicies(svc, iam.KindRole))
	m.Query("iam", "ListEntitiesForPolicy", handleListEntitiesForPolicy(svc))

	// Virtual MFA devices
	m.Query("iam", "CreateVirtualMFADevice", handleCreateVirtualMFADevice(svc))
	m.Query("iam", "EnableMFADevice", handleEnableMFADevice(svc))
	m.Query("iam", "DeactivateMFADevice", handleDeactivateMFADevice(svc))
	m.Query("iam", "DeleteVirtualMFADevice", handleDeleteVirtualMFADevice(svc))
	m.Query("iam", "ListMFADevices", handleListMFADevices(svc))
	m.Query("iam", "ListVirtualMFADevices", handleListVirtualMFADevices(svc))

	// Policy simulator
	m.Query("iam", "SimulatePrincipalPolicy", handleSimulatePrincipalPolicy(svc))
	m.Query("iam", "SimulateCustomPolicy", handleSimulateCustomPolicy(svc))
}
