// Package sessions keeps the broker-side state of STS sessions that makes
// them explode: revocation of one session or of every session of a
// principal issued before a time, use limits (the `shortfuse:max-uses`
// session tag), and the dead-man switch armed by heartbeats.
//
// Session tokens are self-validating (package session); this package holds
// only what a token cannot carry. Every authenticated request made with
// session credentials goes through [Service.Admit], which answers from memory
// for sessions without a use limit; the store is the source of truth and is
// written before any change is acknowledged.
package sessions
