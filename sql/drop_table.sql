--
-- drop_table: DROP of relations that hold rows.
--
-- Proves that
--   * a DROP naming several tables is refused whole when one of them holds
--     rows, and only the refused intent reaches the audit (the allowed one
--     was rolled back with the statement);
--   * IF EXISTS on missing tables, temporary tables, empty tables, empty or
--     never-populated materialized views, never-used sequences, views and
--     indexes pass (temporary tables are not even audited);
--   * materialized views with rows, used sequences, partitioned tables whose
--     rows live in one partition, and that partition itself are refused,
--     with SQLSTATE ZG002 (backup required);
--   * the statement forms Prisma, drizzle and TypeORM emit are caught;
--   * with a recent backup recorded the same DROP is allowed, and its audit
--     row names the backup, the transaction, the WAL position and the
--     restore point (guarded_ddl.recovery).
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never
-- SQLSTATE of a statement ('ok' when it succeeds), to assert refusal kinds.
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END;
$$;
-- The audit rows written since the given mark, oldest first.
CREATE FUNCTION pg_temp.audit_since(mark bigint)
RETURNS TABLE (decision text, operation text, object_type text,
               object_identity text, cascaded boolean, holds_data boolean,
               row_estimate bigint, command_tag text)
    LANGUAGE sql AS $$
    SELECT decision, operation, object_type, object_identity, cascaded,
           holds_data, row_estimate, command_tag
      FROM guarded_ddl.audit
     WHERE id > mark
     ORDER BY id
$$;
CREATE SCHEMA dt;
CREATE TABLE dt.customers (id int PRIMARY KEY, name text);
INSERT INTO dt.customers SELECT g, 'customer ' || g FROM generate_series(1, 1247) AS g;
CREATE TABLE dt.empty_one (id int);

-- A DROP naming an empty and a full table is refused as a whole: the empty
-- table survives, and only the refused intent is in the audit.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TABLE dt.empty_one, dt.customers;
SELECT to_regclass('dt.empty_one') IS NOT NULL AS empty_one_still_there;
SELECT * FROM pg_temp.audit_since(:mark);
SELECT pg_temp.sqlstate_of('DROP TABLE dt.empty_one, dt.customers');

-- The durable denial carries the statement, the reason and who ran it.
-- (Without the utility hook the statement is the client's query string,
-- semicolon included; with it, the statement alone.)
SELECT rtrim(statement, ';') AS statement, reason, policy_id, backup_id, role_name = current_user AS by_me
  FROM guarded_ddl.denials
 ORDER BY id
 LIMIT 1;

-- IF EXISTS on tables that do not exist: PostgreSQL's notices, no intent.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TABLE IF EXISTS dt.no_such_table, dt.no_such_either;
SELECT count(*) AS audit_rows FROM guarded_ddl.audit WHERE id > :mark;
-- without IF EXISTS PostgreSQL's own error comes first
DROP TABLE dt.no_such_table;

-- A temporary table, even with rows, is no business of the guard: dropped,
-- and not audited.
CREATE TEMP TABLE scratch (id int);
INSERT INTO scratch VALUES (1), (2);
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TABLE scratch;
SELECT * FROM pg_temp.audit_since(:mark);

-- An empty table is dropped and audited as allowed.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TABLE dt.empty_one;
SELECT * FROM pg_temp.audit_since(:mark);

-- Materialized views: one row is data (refused); WITH NO DATA or an empty
-- result is not.  The view's internal "_RETURN" rule is part of it and gets
-- no audit row of its own.
CREATE MATERIALIZED VIEW dt.mv_full AS SELECT 1 AS a;
CREATE MATERIALIZED VIEW dt.mv_unpopulated AS SELECT 1 AS a WITH NO DATA;
CREATE MATERIALIZED VIEW dt.mv_empty AS SELECT 1 AS a WHERE false;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP MATERIALIZED VIEW dt.mv_full;
DROP MATERIALIZED VIEW dt.mv_unpopulated;
DROP MATERIALIZED VIEW dt.mv_empty;
SELECT * FROM pg_temp.audit_since(:mark);

-- Sequences: one that handed out values is data; one never used is not.
CREATE SEQUENCE dt.invoice_no;
SELECT nextval('dt.invoice_no');
CREATE SEQUENCE dt.never_used;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP SEQUENCE dt.invoice_no;
DROP SEQUENCE dt.never_used;
SELECT * FROM pg_temp.audit_since(:mark);

