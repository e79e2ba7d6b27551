#!/usr/bin/env bash
# test/bench/run.sh -- the performance figures of guarded_ddl, each a ratio
# against the same server without the extension (and, where it applies,
# against the hand-written PL/pgSQL guard of plpgsql_guard.sql), each with
# its A/A figure beside it: the same ratio between two identical variants,
# which is what this machine's noise alone makes of it.
#
# Usage:  test/bench/run.sh [--quick] [--rounds N] [--only a,b,...]
#                           [--rev REV | --installed] [--keep]
#   --quick       smoke run: 2 rounds, small sizes, under 3 minutes
#   --rounds N    rounds to run (default 7, --quick 2)
#   --only LIST   figures to run, from a,b,c,d,e,f,g,h,p (p: the callgrind
#                 profile per dropped table); c is measured with b
#   --rev REV     benchmark a committed revision (git archive REV) instead of
#                 the working tree as it is now
#   --installed   benchmark the guarded_ddl installed in the system
#                 PostgreSQL, without building anything
#   --keep        keep the temporary directory (clusters, logs) afterwards
#
# Runs as root (or as the user who owns the servers).  The servers run as
# the OS user postgres, on free ports, in a temporary directory that the
# EXIT trap removes with everything in it -- including a private copy of
# the PostgreSQL installation (binaries, lib, share; ~50 MB) into which
# the extension is built and installed.  The system installation is never
# written: other test runs on this machine reinstall guarded_ddl there at
# any time, and a library or SQL script that changes under a running
# benchmark would make it measure two versions at once.
#
# Throw-away clusters, all with the same settings and fsync on:
#   preloaded   shared_preload_libraries = 'guarded_ddl'; one database per
#               figure and variant of a, b, c, e2, f.  "bare" is a database
#               of this cluster where CREATE EXTENSION guarded_ddl was never
#               run (the library is loaded but finds no extension there).
#   plain       no shared_preload_libraries: figure e1 only.
#   d_x, d_y    figure d only, the same data and the extension in both.
#               Each round restarts both, one with the library preloaded
#               and one without, the roles swapped from round to round so
#               that whatever makes one data directory faster cancels out;
#               then both again with the same setting (the A/A figure).
#   prof        figure p, last: a DROP SCHEMA of two sizes per variant in a
#               server run under valgrind --tool=callgrind.
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
# shellcheck source=test/bench/profile.sh
source "${BENCH_DIR}/profile.sh"
# The major is settled before anything below derives a path from it.
select_pg_major

# ---------------------------------------------------------------------------
# Options and sizes
# ---------------------------------------------------------------------------

