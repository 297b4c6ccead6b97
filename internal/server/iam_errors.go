package server

import (
	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
)

// iamCodes maps the kinds of IAM's domain errors to IAM's wire codes.
var iamCodes = faultCodes{
	{iam.ErrNoSuchEntity, awsapi.CodeNoSuchEntity},
	{iam.ErrEntityAlreadyExists, awsapi.CodeEntityAlreadyExists},
	{iam.ErrLimitExceeded, awsapi.CodeLimitExceeded},
	{iam.ErrMalformedPolicyDocument, awsapi.CodeMalformedPolicyDocument},
	{iam.ErrDeleteConflict, awsapi.CodeDeleteConflict},
	{iam.ErrInvalidInput, awsapi.CodeInvalidInput},
	{iam.ErrInvalidAuthenticationCode, awsapi.CodeInvalidAuthenticationCode},
	{iam.ErrValidation, awsapi.CodeValidation},
	{iam.ErrPasswordPolicyViolation, awsapi.CodePasswordPolicyViolation},
}
