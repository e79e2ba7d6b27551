# test/lib/common.sh -- shell helpers shared by test/run.sh and test/demo.sh.
#
# Sourced, never executed.  Everything that both scripts need lives here so
# that the two cannot drift apart: installing the Debian packages, building
# and installing the extension, choosing the unprivileged OS user that runs
# the servers (PostgreSQL refuses to run as root), the throw-away work
# directory, free ports, throw-away clusters, and the cleanup that stops
# every server and removes every temporary file however the script ends.
#
# The caller must have `set -euo pipefail` on.  Functions that the caller
# tests with `if` / `||` return non-zero explicitly at each failing step,
# because bash switches errexit off inside a function called that way.

# Variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034

# ---------------------------------------------------------------------------
# Which PostgreSQL major (Debian packaging: /usr/lib/postgresql/NN)
# ---------------------------------------------------------------------------

# detect_pg_major: the major to build and test against, in this order:
#   1. PG_MAJOR from the environment (e.g. PG_MAJOR=17 bash test/run.sh);
#   2. the newest major whose server is installed;
#   3. the major the distribution's `postgresql` package stands for
#      (a fresh machine has none installed yet).
detect_pg_major() {
	local dir newest=""
	if [[ -n "${PG_MAJOR:-}" ]]; then
		[[ "${PG_MAJOR}" =~ ^[0-9]+$ ]] || die "PG_MAJOR must be a number, not '${PG_MAJOR}'"
		echo "${PG_MAJOR}"
		return 0
	fi
	for dir in /usr/lib/postgresql/*/bin/postgres; do
		[[ -x "${dir}" ]] || continue
		dir="${dir#/usr/lib/postgresql/}"
		dir="${dir%%/*}"
		if [[ -z "${newest}" || "${dir}" -gt "${newest}" ]]; then
			newest="${dir}"
		fi
	done
	if [[ -n "${newest}" ]]; then
		echo "${newest}"
		return 0
	fi
	distro_pg_major
}

# distro_pg_major: the major of the distribution's default `postgresql`.
distro_pg_major() {
	local major
	major="$(apt-cache depends postgresql 2>/dev/null |
		sed -n 's/^ *Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n 1)"
	if [[ -z "${major}" ]]; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || true
		major="$(apt-cache depends postgresql 2>/dev/null |
			sed -n 's/^ *Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n 1)"
	fi
	[[ -n "${major}" ]] || die "cannot tell which PostgreSQL major to use; set PG_MAJOR"
	echo "${major}"
}

# set_pg_paths: every path that depends on the major.
set_pg_paths() {
	PG_BINDIR="/usr/lib/postgresql/${PG_MAJOR}/bin"
	PG_CONFIG="${PG_BINDIR}/pg_config"
	PGXS_TEST_DIR="/usr/lib/postgresql/${PG_MAJOR}/lib/pgxs/src/test"
	PG_REGRESS="${PGXS_TEST_DIR}/regress/pg_regress"
	PG_ISOLATION_REGRESS="${PGXS_TEST_DIR}/isolation/pg_isolation_regress"
	PG_PERL_LIB="${PGXS_TEST_DIR}/perl"
	PG_SHAREDIR="/usr/share/postgresql/${PG_MAJOR}"
}

# select_pg_major: settle PG_MAJOR and its paths once, early in a script.
select_pg_major() {
	PG_MAJOR="$(detect_pg_major)" || return 1
	export PG_MAJOR
	set_pg_paths
	info "PostgreSQL ${PG_MAJOR}"
}

# The repository this script belongs to (test/lib/ is two levels down).
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# required_packages: the Debian packages the tests, the demo and the build
# need for ${PG_MAJOR}.  pgaudit is there for the coexistence tests (two
# extensions hooking ProcessUtility).  pgTAP is plain SQL: where the major
# has no package of its own yet but its files are in place (the roots of
# test/lib/roots.sh do that), it is not asked for.
required_packages() {
	echo build-essential gcc make \
		"postgresql-${PG_MAJOR}" "postgresql-server-dev-${PG_MAJOR}" \
		libtap-parser-sourcehandler-pgtap-perl libipc-run-perl \
		"postgresql-${PG_MAJOR}-pgaudit" pgbackrest barman barman-cli pgbouncer
	if [[ ! -f "/usr/share/postgresql/${PG_MAJOR}/extension/pgtap.control" ]]; then
		echo "postgresql-${PG_MAJOR}-pgtap"
	fi
	# Building the Debian package (debian/, the package suite): pg_buildext
	# is in postgresql-server-dev-all on bookworm, postgresql-common-dev
	# later (where -all would pull in another major's headers).
	echo debhelper dpkg-dev
	if [[ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" == bookworm ]]; then
		echo postgresql-server-dev-all
	else
		echo postgresql-common-dev
	fi
}

# Inherited libpq settings would point our clients at some other server.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE \
	PGSERVICE PGSERVICEFILE PGOPTIONS PGSSLMODE PGAPPNAME PGDATA PGTZ \
	PGCLIENTENCODING PGCONNECT_TIMEOUT

# Set by create_work_dir / ensure_test_user.
WORK_DIR=""
TEST_USER=""
# Ports handed out in this run, so two servers of one run never share one.
RESERVED_PORTS=()

# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------

# info MSG...: progress on stderr, so it never mixes with parsed output.
info() {
	printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

# die MSG...: a setup step the script cannot continue without failed.
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# ---------------------------------------------------------------------------
# Privileges
# ---------------------------------------------------------------------------

# as_root CMD...: package installation and `make install` write to system
# directories; use sudo when the script was not started as root.
as_root() {
	if [[ "${EUID}" -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		printf 'error: need root for: %s (run as root or install sudo)\n' "$*" >&2
		return 1
	fi
}

# ensure_test_user: pick the OS user that owns the copies and runs every
# server, since initdb, pg_ctl and postgres refuse to run as root.  Debian's
# `postgres` user when it exists, otherwise a system user created for this.
# Without root there is nobody to switch to: the current user runs them.
ensure_test_user() {
	if [[ "${EUID}" -ne 0 ]]; then
		TEST_USER="$(id -un)"
	elif id postgres >/dev/null 2>&1; then
		TEST_USER=postgres
	else
		if ! id guarded_test >/dev/null 2>&1; then
			info "creating system user guarded_test to run the servers"
			useradd --system --no-create-home --shell /bin/bash guarded_test ||
				return 1
		fi
		TEST_USER=guarded_test
	fi
	info "servers run as OS user ${TEST_USER}"
}

# as_test_user CMD...: run CMD as the unprivileged user with a clean, known
# environment (runuser keeps the caller's; su may reset PATH).  Extra
# variables are given as `as_test_user env NAME=VALUE ... CMD`.
# HOME and TMPDIR point into the work directory so nothing (psql history,
# File::Temp, pg_regress socket directories) lands outside it.
as_test_user() {
	local lang=C
	if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		lang=C.UTF-8
	fi
	local env_args=(
		"PATH=${PG_BINDIR}:/usr/local/bin:/usr/bin:/bin"
		"HOME=${WORK_DIR}"
		"TMPDIR=${WORK_DIR}/tmp"
		"LANG=${lang}"
		"LC_MESSAGES=C"
	)
	if [[ "${EUID}" -eq 0 ]]; then
		runuser -u "${TEST_USER}" -- env -i "${env_args[@]}" "$@"
	else
		env -i "${env_args[@]}" "$@"
	fi
}

# ---------------------------------------------------------------------------
# Dependencies, build, install
# ---------------------------------------------------------------------------

# package_installed PKG: dpkg's own status line, so half-installed or
# removed-but-configured packages count as missing.
package_installed() {
	dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

# install_dependencies: apt-get only what is missing, and `apt-get update`
# only then, so a machine that has everything pays nothing and needs no
# network.
install_dependencies() {
	# shellcheck disable=SC2046
	install_packages $(required_packages)
}

# install_packages PKG...: those of PKG not installed yet, as above.
install_packages() {
	local missing=() pkg
	for pkg in "$@"; do
		package_installed "${pkg}" || missing+=("${pkg}")
	done
	if [[ "${#missing[@]}" -eq 0 ]]; then
		info "all required packages are installed"
		return 0
	fi
	info "installing missing packages: ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" </dev/null || return 1
}

# build_and_install DIR: compile in DIR (a private copy, so the developer's
# tree never gets root-owned objects) and install into the system
# PostgreSQL.  The Makefile uses -Werror, so a warning fails this too.
# The compiler's and installer's chatter goes to DIR/build.log and is shown
# only when a step fails, so the demo and CI logs stay readable.
build_and_install() {
	local dir="$1" log="$1/build.log"
	info "building guarded_ddl in ${dir}"
	if ! make -C "${dir}" -j "$(nproc)" USE_PGXS=1 PG_CONFIG="${PG_CONFIG}" \
		>"${log}" 2>&1; then
		cat "${log}" >&2
		echo "error: build failed (full log above)" >&2
		return 1
	fi
	info "installing guarded_ddl into $("${PG_CONFIG}" --pkglibdir)"
	if ! as_root make -C "${dir}" USE_PGXS=1 PG_CONFIG="${PG_CONFIG}" install \
		>>"${log}" 2>&1; then
		cat "${log}" >&2
		echo "error: make install failed (full log above)" >&2
		return 1
	fi
}

# ---------------------------------------------------------------------------
# Work directory and cleanup
# ---------------------------------------------------------------------------

# create_work_dir: one fresh directory per run, owned by the test user,
# which holds the repository copy, every cluster, socket and log.  Cleanup
# then only has to look in one place.  /tmp keeps socket paths short (Unix
# socket paths are limited to 107 bytes) and is reachable by every user.
create_work_dir() {
	WORK_DIR="$(mktemp -d "${GUARDED_DDL_TMPDIR:-/tmp}/guarded_ddl.XXXXXX")" ||
		return 1
	mkdir -p "${WORK_DIR}/tmp" || return 1
	chmod 755 "${WORK_DIR}" || return 1
	chown_to_test_user "${WORK_DIR}" || return 1
	info "work directory ${WORK_DIR}"
}

# chown_to_test_user PATH...: servers and pg_regress write into these.
chown_to_test_user() {
	if [[ "${EUID}" -eq 0 ]]; then
		chown -R "${TEST_USER}:" "$@"
	fi
}

# copy_tree SRC DEST: the repository without .git and without build or test
# leftovers, so every run builds and tests from the sources alone.
# (rsync is not part of a minimal Debian; tar is.)
copy_tree() {
	local src="$1" dest="$2"
	mkdir -p "${dest}" || return 1
	tar -C "${src}" \
		--exclude=./.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
		--exclude=./results --exclude=./tmp_check --exclude=./log \
		--exclude='regression.diffs' --exclude='regression.out' \
		-cf - . | tar -C "${dest}" -xf - || return 1
	chown_to_test_user "${dest}"
}

# stop_servers_under DIR: stop every postmaster whose data directory lies
# under DIR -- ours, pg_regress's temp instances, TAP clusters -- by the
# postmaster.pid each one leaves, whatever state the run was in.
stop_servers_under() {
	local dir="$1" pidfile datadir pid
	[[ -n "${dir}" && -d "${dir}" ]] || return 0
	while IFS= read -r -d '' pidfile; do
		datadir="$(dirname "${pidfile}")"
		pid="$(head -n 1 "${pidfile}" 2>/dev/null || true)"
		info "stopping server in ${datadir}"
		as_test_user pg_ctl -D "${datadir}" -m immediate -w -t 30 stop \
			>/dev/null 2>&1 || true
		# pg_ctl gave up (e.g. a half-written pid file): end that one
		# postmaster by its id, if it still is one.
		if [[ "${pid}" =~ ^[0-9]+$ ]] && kill -0 "${pid}" 2>/dev/null &&
			[[ "$(cat "/proc/${pid}/comm" 2>/dev/null)" == postgres ]]; then
			kill -KILL "${pid}" 2>/dev/null || true
		fi
	done < <(find "${dir}" -name postmaster.pid -type f -print0 2>/dev/null)
}

# cleanup: the EXIT trap.  Stops servers first (they hold files open), then
# removes the work directory unless GUARDED_DDL_KEEP_TMP=1 asks to keep it
# for a post-mortem.  Keeps the script's exit status.
cleanup() {
	local status=$?
	set +e
	trap - EXIT INT TERM HUP
	if [[ -n "${WORK_DIR}" && -d "${WORK_DIR}" ]]; then
		stop_servers_under "${WORK_DIR}"
		if [[ "${GUARDED_DDL_KEEP_TMP:-0}" == 1 ]]; then
			info "kept ${WORK_DIR} (GUARDED_DDL_KEEP_TMP=1)"
		else
			rm -rf -- "${WORK_DIR}"
		fi
	fi
	exit "${status}"
}

# install_cleanup_trap: run cleanup however the script ends.  A signal is
# turned into an exit with the conventional status, which runs the EXIT
# trap exactly once.
install_cleanup_trap() {
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------

# port_is_free PORT: nobody listens on it over TCP, no Unix socket of that
# number sits in /tmp (a socket-only server), and this run has not handed
# it out already.
port_is_free() {
	local port="$1" used
	for used in "${RESERVED_PORTS[@]}"; do
		[[ "${used}" == "${port}" ]] && return 1
	done
	[[ -e "/tmp/.s.PGSQL.${port}" || -e "/tmp/.s.PGSQL.${port}.lock" ]] && return 1
	if command -v ss >/dev/null 2>&1; then
		[[ -z "$(ss -Hltn "sport = :${port}" 2>/dev/null)" ]]
	elif command -v python3 >/dev/null 2>&1; then
		python3 - "${port}" <<-'EOF' 2>/dev/null
			import socket, sys
			s = socket.socket()
			s.bind(("127.0.0.1", int(sys.argv[1])))
		EOF
	else
		! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null
	fi
}

# free_port: a random free port in 20000-52767 (below the usual ephemeral
# range), reserved for the rest of the run.  Random rather than sequential
# so concurrent runs on one machine rarely race for the same port.
# Sets FREE_PORT instead of printing it: a $(...) subshell could not record
# the reservation.
free_port() {
	local port tries
	for ((tries = 0; tries < 500; tries++)); do
		port=$((20000 + RANDOM))
		if port_is_free "${port}"; then
			RESERVED_PORTS+=("${port}")
			FREE_PORT="${port}"
			return 0
		fi
	done
	echo "error: no free TCP port found" >&2
	return 1
}

# ---------------------------------------------------------------------------
# Server configuration and throw-away clusters
# ---------------------------------------------------------------------------

# write_server_conf FILE PRELOAD: the settings every test server shares.
# PRELOAD=yes adds the library to shared_preload_libraries (utility hook).
write_server_conf() {
	local file="$1" preload="$2"
	{
		echo "# written by test/lib/common.sh"
		echo "wal_level = replica"
		echo "max_worker_processes = 16"
		echo "log_min_messages = warning"
		echo "lc_messages = 'C'"
		if [[ "${preload}" == yes ]]; then
			echo "shared_preload_libraries = 'guarded_ddl'"
		fi
	} >"${file}" || return 1
	chown_to_test_user "${file}"
}

# start_cluster DATADIR SOCKDIR PORT CONF: initdb and start a private
# cluster that listens only on a Unix socket in SOCKDIR.  The bootstrap
# superuser is always called postgres, whichever OS user runs it.
start_cluster() {
	local datadir="$1" sockdir="$2" port="$3" conf="$4"
	# initdb creates DATADIR and pg_ctl its log beside it, as the test user.
	mkdir -p "${sockdir}" "$(dirname "${datadir}")" || return 1
	chown_to_test_user "${sockdir}" "$(dirname "${datadir}")" || return 1
	as_test_user initdb -D "${datadir}" -U postgres -A trust \
		--no-locale -E UTF8 --no-sync >"${datadir}.initdb.log" 2>&1 || {
		cat "${datadir}.initdb.log" >&2
		return 1
	}
	{
		cat "${conf}"
		echo "port = ${port}"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '${sockdir}'"
		echo "fsync = off"
	} >>"${datadir}/postgresql.conf" || return 1
	as_test_user pg_ctl -D "${datadir}" -l "${datadir}.log" -w -t 60 start \
		>/dev/null || {
		cat "${datadir}.log" >&2
		return 1
	}
}

# stop_cluster DATADIR: fast shutdown; cleanup would catch it anyway.
stop_cluster() {
	as_test_user pg_ctl -D "$1" -m fast -w -t 60 stop >/dev/null
}
