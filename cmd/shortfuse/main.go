// Command shortfuse is a credential broker that speaks the AWS APIs of STS,
// IAM and Secrets Manager, and the CI client that gets exploding credentials
// from it.
package main

import (
	"context"
	"os"
	"syscall"
)

func main() {
	ctx, stop := notifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], processDeps())
	stop()
	os.Exit(code)
}
