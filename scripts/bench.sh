#!/usr/bin/env bash
# Measures the broker in one run, as docs/PERFORMANCE.md reports it:
#   1. builds shortfuse and starts a broker on a fresh data directory (default flags:
#      bolt store, audit log, request logs at info level to a file);
#   2. for each operation and concurrency, `shortfuse bench --ceiling --json`: the broker,
#      then the in-process ceiling, with the same client;
#   3. policies per principal: for each count in POLICIES, get-secret-value at concurrency 32
#      against the same broker and the ceiling, sent as a user with that many managed
#      policies of 10 statements (`--principal-policies`);
#   4. the scaling runs: for each count in SCALE, a fresh broker whose store holds that many
#      secrets (added by scripts/fillsecrets while it is stopped): start-up time, RSS, and
#      get-secret-value at concurrency 32 against the ceiling;
#   5. the Go microbenchmarks (-benchmem);
#   6. Markdown tables of it all in $OUT/table.md.
# Environment: OUT (default $TMPDIR/shortfuse-bench), DURATION (10s), WARMUP (2s),
# CONCURRENCY ("1 8 32"), OPS ("get-secret-value assume-role get-session-token put-secret-value mixed"),
# POLICIES ("1 10 110": policies per principal, at most 110; "" to skip),
# SCALE ("1000 1000000"; "" to skip), ROUNDS (5: slices per target, alternating), MICRO (1 to run the microbenchmarks, the default; 0 to skip).
# TABLE_ONLY (1: remake the tables from the files of an earlier run in $OUT, with the same knobs).
set -euo pipefail
. "$(dirname "$0")/lib/broker.sh"
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

OUT="${OUT:-${TMPDIR:-/tmp}/shortfuse-bench}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
CONCURRENCY="${CONCURRENCY:-1 8 32}"
OPS="${OPS:-get-secret-value assume-role get-session-token put-secret-value mixed}"
MICRO="${MICRO:-1}"
ROUNDS="${ROUNDS:-5}"
SCALE="${SCALE-1000 1000000}"
POLICIES="${POLICIES-1 10 110}"

mkdir -p "$OUT"
log() { printf '== %s\n' "$*" >&2; }

# TABLE_ONLY=1 remakes the tables from the files of an earlier run in $OUT.
if [ "${TABLE_ONLY:-0}" != 1 ]; then

log "build"
go build -o "$OUT/shortfuse" ./cmd/shortfuse
go build -o "$OUT/fillsecrets" ./scripts/fillsecrets
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
	go version
	echo "cpus: $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
	echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/env.txt"

data="$(mktemp -d)"
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$data"
}
trap cleanup EXIT

# start_broker DIR LOG: starts a broker, sets server_pid, url and startup_ms (from exec to
# the first 200 from /healthz).
start_broker() {
	local t0 t1
	t0="$(date +%s%N)"
	broker_start "$OUT/shortfuse" "$1" "$2" || exit 1
	server_pid="$broker_pid" url="$broker_at"
	t1="$(date +%s%N)"
	startup_ms=$(((t1 - t0) / 1000000))
	log "broker at $url (pid $server_pid), up in ${startup_ms} ms"
}
stop_broker() {
	kill -TERM "$server_pid"
	wait "$server_pid" || true
	server_pid=""
}
rss_kib() { ps -o rss= -p "$server_pid" | tr -d ' '; }

log "start the broker"
start_broker "$data/data" "$OUT/server.log"

export AWS_SHARED_CREDENTIALS_FILE="$data/data/admin-credentials"
export AWS_CONFIG_FILE=/nonexistent
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL

# broker_cpu prints the broker's CPU time so far, in seconds (utime + stime).
ticks="$(getconf CLK_TCK)"
broker_cpu() { awk -v t="$ticks" '{ printf "%.2f\n", ($14 + $15) / t }' "/proc/$server_pid/stat"; }

for op in $OPS; do
	for c in $CONCURRENCY; do
		log "$op, concurrency $c"
		"$OUT/shortfuse" bench --endpoint-url "$url" --op "$op" --concurrency "$c" \
			--duration "$DURATION" --warmup "$WARMUP" --ceiling --rounds "$ROUNDS" --json >"$OUT/$op-c$c.json"
	done
done

for p in $POLICIES; do
	log "policies per principal: $p"
	before="$(broker_cpu)"
	"$OUT/shortfuse" bench --endpoint-url "$url" --op get-secret-value --principal-policies "$p" --policy-statements 10 \
		--concurrency 32 --duration "$DURATION" --warmup "$WARMUP" --ceiling --rounds "$ROUNDS" --json >"$OUT/policies-$p.json"
	echo "$(broker_cpu) $before" | awk '{ printf "%.2f\n", $1 - $2 }' >"$OUT/policies-$p.broker-cpu"
done
echo "broker RSS after the runs: $(rss_kib) KiB" >>"$OUT/env.txt"
stop_broker

