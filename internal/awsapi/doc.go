// Package awsapi holds the AWS wire protocols that the broker speaks and the
// one table that maps errors to them.
//
// # Protocols
//
// STS and IAM use the AWS Query protocol: a form-encoded request carrying
// Action and Version, answered with XML (<ActionResponse><ActionResult>…),
// or with the same document in JSON to a client that asks for it with
// Accept: application/json ([QueryFormat]). Secrets Manager uses JSON 1.1:
// the operation is named by the X-Amz-Target header and both bodies are
// JSON.
//
// Decoders are strict (docs/SECURITY.md: a lenient parser read differently from what was checked): a repeated form key, a duplicate JSON
// object key, a JSON member differing from a known one only by case,
// trailing data and invalid UTF-8 are refused rather than resolved silently.
// Unknown JSON members are refused by [DecodeJSON] (the broker's own API) and
// ignored, as AWS ignores them, by [DecodeAWSJSON] (the AWS APIs).
//
// # Errors
//
// Handlers return domain errors; the server maps them to an [*Error] in one
// place (internal/server's toWire), and [WriteQueryError] or
// [WriteJSONError] writes it in the caller's protocol, spelled by the table
// in errors.go. Anything unmapped becomes InternalFailure ([Internal]) with
// a fixed message; its cause is never sent to the client.
package awsapi
