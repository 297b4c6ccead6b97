// Package keystore keeps the broker's own records in the store: the account
// id chosen at first start, the data keys that seal every secret at rest,
// the session server keys that seal and open session tokens, and the audit
// key. It loads them at start (LoadAccount, LoadKeys, LoadAuditKey), keeps
// every replica's copy in step with the store and rotates them (Keys), and
// rewraps the data keys under a new master key (RewrapDataKeys).
//
// None of it is HTTP: the broker, the key commands of the CLI and the
// scripts reach it without the request handling of package server.
package keystore
