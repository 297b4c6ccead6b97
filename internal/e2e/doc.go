// Package e2e holds the end-to-end tests: they build the real shortfuse
// binary, start it on a free loopback port with a temporary data directory,
// and drive it with the real aws CLI and with aws-sdk-go-v2, as users do.
package e2e
