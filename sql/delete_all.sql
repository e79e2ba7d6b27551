--
-- delete_all: DELETE without a WHERE clause, judged by the executor hook
-- (library preloaded).  Preloaded pass only.
--
-- Proves that
--   * without a rule whose operation is exactly delete_all nothing is
--     judged and nothing is audited -- not by default_action = deny, not by
--     a '*' deny rule on the very table;
--   * with such a rule (require_backup, no backup): DELETE without WHERE,
--     WHERE true, WHERE 1 = 1 and DELETE ... USING without a join condition
--     are refused (ZG002) on a table with rows; a WHERE that filters, WHERE
--     false, DELETE ... USING with a join condition and UPDATE without
--     WHERE pass;
--   * it is seen at every depth: SQL and PL/pgSQL functions, DO blocks,
--     CTEs (WITH d AS (DELETE ... RETURNING *)), prepared statements with
--     custom and generic (cached) plans;
--   * decided like TRUNCATE: an empty table passes (audited with its rule),
--     DELETE FROM ONLY a parent whose rows are all in a child passes, a
--     partitioned table with rows is refused, temporary tables pass;
--   * the rule's role pattern decides who opted in; a deny rule refuses
--     with ZG001; override() lets it through, audited as overridden;
--   * EXPLAIN without ANALYZE is not judged;
--   * hostile identifiers (quotes, spaces, unicode, 63 bytes) are judged
--     and named like any other; a role without the DELETE right gets
--     PostgreSQL's own error (42501) and leaves no denial;
--   * a delete_all rule naming a table guards that table's RENAME and SET
--     SCHEMA, not its columns' renames; a rule naming no schema and no
--     table guards no rename;
--   * every refusal is in guarded_ddl.denials with operation delete_all;
--     with a recent backup the DELETE is allowed and audited (operation
--     delete_all, command_tag DELETE, the statement, the backup).
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- SQLSTATE of a statement ('ok' when it succeeds; the success is kept).
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END;
$$;

