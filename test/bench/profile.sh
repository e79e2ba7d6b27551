# shellcheck shell=bash
# test/bench/profile.sh -- figure p of test/bench/run.sh: where the
# instructions of a DROP SCHEMA ... CASCADE go, per dropped table, with and
# without guarded_ddl.  Sourced by run.sh, never executed; it uses run.sh's
# helpers (q, qv, start_bench_cluster, free_port) and settings (P_SIZES).
#
# Method: a cluster of its own (the benchmark settings, the library
# preloaded, autovacuum off) gets, in each of three databases -- bare,
# guarded (backup recorded), plpgsql (plpgsql_guard.sql) -- schemas of
# empty and of one-row tables in the two sizes of P_SIZES.  Then the server
# runs under valgrind --tool=callgrind, which counts every instruction each
# process executes, and each schema is dropped in a fresh session after a
# warm-up DROP of an empty table.  Everything a session does apart from the
# DROP SCHEMA is the same at both sizes, so the difference between the two
# sessions' counts, divided by the difference in tables, is the cost of one
# more dropped table: per function, and in total.  perf would do instead of
# callgrind where the machine has hardware counters; this one has none.
#
# The postgres binary of the distribution is stripped: its exported
# functions are named, its static ones are summed up as "(static functions
# in postgres)".  guarded_ddl.so is built with -g: its functions are named
# with their source file.

PORT_PROF=""
PROF_DIR=""

# profile_prepare: the cluster, its databases and schemas, checkpointed and
# stopped again.
profile_prepare() {
	local db kind n fill
	free_port
	PORT_PROF="${FREE_PORT}"
	info "p: preparing the profile cluster on port ${PORT_PROF}"
	start_bench_cluster prof "${PORT_PROF}" yes "autovacuum = off" ||
		die "p: could not start the profile cluster"
	for db in p_bare p_guarded p_plpgsql; do
		q "${PORT_PROF}" postgres -c "CREATE DATABASE ${db}"
	done
	q "${PORT_PROF}" p_guarded -c 'CREATE EXTENSION guarded_ddl' \
		-c "SELECT guarded_ddl.record_backup('bench')" \
		-c 'VACUUM ANALYZE guarded_ddl.policy' -c 'VACUUM ANALYZE guarded_ddl.backups' >/dev/null
	q "${PORT_PROF}" p_plpgsql -f "${BENCH_DIR}/plpgsql_guard.sql" >/dev/null
	for db in p_bare p_guarded p_plpgsql; do
		for kind in empty row; do
			fill=""
			[[ "${kind}" == row ]] && fill="EXECUTE format('INSERT INTO p_${kind}_%s.t%s VALUES (1)', n, i);"
			for n in ${P_SIZES}; do
				q "${PORT_PROF}" "${db}" >/dev/null <<-EOF
					DO \$\$
					DECLARE
					    n int := ${n};
					BEGIN
					    EXECUTE format('CREATE SCHEMA p_${kind}_%s', n);
					    FOR i IN 1..n LOOP
					        EXECUTE format('CREATE TABLE p_${kind}_%s.t%s (id int)', n, i);
					        ${fill}
					    END LOOP;
					END
					\$\$;
				EOF
			done
		done
		q "${PORT_PROF}" "${db}" -c 'VACUUM ANALYZE' >/dev/null
	done
	q "${PORT_PROF}" postgres -c CHECKPOINT
	as_test_user pg_ctl -D "${WORK_DIR}/prof/data" -m fast -w -t 120 stop >/dev/null ||
		die "p: could not stop the profile cluster"
}

# profile_start: the same cluster, its postmaster under callgrind.  Every
# process it forks is counted too and writes PROF_DIR/callgrind.out.PID
# when it exits.
profile_start() {
	local i
	PROF_DIR="${WORK_DIR}/callgrind"
	mkdir -p "${PROF_DIR}"
	chown_to_test_user "${PROF_DIR}"
	info "p: starting the profile cluster under valgrind --tool=callgrind"
	as_test_user valgrind --tool=callgrind --quiet \
		--callgrind-out-file="${PROF_DIR}/callgrind.out.%p" \
		--dump-instr=no --collect-jumps=no \
		"${PG_BINDIR}/postgres" -D "${WORK_DIR}/prof/data" \
		>"${WORK_DIR}/prof/valgrind.log" 2>&1 &
	for ((i = 0; i < 600; i++)); do
		as_test_user pg_isready -q -h "${SOCK_DIR}" -p "${PORT_PROF}" -t 1 && return 0
		sleep 0.5
	done
	tail -n 20 "${WORK_DIR}/prof/valgrind.log" >&2
	die "p: the server under valgrind did not come up"
}

