package server

import (
	"errors"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
)

// iamCodes maps the kinds of iam.Error to IAM's wire codes.
var iamCodes = []kindCode{
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

// iamErrorToWire maps a domain error of package iam to its wire error. The
// message of an *iam.Error is written for clients and is sent as is. It
// reports false for any other error.
func iamErrorToWire(err error) (*awsapi.Error, bool) {
	var e *iam.Error
	if !errors.As(err, &e) {
		return nil, false
	}
	code, ok := codeOfKind(e.Kind, iamCodes)
	if !ok {
		return nil, false
	}
	return &awsapi.Error{Code: code, Message: e.Msg}, true
}
