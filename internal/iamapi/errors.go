package iamapi

import (
	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// Codes maps the kinds of IAM's domain errors to IAM's wire codes; the
// server's one mapping of errors to the wire consults it.
var Codes = rpc.FaultCodes{
	{Kind: iam.ErrNoSuchEntity, Code: awsapi.CodeNoSuchEntity},
	{Kind: iam.ErrEntityAlreadyExists, Code: awsapi.CodeEntityAlreadyExists},
	{Kind: iam.ErrLimitExceeded, Code: awsapi.CodeLimitExceeded},
	{Kind: iam.ErrMalformedPolicyDocument, Code: awsapi.CodeMalformedPolicyDocument},
	{Kind: iam.ErrDeleteConflict, Code: awsapi.CodeDeleteConflict},
	{Kind: iam.ErrInvalidInput, Code: awsapi.CodeInvalidInput},
	{Kind: iam.ErrInvalidAuthenticationCode, Code: awsapi.CodeInvalidAuthenticationCode},
	{Kind: iam.ErrValidation, Code: awsapi.CodeValidation},
	{Kind: iam.ErrPasswordPolicyViolation, Code: awsapi.CodePasswordPolicyViolation},
}
