--
-- deletion_paths: every path that deletes a table, or guarded_ddl itself,
-- meets the guard -- seen where PostgreSQL deletes each object, not
-- predicted from the statement.
--
-- Proves that
--   * DROP EXTENSION plpgsql CASCADE would take guarded_ddl's own functions
--     (and a generated column computed by a plpgsql function): refused with
--     ZG003, nothing dropped, one denial row;
--   * CASCADE from a function guarded_ddl's triggers call, from a type its
--     table uses, and DROP OWNED BY the role owning guarded_ddl are refused
--     the same way;
--   * DROP OWNED BY a role whose table holds rows is refused (ZG002, the
--     table was probed as it went), and goes through when its tables are
--     empty;
--   * a permanent table cannot be made to depend on a temporary object
--     (ALTER TABLE ... OF a temporary type, a column of a temporary type or
--     of a domain over one, a default or generated column calling a
--     temporary function): refused with 42P16, so DISCARD TEMP and the end
--     of the session cannot take permanent data;
--   * PostgreSQL's own ways are untouched: a temporary table may use
--     temporary types and functions.
--
-- Runs in a database of its own, where guarded_ddl is owned by a superuser
-- that DROP OWNED can be aimed at.
--
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE ROLE regress_gd_ext_owner SUPERUSER;
CREATE ROLE regress_gd_app LOGIN;
CREATE DATABASE regress_gd_paths OWNER regress_gd_app;
\c regress_gd_paths
SET ROLE regress_gd_ext_owner;
CREATE EXTENSION guarded_ddl;
RESET ROLE;
CREATE SCHEMA app;
CREATE SCHEMA own AUTHORIZATION regress_gd_app;

