package smapi

import (
	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/secrets"
)

// Codes maps the kinds of Secrets Manager's domain errors (package
// secrets) to its wire codes (botocore secretsmanager service-2.json); the
// server's one mapping of errors to the wire consults it.
var Codes = rpc.FaultCodes{
	{Kind: secrets.ErrNotFound, Code: awsapi.CodeResourceNotFound},
	{Kind: secrets.ErrInvalidRequest, Code: awsapi.CodeInvalidRequest},
	{Kind: secrets.ErrInvalidParameter, Code: awsapi.CodeInvalidParameter},
	{Kind: secrets.ErrExists, Code: awsapi.CodeResourceExists},
	{Kind: secrets.ErrLimitExceeded, Code: awsapi.CodeLimitExceededSM},
	{Kind: secrets.ErrMalformedPolicy, Code: awsapi.CodeMalformedPolicyDocumentSM},
	{Kind: secrets.ErrPublicPolicy, Code: awsapi.CodePublicPolicy},
	{Kind: secrets.ErrDecryption, Code: awsapi.CodeDecryptionFailure},
	{Kind: secrets.ErrValidation, Code: awsapi.CodeValidation},
}
