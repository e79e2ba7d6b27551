# test/lib/package.sh -- the "package" suite of test/run.sh: build the Debian
# package from debian/ with Debian's own tools, install it, and prove that
# the installed files alone give a working guard.
#
# Sourced by test/run.sh after test/lib/common.sh, never executed.  It uses
# run.sh's record_test and suite_header and the variables run.sh sets
# (COPY_DIR, WORK_DIR, CONF_PLAIN) next to common.sh's (PG_MAJOR,
# PG_CONFIG, TEST_USER).
#
# What a DBA does, in order:
#   1. dpkg-buildpackage -us -uc -b in a fresh copy of the tree, as the
#      unprivileged test user (debian/control says Rules-Requires-Root: no,
#      so no fakeroot either);
#   2. the .deb for this run's major holds guarded_ddl.so, the control file
#      and every guarded_ddl--*.sql script of the tree;
#   3. dpkg -i, and dpkg --verify: the files on disk are the package's, not
#      the ones the harness's own `make install` put there earlier;
#   4. on a fresh cluster: CREATE EXTENSION, a refused DROP TABLE of a table
#      with a row (ZG002: no backup recorded), an allowed DROP TABLE of an
#      empty one;
#   5. dpkg -r, then the harness's build installed again, because the suites
#      that follow test that build and dpkg -r has just removed its files.
#
# Each step is one test.  A step that cannot run because an earlier one
# failed is counted as failed too, so the totals do not shrink on failure.
# The build tools' and dpkg's chatter goes to logs under WORK_DIR/package,
# shown only when a step fails.
#
# Copyright (c) 2026, guarded_ddl developers

# The tests of this suite, in order; package_not_run counts some of them
# as failed when a step leaves nothing to test.
PACKAGE_TESTS=(build contents install create_extension drop_refused_without_backup
	drop_allowed_when_empty remove reinstall_harness_build)

# package_not_run FROM UNTIL REASON: record the tests of PACKAGE_TESTS from
# FROM up to, not including, UNTIL (`end`: all the rest) as failed, saying
# why they did not run.
package_not_run() {
	local from="$1" until="$2" reason="$3" name started=no
	for name in "${PACKAGE_TESTS[@]}"; do
		[[ "${name}" == "${until}" ]] && break
		[[ "${name}" == "${from}" ]] && started=yes
		[[ "${started}" == yes ]] || continue
		record_test package "${name}" FAILED "not run: ${reason}"
	done
}

# package_show_log LOG [LINES]: the end of a log whose step failed.
package_show_log() {
	local log="$1" lines="${2:-80}"
	echo "---- ${log} (last ${lines} lines) ----"
	tail -n "${lines}" "${log}" 2>/dev/null || true
	echo "---- end of $(basename "${log}") ----"
}

# package_check_contents DEB TREE: 0 when DEB holds the library, the control
# file and every guarded_ddl--*.sql of TREE at the paths this major's
# pg_config names.  Prints what is missing otherwise.  The scripts are
# taken from the tree rather than from a list here, so a script the
# Makefile forgets to install shows up as missing.
package_check_contents() {
	local deb="$1" tree="$2" pkglibdir sharedir listing script missing=() path
	pkglibdir="$("${PG_CONFIG}" --pkglibdir)" || return 1
	sharedir="$("${PG_CONFIG}" --sharedir)" || return 1
	listing="$(dpkg-deb --fsys-tarfile "${deb}" | tar -tf -)" || return 1
	local wanted=(".${pkglibdir}/guarded_ddl.so" ".${sharedir}/extension/guarded_ddl.control")
	for script in "${tree}"/guarded_ddl--*.sql; do
		[[ -e "${script}" ]] || continue
		wanted+=(".${sharedir}/extension/$(basename "${script}")")
	done
	for path in "${wanted[@]}"; do
		grep -qxF "${path}" <<<"${listing}" || missing+=("${path#.}")
	done
	if [[ "${#missing[@]}" -ne 0 ]]; then
		printf 'missing from %s: %s\n' "$(basename "${deb}")" "${missing[*]}"
		return 1
	fi
}

