// Package arn parses, formats and wildcard-matches Amazon Resource Names.
//
// An ARN has six colon-separated parts:
//
//	arn:partition:service:region:account-id:resource
//
// The resource part may itself contain ':' and '/'
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
//
// # Which entry point
//
//   - [Parse] and [ARN.String] to read and write ARNs. Parse is strict: it refuses
//     anything that is not six parts with a known shape, so that a malformed name never
//     reaches a store key or a policy decision.
//   - [Match] for the IAM glob ('*' any run of characters, '?' exactly one), used for the
//     Action, Resource and StringLike elements of policies.
//   - [MatchARN] for the ArnLike/ArnEquals condition operators, which glob each of the
//     six parts separately, so that a '*' in the account part cannot reach into the region.
//
// Matching never backtracks exponentially: it runs in O(len(pattern)·len(value)) time in the
// worst case and linear time in the common one, and it allocates nothing.
//
// The package is pure: no I/O, no clock, no mutable globals.
package arn
