// Package rotation rotates, without a Lambda function, secrets in AWS's RDS
// shape whose engine can set passwords (a [dbcred.Rotator]): RotateSecret,
// CancelRotateSecret and the scheduler that rotates due secrets.
//
// # Steps
//
// A rotation follows the four steps of AWS's rotation functions, each of
// which can be repeated: createSecret (a new version, its id the
// ClientRequestToken, labelled AWSPENDING, with a generated password; an
// AWSPENDING version of that id is reused), setSecret (the password is
// set on the database), testSecret (a connection with the pending value
// runs a query) and finishSecret (AWSCURRENT moves to the pending version,
// AWSPREVIOUS to the version it left, and AWSPENDING is removed).
//
// Single user (the value has no masterarn): the broker connects as the
// user with its current password and sets the new one on itself.
// Alternating users (the value names its master secret in masterarn):
// the broker connects with the master's credential and alternates the
// value's username between the user and <user>_clone, creating the clone
// when it is missing, a member of the user as AWS's template makes it.
//
// # Schedules
//
// RotationRules are AutomaticallyAfterDays, rate(N hours|days) or an AWS
// six-field cron() expression ([ParseCron]), with an optional window
// (Duration). The next rotation is stored with the secret's metadata.
//
// # Several replicas
//
// Every replica runs [Service.Pass]; one rotates a given secret: it claims
// it first in a store transaction (compare and swap on the secret's
// record), and another takes the claim over only when it is older than
// ClaimTimeout. A rotation that fails or is interrupted keeps its
// AWSPENDING version and is resumed from it, with a backoff.
package rotation
