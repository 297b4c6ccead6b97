// Package bench is the load generator behind `shortfuse bench`: it measures
// how many requests per second an AWS-compatible endpoint (the broker,
// another implementation, or real AWS) answers, and with what latency, for
// the operations that sit on a CI job's critical path.
//
// It is built on aws-sdk-go-v2, so its requests are signed and its responses
// parsed exactly as real clients do it; the client's own cost is part of
// every figure. That is why a run can also measure the [Ceiling]: an
// in-process server that answers every operation with a canned, valid
// response and does no work. Measured with the same client in the same run,
// the ratio endpoint/ceiling is the figure that stays meaningful on a noisy,
// shared machine.
//
// # Use
//
//	res, err := bench.Run(ctx, bench.Config{
//		AWS: awsCfg, Endpoint: "http://127.0.0.1:7575",
//		Op: bench.GetSecretValue, Concurrency: 32,
//		Duration: 10 * time.Second, Warmup: 2 * time.Second,
//		Rand: rand.Reader, Now: time.Now,
//	})
//
// [Run] creates the fixtures the operation needs (a secret to read, secrets
// to write, a role trusting the caller, an IAM user with an access key) with
// the credentials it is given, runs Concurrency workers in closed loop (each
// sends its next request when the previous one is answered), records every
// request's latency into a [Histogram] and counts errors by AWS error code,
// then deletes the fixtures. Errors are counted, never retried.
//
// [Compare] measures an endpoint and the ceiling in alternating slices of
// the same run, and [Report] puts them side by side.
//
// With [Config].PrincipalPolicies, the Secrets Manager requests are sent as
// a fixture IAM user with that many customer managed policies (up to
// [MaxPrincipalPolicies], through groups beyond 10), whose statements all
// have to be evaluated before the last one allows the request: how a
// request's cost grows with the caller's policies.
//
// # What it does not do
//
// It does not pace requests (open-loop load), so latencies under overload
// are those of a closed system; it does not verify responses beyond what the
// SDK's deserialisers check.
package bench
