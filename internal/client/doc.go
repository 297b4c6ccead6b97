// Package client is the job-side and human-side tooling of shortfuse: the
// code behind `shortfuse token`, `shortfuse exec`, `shortfuse secret put`,
// `shortfuse sessions` and `shortfuse revoke`. It holds no code itself; each
// concern has its own subpackage:
//
//   - [github.com/shortfuse/shortfuse/internal/client/token]: the token
//     formats (jenkins, env, json credential_process, aws STS JSON) and the
//     credential_process cache.
//   - [github.com/shortfuse/shortfuse/internal/client/mask]: the streaming
//     masker that hides secret values and their encodings in output.
//   - [github.com/shortfuse/shortfuse/internal/client/execjob]: the
//     supervised child process, its cleaned environment, signal forwarding
//     and the loopback container-credentials endpoint.
//   - [github.com/shortfuse/shortfuse/internal/client/brokerapi]: signed calls
//     to the broker's own `shortfuse` service (revocation, heartbeat, lists).
//   - [github.com/shortfuse/shortfuse/internal/client/secretref]: the
//     VAR=SECRET_ID[#JSON_KEY] references and their fetching.
//   - [github.com/shortfuse/shortfuse/internal/client/awsconf]: the standard
//     aws-sdk-go-v2 configuration, plus where the broker's service lives.
//   - [github.com/shortfuse/shortfuse/internal/client/tty]: prompts on the
//     terminal without echo.
//
// Everything here works unchanged against real AWS, except what only the
// broker can do (revoking one session, heartbeats); those calls say so once
// and carry on.
package client
