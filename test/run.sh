#!/usr/bin/env bash
# test/run.sh -- build, install and test guarded_ddl against one PostgreSQL
# major: the machine's (the newest installed, or the distribution's default
# on a fresh machine), or PG_MAJOR=NN.  test/all-majors.sh runs this same
# script on every major Debian ships; this one is the quick everyday run.
#
# Usage:  test/run.sh [SUITE...]        (as root, or through sudo)
#   SUITE is any of: layout regress isolation tap pgtap package   (default: all)
#
# What it does, in order:
#   1. apt-get installs whatever Debian package is missing (lib/common.sh);
#   2. copies the repository (without .git) into a fresh temporary directory
#      owned by an unprivileged OS user, builds there (-Werror) and installs
#      into the system PostgreSQL of that major as root;
#   3. runs the suites as that user -- PostgreSQL refuses to run as root --
#      each on its own throw-away cluster and free port:
#        layout             test/layout_check.pl: no include circle in src/,
#                           no file over the size limit, every function
#                           with a comment
#        regress/plain      pg_regress, tests of test/regress_schedule, no preload
#        regress/preloaded  the same with shared_preload_libraries = guarded_ddl
#        isolation          pg_isolation_regress, test/isolation/specs/*.spec (preloaded)
#        tap                prove, test/t/*.pl (PostgreSQL::Test::Cluster)
#        pgtap              pg_prove, test/pgtap/*.sql (preloaded cluster)
#        package            dpkg-buildpackage, dpkg -i, smoke test of the
#                           installed files, dpkg -r (last: it reinstalls the
#                           harness's own build afterwards)
#   4. prints one line per test, then `N passed, N failed` as the last line,
#      and exits non-zero if anything failed or a suite could not run.
#
# Test lists:
#   test/regress_schedule      pg_regress tests, one name per line (sql/NAME.sql,
#                              expected/NAME.out); `#` starts a comment
#   test/regress_preload_only  names run only in the preloaded pass
#   test/regress_plain_only    names run only in the plain pass
#   expected/NAME_preload.out  expected output for the preloaded pass only (it
#                              replaces expected/NAME.out in that pass)
#   expected/NAME_1.out ...    pg_regress's own alternative outputs: accepted
#                              in either pass
#
# Environment:
#   GUARDED_DDL_KEEP_TMP=1     keep the temporary directory for a post-mortem
#   GUARDED_DDL_TMPDIR=DIR     where to create it (default /tmp)
#   GUARDED_DDL_TAP_ONLY=GLOB  run only the TAP files whose name matches
#
# `make check` is never used: under PGXS it tests nothing and exits 0.

set -euo pipefail
# Let errexit reach into $(...) too.
shopt -s inherit_errexit

# shellcheck source=test/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=test/lib/package.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/package.sh"

ALL_SUITES=(layout regress isolation tap pgtap package)

# Set in main.
COPY_DIR=""
RESULTS_FILE=""
CONF_PLAIN=""
CONF_PRELOADED=""

# ---------------------------------------------------------------------------
# Results
#
# Suites run in subshells (see run_suite), so results go to a file rather
# than to shell variables: one line per test, "SUITE<TAB>NAME<TAB>ok|FAILED".
# ---------------------------------------------------------------------------

# record_test SUITE NAME STATUS [NOTE]: count one test and say so.
record_test() {
	local suite="$1" name="$2" status="$3" note="${4:-}"
	printf '%s\t%s\t%s\n' "${suite}" "${name}" "${status}" >>"${RESULTS_FILE}"
	if [[ "${status}" == ok ]]; then
		printf '  ok      %s/%s\n' "${suite}" "${name}"
	else
		printf '  FAILED  %s/%s%s\n' "${suite}" "${name}" "${note:+  (${note})}"
	fi
}

