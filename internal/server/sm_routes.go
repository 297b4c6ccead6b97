package server

import "github.com/shortfuse/shortfuse/internal/secrets"

// addSecretsOperations registers the Secrets Manager operations, one line
// each. Shapes and member names follow botocore's secretsmanager
// service-2.json (2017-10-17). Without a secrets service nothing is
// registered: the operations are then unknown.
//
// Every member of every input shape is accepted by the decoder; these are
// refused with InvalidParameterException, because honouring them is not
// possible and ignoring them would mislead: KmsKeyId other than
// "alias/aws/secretsmanager" (CreateSecret, UpdateSecret), Type (managed
// external secrets), AddReplicaRegions and ForceOverwriteReplicaSecret=true
// (CreateSecret), RotationToken (PutSecretValue). The rotation and
// replication operations are refused with InvalidRequestException.
func addSecretsOperations(m *Mux, svc *secrets.Service) {
	if svc == nil {
		return
	}
	// Secrets
	m.JSON("secretsmanager", "CreateSecret", handleCreateSecret(svc))
	m.JSON("secretsmanager", "DescribeSecret", handleDescribeSecret(svc))
	m.JSON("secretsmanager", "ListSecrets", handleListSecrets(svc))
	m.JSON("secretsmanager", "UpdateSecret", handleUpdateSecret(svc))
	m.JSON("secretsmanager", "DeleteSecret", handleDeleteSecret(svc))
	m.JSON("secretsmanager", "RestoreSecret", handleRestoreSecret(svc))
	m.JSON("secretsmanager", "TagResource", handleTagResource(svc))
	m.JSON("secretsmanager", "UntagResource", handleUntagResource(svc))

	// Values and versions
	m.JSON("secretsmanager", "GetSecretValue", handleGetSecretValue(svc))
	m.JSON("secretsmanager", "BatchGetSecretValue", handleBatchGetSecretValue(svc))
	m.JSON("secretsmanager", "PutSecretValue", handlePutSecretValue(svc))
	m.JSON("secretsmanager", "ListSecretVersionIds", handleListSecretVersionIds(svc))
	m.JSON("secretsmanager", "UpdateSecretVersionStage", handleUpdateSecretVersionStage(svc))
	m.JSON("secretsmanager", "GetRandomPassword", handleGetRandomPassword(svc))

	// Resource policies
	m.JSON("secretsmanager", "PutResourcePolicy", handlePutResourcePolicy(svc))
	m.JSON("secretsmanager", "GetResourcePolicy", handleGetResourcePolicy(svc))
	m.JSON("secretsmanager", "DeleteResourcePolicy", handleDeleteResourcePolicy(svc))
	m.JSON("secretsmanager", "ValidateResourcePolicy", handleValidateResourcePolicy(svc))

	// Refused with InvalidRequestException: the broker has no rotation
	// functions and no other regions.
	m.JSON("secretsmanager", "RotateSecret", handleSMUnsupported("RotateSecret", msgNoRotation))
	m.JSON("secretsmanager", "CancelRotateSecret", handleSMUnsupported("CancelRotateSecret", msgNoRotation))
	m.JSON("secretsmanager", "ReplicateSecretToRegions", handleSMUnsupported("ReplicateSecretToRegions", msgNoReplication))
	m.JSON("secretsmanager", "RemoveRegionsFromReplication", handleSMUnsupported("RemoveRegionsFromReplication", msgNoReplication))
	m.JSON("secretsmanager", "StopReplicationToReplica", handleSMUnsupported("StopReplicationToReplica", msgNoReplication))
}
