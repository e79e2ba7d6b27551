# test/lib/roots.sh -- minimal Debian roots, one per PostgreSQL major.
#
# Sourced by test/all-majors.sh, never executed.  The machine runs one
# Debian release and so one PostgreSQL major; the others Debian ships come
# from other suites of the same archive.  For each we build a minimal root
# with debootstrap, install that suite's PostgreSQL, its server headers and
# the test tools into it, and keep it as a tarball under /var/tmp so the
# next run only has to unpack it (a few seconds instead of minutes).
#
#   major  suite(s)              why
#   17     trixie                Debian 13's PostgreSQL
#   18     sid                   forky and sid carry the current major
#   19     sid + experimental    release candidates live in experimental
#
# Facts this file encodes (see DESIGN §5):
#   - forky's and sid's Release files may be past their Valid-Until: apt in
#     those roots runs with Acquire::Check-Valid-Until=false.
#   - Debian 12's debootstrap has no script for forky; sid's fits every
#     suite, so it is named explicitly.
#   - Every mount is undone however the run ends (unmount_root is called by
#     the caller's EXIT trap through ROOTS_MOUNTED).
#   - experimental has no postgresql-19-pgtap yet; pgTAP is plain SQL that
#     does not depend on the server major, so sid's postgresql-18-pgtap
#     files are unpacked into 19's extension directory.

# The archive every suite comes from (the machine's own apt mirror).
ROOTS_MIRROR="${GUARDED_DDL_MIRROR:-http://deb.debian.org/debian}"
# Where cached root tarballs live.
ROOTS_CACHE_DIR="${GUARDED_DDL_ROOT_CACHE:-/var/tmp}"
# Mount points currently mounted by this run, innermost last.
ROOTS_MOUNTED=()

# root_suite_for MAJOR: the suite whose archive carries MAJOR.
root_suite_for() {
	case "$1" in
	17) echo trixie ;;
	18) echo sid ;;
	19) echo sid ;;
	*) return 1 ;;
	esac
}

# root_packages_for MAJOR: what the test suite needs inside the root,
# the same list test/lib/common.sh installs on the machine itself (so a
# root never needs the network at test time).
root_packages_for() {
	local major="$1"
	# The build and the suites (test/lib/common.sh's list).
	echo build-essential ca-certificates procps iproute2 \
		"postgresql-${major}" "postgresql-server-dev-${major}" \
		"postgresql-${major}-pgaudit" \
		libtap-parser-sourcehandler-pgtap-perl libipc-run-perl
	# Packaging with Debian's own tools (debian/).
	echo debhelper dpkg-dev fakeroot postgresql-common-dev
	# The real tools the README's recipes use.
	echo pgbackrest barman barman-cli pgbouncer
	# pgTAP as a package where the suite has one (see the header).
	if [[ "${major}" != 19 ]]; then
		echo "postgresql-${major}-pgtap"
	fi
}

# root_cache_file MAJOR: the tarball for MAJOR.  Its name carries a hash of
# the functions that build a root, so changing how roots are built (not a
# comment) invalidates old caches.
root_cache_file() {
	local major="$1" hash
	hash="$(declare -f root_suite_for root_packages_for build_root \
		install_pgtap_from_18 | sha256sum | cut -c 1-12)"
	echo "${ROOTS_CACHE_DIR}/guarded_ddl-root-pg${major}-$(root_suite_for "${major}")-${hash}.tar.gz"
}

