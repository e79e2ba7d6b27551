#!/usr/bin/env bash
# test/all-majors.sh -- the whole test suite on every PostgreSQL major Debian
# ships: the machine's own (test/run.sh as it is), then 17, 18 and 19, each
# inside a minimal Debian root of the suite that carries it (trixie, sid,
# sid + experimental; see test/lib/roots.sh).  This is the README's test
# command and what CI runs.
#
# Usage:  test/all-majors.sh [SUITE...]      (as root)
#   SUITE as for test/run.sh (regress isolation tap pgtap; default all).
#
# Environment:
#   GUARDED_DDL_MAJORS="17 19"   only these majors in roots (default 17 18 19)
#   GUARDED_DDL_SKIP_HOST=1      skip the machine's own major
#   GUARDED_DDL_ROOT_CACHE=DIR   where root tarballs are cached (/var/tmp)
#   GUARDED_DDL_RESULTS_DIR=DIR  copy each root's pg_regress results/ to
#                                DIR/pgNN/{plain,preloaded}/ (to review a
#                                major's output, e.g. for expected/NAME_1.out)
#
# Prints every run's own output, then one summary line per major and a last
# line `N passed, N failed` over all of them.  Exits non-zero when any test
# failed or any major could not be set up (that counts as one failure).
# A major whose root is cached costs a few seconds of unpacking on top of
# its tests; building a root takes a few minutes, once.

set -euo pipefail
shopt -s inherit_errexit

# shellcheck source=test/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=test/lib/roots.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/roots.sh"

# Per-major results, "LABEL<TAB>PASSED<TAB>FAILED<TAB>NOTE", in run order.
SUMMARY=()
# The directory of the root being run, for the EXIT trap.
RUN_DIR=""

# mounted_under DIR: whether anything is still mounted below DIR.
mounted_under() {
	awk -v dir="$1/" 'index($2 "/", dir) == 1 { found = 1 } END { exit !found }' /proc/mounts
}

# remove_run_dir: unmount, then delete the unpacked root -- never while
# anything is mounted in it (a bind of /dev would take the machine's /dev
# with it); --one-file-system is the second line of defence.
remove_run_dir() {
	unmount_roots
	[[ -n "${RUN_DIR}" && -d "${RUN_DIR}" ]] || return 0
	if mounted_under "${RUN_DIR}"; then
		echo "error: ${RUN_DIR} still has mounts; left in place" >&2
		return 1
	fi
	rm -rf --one-file-system -- "${RUN_DIR}"
	RUN_DIR=""
}

on_exit() {
	local status=$?
	set +e
	trap - EXIT INT TERM HUP
	remove_run_dir
	exit "${status}"
}

# totals_of LOG: "PASSED FAILED" from the last `N passed, N failed` line of
# a test/run.sh log, or nothing when the run never got that far.
totals_of() {
	sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$1" | tail -n 1
}

# note_result LABEL LOG RC: one summary entry from a finished run.  A run
# without a totals line, or one that exited non-zero with nothing failed,
# counts as one failure.
note_result() {
	local label="$1" log="$2" rc="$3" totals passed failed note=""
	totals="$(totals_of "${log}")"
	if [[ -z "${totals}" ]]; then
		passed=0 failed=1 note="no result (exit status ${rc})"
	else
		read -r passed failed <<<"${totals}"
		if [[ "${rc}" -ne 0 && "${failed}" -eq 0 ]]; then
			failed=1 note="exit status ${rc}"
		fi
	fi
	SUMMARY+=("${label}"$'\t'"${passed}"$'\t'"${failed}"$'\t'"${note}")
}

# run_on_machine: test/run.sh on the machine's own major.
run_on_machine() {
	local log="$1" rc=0
	suite_banner "PostgreSQL ${HOST_MAJOR} (this machine)"
	bash "${REPO_ROOT}/test/run.sh" "${SUITES[@]}" 2>&1 | tee "${log}" || rc=$?
	note_result "PostgreSQL ${HOST_MAJOR} (this machine)" "${log}" "${rc}"
}

