#!/usr/bin/env bash
# test/bench/run.sh -- the performance figures of guarded_ddl (a-f), each a
# ratio against the same server without the extension (and, where it
# applies, against the hand-written PL/pgSQL guard of plpgsql_guard.sql).
#
# Usage:  test/bench/run.sh [--quick] [--rounds N] [--only a,b,...]
#                           [--rev REV | --installed] [--keep]
#   --quick       smoke run: 2 rounds, small sizes, under ~2 minutes
#   --rounds N    rounds to run (default 7, --quick 2)
#   --only LIST   figures to run, e.g. --only b,c (c needs b: it is b's ratio)
#   --rev REV     benchmark a committed revision (git archive REV) instead of
#                 the working tree as it is now
#   --installed   benchmark the guarded_ddl installed in the system
#                 PostgreSQL, without building anything
#   --keep        keep the temporary directory (clusters, logs) afterwards
#
# Runs as root (or as the user who owns the servers).  The servers run as
# the OS user postgres, on free ports, in a temporary directory that the
# EXIT trap removes with everything in it -- including a private copy of
# the PostgreSQL 15 installation (binaries, lib, share; ~50 MB) into which
# the extension is built and installed.  The system installation is never
# written: other test runs on this machine reinstall guarded_ddl there at
# any time, and a library or SQL script that changes under a running
# benchmark would make it measure two versions at once.
#
# Throw-away clusters, all with the same settings and fsync on:
#   preloaded    shared_preload_libraries = 'guarded_ddl'; one database per
#                figure and variant of a, b, c, e, f.  "bare" is a database
#                of this cluster where CREATE EXTENSION guarded_ddl was never
#                run (the utility hook is loaded but does nothing there).
#   d_preloaded  the same preload, for figure d only (with the extension)
#   d_plain      no shared_preload_libraries, for figure d only.  Figure d
#                gets clusters of its own so that the autovacuum work the
#                other figures leave behind is not counted against the preload.
#
# Every figure is measured round by round, after a warm-up round that is
# thrown away: each round measures every variant, in an order rotated from
# round to round, so that the noise of a busy machine falls on all variants
# alike.  A figure's value is the median of its per-round ratios, its spread
# their interquartile range (the full range is shown too).  A figure FAILs
# only when it misses its target by more than that spread; the script then
# exits 1.  Alongside the wall-clock figures, the backends' CPU time is
# reported where it can be read (a, b, d): it moves much less with other
# processes' I/O.  See test/bench/README.md for how to read the output.

set -euo pipefail
shopt -s inherit_errexit

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=test/lib/common.sh
source "${BENCH_DIR}/../lib/common.sh"
# The major is settled before anything below derives a path from it.
select_pg_major

# ---------------------------------------------------------------------------
# Options and sizes
# ---------------------------------------------------------------------------

QUICK=0
ROUNDS=""
ONLY="a,b,c,d,e,f"
SOURCE=tree    # tree, rev or installed
REV=""

usage() {
	sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
	case "$1" in
		--quick) QUICK=1 ;;
		--rounds)
			[[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || die "--rounds needs a positive number"
			ROUNDS="$2"
			shift
			;;
		--only)
			[[ $# -ge 2 && "$2" =~ ^[a-f](,[a-f])*$ ]] || die "--only needs a list like a,b,e"
			ONLY="$2"
			shift
			;;
		--rev)
			[[ $# -ge 2 ]] || die "--rev needs a revision"
			SOURCE=rev
			REV="$2"
			shift
			;;
		--installed) SOURCE=installed ;;
		--keep) export GUARDED_DDL_KEEP_TMP=1 ;;
		-h | --help)
			usage
			exit 0
			;;
		*) die "unknown option $1 (try --help)" ;;
	esac
	shift
done

# want FIGURE: is the figure part of this run?  (c is b's ratio, so c
# brings b along.)
want() {
	[[ ",${ONLY}," == *",$1,"* ]] && return 0
	[[ "$1" == b && ",${ONLY}," == *",c,"* ]]
}

if [[ "${QUICK}" -eq 1 ]]; then
	MODE=quick
	ROUNDS="${ROUNDS:-2}"
	A_SLICES=2          # a: pgbench runs per variant and round, alternating
	A_SECONDS=2         #    seconds per run
	B_TABLES=500        # b/c: tables in the dropped schema
	B_REPS=1            #      drops per variant and round
	C_RULES=10000       # c: policy rules naming other objects
	D_SCALE=1           # d: pgbench scale
	D_SLICES=2          # d: pgbench -S runs per cluster and round, alternating
	D_SECONDS=2         #    seconds per run
	E_ATTEMPTS=10       # e: refused (and allowed) drops per round
	F_ROWS=1000000      # f: rows of the big table
	F_SECONDS=2         # f: pgbench run of check() per table and round
else
	MODE=full
	ROUNDS="${ROUNDS:-7}"
	A_SLICES=5
	A_SECONDS=2
	B_TABLES=2000
	B_REPS=3
	C_RULES=10000
	D_SCALE=10
	D_SLICES=5
	D_SECONDS=2
	E_ATTEMPTS=15
	F_ROWS=10000000
	F_SECONDS=3
fi

# Targets (DESIGN issue text).  ">=": higher is better; "<=": lower is.
TARGET_A=0.98
TARGET_B=1.05
TARGET_C=1.05
TARGET_D=0.99
TARGET_E=10
TARGET_F=1.1

PGBENCH="${PG_BINDIR}/pgbench"
CLK_TCK="$(getconf CLK_TCK)"
GUARD_BUILD=""
PORT_P=""     # the preloaded cluster of every figure but d
PORT_DP=""    # figure d: preloaded
PORT_B=""     # figure d: plain, no shared_preload_libraries
SOCK_DIR=""
RESULTS=""
LOG_DIR=""
SQL_DIR=""
BENCH_FAILED=0

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

