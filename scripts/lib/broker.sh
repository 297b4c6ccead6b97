# Sourced by the measuring scripts.

# broker_url LOG: waits (up to 10 s) until the broker whose log is LOG says where it
# listens and answers /healthz there, and prints that URL; otherwise prints the log to
# standard error and fails.
broker_url() {
	local u=""
	for _ in $(seq 1 2000); do
		u="$(grep -o 'msg=listening url=http://[0-9.:]*' "$1" | head -1 | cut -d= -f3 || true)"
		[ -n "$u" ] && curl -sf "$u/healthz" >/dev/null 2>&1 && { echo "$u"; return 0; }
		sleep 0.005
	done
	echo "the broker did not start:" >&2
	cat "$1" >&2
	return 1
}

# broker_pids are the brokers broker_start started, which stop_brokers ends.
broker_pids=()

# broker_start BINARY DIR LOG [FLAGS...]: starts BINARY's broker in the background on a free
# loopback port, with data directory DIR, FLAGS and its log in LOG, and waits for it
# (broker_url): broker_pid is its pid, broker_at its URL.
broker_start() {
	local bin="$1" dir="$2" log="$3"
	shift 3
	"$bin" server --listen 127.0.0.1:0 --data "$dir" "$@" 2>"$log" &
	broker_pid=$!
	broker_pids+=("$broker_pid")
	broker_at="$(broker_url "$log")" || return 1
}

# stop_brokers ends every broker broker_start started and waits for the background jobs.
stop_brokers() {
	for p in "${broker_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}

# bench_admin DIR URL BINARY [FLAGS...]: runs `BINARY bench` against the broker at URL with
# the admin credentials of its data directory DIR and no other AWS configuration.
bench_admin() {
	local dir="$1" url="$2" bin="$3"
	shift 3
	AWS_SHARED_CREDENTIALS_FILE="$dir/admin-credentials" AWS_CONFIG_FILE=/nonexistent \
		"$bin" bench --endpoint-url "$url" "$@"
}
