# shellcheck shell=bash
# Sourced by .ci/run: starts a throwaway PostgreSQL for the tests and exports
# SHORTFUSE_TEST_POSTGRES, which internal/store/pgtest uses.
#
# The cluster lives in a temporary directory, listens on a free loopback port
# (and a unix socket in that directory only), runs durable (fsync on) as a
# non-root user, and is stopped and removed when the sourcing shell exits.
# If SHORTFUSE_TEST_POSTGRES is already set, that server is used instead.
# Installs Debian's postgresql if its binaries are missing.

if [ -n "${SHORTFUSE_TEST_POSTGRES:-}" ]; then
	printf '== postgres: using SHORTFUSE_TEST_POSTGRES from the environment\n' >&2
	return 0
fi

_sf_pg_bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -rn); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			printf '%s\n' "$d"
			return 0
		fi
	done
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(readlink -f "$(command -v initdb)")"
		return 0
	fi
	return 1
}

if ! _sf_pg_bindir >/dev/null; then
	printf '== postgres: installing Debian'"'"'s postgresql\n' >&2
	export DEBIAN_FRONTEND=noninteractive
	# Only the binaries are wanted: no "main" cluster started as a service.
	mkdir -p /etc/postgresql-common
	if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
		printf 'create_main_cluster = false\n' >/etc/postgresql-common/createcluster.conf
	fi
	apt-get update -qq
	apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql >/dev/null
fi
_sf_pg_bin="$(_sf_pg_bindir)"

# PostgreSQL refuses to run as root.
_sf_pg_user=""
if [ "$(id -u)" = 0 ]; then
	if id postgres >/dev/null 2>&1; then _sf_pg_user=postgres; else _sf_pg_user=nobody; fi
fi
_sf_pg_as() {
	if [ -n "$_sf_pg_user" ]; then
		runuser -u "$_sf_pg_user" -- "$@"
	else
		"$@"
	fi
}

_sf_pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/shortfuse-ci-pg.XXXXXX")"
chmod 0755 "$_sf_pg_dir"
if [ -n "$_sf_pg_user" ]; then chown "$_sf_pg_user" "$_sf_pg_dir"; fi
_sf_pg_password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

_sf_pg_stop() {
	if [ -f "$_sf_pg_dir/data/postmaster.pid" ]; then
		_sf_pg_as "$_sf_pg_bin/pg_ctl" -D "$_sf_pg_dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			_sf_pg_as "$_sf_pg_bin/pg_ctl" -D "$_sf_pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$_sf_pg_dir"
}

# Stop the cluster when .ci/run exits, after any EXIT trap it already had.
# trap -p prints `trap -- 'command' EXIT`, shell-quoted; a function's own
# positional parameters take it apart without touching the script's.
_sf_pg_trap_command() {
	eval "set -- $1"
	printf '%s' "${3:-}"
}
_sf_pg_prev_trap="$(_sf_pg_trap_command "$(trap -p EXIT)")"
trap '_sf_pg_stop; eval "$_sf_pg_prev_trap"' EXIT

(umask 077 && printf '%s\n' "$_sf_pg_password" >"$_sf_pg_dir/pwfile")
if [ -n "$_sf_pg_user" ]; then chown "$_sf_pg_user" "$_sf_pg_dir/pwfile"; fi
if ! _sf_pg_as env LC_ALL=C "$_sf_pg_bin/initdb" -D "$_sf_pg_dir/data" -U postgres \
	--pwfile="$_sf_pg_dir/pwfile" --auth=scram-sha-256 -E UTF8 --locale=C >"$_sf_pg_dir/initdb.log" 2>&1; then
	cat "$_sf_pg_dir/initdb.log" >&2
	printf '== postgres: initdb failed\n' >&2
	exit 1
fi
rm -f "$_sf_pg_dir/pwfile"
mkdir -p "$_sf_pg_dir/sock"
if [ -n "$_sf_pg_user" ]; then chown "$_sf_pg_user" "$_sf_pg_dir/sock"; fi

# A free port: one that nothing answers on, tried again if the server
# cannot bind it after all.
_sf_pg_port=""
for _sf_pg_try in 1 2 3 4 5; do
	_sf_pg_candidate=$((20000 + RANDOM % 40000))
	if (exec 3<>"/dev/tcp/127.0.0.1/$_sf_pg_candidate") 2>/dev/null; then
		continue # in use
	fi
	if _sf_pg_as "$_sf_pg_bin/pg_ctl" -D "$_sf_pg_dir/data" -l "$_sf_pg_dir/postgres.log" -w -t 60 \
		-o "-p $_sf_pg_candidate -k $_sf_pg_dir/sock -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c max_connections=300" \
		start >/dev/null; then
		_sf_pg_port="$_sf_pg_candidate"
		break
	fi
done
if [ -z "$_sf_pg_port" ]; then
	tail -n 30 "$_sf_pg_dir/postgres.log" >&2 || true
	printf '== postgres: could not start a server\n' >&2
	exit 1
fi

export SHORTFUSE_TEST_POSTGRES="postgres://postgres:${_sf_pg_password}@127.0.0.1:${_sf_pg_port}/postgres?sslmode=disable"
printf '== postgres: %s on 127.0.0.1:%s (data in %s)\n' "$("$_sf_pg_bin/postgres" --version)" "$_sf_pg_port" "$_sf_pg_dir" >&2
unset _sf_pg_try _sf_pg_candidate