# chroot_run ROOT CMD...: run CMD inside ROOT with a clean environment.
chroot_run() {
	local root="$1"
	shift
	chroot "${root}" /usr/bin/env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

# mount_root ROOT: the kernel file systems a PostgreSQL server and apt
# need.  /dev/shm gets its own tmpfs: PostgreSQL's dynamic shared memory
# lives there, and a bind of the machine's /dev would share it.
mount_root() {
	local root="$1"
	mount -t proc proc "${root}/proc" || return 1
	ROOTS_MOUNTED+=("${root}/proc")
	mount -t sysfs sysfs "${root}/sys" || return 1
	ROOTS_MOUNTED+=("${root}/sys")
	mount --bind /dev "${root}/dev" || return 1
	ROOTS_MOUNTED+=("${root}/dev")
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "${root}/dev/pts" || return 1
	ROOTS_MOUNTED+=("${root}/dev/pts")
	mount -t tmpfs -o mode=1777,size=1g tmpfs "${root}/dev/shm" || return 1
	ROOTS_MOUNTED+=("${root}/dev/shm")
}

# unmount_roots: undo every mount of this run, innermost first.  A mount
# that is still busy is detached lazily rather than left behind.
unmount_roots() {
	local i mp
	for ((i = ${#ROOTS_MOUNTED[@]} - 1; i >= 0; i--)); do
		mp="${ROOTS_MOUNTED[i]}"
		if mountpoint -q "${mp}"; then
			umount "${mp}" 2>/dev/null || umount -l "${mp}" || true
		fi
	done
	ROOTS_MOUNTED=()
}

# build_root MAJOR DIR: debootstrap the suite into DIR and install what the
# tests need.  Needs root and the archive; takes a few minutes.
build_root() {
	local major="$1" dir="$2" suite
	suite="$(root_suite_for "${major}")" || return 1
	info "debootstrap ${suite} into ${dir} (PostgreSQL ${major})"
	mkdir -p "${dir}" || return 1
	# sid's script serves every suite (bookworm's debootstrap lacks forky).
	debootstrap --variant=minbase --components=main \
		"${suite}" "${dir}" "${ROOTS_MIRROR}" \
		/usr/share/debootstrap/scripts/sid >"${dir}.debootstrap.log" 2>&1 || {
		tail -n 30 "${dir}.debootstrap.log" >&2
		return 1
	}
	{
		echo "deb ${ROOTS_MIRROR} ${suite} main"
		if [[ "${major}" == 19 ]]; then
			echo "deb ${ROOTS_MIRROR} experimental main"
		fi
	} >"${dir}/etc/apt/sources.list" || return 1
	echo 'Acquire::Check-Valid-Until "false";' \
		>"${dir}/etc/apt/apt.conf.d/99guarded-ddl-valid-until" || return 1
	# From experimental only PostgreSQL 19 and the libpq it needs; the rest
	# stays sid's (experimental's perl, say, would not fit sid's modules).
	if [[ "${major}" == 19 ]]; then
		printf '%s\n' \
			'Package: postgresql-19* postgresql-client-19 postgresql-server-dev-19 libpq5 libpq-dev libpq-oauth' \
			'Pin: release a=experimental' \
			'Pin-Priority: 990' \
			>"${dir}/etc/apt/preferences.d/guarded-ddl-pg19" || return 1
	fi
	# No service may start inside the root while packages install.
	printf '#!/bin/sh\nexit 101\n' >"${dir}/usr/sbin/policy-rc.d" &&
		chmod 755 "${dir}/usr/sbin/policy-rc.d" || return 1
	# No default cluster: the tests make their own.
	mkdir -p "${dir}/etc/postgresql-common/createcluster.d" &&
		echo 'create_main_cluster = false' \
			>"${dir}/etc/postgresql-common/createcluster.d/guarded-ddl.conf" || return 1

	mount_root "${dir}" || return 1
	local rc=0 pkgs
	pkgs="$(root_packages_for "${major}")"
	{
		chroot_run "${dir}" apt-get update -q &&
			# shellcheck disable=SC2086
			chroot_run "${dir}" apt-get install -y -q --no-install-recommends ${pkgs} &&
			if [[ "${major}" == 19 ]]; then
				install_pgtap_from_18 "${dir}"
			fi &&
			chroot_run "${dir}" apt-get clean
	} >"${dir}.apt.log" 2>&1 || rc=$?
	unmount_roots
	if [[ "${rc}" -ne 0 ]]; then
		tail -n 40 "${dir}.apt.log" >&2
		return 1
	fi
	# Nothing of the build itself belongs in the cache.
	rm -rf "${dir}/var/lib/apt/lists/"* "${dir}/var/cache/apt/"*.bin
}

# install_pgtap_from_18 ROOT: pgTAP's SQL files for a major Debian does not
# package it for yet (see the header).
install_pgtap_from_18() {
	local root="$1"
	chroot_run "${root}" sh -ec '
		cd /tmp
		apt-get download postgresql-18-pgtap
		dpkg -x postgresql-18-pgtap_*.deb /tmp/pgtap18
		cp /tmp/pgtap18/usr/share/postgresql/18/extension/pgtap* \
			/usr/share/postgresql/19/extension/
		rm -rf /tmp/pgtap18 postgresql-18-pgtap_*.deb
		test -f /usr/share/postgresql/19/extension/pgtap.control
		command -v pg_prove >/dev/null || apt-get install -y -q --no-install-recommends pgtap
	'
}

# ensure_root_cache MAJOR: build MAJOR's root unless its tarball exists.
# Built under a temporary name and renamed at the end, so an interrupted
# build never leaves a half-made cache behind.
ensure_root_cache() {
	local major="$1" cache tmp
	cache="$(root_cache_file "${major}")"
	if [[ -s "${cache}" ]]; then
		info "using cached root ${cache}"
		return 0
	fi
	command -v debootstrap >/dev/null 2>&1 || {
		info "installing debootstrap"
		# a fresh machine may have no package lists yet
		env DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap \
			</dev/null >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null &&
				env DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap \
					</dev/null >/dev/null; } || return 1
	}
	tmp="$(mktemp -d "${ROOTS_CACHE_DIR}/guarded_ddl-rootbuild.XXXXXX")" || return 1
	if ! build_root "${major}" "${tmp}/root"; then
		unmount_roots
		rm -rf "${tmp}"
		return 1
	fi
	info "caching the root as ${cache}"
	tar -C "${tmp}/root" --numeric-owner -czf "${tmp}/root.tar.gz" . &&
		mv "${tmp}/root.tar.gz" "${cache}" || {
		rm -rf "${tmp}"
		return 1
	}
	rm -rf "${tmp}"
	# Older caches of this major were built by an older recipe.
	find "${ROOTS_CACHE_DIR}" -maxdepth 1 -name "guarded_ddl-root-pg${major}-*.tar.gz" \
		! -path "${cache}" -delete 2>/dev/null || true
}

# unpack_root MAJOR DIR: a fresh root for one run, from the cache.
unpack_root() {
	local major="$1" dir="$2"
	mkdir -p "${dir}" || return 1
	tar -C "${dir}" --numeric-owner -xzf "$(root_cache_file "${major}")"
}
