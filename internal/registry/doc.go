// Package registry is the session registry: the broker-side state of STS
// sessions that makes them explode: revocation of one session or of every
// session of a principal issued before a time, use limits (the
// `shortfuse:max-uses` session tag, or a narrowing), the dead-man switch
// armed by heartbeats, and lineage: a session minted by a session is
// admitted only while every session of its chain is live.
//
// Session tokens are self-validating (package sessiontoken); this package holds
// only what a token cannot carry. Every authenticated request made with
// session credentials goes through [Service.Admit], which answers from memory
// for sessions without a use limit; the store is the source of truth and is
// written before any change is acknowledged.
//
// # Several replicas
//
// When several brokers share one store, each keeps its own memory. A change
// that the others must enforce (a revocation, a newly armed dead-man switch)
// is published through [Options.Publisher] in the transaction that makes it,
// and every replica applies what was published with [Service.Apply], which
// re-reads the record from the store (package feed does both), so memory
// lags the store by the feed's latency at most. A revocation once applied
// is never forgotten, even when an older change is applied after it; a
// dead-man deadline that memory believes passed is checked in the store
// before the session is refused, since heartbeats that only move the
// deadline are not published.
package registry
