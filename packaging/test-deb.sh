#!/usr/bin/env bash
# Installs the Debian package the way an operator does and checks it: the
# binary on PATH with its version, the man pages, the systemd unit
# (systemd-analyze verify, and its exposure score), and a broker started from
# the installed binary that answers its health check. Removes it afterwards.
#   packaging/test-deb.sh shortfuse_1.2.3_amd64.deb VERSION
set -euo pipefail
deb=$(readlink -f "${1:?usage: test-deb.sh DEB VERSION}")
version=${2:?usage: test-deb.sh DEB VERSION}
fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }
say() { echo "test-deb: $*" >&2; }
work=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq shortfuse >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
[ "$(command -v shortfuse)" = /usr/bin/shortfuse ] || fail "shortfuse is not /usr/bin/shortfuse"
shortfuse version | head -1 | grep -qx "shortfuse $version" || fail "version: $(shortfuse version | head -1), want shortfuse $version"
for page in shortfuse shortfuse-server shortfuse-exec shortfuse-admin-recover; do
	[ -s "/usr/share/man/man1/$page.1.gz" ] || fail "no man page $page(1)"
done
zcat /usr/share/man/man1/shortfuse-exec.1.gz | grep -q -- '--request-timeout' || fail "shortfuse-exec(1) lacks --request-timeout"
unit=/lib/systemd/system/shortfuse.service
out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify says: $out"
score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -1)
say "installed $(shortfuse version | head -1); unit verified; $score"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
shortfuse server --listen "127.0.0.1:$port" --data "$work/data" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	shortfuse healthcheck --url "http://127.0.0.1:$port" >/dev/null 2>&1 && break
	sleep 0.2
done
shortfuse healthcheck --url "http://127.0.0.1:$port" >/dev/null || fail "the installed broker is not healthy: $(tail -3 "$work/log")"
kill -TERM "$pid"
wait "$pid" || fail "the installed broker did not exit 0 on SIGTERM"
pid=
say "ok"