# count_results [SUITE] STATUS: how many tests (of SUITE) have STATUS.
count_results() {
	local suite="" status
	if [[ $# -eq 2 ]]; then suite="$1"; shift; fi
	status="$1"
	[[ -f "${RESULTS_FILE}" ]] || { echo 0; return 0; }
	awk -F '\t' -v suite="${suite}" -v status="${status}" \
		'(suite == "" || $1 == suite) && $3 == status { n++ } END { print n + 0 }' \
		"${RESULTS_FILE}"
}

# suite_header TITLE: make each suite easy to find in a long CI log.
suite_header() {
	printf '\n%s\n== %s\n%s\n' \
		"========================================================================" \
		"$1" \
		"========================================================================"
}

# print_summary: one line per suite, then the totals line that CI reads.  The
# per-suite lines deliberately do not have the "N passed, N failed" shape,
# so the last line is the only one of that form.
print_summary() {
	local passed failed suite
	suite_header "summary"
	if [[ -n "${RESULTS_FILE}" && -f "${RESULTS_FILE}" ]]; then
		while IFS= read -r suite; do
			printf '  %-20s passed %3d   failed %3d\n' "${suite}" \
				"$(count_results "${suite}" ok)" "$(count_results "${suite}" FAILED)"
		done < <(cut -f 1 "${RESULTS_FILE}" | awk '!seen[$0]++')
	fi
	passed="$(count_results ok)"
	failed="$(count_results FAILED)"
	echo
	echo "${passed} passed, ${failed} failed"
	[[ "${failed}" -eq 0 ]]
}

# setup_failed STEP: nothing can be tested; still end with the totals line
# so CI sees a failure rather than a run that tested nothing.
setup_failed() {
	echo "error: setup step failed: $1" >&2
	if [[ -n "${RESULTS_FILE}" && -d "$(dirname "${RESULTS_FILE}")" ]]; then
		record_test setup "$1" FAILED
		print_summary || true
	else
		echo
		echo "0 passed, 1 failed"
	fi
	exit 1
}

# ---------------------------------------------------------------------------
# Test lists
# ---------------------------------------------------------------------------

# read_names FILE: the names in FILE, comments and blank lines dropped.
# Whitespace-separated like the Makefile's `REGRESS = $(shell cat ...)`.
read_names() {
	[[ -f "$1" ]] || return 0
	sed -e 's/#.*//' "$1" | tr -s '[:blank:]' '\n' | sed -e '/^$/d'
}

# regress_tests_for_pass plain|preloaded: the schedule minus the names
# reserved for the other pass.
regress_tests_for_pass() {
	local skip_file
	case "$1" in
	plain) skip_file="${COPY_DIR}/test/regress_preload_only" ;;
	preloaded) skip_file="${COPY_DIR}/test/regress_plain_only" ;;
	esac
	# (FILENAME, not NR == FNR: the skip list is often empty.)
	awk 'FILENAME == ARGV[1] { skip[$0] = 1; next } !($0 in skip)' \
		<(read_names "${skip_file}") \
		<(read_names "${COPY_DIR}/test/regress_schedule")
}

# ---------------------------------------------------------------------------
# pg_regress and pg_isolation_regress
# ---------------------------------------------------------------------------

# parse_regress_log LOG: "NAME STATUS" for every per-test line of a
# pg_regress-family log.  PG 15 prints `test NAME ... ok   12 ms` (or an
# indented `     NAME ... FAILED` inside a parallel group); PG 16+ prints
# TAP-like `ok 1 - NAME   12 ms` / `not ok 1 - NAME`.
parse_regress_log() {
	sed -nE \
		-e 's/^(test[[:space:]]+|[[:space:]]+)([^[:space:]]+)[[:space:]]+\.\.\.[[:space:]]+(ok|FAILED|failed \(ignored\)).*$/\2 \3/p' \
		-e 's/^ok[[:space:]]+[0-9]+[[:space:]]+[-+][[:space:]]+([^[:space:]]+).*$/\1 ok/p' \
		-e 's/^not ok[[:space:]]+[0-9]+[[:space:]]+[-+][[:space:]]+([^[:space:]]+).*$/\1 FAILED/p' \
		"$1"
}