# package_files_match PACKAGE LOG: 0 when every file PACKAGE installed is
# on disk as the package shipped it.  dpkg --verify prints one line per
# file that differs but exits 0 either way, so its output decides; it is
# appended to LOG.
package_files_match() {
	local pkg="$1" log="$2" report
	report="$(as_root dpkg --verify "${pkg}" 2>&1)" || return 1
	if [[ -n "${report}" ]]; then
		printf 'dpkg --verify %s:\n%s\n' "${pkg}" "${report}" >>"${log}"
		return 1
	fi
}

# package_psql LOG SOCKDIR PORT DB [PSQL ARGS...]: psql as the test user,
# tuples only and unaligned so answers can be compared as text.  Prints
# psql's output; LOG gets its errors, then its output.  psql's status.
package_psql() {
	local log="$1" sockdir="$2" port="$3" db="$4" out rc=0
	shift 4
	out="$(as_test_user psql -X -q -tA -h "${sockdir}" -p "${port}" -U postgres \
		-d "${db}" "$@" 2>>"${log}")" || rc=$?
	if [[ -n "${out}" ]]; then
		printf '%s\n' "${out}" | tee -a "${log}"
	fi
	return "${rc}"
}

# package_smoke SOCKDIR PORT LOGDIR: the smoke tests against the installed
# files on a running cluster, one record_test each.  Returns 0 even when a
# test fails (the caller still has to remove the package).
package_smoke() {
	local sockdir="$1" port="$2" logdir="$3" db=guarded_ddl_package out log

	log="${logdir}/create_extension.log"
	# Also checks that the script run was the control file's default
	# version, i.e. that the installed control file and scripts agree.
	if as_test_user createdb -h "${sockdir}" -p "${port}" -U postgres "${db}" >"${log}" 2>&1 &&
		out="$(package_psql "${log}" "${sockdir}" "${port}" "${db}" -v ON_ERROR_STOP=1 \
			-c 'CREATE EXTENSION guarded_ddl' \
			-c "SELECT 'default version installed ' || (installed_version = default_version)
				FROM pg_catalog.pg_available_extensions WHERE name = 'guarded_ddl'")" &&
		[[ "${out}" == "default version installed true" ]]; then
		record_test package create_extension ok
	else
		record_test package create_extension FAILED
		package_show_log "${log}"
		package_not_run drop_refused_without_backup remove "CREATE EXTENSION failed"
		return 0
	fi

	# A table with one row and an empty one; no backup is recorded in
	# this fresh database, so the default action (require_backup) refuses
	# the first with ZG002 and lets the second go.
	log="${logdir}/drop_refused_without_backup.log"
	if package_psql "${log}" "${sockdir}" "${port}" "${db}" -v ON_ERROR_STOP=1 \
		-c 'CREATE SCHEMA smoke' \
		-c 'CREATE TABLE smoke.kept (id int)' \
		-c 'INSERT INTO smoke.kept VALUES (1)' \
		-c 'CREATE TABLE smoke.scratch (id int)' >/dev/null &&
		out="$(package_psql "${log}" "${sockdir}" "${port}" "${db}" <<-'EOF'
			DROP TABLE smoke.kept;
			\echo sqlstate :SQLSTATE
			SELECT 'rows left ' || count(*) FROM smoke.kept;
		EOF
		)" &&
		grep -qx 'sqlstate ZG002' <<<"${out}" &&
		grep -qx 'rows left 1' <<<"${out}"; then
		record_test package drop_refused_without_backup ok
	else
		record_test package drop_refused_without_backup FAILED "expected SQLSTATE ZG002 and the row kept"
		package_show_log "${log}"
	fi

	log="${logdir}/drop_allowed_when_empty.log"
	if out="$(package_psql "${log}" "${sockdir}" "${port}" "${db}" -v ON_ERROR_STOP=1 \
		-c 'DROP TABLE smoke.scratch' \
		-c "SELECT 'gone ' || (pg_catalog.to_regclass('smoke.scratch') IS NULL)")" &&
		[[ "${out}" == "gone true" ]]; then
		record_test package drop_allowed_when_empty ok
	else
		record_test package drop_allowed_when_empty FAILED
		package_show_log "${log}"
	fi
	return 0
}

