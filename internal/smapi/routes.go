package smapi

import (
	"context"
	"time"

	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/rotation"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
)

// Deps are the services the Secrets Manager operations serve from.
type Deps struct {
	// Secrets stores the secrets. Without it nothing is registered.
	Secrets *secrets.Service
	// DBCred, if set, hands out the database credentials of dynamic
	// secrets (dynamic.go); without it, reading one is refused.
	DBCred *dbcred.Service
	// SessionEnd is when a session ends as the broker's records of it
	// stand: the database credential of a caller with session
	// credentials is dropped then. Needed with DBCred.
	SessionEnd func(ctx context.Context, c *sessiontoken.Claims) (time.Time, error)
	// Rotation, if set, rotates secrets in AWS's RDS shape (RotateSecret,
	// CancelRotateSecret: rotation.go).
	Rotation *rotation.Service
}

// Register adds the Secrets Manager operations to the operations table,
// one line each. Shapes and member names follow botocore's secretsmanager
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
// RotateSecret and CancelRotateSecret (rotation.go) rotate secrets in
// AWS's RDS shape without a Lambda function, through d.Rotation; a
// RotationLambdaARN is refused with InvalidRequestException, and without
// d.Rotation both operations are.
func Register(m *rpc.Mux, d Deps) {
	if d.Secrets == nil {
		return
	}
	svc, read, rot := d.Secrets, d.readSecretValue, d.Rotation
	// Secrets
	m.JSON("secretsmanager", "CreateSecret", rpc.Write, handleCreateSecret(svc))
	m.JSON("secretsmanager", "DescribeSecret", rpc.Read, handleDescribeSecret(svc))
	m.JSON("secretsmanager", "ListSecrets", rpc.Read, handleListSecrets(svc))
	m.JSON("secretsmanager", "UpdateSecret", rpc.Write, handleUpdateSecret(svc))
	m.JSON("secretsmanager", "DeleteSecret", rpc.Write, handleDeleteSecret(svc))
	m.JSON("secretsmanager", "RestoreSecret", rpc.Write, handleRestoreSecret(svc))
	m.JSON("secretsmanager", "TagResource", rpc.Write, handleTagResource(svc))
	m.JSON("secretsmanager", "UntagResource", rpc.Write, handleUntagResource(svc))

	// Values and versions
	m.JSON("secretsmanager", "GetSecretValue", rpc.Read, handleGetSecretValue(svc, read))
	m.JSON("secretsmanager", "BatchGetSecretValue", rpc.Read, handleBatchGetSecretValue(svc, read))
	m.JSON("secretsmanager", "PutSecretValue", rpc.Write, handlePutSecretValue(svc))
	m.JSON("secretsmanager", "ListSecretVersionIds", rpc.Read, handleListSecretVersionIds(svc))
	m.JSON("secretsmanager", "UpdateSecretVersionStage", rpc.Write, handleUpdateSecretVersionStage(svc))
	m.JSON("secretsmanager", "GetRandomPassword", rpc.Read, handleGetRandomPassword(svc))

	// Resource policies
	m.JSON("secretsmanager", "PutResourcePolicy", rpc.Write, handlePutResourcePolicy(svc))
	m.JSON("secretsmanager", "GetResourcePolicy", rpc.Read, handleGetResourcePolicy(svc))
	m.JSON("secretsmanager", "DeleteResourcePolicy", rpc.Write, handleDeleteResourcePolicy(svc))
	m.JSON("secretsmanager", "ValidateResourcePolicy", rpc.Read, handleValidateResourcePolicy(svc))

	// Rotation without Lambda functions
	m.JSON("secretsmanager", "RotateSecret", rpc.Write, handleRotateSecret(svc, rot))
	m.JSON("secretsmanager", "CancelRotateSecret", rpc.Write, handleCancelRotateSecret(svc, rot))

	// Refused with InvalidRequestException: the broker serves one region.
	m.JSON("secretsmanager", "ReplicateSecretToRegions", rpc.Write, handleSMUnsupported("ReplicateSecretToRegions", msgNoReplication))
	m.JSON("secretsmanager", "RemoveRegionsFromReplication", rpc.Write, handleSMUnsupported("RemoveRegionsFromReplication", msgNoReplication))
	m.JSON("secretsmanager", "StopReplicationToReplica", rpc.Write, handleSMUnsupported("StopReplicationToReplica", msgNoReplication))
}