# run_regress_driver SUITE DRIVER INPUTDIR OUTDIR CONF DBNAME NAME...:
# run pg_regress or pg_isolation_regress on a temporary instance and
# record each NAME from the driver's log.  A name without a result line
# (initdb or the server failed, a crash) counts as failed, and so does a
# non-zero exit with every test ok.  Shows regression.diffs on failure.
run_regress_driver() {
	local suite="$1" driver="$2" inputdir="$3" outdir="$4" conf="$5" dbname="$6"
	shift 6
	local names=("$@") rc=0 name status failed_before
	local -A result=()

	mkdir -p "${outdir}"
	chown_to_test_user "${outdir}"
	free_port
	failed_before="$(count_results "${suite}" FAILED)"

	(cd "${outdir}" && as_test_user "${driver}" \
		--temp-instance="${outdir}/tmp_check" \
		--temp-config="${conf}" \
		--bindir="${PG_BINDIR}" \
		--inputdir="${inputdir}" \
		--outputdir="${outdir}" \
		--dbname="${dbname}" \
		--port="${FREE_PORT}" \
		--no-locale --encoding=UTF8 \
		"${names[@]}") 2>&1 | tee "${outdir}/driver.log" || rc=$?

	echo
	while read -r name status; do
		result["${name}"]="${status}"
	done < <(parse_regress_log "${outdir}/driver.log")
	for name in "${names[@]}"; do
		status="${result[${name}]:-}"
		case "${status}" in
		ok) record_test "${suite}" "${name}" ok ;;
		"") record_test "${suite}" "${name}" FAILED "no result: the run did not get to it" ;;
		*) record_test "${suite}" "${name}" FAILED ;;
		esac
	done
	if [[ "${rc}" -ne 0 &&
		"$(count_results "${suite}" FAILED)" -eq "${failed_before}" ]]; then
		record_test "${suite}" "(driver)" FAILED "$(basename "${driver}") exited with status ${rc}"
	fi

	if [[ "$(count_results "${suite}" FAILED)" -ne "${failed_before}" ]]; then
		show_regress_failure "${outdir}"
	fi
}

# show_regress_failure OUTDIR: the diffs if there are any, otherwise the
# logs that explain why the instance never ran the tests.
show_regress_failure() {
	local outdir="$1" log
	if [[ -s "${outdir}/regression.diffs" ]]; then
		echo "---- ${outdir}/regression.diffs (first 200 lines) ----"
		head -n 200 "${outdir}/regression.diffs"
		echo "---- end of regression.diffs ----"
		return 0
	fi
	for log in "${outdir}/log/initdb.log" "${outdir}/log/postmaster.log"; do
		if [[ -s "${log}" ]]; then
			echo "---- ${log} (last 50 lines) ----"
			tail -n 50 "${log}"
		fi
	done
}

