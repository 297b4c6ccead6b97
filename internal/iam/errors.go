package iam

import (
	"errors"

	"github.com/shortfuse/shortfuse/internal/fault"
)

// Kinds of domain error. Each maps to the IAM error code of the same name.
var (
	ErrNoSuchEntity              = errors.New("no such entity")
	ErrEntityAlreadyExists       = errors.New("entity already exists")
	ErrLimitExceeded             = errors.New("limit exceeded")
	ErrMalformedPolicyDocument   = errors.New("malformed policy document")
	ErrDeleteConflict            = errors.New("delete conflict")
	ErrInvalidInput              = errors.New("invalid input")
	ErrInvalidAuthenticationCode = errors.New("invalid authentication code")
	ErrValidation                = errors.New("validation error")
	ErrPasswordPolicyViolation   = errors.New("password policy violation")
)

// Error is a domain error (package fault): Msg is written in AWS's words
// and is safe to show to a client; Kind says which error it is.
type Error = fault.Error

func newErr(kind error, format string, args ...any) *Error { return fault.New(kind, format, args...) }

func noSuchUser(name string) *Error {
	return newErr(ErrNoSuchEntity, "The user with name %s cannot be found.", name)
}

func noSuchGroup(name string) *Error {
	return newErr(ErrNoSuchEntity, "The group with name %s cannot be found.", name)
}

func noSuchRole(name string) *Error {
	return newErr(ErrNoSuchEntity, "The role with name %s cannot be found.", name)
}

// noSuchPolicy is IAM's answer for a managed policy that does not exist
// (GetPolicy, DeletePolicy, DetachUserPolicy, the version operations).
func noSuchPolicy(arn string) *Error {
	return newErr(ErrNoSuchEntity, "Policy %s was not found.", arn)
}

// notAttachable is Attach{User,Group,Role}Policy's answer for the same.
func notAttachable(arn string) *Error {
	return newErr(ErrNoSuchEntity, "Policy %s does not exist or is not attachable.", arn)
}

// errARNUnparsable is Attach{User,Group,Role}Policy's answer, word for word
// (two spaces included), for a PolicyArn that is not an ARN at all.
var errARNUnparsable = &Error{Kind: ErrValidation, Msg: "Invalid ARN:  Could not be parsed!"}

func noSuchAccessKey(akid string) *Error {
	return newErr(ErrNoSuchEntity, "The Access Key with id %s cannot be found.", akid)
}

func noSuchMFA(serial string) *Error {
	return newErr(ErrNoSuchEntity, "VirtualMFADevice with serial number %s doesn't exist.", serial)
}

// validationf builds the ValidationError text botocore-modelled services use:
// "1 validation error detected: Value 'x' at 'userName' failed to satisfy
// constraint: Member must …".
func validationf(value, field, constraint string) *Error {
	return newErr(ErrValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", fault.Printable(value, 128), field, constraint)
}

func validationNull(field string) *Error {
	return newErr(ErrValidation, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
}
