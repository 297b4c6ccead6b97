// Package awsconf loads the aws-sdk-go-v2 configuration the way every AWS
// tool does (environment, shared config and credentials files, profiles,
// AWS_ENDPOINT_URL and its per-service forms), with the few overrides the
// shortfuse commands offer as flags, and finds where the broker's own
// `shortfuse` service lives.
//
// Nothing here is specific to the broker: pointed at real AWS, [Load] gives
// the same configuration the aws CLI would use, and [BrokerEndpoint]
// returns "" (AWS has no shortfuse service).
package awsconf
