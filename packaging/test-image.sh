#!/usr/bin/env bash
# Builds the container image from a static binary and checks it the way an
# operator uses it: it starts as a non-root user, answers /healthz (through
# shortfuse healthcheck, as the image's HEALTHCHECK does), serves the AWS
# recipe to the aws CLI of the host, writes nothing outside /data, and keeps
# its data across a restart.
#   packaging/test-image.sh BINARY
#
# Where podman cannot start containers (a sandbox without the right to set
# rlimits: "crun: setrlimit `RLIMIT_NPROC`: Operation not permitted"), the
# image's own filesystem, exported from a created container, is run with
# chroot as the image's user instead, and the script says so.
set -euo pipefail
bin=${1:?usage: test-image.sh BINARY}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
image=localhost/shortfuse-ci:$$
cname=shortfuse-ci-$$
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	podman rm -f "$cname" >/dev/null 2>&1 || true
	podman rmi -f "$image" >/dev/null 2>&1 || true
	podman volume rm -f "$cname" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test-image: FAIL: $*" >&2; exit 1; }
say() { echo "test-image: $*" >&2; }
quiet() { grep -v 'Removing timer for container' || true; }

"$here/packaging/image-context.sh" "$bin" "$work/ctx"
podman build -q --format docker -f "$here/Containerfile" -t "$image" "$work/ctx" 2>&1 | quiet >/dev/null
cfg=$(podman image inspect "$image")
[ "$(jq -r '.[0].Config.User' <<<"$cfg")" = 65532:65532 ] || fail "the image does not run as 65532:65532"
jq -e '.[0].Config.Volumes | has("/data")' <<<"$cfg" >/dev/null || fail "no /data volume"
jq -e '.[0].HealthCheck.Test // .[0].Healthcheck.Test | index("healthcheck")' <<<"$cfg" >/dev/null || fail "no HEALTHCHECK running shortfuse healthcheck"
layers=$(jq '.[0].RootFS.Layers | length' <<<"$cfg")
say "image built: user 65532, /data volume, HEALTHCHECK, $layers layers, $(podman image inspect --format '{{.Size}}' "$image") bytes"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
mode=podman
if podman run -d --name "$cname" --read-only -p "127.0.0.1:$port:7575" -v "$cname:/data" \
	-e SHORTFUSE_INSECURE_HTTP=true "$image" >"$work/run.out" 2>&1; then
	data=$(podman volume inspect --format '{{.Mountpoint}}' "$cname")
	start() { podman start "$cname" >/dev/null 2>&1; }
	stop() { podman stop -t 20 "$cname" >/dev/null 2>&1; }
	health() { podman exec "$cname" /shortfuse healthcheck >/dev/null 2>&1; }
else
	err=$(quiet <"$work/run.out" | tail -1)
	case $err in
	*setrlimit*"Operation not permitted"*) ;;
	*) fail "podman run: $err" ;;
	esac
	mode=chroot
	chroot=$(command -v chroot)
	say "podman cannot start containers here ($err); running the image's filesystem with chroot as 65532 instead"
	podman rm -f "$cname" >/dev/null 2>&1 || true
	podman create --name "$cname" "$image" 2>&1 | quiet >/dev/null
	mkdir "$work/root"
	podman export "$cname" | tar -x -C "$work/root"
	data=$work/root/data
	(cd "$work/root" && find . -path ./data -prune -o -type f -print0 | sort -z | xargs -0 sha256sum; find . -path ./data -prune -o -printf '%p %m %u\n' | sort) >"$work/before"
	start() {
		env -i SHORTFUSE_DATA=/data SHORTFUSE_LISTEN="127.0.0.1:$port" SHORTFUSE_HEALTHCHECK_URL="$url" \
			"$chroot" --userspec=65532:65532 "$work/root" /shortfuse server >>"$work/server.log" 2>&1 &
		pid=$!
	}
	stop() { kill -TERM "$pid"; wait "$pid" || fail "the broker did not exit 0 on SIGTERM: $(tail -3 "$work/server.log")"; pid=; }
	health() { env -i SHORTFUSE_HEALTHCHECK_URL="$url" "$chroot" --userspec=65532:65532 "$work/root" /shortfuse healthcheck >/dev/null 2>&1; }
	start
fi
wait_healthy() {
	for _ in $(seq 100); do health && return 0; sleep 0.2; done
	fail "no healthy broker ($mode): $(podman logs "$cname" 2>&1 | tail -3; tail -3 "$work/server.log" 2>/dev/null)"
}
wait_healthy
[ "$(stat -c %u "$data/master.key")" = 65532 ] || fail "master.key is not the user's"
[ "$(stat -c %a "$data/master.key")" = 600 ] || fail "master.key is not 0600"
say "healthy ($mode), data owned by 65532"

cp "$data/admin-credentials" "$work/admin-credentials"
export AWS_SHARED_CREDENTIALS_FILE=$work/admin-credentials AWS_ENDPOINT_URL=$url AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/nonexistent AWS_PAGER=
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
value="ci-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
printf '%s' "$value" >"$work/secret.txt"
aws secretsmanager create-secret --name /prod/exampleCredential >/dev/null
aws secretsmanager put-secret-value --secret-id /prod/exampleCredential --secret-string "file://$work/secret.txt" >/dev/null
tok=$(aws sts get-session-token --duration-seconds 900 | jq -r '.Credentials|.SessionToken+":"+.AccessKeyId+":"+.SecretAccessKey')
IFS=: read -r st ak sk <<<"$tok"
got=$(AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk AWS_SESSION_TOKEN=$st \
	aws secretsmanager get-secret-value --secret-id /prod/exampleCredential | jq -r .SecretString)
[ "$got" = "$value" ] || fail "the recipe did not return the stored value"
say "the AWS recipe works with the host's aws CLI"

stop
start
wait_healthy
got=$(aws secretsmanager get-secret-value --secret-id /prod/exampleCredential | jq -r .SecretString)
[ "$got" = "$value" ] || fail "the secret is gone after a restart"
say "data kept across a restart"
if [ "$mode" = chroot ]; then
	stop
	(cd "$work/root" && find . -path ./data -prune -o -type f -print0 | sort -z | xargs -0 sha256sum; find . -path ./data -prune -o -printf '%p %m %u\n' | sort) >"$work/after"
	diff -q "$work/before" "$work/after" >/dev/null || fail "the broker wrote outside /data: $(diff "$work/before" "$work/after" | head -5)"
	say "nothing written outside /data (a read-only root works)"
fi
say "ok"
