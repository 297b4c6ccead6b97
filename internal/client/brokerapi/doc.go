// Package brokerapi calls the broker's own `shortfuse` service: the session
// controls that AWS does not have (RevokeSession, RevokeSessions, Heartbeat,
// ListSessions). The wire contract is docs/shortfuse-api.md: JSON 1.1,
// X-Amz-Target "shortfuse.<Operation>", signed with SigV4 for the service
// name "shortfuse" by aws-sdk-go-v2's own signer.
//
// A [Client] with no endpoint, or one whose endpoint answers that it does
// not know the operation (real AWS, or an older broker), returns an error
// that matches [ErrUnsupported]; callers say once that the feature is not
// available and carry on. Errors from the broker are [*Error] values, which
// also satisfy smithy-go's APIError, so the same checks work for them and
// for SDK errors; [IsSessionRefused] tells when the calling session itself
// is dead (revoked, expired, used up or abandoned).
package brokerapi
