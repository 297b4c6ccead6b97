// Package policy implements the AWS IAM policy language: it parses, validates and
// evaluates identity, resource and trust policies.
//
// It follows the IAM JSON policy reference
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html)
// and the evaluation logic for requests within one account
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
//
// # Which entry point
//
//   - [Parse] turns a policy document into a [Policy], or returns a [*MalformedError] that
//     says which element is wrong. Everything evaluation needs (lower-cased actions,
//     glob patterns, numbers, dates, CIDRs, policy variables) is compiled here, once.
//   - [Evaluate] decides one request against one set of policies:
//     explicit Deny beats Allow beats implicit deny.
//   - [Authorize] combines the sets of one request: identity policies, session policies
//     and resource (or trust) policies, as IAM does for a caller and resource in the same
//     account. Prefer it to calling Evaluate per set and combining by hand.
//   - [EvaluateInto] and [AuthorizeInto] do the same into a reused [Result]: without policy
//     variables they allocate nothing.
//   - [Policy.Marshal] writes the canonical form of a parsed policy.
//
// # What it refuses
//
// Parse is strict on purpose, because a lenient parser hides attacks (a policy read
// differently by its author and by the engine): duplicate keys at any level, unknown or
// wrongly cased elements (a "Conditions" element is refused, never read as "no condition"),
// trailing data, invalid UTF-8, control characters, unknown condition operators,
// malformed actions, resources, principals and condition keys, and documents larger than
// [MaxDocumentSize].
//
// # Choices where the reference leaves room
//
//   - The value of a policy variable is literal text once substituted: a '*' or '?' inside
//     a user name or tag value never acts as a wildcard. ${*}, ${?} and ${$} give a
//     literal '*', '?' and '$'.
//   - A variable whose key is absent from the request (and has no default) makes the
//     resource or condition value that uses it match nothing.
//   - NotPrincipal applies to a caller unless every identity of the caller (its account,
//     its user or role ARN, its session ARN) is listed, as IAM checks account, role and
//     session in turn. It is refused with Allow and in identity and trust policies.
//   - Principal values never contain wildcards other than a lone "*".
//   - Actions compare case-insensitively for ASCII letters only: Unicode case folding would
//     let the action "ſecretsmanager:GetSecretValue" (U+017F) match "secretsmanager:*".
//     StringEqualsIgnoreCase, meant for tag values, uses Unicode simple folding.
//   - A request value that does not parse for its operator (a number, date, IP address,
//     boolean or base64 value) matches no policy value; negated operators are then true.
//
// The package is pure: no I/O, no clock (the request time is a context key such as
// aws:CurrentTime), no mutable globals. A parsed Policy is immutable and safe for
// concurrent use.
package policy
