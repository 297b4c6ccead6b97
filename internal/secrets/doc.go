// Package secrets is the Secrets Manager plane of the broker: secrets, their
// versions and staging labels, deletion windows, tags and resource
// policies, stored in a [store.Store] with every value sealed.
//
// # Entry point
//
// [New] returns a [Service]; its methods are the operations of the Secrets
// Manager API without the wire (the server's handlers decode requests,
// authorize them and call these). Every method that acts on a secret takes
// a SecretId as AWS does: a name, a full ARN (with the six-character random
// suffix) or a partial ARN (without it). A full ARN names one secret only,
// never a later secret of the same name, so a handler that authorized a
// caller on [Secret.ARN] and then passes that ARN acts on the same secret.
//
// # Values
//
// A secret value is a [Value], which redacts itself in fmt, log/slog,
// encoding/json and encoding (text): the plaintext is reached only by
// [Value.Reveal], which only response encoders call. Values are sealed
// (AES-256-GCM, package seal) with associated data
// seal.AAD("secret-version", ARN, versionID), so a ciphertext moved to
// another secret or version does not open: the read fails with
// [ErrDecryption] instead of returning the wrong secret.
//
// # Semantics
//
//   - Staging labels: a label is on at most one version. A new version gets
//     AWSCURRENT unless other labels are given; moving AWSCURRENT moves
//     AWSPREVIOUS to the version it left. AWSCURRENT can be moved, never
//     removed. A version without labels is deprecated.
//   - Idempotency: the ClientRequestToken is the version id. Repeating a
//     call with the same token and value returns the same version; the same
//     token with another value fails with [ErrExists].
//   - Quota: [MaxVersions] per secret. Deprecated versions older than
//     [DeprecatedVersionMinAge] are removed to make room; when none can be,
//     the new version is refused with [ErrLimitExceeded].
//   - Deletion: a secret is scheduled for deletion with a recovery window of
//     7 to 30 days (its value cannot be read, nor the secret changed, until
//     it is restored), or force-deleted at once. At the end of the window
//     (now ≥ DeletionDate) the secret is gone for every operation; it is
//     purged lazily by the next write that meets it and by [Service.Purge].
//
// # What it refuses
//
// Names outside 1–512 characters of A-Za-z0-9/_+=.@-, values outside
// 1–65536 bytes, strings that are not UTF-8, resource policies that do not
// parse (package policy, kind resource), tags with reserved "aws:" keys.
// Errors are [*Error] values whose Msg is AWS's wording and never holds a
// secret value. There is no rotation, replication or KMS key choice: the
// server refuses those parameters and operations.
package secrets
