// Package approvals is the domain of build-bound approval requests: a job
// asks for a role session, one or more humans approve it, and the broker
// hands the session to that job exactly once.
//
// # The flow
//
//  1. The job creates a [Request] bound to its build ([Build]: URL, job,
//     number, commit, a hash of its parameters, read from the standard
//     Jenkins, GitHub Actions and GitLab CI variables by [BuildFromEnv]).
//     It generates a [RedemptionKey] and sends only its public halves: the
//     broker never sees the secret, so nothing the broker stores or logs can
//     redeem the request.
//  2. Approvers see the request by its short [Code] and approve it. The
//     role's [Rules] (role tags, parsed by [ParseRules]) say how many distinct
//     approvers are needed (N of the M members of a group), how long an
//     unapproved request lives and how long the session may last. The
//     requester never counts as an approver.
//  3. When the last approval arrives the broker mints the session, seals the
//     credentials to the request's wrap key ([Wrap]) and stores only that
//     ciphertext. [Service.Redeem] hands it over once, to the requester,
//     against a proof signed with the redemption key; a second redemption is
//     refused, counted as an alarm and recorded on the request.
//
// # What it refuses
//
// It fails closed: a rule tag that does not parse, an approvers group that
// is missing or smaller than the number of approvals it must supply, a
// request past its approval window, or two approvers attaching different
// session policies all refuse rather than guess. It knows nothing of HTTP or
// of policy evaluation: package server decides who may approve and mints
// the session, and calls [Service.Approve] with the outcome.
//
// Requests live in a store bucket keyed by code, with an index from each
// minted session to its request; writes are guarded by a version so that
// two replicas cannot both complete one request.
package approvals