for n in $SCALE; do
	log "scaling: $n secrets"
	dir="$data/scale-$n"
	start_broker "$dir" "$OUT/server-scale-$n.log"
	stop_broker
	"$OUT/fillsecrets" --data "$dir" --count "$n" 2>"$OUT/fill-$n.log"
	start_broker "$dir" "$OUT/server-scale-$n.log"
	echo "$startup_ms $(rss_kib)" >"$OUT/scale-$n.start"
	bench_admin "$dir" "$url" "$OUT/shortfuse" \
		--op get-secret-value --concurrency 32 --duration "$DURATION" --warmup "$WARMUP" --ceiling --rounds "$ROUNDS" --json >"$OUT/scale-$n.json"
	echo "$(rss_kib) $(du -k "$dir/shortfuse.db" | cut -f1)" >>"$OUT/scale-$n.start"
	stop_broker
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/env.txt"

if [ "$MICRO" = 1 ]; then
	log "microbenchmarks"
	go test -run '^$' -bench . -benchmem ./internal/sigv4/ ./internal/policy/ ./internal/sessiontoken/ \
		./internal/seal/ ./internal/store/... ./internal/audit/... ./internal/arn/ ./internal/secrets/ >"$OUT/micro.txt"
fi

fi # TABLE_ONLY

log "table"
{
	# Server CPU per request, of the broker and of the ceiling (a process of its own), as
	# bench reads it from each server's /metrics around each measured slice; client CPU per
	# request in the broker's slices. CPU-bound ratio: the ratio the two would reach on a
	# machine given to them alone, where requests/s = cores / CPU per request:
	# (client + ceiling) / (client + broker).
	echo "| operation | c | broker req/s | ceiling req/s | broker/ceiling | broker p50 ms | p90 | p99 | max | ceiling p50 ms | p99 | broker CPU µs/req | ceiling CPU µs/req | broker/ceiling CPU | client CPU µs/req | CPU-bound ratio | errors |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for op in $OPS; do
		for c in $CONCURRENCY; do
			jq -r --arg op "$op" --arg c "$c" '
				def f0: round;
				def f1: (. * 10 | round) / 10;
				def f2: (. * 100 | round) / 100;
				.endpoint as $e | .ceiling as $k |
				($e.server_cpu_seconds / $e.requests * 1e6) as $b |
				($k.server_cpu_seconds / $k.requests * 1e6) as $kb |
				($e.process_cpu_seconds / $e.requests * 1e6) as $cl |
				($k.process_cpu_seconds / $k.requests * 1e6) as $kc |
				"| \($op) | \($c) | \($e.requests_per_second | f1) | \($k.requests_per_second | f1) | \(.ratio | f2) | \($e.latency.p50_ms | f2) | \($e.latency.p90_ms | f2) | \($e.latency.p99_ms | f2) | \($e.latency.max_ms | f2) | \($k.latency.p50_ms | f2) | \($k.latency.p99_ms | f2) | \($b | f0) | \($kb | f0) | \($b / $kb | f2) | \($cl | f0) | \(($kc + $kb) / ($cl + $b) | f2) | \($e.errors)/\($k.errors) |"
			' "$OUT/$op-c$c.json"
		done
	done
	if [ -n "$POLICIES" ]; then
		echo
		echo "| policies per principal | statements evaluated | GetSecretValue req/s | ceiling req/s | broker/ceiling | p50 ms | p99 ms | broker CPU µs/req | errors |"
		echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for p in $POLICIES; do
			jq -r --arg p "$p" --argjson bcpu "$(cat "$OUT/policies-$p.broker-cpu")" '
				def f0: round;
				def f1: (. * 10 | round) / 10;
				def f2: (. * 100 | round) / 100;
				.endpoint as $e | .ceiling as $k |
				($bcpu / ($e.requests * ($e.warmup_seconds + $e.elapsed_seconds) / $e.elapsed_seconds) * 1e6) as $b |
				"| \($p) | \($e.principal_policies * $e.policy_statements) | \($e.requests_per_second | f1) | \($k.requests_per_second | f1) | \(.ratio | f2) | \($e.latency.p50_ms | f2) | \($e.latency.p99_ms | f2) | \($b | f0) | \($e.errors)/\($k.errors) |"
			' "$OUT/policies-$p.json"
		done
	fi
	if [ -n "$SCALE" ]; then
		echo
		echo "| secrets stored | start-up ms | RSS after start MiB | RSS after load MiB | store MiB | GetSecretValue req/s | ceiling req/s | broker/ceiling | p50 ms | p99 ms |"
		echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for n in $SCALE; do
			read -r startup rss0 <<<"$(sed -n 1p "$OUT/scale-$n.start")"
			read -r rss1 dbk <<<"$(sed -n 2p "$OUT/scale-$n.start")"
			jq -r --arg n "$n" --arg s "$startup" --argjson r0 "$rss0" --argjson r1 "$rss1" --argjson db "$dbk" '
				def f1: (. * 10 | round) / 10;
				def f2: (. * 100 | round) / 100;
				"| \($n) | \($s) | \($r0 / 1024 | f1) | \($r1 / 1024 | f1) | \($db / 1024 | round) | \(.endpoint.requests_per_second | f1) | \(.ceiling.requests_per_second | f1) | \(.ratio | f2) | \(.endpoint.latency.p50_ms | f2) | \(.endpoint.latency.p99_ms | f2) |"
			' "$OUT/scale-$n.json"
		done
	fi
} >"$OUT/table.md"
cat "$OUT/env.txt" "$OUT/table.md"
