// Package seal is the envelope encryption of everything shortfuse keeps secret
// at rest: secret values, access key secrets and session server keys.
//
// # Keys
//
// A [MasterKey] (32 bytes) lives outside the store, in a 0600 key file
// ([LoadOrCreateKeyFile], [LoadKeyFile]) or an environment variable
// ([ParseMasterKey]). It only wraps [DataKey]s ([MasterKey.Wrap],
// [MasterKey.Unwrap]); the wrapped data keys are kept in the store beside the
// records they protect. A [Sealer] holds the unwrapped data keys, seals new
// records with the newest one and opens records sealed with any of them, so
// data keys rotate with [Sealer.Add] without re-encrypting anything.
//
// # Binding ciphertexts to records
//
// Every [Sealer.Seal] takes associated data that must be given again to
// [Sealer.Open]. Build it with [AAD] from the record's identity, for example
// AAD("secret-version", arn, versionID), so a ciphertext copied onto another
// record, or rolled back to another version, does not open.
//
// # What it refuses
//
// Open reports every failure as the one error [ErrOpen], with no detail: a
// tampered, truncated or moved ciphertext and an unknown key are
// indistinguishable to the caller. Keys never print: their String, GoString,
// Format, LogValue and MarshalJSON methods all yield "[redacted]". Key files
// that grant any permission to group or others are refused rather than read.
//
// All algorithms are AES-256-GCM with 96-bit random nonces drawn from the
// io.Reader given by the caller (crypto/rand.Reader in production). A data
// key must not seal more than 2^32 records; rotate long before that.
package seal
