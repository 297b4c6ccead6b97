// Package iam is the identity plane of the broker: IAM users and their access
// keys, groups and membership, roles and their trust policies, inline and
// managed policies (with versions) and their attachments, and virtual MFA
// devices. It knows nothing of HTTP; the Query-protocol handlers in package
// server translate the wire to the methods of [Service].
//
// # Records
//
// Every entity is one JSON record in a store bucket, keyed by its lower-cased
// name: IAM names are unique in an account regardless of case, as in AWS, and
// are checked against botocore's ASCII patterns before they reach a key.
// Relations are kept on both sides (a user lists its groups, keys, attached
// policies and MFA devices; a group lists its members; a managed policy lists
// its attachments) and are changed in one transaction, so a lookup on the
// request path reads a handful of records and no index is ever stale.
//
// Access-key secrets and MFA seeds are sealed at rest with package seal,
// with associated data naming the record (seal.AAD("access-key", akid),
// seal.AAD("mfa-seed", serial)), so a ciphertext moved to another record does
// not open.
//
// # Hot path
//
// [Service.LookupAccessKey] and [Service.UserPolicies] run on every request.
// Policy documents are parsed once and the parsed form is cached in memory,
// keyed by the SHA-256 of the document, in a bounded cache.
//
// # Errors
//
// Methods return *[Error], whose Kind is one of the sentinels (ErrNoSuchEntity,
// ErrDeleteConflict, …) and whose message uses AWS's wording and is safe to
// show to clients: it names entities, never secrets. Test with errors.Is.
package iam
