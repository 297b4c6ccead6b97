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
