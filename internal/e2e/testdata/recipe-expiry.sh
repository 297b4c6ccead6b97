#!/bin/sh
# Step 5 of the recipe: the token explodes. Against a broker started with a
# short --max-session-duration, the pipeline's call works while the token
# lives, fails with ExpiredTokenException after, and the secret is still
# there for the admin. Environment as for recipe.sh.
set -eu
umask 077
cd "$WORK"

RECIPE=recipe-expiry
. "$(dirname "$0")/recipe-lib.sh"

aws secretsmanager get-random-password --exclude-punctuation --query RandomPassword --output text | tr -d '\n' >value-expiry
aws secretsmanager create-secret --name /prod/exampleCredential --secret-string "file://$WORK/value-expiry" >/dev/null

# As the admin itself: a session token carries the caller's own rights.
aws sts get-session-token --duration-seconds 900 >session.json
TOKEN=$(jq -r '.Credentials|.SessionToken+":"+.AccessKeyId+":"+.SecretAccessKey' session.json)
EXPIRATION=$(jq -r .Credentials.Expiration session.json)
rm session.json

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
