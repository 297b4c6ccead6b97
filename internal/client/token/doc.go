// Package token reads and writes the exploding credentials that shortfuse
// hands to a job, in the four formats people paste them in:
//
//   - [FormatJenkins]: the one line SessionToken:AccessKeyId:SecretAccessKey
//     that a Jenkins password parameter takes (the AWS recipe's own shape).
//     It carries no expiry.
//   - [FormatEnv]: export lines for a POSIX shell, with
//     AWS_CREDENTIAL_EXPIRATION as the AWS CLI's `configure export-credentials`
//     writes it.
//   - [FormatJSON]: the credential_process output, Version 1
//     (https://docs.aws.amazon.com/sdkref/latest/guide/feature-process-credentials.html).
//   - [FormatAWS]: the JSON of `aws sts get-session-token` and `aws sts
//     assume-role` (botocore shape GetSessionTokenResponse).
//
// [Parse] detects the format; [Decode] and [Encode] take it explicitly.
// Decoders are strict: duplicate or unknown keys, wrong case, trailing data
// and malformed parts are refused with a [ParseError] that never quotes the
// input, since the input is a secret.
//
// [Credentials] redacts itself when printed or logged; the secret parts are
// reached only through its fields.
//
// [Cache] keeps credential_process results in 0600 files under the user's
// cache directory until shortly before they expire.
package token