-- SQLSTATE and message of a statement; whatever it did is undone, so one
-- attempt cannot disarm the next.
CREATE FUNCTION pg_temp.attempt(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RAISE EXCEPTION 'undo' USING ERRCODE = 'GDUND';
EXCEPTION
    WHEN SQLSTATE 'GDUND' THEN
        RETURN 'ok';
    WHEN OTHERS THEN
        RETURN SQLSTATE || ': ' || SQLERRM;
END;
$$;

-- A table with a generated column computed by a plpgsql function, and a
-- table of the extension's owner with rows.
CREATE FUNCTION app.doubled(int) RETURNS int
    LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN $1 * 2; END';
CREATE TABLE app.gen (a int, b int GENERATED ALWAYS AS (app.doubled(a)) STORED);
INSERT INTO app.gen (a) SELECT generate_series(1, 5);
CREATE TABLE public.keep (id int);
INSERT INTO public.keep SELECT generate_series(1, 10);
ALTER TABLE public.keep OWNER TO regress_gd_ext_owner;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset

-- The denial of a statement that was deleting part of guarded_ddl is
-- committed right after its abort released the audit table: wait for it.
CREATE FUNCTION pg_temp.wait_denials(mark bigint, expected int) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    FOR i IN 1..1200 LOOP
        SELECT count(*) INTO n FROM guarded_ddl.audit AS a
         WHERE a.id > mark AND a.decision = 'denied';
        EXIT WHEN n >= expected;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN n;
END;
$$;

-- Cascades that would take guarded_ddl with them.  (PostgreSQL itself
-- refuses to drop one member of an extension on its own: 2BP01.)
-- (its NOTICE would name this session's numbered temporary schema)
SET client_min_messages = warning;
SELECT pg_temp.attempt('DROP EXTENSION plpgsql CASCADE');
RESET client_min_messages;
SELECT pg_temp.attempt('DROP FUNCTION guarded_ddl.glob_match(text, text) CASCADE');
SELECT pg_temp.attempt('DROP FUNCTION guarded_ddl.policy_changed() CASCADE');
SELECT pg_temp.attempt('DROP OWNED BY regress_gd_ext_owner');
SELECT pg_temp.attempt('DROP OWNED BY regress_gd_ext_owner CASCADE');
-- each refusal left one denial row naming the first of guarded_ddl's
-- objects hit
SELECT pg_temp.wait_denials(:mark, 3) AS denials;
SELECT command_tag, decision, count(*) AS rows
  FROM guarded_ddl.audit WHERE id > :mark
 GROUP BY command_tag, decision ORDER BY command_tag, decision;
-- and nothing is gone
SELECT count(*) AS keep_rows FROM public.keep;
SELECT sum(b) AS gen_sum FROM app.gen;
SELECT count(*) AS event_triggers FROM pg_event_trigger WHERE evtname LIKE 'guarded_ddl%';
SELECT extname FROM pg_extension WHERE extname IN ('plpgsql', 'guarded_ddl') ORDER BY 1;

-- DROP OWNED of an application role: its tables are probed as they go
-- (here: a table with a row, an empty one, a used sequence).
SET ROLE regress_gd_app;
CREATE TABLE own.orders (id serial, note text);
INSERT INTO own.orders (note) VALUES ('first');
CREATE TABLE own.empty_one (id int);
RESET ROLE;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
SELECT pg_temp.attempt('DROP OWNED BY regress_gd_app');
SELECT decision, object_identity, holds_data, row_estimate
  FROM guarded_ddl.audit WHERE id > :mark ORDER BY object_identity;
SELECT count(*) AS orders_rows FROM own.orders;
-- emptied, the used serial sequence still counts: the keys it handed out
-- are data of their own (a used sequence OWNED BY an empty table is judged
-- as the used sequence it is) ...
-- (TRUNCATE itself is guarded when the library is preloaded: overridden)
BEGIN;
SELECT guarded_ddl.override('deletion_paths: empty the table') \gset
TRUNCATE own.orders;
COMMIT;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
SELECT pg_temp.attempt('DROP OWNED BY regress_gd_app');
SELECT decision, object_type, object_identity, holds_data
  FROM guarded_ddl.audit WHERE id > :mark ORDER BY object_identity;
-- ... restarted, it has handed out nothing, and DROP OWNED goes through,
-- schema and all
BEGIN;
SELECT guarded_ddl.override('deletion_paths: restart its sequence') \gset
TRUNCATE own.orders RESTART IDENTITY;
COMMIT;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP OWNED BY regress_gd_app;
SELECT decision, object_type, object_identity, holds_data
  FROM guarded_ddl.audit WHERE id > :mark ORDER BY object_identity;
SELECT to_regnamespace('own') AS own_schema;

-- A large object removed by DROP OWNED is data too.
SET ROLE regress_gd_app;
SELECT lo_from_bytea(424242, 'scanned contract') AS large_object;
RESET ROLE;
SELECT pg_temp.attempt('DROP OWNED BY regress_gd_app');
SELECT decision, object_type, object_identity, holds_data
  FROM guarded_ddl.denials WHERE object_type = 'large object';
SELECT length(lo_get(424242)) AS large_object_bytes;
SELECT lo_unlink(424242);

-- A DELETE earlier in the same transaction does not make a table (or a
-- column) empty for the guard: the rows are committed data until it commits.
CREATE TABLE app.ledger (id int, note text);
INSERT INTO app.ledger SELECT g, 'entry ' || g FROM generate_series(1, 3) g;
BEGIN;
DELETE FROM app.ledger;
SELECT pg_temp.attempt('DROP TABLE app.ledger');
SELECT pg_temp.attempt('ALTER TABLE app.ledger DROP COLUMN note');
ROLLBACK;
SELECT count(*) AS ledger_rows FROM app.ledger;

-- A permanent table never depends on a temporary object.
CREATE SCHEMA app2 AUTHORIZATION regress_gd_app;
GRANT USAGE ON SCHEMA app2 TO PUBLIC;
SET ROLE regress_gd_app;
CREATE TABLE app2.victim (id int, name text);
INSERT INTO app2.victim SELECT g, 'row ' || g FROM generate_series(1, 100) g;
CREATE TYPE pg_temp.ct AS (id int, name text);
CREATE DOMAIN pg_temp.posint AS int CHECK (VALUE > 0);
CREATE FUNCTION pg_temp.one() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION pg_temp.twice(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
ALTER TABLE app2.victim OF pg_temp.ct;
ALTER TABLE app2.victim ADD COLUMN extra pg_temp.ct;
ALTER TABLE app2.victim ADD COLUMN n pg_temp.posint;
ALTER TABLE app2.victim ALTER COLUMN id SET DEFAULT pg_temp.one();
ALTER TABLE app2.victim ADD COLUMN g int GENERATED ALWAYS AS (pg_temp.twice(id)) STORED;
CREATE TABLE app2.born_bad (c pg_temp.ct);
CREATE DOMAIN app2.d AS pg_temp.ct;
-- temporary tables may use temporary objects as they like
CREATE TEMP TABLE scratch (c pg_temp.ct, n int DEFAULT pg_temp.one());
INSERT INTO scratch (c) VALUES (ROW(1, 'x'));
-- the end of the temporary objects takes nothing permanent
DISCARD TEMP;
SELECT count(*) AS victim_rows, count(name) AS names FROM app2.victim;
SELECT attname FROM pg_attribute
 WHERE attrelid = 'app2.victim'::regclass AND attnum > 0 AND NOT attisdropped
 ORDER BY attnum;
SELECT to_regclass('app2.born_bad') AS born_bad;
-- and neither does the end of the session
CREATE TYPE pg_temp.ct2 AS (id int, name text);
ALTER TABLE app2.victim OF pg_temp.ct2;
SELECT pg_backend_pid() AS old_pid \gset
RESET ROLE;
\c regress_gd_paths
-- wait until that backend is gone: it drops its temporary schema first
CREATE FUNCTION pg_temp.gone(old_pid int) RETURNS boolean
    LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..1200 LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_stat_activity AS a WHERE a.pid = old_pid) THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN false;
END;
$$;
SELECT pg_temp.gone(:old_pid);
SELECT count(*) AS victim_rows_after_disconnect FROM app2.victim;
SELECT reloftype = 0 AS not_typed FROM pg_class WHERE oid = 'app2.victim'::regclass;

-- Clean up (the database is protected when the library is preloaded).
\c contrib_regression
SET guarded_ddl.allow_drop_database = 'regress_gd_paths';
DROP DATABASE regress_gd_paths;
DROP ROLE regress_gd_app;
DROP ROLE regress_gd_ext_owner;