# run_in_root MAJOR LOG: test/run.sh inside a fresh root carrying MAJOR.
run_in_root() {
	local major="$1" log="$2" rc=0 label suite
	suite="$(root_suite_for "${major}")"
	label="PostgreSQL ${major} (${suite})"
	if [[ "${major}" == 19 ]]; then
		label="PostgreSQL ${major} (${suite} + experimental)"
	fi
	suite_banner "${label}"
	: >"${log}"
	if ! ensure_root_cache "${major}" 2>&1 | tee -a "${log}"; then
		SUMMARY+=("${label}"$'\t0\t1\tcould not build the root')
		return 0
	fi
	RUN_DIR="$(mktemp -d "${ROOTS_CACHE_DIR}/guarded_ddl-run.XXXXXX")"
	if ! unpack_root "${major}" "${RUN_DIR}/root" || ! mount_root "${RUN_DIR}/root"; then
		remove_run_dir || true
		SUMMARY+=("${label}"$'\t0\t1\tcould not unpack or mount the root')
		return 0
	fi
	# The tree as test/run.sh copies it (no .git, no build leftovers).
	copy_tree "${REPO_ROOT}" "${RUN_DIR}/root/work/guarded_ddl"
	cp -L /etc/resolv.conf "${RUN_DIR}/root/etc/resolv.conf" 2>/dev/null || true
	chroot_run "${RUN_DIR}/root" CI="${CI:-}" PG_MAJOR="${major}" \
		GUARDED_DDL_KEEP_TMP="${GUARDED_DDL_RESULTS_DIR:+1}" \
		bash /work/guarded_ddl/test/run.sh "${SUITES[@]}" 2>&1 | tee -a "${log}" || rc=$?
	if [[ -n "${GUARDED_DDL_RESULTS_DIR:-}" ]]; then
		keep_results "${RUN_DIR}/root" "${GUARDED_DDL_RESULTS_DIR}/pg${major}"
	fi
	remove_run_dir || rc=1
	note_result "${label}" "${log}" "${rc}"
}

# keep_results ROOT DEST: the pg_regress results of the run inside ROOT.
keep_results() {
	local root="$1" dest="$2" pass dir
	for pass in plain preloaded; do
		for dir in "${root}"/tmp/guarded_ddl.*/regress-"${pass}"/results; do
			[[ -d "${dir}" ]] || continue
			mkdir -p "${dest}/${pass}"
			cp -a "${dir}/." "${dest}/${pass}/"
		done
	done
}

suite_banner() {
	printf '\n%s\n#### %s\n%s\n' \
		"########################################################################" \
		"$1" \
		"########################################################################"
}

main() {
	local logdir major started entry label passed failed note total_p=0 total_f=0
	SUITES=("$@")
	[[ "${EUID}" -eq 0 ]] || die "run as root: roots are built with debootstrap and entered with chroot"
	trap on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	started="$(date +%s)"
	logdir="$(mktemp -d "${GUARDED_DDL_TMPDIR:-/tmp}/guarded_ddl-majors.XXXXXX")"

	HOST_MAJOR="$(detect_pg_major)"
	if [[ "${GUARDED_DDL_SKIP_HOST:-0}" != 1 ]]; then
		run_on_machine "${logdir}/pg${HOST_MAJOR}.log"
	fi
	for major in ${GUARDED_DDL_MAJORS:-17 18 19}; do
		[[ "${major}" == "${HOST_MAJOR}" && "${GUARDED_DDL_SKIP_HOST:-0}" != 1 ]] && continue
		if ! root_suite_for "${major}" >/dev/null; then
			SUMMARY+=("PostgreSQL ${major}"$'\t0\t1\tno Debian suite known for it')
			continue
		fi
		run_in_root "${major}" "${logdir}/pg${major}.log"
	done

	suite_banner "summary over all majors ($(($(date +%s) - started)) s)"
	for entry in "${SUMMARY[@]}"; do
		IFS=$'\t' read -r label passed failed note <<<"${entry}"
		printf '  %-40s passed %4d   failed %3d%s\n' "${label}" "${passed}" "${failed}" \
			"${note:+   (${note})}"
		total_p=$((total_p + passed))
		total_f=$((total_f + failed))
	done
	rm -rf -- "${logdir}"
	echo
	echo "${total_p} passed, ${total_f} failed"
	[[ "${total_f}" -eq 0 && "${#SUMMARY[@]}" -gt 0 ]]
}

main "$@"