# profile_session DB SCHEMA: drop SCHEMA in a fresh session after a warm-up
# DROP; prints the backend's callgrind file once the backend has exited
# and the file is written.
profile_session() {
	local db="$1" schema="$2" pid file i
	pid="$(q "${PORT_PROF}" "${db}" -At 2>>"${PROF_DIR}/sessions.log" <<-EOF
		SELECT pg_backend_pid();
		CREATE TABLE public.p_warm (id int);
		DROP TABLE public.p_warm;
		DROP SCHEMA ${schema} CASCADE;
	EOF
	)" || die "p: DROP SCHEMA ${schema} failed in ${db}"
	file="${PROF_DIR}/callgrind.out.${pid}"
	for ((i = 0; i < 1200; i++)); do
		if ! kill -0 "${pid}" 2>/dev/null && [[ -s "${file}" ]]; then
			echo "${file}"
			return 0
		fi
		sleep 0.1
	done
	die "p: no callgrind output ${file} from the backend of ${db}"
}

# profile_functions FILE INCLUSIVE: "Ir<TAB>function" per function of one
# callgrind file, and "total<TAB>Ir"; functions named as described above.
profile_functions() {
	callgrind_annotate --threshold=100 --auto=no --inclusive="$2" "$1" 2>/dev/null | awk '
		/^Ir +file:function/ { list = 1; next }
		list && /^$/ { exit }
		match($0, /^ *[0-9,]+ \( *[0-9.]+%\) +/) {
			ir = $1; gsub(/,/, "", ir)
			rest = substr($0, RLENGTH + 1)
			if (rest == "PROGRAM TOTALS") { print "total\t" ir; next }
			if (!list) next
			obj = ""
			if (match(rest, / \[[^]]*\]$/)) {
				obj = substr(rest, RSTART + 2, RLENGTH - 3); sub(/.*\//, "", obj)
				rest = substr(rest, 1, RSTART - 1)
			}
			file = rest; fn = rest
			sub(/:[^:]*$/, "", file); sub(/.*\//, "", file); sub(/^.*:/, "", fn)
			if (obj == "") obj = "?"
			sub(/\047[0-9]+$/, "", fn)    # recursion depth: pg_qsort\0472
			if (fn ~ /^0x[0-9a-f]+$/) name = "(static functions in " obj ")"
			else if (obj == "guarded_ddl.so" && file != "???") name = fn " (" file ")"
			else name = fn " [" obj "]"
			sum[name] += ir
		}
		END { for (n in sum) print sum[n] "\t" n }'
}

# profile_per_table SMALL_FILE LARGE_FILE INCLUSIVE: "Ir-per-table<TAB>function"
# (and "total"), the difference of the two sessions over the difference of
# their sizes.
profile_per_table() {
	local n1 n2
	read -r n1 n2 <<<"${P_SIZES}"
	awk -F '\t' -v dn=$((n2 - n1)) '
		FNR == 1 { f++ }
		{ key = ($1 == "total") ? "total" : $2; val = ($1 == "total") ? $2 : $1
		  if (f == 1) a[key] = val; else b[key] = val; k[key] = 1 }
		END { for (x in k) printf "%.1f\t%s\n", (b[x] - a[x]) / dn, x }' \
		<(profile_functions "$1" "$3") <(profile_functions "$2" "$3")
}

# profile_figure: figure p, printed after the timed figures.
profile_figure() {
	local db kind n files=() expect got n1 n2 total bare small large entry edb ekind en efile
	local -A per_table
	read -r n1 n2 <<<"${P_SIZES}"
	profile_prepare
	profile_start
	for kind in empty row; do
		for db in p_bare p_guarded p_plpgsql; do
			for n in ${n1} ${n2}; do
				info "p: ${db}: DROP SCHEMA of ${n} ${kind} tables under callgrind"
				files+=("${db}:${kind}:${n}:$(profile_session "${db}" "p_${kind}_${n}")")
			done
		done
	done
	# The premise: each guard judged (and audited) the warm-up table, the
	# schema and every table of each drop.
	expect=$((2 * (n1 + 2) + 2 * (n2 + 2)))
	got="$(qv "${PORT_PROF}" p_guarded "SELECT count(*) FROM guarded_ddl.audit WHERE decision = 'allowed'")"
	[[ "${got}" -eq "${expect}" ]] || die "p: guarded_ddl audited ${got} allowed drops, expected ${expect}"
	got="$(qv "${PORT_PROF}" p_plpgsql 'SELECT count(*) FROM diy_guard.audit')"
	[[ "${got}" -eq "${expect}" ]] || die "p: the PL/pgSQL guard audited ${got} drops, expected ${expect}"
	as_test_user pg_ctl -D "${WORK_DIR}/prof/data" -m fast -w -t 300 stop >/dev/null || true

	for kind in empty row; do
		for db in p_bare p_guarded p_plpgsql; do
			small="" large=""
			for entry in "${files[@]}"; do
				IFS=: read -r edb ekind en efile <<<"${entry}"
				[[ "${edb}" == "${db}" && "${ekind}" == "${kind}" ]] || continue
				[[ "${en}" == "${n1}" ]] && small="${efile}" || large="${efile}"
			done
			profile_per_table "${small}" "${large}" no >"${PROF_DIR}/${db}_${kind}.self"
			profile_per_table "${small}" "${large}" yes >"${PROF_DIR}/${db}_${kind}.incl"
			per_table["${db}:${kind}"]="$(awk -F '\t' '$2 == "total" { print $1 }' "${PROF_DIR}/${db}_${kind}.self")"
		done
	done

	echo
	echo "== p: instructions per dropped table (callgrind, the private installation; DROP SCHEMA ... CASCADE of ${n2}"
	echo "   and of ${n1} tables in fresh sessions after a warm-up DROP, difference / $((n2 - n1)); backup recorded)"
	printf '%-10s %12s %22s %22s\n' "tables" bare "guarded (/bare)" "plpgsql (/bare)"
	for kind in empty row; do
		printf '%-10s %12.0f %12.0f (%.3fx) %12.0f (%.3fx)\n' "$([[ "${kind}" == row ]] && echo one-row || echo empty)" \
			"${per_table[p_bare:${kind}]}" \
			"${per_table[p_guarded:${kind}]}" "$(awk -v a="${per_table[p_guarded:${kind}]}" -v b="${per_table[p_bare:${kind}]}" 'BEGIN { print a / b }')" \
			"${per_table[p_plpgsql:${kind}]}" "$(awk -v a="${per_table[p_plpgsql:${kind}]}" -v b="${per_table[p_bare:${kind}]}" 'BEGIN { print a / b }')"
	done
	for kind in empty row; do
		total="${per_table[p_guarded:${kind}]}"
		bare="${per_table[p_bare:${kind}]}"
		echo
		echo "-- $([[ "${kind}" == row ]] && echo one-row || echo empty) tables: top functions by instructions added per dropped table (self cost, guarded minus bare;"
		echo "   share of guarded's ${total%.*} instructions per table, and of the $(awk -v a="${total}" -v b="${bare}" 'BEGIN { printf "%.0f", a - b }') it adds to bare's)"
		printf '%10s %7s %7s  %s\n' "Ir/table" share "of added" function
		awk -F '\t' '
			FNR == 1 { f++ }
			$2 == "total" { next }
			f == 1 { bare[$2] = $1; next }
			{ d = $1 - bare[$2]; if (d > 0) print d "\t" $2 }' \
			"${PROF_DIR}/p_bare_${kind}.self" "${PROF_DIR}/p_guarded_${kind}.self" |
			sort -t "$(printf '\t')" -k1,1gr |
			awk -F '\t' -v t="${total}" -v b="${bare}" 'NR <= 15 { printf "%10.0f %6.1f%% %7.1f%%  %s\n", $1, 100 * $1 / t, 100 * $1 / (t - b), $2 }'
		echo "-- $([[ "${kind}" == row ]] && echo one-row || echo empty) tables: guarded_ddl's own functions per dropped table, inclusive of what they call"
		echo "   (not shown: those that wrap the whole statement, such as the utility hook)"
		printf '%10s %7s %7s  %s\n' "Ir/table" share "of added" function
		awk -F '\t' -v b="${bare}" '$2 ~ /\.c\)$/ && $1 > 0 && $1 < b' "${PROF_DIR}/p_guarded_${kind}.incl" |
			sort -t "$(printf '\t')" -k1,1gr |
			awk -F '\t' -v t="${total}" -v b="${bare}" 'NR <= 10 { printf "%10.0f %6.1f%% %7.1f%%  %s\n", $1, 100 * $1 / t, 100 * $1 / (t - b), $2 }'
	done
}