QUICK=0
ROUNDS=""
ONLY="a,b,c,d,e,f,g,h,p"
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
			[[ $# -ge 2 && "$2" =~ ^[a-hp](,[a-hp])*$ ]] || die "--only needs a list like a,b,e"
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

# want FIGURE: is the figure part of this run?  (c is measured with b's
# drops, so c brings b along.)
want() {
	[[ ",${ONLY}," == *",$1,"* ]] && return 0
	[[ "$1" == b && ",${ONLY}," == *",c,"* ]]
}

if [[ "${QUICK}" -eq 1 ]]; then
	MODE=quick
	ROUNDS="${ROUNDS:-2}"
	A_SLICES=1          # a: pgbench runs per variant and round, alternating
	A_SECONDS=2         #    seconds per run
	B_TABLES=500        # b/c: tables in the dropped schema
	B_REPS=1            #      drops per variant and round
	C_RULES=10000       # c: policy rules naming other objects
	D_SCALE=1           # d: pgbench scale
	D_SLICES=1          # d: runs per cluster, mode (-S, -N) and phase
	D_SECONDS=1         #    seconds per run
	E_ATTEMPTS=10       # e: refused (and allowed) drops per variant and round
	F_ROWS=1000000      # f: rows of the big table
	F_SECONDS=1         # f: pgbench run of check() per table and round
	G_ROWS=100000       # g: rows of the table whose column goes to the bin
	H_ROWS=1000000      # h: rows of the big table TRUNCATE keeps in the bin
	P_SIZES="20 60"     # p: tables of the two dropped schemas per variant
else
	MODE=full
	ROUNDS="${ROUNDS:-7}"
	A_SLICES=3
	A_SECONDS=2
	B_TABLES=2000
	B_REPS=1
	C_RULES=10000
	D_SCALE=10
	D_SLICES=2
	D_SECONDS=2
	E_ATTEMPTS=15
	F_ROWS=10000000
	F_SECONDS=2
	G_ROWS=1000000
	H_ROWS=10000000
	P_SIZES="100 300"
fi

# Targets.  ">=": higher is better; "<=": lower is.
TARGET_A=0.98
TARGET_B=1.10      # goal 1.05; and below the PL/pgSQL guard (TARGET_BPL)
TARGET_BPL=1.00
TARGET_C=1.05
TARGET_D=0.99
TARGET_E=10
TARGET_E2=2        # preloaded: the denial writer
TARGET_F=1.1
TARGET_G1=1.5      # soft DROP COLUMN vs CREATE TABLE AS of key and column
TARGET_G2=2.0      #           restore() vs the same
TARGET_H=1.2       # soft TRUNCATE of H_ROWS rows vs of 1 row

PGBENCH="${PG_BINDIR}/pgbench"
CLK_TCK="$(getconf CLK_TCK)"
GUARD_BUILD=""
PORT_P=""     # the preloaded cluster of a, b, c, e2, f
PORT_N=""     # the cluster without preload of e1
PORT_DX=""    # figure d
PORT_DY=""
SOCK_DIR=""
RESULTS=""
LOG_DIR=""
SQL_DIR=""
BENCH_FAILED=0
D_PRELOADED=()   # figure d: which cluster (x or y) was preloaded, per round

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
# and d: its pgbench runs; b: its drops; e: its statements; f: one value).
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

# other_clusters: how many PostgreSQL servers not started by this run are
# running on the machine (distinct working directories of postgres
# processes outside WORK_DIR) -- other test runs sharing the machine.
other_clusters() {
	local pid dir
	for pid in $(pgrep -x postgres || true); do
		dir="$(readlink "/proc/${pid}/cwd" 2>/dev/null || true)"
		[[ -n "${dir}" && "${dir}" != "${WORK_DIR}"/* ]] && echo "${dir}"
	done | sort -u | wc -l
}

# sample_machine ROUND: the load average and the other servers at the start
# of a round, for the machine line at the end.
sample_machine() {
	record machine.load "$1" "$(cut -d ' ' -f 1 /proc/loadavg)"
	record machine.others "$1" "$(other_clusters)"
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

# start_bench_cluster NAME PORT PRELOAD [EXTRA-SETTING...]: initdb and start
# a cluster with the benchmark settings.  fsync stays on (the default):
# commits cost what they cost in production.  Checkpoints only happen when
# the script asks for them (between measurements), not in the middle of one.
start_bench_cluster() {
	local name="$1" port="$2" preload="$3"
	shift 3
	local datadir="${WORK_DIR}/${name}/data" setting

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
		for setting in "$@"; do
			echo "${setting}"
		done
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

# machine_line: what the figures were measured on, printed before and after
# the results.
machine_line() {
	local cpu mem
	cpu="$(awk -F ': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "machine:    nproc $(nproc), CPU ${cpu:-unknown}, memory ${mem}, $(. /etc/os-release && echo "${PRETTY_NAME:-unknown OS}"), kernel $(uname -r)"
}

print_header() {
	local pgver settings
	pgver="$(qv "${PORT_P}" postgres 'SELECT version()')"
	settings="$(qv "${PORT_P}" postgres "SELECT string_agg(name || ' ' || current_setting(name), ', ' ORDER BY ord)
		FROM unnest(ARRAY['fsync', 'synchronous_commit', 'wal_level', 'shared_buffers', 'max_worker_processes',
		                  'max_locks_per_transaction', 'max_wal_size', 'checkpoint_timeout']) WITH ORDINALITY AS s(name, ord)")"
	echo "guarded_ddl benchmark -- ${MODE} run, ${ROUNDS} rounds, figures ${ONLY}, $(date -u '+%Y-%m-%d %H:%M UTC')"
	machine_line
	echo "at start:   load average $(cut -d ' ' -f 1-3 /proc/loadavg), $(other_clusters) other PostgreSQL servers running"
	echo "postgresql: ${pgver}"
	echo "settings:   ${settings} (all clusters alike)"
	echo "guarded_ddl: ${GUARD_BUILD}"
}

# setup_figure_a: four databases with a schema for the DDL mix; bare2 is a
# second bare one, for the A/A figure.
setup_figure_a() {
	local db
	for db in a_bare a_bare2 a_guarded a_plpgsql; do
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

# B_VARIANTS: the drops of one round of b and c, kinds alternating.  b1
# drops empty tables, b2 one-row tables, b3 one-row tables shaped like an
# application's (serial primary key, a default, a check: each table brings
# a sequence, an index and constraints along, ten dropped objects in all);
# bare2 and guarded2 are the second copies for the A/A figures; rules
# (figure c) is guarded with 10,000 rules.
B_VARIANTS=""

# setup_figure_b: databases for the DROP SCHEMA ... CASCADE.  The guarded
# ones have a backup marker; b_rules (figure c) differs from b_guarded and
# b_guarded2 only by its 10,000 rules on other objects.
setup_figure_b() {
	local db
	B_VARIANTS="b1.bare b2.bare b3.bare b1.guarded b2.guarded b3.guarded"
	B_VARIANTS="${B_VARIANTS} b1.plpgsql b2.plpgsql b3.plpgsql b1.bare2 b2.bare2 b3.bare2"
	want c && B_VARIANTS="${B_VARIANTS} b2.rules b2.guarded2"
	for db in b_bare b_bare2 b_guarded b_guarded2 b_plpgsql b_rules; do
		q "${PORT_P}" postgres -c "CREATE DATABASE ${db}"
	done
	for db in b_guarded b_guarded2 b_rules; do
		q "${PORT_P}" "${db}" -c 'CREATE EXTENSION guarded_ddl' \
			-c "SELECT guarded_ddl.record_backup('bench')" >/dev/null
	done
	q "${PORT_P}" b_plpgsql -f "${BENCH_DIR}/plpgsql_guard.sql" >/dev/null
	q "${PORT_P}" b_rules -c "INSERT INTO guarded_ddl.policy (object_name, action)
		SELECT 'other_' || g, 'deny' FROM generate_series(1, ${C_RULES}) g"
	[[ "$(qv "${PORT_P}" b_rules 'SELECT count(*) FROM guarded_ddl.policy')" -eq "${C_RULES}" ]] ||
		die "c: b_rules does not hold ${C_RULES} rules"
	# Vacuum and analyze now, not when autovacuum gets to it in the middle of
	# a measurement: the relcache invalidation of the policy table that comes
	# with it makes every backend reload all the rules.
	for db in b_guarded b_guarded2 b_rules; do
		q "${PORT_P}" "${db}" -c 'VACUUM ANALYZE guarded_ddl.policy' -c 'VACUUM ANALYZE guarded_ddl.backups'
	done
}

# setup_figure_d: the same pgbench tables, pg_prewarm and the extension in
# both clusters of figure d; which one has the library preloaded is set
# round by round (restart_d).
setup_figure_d() {
	local port
	for port in "${PORT_DX}" "${PORT_DY}"; do
		q "${port}" postgres -c 'CREATE DATABASE d_bench'
		pgb "${port}" d_bench -i -q -s "${D_SCALE}" >"${LOG_DIR}/d_init_${port}.log" 2>&1 || {
			cat "${LOG_DIR}/d_init_${port}.log" >&2
			return 1
		}
		q "${port}" d_bench -c 'CREATE EXTENSION pg_prewarm' -c 'CREATE EXTENSION guarded_ddl' \
			-c 'VACUUM ANALYZE'
	done
}

# setup_figure_e: in the preloaded and in the plain cluster, two databases
# without any backup marker, each with a table with a row: every DROP of it
# is refused with ZG002 (backup required).  The second one is for the A/A
# figure.
setup_figure_e() {
	local port db
	for port in "${PORT_N}" "${PORT_P}"; do
		for db in e_denials e_denials2; do
			q "${port}" postgres -c "CREATE DATABASE ${db}"
			q "${port}" "${db}" -c 'CREATE EXTENSION guarded_ddl' \
				-c 'CREATE SCHEMA bench_e' \
				-c 'CREATE TABLE bench_e.victim AS SELECT 1 AS id'
		done
	done
	[[ "$(qv "${PORT_N}" e_denials "SELECT current_setting('shared_preload_libraries') || '/' || guarded_ddl.hook_active()")" == /false ]] ||
		die "e1: the plain cluster has guarded_ddl preloaded"
	[[ "$(qv "${PORT_P}" e_denials "SELECT current_setting('shared_preload_libraries') || '/' || guarded_ddl.hook_active()")" == guarded_ddl/true ]] ||
		die "e2: the preloaded cluster's session has no active utility hook"
}

# setup_figure_f: the big and the small table, and a second small one for
# the A/A figure, vacuumed and analyzed.
setup_figure_f() {
	local check t
	q "${PORT_P}" postgres -c 'CREATE DATABASE f_probe'
	q "${PORT_P}" f_probe -c 'CREATE EXTENSION guarded_ddl' \
		-c "CREATE TABLE public.big AS SELECT g AS id FROM generate_series(1, ${F_ROWS}) g" \
		-c 'CREATE TABLE public.small AS SELECT 1 AS id' \
		-c 'CREATE TABLE public.small2 AS SELECT 1 AS id' \
		-c 'VACUUM ANALYZE public.big' -c 'VACUUM ANALYZE public.small' -c 'VACUUM ANALYZE public.small2'
	for t in big small small2; do
		echo "SELECT count(*) FROM guarded_ddl.check('DROP TABLE public.${t}');" \
			>"${SQL_DIR}/f_${t}.sql"
		check="$(qv "${PORT_P}" f_probe "SELECT holds_data || ' ' || coalesce(row_estimate::text, '?') || ' ' || decision
			FROM guarded_ddl.check('DROP TABLE public.${t}')")"
		info "f: check('DROP TABLE ${t}') says holds_data/row_estimate/decision = ${check}"
		[[ "${check}" == true* ]] || die "f: check() does not see the rows of ${t}"
	done
}

# setup_figure_g: a table of G_ROWS rows whose column payload a soft_drop
# rule keeps, and a recorded backup (the copies of the CREATE TABLE AS
# baseline are dropped for real).
setup_figure_g() {
	q "${PORT_P}" postgres -c 'CREATE DATABASE g_column'
	q "${PORT_P}" g_column -c 'CREATE EXTENSION guarded_ddl' \
		-c "SELECT guarded_ddl.record_backup('bench', 'figure g') IS NOT NULL" \
		-c "INSERT INTO guarded_ddl.policy (schema_name, object_name, column_name, action)
			VALUES ('public', 't', 'payload', 'soft_drop')" \
		-c 'CREATE TABLE public.t (id int PRIMARY KEY, payload text)' \
		-c "INSERT INTO public.t SELECT g, md5(g::text) FROM generate_series(1, ${G_ROWS}) g" \
		-c 'VACUUM ANALYZE public.t' >/dev/null
}

# setup_figure_h: tables big (H_ROWS rows), small and small2 (1 row each)
# that a soft_drop rule keeps when truncated, plain (1 row) that no rule
# names, warm (1 row, a rule too) for the session's first soft TRUNCATE,
# and a recorded backup.  No indexes: each round puts the kept rows
# back by restore(id, new_name), which hands the kept relation over as it
# is.
setup_figure_h() {
	q "${PORT_P}" postgres -c 'CREATE DATABASE h_truncate'
	q "${PORT_P}" h_truncate -c 'CREATE EXTENSION guarded_ddl' \
		-c "SELECT guarded_ddl.record_backup('bench', 'figure h') IS NOT NULL" \
		-c "INSERT INTO guarded_ddl.policy (schema_name, object_name, operation, action)
			SELECT 'public', t, 'truncate', 'soft_drop' FROM unnest(ARRAY['big', 'small', 'small2', 'warm']) AS t" \
		-c 'CREATE TABLE public.big (id int, payload text)' \
		-c "INSERT INTO public.big SELECT g, md5(g::text) FROM generate_series(1, ${H_ROWS}) g" \
		-c "CREATE TABLE public.small AS SELECT 1 AS id, md5('1') AS payload" \
		-c "CREATE TABLE public.small2 AS SELECT 1 AS id, md5('1') AS payload" \
		-c "CREATE TABLE public.plain AS SELECT 1 AS id, md5('1') AS payload" \
		-c 'CREATE TABLE public.warm (id int)' \
		-c 'INSERT INTO public.warm VALUES (1)' \
		-c 'VACUUM ANALYZE' >/dev/null
	info "h: public.big is $(qv "${PORT_P}" h_truncate "SELECT pg_size_pretty(pg_total_relation_size('public.big'))")"
}

# ---------------------------------------------------------------------------
# One round of each figure
# ---------------------------------------------------------------------------

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

# vacuum_databases DB...: VACUUM each database of the preloaded cluster,
# then CHECKPOINT.  The DDL of the figures leaves dead rows in the system
# catalogs, more of them where more transactions ran; vacuumed at the start
# of each round, all variants start alike, and autovacuum seldom has work
# to do in the middle of a measurement.
vacuum_databases() {
	local db
	for db in "$@"; do
		q "${PORT_P}" "${db}" -c 'VACUUM' 2>/dev/null
	done
	q "${PORT_P}" postgres -c CHECKPOINT
}

# a: DDL mix throughput, pgbench, 2 clients.  A_SLICES short runs per
# variant, the variants alternating, so that a burst of load from elsewhere
# falls on all of them; the round's value is the median tps of its runs.
round_figure_a() {
	local round="$1" slice variant
	vacuum_databases a_bare a_bare2 a_guarded a_plpgsql
	for ((slice = 0; slice < A_SLICES; slice++)); do
		for variant in $(rotate $((round + slice)) bare guarded bare2 plpgsql); do
			measured_pgbench "a.${variant}" "${round}" preloaded "${PORT_P}" "a_${variant}" \
				"${LOG_DIR}/a_${variant}_r${round}_s${slice}.log" \
				-c 2 -j 2 -T "${A_SECONDS}" -D "r=$((round * 100 + slice))" -D cnt=0 \
				-f "${SQL_DIR}/ddl_mix.sql"
		done
	done
	info "a r${round}: bare $(round_value a.bare "${round}") tps, bare2 $(round_value a.bare2 "${round}") tps," \
		"guarded $(round_value a.guarded "${round}") tps, plpgsql $(round_value a.plpgsql "${round}") tps"
}

# b/c: B_REPS drops per variant of B_VARIANTS and round, the order rotated
# each time (drop_schema_once); the round's value is their median.
round_figure_b() {
	local round="$1" rep v summary=""
	vacuum_databases b_bare b_bare2 b_guarded b_guarded2 b_plpgsql b_rules
	for ((rep = 0; rep < B_REPS; rep++)); do
		# shellcheck disable=SC2086  # a list of words
		for v in $(rotate $((round + rep)) ${B_VARIANTS}); do
			drop_schema_once "${round}" "${rep}" "${v%%.*}" "${v#*.}"
		done
	done
	for v in ${B_VARIANTS}; do
		summary="${summary}${summary:+, }${v} $(raw "${v}" "${round}" | median)"
	done
	info "b r${round} (ms): ${summary}"
}

# audit_mark DB VARIANT: the highest id in the audit table of the variant's
# guard (0 without one).
audit_mark() {
	case "$2" in
		guarded* | rules) qv "${PORT_P}" "$1" 'SELECT coalesce(max(id), 0) FROM guarded_ddl.audit' ;;
		plpgsql) qv "${PORT_P}" "$1" 'SELECT coalesce(max(id), 0) FROM diy_guard.audit' ;;
		*) echo 0 ;;
	esac
}

# audit_since DB VARIANT MARK: "rows allowed tables-holding-data" of the
# audit rows the variant's guard wrote after MARK (the PL/pgSQL guard does
# not look at rows: its third number is always 0).
audit_since() {
	case "$2" in
		guarded* | rules)
			qv "${PORT_P}" "$1" "SELECT count(*) || ' ' || count(*) FILTER (WHERE decision = 'allowed')
				|| ' ' || count(*) FILTER (WHERE object_type = 'table' AND holds_data)
				FROM guarded_ddl.audit WHERE id > $3"
			;;
		plpgsql)
			qv "${PORT_P}" "$1" "SELECT count(*) || ' ' || count(*) FILTER (WHERE decision = 'allowed') || ' 0'
				FROM diy_guard.audit WHERE id > $3"
			;;
		*) echo "0 0 0" ;;
	esac
}

# drop_schema_once ROUND REP FIGURE VARIANT: create a schema of B_TABLES
# tables (FIGURE b1: empty; b2: one row each; b3: keyed, one row each),
# checkpoint, then time the
# DROP SCHEMA ... CASCADE in a fresh session, as psql's \timing sees it
# (statement and commit), after one warm-up DROP so that every variant
# starts with warm caches (the rules of c are loaded there).  The backend's
# CPU time for the DROP is taken alongside from /proc/PID/sched where the
# kernel has it: it is far less disturbed by other processes' I/O than the
# wall-clock time.
drop_schema_once() {
	local round="$1" rep="$2" fig="$3" variant="$4"
	local db="b_${variant}" key="${fig}.${variant}" out ms cpu mark fill="" expect got
	local columns="id int" audited="${B_TABLES}" with_data=0
	if [[ "${fig}" == b2 ]]; then
		fill="EXECUTE format('INSERT INTO bench_drop.t%s VALUES (1)', i);"
		with_data="${B_TABLES}"
	elif [[ "${fig}" == b3 ]]; then
		columns="id serial PRIMARY KEY, v text NOT NULL DEFAULT ''x'' CHECK (v <> '''')"
		fill="EXECUTE format('INSERT INTO bench_drop.t%s DEFAULT VALUES', i);"
		with_data="${B_TABLES}"
		# the PL/pgSQL guard audits each table's sequence, the default
		# calling it and the check too; guarded_ddl lets a table's intent
		# speak for its parts and the sequence it owns
		[[ "${variant}" == plpgsql ]] && audited=$((4 * B_TABLES))
	fi
	q "${PORT_P}" "${db}" >/dev/null <<-EOF
		DO \$\$
		BEGIN
		    CREATE SCHEMA bench_drop;
		    FOR i IN 1..${B_TABLES} LOOP
		        EXECUTE format('CREATE TABLE bench_drop.t%s (${columns})', i);
		        ${fill}
		    END LOOP;
		END
		\$\$;
		CHECKPOINT;
	EOF
	mark="$(audit_mark "${db}" "${variant}")"
	out="${LOG_DIR}/${fig}_${variant}_r${round}_${rep}.log"
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
		die "${fig}: DROP SCHEMA failed in ${db}"
	fi
	# first the warm-up DROP (the first guarded statement of the session:
	# it loads the policy), then the DROP SCHEMA
	ms="$(psql_time_ms "${out}" | sed -n 2p)"
	[[ -n "${ms}" ]] || die "${fig}: no timing in ${out}"
	# The premise: the guard judged (and audited as allowed) the warm-up
	# table, the schema and every table in it, and saw the rows of b2's
	# and b3's.
	got="$(audit_since "${db}" "${variant}" "${mark}")"
	case "${variant}" in
		bare*) expect="0 0 0" ;;
		plpgsql) expect="$((audited + 2)) $((audited + 2)) 0" ;;
		*) expect="$((audited + 2)) $((audited + 2)) ${with_data}" ;;
	esac
	[[ "${got}" == "${expect}" ]] ||
		die "${fig}: ${db} wrote audit rows/allowed/tables with data ${got}, expected ${expect}"
	record "${key}" "${round}" "${ms}"
	record "${key}.first" "${round}" "$(psql_time_ms "${out}" | sed -n 1p)"
	cpu="$(awk '$1 == "cpu_ms_before" { b = $2 } $1 == "cpu_ms_after" { a = $2 }
		END { if (a != "" && b != "") printf "%.3f\n", a - b }' "${out}")"
	[[ -z "${cpu}" ]] || record "${key}.cpu" "${round}" "${cpu}"
}

# restart_d PRELOAD_X PRELOAD_Y: restart both clusters of figure d, each
# with the library preloaded (yes) or not (no), check that each is what it
# should be, and read the pgbench tables back into shared_buffers.
restart_d() {
	local c want_x="$1" want_y="$2" w port lib got
	for c in d_x d_y; do
		as_test_user pg_ctl -D "${WORK_DIR}/${c}/data" -m fast -w -t 300 stop >/dev/null ||
			die "d: could not stop ${c}"
	done
	for c in d_x d_y; do
		w="${want_x}" port="${PORT_DX}"
		[[ "${c}" == d_y ]] && w="${want_y}" port="${PORT_DY}"
		lib="''"
		[[ "${w}" == yes ]] && lib=guarded_ddl
		as_test_user pg_ctl -D "${WORK_DIR}/${c}/data" -l "${WORK_DIR}/${c}/server.log" \
			-o "-c shared_preload_libraries=${lib}" -w -t 120 start >/dev/null || {
			tail -n 20 "${WORK_DIR}/${c}/server.log" >&2
			die "d: could not start ${c}"
		}
		got="$(qv "${port}" d_bench "SELECT current_setting('shared_preload_libraries') || '/' || guarded_ddl.hook_active()
			|| '/' || (SELECT count(*) FROM pg_extension WHERE extname = 'guarded_ddl')")"
		[[ "${got}" == "$([[ "${w}" == yes ]] && echo guarded_ddl/true/1 || echo /false/1)" ]] ||
			die "d: ${c} should have preload=${w}, but says shared_preload_libraries/hook/extension ${got}"
		q "${port}" d_bench -c "SELECT pg_prewarm('pgbench_accounts'), pg_prewarm('pgbench_accounts_pkey'),
			pg_prewarm('pgbench_branches'), pg_prewarm('pgbench_tellers'), pg_prewarm('pgbench_history')" >/dev/null
	done
}

# d_phase ROUND LABEL_X LABEL_Y: pgbench -S (d1) and -N (d2), 2 clients,
# D_SLICES short runs per cluster and mode, alternating between the
# clusters; records d1.LABEL and d2.LABEL.
d_phase() {
	local round="$1" label_x="$2" label_y="$3" slice mode c label port fig
	for ((slice = 0; slice < D_SLICES; slice++)); do
		for mode in $(rotate $((round + slice)) S N); do
			fig=d1
			[[ "${mode}" == N ]] && fig=d2
			for c in $(rotate $((round + slice)) x y); do
				label="${label_x}" port="${PORT_DX}"
				[[ "${c}" == y ]] && label="${label_y}" port="${PORT_DY}"
				measured_pgbench "${fig}.${label}" "${round}" "d_${c}" "${port}" d_bench \
					"${LOG_DIR}/${fig}_${label}_r${round}_s${slice}.log" \
					"-${mode}" -c 2 -j 2 -T "${D_SECONDS}"
			done
		done
	done
}

# d: per round, first the two clusters one preloaded and one not (d_x
# preloaded in odd rounds, d_y in even ones), then both with the same
# setting (both preloaded in odd rounds, neither in even ones) for the A/A
# figure: d_x/d_y.  The warm-up round has the first phase only.
round_figure_d() {
	local round="$1" same=no
	if ((round == 0)); then
		restart_d yes no
		d_phase 0 pre plain
		return
	fi
	if ((round % 2)); then
		restart_d yes no
		d_phase "${round}" pre plain
		D_PRELOADED+=("x")
		same=yes
	else
		restart_d no yes
		d_phase "${round}" plain pre
		D_PRELOADED+=("y")
	fi
	restart_d "${same}" "${same}"
	d_phase "${round}" aax aay
	info "d r${round}: -S preloaded $(round_value d1.pre "${round}") tps, plain $(round_value d1.plain "${round}") tps," \
		"A/A (both preload=${same}) $(round_value d1.aax "${round}")/$(round_value d1.aay "${round}");" \
		"-N preloaded $(round_value d2.pre "${round}") tps, plain $(round_value d2.plain "${round}") tps," \
		"A/A $(round_value d2.aax "${round}")/$(round_value d2.aay "${round}")"
}

# e_refusals ROUND KEY PORT DB: E_ATTEMPTS refused DROPs of a table with a
# row in one session (ZG002), each timed by psql as the client sees it, and
# the same number of committed denial rows (given a few seconds to land).
e_refusals() {
	local round="$1" key="$2" port="$3" db="$4" out before after n i ms
	before="$(qv "${port}" "${db}" 'SELECT count(*) FROM guarded_ddl.denials')"
	out="${LOG_DIR}/${key}_r${round}.log"
	{
		printf '%s\n' '\set VERBOSITY verbose'
		printf '%s\n' '\timing on'
		for ((i = 0; i < E_ATTEMPTS; i++)); do
			echo 'DROP TABLE bench_e.victim;'
		done
	} | as_test_user psql -X -q -h "${SOCK_DIR}" -p "${port}" -U postgres \
		-d "${db}" >"${out}" 2>"${out}.err" || true
	n="$(grep -c 'ERROR:  ZG002' "${out}.err" || true)"
	[[ "${n}" -eq "${E_ATTEMPTS}" ]] ||
		die "${key}: ${n} of ${E_ATTEMPTS} DROPs were refused with ZG002 (see ${out}.err)"
	for ((i = 0; i < 50; i++)); do
		after="$(qv "${port}" "${db}" 'SELECT count(*) FROM guarded_ddl.denials')"
		[[ $((after - before)) -ge "${E_ATTEMPTS}" ]] && break
		sleep 0.1
	done
	[[ $((after - before)) -eq "${E_ATTEMPTS}" ]] ||
		die "${key}: $((after - before)) denial rows committed for ${E_ATTEMPTS} refusals"
	while IFS= read -r ms; do
		record "${key}" "${round}" "${ms}"
	done < <(psql_time_ms "${out}")
	[[ "$(raw "${key}" "${round}" | wc -l)" -eq "${E_ATTEMPTS}" ]] ||
		die "${key}: missing timings in ${out}"
}

# e_allowed ROUND KEY PORT DB: for context, as many allowed DROPs of empty
# tables, each timed.
e_allowed() {
	local round="$1" key="$2" port="$3" db="$4" out i ms
	out="${LOG_DIR}/${key}_r${round}.log"
	{
		for ((i = 0; i < E_ATTEMPTS; i++)); do
			echo "CREATE TABLE bench_e.empty_${round}_${i} (id int);"
			printf '%s\n' '\timing on'
			echo "DROP TABLE bench_e.empty_${round}_${i};"
			printf '%s\n' '\timing off'
		done
	} | q "${port}" "${db}" >"${out}" 2>"${out}.err" || {
		cat "${out}.err" >&2
		die "${key}: an allowed DROP of an empty table failed"
	}
	while IFS= read -r ms; do
		record "${key}" "${round}" "${ms}"
	done < <(psql_time_ms "${out}")
}

# e: refused DROPs without preload (e1: the plain cluster) and with it (e2),
# each also in a second identical database (A/A), then the allowed DROPs.
round_figure_e() {
	local round="$1" v
	for v in $(rotate "${round}" e1 e1.aa e2 e2.aa); do
		case "${v}" in
			e1) e_refusals "${round}" e1.refused "${PORT_N}" e_denials ;;
			e1.aa) e_refusals "${round}" e1.aa "${PORT_N}" e_denials2 ;;
			e2) e_refusals "${round}" e2.refused "${PORT_P}" e_denials ;;
			e2.aa) e_refusals "${round}" e2.aa "${PORT_P}" e_denials2 ;;
		esac
	done
	# Both databases of each pair get the same history.
	e_allowed "${round}" e1.allowed "${PORT_N}" e_denials
	e_allowed "${round}" e1.allowed2 "${PORT_N}" e_denials2
	e_allowed "${round}" e2.allowed "${PORT_P}" e_denials
	e_allowed "${round}" e2.allowed2 "${PORT_P}" e_denials2
	info "e r${round}: refused median without preload $(raw e1.refused "${round}" | median) ms" \
		"(A/A $(raw e1.aa "${round}" | median) ms), preloaded $(raw e2.refused "${round}" | median) ms" \
		"(A/A $(raw e2.aa "${round}" | median) ms); allowed $(raw e1.allowed "${round}" | median) /" \
		"$(raw e2.allowed "${round}" | median) ms"
}

# f: check('DROP TABLE big') vs check('DROP TABLE small') (and small2, the
# A/A), pgbench with one client, every call logged; the round's value is
# the median call in us.
round_figure_f() {
	local round="$1" table out us
	for table in $(rotate "${round}" big small small2); do
		out="${LOG_DIR}/f_${table}_r${round}"
		if ! pgb "${PORT_P}" f_probe -n -c 1 -T "${F_SECONDS}" -f "${SQL_DIR}/f_${table}.sql" \
			-l --log-prefix="${out}" >"${out}.log" 2>&1; then
			cat "${out}.log" >&2
			die "f: pgbench failed for ${table}"
		fi
		us="$(cat "${out}".[0-9]* | awk '{ print $3 }' | median)"
		[[ -n "${us}" ]] || die "f: no transaction log for ${table}"
		record "f.${table}" "${round}" "${us}"
	done
	info "f r${round}: median call big $(raw f.big "${round}") us, small $(raw f.small "${round}") us," \
		"small2 $(raw f.small2 "${round}") us"
}

# g: in one session, CREATE TABLE AS of key and column twice (the floor of
# a copy, and its A/A), then ALTER TABLE ... DROP COLUMN payload into the
# recycle bin and restore() of it; VACUUM afterwards, untimed (the restore
# updates every row).
round_figure_g() {
	local round="$1" out ms
	out="${LOG_DIR}/g_r${round}"
	q "${PORT_P}" g_column >"${out}" 2>&1 <<-'SQL' || { cat "${out}" >&2; die "g: the round failed"; }
		\timing on
		CREATE TABLE public.copy1 AS SELECT id, payload FROM public.t;
		CREATE TABLE public.copy2 AS SELECT id, payload FROM public.t;
		ALTER TABLE public.t DROP COLUMN payload;
		SELECT guarded_ddl.restore(max(id)) FROM guarded_ddl.trash WHERE column_name = 'payload';
		\timing off
		DROP TABLE public.copy1;
		DROP TABLE public.copy2;
		VACUUM ANALYZE public.t;
	SQL
	mapfile -t ms < <(psql_time_ms "${out}")
	[[ "${#ms[@]}" -ge 4 ]] || die "g: no timing in ${out}"
	record g.ctas "${round}" "${ms[0]}"
	record g.ctas2 "${round}" "${ms[1]}"
	record g.drop "${round}" "${ms[2]}"
	record g.restore "${round}" "${ms[3]}"
	info "g r${round} (ms): copy ${ms[0]} / ${ms[1]}, soft DROP COLUMN ${ms[2]}, restore ${ms[3]}"
}

# h: in one session, TRUNCATE of big, small, small2 into the recycle bin
# and a plain TRUNCATE of plain (no rule: the guard allows it with the
# backup), in an order rotated from round to round; only the TRUNCATEs are
# timed.  Between them, untimed: the kept rows come back as a table of
# their own (restore(id, new_name)), which takes the truncated table's
# place, so every round truncates the same rows.
round_figure_h() {
	local round="$1" out ms t i
	local -a order=(big small small2 plain)
	out="${LOG_DIR}/h_r${round}"
	for ((i = 0; i < round % 4; i++)); do
		order=("${order[@]:1}" "${order[0]}")
	done
	{
		# the session's first soft TRUNCATE loads the policy and plans the
		# bin's queries: untimed
		printf 'TRUNCATE public.warm;\nINSERT INTO public.warm VALUES (1);\n'
		for t in "${order[@]}"; do
			printf '\\timing on\nTRUNCATE public.%s;\n\\timing off\n' "${t}"
			if [[ "${t}" == plain ]]; then
				printf "INSERT INTO public.plain VALUES (1, md5('1'));\n"
			else
				printf "SELECT guarded_ddl.restore(max(id), '%s_back') FROM guarded_ddl.trash WHERE original_name = '%s';\n" "${t}" "${t}"
				printf 'DROP TABLE public.%s;\nALTER TABLE public.%s_back RENAME TO %s;\n' "${t}" "${t}" "${t}"
			fi
		done
	} | q "${PORT_P}" h_truncate >"${out}" 2>&1 || { cat "${out}" >&2; die "h: the round failed"; }
	mapfile -t ms < <(psql_time_ms "${out}")
	[[ "${#ms[@]}" -eq 4 ]] || die "h: expected 4 timings in ${out}"
	for i in 0 1 2 3; do
		record "h.${order[i]}" "${round}" "${ms[i]}"
	done
	info "h r${round} (ms): soft TRUNCATE big $(raw h.big "${round}"), small $(raw h.small "${round}")," \
		"small2 $(raw h.small2 "${round}"); plain TRUNCATE $(raw h.plain "${round}")"
}

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

# f3 NUMBER: three decimals, or ? for nothing.
f3() {
	if [[ -n "${1:-}" ]]; then printf '%.3f' "$1"; else printf '?'; fi
}

# per_round_pair OP AKEY BKEY: one value per round that has both, a OP b
# with OP / (ratio) or - (difference).
per_round_pair() {
	local r a b
	for ((r = 1; r <= ROUNDS; r++)); do
		a="$(round_value "$2" "${r}")"
		b="$(round_value "$3" "${r}")"
		[[ -n "${a}" && -n "${b}" ]] || continue
		awk -v a="${a}" -v b="${b}" -v op="$1" \
			'BEGIN { printf "%.4f\n", op == "/" ? a / b : a - b }'
	done
}

# per_round_ratios NUMKEY DENKEY: one ratio per round that has both.
per_round_ratios() {
	per_round_pair / "$1" "$2"
}

# per_round_diffs NUMKEY SUBKEY: one difference per round that has both.
per_round_diffs() {
	per_round_pair - "$1" "$2"
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
	printf '%-24s' "${label}"
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

# aa NUMKEY DENKEY: the A/A figure, "median (IQR)" of the per-round ratios
# of two identical variants.
aa() {
	local q1 med q3 lo hi
	read -r q1 med q3 lo hi < <(per_round_ratios "$1" "$2" | quartiles) || true
	if [[ -z "${med:-}" ]]; then echo '?'; return; fi
	awk -v m="${med}" -v a="${q1}" -v b="${q3}" 'BEGIN { printf "%.3f (%.3f)", m, b - a }'
}

# figure_line ID DESCRIPTION UNIT DIRECTION TARGET AA RAWTEXT < per-round values
# The figure is the median of the per-round values; the spread is their
# interquartile range (robust against one disturbed round), the full range
# is shown too.  TARGET "-" reports without a verdict.
figure_line() {
	local id="$1" desc="$2" unit="$3" dir="$4" target="$5" aatext="$6" rawtext="$7"
	local q1 med q3 lo hi iqr rel result="info" tgt="-"
	read -r q1 med q3 lo hi < <(quartiles) || true
	if [[ -z "${med:-}" ]]; then
		printf '%-6s %-60s %s\n' "${id}" "${desc}" "ERROR: no measurement"
		BENCH_FAILED=1
		return
	fi
	iqr="$(awk -v a="${q1}" -v b="${q3}" 'BEGIN { printf "%.3f", b - a }')"
	rel="$(awk -v s="${iqr}" -v m="${med}" 'BEGIN { printf "%.1f%%", (m != 0 ? 100 * s / m : 0) }')"
	if [[ "${target}" != - ]]; then
		result="$(verdict "${med}" "${iqr}" "${dir}" "${target}")"
		tgt="${dir} ${target}"
	fi
	[[ "${result}" == FAIL ]] && BENCH_FAILED=1
	# shellcheck disable=SC2059  # one format for the header and the rows
	printf "${ROW_FORMAT}" "${id}" "${desc}" "$(printf '%.3f%s' "${med}" "${unit}")" \
		"${iqr} (${rel})" "$(printf '%.3f-%.3f' "${lo}" "${hi}")" "${aatext}" "${tgt}" "${result}" "${rawtext}"
}

# fig, description, measured, IQR, range, A/A, target, result | raw medians
ROW_FORMAT='%-6s %-60s %9s  %-15s %-13s  %-15s %-8s %-5s | %s\n'

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

# report_b FIG KIND TARGET: the two lines of figure b1, b2 or b3; TARGET
# for guarded/bare ("-" for none: b3 is there to be looked at).
report_b() {
	local fig="$1" kind="$2" target="$3" goal=" (goal 1.05)"
	[[ "${target}" == - ]] && goal=""
	figure_line "${fig}" "DROP SCHEMA CASCADE, ${B_TABLES} ${kind} tables, guarded/bare${goal}" x '<=' "${target}" \
		"$(aa "${fig}.bare2" "${fig}.bare")" \
		"bare $(m "${fig}.bare") ms, guarded $(m "${fig}.guarded") ms, plpgsql $(m "${fig}.plpgsql") ms; plpgsql/bare $(f3 "$(per_round_ratios "${fig}.plpgsql" "${fig}.bare" | median)")$(cpu_note guarded/bare "${fig}.guarded.cpu" "${fig}.bare.cpu" plpgsql/bare "${fig}.plpgsql.cpu" "${fig}.bare.cpu" 'A/A' "${fig}.bare2.cpu" "${fig}.bare.cpu")" \
		< <(per_round_ratios "${fig}.guarded" "${fig}.bare")
	figure_line "${fig}.pl" "the same, guarded/PL/pgSQL guard" x '<=' "${TARGET_BPL}" \
		"$(aa "${fig}.bare2" "${fig}.bare")" \
		"$(cpu_note guarded/plpgsql "${fig}.guarded.cpu" "${fig}.plpgsql.cpu" | sed 's/^; //')" \
		< <(per_round_ratios "${fig}.guarded" "${fig}.plpgsql")
}

report() {
	local r key
	echo
	echo "== results: median of the per-round values; spread = their interquartile range (IQR), also relative to the median, and their full range;"
	echo "   A/A = the same ratio between two identical variants (median, IQR in brackets): what noise alone makes of it"
	# shellcheck disable=SC2059
	printf "${ROW_FORMAT}" fig description measured "IQR (relative)" range "A/A (IQR)" target result "raw medians"
	if want a; then
		figure_line a "DDL mix throughput, guarded/bare (pgbench, 2 clients)" x '>=' "${TARGET_A}" \
			"$(aa a.bare2 a.bare)" \
			"bare $(m a.bare) tps, guarded $(m a.guarded) tps, plpgsql $(m a.plpgsql) tps; plpgsql/bare $(f3 "$(per_round_ratios a.plpgsql a.bare | median)")$(cpu_note guarded/bare a.guarded.cpu a.bare.cpu plpgsql/bare a.plpgsql.cpu a.bare.cpu 'A/A' a.bare2.cpu a.bare.cpu) per transaction" \
			< <(per_round_ratios a.guarded a.bare)
	fi
	if want b; then
		report_b b1 empty "${TARGET_B}"
		report_b b2 one-row "${TARGET_B}"
		report_b b3 "keyed one-row" -
	fi
	if want c; then
		figure_line c "b2 with ${C_RULES} rules on other objects, with/without" x '<=' "${TARGET_C}" \
			"$(aa b2.guarded2 b2.guarded)" \
			"with rules $(m b2.rules) ms, without $(m b2.guarded) ms; with rules/bare $(f3 "$(per_round_ratios b2.rules b2.bare | median)")$(cpu_note '(c)/(b2)' b2.rules.cpu b2.guarded.cpu 'A/A' b2.guarded2.cpu b2.guarded.cpu); first DROP of a session (loads the policy): $(m b2.rules.first) ms with the rules, $(m b2.guarded.first) ms without, $(m b2.bare.first) ms bare" \
			< <(per_round_ratios b2.rules b2.guarded)
	fi
	if want d; then
		figure_line d1 "pgbench -S scale ${D_SCALE}, preloaded/plain (clusters swapped)" x '>=' "${TARGET_D}" \
			"$(aa d1.aax d1.aay)" \
			"preloaded $(m d1.pre) tps, plain $(m d1.plain) tps$(cpu_note preloaded/plain d1.pre.cpu d1.plain.cpu) per transaction" \
			< <(per_round_ratios d1.pre d1.plain)
		figure_line d2 "pgbench -N scale ${D_SCALE}, preloaded/plain (clusters swapped)" x '>=' "${TARGET_D}" \
			"$(aa d2.aax d2.aay)" \
			"preloaded $(m d2.pre) tps, plain $(m d2.plain) tps$(cpu_note preloaded/plain d2.pre.cpu d2.plain.cpu) per transaction" \
			< <(per_round_ratios d2.pre d2.plain)
	fi
	if want e; then
		figure_line e1 "refused DROP incl. durable denial row, no preload" ms '<=' "${TARGET_E}" \
			"$(aa e1.aa e1.refused)" \
			"median of all $(raw e1.refused | wc -l) refused $(f3 "$(raw e1.refused | median)") ms; allowed DROP of an empty table $(f3 "$(raw e1.allowed | median)") ms" \
			< <(per_round_medians e1.refused)
		figure_line e2 "the same, library preloaded" ms '<=' "${TARGET_E2}" \
			"$(aa e2.aa e2.refused)" \
			"median of all $(raw e2.refused | wc -l) refused $(f3 "$(raw e2.refused | median)") ms; allowed DROP of an empty table $(f3 "$(raw e2.allowed | median)") ms" \
			< <(per_round_medians e2.refused)
	fi
	if want f; then
		figure_line f "check('DROP TABLE big') ${F_ROWS} rows vs 1 row" x '<=' "${TARGET_F}" \
			"$(aa f.small2 f.small)" \
			"big $(m f.big '%.0f') us, small $(m f.small '%.0f') us per call" \
			< <(per_round_ratios f.big f.small)
	fi
	if want g; then
		figure_line g1 "soft DROP COLUMN (${G_ROWS} rows) vs CREATE TABLE AS key, column" x '<=' "${TARGET_G1}" \
			"$(aa g.ctas2 g.ctas)" \
			"drop $(m g.drop '%.0f') ms, copy $(m g.ctas '%.0f') ms" \
			< <(per_round_ratios g.drop g.ctas)
		figure_line g2 "restore() of that column vs the same copy" x '<=' "${TARGET_G2}" \
			"$(aa g.ctas2 g.ctas)" \
			"restore $(m g.restore '%.0f') ms" \
			< <(per_round_ratios g.restore g.ctas)
	fi
	if want h; then
		figure_line h1 "soft TRUNCATE ${H_ROWS} rows vs 1 row (no row copied)" x '<=' "${TARGET_H}" \
			"$(aa h.small2 h.small)" \
			"big $(m h.big '%.1f') ms, small $(m h.small '%.1f') ms" \
			< <(per_round_ratios h.big h.small)
		figure_line h2 "soft TRUNCATE of 1 row minus a plain TRUNCATE of 1 row" ms - - \
			"-" "plain TRUNCATE $(m h.plain '%.1f') ms" \
			< <(per_round_diffs h.small h.plain)
	fi
	echo "PASS = target met; PASS~ = target missed by no more than the run-to-run spread (IQR): noise; FAIL = missed by more; info = no target."

	echo
	echo "== per round (in the order measured)"
	if want a; then
		per_round_row "a guarded/bare" per_round_ratios a.guarded a.bare
		per_round_row "a plpgsql/bare" per_round_ratios a.plpgsql a.bare
		per_round_row "a A/A bare2/bare" per_round_ratios a.bare2 a.bare
		per_round_row "a CPU guarded/bare" per_round_ratios a.guarded.cpu a.bare.cpu
		per_round_row "a CPU plpgsql/bare" per_round_ratios a.plpgsql.cpu a.bare.cpu
	fi
	if want b; then
		for key in b1 b2 b3; do
			per_round_row "${key} guarded/bare" per_round_ratios "${key}.guarded" "${key}.bare"
			per_round_row "${key} plpgsql/bare" per_round_ratios "${key}.plpgsql" "${key}.bare"
			per_round_row "${key} A/A bare2/bare" per_round_ratios "${key}.bare2" "${key}.bare"
			per_round_row "${key} CPU guarded/bare" per_round_ratios "${key}.guarded.cpu" "${key}.bare.cpu"
			per_round_row "${key} CPU plpgsql/bare" per_round_ratios "${key}.plpgsql.cpu" "${key}.bare.cpu"
		done
	fi
	if want c; then
		per_round_row "c rules/guarded" per_round_ratios b2.rules b2.guarded
		per_round_row "c A/A guarded2/guarded" per_round_ratios b2.guarded2 b2.guarded
		per_round_row "c CPU rules/guarded" per_round_ratios b2.rules.cpu b2.guarded.cpu
	fi
	if want d; then
		echo "d preloaded cluster      ${D_PRELOADED[*]}"
		per_round_row "d1 preloaded/plain" per_round_ratios d1.pre d1.plain
		per_round_row "d1 A/A x/y" per_round_ratios d1.aax d1.aay
		per_round_row "d1 CPU preloaded/plain" per_round_ratios d1.pre.cpu d1.plain.cpu
		per_round_row "d2 preloaded/plain" per_round_ratios d2.pre d2.plain
		per_round_row "d2 A/A x/y" per_round_ratios d2.aax d2.aay
		per_round_row "d2 CPU preloaded/plain" per_round_ratios d2.pre.cpu d2.plain.cpu
	fi
	if want e; then
		per_round_row "e1 refused ms" per_round_medians e1.refused
		per_round_row "e1 A/A ms" per_round_medians e1.aa
		per_round_row "e1 allowed ms" per_round_medians e1.allowed
		per_round_row "e2 refused ms" per_round_medians e2.refused
		per_round_row "e2 A/A ms" per_round_medians e2.aa
		per_round_row "e2 allowed ms" per_round_medians e2.allowed
	fi
	if want f; then
		per_round_row "f big/small" per_round_ratios f.big f.small
		per_round_row "f A/A small2/small" per_round_ratios f.small2 f.small
	fi
	if want g; then
		per_round_row "g1 drop/copy" per_round_ratios g.drop g.ctas
		per_round_row "g2 restore/copy" per_round_ratios g.restore g.ctas
		per_round_row "g A/A copy2/copy" per_round_ratios g.ctas2 g.ctas
	fi
	if want h; then
		per_round_row "h1 big/small" per_round_ratios h.big h.small
		per_round_row "h A/A small2/small" per_round_ratios h.small2 h.small
		per_round_row "h2 small-plain ms" per_round_diffs h.small h.plain
	fi
	echo
	echo "== raw values per round (a, d: median tps of the round's runs, .cpu: backend CPU ms per transaction;"
	echo "   b: median ms of its drops, .cpu: their backend CPU ms, .first: ms of the session's first DROP (an empty table);"
	echo "   f: median us per call)"
	while IFS= read -r key; do
		printf '%-20s' "${key}"
		for ((r = 1; r <= ROUNDS; r++)); do
			printf ' %10s' "$(round_value "${key}" "${r}")"
		done
		echo
	done < <(awk -F '\t' '$2 > 0 && $1 !~ /^(e[12]\.|machine\.|time\.)/ && !seen[$1]++ { print $1 }' "${RESULTS}")
}

# print_machine_end: the machine line again, with what the machine did
# meanwhile.
print_machine_end() {
	local loads others
	loads="$(raw machine.load | quartiles | awk '{ printf "%.2f-%.2f, median %.2f", $4, $5, $2 }')"
	others="$(raw machine.others | quartiles | awk '{ printf "%d-%d", $4, $5 }')"
	echo
	machine_line
	echo "during run: load average ${loads:-?} at the rounds' starts (this run adds 2-3), ${others:-?} other PostgreSQL servers running;" \
		"load average $(cut -d ' ' -f 1-3 /proc/loadavg) at the end$([[ -r /proc/pressure/cpu ]] && echo "; CPU pressure $(awk '/^some/ { print $3 }' /proc/pressure/cpu)")"
	if [[ -n "${others}" && "${others##*-}" -gt 0 ]]; then
		echo "            the machine was shared: other test runs competed for its CPUs and disk during this run"
	fi
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

# timed_round ROUND FIGURE: one round of one figure, its seconds recorded.
timed_round() {
	local t0=${SECONDS}
	"round_figure_$2" "$1"
	record "time.$2" "$1" $((SECONDS - t0))
}

main() {
	local started round fig
	started="$(date +%s)"
	# What a fresh machine lacks: the server, its headers and a compiler
	# for the private build, valgrind for figure p.
	local pkgs=(build-essential gcc make "postgresql-${PG_MAJOR}" "postgresql-server-dev-${PG_MAJOR}")
	want p && pkgs+=(valgrind)
	install_packages "${pkgs[@]}" || die "could not install the packages the benchmark needs"
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
	info "starting the preloaded cluster on port ${PORT_P}"
	start_bench_cluster preloaded "${PORT_P}" yes || die "could not start the preloaded cluster"
	if want e; then
		free_port
		PORT_N="${FREE_PORT}"
		info "starting the cluster without preload (figure e1) on port ${PORT_N}"
		start_bench_cluster plain "${PORT_N}" no || die "could not start the plain cluster"
	fi
	if want d; then
		# Figure d has two clusters of its own, idle but for it: in the
		# first one, the autovacuum work the other figures' DDL leaves
		# behind would be counted against the preload.
		free_port
		PORT_DX="${FREE_PORT}"
		free_port
		PORT_DY="${FREE_PORT}"
		info "starting the clusters of figure d on ports ${PORT_DX} (x) and ${PORT_DY} (y)"
		start_bench_cluster d_x "${PORT_DX}" no || die "could not start cluster x of figure d"
		start_bench_cluster d_y "${PORT_DY}" no || die "could not start cluster y of figure d"
	fi

	print_header
	for fig in a b d e f g h; do
		if want "${fig}"; then
			info "setting up figure ${fig}"
			"setup_figure_${fig}"
		fi
	done
	q "${PORT_P}" postgres -c CHECKPOINT
	[[ -z "${PORT_N}" ]] || q "${PORT_N}" postgres -c CHECKPOINT

	# Round 0 warms every database, cache and code path up; it is shorter
	# and its measurements are thrown away.
	info "warm-up round"
	(
		A_SLICES=1 A_SECONDS=1 B_TABLES=100 B_REPS=1 D_SLICES=1 D_SECONDS=1 E_ATTEMPTS=2 F_SECONDS=1
		for fig in a b d e f g h; do
			if want "${fig}"; then "round_figure_${fig}" 0; fi
		done
	)
	for ((round = 1; round <= ROUNDS; round++)); do
		info "round ${round} of ${ROUNDS}"
		sample_machine "${round}"
		for fig in a b d e f g h; do
			if want "${fig}"; then timed_round "${round}" "${fig}"; fi
		done
	done

	[[ "${ONLY}" =~ [a-h] ]] && report
	if want p; then
		# Last, so that valgrind's load does not fall on the timed rounds.
		stop_servers_under "${WORK_DIR}"
		profile_figure
	fi
	print_machine_end
	echo
	echo "seconds per round: $(for fig in a b d e f g h; do
		want "${fig}" && printf '%s %s  ' "${fig}" "$(raw "time.${fig}" | median)"
	done)"
	echo "total time $(($(date +%s) - started)) s; logs in ${WORK_DIR}/logs$([[ "${GUARDED_DDL_KEEP_TMP:-0}" == 1 ]] && echo ' (kept)' || echo ' (removed; --keep keeps them)')"
	if [[ "${BENCH_FAILED}" -ne 0 ]]; then
		echo "result: FAIL (a target missed by more than the measured spread, or a measurement not taken)"
		return 1
	fi
	echo "result: PASS"
}

main
