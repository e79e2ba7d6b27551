#!/usr/bin/env bash
# test/demo.sh -- watch guarded_ddl stop the incidents it was built for.
#
# Usage:  test/demo.sh            (as root, or through sudo)
#
# Installs what is missing, builds and installs the extension (the same
# steps as test/run.sh, from test/lib/common.sh), starts a throw-away
# cluster with the library preloaded as an unprivileged OS user on a free
# port, runs test/demo.sql through psql with every query echoed, and then
# stops and removes the cluster.  Errors in the demo are the point of it:
# psql shows them and carries on.
#
# GUARDED_DDL_KEEP_TMP=1 keeps the cluster's files (not the running server).

set -euo pipefail
shopt -s inherit_errexit

# shellcheck source=test/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

main() {
	local copy_dir datadir sockdir port conf

	install_cleanup_trap
	select_pg_major || die "cannot tell which PostgreSQL major to use"
	install_dependencies || die "could not install the required packages"
	ensure_test_user || die "could not choose an unprivileged user"
	create_work_dir || die "could not create a work directory"
	copy_dir="${WORK_DIR}/src"
	copy_tree "${REPO_ROOT}" "${copy_dir}" || die "could not copy the repository"
	build_and_install "${copy_dir}" || die "build or install failed"

	conf="${WORK_DIR}/demo.conf"
	write_server_conf "${conf}" yes || die "could not write the server settings"
	free_port || die "no free port"
	port="${FREE_PORT}"
	datadir="${WORK_DIR}/cluster/data"
	sockdir="${WORK_DIR}/cluster/sock"
	start_cluster "${datadir}" "${sockdir}" "${port}" "${conf}" ||
		die "could not start the demo cluster"
	info "demo cluster running on port ${port} (socket in ${sockdir})"
	echo

	# -e echoes each query before its result; ON_ERROR_STOP=0 lets the
	# refused statements show their ERROR and the demo go on.
	as_test_user psql -X -e -P pager=off -v ON_ERROR_STOP=0 \
		-h "${sockdir}" -p "${port}" -U postgres -d postgres \
		-f "${copy_dir}/test/demo.sql" 2>&1

	echo
	info "stopping the demo cluster"
	stop_cluster "${datadir}"
}

main "$@"
