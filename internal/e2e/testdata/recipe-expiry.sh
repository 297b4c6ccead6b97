#!/bin/sh
# Step 5 of the recipe: the token explodes. Against a broker started with a
# short --max-session-duration, the pipeline's call works while the token
# lives, fails with ExpiredTokenException after, and the secret is still
# there for the admin. Environment as for recipe.sh.
set -eu
umask 077
cd "$WORK"

say() { printf '== %s\n' "$*"; }
fail() { printf 'recipe-expiry: FAIL: %s\n' "$*" >&2; exit 1; }

aws secretsmanager get-random-password --exclude-punctuation --query RandomPassword --output text | tr -d '\n' >value-expiry
aws secretsmanager create-secret --name /prod/exampleCredential --secret-string "file://$WORK/value-expiry" >/dev/null

# As the admin itself: a session token carries the caller's own rights.
aws sts get-session-token --duration-seconds 900 >session.json
TOKEN=$(jq -r '.Credentials|.SessionToken+":"+.AccessKeyId+":"+.SecretAccessKey' session.json)
EXPIRATION=$(jq -r .Credentials.Expiration session.json)
rm session.json

in_pipeline() {
	pasted=$1
	shift
	IFS=: read -r session_token access_key_id secret_access_key <<PASTED
$pasted
PASTED
	mkdir -p ci-home
	env -i PATH="$PATH" HOME="$WORK/ci-home" AWS_ENDPOINT_URL="$AWS_ENDPOINT_URL" AWS_DEFAULT_REGION="$AWS_DEFAULT_REGION" \
		AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_EC2_METADATA_DISABLED=true AWS_PAGER= AWS_MAX_ATTEMPTS=1 \
		AWS_SESSION_TOKEN="$session_token" AWS_ACCESS_KEY_ID="$access_key_id" AWS_SECRET_ACCESS_KEY="$secret_access_key" \
		"$@"
}

value=$(in_pipeline "$TOKEN" aws secretsmanager get-secret-value --secret-id /prod/exampleCredential | jq -r .SecretString)
[ "$value" = "$(cat value-expiry)" ] || fail "failed to get exampleCredential while the token lives"
say "read while the token lives (it expires at $EXPIRATION)"

# Wait until one second past the expiration.
until [ "$(date -u +%s)" -gt "$(date -u -d "$EXPIRATION" +%s)" ]; do sleep 0.2; done
sleep 1
if in_pipeline "$TOKEN" aws secretsmanager get-secret-value --secret-id /prod/exampleCredential >out.json 2>err.txt; then
	fail "the expired token still reads the secret"
fi
grep -q "(ExpiredTokenException)" err.txt || fail "not ExpiredTokenException: $(cat err.txt)"
[ ! -s out.json ] || fail "the expired token got output"
say "the token exploded: ExpiredTokenException"

value=$(aws secretsmanager get-secret-value --secret-id /prod/exampleCredential --query SecretString --output text)
[ "$value" = "$(cat value-expiry)" ] || fail "the secret is gone for the admin"
say "the secret is still there for the admin"
say "recipe-expiry: ok"