-- A partitioned table whose rows all live in one partition: the parent is
-- refused (its DROP takes the partitions), the empty partition may go, the
-- full one may not.
CREATE TABLE dt.events (id int, region text) PARTITION BY LIST (region);
CREATE TABLE dt.events_eu PARTITION OF dt.events FOR VALUES IN ('eu');
CREATE TABLE dt.events_us PARTITION OF dt.events FOR VALUES IN ('us');
INSERT INTO dt.events VALUES (1, 'eu'), (2, 'eu'), (3, 'eu');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TABLE dt.events;
DROP TABLE dt.events_us;
DROP TABLE dt.events_eu;
SELECT * FROM pg_temp.audit_since(:mark);
SELECT pg_temp.sqlstate_of('DROP TABLE dt.events') AS drop_parent,
       pg_temp.sqlstate_of('DROP TABLE dt.events_eu') AS drop_partition;

-- Views and indexes hold no data: allowed, and audited.
CREATE VIEW dt.customer_names AS SELECT name FROM dt.customers;
CREATE INDEX customers_name_idx ON dt.customers (name);
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP VIEW dt.customer_names;
DROP INDEX dt.customers_name_idx;
-- CONCURRENTLY commits in the middle; it is audited all the same
CREATE INDEX customers_name_idx ON dt.customers (name);
DROP INDEX CONCURRENTLY dt.customers_name_idx;
SELECT * FROM pg_temp.audit_since(:mark);

-- What ORMs emit.  Prisma: a schema-qualified, quoted, mixed-case name.
CREATE TABLE dt."Post" (id int, title text);
INSERT INTO dt."Post" VALUES (1, 'hello'), (2, 'world');
DROP TABLE "dt"."Post";

-- drizzle-kit 0.31: unqualified, with CASCADE, found through search_path.
CREATE TABLE dt.users (id int PRIMARY KEY);
INSERT INTO dt.users VALUES (1), (2);
CREATE TABLE dt.sessions (user_id int REFERENCES dt.users, token text);
SET search_path = dt;
DROP TABLE "users" CASCADE;
RESET search_path;

-- TypeORM's dropSchema: one multi-object DROP TABLE IF EXISTS ... CASCADE.
-- Both tables hold rows; both denials are recorded, one ERROR names the
-- first and counts the other.
INSERT INTO dt.sessions VALUES (1, 'a'), (2, 'b');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TABLE IF EXISTS "dt"."sessions", "dt"."users" CASCADE;
SELECT * FROM pg_temp.audit_since(:mark);

-- Every refusal so far was for want of a backup: SQLSTATE ZG002.
SELECT pg_temp.sqlstate_of('DROP TABLE "dt"."Post"') AS prisma,
       pg_temp.sqlstate_of('DROP TABLE dt.users CASCADE') AS drizzle,
       pg_temp.sqlstate_of('DROP TABLE IF EXISTS "dt"."sessions", "dt"."users" CASCADE') AS typeorm;

-- With a recent backup recorded the same DROP is allowed.  Its audit row
-- names that backup, the transaction, the WAL position before the DROP and
-- the restore point created just before it.
SELECT guarded_ddl.record_backup('pgbackrest', 'nightly') AS backup_id \gset
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TABLE dt.customers;
SELECT * FROM pg_temp.audit_since(:mark);
SELECT backup_id = :backup_id AS names_the_backup,
       backup_age < interval '1 hour' AS backup_age_recent,
       txid IS NOT NULL AS has_txid,
       wal_lsn IS NOT NULL AS has_wal_lsn,
       restore_point IS NOT NULL AS has_restore_point,
       policy_id IS NULL AS decided_by_default
  FROM guarded_ddl.audit
 WHERE id > :mark;
SELECT object_identity,
       recovery_settings LIKE 'recovery_target_name = ''guarded_ddl_%' AS names_restore_point
  FROM guarded_ddl.recovery
 WHERE audit_id > :mark;

-- The same backup lets the partitioned table go: the parent and each
-- partition are audited, the partitions as taken along with it.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TABLE dt.events;
SELECT * FROM pg_temp.audit_since(:mark);

-- Clean up: what is left needs the override, then the extension goes too.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA dt CASCADE;
DROP EXTENSION guarded_ddl;
-- CREATE EXTENSION made the schema; DROP EXTENSION leaves it behind
DROP SCHEMA guarded_ddl;
COMMIT;
