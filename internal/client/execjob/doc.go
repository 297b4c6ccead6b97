// Package execjob runs the command of `shortfuse exec` as a supervised
// child process: never by replacing the shortfuse process (syscall.Exec),
// because shortfuse must stay to mask the child's output, keep its session
// alive and revoke it when the child ends.
//
// [Run] starts the child with a cleaned environment ([CleanEnv]), forwards
// SIGINT, SIGTERM, SIGHUP and SIGQUIT to it, stops waiting (SIGKILL) on a
// second signal, and reports the child's exit code, or 128+signal when a
// signal ended it, as shells do.
//
// [CredentialsServer] serves the session to the child's AWS SDKs on a
// loopback container-credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI
// with AWS_CONTAINER_AUTHORIZATION_TOKEN), for tools that refresh their
// credentials; [KeepAlive] sends the broker's heartbeats while the child
// runs.
package execjob
