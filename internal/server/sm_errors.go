package server

import (
	"errors"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/secrets"
)

// secretsCodes maps the kinds of secrets.Error to Secrets Manager's wire
// codes (botocore secretsmanager service-2.json).
var secretsCodes = []kindCode{
	{secrets.ErrNotFound, awsapi.CodeResourceNotFound},
	{secrets.ErrInvalidRequest, awsapi.CodeInvalidRequest},
	{secrets.ErrInvalidParameter, awsapi.CodeInvalidParameter},
	{secrets.ErrExists, awsapi.CodeResourceExists},
	{secrets.ErrLimitExceeded, awsapi.CodeLimitExceededSM},
	{secrets.ErrMalformedPolicy, awsapi.CodeMalformedPolicyDocumentSM},
	{secrets.ErrPublicPolicy, awsapi.CodePublicPolicy},
	{secrets.ErrDecryption, awsapi.CodeDecryptionFailure},
	{secrets.ErrValidation, awsapi.CodeValidation},
}

// secretsErrorToWire maps a domain error of package secrets to its wire
// error. The message of a *secrets.Error is written for clients (it never
// holds a secret value) and is sent as is. It reports false for any other
// error.
func secretsErrorToWire(err error) (*awsapi.Error, bool) {
	var e *secrets.Error
	if !errors.As(err, &e) {
		return nil, false
	}
	code, ok := codeOfKind(e.Kind, secretsCodes)
	if !ok {
		return nil, false
	}
	return &awsapi.Error{Code: code, Message: e.Msg}, true
}
