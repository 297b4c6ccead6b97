// Package sigv4 verifies AWS Signature Version 4 requests on the server side.
//
// It implements the AWS4-HMAC-SHA256 algorithm described in
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html, for both
// ways a client can authenticate: the Authorization header, and a presigned URL whose
// X-Amz-* query parameters carry the signature.
//
// # Use
//
// Verification is two steps, so that the caller can look up the secret in between:
//
//	auth, err := sigv4.Parse(r)                  // no secret needed
//	secret, ok := keys.Lookup(auth.AccessKeyID)  // caller's store
//	err = verifier.Verify(r, auth, secret, sigv4.Options{Region: "us-east-1", Service: "sts", ...})
//
// Every failure is an [*Error] carrying a [Reason]; its Detail is an AWS-like message that
// is safe to send to the client. For an unknown access key id, callers should still call
// [Verifier.Verify] with a dummy secret (so that timing does not tell which keys exist) and
// then report [ReasonUnknownKey] themselves.
//
// # What is checked, in order
//
//  1. The credential scope: terminator "aws4_request", the expected region and service, and
//     a scope date equal to the day of the request time.
//  2. The time: within now±MaxSkew for header-signed requests; for presigned URLs, not past
//     X-Amz-Date + X-Amz-Expires and not dated more than MaxSkew in the future.
//  3. The payload: an x-amz-content-sha256 header must equal the SHA-256 of the body
//     (or be UNSIGNED-PAYLOAD when [Options.AllowUnsignedPayload] is set).
//  4. The signature, recomputed from the request and compared in constant time.
//
// # What it refuses to do
//
// The request path is signed exactly as it was received: dot segments are not removed and
// slashes are not merged (the S3 behaviour; STS, IAM and Secrets Manager only use "/").
// Only AWS4-HMAC-SHA256 is supported: no SigV2, no SigV4a, no streaming (chunked) payloads.
//
// Headers that are not listed in [Auth.SignedHeaders] are not authenticated; callers that
// act on a header (X-Amz-Target, Content-Type) should check [Auth.IsSigned] first. The
// session token header may be unsigned, as AWS allows: the token authenticates itself.
//
// Signing keys are derived once per (secret, date, region, service) and kept in a bounded
// cache inside the [Verifier]; the package has no global state and reads no clock.
package sigv4
