package secrets

import (
	"errors"
	"fmt"

	"github.com/shortfuse/shortfuse/internal/fault"
)

// Kinds of domain error. Each maps to the Secrets Manager error code of the
// same name (smapi.Codes).
var (
	// ErrNotFound: ResourceNotFoundException.
	ErrNotFound = errors.New("resource not found")
	// ErrInvalidRequest: InvalidRequestException, a request that is not
	// valid for the secret's state (scheduled for deletion, ...).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrInvalidParameter: InvalidParameterException.
	ErrInvalidParameter = errors.New("invalid parameter")
	// ErrExists: ResourceExistsException.
	ErrExists = errors.New("resource exists")
	// ErrLimitExceeded: LimitExceededException.
	ErrLimitExceeded = errors.New("limit exceeded")
	// ErrMalformedPolicy: MalformedPolicyDocumentException.
	ErrMalformedPolicy = errors.New("malformed policy document")
	// ErrPublicPolicy: PublicPolicyException.
	ErrPublicPolicy = errors.New("public policy")
	// ErrDecryption: DecryptionFailure, a stored ciphertext that does not
	// open for its record (tampered with, or moved from another record).
	ErrDecryption = errors.New("decryption failure")
	// ErrValidation: ValidationException, a parameter outside the
	// constraints of the service model.
	ErrValidation = errors.New("validation error")
)

// Error is a domain error (package fault): Msg is written in AWS's words
// and is safe to show to the caller (it never holds a secret value); Kind
// says which error it is.
type Error = fault.Error

func newErr(kind error, format string, args ...any) *Error { return fault.New(kind, format, args...) }

var (
	errNotFound       = &Error{Kind: ErrNotFound, Msg: "Secrets Manager can't find the specified secret."}
	errMarkedDeleted  = &Error{Kind: ErrInvalidRequest, Msg: "You can't perform this operation on the secret because it was marked for deletion."}
	errVersionChanged = &Error{Kind: ErrExists, Msg: "You can't modify an existing version, you can only create a new version."}
	errDecryption     = &Error{Kind: ErrDecryption, Msg: "Secrets Manager can't decrypt the protected secret text using the provided KMS key."}
	// errInvalidName is AWS's answer, word for word, to a name or SecretId
	// with a character outside the allowed set (the "!" it lists appears
	// only in the names of secrets that AWS services manage).
	errInvalidName = &Error{Kind: ErrValidation, Msg: MsgInvalidName}
	// errStageMismatch: GetSecretValue given a VersionId and a VersionStage
	// that version does not carry.
	errStageMismatch = &Error{Kind: ErrInvalidRequest, Msg: "You provided a VersionStage that is not associated to the provided VersionId."}
)

// MsgInvalidName is the message of the ValidationException for a secret
// name or SecretId with a character Secrets Manager does not allow.
const MsgInvalidName = "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"

// validationf builds the text of a model-constraint failure, as AWS words
// it: "1 validation error detected: Value at 'name' failed to satisfy
// constraint: Member must ...". It never quotes the value.
func validationf(field, constraint string, args ...any) *Error {
	return newErr(ErrValidation, "1 validation error detected: Value at '%s' failed to satisfy constraint: %s", field, fmt.Sprintf(constraint, args...))
}
