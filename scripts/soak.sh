#!/usr/bin/env bash
# Soak: runs `shortfuse bench --op mixed` against one broker for DURATION and samples, every
# INTERVAL, what must stay bounded: the broker's RSS, open descriptors and goroutines, the
# embedded store's file, the audit log's bytes (active + rotated + shipped), and the sessions
# the registry holds. Prints one line a sample and a Markdown table at the end (in $OUT/soak.md).
#
#   scripts/soak.sh
#
# Environment: OUT (default $TMPDIR/shortfuse-soak), DURATION (5m), INTERVAL (10s),
# CONCURRENCY (32), AUDIT_KEEP (4: rotated audit files kept), AUDIT_MAX_BYTES (16 MiB).
set -euo pipefail
. "$(dirname "$0")/lib/broker.sh"
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
OUT="${OUT:-${TMPDIR:-/tmp}/shortfuse-soak}"
DURATION="${DURATION:-5m}"
INTERVAL="${INTERVAL:-10}"
CONCURRENCY="${CONCURRENCY:-32}"
AUDIT_KEEP="${AUDIT_KEEP:-4}"
AUDIT_MAX_BYTES="${AUDIT_MAX_BYTES:-16777216}"
rm -rf "$OUT" && mkdir -p "$OUT/ship"
go build -o "$OUT/shortfuse" ./cmd/shortfuse
bin="$OUT/shortfuse"

trap stop_brokers EXIT
broker_start "$bin" "$OUT/data" "$OUT/broker.log" --audit-keep "$AUDIT_KEEP" \
	--audit-max-bytes "$AUDIT_MAX_BYTES" --audit-ship-dir "$OUT/ship" || exit 1
pid="$broker_pid" url="$broker_at"

bench_admin "$OUT/data" "$url" "$bin" --op mixed --concurrency "$CONCURRENCY" --duration "$DURATION" \
	--warmup 1s --json >"$OUT/bench.json" &
bench=$!

sample() {
	local t="$1" rss fds gor store audit shipped sessions
	rss="$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")"
	fds="$(ls "/proc/$pid/fd" | wc -l)"
	gor="$(curl -sf "$url/metrics" | awk '/^go_goroutines / { print $2 }')"
	sessions="$(curl -sf "$url/metrics" | awk '/^shortfuse_active_sessions / { print $2 }')"
	store="$(stat -c %s "$OUT/data/shortfuse.db")"
	audit="$(find "$OUT/data" -maxdepth 1 -name 'audit.log*' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')"
	shipped="$(find "$OUT/ship" -maxdepth 1 -name 'audit.log*' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$rss" "$fds" "$gor" "$sessions" "$store" "$audit" "$shipped"
}
printf 't_s\trss_kib\tfds\tgoroutines\tsessions_active\tstore_bytes\taudit_kept_bytes\taudit_shipped_bytes\n' >"$OUT/samples.tsv"
start="$(date +%s)"
while kill -0 "$bench" 2>/dev/null; do
	sample "$(($(date +%s) - start))" | tee -a "$OUT/samples.tsv"
	sleep "$INTERVAL"
done
wait "$bench"
sleep 12 # one more pruning pass
sample "$(($(date +%s) - start))" | tee -a "$OUT/samples.tsv"

{
	echo "| t (s) | RSS (MiB) | fds | goroutines | active sessions | store (MiB) | audit kept (MiB) | audit shipped (MiB) |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
	tail -n +2 "$OUT/samples.tsv" | awk -F'\t' '{ printf "| %s | %.0f | %s | %s | %s | %.1f | %.1f | %.1f |\n", $1, $2/1024, $3, $4, $5, $6/1048576, $7/1048576, $8/1048576 }'
	jq -r '"\nmixed load: \(.endpoint.requests) requests, \(.endpoint.requests_per_second | floor) req/s, errors \(.endpoint.errors)"' "$OUT/bench.json"
} | tee "$OUT/soak.md"
