// Package secretref reads the secret references of `shortfuse exec`
// (VAR=SECRET_ID[#JSON_KEY]) and fetches their values from Secrets
// Manager: with one BatchGetSecretValue call when there are several and the
// caller may use it, else with GetSecretValue per secret.
//
// Values are returned for the environment of the child process only. No
// error of this package contains a secret value; they name the variable and
// the secret id.
package secretref