# q PORT DB [psql args]: psql as the test user against a bench server,
# stopping at the first error.
q() {
	local port="$1" db="$2"
	shift 2
	as_test_user psql -X -q -v ON_ERROR_STOP=1 -h "${SOCK_DIR}" -p "${port}" \
		-U postgres -d "${db}" "$@"
}

# qv PORT DB SQL: one value, unaligned.
qv() {
	q "$1" "$2" -At -c "$3"
}

# pgb PORT DB [pgbench args]
pgb() {
	local port="$1" db="$2"
	shift 2
	as_test_user "${PGBENCH}" -h "${SOCK_DIR}" -p "${port}" -U postgres "$@" "${db}"
}

# record KEY ROUND VALUE: one raw measurement.
record() {
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"${RESULTS}"
}

# raw KEY [ROUND]: the raw measurements of KEY, of one round or of all
# measured rounds (round 0 is the warm-up: never counted).
raw() {
	awk -F '\t' -v key="$1" -v round="${2:-}" \
		'$1 == key && (round == "" ? $2 > 0 : $2 == round) { print $3 }' "${RESULTS}"
}

# quartiles: "Q1 median Q3 min max" of the numbers on stdin (linear
# interpolation between the closest ranks); empty output when there are none.
quartiles() {
	sort -g | awk '
		function q(p,   h, i) { h = 1 + (NR - 1) * p; i = int(h); return v[i] + (h - i) * (v[i + 1] - v[i]) }
		{ v[NR] = $1 }
		END { if (NR) printf "%.6g %.6g %.6g %.6g %.6g\n", q(0.25), q(0.5), q(0.75), v[1], v[NR] }'
}

# round_value KEY ROUND: the median of the round's measurements of KEY (a
# and d: its pgbench runs; b: its drops; f: one value).
round_value() {
	raw "$1" "$2" | median
}

# median: of the numbers on stdin; empty output when there are none.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit
		if (NR % 2) printf "%.6g\n", v[(NR + 1) / 2]
		else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# rotate ROUND WORDS...: the words rotated by ROUND (round 1: as given).
rotate() {
	local round="$1"
	shift
	local n=$# i
	local words=("$@")
	for ((i = 0; i < n; i++)); do
		printf '%s ' "${words[$(((i + round - 1) % n))]}"
	done
}

# psql_time_ms FILE: the "Time: 12.345 ms" lines of psql's \timing, in ms.
psql_time_ms() {
	awk '/^Time: [0-9.]+ ms/ { print $2 }' "$1"
}

# ---------------------------------------------------------------------------
# A private PostgreSQL installation with the extension
# ---------------------------------------------------------------------------

# prepare_postgres: copy the system PostgreSQL (bin, lib, share) into
# WORK_DIR/pg with the same layout -- PostgreSQL finds its lib and share
# directories relative to its binaries -- then build guarded_ddl (working
# tree, --rev, or none with --installed) against the system headers and
# install it into the copy with DESTDIR.  From here on every PostgreSQL
# program runs from the copy (PG_BINDIR, which as_test_user puts in PATH).
prepare_postgres() {
	local sys_config="${PG_CONFIG}" bindir pkglibdir sharedir prefix src commit
	bindir="$("${sys_config}" --bindir)"
	pkglibdir="$("${sys_config}" --pkglibdir)"
	sharedir="$("${sys_config}" --sharedir)"
	prefix="${WORK_DIR}/pg"

	info "copying PostgreSQL ${PG_MAJOR} into ${prefix}"
	mkdir -p "${prefix}$(dirname "${bindir}")" "${prefix}$(dirname "${pkglibdir}")" \
		"${prefix}$(dirname "${sharedir}")"
	cp -a "${bindir}" "${prefix}$(dirname "${bindir}")/"
	cp -a "${pkglibdir}" "${prefix}$(dirname "${pkglibdir}")/"
	cp -a "${sharedir}" "${prefix}$(dirname "${sharedir}")/"
	PG_BINDIR="${prefix}${bindir}"
	PG_CONFIG="${PG_BINDIR}/pg_config"
	PGBENCH="${PG_BINDIR}/pgbench"
	[[ "$("${PG_CONFIG}" --pkglibdir)" == "${prefix}${pkglibdir}" &&
		"$("${PG_CONFIG}" --sharedir)" == "${prefix}${sharedir}" ]] ||
		die "this PostgreSQL build is not relocatable: the copy in ${prefix} would use the system's lib or share"

	commit="$(git -C "${REPO_ROOT}" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	src="${WORK_DIR}/build"
	case "${SOURCE}" in
		installed)
			[[ -f "${prefix}${sharedir}/extension/guarded_ddl.control" ]] ||
				die "guarded_ddl is not installed in the system PostgreSQL"
			GUARD_BUILD="as installed in the system PostgreSQL before this run ($(md5sum "${pkglibdir}/guarded_ddl.so" | cut -c 1-12) guarded_ddl.so)"
			return 0
			;;
		rev)
			mkdir -p "${src}"
			git -C "${REPO_ROOT}" archive --format=tar "${REV}" | tar -C "${src}" -xf - ||
				die "git archive ${REV} failed"
			GUARD_BUILD="revision ${REV} ($(git -C "${REPO_ROOT}" rev-parse --short "${REV}")), built by this run"
			;;
		tree)
			copy_tree "${REPO_ROOT}" "${src}" || die "could not copy the tree"
			GUARD_BUILD="working tree at ${commit}"
			if [[ -n "$(git -C "${REPO_ROOT}" status --porcelain -- src Makefile 'guarded_ddl--*.sql' guarded_ddl.control 2>/dev/null)" ]]; then
				GUARD_BUILD="${GUARD_BUILD} + uncommitted changes"
			fi
			GUARD_BUILD="${GUARD_BUILD}, built by this run"
			;;
	esac
	info "building guarded_ddl in ${src}"
	if ! make -C "${src}" -j "$(nproc)" USE_PGXS=1 PG_CONFIG="${sys_config}" \
		>"${src}/build.log" 2>&1 ||
		! make -C "${src}" USE_PGXS=1 PG_CONFIG="${sys_config}" DESTDIR="${prefix}" install \
			>>"${src}/build.log" 2>&1; then
		cat "${src}/build.log" >&2
		die "build or install of guarded_ddl failed"
	fi
	[[ -f "${prefix}${pkglibdir}/guarded_ddl.so" ]] || die "make install did not install into ${prefix}"
}

