// Package server is the broker's request handling: the AWS wire protocols
// of STS, IAM and Secrets Manager, and the shortfuse service, over one
// pipeline.
//
// # The pipeline
//
// Every call takes the same path, whatever its service and whether it
// comes from the API or from the approval page:
//
//	serveAPI (server.go): read, find the operation in the table, authenticate
//	   │  (a failed authentication is audited, and throttled per key id and
//	   │   address only after verification: authFailed, ratelimit.go)
//	   ▼
//	dispatch (pipeline.go): admit → audit intent → execute → encode → audit record
//	   ▲
//	uiBackend (ui.go): the approval page's actions, as the page's session
//
// admit applies the session rules to every caller with session
// credentials, on every operation: the broker's current cap, AWS's fixed
// limits on GetSessionToken sessions, the principal's unique id, and the
// registry's verdict on the session and every session it descends from
// (revoked, abandoned, narrowed, used up), which also counts the call
// against their use limits. What the pipeline does for an operation is
// declared by its Rules in the operations table (routes.go, and the
// Register of packages iamapi and smapi): Read, Write, Mint (what the
// audit trail records), IAM (what a session without MFA is refused),
// SelfRevoke and Uncounted (session control).
//
// # One way to do each thing
//
//   - Authorization: Request.Check (package rpc) with an authz question is
//     the one entry point, for identity, session, resource and trust
//     policies and web identities alike; it records each decision for the
//     audit trail. Server.authorize (authz.go) gathers the policies and
//     condition keys; package policy decides.
//   - Minting: mintSession (mint.go) builds the claims of every kind of
//     session (GetSessionToken, AssumeRole, web identity, approvals, page
//     sign-in), applies the caps and the lineage, and registers it.
//   - Errors: handlers return domain errors or *awsapi.Error; toWire
//     (errors.go) maps them to the wire.
//
// # Files
//
//	server.go, routes.go            front door, the operations table (its
//	                                request, handler and rules are package
//	                                rpc's, which every service's handlers
//	                                share)
//	pipeline.go                     dispatch and the session rules (admit)
//	auth.go, ratelimit.go           SigV4 authentication, throttling of failures
//	authz.go                        policies and condition keys of a caller
//	mint.go                         the one mint path
//	audit.go                        audit records of calls
//	errors.go                       domain errors to wire errors (IAM's
//	                                table is iamapi.Codes, Secrets
//	                                Manager's smapi.Codes)
//	sts.go, sts_webidentity.go      STS
//	package iamapi                  IAM (its handlers and their operations)
//	package smapi                   Secrets Manager (its handlers and their
//	                                operations; dynamic secrets' database
//	                                credentials, package dbcred; rotation)
//	shortfuse.go, shortfuse_oidc.go, shortfuse_approvals.go  the shortfuse service
//	ui.go                           the approval page's adapter onto the pipeline
//	authcache.go                    principal cache
//	metrics.go                      Prometheus metrics
package server
