#!/bin/sh
# The exploding-token recipe of docs/PRODUCT.md, steps 1 to 4, command for
# command with the aws CLI and jq, against a shortfuse broker.
#
# Environment (set by recipe_test.go):
#   AWS_ENDPOINT_URL             the broker
#   AWS_SHARED_CREDENTIALS_FILE  the admin's credentials file the broker wrote
#   AWS_DEFAULT_REGION           us-east-1
#   WORK                         an empty private directory
#
# Secret values never appear on a command line: they go through files, a
# pipe and a named pipe. Copies are left in $WORK/value-* for the test to
# check the results against.
set -eu
umask 077
cd "$WORK"

RECIPE=recipe
. "$(dirname "$0")/recipe-lib.sh"

# denied CODE COMMAND...: COMMAND must fail with the AWS error CODE.
# The pasted token is not printed.
denied() {
	code=$1
	shift
	if [ "$1" = in_pipeline ]; then
		what="in the pipeline: $(shift 2 && printf '%s' "$*")"
	else
		what=$*
	fi
	if "$@" >out.json 2>err.txt; then
		fail "$what succeeded; want $code"
	fi
	grep -q "($code)" err.txt || fail "$what failed without $code: $(cat err.txt)"
	say "denied as it should be ($code): $what"
}

# new_value FILE: a fresh random value, written to FILE without a newline.
new_value() {
	aws secretsmanager get-random-password --exclude-punctuation --password-length 40 \
		--query RandomPassword --output text | tr -d '\n' >"$1"
}

ACCOUNT=$(aws sts get-caller-identity --query Account --output text)

say "1. a permanent secret, written without touching shell history"
aws secretsmanager create-secret --name /prod/exampleCredential --description "recipe" >/dev/null
new_value value-file
aws secretsmanager put-secret-value --secret-id /prod/exampleCredential --secret-string "file://$WORK/value-file" >/dev/null
new_value value-stdin
cat value-stdin | aws secretsmanager put-secret-value --secret-id /prod/exampleCredential --secret-string file:///dev/stdin >/dev/null
# A named pipe: the value is on disk nowhere but in this test's copy.
mkfifo -m0600 pipe
new_value value-pipe
cat value-pipe >pipe &
aws secretsmanager put-secret-value --secret-id /prod/exampleCredential --secret-string "file://$WORK/pipe" >/dev/null
wait
rm pipe
new_value value-staging
aws secretsmanager create-secret --name /staging/exampleCredential --secret-string "file://$WORK/value-staging" >/dev/null

say "2. a policy that reads /prod/*, attached to the operator"
cat >read-prod.json <<'POLICY'
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "secretsmanager:GetSecretValue",
      "Resource": "arn:aws:secretsmanager:us-east-1:*:secret:/prod/*"
    }
  ]
}
POLICY
POLICY_ARN=$(aws iam create-policy --policy-name read-prod-secrets --policy-document file://read-prod.json --query Policy.Arn --output text)
aws iam create-user --user-name operator >/dev/null
aws iam attach-user-policy --user-name operator --policy-arn "$POLICY_ARN"
aws iam create-access-key --user-name operator >operator-key.json
OPERATOR_KEY_ID=$(jq -r .AccessKey.AccessKeyId operator-key.json)
OPERATOR_SECRET=$(jq -r .AccessKey.SecretAccessKey operator-key.json)
rm operator-key.json

# as_operator COMMAND...: run as the operator, with the long-term key.
as_operator() {
	AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_ACCESS_KEY_ID=$OPERATOR_KEY_ID AWS_SECRET_ACCESS_KEY=$OPERATOR_SECRET "$@"
}

# ci_get PASTED: what the pipeline does with the pasted string.
ci_get() {
	value=$(in_pipeline "$1" aws secretsmanager get-secret-value --secret-id /prod/exampleCredential | jq -r .SecretString)
	if [ -z "$value" ] || [ "$value" = null ]; then
		fail "failed to get exampleCredential"
	fi
	[ "$value" = "$(cat value-pipe)" ] || fail "the pipeline got a value that is not the current one"
}

say "3. an exploding token from get-session-token, pasted into the pipeline"
TOKEN=$(as_operator aws sts get-session-token --duration-seconds 900 | jq -r '.Credentials|.SessionToken+":"+.AccessKeyId+":"+.SecretAccessKey')
ci_get "$TOKEN"
say "the pipeline read /prod/exampleCredential"
denied AccessDeniedException in_pipeline "$TOKEN" aws secretsmanager get-secret-value --secret-id /staging/exampleCredential
denied AccessDeniedException in_pipeline "$TOKEN" aws secretsmanager put-secret-value --secret-id /prod/exampleCredential --secret-string "file://$WORK/value-file"

say "4. least privilege: a role that reads /prod/* only, trusted by the operator"
cat >trust.json <<TRUST
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::$ACCOUNT:user/operator"},
      "Action": "sts:AssumeRole"
    }
  ]
}
TRUST
aws iam create-role --role-name prod-secret-reader --assume-role-policy-document file://trust.json >/dev/null
aws iam put-role-policy --role-name prod-secret-reader --policy-name read-prod --policy-document file://read-prod.json
aws iam put-user-policy --user-name operator --policy-name assume-reader --policy-document \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"arn:aws:iam::$ACCOUNT:role/prod-secret-reader\"}]}"
TOKEN=$(as_operator aws sts assume-role --role-arn "arn:aws:iam::$ACCOUNT:role/prod-secret-reader" --role-session-name jenkins-build-42 |
	jq -r '.Credentials|.SessionToken+":"+.AccessKeyId+":"+.SecretAccessKey')
ci_get "$TOKEN"
say "the role session read /prod/exampleCredential"
in_pipeline "$TOKEN" aws sts get-caller-identity --query Arn --output text | grep -q ":assumed-role/prod-secret-reader/jenkins-build-42$" ||
	fail "the pipeline does not run as the role session"
denied AccessDenied in_pipeline "$TOKEN" aws iam list-users
denied AccessDenied in_pipeline "$TOKEN" aws iam create-access-key --user-name operator
denied AccessDeniedException in_pipeline "$TOKEN" aws secretsmanager get-secret-value --secret-id /staging/exampleCredential
denied AccessDeniedException in_pipeline "$TOKEN" aws secretsmanager put-secret-value --secret-id /prod/exampleCredential --secret-string "file://$WORK/value-file"
denied AccessDeniedException in_pipeline "$TOKEN" aws secretsmanager describe-secret --secret-id /prod/exampleCredential
denied AccessDeniedException in_pipeline "$TOKEN" aws secretsmanager list-secrets
denied AccessDeniedException in_pipeline "$TOKEN" aws secretsmanager delete-secret --secret-id /prod/exampleCredential
denied AccessDeniedException in_pipeline "$TOKEN" aws secretsmanager create-secret --name /prod/other

say "recipe: ok"