# package_remove_and_restore PACKAGE LOG: dpkg -r PACKAGE, then install the
# harness's own build from COPY_DIR again: the suites after this one test
# that build, and dpkg -r removed the files its `make install` had put in
# the same places.  Two tests.
package_remove_and_restore() {
	local pkg="$1" log="$2" pkglibdir sharedir
	pkglibdir="$("${PG_CONFIG}" --pkglibdir)"
	sharedir="$("${PG_CONFIG}" --sharedir)"

	if as_root dpkg -r "${pkg}" >>"${log}" 2>&1 &&
		! package_installed "${pkg}" &&
		[[ ! -e "${pkglibdir}/guarded_ddl.so" &&
			! -e "${sharedir}/extension/guarded_ddl.control" ]]; then
		record_test package remove ok
	else
		record_test package remove FAILED "dpkg -r failed or left files behind"
		package_show_log "${log}"
	fi

	if as_root make -C "${COPY_DIR}" USE_PGXS=1 PG_CONFIG="${PG_CONFIG}" install \
		>>"${log}" 2>&1 &&
		[[ -e "${pkglibdir}/guarded_ddl.so" ]]; then
		record_test package reinstall_harness_build ok
	else
		record_test package reinstall_harness_build FAILED "later suites will not find guarded_ddl"
		package_show_log "${log}"
	fi
}

# suite_package: build, inspect, install, smoke-test and remove the Debian
# package for this run's PostgreSQL major (see the header).
suite_package() {
	local base="${WORK_DIR}/package" src version arch pkg deb
	local build_log dpkg_log out
	suite_header "Debian package (dpkg-buildpackage, dpkg -i, smoke test on PostgreSQL ${PG_MAJOR})"
	src="${base}/guarded-ddl"
	build_log="${base}/build.log"
	dpkg_log="${base}/dpkg.log"
	pkg="postgresql-${PG_MAJOR}-guarded-ddl"

	# dpkg-buildpackage writes the .deb files into the parent of the
	# source tree: both belong to the test user, who builds.
	mkdir -p "${base}"
	chown_to_test_user "${base}"
	if ! copy_tree "${COPY_DIR}" "${src}" >"${build_log}" 2>&1; then
		package_not_run build end "could not copy the tree"
		return 0
	fi
	version="$(dpkg-parsechangelog -l "${src}/debian/changelog" -S Version)"
	arch="$(dpkg --print-architecture)"
	deb="${base}/${pkg}_${version}_${arch}.deb"

	info "building ${pkg} ${version} with dpkg-buildpackage in ${src}"
	if (cd "${src}" && as_test_user dpkg-buildpackage -us -uc -b) >>"${build_log}" 2>&1 &&
		[[ -f "${deb}" ]]; then
		record_test package build ok
	else
		record_test package build FAILED "no $(basename "${deb}")"
		package_show_log "${build_log}" 200
		package_not_run contents end "the package was not built"
		return 0
	fi

	if out="$(package_check_contents "${deb}" "${src}" 2>&1)"; then
		record_test package contents ok
	else
		record_test package contents FAILED "${out}"
		echo "---- dpkg-deb -c $(basename "${deb}") ----"
		dpkg-deb -c "${deb}" || true
	fi

	# From here on the system's PostgreSQL is changed: whatever happens,
	# end with package_remove_and_restore.
	info "installing ${deb}"
	if as_root dpkg -i "${deb}" >"${dpkg_log}" 2>&1 &&
		package_installed "${pkg}" &&
		package_files_match "${pkg}" "${dpkg_log}"; then
		record_test package install ok
		if free_port &&
			start_cluster "${base}/data" "${base}/sock" "${FREE_PORT}" "${CONF_PLAIN}" \
				>>"${dpkg_log}" 2>&1; then
			package_smoke "${base}/sock" "${FREE_PORT}" "${base}"
			stop_cluster "${base}/data" || true
		else
			record_test package create_extension FAILED "the cluster did not start"
			package_show_log "${dpkg_log}" 50
			package_not_run drop_refused_without_backup remove "the cluster did not start"
		fi
	else
		record_test package install FAILED "dpkg -i failed or the installed files differ from the package"
		package_show_log "${dpkg_log}"
		package_not_run create_extension remove "the package was not installed"
	fi
	info "removing ${pkg} and installing the harness's own build again"
	package_remove_and_restore "${pkg}" "${dpkg_log}"
}