# ---------------------------------------------------------------------------
# Clusters
# ---------------------------------------------------------------------------

# start_bench_cluster NAME PORT PRELOAD: initdb and start a cluster with the
# benchmark settings.  fsync stays on (the default): commits cost what they
# cost in production.  Checkpoints only happen when the script asks for them
# (between measurements), not in the middle of one.
start_bench_cluster() {
	local name="$1" port="$2" preload="$3"
	local datadir="${WORK_DIR}/${name}/data"

	mkdir -p "${WORK_DIR}/${name}"
	chown_to_test_user "${WORK_DIR}/${name}"
	as_test_user initdb -D "${datadir}" -U postgres -A trust --no-locale \
		-E UTF8 --no-sync >"${WORK_DIR}/${name}/initdb.log" 2>&1 || {
		cat "${WORK_DIR}/${name}/initdb.log" >&2
		return 1
	}
	{
		echo "# written by test/bench/run.sh"
		echo "port = ${port}"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '${SOCK_DIR}'"
		echo "wal_level = replica"
		echo "max_worker_processes = 16"
		echo "shared_buffers = 256MB"
		echo "# DROP SCHEMA of 2,000 tables locks ~6,000 objects (tables, row and array types)"
		echo "max_locks_per_transaction = 128"
		echo "max_wal_size = 8GB"
		echo "checkpoint_timeout = 1h"
		echo "log_min_messages = warning"
		echo "lc_messages = 'C'"
		if [[ "${preload}" == yes ]]; then
			echo "shared_preload_libraries = 'guarded_ddl'"
		fi
	} >>"${datadir}/postgresql.conf"
	as_test_user pg_ctl -D "${datadir}" -l "${WORK_DIR}/${name}/server.log" \
		-w -t 120 start >/dev/null || {
		cat "${WORK_DIR}/${name}/server.log" >&2
		return 1
	}
}

# ---------------------------------------------------------------------------
# Machine and setup
# ---------------------------------------------------------------------------

print_machine() {
	local cpu mem pgver settings
	cpu="$(awk -F ': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	pgver="$(qv "${PORT_P}" postgres 'SELECT version()')"
	settings="$(qv "${PORT_P}" postgres "SELECT string_agg(name || ' ' || current_setting(name), ', ' ORDER BY ord)
		FROM unnest(ARRAY['fsync', 'synchronous_commit', 'wal_level', 'shared_buffers', 'max_worker_processes',
		                  'max_locks_per_transaction', 'max_wal_size', 'checkpoint_timeout']) WITH ORDINALITY AS s(name, ord)")"
	echo "guarded_ddl benchmark -- ${MODE} run, ${ROUNDS} rounds, figures ${ONLY}, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine:    nproc $(nproc), CPU ${cpu:-unknown}, memory ${mem}, load average $(cut -d ' ' -f 1-3 /proc/loadavg) at start"
	echo "postgresql: ${pgver}"
	echo "settings:   ${settings} (all clusters alike)"
	echo "guarded_ddl: ${GUARD_BUILD}"
}

# setup_figure_a: three databases with a schema for the DDL mix.
setup_figure_a() {
	local db
	for db in a_bare a_guarded a_plpgsql; do
		q "${PORT_P}" postgres -c "CREATE DATABASE ${db}"
		q "${PORT_P}" "${db}" -c 'CREATE SCHEMA bench_ddl'
	done
	q "${PORT_P}" a_guarded -c 'CREATE EXTENSION guarded_ddl'
	q "${PORT_P}" a_plpgsql -f "${BENCH_DIR}/plpgsql_guard.sql" >/dev/null

	# One pgbench transaction: a table with a unique name per client and
	# iteration (round, client, per-client counter), changed, indexed and
	# dropped again while still empty.
	cat >"${SQL_DIR}/ddl_mix.sql" <<-'EOF'
		\set cnt :cnt + 1
		\set tid (:r * 100 + :client_id) * 100000000 + :cnt
		BEGIN;
		CREATE TABLE bench_ddl.t_:tid (id int, payload int);
		ALTER TABLE bench_ddl.t_:tid ADD COLUMN note text;
		CREATE INDEX ON bench_ddl.t_:tid (id);
		DROP TABLE bench_ddl.t_:tid;
		COMMIT;
	EOF
}

# setup_figure_b: databases for the DROP SCHEMA ... CASCADE; b_rules (figure
# c) differs from b_guarded only by its 10,000 rules on other objects.
setup_figure_b() {
	local db
	for db in b_bare b_guarded b_plpgsql b_rules; do
		q "${PORT_P}" postgres -c "CREATE DATABASE ${db}"
	done
	for db in b_guarded b_rules; do
		q "${PORT_P}" "${db}" -c 'CREATE EXTENSION guarded_ddl' \
			-c "SELECT guarded_ddl.record_backup('bench')" >/dev/null
	done
	q "${PORT_P}" b_plpgsql -f "${BENCH_DIR}/plpgsql_guard.sql" >/dev/null
	q "${PORT_P}" b_rules -c "INSERT INTO guarded_ddl.policy (object_name, action)
		SELECT 'other_' || g, 'deny' FROM generate_series(1, ${C_RULES}) g"
	# Vacuum and analyze now, not when autovacuum gets to it in the middle of
	# a measurement: the relcache invalidation of the policy table that comes
	# with it makes every backend reload all the rules.
	for db in b_guarded b_rules; do
		q "${PORT_P}" "${db}" -c 'VACUUM ANALYZE guarded_ddl.policy' -c 'VACUUM ANALYZE guarded_ddl.backups'
	done
}

