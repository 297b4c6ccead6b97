// Package tty asks the person at the terminal for a secret: it opens the
// controlling terminal (/dev/tty) itself, so that prompts never mix with
// data on stdout and answers never come from a pipe by accident, and reads
// without echo.
package tty
