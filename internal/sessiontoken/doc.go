// Package sessiontoken mints and opens the sealed, self-validating session tokens
// behind STS credentials (ASIA… access keys).
//
// # Tokens
//
// A session token is a claim set ([Claims]: session id, principal, role,
// times, MFA state, session policies, tags, use limit) sealed with
// AES-256-GCM under a server key. The session's secret access key is derived
// from the same server key and the session id, so any replica that holds the
// server keys validates a session with no store lookup: [Keyring.Open]
// authenticates the token and returns its claims, and [Keyring.Secret]
// re-derives the secret for the SigV4 check. Only revocations and use limits
// need the store.
//
// The token text is
//
//	"sfs1." + base64url-without-padding(version | server key id | nonce | ciphertext+tag)
//
// It never contains ':' (a CI system may carry credentials as one
// "SessionToken:AccessKeyId:SecretAccessKey" string) and needs no escaping in
// a header, a query string or an environment variable.
//
// # Server keys
//
// A [Keyring] holds the server keys ([ServerKey]): the one with the highest
// id mints, every known key opens, so keys rotate by [Keyring.Add] and retire
// by [Keyring.Remove] (which kills every session minted under that key). The
// caller persists keys sealed in the store ([ServerKey.Bytes],
// [ServerKeyFromBytes]). Each server key is split with HKDF-SHA256 into a
// token-sealing key and a secret-derivation key, so the two uses never share
// key material.
//
// # What it refuses
//
// [Keyring.Open] authenticates the token before it reads anything in it, and
// binds it to the access key id it was minted for. Any failure is the one
// error [ErrInvalidToken], with no detail. It does not check expiry: the
// caller calls [Claims.Expired] after Open succeeds, so a forged token is
// reported as invalid, never as expired, and gives an attacker no oracle.
// Secret material never prints: [Credentials] and [ServerKey] redact
// themselves in fmt and log/slog output.
package sessiontoken