# setup_figure_d: pgbench tables in both clusters of figure d, the
# preloaded one with the extension, both read into shared_buffers.
setup_figure_d() {
	local port
	for port in "${PORT_DP}" "${PORT_B}"; do
		q "${port}" postgres -c 'CREATE DATABASE d_select'
		pgb "${port}" d_select -i -q -s "${D_SCALE}" >"${LOG_DIR}/d_init_${port}.log" 2>&1 || {
			cat "${LOG_DIR}/d_init_${port}.log" >&2
			return 1
		}
		q "${port}" d_select -c 'CREATE EXTENSION pg_prewarm' \
			-c "SELECT pg_prewarm('pgbench_accounts'), pg_prewarm('pgbench_accounts_pkey'),
			           pg_prewarm('pgbench_branches'), pg_prewarm('pgbench_tellers')" >/dev/null
	done
	q "${PORT_DP}" d_select -c 'CREATE EXTENSION guarded_ddl'
}

# setup_figure_e: a database without any backup marker, and a table with a
# row: every DROP of it is refused with ZG002 (backup required).
setup_figure_e() {
	q "${PORT_P}" postgres -c 'CREATE DATABASE e_denials'
	q "${PORT_P}" e_denials -c 'CREATE EXTENSION guarded_ddl' \
		-c 'CREATE SCHEMA bench_e' \
		-c 'CREATE TABLE bench_e.victim AS SELECT 1 AS id'
}

# setup_figure_f: the big and the small table, vacuumed and analyzed.
setup_figure_f() {
	local check t
	q "${PORT_P}" postgres -c 'CREATE DATABASE f_probe'
	q "${PORT_P}" f_probe -c 'CREATE EXTENSION guarded_ddl' \
		-c "CREATE TABLE public.big AS SELECT g AS id FROM generate_series(1, ${F_ROWS}) g" \
		-c 'CREATE TABLE public.small AS SELECT 1 AS id' \
		-c 'VACUUM ANALYZE public.big' -c 'VACUUM ANALYZE public.small'
	for t in big small; do
		echo "SELECT count(*) FROM guarded_ddl.check('DROP TABLE public.${t}');" \
			>"${SQL_DIR}/f_${t}.sql"
		check="$(qv "${PORT_P}" f_probe "SELECT holds_data || ' ' || coalesce(row_estimate::text, '?') || ' ' || decision
			FROM guarded_ddl.check('DROP TABLE public.${t}')")"
		info "f: check('DROP TABLE ${t}') says holds_data/row_estimate/decision = ${check}"
		[[ "${check}" == true* ]] || die "f: check() does not see the rows of ${t}"
	done
}

# ---------------------------------------------------------------------------
# One round of each figure
# ---------------------------------------------------------------------------

# a: DDL mix throughput, pgbench, 2 clients.  A_SLICES short runs per
# variant, the variants alternating, so that a burst of load from elsewhere
# falls on all of them; the round's value is the median tps of its runs.
round_figure_a() {
	local round="$1" slice variant
	for ((slice = 0; slice < A_SLICES; slice++)); do
		for variant in $(rotate $((round + slice)) bare guarded plpgsql); do
			measured_pgbench "a.${variant}" "${round}" preloaded "${PORT_P}" "a_${variant}" \
				"${LOG_DIR}/a_${variant}_r${round}_s${slice}.log" \
				-c 2 -j 2 -T "${A_SECONDS}" -D "r=$((round * 100 + slice))" -D cnt=0 \
				-f "${SQL_DIR}/ddl_mix.sql"
		done
	done
	info "a r${round}: bare $(round_value a.bare "${round}") tps," \
		"guarded $(round_value a.guarded "${round}") tps, plpgsql $(round_value a.plpgsql "${round}") tps"
}

# measured_pgbench KEY ROUND CLUSTER PORT DB LOG [pgbench args]: one pgbench run;
# records its tps as KEY and, as KEY.cpu, the CPU time its backends used per
# transaction (ms): what the postmaster collected from its exited children,
# much less disturbed by other processes' I/O than the throughput.
measured_pgbench() {
	local key="$1" round="$2" cluster="$3" port="$4" db="$5" out="$6"
	shift 6
	local pm children before after tps xacts i
	pm="$(head -n 1 "${WORK_DIR}/${cluster}/data/postmaster.pid")"
	children="$(pgrep -c -P "${pm}" || true)"
	before="$(awk '{ print $16 + $17 }' "/proc/${pm}/stat")"
	if ! pgb "${port}" "${db}" -n "$@" >"${out}" 2>&1; then
		cat "${out}" >&2
		die "pgbench failed on ${db} (${cluster} cluster)"
	fi
	# until the postmaster has reaped the backends (at most 2 s)
	for ((i = 0; i < 40; i++)); do
		[[ "$(pgrep -c -P "${pm}" || true)" -le "${children}" ]] && break
		sleep 0.05
	done
	after="$(awk '{ print $16 + $17 }' "/proc/${pm}/stat")"
	tps="$(awk '/^tps = / { print $3; exit }' "${out}")"
	xacts="$(awk -F '[:/ ]+' '/^number of transactions actually processed/ { print $6; exit }' "${out}")"
	[[ -n "${tps}" && -n "${xacts}" ]] || die "no tps in ${out}"
	record "${key}" "${round}" "${tps}"
	if [[ "${xacts}" -gt 0 ]]; then
		record "${key}.cpu" "${round}" \
			"$(awk -v t=$((after - before)) -v n="${xacts}" -v hz="${CLK_TCK}" 'BEGIN { printf "%.5f", 1000 * t / hz / n }')"
	fi
}

