package dbcred

import "context"

// Rotator is what an engine that can rotate a secret in AWS's RDS shape
// (package rotation) does besides [Engine]. It is optional: an engine
// without it makes RotateSecret refuse the secret. As for Engine, every
// method connects with the credential it is given and keeps none,
// implementations quote every identifier and literal by the database's
// rules, and no error holds a password.
type Rotator interface {
	// Ping connects as c (its host, port, user, password, database) and
	// runs a query: it reports whether c works.
	Ping(ctx context.Context, c *Master) error
	// SetOwnPassword connects as c and sets c's own user's password to
	// password (single-user rotation).
	SetOwnPassword(ctx context.Context, c *Master, password Password) error
	// SetUserPassword connects as master and sets user's password to
	// password, creating user first if it does not exist, able to log in
	// and a member of like (so that it has like's privileges): the clone
	// of alternating-users rotation. It refuses to touch a user that is a
	// superuser, can create roles, or is master itself.
	SetUserPassword(ctx context.Context, master *Master, user, like string, password Password) error
}

// SingleUserOnly is implemented by a Rotator that cannot rotate
// alternating users on its engine: RotateSecret refuses such a secret up
// front with the reason it returns.
type SingleUserOnly interface {
	SingleUserOnly() (reason string)
}

// CloneSuffix is what alternating-users rotation appends to a user's name
// to make its clone, as AWS's rotation templates do.
const CloneSuffix = "_clone"