# preload_input_dir: pg_regress has no per-pass expected files, so for the
# preloaded pass build a copy of the tree in which every
# expected/NAME_preload.out has replaced expected/NAME.out.  Prints the
# directory to use as --inputdir (the plain copy if there is nothing to
# replace).
preload_input_dir() {
	local overlay="${WORK_DIR}/regress-preloaded-input" alt
	if ! compgen -G "${COPY_DIR}/expected/*_preload.out" >/dev/null; then
		echo "${COPY_DIR}"
		return 0
	fi
	copy_tree "${COPY_DIR}" "${overlay}" >&2
	for alt in "${overlay}"/expected/*_preload.out; do
		mv -f "${alt}" "${alt%_preload.out}.out"
	done
	echo "${overlay}"
}

# suite_layout: the source layout's promises (test/layout_check.pl), one
# test; its own output says what broke them.
suite_layout() {
	local out rc=0
	suite_header "layout (test/layout_check.pl)"
	out="$(perl "${COPY_DIR}/test/layout_check.pl" "${COPY_DIR}/src" 2>&1)" || rc=$?
	echo "${out}"
	if [[ "${rc}" -eq 0 ]]; then
		record_test layout "src" ok
	else
		record_test layout "src" FAILED "see the problems above"
	fi
}

# suite_regress: both pg_regress passes.
suite_regress() {
	local pass conf inputdir names=()
	for pass in plain preloaded; do
		suite_header "pg_regress (${pass})"
		mapfile -t names < <(regress_tests_for_pass "${pass}")
		if [[ "${#names[@]}" -eq 0 ]]; then
			echo "(no tests for this pass in test/regress_schedule)"
			continue
		fi
		if [[ "${pass}" == plain ]]; then
			conf="${CONF_PLAIN}"
			inputdir="${COPY_DIR}"
		else
			conf="${CONF_PRELOADED}"
			inputdir="$(preload_input_dir)"
		fi
		run_regress_driver "regress/${pass}" "${PG_REGRESS}" "${inputdir}" \
			"${WORK_DIR}/regress-${pass}" "${conf}" contrib_regression "${names[@]}"
	done
}

# suite_isolation: every spec, once, with the library preloaded (the
# concurrency cases involve the utility hook as much as the triggers).
suite_isolation() {
	local spec names=()
	suite_header "isolation (pg_isolation_regress, preloaded)"
	for spec in "${COPY_DIR}"/test/isolation/specs/*.spec; do
		[[ -e "${spec}" ]] || continue
		names+=("$(basename "${spec}" .spec)")
	done
	if [[ "${#names[@]}" -eq 0 ]]; then
		echo "(no specs in test/isolation/specs)"
		return 0
	fi
	run_regress_driver isolation "${PG_ISOLATION_REGRESS}" \
		"${COPY_DIR}/test/isolation" "${WORK_DIR}/isolation" \
		"${CONF_PRELOADED}" isolation_regression "${names[@]}"
}

# ---------------------------------------------------------------------------
# TAP (PostgreSQL::Test::Cluster)
# ---------------------------------------------------------------------------

# suite_tap: each test/t/*.pl in its own prove run, so each file is one
# test and a crash in one cannot hide another.  PostgreSQL::Test::Utils
# keeps its clusters and logs under $TESTDIR/tmp_check up to PG 16, and
# under $TESTDATADIR and $TESTLOGDIR from PG 17 on: all three are set so
# that every major puts them in the same place.  Cluster.pm runs initdb
# & co. from PATH and `pg_regress --config-auth` from $PG_REGRESS, and keeps
# its port reservations in $PG_TEST_PORT_DIR (shared here by all files).
# GUARDED_DDL_SRC is the tree copy, for fixtures.
suite_tap() {
	local file name testdir rc log
	suite_header "TAP (prove, PostgreSQL::Test::Cluster)"
	if ! compgen -G "${COPY_DIR}/test/t/*.pl" >/dev/null; then
		echo "(no tests in test/t)"
		return 0
	fi
	for file in "${COPY_DIR}"/test/t/*.pl; do
		name="$(basename "${file}" .pl)"
		# shellcheck disable=SC2053  # a glob on purpose
		[[ -z "${GUARDED_DDL_TAP_ONLY:-}" || "${name}" == ${GUARDED_DDL_TAP_ONLY} ]] || continue
		testdir="${WORK_DIR}/tap/${name}"
		mkdir -p "${testdir}/tmp_check/log"
		chown_to_test_user "${WORK_DIR}/tap"
		log="${testdir}/prove.log"
		rc=0
		(cd "${COPY_DIR}" && as_test_user env \
			PERL5LIB="${PG_PERL_LIB}" \
			PG_REGRESS="${PG_REGRESS}" \
			PG_CONFIG="${PG_CONFIG}" \
			TESTDIR="${testdir}" \
			TESTDATADIR="${testdir}/tmp_check" \
			TESTLOGDIR="${testdir}/tmp_check/log" \
			GUARDED_DDL_SRC="${COPY_DIR}" \
			PG_TEST_PORT_DIR="${WORK_DIR}/tap" \
			prove -v "test/t/${name}.pl") >"${log}" 2>&1 || rc=$?
		if [[ "${rc}" -eq 0 ]]; then
			record_test tap "${name}" ok
		else
			record_test tap "${name}" FAILED "prove exited with status ${rc}"
			echo "---- prove output ----"
			cat "${log}"
			if [[ -s "${testdir}/tmp_check/log/regress_log_${name}" ]]; then
				echo "---- ${testdir}/tmp_check/log/regress_log_${name} (last 200 lines) ----"
				tail -n 200 "${testdir}/tmp_check/log/regress_log_${name}"
			fi
			echo "---- end of ${name} ----"
		fi
	done
}

# ---------------------------------------------------------------------------
# pgTAP
# ---------------------------------------------------------------------------

# suite_pgtap: one preloaded cluster with pgtap and guarded_ddl created in
# one database, then pg_prove over every test/pgtap/*.sql.  pg_prove's
# exit status says whether all passed; its "Test Summary Report" names the
# files that did not (progress lines cannot be trusted: server WARNINGs on
# stderr interleave with them).
suite_pgtap() {
	local base="${WORK_DIR}/pgtap" db=guarded_ddl_pgtap rc=0 file
	local files=() failed_files=() port name
	suite_header "pgTAP (pg_prove, preloaded)"
	for file in "${COPY_DIR}"/test/pgtap/*.sql; do
		[[ -e "${file}" ]] && files+=("test/pgtap/$(basename "${file}")")
	done
	if [[ "${#files[@]}" -eq 0 ]]; then
		echo "(no tests in test/pgtap)"
		return 0
	fi

	free_port
	port="${FREE_PORT}"
	if ! start_cluster "${base}/data" "${base}/sock" "${port}" "${CONF_PRELOADED}" ||
		! as_test_user createdb -h "${base}/sock" -p "${port}" -U postgres "${db}" ||
		! as_test_user psql -X -q -v ON_ERROR_STOP=1 -h "${base}/sock" -p "${port}" \
			-U postgres -d "${db}" \
			-c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION guarded_ddl'; then
		for file in "${files[@]}"; do
			record_test pgtap "$(basename "${file}" .sql)" FAILED "could not set up the pgTAP cluster"
		done
		return 0
	fi

	(cd "${COPY_DIR}" && as_test_user pg_prove -h "${base}/sock" -p "${port}" \
		-d "${db}" -U postgres "${files[@]}") 2>&1 | tee "${base}/pg_prove.log" || rc=$?
	stop_cluster "${base}/data" || true
	echo

	if [[ "${rc}" -ne 0 ]]; then
		mapfile -t failed_files < <(sed -n '/^Test Summary Report/,$ s/^\([^ ]*\.sql\) *(.*/\1/p' \
			"${base}/pg_prove.log")
	fi
	for file in "${files[@]}"; do
		name="$(basename "${file}" .sql)"
		if [[ "${rc}" -eq 0 ]]; then
			record_test pgtap "${name}" ok
		elif [[ "${#failed_files[@]}" -eq 0 ]] ||
			printf '%s\n' "${failed_files[@]}" | grep -qxF "${file}"; then
			# No report at all means pg_prove itself failed: count all.
			record_test pgtap "${name}" FAILED
		else
			record_test pgtap "${name}" ok
		fi
	done
	if [[ "${rc}" -ne 0 ]]; then
		echo "---- server log (last 50 lines) ----"
		tail -n 50 "${base}/data.log" || true
	fi
}

# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

# run_suite NAME: run suite_NAME in a subshell with errexit really on (it
# is off in a function called from `if` or `||`), so an unexpected error
# ends that suite only, and is counted as one failure if the suite had not
# already recorded a failure for it.
run_suite() {
	local suite="$1" rc failed_before
	failed_before="$(count_results FAILED)"
	set +e
	(
		set -e
		"suite_${suite}"
	)
	rc=$?
	set -e
	if [[ "${rc}" -ne 0 && "$(count_results FAILED)" -eq "${failed_before}" ]]; then
		record_test "${suite}" "(suite)" FAILED "could not run: exit status ${rc}"
	fi
}

usage() {
	sed -n '2,/^$/ s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

main() {
	local suites=() arg s ok
	for arg in "$@"; do
		case "${arg}" in
		-h | --help) usage ;;
		*)
			ok=no
			for s in "${ALL_SUITES[@]}"; do
				[[ "${arg}" == "${s}" ]] && ok=yes
			done
			[[ "${ok}" == yes ]] || { echo "unknown suite: ${arg}" >&2; usage; }
			suites+=("${arg}")
			;;
		esac
	done
	[[ "${#suites[@]}" -gt 0 ]] || suites=("${ALL_SUITES[@]}")

	install_cleanup_trap
	suite_header "setup"
	select_pg_major || setup_failed "choose the PostgreSQL major"
	install_dependencies || setup_failed "install dependencies"
	ensure_test_user || setup_failed "choose the unprivileged user"
	create_work_dir || setup_failed "create the work directory"
	RESULTS_FILE="${WORK_DIR}/results.tsv"
	: >"${RESULTS_FILE}"
	COPY_DIR="${WORK_DIR}/src"
	copy_tree "${REPO_ROOT}" "${COPY_DIR}" || setup_failed "copy the repository"
	build_and_install "${COPY_DIR}" || setup_failed "build and install guarded_ddl"
	mkdir -p "${WORK_DIR}/conf"
	CONF_PLAIN="${WORK_DIR}/conf/plain.conf"
	CONF_PRELOADED="${WORK_DIR}/conf/preloaded.conf"
	write_server_conf "${CONF_PLAIN}" no || setup_failed "write the server settings"
	write_server_conf "${CONF_PRELOADED}" yes || setup_failed "write the server settings"
	chown_to_test_user "${WORK_DIR}/conf"

	for s in "${suites[@]}"; do
		run_suite "${s}"
	done

	print_summary
}

main "$@"