# b/c: create a schema of B_TABLES one-row tables, checkpoint, then time the
# DROP SCHEMA ... CASCADE in a fresh session, as psql's \timing sees it
# (statement and commit), after one warm-up DROP so that every variant
# starts with warm caches (the rules of c are loaded there).  B_REPS drops
# per variant and round, the order rotated each time; the round's value is
# their median.  The backend's CPU time for the DROP is taken alongside from
# /proc/PID/sched where the kernel has it: it is far less disturbed by
# other processes' I/O than the wall-clock time.
round_figure_b() {
	local round="$1" rep variant
	for ((rep = 0; rep < B_REPS; rep++)); do
		for variant in $(rotate $((round + rep)) bare guarded plpgsql rules); do
			drop_schema_once "${round}" "${rep}" "${variant}"
		done
	done
	info "b r${round}: bare $(raw b.bare "${round}" | median) ms, guarded $(raw b.guarded "${round}" | median) ms," \
		"plpgsql $(raw b.plpgsql "${round}" | median) ms, rules $(raw b.rules "${round}" | median) ms"
}

# audit_rows DB VARIANT: rows in the audit table of the variant's guard.
audit_rows() {
	case "$2" in
		guarded | rules) qv "${PORT_P}" "$1" 'SELECT count(*) FROM guarded_ddl.audit' ;;
		plpgsql) qv "${PORT_P}" "$1" 'SELECT count(*) FROM diy_guard.audit' ;;
		*) echo 0 ;;
	esac
}

# drop_schema_once ROUND REP VARIANT
drop_schema_once() {
	local round="$1" rep="$2" variant="$3" db="b_$3" out ms cpu before after expect
	q "${PORT_P}" "${db}" >/dev/null <<-EOF
		DO \$\$
		BEGIN
		    CREATE SCHEMA bench_drop;
		    FOR i IN 1..${B_TABLES} LOOP
		        EXECUTE format('CREATE TABLE bench_drop.t%s (id int)', i);
		        EXECUTE format('INSERT INTO bench_drop.t%s VALUES (1)', i);
		    END LOOP;
		END
		\$\$;
		CHECKPOINT;
	EOF
	before="$(audit_rows "${db}" "${variant}")"
	out="${LOG_DIR}/b_${variant}_r${round}_${rep}.log"
	if ! q "${PORT_P}" "${db}" >"${out}" 2>"${out}.err" <<-'EOF'; then
		SELECT pg_backend_pid() AS bench_pid \gset
		\setenv BENCH_PID :bench_pid
		CREATE TABLE public.bench_warm (id int);
		\timing on
		DROP TABLE public.bench_warm;
		\timing off
		\! awk '/^se.sum_exec_runtime/ { print "cpu_ms_before", $3 }' /proc/$BENCH_PID/sched 2>/dev/null
		\timing on
		DROP SCHEMA bench_drop CASCADE;
		\timing off
		\! awk '/^se.sum_exec_runtime/ { print "cpu_ms_after", $3 }' /proc/$BENCH_PID/sched 2>/dev/null
	EOF
		cat "${out}.err" >&2
		die "b: DROP SCHEMA failed in ${db}"
	fi
	# first the warm-up DROP (the first guarded statement of the session:
	# it loads the policy), then the DROP SCHEMA
	ms="$(psql_time_ms "${out}" | sed -n 2p)"
	[[ -n "${ms}" ]] || die "b: no timing in ${out}"
	record "b.${variant}.first" "${round}" "$(psql_time_ms "${out}" | sed -n 1p)"
	# the guards really judged (and audited) the warm-up table, the schema
	# and every table in it
	after="$(audit_rows "${db}" "${variant}")"
	expect=$((B_TABLES + 2))
	[[ "${variant}" == bare ]] && expect=0
	[[ $((after - before)) -eq "${expect}" ]] ||
		die "b: ${db} wrote $((after - before)) audit rows, expected ${expect}"
	record "b.${variant}" "${round}" "${ms}"
	cpu="$(awk '$1 == "cpu_ms_before" { b = $2 } $1 == "cpu_ms_after" { a = $2 }
		END { if (a != "" && b != "") printf "%.3f\n", a - b }' "${out}")"
	[[ -z "${cpu}" ]] || record "b.${variant}.cpu" "${round}" "${cpu}"
}

# d: pgbench -S on the preloaded cluster (database with the extension) and
# on the plain one, D_SLICES short runs each, alternating.
round_figure_d() {
	local round="$1" slice cluster port
	for ((slice = 0; slice < D_SLICES; slice++)); do
		for cluster in $(rotate $((round + slice)) preloaded plain); do
			port="${PORT_DP}"
			[[ "${cluster}" == plain ]] && port="${PORT_B}"
			measured_pgbench "d.${cluster}" "${round}" "d_${cluster}" "${port}" d_select \
				"${LOG_DIR}/d_${cluster}_r${round}_s${slice}.log" \
				-S -c 2 -j 2 -T "${D_SECONDS}"
		done
	done
	info "d r${round}: preloaded $(round_value d.preloaded "${round}") tps, plain $(round_value d.plain "${round}") tps"
}

