// Package awsapi holds the AWS wire protocols that the broker speaks and the
// one table that maps errors to them.
//
// # Protocols
//
// STS and IAM use the AWS Query protocol: a form-encoded request carrying
// Action and Version, answered with XML (<ActionResponse><ActionResult>…).
// Secrets Manager uses JSON 1.1: the operation is named by the X-Amz-Target
// header and both bodies are JSON.
//
// Decoders are strict (security rule 3): a repeated form key, a duplicate JSON
// object key, unknown JSON fields, trailing data and invalid UTF-8 are refused
// rather than resolved silently.
//
// # Errors
//
// Handlers return domain errors. [Encode] turns them into the caller's
// protocol with the table in errors.go. Anything unmapped becomes
// InternalFailure with a fixed message; its cause is never sent to the
// client.
package awsapi
