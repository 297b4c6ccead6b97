// Package oidc verifies OpenID Connect identity tokens (JWTs) that CI systems
// sign for each build — GitHub Actions, GitLab CI, Jenkins with the
// oidc-provider plugin — so that the broker can trade one for a session
// (STS AssumeRoleWithWebIdentity) without the build holding any secret.
//
// # Which entry point
//
//   - [Parse] reads a compact JWS without trusting it, to learn the issuer
//     (which provider to look up) and the key id. Nothing it returns is
//     authenticated.
//   - [Verify] authenticates a parsed token against one issuer's keys and
//     checks its claims: iss, aud (one of the provider's client ids), exp,
//     nbf and iat with a small skew, and sub. It returns [Claims], whose
//     [Claims.ConditionKeys] are the "<issuer-host-and-path>:<claim>" keys of
//     a trust policy.
//   - Keys come from a [KeySource]: [StaticKeys] for a JWKS document stored
//     with the provider ([ParseKeySet]), or [Remote], which follows the
//     issuer's discovery document to its jwks_uri and caches the key set.
//   - [NormalizeIssuer] is the one definition of an acceptable issuer URL and
//     its canonical form; [ConditionPrefix] derives the provider's name from it.
//
// # What it refuses
//
// Only RS256 and ES256 are accepted. "none", every HMAC algorithm (HS256
// signed with the bytes of a public key is the classic confusion attack) and
// everything else are refused before any key is looked at, and a key is used
// only for the algorithm its type fits: RSA keys of at least 2048 bits for
// RS256, P-256 keys for ES256. Keys are never taken from the token (its jwk,
// jku, x5u and x5c headers are ignored), and a "crit" header is refused.
// Claims are decoded strictly: invalid UTF-8, a key given twice, trailing data
// and claims whose names differ only by case are refused, so that the broker
// and the policy engine cannot read one token two ways.
//
// Issuers and JWKS endpoints must be https; plain http is accepted only for
// loopback hosts (127.0.0.0/8, ::1, localhost), which tests use.
// Remote fetches are bounded in size and time, and a fetch for an issuer is
// rate-limited even when a token names a key the cache lacks, so anonymous
// callers cannot turn the broker against an issuer.
//
// # Errors
//
// Every failure is an [*Error] whose [Reason] says which check failed and
// whose Detail is safe to show to a client: it never contains the token or a
// signature. The package is free of clocks: the caller passes the time.
package oidc