# e: E_ATTEMPTS refused DROPs of a table with a row (ZG002, a committed row
# in guarded_ddl.denials each), then as many allowed DROPs of empty tables,
# each timed by psql as the client sees it.
round_figure_e() {
	local round="$1" out before after n i ms
	before="$(qv "${PORT_P}" e_denials 'SELECT count(*) FROM guarded_ddl.denials')"
	out="${LOG_DIR}/e_refused_r${round}.log"
	{
		printf '%s\n' '\set VERBOSITY verbose'
		printf '%s\n' '\timing on'
		for ((i = 0; i < E_ATTEMPTS; i++)); do
			echo 'DROP TABLE bench_e.victim;'
		done
	} | as_test_user psql -X -q -h "${SOCK_DIR}" -p "${PORT_P}" -U postgres \
		-d e_denials >"${out}" 2>"${out}.err" || true
	after="$(qv "${PORT_P}" e_denials 'SELECT count(*) FROM guarded_ddl.denials')"
	n="$(grep -c 'ERROR:  ZG002' "${out}.err" || true)"
	[[ "${n}" -eq "${E_ATTEMPTS}" ]] ||
		die "e: ${n} of ${E_ATTEMPTS} DROPs were refused with ZG002 (see ${out}.err)"
	[[ $((after - before)) -eq "${E_ATTEMPTS}" ]] ||
		die "e: $((after - before)) denial rows committed for ${E_ATTEMPTS} refusals"
	while IFS= read -r ms; do
		record e.refused "${round}" "${ms}"
	done < <(psql_time_ms "${out}")
	[[ "$(raw e.refused "${round}" | wc -l)" -eq "${E_ATTEMPTS}" ]] ||
		die "e: missing timings in ${out}"

	out="${LOG_DIR}/e_allowed_r${round}.log"
	{
		for ((i = 0; i < E_ATTEMPTS; i++)); do
			echo "CREATE TABLE bench_e.empty_${round}_${i} (id int);"
			printf '%s\n' '\timing on'
			echo "DROP TABLE bench_e.empty_${round}_${i};"
			printf '%s\n' '\timing off'
		done
	} | q "${PORT_P}" e_denials >"${out}" 2>"${out}.err" || {
		cat "${out}.err" >&2
		die "e: an allowed DROP of an empty table failed"
	}
	while IFS= read -r ms; do
		record e.allowed "${round}" "${ms}"
	done < <(psql_time_ms "${out}")
	info "e r${round}: refused median $(raw e.refused "${round}" | median) ms," \
		"allowed median $(raw e.allowed "${round}" | median) ms"
}

# f: check('DROP TABLE big') vs check('DROP TABLE small'), pgbench with one
# client, every call logged; the round's value is the median call in us.
round_figure_f() {
	local round="$1" table out us
	for table in $(rotate "${round}" big small); do
		out="${LOG_DIR}/f_${table}_r${round}"
		if ! pgb "${PORT_P}" f_probe -n -c 1 -T "${F_SECONDS}" -f "${SQL_DIR}/f_${table}.sql" \
			-l --log-prefix="${out}" >"${out}.log" 2>&1; then
			cat "${out}.log" >&2
			die "f: pgbench failed for ${table}"
		fi
		us="$(cat "${out}".[0-9]* | awk '{ print $3 }' | median)"
		[[ -n "${us}" ]] || die "f: no transaction log for ${table}"
		record "f.${table}" "${round}" "${us}"
		info "f r${round} ${table}: median ${us} us over $(cat "${out}".[0-9]* | wc -l) calls"
	done
}

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

# f3 NUMBER: three decimals, or ? for nothing.
f3() {
	if [[ -n "${1:-}" ]]; then printf '%.3f' "$1"; else printf '?'; fi
}

# per_round_ratios NUMKEY DENKEY: one ratio per round that has both.
per_round_ratios() {
	local r num den
	for ((r = 1; r <= ROUNDS; r++)); do
		num="$(round_value "$1" "${r}")"
		den="$(round_value "$2" "${r}")"
		[[ -n "${num}" && -n "${den}" ]] || continue
		awk -v n="${num}" -v d="${den}" 'BEGIN { printf "%.4f\n", n / d }'
	done
}

# per_round_medians KEY: the median of each round (for many values per round).
per_round_medians() {
	local r
	for ((r = 1; r <= ROUNDS; r++)); do
		raw "$1" "${r}" | median
	done
}

# per_round_row LABEL FUNCTION ARGS...: one line of per-round values.
per_round_row() {
	local label="$1"
	shift
	printf '%-20s' "${label}"
	"$@" | awk '{ printf " %9.4f", $1 } END { print "" }'
}

# verdict VALUE SPREAD DIRECTION TARGET: PASS, PASS~ (missed by no more
# than the spread) or FAIL (missed by more than the spread).
verdict() {
	awk -v v="$1" -v s="$2" -v dir="$3" -v t="$4" 'BEGIN {
		if (dir == ">=") { ok = v >= t; noise = v >= t - s }
		else { ok = v <= t; noise = v <= t + s }
		print ok ? "PASS" : (noise ? "PASS~" : "FAIL") }'
}

# figure_line ID DESCRIPTION UNIT DIRECTION TARGET RAWTEXT < per-round values
# The figure is the median of the per-round values; the spread is their
# interquartile range (robust against one disturbed round), the full range
# is shown too.
figure_line() {
	local id="$1" desc="$2" unit="$3" dir="$4" target="$5" rawtext="$6"
	local q1 med q3 lo hi iqr rel result
	read -r q1 med q3 lo hi < <(quartiles) || true
	if [[ -z "${med:-}" ]]; then
		printf '%-3s %-56s %s\n' "${id}" "${desc}" "ERROR: no measurement"
		BENCH_FAILED=1
		return
	fi
	iqr="$(awk -v a="${q1}" -v b="${q3}" 'BEGIN { printf "%.3f", b - a }')"
	rel="$(awk -v s="${iqr}" -v m="${med}" 'BEGIN { printf "%.1f%%", (m != 0 ? 100 * s / m : 0) }')"
	result="$(verdict "${med}" "${iqr}" "${dir}" "${target}")"
	[[ "${result}" == FAIL ]] && BENCH_FAILED=1
	# shellcheck disable=SC2059  # one format for the header and the rows
	printf "${ROW_FORMAT}" "${id}" "${desc}" "$(printf '%.3f%s' "${med}" "${unit}")" \
		"${iqr} (${rel})" "$(printf '%.3f-%.3f' "${lo}" "${hi}")" "${dir} ${target}" "${result}" "${rawtext}"
}

