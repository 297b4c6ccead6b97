package awsapi

import "fmt"

// Code names a wire error independent of protocol: Query services (STS, IAM)
// and JSON services (Secrets Manager) spell some of the same conditions
// differently (SignatureDoesNotMatch vs InvalidSignatureException).
type Code int

// Wire error codes. The comments give the Query and JSON spellings.
const (
	CodeInternal                   Code = iota // InternalFailure / InternalServiceError
	CodeValidation                             // ValidationError / ValidationException
	CodeMalformedQueryString                   // MalformedQueryString
	CodeSerialization                          // SerializationException (JSON body that does not decode)
	CodeInvalidAction                          // InvalidAction / UnknownOperationException
	CodeMissingAuthenticationToken             // MissingAuthenticationToken / MissingAuthenticationTokenException
	CodeIncompleteSignature                    // IncompleteSignature / IncompleteSignatureException
	CodeInvalidClientTokenID                   // InvalidClientTokenId / UnrecognizedClientException
	CodeSignatureDoesNotMatch                  // SignatureDoesNotMatch / InvalidSignatureException
	CodeRequestExpired                         // RequestExpired / InvalidSignatureException (presigned URL past its expiry)
	CodeExpiredToken                           // ExpiredToken / ExpiredTokenException
	CodeAccessDenied                           // AccessDenied / AccessDeniedException
	CodeThrottling                             // Throttling / ThrottlingException
	CodeInvalidParameterValue                  // InvalidParameterValue
	CodeNotImplemented                         // NotImplemented
	CodeServiceUnavailable                     // ServiceUnavailable / ServiceUnavailableException (retryable)

	// IAM (Query): codes from botocore's iam service-2.json.
	CodeNoSuchEntity
	CodeEntityAlreadyExists
	CodeLimitExceeded
	CodeMalformedPolicyDocument
	CodeDeleteConflict
	CodeInvalidInput
	CodeInvalidAuthenticationCode
	CodeEntityTemporarilyUnmodifiable
	CodeConcurrentModification
	CodePolicyEvaluation
	CodeUnmodifiableEntity
	CodePasswordPolicyViolation
	CodeInvalidUserType

	// STS (Query).
	CodePackedPolicyTooLarge
	CodeRegionDisabled
	CodeInvalidIdentityToken
	CodeIDPRejectedClaim
	CodeIDPCommunication
	CodeExpiredTokenException

	// Secrets Manager (JSON).
	CodeResourceNotFound
	CodeInvalidRequest
	CodeInvalidParameter
	CodeResourceExists
	CodeLimitExceededSM
	CodeMalformedPolicyDocumentSM
	CodeDecryptionFailure
	CodeInvalidNextToken
	CodePreconditionNotMet
	CodePublicPolicy
)

type wireCode struct {
	query, json string
	status      int
	sender      bool
	// jsonStatus, when set, is the status JSON 1.1 services answer with;
	// they answer 400 for most authentication failures where Query
	// services answer 403.
	jsonStatus int
}

