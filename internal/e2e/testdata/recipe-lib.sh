# What recipe.sh and recipe-expiry.sh share, sourced by them with RECIPE set
# to the script's name: their messages, and the pipeline's use of a pasted
# token.

say() { printf '== %s\n' "$*"; }
fail() { printf '%s: FAIL: %s\n' "$RECIPE" "$*" >&2; exit 1; }

# in_pipeline PASTED COMMAND...: run COMMAND as the CI job does, with only
# the three values split out of the pasted string (and nothing else of this
# shell's environment).
in_pipeline() {
	pasted=$1
	shift
	IFS=: read -r session_token access_key_id secret_access_key <<PASTED
$pasted
PASTED
	[ -n "$session_token" ] && [ -n "$access_key_id" ] && [ -n "$secret_access_key" ] ||
		fail "the pasted string does not split into SessionToken:AccessKeyId:SecretAccessKey"
	mkdir -p ci-home
	env -i PATH="$PATH" HOME="$WORK/ci-home" AWS_ENDPOINT_URL="$AWS_ENDPOINT_URL" AWS_DEFAULT_REGION="$AWS_DEFAULT_REGION" \
		AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_EC2_METADATA_DISABLED=true AWS_PAGER= AWS_MAX_ATTEMPTS=1 \
		AWS_SESSION_TOKEN="$session_token" AWS_ACCESS_KEY_ID="$access_key_id" AWS_SECRET_ACCESS_KEY="$secret_access_key" \
		"$@"
}