-- SQLSTATE of a statement, whose effect is always rolled back.
CREATE FUNCTION pg_temp.sqlstate_rolled_back(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        EXECUTE stmt;
        RAISE EXCEPTION 'roll back' USING ERRCODE = 'P0004';
    EXCEPTION WHEN assert_failure THEN
        RETURN 'ok';
    END;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END;
$$;

CREATE SCHEMA da;
CREATE TABLE da.t (id int PRIMARY KEY, v text);
INSERT INTO da.t SELECT g, 'v' || g FROM generate_series(1, 1247) AS g;
CREATE TABLE da.u (id int PRIMARY KEY);
INSERT INTO da.u VALUES (1), (2);
CREATE TABLE da.empty_t (id int);
CREATE TABLE da.inh_parent (id int);
CREATE TABLE da.inh_child () INHERITS (da.inh_parent);
INSERT INTO da.inh_child VALUES (1);
CREATE TABLE da.parted (id int, k int) PARTITION BY LIST (k);
CREATE TABLE da.parted_1 PARTITION OF da.parted FOR VALUES IN (1);
CREATE TABLE da.parted_2 PARTITION OF da.parted FOR VALUES IN (2);
INSERT INTO da.parted VALUES (1, 1);
CREATE ROLE gd_da_app;
GRANT USAGE ON SCHEMA da TO gd_da_app;
GRANT SELECT, DELETE ON da.t TO gd_da_app;

SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset

-- Opt-in: no delete_all rule, so nothing is judged or audited, whatever
-- default_action and '*' rules say.
SET guarded_ddl.default_action = deny;
INSERT INTO guarded_ddl.policy (operation, schema_name, object_name, action, note)
VALUES ('*', 'da', 't', 'deny', 'every operation on da.t, but not delete_all');
SELECT pg_temp.sqlstate_rolled_back('DELETE FROM da.t') AS no_rule;
SELECT count(*) AS audited FROM guarded_ddl.audit WHERE id > :mark;
DELETE FROM guarded_ddl.policy;
RESET guarded_ddl.default_action;

-- Opted in: every DELETE without WHERE in schema da needs a recent backup.
INSERT INTO guarded_ddl.policy (operation, schema_name, action, note)
VALUES ('delete_all', 'da', 'require_backup', 'migrations must not empty tables')
RETURNING id AS rule_id \gset

-- A refusal in full.
DELETE FROM da.t;

-- What takes every row is refused ...
SELECT pg_temp.sqlstate_rolled_back('DELETE FROM da.t WHERE true') AS where_true,
       pg_temp.sqlstate_rolled_back('DELETE FROM da.t WHERE 1 = 1') AS where_1_eq_1,
       pg_temp.sqlstate_rolled_back('DELETE FROM da.t AS x') AS aliased,
       pg_temp.sqlstate_rolled_back('DELETE FROM da.t RETURNING id') AS returning,
       pg_temp.sqlstate_rolled_back('DELETE FROM da.t USING da.u') AS using_no_join;
-- ... what filters passes.
SELECT pg_temp.sqlstate_rolled_back('DELETE FROM da.t WHERE id > 0') AS filtering,
       pg_temp.sqlstate_rolled_back('DELETE FROM da.t WHERE id = 5') AS by_key,
       pg_temp.sqlstate_rolled_back('DELETE FROM da.t WHERE false') AS where_false,
       pg_temp.sqlstate_rolled_back('DELETE FROM da.t USING da.u WHERE t.id = u.id') AS using_join,
       pg_temp.sqlstate_rolled_back('DELETE FROM da.t WHERE id IN (SELECT id FROM da.u)') AS subquery,
       pg_temp.sqlstate_rolled_back('UPDATE da.t SET v = NULL') AS update_all;

-- Every depth: SQL function, PL/pgSQL function, DO, CTE, prepared statement.
CREATE FUNCTION da.clear_sql() RETURNS void LANGUAGE sql AS 'DELETE FROM da.t';
CREATE FUNCTION da.clear_plpgsql() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM da.t;
END;
$$;
SELECT pg_temp.sqlstate_rolled_back('SELECT da.clear_sql()') AS sql_function,
       pg_temp.sqlstate_rolled_back('SELECT da.clear_plpgsql()') AS plpgsql_function,
       pg_temp.sqlstate_rolled_back('DO $d$ BEGIN DELETE FROM da.t; END $d$') AS do_block,
       pg_temp.sqlstate_rolled_back('WITH d AS (DELETE FROM da.t RETURNING *) SELECT count(*) FROM d') AS cte,
       pg_temp.sqlstate_rolled_back('WITH d AS (DELETE FROM da.t WHERE id < 3 RETURNING *) SELECT count(*) FROM d') AS cte_filtering;
-- the PL/pgSQL function's plan is cached by now: still seen
SELECT pg_temp.sqlstate_rolled_back('SELECT da.clear_plpgsql()') AS plpgsql_cached_plan;
PREPARE clear_all AS DELETE FROM da.t;
SET plan_cache_mode = force_generic_plan;
SELECT pg_temp.sqlstate_of('EXECUTE clear_all') AS prepared_1,
       pg_temp.sqlstate_of('EXECUTE clear_all') AS prepared_2;
RESET plan_cache_mode;
DEALLOCATE clear_all;
SELECT count(*) AS rows_kept FROM da.t;

-- Decided like TRUNCATE: no rows, nothing lost.
SELECT coalesce(max(id), 0) AS mark_empty FROM guarded_ddl.audit \gset
DELETE FROM da.empty_t;
SELECT decision, operation, object_identity, holds_data, policy_id = :rule_id AS by_rule
  FROM guarded_ddl.audit WHERE id > :mark_empty ORDER BY id;
SELECT pg_temp.sqlstate_rolled_back('DELETE FROM ONLY da.inh_parent') AS only_parent,
       pg_temp.sqlstate_rolled_back('DELETE FROM da.inh_parent') AS parent_with_child,
       pg_temp.sqlstate_rolled_back('DELETE FROM da.parted') AS partitioned,
       pg_temp.sqlstate_rolled_back('DELETE FROM da.parted_1') AS partition_with_rows,
       pg_temp.sqlstate_rolled_back('DELETE FROM da.parted_2') AS empty_partition;
CREATE TEMP TABLE scratch AS SELECT 1 AS x;
DELETE FROM scratch;

-- EXPLAIN plans, deletes nothing: not judged.  EXPLAIN ANALYZE deletes.
EXPLAIN (COSTS OFF) DELETE FROM da.t;
SELECT pg_temp.sqlstate_rolled_back('EXPLAIN ANALYZE DELETE FROM da.t') AS explain_analyze;

-- The rule's patterns decide who opted in: a rule for one role only.
UPDATE guarded_ddl.policy SET role_name = 'gd_da_migrator' WHERE id = :rule_id;
SET ROLE gd_da_app;
SELECT pg_temp.sqlstate_rolled_back('DELETE FROM da.t') AS other_role;
RESET ROLE;
UPDATE guarded_ddl.policy SET role_name = 'gd_da_app', action = 'deny' WHERE id = :rule_id;
SET ROLE gd_da_app;
SELECT pg_temp.sqlstate_rolled_back('DELETE FROM da.t') AS denied_role;
RESET ROLE;
UPDATE guarded_ddl.policy SET role_name = '*', action = 'require_backup' WHERE id = :rule_id;

-- Renames: a delete_all rule naming a table guards the table's rename (it
-- would move the table out of the rule), not its columns' renames; a rule
-- naming no schema and no table guards no rename at all.
UPDATE guarded_ddl.policy SET enabled = false WHERE id = :rule_id;
INSERT INTO guarded_ddl.policy (operation, schema_name, object_name, action)
VALUES ('delete_all', 'da', 'u', 'deny') RETURNING id AS u_rule \gset
INSERT INTO guarded_ddl.policy (operation, action)
VALUES ('delete_all', 'require_backup') RETURNING id AS anywhere_rule \gset
SELECT pg_temp.sqlstate_rolled_back('ALTER TABLE da.u RENAME TO u2') AS rename_named,
       pg_temp.sqlstate_rolled_back('ALTER TABLE da.u SET SCHEMA public') AS move_named,
       pg_temp.sqlstate_rolled_back('ALTER TABLE da.u RENAME COLUMN id TO id2') AS rename_column,
       pg_temp.sqlstate_rolled_back('ALTER TABLE da.t RENAME TO t2') AS rename_other;
