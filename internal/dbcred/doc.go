// Package dbcred hands out per-session database credentials that end with
// the session: a dynamic secret (tag shortfuse:dynamic=true) holds a
// configuration that names a master secret (AWS's RDS secret shape) and
// the roles to grant; reading it gives the caller a role of its own on the
// master's database server, created LOGIN with a generated password, VALID
// UNTIL the session's end, member of the grants.
//
// # Leases
//
// A [Lease] is one such role. A session has at most one lease per dynamic
// secret, kept in the store (the password sealed, AAD ("db-lease", role))
// and handed out again on every read; a caller with long-term keys gets a
// new lease per read that lasts the secret's lease lifetime. The record is
// written before the role is created, so a role the broker made always
// has a record.
//
// # Ending
//
// [Service.Reap], run on every replica every half second, drops the
// leases whose session (or an ancestor) is no longer live or whose expiry
// passed. One replica drops each lease: it claims it first in a store
// transaction (state dropping), and a claim is taken over only when its
// replica went silent (ClaimTimeout); dropping twice is harmless anyway.
// [Service.Sweep], run at start, drops the roles with [RolePrefix] that a
// master created and no live lease holds. The database's own backstop
// when no broker runs is VALID UNTIL on PostgreSQL, an end event on
// MariaDB (see package dbcred/mysql).
//
// # Engines
//
// An [Engine] does the database's part: create, drop (ending the role's
// connections), list leftovers. Package dbcred/postgres is PostgreSQL's;
// package dbcred/mysql is MariaDB's, for the engine names mariadb and
// mysql (a dynamic secret of either may use a master of either).
package dbcred
