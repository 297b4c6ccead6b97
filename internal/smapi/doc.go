// Package smapi is Secrets Manager's wire API: the handlers of its
// operations (JSON 1.1; shapes and member names follow botocore's
// secretsmanager service-2.json) and their entries in the operations
// table (Register). Each handler decodes its body strictly, authorizes
// through the request with the secret's resource policy (authorizeSecret,
// wire.go), calls package secrets, and returns the result shape or an
// error; the server maps Secrets Manager's domain errors to the wire by
// Codes.
//
// Dynamic secrets (dynamic.go) hand each reader its own database
// credential through package dbcred; RotateSecret and CancelRotateSecret
// (rotation.go) rotate secrets in AWS's RDS shape through package
// rotation. LeaseAuditor and RotationAuditor write the audit records of
// those two, MasterReader reads their master secrets.
package smapi