// wire is the one table of wire spellings. Statuses follow the service
// models where they give one, and AWS's observed behaviour for the
// authentication errors, which are not in the models.
var wire = map[Code]wireCode{
	CodeInternal:                   {"InternalFailure", "InternalServiceError", 500, false, 0},
	CodeValidation:                 {"ValidationError", "ValidationException", 400, true, 0},
	CodeMalformedQueryString:       {"MalformedQueryString", "SerializationException", 400, true, 0},
	CodeSerialization:              {"MalformedInput", "SerializationException", 400, true, 0},
	CodeInvalidAction:              {"InvalidAction", "UnknownOperationException", 400, true, 0},
	CodeMissingAuthenticationToken: {"MissingAuthenticationToken", "MissingAuthenticationTokenException", 403, true, 400},
	CodeIncompleteSignature:        {"IncompleteSignature", "IncompleteSignatureException", 400, true, 0},
	CodeInvalidClientTokenID:       {"InvalidClientTokenId", "UnrecognizedClientException", 403, true, 400},
	CodeSignatureDoesNotMatch:      {"SignatureDoesNotMatch", "InvalidSignatureException", 403, true, 400},
	CodeRequestExpired:             {"RequestExpired", "InvalidSignatureException", 400, true, 0},
	CodeExpiredToken:               {"ExpiredToken", "ExpiredTokenException", 403, true, 400},
	CodeAccessDenied:               {"AccessDenied", "AccessDeniedException", 403, true, 400},
	CodeThrottling:                 {"Throttling", "ThrottlingException", 400, true, 0},
	CodeInvalidParameterValue:      {"InvalidParameterValue", "InvalidParameterException", 400, true, 0},
	CodeNotImplemented:             {"NotImplemented", "NotImplementedException", 501, false, 0},
	CodeServiceUnavailable:         {"ServiceUnavailable", "ServiceUnavailableException", 503, false, 0},

	CodeNoSuchEntity:                  {"NoSuchEntity", "NoSuchEntityException", 404, true, 0},
	CodeEntityAlreadyExists:           {"EntityAlreadyExists", "EntityAlreadyExistsException", 409, true, 0},
	CodeLimitExceeded:                 {"LimitExceeded", "LimitExceededException", 409, true, 0},
	CodeMalformedPolicyDocument:       {"MalformedPolicyDocument", "MalformedPolicyDocumentException", 400, true, 0},
	CodeDeleteConflict:                {"DeleteConflict", "DeleteConflictException", 409, true, 0},
	CodeInvalidInput:                  {"InvalidInput", "InvalidInputException", 400, true, 0},
	CodeInvalidAuthenticationCode:     {"InvalidAuthenticationCode", "InvalidAuthenticationCodeException", 403, true, 0},
	CodeEntityTemporarilyUnmodifiable: {"EntityTemporarilyUnmodifiable", "EntityTemporarilyUnmodifiableException", 409, true, 0},
	CodeConcurrentModification:        {"ConcurrentModification", "ConcurrentModificationException", 409, true, 0},
	CodePolicyEvaluation:              {"PolicyEvaluation", "PolicyEvaluationException", 500, false, 0},
	CodeUnmodifiableEntity:            {"UnmodifiableEntity", "UnmodifiableEntityException", 400, true, 0},
	CodePasswordPolicyViolation:       {"PasswordPolicyViolation", "PasswordPolicyViolationException", 400, true, 0},
	CodeInvalidUserType:               {"InvalidUserType", "InvalidUserTypeException", 400, true, 0},

	CodePackedPolicyTooLarge:  {"PackedPolicyTooLarge", "PackedPolicyTooLargeException", 400, true, 0},
	CodeRegionDisabled:        {"RegionDisabledException", "RegionDisabledException", 403, true, 0},
	CodeInvalidIdentityToken:  {"InvalidIdentityToken", "InvalidIdentityTokenException", 400, true, 0},
	CodeIDPRejectedClaim:      {"IDPRejectedClaim", "IDPRejectedClaimException", 403, true, 0},
	CodeIDPCommunication:      {"IDPCommunicationError", "IDPCommunicationErrorException", 400, true, 0},
	CodeExpiredTokenException: {"ExpiredTokenException", "ExpiredTokenException", 400, true, 0},

	CodeResourceNotFound:          {"ResourceNotFoundException", "ResourceNotFoundException", 400, true, 0},
	CodeInvalidRequest:            {"InvalidRequestException", "InvalidRequestException", 400, true, 0},
	CodeInvalidParameter:          {"InvalidParameterException", "InvalidParameterException", 400, true, 0},
	CodeResourceExists:            {"ResourceExistsException", "ResourceExistsException", 400, true, 0},
	CodeLimitExceededSM:           {"LimitExceededException", "LimitExceededException", 400, true, 0},
	CodeMalformedPolicyDocumentSM: {"MalformedPolicyDocumentException", "MalformedPolicyDocumentException", 400, true, 0},
	CodeDecryptionFailure:         {"DecryptionFailure", "DecryptionFailure", 400, true, 0},
	CodeInvalidNextToken:          {"InvalidNextTokenException", "InvalidNextTokenException", 400, true, 0},
	CodePreconditionNotMet:        {"PreconditionNotMetException", "PreconditionNotMetException", 400, true, 0},
	CodePublicPolicy:              {"PublicPolicyException", "PublicPolicyException", 400, true, 0},
}

// Error is an error in wire form. Message is sent to the client as is, so it
// is built only from text that is safe to show: never a secret, never an
// internal cause.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.QueryCode() + ": " + e.Message }

// Errorf builds an *Error with a formatted, client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) spelling() wireCode {
	if w, ok := wire[e.Code]; ok {
		return w
	}
	return wire[CodeInternal]
}

// QueryCode is the code as Query services (STS, IAM) spell it.
func (e *Error) QueryCode() string { return e.spelling().query }

// JSONCode is the code as JSON 1.1 services (Secrets Manager) spell it.
func (e *Error) JSONCode() string { return e.spelling().json }

// Status is the HTTP status code of the Query protocol.
func (e *Error) Status() int { return e.spelling().status }

// JSONStatus is the HTTP status code of the JSON 1.1 protocol.
func (e *Error) JSONStatus() int {
	if w := e.spelling(); w.jsonStatus != 0 {
		return w.jsonStatus
	}
	return e.Status()
}

// Sender reports whether the fault is the caller's.
func (e *Error) Sender() bool { return e.spelling().sender }

// Internal is the error sent for anything the broker did not expect. Its
// message is fixed: the cause goes to the log with the request id.
func Internal() *Error {
	return &Error{Code: CodeInternal, Message: "An internal error occurred. The request id identifies it in the broker's log."}
}

var _ error = (*Error)(nil)
