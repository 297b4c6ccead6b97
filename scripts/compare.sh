#!/usr/bin/env bash
# Compares two shortfuse binaries side by side in one run: both brokers are started on fresh
# data directories, and the same `shortfuse bench` client (from NEW) measures each in turn,
# ROUNDS times per operation and concurrency, so that the machine's load weighs on both.
#
#   scripts/compare.sh OLD_BINARY NEW_BINARY
#
# Environment: OUT (default $TMPDIR/shortfuse-compare), DURATION (5s), WARMUP (1s), ROUNDS (3),
# CONCURRENCY ("1 32"), OPS ("get-secret-value assume-role get-session-token put-secret-value").
# Prints one line per measurement and, at the end, the means per version.
set -euo pipefail
. "$(dirname "$0")/lib/broker.sh"
[ $# -eq 2 ] || { echo "usage: $0 OLD_BINARY NEW_BINARY" >&2; exit 2; }
old="$1" new="$2"
OUT="${OUT:-${TMPDIR:-/tmp}/shortfuse-compare}"
DURATION="${DURATION:-5s}"
WARMUP="${WARMUP:-1s}"
ROUNDS="${ROUNDS:-3}"
CONCURRENCY="${CONCURRENCY:-1 32}"
OPS="${OPS:-get-secret-value assume-role get-session-token put-secret-value}"
rm -rf "$OUT" && mkdir -p "$OUT"

trap stop_brokers EXIT
declare -A url pid
for which in old new; do
	bin="$old"
	[ "$which" = new ] && bin="$new"
	broker_start "$bin" "$OUT/$which" "$OUT/$which.log" || exit 1
	pid[$which]="$broker_pid" url[$which]="$broker_at"
done

ticks="$(getconf CLK_TCK)"
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
for op in $OPS; do
	for c in $CONCURRENCY; do
		for r in $(seq 1 "$ROUNDS"); do
			for which in old new; do
				f="$OUT/$op-c$c-$which-$r.json"
				c0="$(cpu "${pid[$which]}")"
				bench_admin "$OUT/$which" "${url[$which]}" "$new" --op "$op" --concurrency "$c" \
					--duration "$DURATION" --warmup "$WARMUP" --json >"$f"
				c1="$(cpu "${pid[$which]}")"
				echo "$((c1 - c0))" >"${f%.json}.cpu"
				jq -r --arg w "$which" --arg op "$op" --arg c "$c" --arg r "$r" \
					--argjson cpu "$(((c1 - c0)))" --argjson t "$ticks" '
					.endpoint as $e |
					"\($op) c=\($c) \($w) round \($r): \($e.requests_per_second | floor) req/s, p50 \($e.latency.p50_ms) ms, p99 \($e.latency.p99_ms) ms, errors \($e.errors), broker CPU \($cpu / $t / ($e.requests * ($e.warmup_seconds + $e.elapsed_seconds) / $e.elapsed_seconds) * 1e6 | floor) µs/req"' "$f"
			done
		done
	done
done

echo
echo "| operation | c | old req/s | new req/s | old p50 / p99 ms | new p50 / p99 ms | old / new broker CPU µs/req |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for op in $OPS; do
	for c in $CONCURRENCY; do
		line="| $op | $c"
		for field in rps lat cpu; do
			for which in old new; do
				files=("$OUT/$op-c$c-$which-"*.json)
				case $field in
				rps) v="$(jq -s '[.[].endpoint.requests_per_second] | add / length | floor' "${files[@]}")" ;;
				lat) v="$(jq -rs '"\([.[].endpoint.latency.p50_ms] | add / length * 100 | round / 100) / \([.[].endpoint.latency.p99_ms] | add / length * 100 | round / 100)"' "${files[@]}")" ;;
				cpu)
					tot=0
					for f in "${files[@]}"; do tot=$((tot + $(cat "${f%.json}.cpu"))); done
					v="$(jq -s --argjson cpu "$tot" --argjson t "$ticks" '$cpu / $t / ([.[] | .endpoint.requests * (.endpoint.warmup_seconds + .endpoint.elapsed_seconds) / .endpoint.elapsed_seconds] | add) * 1e6 | floor' "${files[@]}")"
					;;
				esac
				[ "$field" = cpu ] && [ "$which" = new ] && line="$line / $v" || line="$line | $v"
			done
		done
		echo "$line |"
	done
done
