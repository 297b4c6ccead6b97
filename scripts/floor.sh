#!/usr/bin/env bash
# What the durable writes cost: each given broker binary is started twice, with its data
# directory on disk and on tmpfs (/dev/shm, where fsync returns at once), and each of the
# brokers is measured against the ceiling by `shortfuse bench --ceiling` in turn.
#
#   scripts/floor.sh NAME=BINARY [NAME=BINARY ...]
#
# Environment: OUT (default $TMPDIR/shortfuse-floor), DURATION (5s), ROUNDS (4),
# CONCURRENCY (32), OPS ("get-secret-value assume-role get-session-token"). The first
# binary also runs the bench client. docs/PERFORMANCE.md gives a run and the experimental
# build it compared ("What the durable writes cost").
set -euo pipefail
. "$(dirname "$0")/lib/broker.sh"
[ $# -ge 1 ] || { echo "usage: $0 NAME=BINARY [NAME=BINARY ...]" >&2; exit 2; }
OUT="${OUT:-${TMPDIR:-/tmp}/shortfuse-floor}"
SHM=/dev/shm/shortfuse-floor-$$
DURATION="${DURATION:-5s}"
ROUNDS="${ROUNDS:-4}"
CONCURRENCY="${CONCURRENCY:-32}"
OPS="${OPS:-get-secret-value assume-role get-session-token}"
rm -rf "$OUT" && mkdir -p "$OUT" "$SHM"
cleanup() { stop_brokers; rm -rf "$SHM"; }
trap cleanup EXIT
client="${1#*=}"
names=() dirs=() urls=()
for arg in "$@"; do
	name="${arg%%=*}" bin="${arg#*=}"
	for where in disk tmpfs; do
		dir="$OUT/$name-disk"
		[ "$where" = tmpfs ] && dir="$SHM/$name-tmpfs"
		broker_start "$bin" "$dir" "$OUT/$name-$where.log" || exit 1
		names+=("$name, $where") dirs+=("$dir") urls+=("$broker_at")
	done
done
for op in $OPS; do
	for i in "${!names[@]}"; do
		f="$OUT/$op-$i.json"
		bench_admin "${dirs[$i]}" "${urls[$i]}" "$client" --op "$op" --concurrency "$CONCURRENCY" \
			--duration "$DURATION" --warmup 1s --ceiling --rounds "$ROUNDS" --json >"$f"
		jq -r --arg n "${names[$i]}" --arg op "$op" '
			"\($op) | \($n) | \(.endpoint.requests_per_second | floor) | \(.ceiling.requests_per_second | floor) | \(.endpoint.requests_per_second / .ceiling.requests_per_second * 100 | floor / 100) | \(.endpoint.server_cpu_seconds / .endpoint.requests * 1e6 | floor) | \(.ceiling.server_cpu_seconds / .ceiling.requests * 1e6 | floor) | \(.cpu_ratio * 100 | floor / 100)x | \(.endpoint.latency.p99_ms * 10 | floor / 10) | \(.ceiling.latency.p99_ms * 10 | floor / 10)"' "$f"
	done
done