DELETE FROM guarded_ddl.policy WHERE id IN (:u_rule, :anywhere_rule);
UPDATE guarded_ddl.policy SET enabled = true WHERE id = :rule_id;

-- override() lets one through, audited as such.
SELECT coalesce(max(id), 0) AS mark_override FROM guarded_ddl.audit \gset
BEGIN;
SELECT guarded_ddl.override('clearing the staging copy') IS NOT NULL AS overridden;
DELETE FROM da.u;
SELECT decision, operation, object_identity, reason
  FROM guarded_ddl.audit WHERE id > :mark_override ORDER BY id;
ROLLBACK;
SELECT count(*) AS u_rows FROM da.u;

-- Hostile identifiers: quotes, spaces, unicode, a 63-byte name.
CREATE TABLE da."We""ird ü tab" (id int);
INSERT INTO da."We""ird ü tab" VALUES (1);
CREATE TABLE da.t23456789012345678901234567890123456789012345678901234567890123 (id int);
INSERT INTO da.t23456789012345678901234567890123456789012345678901234567890123 VALUES (1);
SELECT pg_temp.sqlstate_rolled_back('DELETE FROM da."We""ird ü tab"') AS weird_name,
       pg_temp.sqlstate_rolled_back('DELETE FROM da.t23456789012345678901234567890123456789012345678901234567890123') AS long_name;

-- A role without the DELETE right gets PostgreSQL's own error and leaves
-- no denial: the guard judges only after the permission check.
CREATE ROLE gd_da_reader;
GRANT USAGE ON SCHEMA da TO gd_da_reader;
GRANT SELECT ON da.t TO gd_da_reader;
SELECT count(*) AS denials_before FROM guarded_ddl.denials WHERE id > :mark \gset
SET ROLE gd_da_reader;
SELECT pg_temp.sqlstate_rolled_back('DELETE FROM da.t') AS no_right;
RESET ROLE;
SELECT count(*) - :denials_before AS new_denials FROM guarded_ddl.denials WHERE id > :mark;

-- Every refusal is in guarded_ddl.denials.
SELECT object_identity, command_tag, count(*) AS denials
  FROM guarded_ddl.denials
 WHERE id > :mark AND operation = 'delete_all'
 GROUP BY object_identity, command_tag
 ORDER BY object_identity;

-- With a recent backup it is allowed and audited.
SELECT guarded_ddl.record_backup('pg_dump', 'delete_all test') AS backup_id \gset
SELECT coalesce(max(id), 0) AS mark2 FROM guarded_ddl.audit \gset
DELETE FROM da.t;
SELECT decision, operation, object_type, object_identity, holds_data,
       row_estimate > 0 AS counted, command_tag, statement,
       backup_id = :backup_id AS by_backup, policy_id = :rule_id AS by_rule
  FROM guarded_ddl.audit WHERE id > :mark2 ORDER BY id;
SELECT count(*) AS t_rows FROM da.t;

-- Clean up.
SET client_min_messages = warning;
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA da CASCADE;
DROP EXTENSION guarded_ddl;
DROP SCHEMA guarded_ddl;
COMMIT;
DROP ROLE gd_da_app;
DROP ROLE gd_da_reader;
RESET client_min_messages;
