package server

import (
	"github.com/shortfuse/shortfuse/internal/rotation"
	"github.com/shortfuse/shortfuse/internal/secrets"
)

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
// (CreateSecret), RotationToken (PutSecretValue). The replication
// operations are refused with InvalidRequestException.
//
// RotateSecret and CancelRotateSecret (sm_rotation.go) rotate secrets in
// AWS's RDS shape without a Lambda function, through rot; a
// RotationLambdaARN is refused with InvalidRequestException, and without
// rot both operations are.
func addSecretsOperations(m *Mux, svc *secrets.Service, read valueReader, rot *rotation.Service) {
	if svc == nil {
		return
	}
	// Secrets
	m.JSON("secretsmanager", "CreateSecret", Write, handleCreateSecret(svc))
	m.JSON("secretsmanager", "DescribeSecret", Read, handleDescribeSecret(svc))
	m.JSON("secretsmanager", "ListSecrets", Read, handleListSecrets(svc))
	m.JSON("secretsmanager", "UpdateSecret", Write, handleUpdateSecret(svc))
	m.JSON("secretsmanager", "DeleteSecret", Write, handleDeleteSecret(svc))
	m.JSON("secretsmanager", "RestoreSecret", Write, handleRestoreSecret(svc))
	m.JSON("secretsmanager", "TagResource", Write, handleTagResource(svc))
	m.JSON("secretsmanager", "UntagResource", Write, handleUntagResource(svc))

	// Values and versions
	m.JSON("secretsmanager", "GetSecretValue", Read, handleGetSecretValue(svc, read))
	m.JSON("secretsmanager", "BatchGetSecretValue", Read, handleBatchGetSecretValue(svc, read))
	m.JSON("secretsmanager", "PutSecretValue", Write, handlePutSecretValue(svc))
	m.JSON("secretsmanager", "ListSecretVersionIds", Read, handleListSecretVersionIds(svc))
	m.JSON("secretsmanager", "UpdateSecretVersionStage", Write, handleUpdateSecretVersionStage(svc))
	m.JSON("secretsmanager", "GetRandomPassword", Read, handleGetRandomPassword(svc))

	// Resource policies
	m.JSON("secretsmanager", "PutResourcePolicy", Write, handlePutResourcePolicy(svc))
	m.JSON("secretsmanager", "GetResourcePolicy", Read, handleGetResourcePolicy(svc))
	m.JSON("secretsmanager", "DeleteResourcePolicy", Write, handleDeleteResourcePolicy(svc))
	m.JSON("secretsmanager", "ValidateResourcePolicy", Read, handleValidateResourcePolicy(svc))

	// Rotation without Lambda functions
	m.JSON("secretsmanager", "RotateSecret", Write, handleRotateSecret(svc, rot))
	m.JSON("secretsmanager", "CancelRotateSecret", Write, handleCancelRotateSecret(svc, rot))

	// Refused with InvalidRequestException: the broker serves one region.
	m.JSON("secretsmanager", "ReplicateSecretToRegions", Write, handleSMUnsupported("ReplicateSecretToRegions", msgNoReplication))
	m.JSON("secretsmanager", "RemoveRegionsFromReplication", Write, handleSMUnsupported("RemoveRegionsFromReplication", msgNoReplication))
	m.JSON("secretsmanager", "StopReplicationToReplica", Write, handleSMUnsupported("StopReplicationToReplica", msgNoReplication))
}