# fig, description, measured, IQR, range, target, result | raw medians
ROW_FORMAT='%-3s %-56s %9s  %-15s %-13s  %-8s %-5s | %s\n'

# cpu_note LABEL NUMKEY DENKEY...: "; backend CPU LABEL ratio, ..." from the
# per-round CPU times, nothing when the kernel gave none.
cpu_note() {
	local out="" ratio
	while [[ $# -ge 3 ]]; do
		ratio="$(per_round_ratios "$2" "$3" | median)"
		[[ -n "${ratio}" ]] && out="${out}${out:+, }$1 $(f3 "${ratio}")"
		shift 3
	done
	[[ -z "${out}" ]] || echo "; backend CPU ${out}"
}

# m KEY [PRINTF-FORMAT]: the median over rounds of KEY's per-round values
# (the median of a round's runs).
m() {
	local v r
	v="$(for ((r = 1; r <= ROUNDS; r++)); do round_value "$1" "${r}"; done | median)"
	[[ -n "${v}" ]] || { echo '?'; return; }
	# shellcheck disable=SC2059
	printf "${2:-%.1f}" "${v}"
}

report() {
	local r
	echo
	echo "== results: median of the per-round values; spread = their interquartile range (IQR), also relative to the median, and their full range"
	# shellcheck disable=SC2059
	printf "${ROW_FORMAT}" fig description measured "IQR (relative)" range target result "raw medians"
	if want a; then
		figure_line a "DDL mix throughput, guarded/bare (pgbench, 2 clients)" x '>=' "${TARGET_A}" \
			"bare $(m a.bare) tps, guarded $(m a.guarded) tps, plpgsql $(m a.plpgsql) tps; plpgsql/bare $(f3 "$(per_round_ratios a.plpgsql a.bare | median)")$(cpu_note guarded/bare a.guarded.cpu a.bare.cpu plpgsql/bare a.plpgsql.cpu a.bare.cpu) per transaction" \
			< <(per_round_ratios a.guarded a.bare)
	fi
	if want b; then
		figure_line b "DROP SCHEMA CASCADE of ${B_TABLES} tables, guarded/bare" x '<=' "${TARGET_B}" \
			"bare $(m b.bare) ms, guarded $(m b.guarded) ms, plpgsql $(m b.plpgsql) ms; plpgsql/bare $(f3 "$(per_round_ratios b.plpgsql b.bare | median)")$(cpu_note guarded/bare b.guarded.cpu b.bare.cpu plpgsql/bare b.plpgsql.cpu b.bare.cpu)" \
			< <(per_round_ratios b.guarded b.bare)
	fi
	if want c; then
		figure_line c "the same with ${C_RULES} rules on other objects, (c)/(b)" x '<=' "${TARGET_C}" \
			"with rules $(m b.rules) ms, without $(m b.guarded) ms; with rules/bare $(f3 "$(per_round_ratios b.rules b.bare | median)")$(cpu_note '(c)/(b)' b.rules.cpu b.guarded.cpu); first DROP of a session (loads the policy): $(m b.rules.first) ms with the rules, $(m b.guarded.first) ms without, $(m b.bare.first) ms bare" \
			< <(per_round_ratios b.rules b.guarded)
	fi
	if want d; then
		figure_line d "pgbench -S scale ${D_SCALE}, preloaded+extension/plain" x '>=' "${TARGET_D}" \
			"preloaded $(m d.preloaded) tps, plain $(m d.plain) tps$(cpu_note preloaded/plain d.preloaded.cpu d.plain.cpu) per transaction" \
			< <(per_round_ratios d.preloaded d.plain)
	fi
	if want e; then
		figure_line e "refused DROP incl. durable denial row (ZG002), latency" ms '<=' "${TARGET_E}" \
			"median of all $(raw e.refused | wc -l) refused $(f3 "$(raw e.refused | median)") ms; allowed DROP of an empty table $(f3 "$(raw e.allowed | median)") ms" \
			< <(per_round_medians e.refused)
	fi
	if want f; then
		figure_line f "check('DROP TABLE big') ${F_ROWS} rows vs 1 row" x '<=' "${TARGET_F}" \
			"big $(m f.big '%.0f') us, small $(m f.small '%.0f') us per call" \
			< <(per_round_ratios f.big f.small)
	fi
	echo "PASS = target met; PASS~ = target missed by no more than the run-to-run spread (IQR): noise; FAIL = missed by more."

	echo
	echo "== per round (in the order measured)"
	want a && per_round_row "a guarded/bare" per_round_ratios a.guarded a.bare
	want a && per_round_row "a plpgsql/bare" per_round_ratios a.plpgsql a.bare
	want a && per_round_row "a CPU guarded/bare" per_round_ratios a.guarded.cpu a.bare.cpu
	want a && per_round_row "a CPU plpgsql/bare" per_round_ratios a.plpgsql.cpu a.bare.cpu
	want b && per_round_row "b guarded/bare" per_round_ratios b.guarded b.bare
	want b && per_round_row "b plpgsql/bare" per_round_ratios b.plpgsql b.bare
	want b && per_round_row "b CPU guarded/bare" per_round_ratios b.guarded.cpu b.bare.cpu
	want b && per_round_row "b CPU plpgsql/bare" per_round_ratios b.plpgsql.cpu b.bare.cpu
	want c && per_round_row "c rules/guarded" per_round_ratios b.rules b.guarded
	want c && per_round_row "c CPU rules/guarded" per_round_ratios b.rules.cpu b.guarded.cpu
	want d && per_round_row "d preloaded/plain" per_round_ratios d.preloaded d.plain
	want d && per_round_row "d CPU preloaded/plain" per_round_ratios d.preloaded.cpu d.plain.cpu
	want e && per_round_row "e refused ms" per_round_medians e.refused
	want e && per_round_row "e allowed ms" per_round_medians e.allowed
	want f && per_round_row "f big/small" per_round_ratios f.big f.small
	echo
	echo "== raw values per round (a, d: median tps of the round's runs, .cpu: backend CPU ms per transaction;"
	echo "   b: median ms of its drops, b.*.cpu: their backend CPU ms, b.*.first: ms of the session's first DROP (an empty table);"
	echo "   f: median us per call)"
	for key in a.bare a.guarded a.plpgsql a.bare.cpu a.guarded.cpu a.plpgsql.cpu b.bare b.guarded b.plpgsql b.rules \
		b.bare.cpu b.guarded.cpu b.plpgsql.cpu b.rules.cpu b.bare.first b.guarded.first b.plpgsql.first b.rules.first \
		d.preloaded d.plain d.preloaded.cpu d.plain.cpu f.big f.small; do
		[[ -n "$(raw "${key}")" ]] || continue
		printf '%-16s' "${key}"
		for ((r = 1; r <= ROUNDS; r++)); do
			printf ' %10s' "$(round_value "${key}" "${r}")"
		done
		echo
	done
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

# bench_cleanup: the EXIT trap.  Stops every server under WORK_DIR (they
# hold files open), then removes it unless --keep.  Signals that arrive
# meanwhile are ignored, so a second Ctrl-C cannot leave a server behind.
bench_cleanup() {
	local status=$?
	set +e
	trap '' INT TERM HUP
	trap - EXIT
	if [[ -n "${WORK_DIR}" && -d "${WORK_DIR}" ]]; then
		stop_servers_under "${WORK_DIR}"
		if [[ "${GUARDED_DDL_KEEP_TMP:-0}" == 1 ]]; then
			info "kept ${WORK_DIR}"
		else
			rm -rf -- "${WORK_DIR}"
		fi
	fi
	exit "${status}"
}

install_bench_trap() {
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

main() {
	local started round fig
	started="$(date +%s)"
	[[ -x "${PGBENCH}" && -x "${PG_BINDIR}/postgres" ]] ||
		die "PostgreSQL ${PG_MAJOR} is not installed (apt-get install postgresql-${PG_MAJOR} postgresql-server-dev-${PG_MAJOR})"

	ensure_test_user
	install_bench_trap
	# Not common.sh's create_work_dir: a prefix of our own, so that sweeping
	# leftovers of the test runs (/tmp/guarded_ddl.*) does not pull the
	# directory from under a long benchmark.
	WORK_DIR="$(mktemp -d "${GUARDED_DDL_TMPDIR:-/tmp}/gddl_bench.XXXXXX")" ||
		die "could not create a temporary directory"
	mkdir -p "${WORK_DIR}/tmp"
	chmod 755 "${WORK_DIR}"
	chown_to_test_user "${WORK_DIR}"
	info "work directory ${WORK_DIR}"
	RESULTS="${WORK_DIR}/results.tsv"
	LOG_DIR="${WORK_DIR}/logs"
	SQL_DIR="${WORK_DIR}/sql"
	SOCK_DIR="${WORK_DIR}/sock"
	mkdir -p "${LOG_DIR}" "${SQL_DIR}" "${SOCK_DIR}"
	: >"${RESULTS}"
	chown_to_test_user "${LOG_DIR}" "${SQL_DIR}" "${SOCK_DIR}" "${RESULTS}"

	prepare_postgres
	free_port
	PORT_P="${FREE_PORT}"
	free_port
	PORT_B="${FREE_PORT}"
	info "starting the preloaded cluster on port ${PORT_P}"
	start_bench_cluster preloaded "${PORT_P}" yes || die "could not start the preloaded cluster"
	if want d; then
		# Figure d has two clusters of its own, idle but for it: in the
		# first one, the autovacuum work the other figures' DDL leaves
		# behind would be counted against the preload.
		free_port
		PORT_DP="${FREE_PORT}"
		info "starting the clusters of figure d on ports ${PORT_DP} (preloaded) and ${PORT_B} (plain)"
		start_bench_cluster d_preloaded "${PORT_DP}" yes || die "could not start the preloaded cluster of figure d"
		start_bench_cluster d_plain "${PORT_B}" no || die "could not start the plain cluster"
	fi

	print_machine
	for fig in a b d e f; do
		if want "${fig}"; then
			info "setting up figure ${fig}"
			"setup_figure_${fig}"
		fi
	done
	q "${PORT_P}" postgres -c CHECKPOINT
	if want d; then
		q "${PORT_DP}" postgres -c CHECKPOINT
		q "${PORT_B}" postgres -c CHECKPOINT
	fi

	# Round 0 warms every database, cache and code path up; it is shorter
	# and its measurements are thrown away.
	info "warm-up round"
	(
		A_SLICES=1 A_SECONDS=1 B_TABLES=100 B_REPS=1 D_SLICES=1 D_SECONDS=1 E_ATTEMPTS=2 F_SECONDS=1
		for fig in a b d e f; do
			if want "${fig}"; then "round_figure_${fig}" 0; fi
		done
	)
	for ((round = 1; round <= ROUNDS; round++)); do
		info "round ${round} of ${ROUNDS}"
		for fig in a b d e f; do
			if want "${fig}"; then "round_figure_${fig}" "${round}"; fi
		done
	done

	report
	echo
	echo "total time $(($(date +%s) - started)) s; logs in ${WORK_DIR}/logs$([[ "${GUARDED_DDL_KEEP_TMP:-0}" == 1 ]] && echo ' (kept)' || echo ' (removed; --keep keeps them)')"
	if [[ "${BENCH_FAILED}" -ne 0 ]]; then
		echo "result: FAIL (a target missed by more than the measured spread)"
		return 1
	fi
	echo "result: PASS"
}

main
