package server

import "github.com/shortfuse/shortfuse/internal/iam"

// addIAMOperations registers the IAM operations of the broker, one line
// each. Shapes and member names follow botocore's iam service-2.json.
func addIAMOperations(m *Mux, svc *iam.Service) {
	// Users
	m.Query("iam", "CreateUser", IAM, handleCreateUser(svc))
	m.Query("iam", "GetUser", IAM|Read, handleGetUser(svc))
	m.Query("iam", "ListUsers", IAM|Read, handleListUsers(svc))
	m.Query("iam", "UpdateUser", IAM, handleRename(svc, iamUsers(svc), svc.UpdateUser))
	m.Query("iam", "DeleteUser", IAM, handleDelete(iamUsers(svc)))
	m.Query("iam", "TagUser", IAM, handleTag(iamUsers(svc)))
	m.Query("iam", "UntagUser", IAM, handleUntag(iamUsers(svc)))
	m.Query("iam", "ListUserTags", IAM|Read, handleListTags(iamUsers(svc)))

	// Access keys
	m.Query("iam", "CreateAccessKey", IAM, handleCreateAccessKey(svc))
	m.Query("iam", "ListAccessKeys", IAM|Read, handleListAccessKeys(svc))
	m.Query("iam", "UpdateAccessKey", IAM, handleUpdateAccessKey(svc))
	m.Query("iam", "DeleteAccessKey", IAM, handleDeleteAccessKey(svc))
	m.Query("iam", "GetAccessKeyLastUsed", IAM|Read, handleGetAccessKeyLastUsed(svc))

	// Groups
	m.Query("iam", "CreateGroup", IAM, handleCreateGroup(svc))
	m.Query("iam", "GetGroup", IAM|Read, handleGetGroup(svc))
	m.Query("iam", "ListGroups", IAM|Read, handleListGroups(svc))
	m.Query("iam", "UpdateGroup", IAM, handleRename(svc, iamGroups(svc), svc.UpdateGroup))
	m.Query("iam", "DeleteGroup", IAM, handleDelete(iamGroups(svc)))
	m.Query("iam", "AddUserToGroup", IAM, handleMembership(svc, "iam:AddUserToGroup", svc.AddUserToGroup))
	m.Query("iam", "RemoveUserFromGroup", IAM, handleMembership(svc, "iam:RemoveUserFromGroup", svc.RemoveUserFromGroup))
	m.Query("iam", "ListGroupsForUser", IAM|Read, handleListGroupsForUser(svc))

	// Roles
	m.Query("iam", "CreateRole", IAM, handleCreateRole(svc))
	m.Query("iam", "GetRole", IAM|Read, handleGetRole(svc))
	m.Query("iam", "ListRoles", IAM|Read, handleListRoles(svc))
	m.Query("iam", "UpdateRole", IAM, handleUpdateRole(svc))
	m.Query("iam", "UpdateAssumeRolePolicy", IAM, handleUpdateAssumeRolePolicy(svc))
	m.Query("iam", "DeleteRole", IAM, handleDelete(iamRoles(svc)))
	m.Query("iam", "TagRole", IAM, handleTag(iamRoles(svc)))
	m.Query("iam", "UntagRole", IAM, handleUntag(iamRoles(svc)))
	m.Query("iam", "ListRoleTags", IAM|Read, handleListTags(iamRoles(svc)))

	// Inline policies
	m.Query("iam", "PutUserPolicy", IAM, handlePutInlinePolicy(svc, iam.KindUser))
	m.Query("iam", "GetUserPolicy", IAM|Read, handleGetInlinePolicy(svc, iam.KindUser))
	m.Query("iam", "ListUserPolicies", IAM|Read, handleListInlinePolicies(svc, iam.KindUser))
	m.Query("iam", "DeleteUserPolicy", IAM, handleDeleteInlinePolicy(svc, iam.KindUser))
	m.Query("iam", "PutGroupPolicy", IAM, handlePutInlinePolicy(svc, iam.KindGroup))
	m.Query("iam", "GetGroupPolicy", IAM|Read, handleGetInlinePolicy(svc, iam.KindGroup))
	m.Query("iam", "ListGroupPolicies", IAM|Read, handleListInlinePolicies(svc, iam.KindGroup))
	m.Query("iam", "DeleteGroupPolicy", IAM, handleDeleteInlinePolicy(svc, iam.KindGroup))
	m.Query("iam", "PutRolePolicy", IAM, handlePutInlinePolicy(svc, iam.KindRole))
	m.Query("iam", "GetRolePolicy", IAM|Read, handleGetInlinePolicy(svc, iam.KindRole))
	m.Query("iam", "ListRolePolicies", IAM|Read, handleListInlinePolicies(svc, iam.KindRole))
	m.Query("iam", "DeleteRolePolicy", IAM, handleDeleteInlinePolicy(svc, iam.KindRole))

	// Managed policies and versions
	m.Query("iam", "CreatePolicy", IAM, handleCreatePolicy(svc))
	m.Query("iam", "GetPolicy", IAM|Read, handleGetPolicy(svc))
	m.Query("iam", "ListPolicies", IAM|Read, handleListPolicies(svc))
	m.Query("iam", "DeletePolicy", IAM, handleDeletePolicy(svc))
	m.Query("iam", "CreatePolicyVersion", IAM, handleCreatePolicyVersion(svc))
	m.Query("iam", "GetPolicyVersion", IAM|Read, handleGetPolicyVersion(svc))
	m.Query("iam", "ListPolicyVersions", IAM|Read, handleListPolicyVersions(svc))
	m.Query("iam", "DeletePolicyVersion", IAM, handleDeletePolicyVersion(svc))
	m.Query("iam", "SetDefaultPolicyVersion", IAM, handleSetDefaultPolicyVersion(svc))

	// Attachments
	m.Query("iam", "AttachUserPolicy", IAM, handleAttachPolicy(svc, iam.KindUser))
	m.Query("iam", "DetachUserPolicy", IAM, handleDetachPolicy(svc, iam.KindUser))
	m.Query("iam", "ListAttachedUserPolicies", IAM|Read, handleListAttachedPolicies(svc, iam.KindUser))
	m.Query("iam", "AttachGroupPolicy", IAM, handleAttachPolicy(svc, iam.KindGroup))
	m.Query("iam", "DetachGroupPolicy", IAM, handleDetachPolicy(svc, iam.KindGroup))
	m.Query("iam", "ListAttachedGroupPolicies", IAM|Read, handleListAttachedPolicies(svc, iam.KindGroup))
	m.Query("iam", "AttachRolePolicy", IAM, handleAttachPolicy(svc, iam.KindRole))
	m.Query("iam", "DetachRolePolicy", IAM, handleDetachPolicy(svc, iam.KindRole))
	m.Query("iam", "ListAttachedRolePolicies", IAM|Read, handleListAttachedPolicies(svc, iam.KindRole))
	m.Query("iam", "ListEntitiesForPolicy", IAM|Read, handleListEntitiesForPolicy(svc))

	// Virtual MFA devices
	m.Query("iam", "CreateVirtualMFADevice", IAM, handleCreateVirtualMFADevice(svc))
	m.Query("iam", "EnableMFADevice", IAM, handleEnableMFADevice(svc))
	m.Query("iam", "DeactivateMFADevice", IAM, handleDeactivateMFADevice(svc))
	m.Query("iam", "DeleteVirtualMFADevice", IAM, handleDeleteVirtualMFADevice(svc))
	m.Query("iam", "ListMFADevices", IAM|Read, handleListMFADevices(svc))
	m.Query("iam", "ListVirtualMFADevices", IAM|Read, handleListVirtualMFADevices(svc))

	// Policy simulator
	m.Query("iam", "SimulatePrincipalPolicy", IAM|Read, handleSimulatePrincipalPolicy(svc))
	m.Query("iam", "SimulateCustomPolicy", IAM|Read, handleSimulateCustomPolicy(svc))
}
