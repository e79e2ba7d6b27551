--
-- event_trigger_protection: guarded_ddl's own event triggers cannot be
-- switched off, renamed, handed over or dropped without an override
-- (SQLSTATE ZG003).  ALTER/DROP EVENT TRIGGER fire no event trigger: only
-- the utility hook sees them, so this runs in the preloaded pass only.
--
-- Proves that
--   * ALTER EVENT TRIGGER ... DISABLE, ENABLE REPLICA, ENABLE (origin),
--     RENAME TO, OWNER TO and DROP EVENT TRIGGER [IF EXISTS] are refused
--     for each of the four triggers; ENABLE ALWAYS passes;
--   * the refusals are in guarded_ddl.denials (object type 'event trigger');
--   * with an override (inside BEGIN ... ROLLBACK) guarded_ddl lets them
--     through: DISABLE, ENABLE REPLICA and RENAME work, and DROP reaches
--     PostgreSQL, which refuses to drop an extension member on its own;
--   * a role that does not own the triggers gets PostgreSQL's own error,
--     and no denial is recorded for it;
--   * other event triggers are not guarded;
--   * afterwards all four triggers are still there, ENABLE ALWAYS.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- SQLSTATE a statement ends with ('ok' when it succeeds); whatever it did
-- is undone either way, so one attempt cannot disarm the next.
CREATE FUNCTION pg_temp.attempt(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RAISE EXCEPTION 'undo' USING ERRCODE = 'GDUND';
EXCEPTION
    WHEN SQLSTATE 'GDUND' THEN
        RETURN 'ok';
    WHEN OTHERS THEN
        RETURN SQLSTATE;
END;
$$;
-- Every change tried on every one of the four triggers.
CREATE TEMP TABLE changes (n int PRIMARY KEY, template text NOT NULL);
INSERT INTO changes VALUES
    (1, 'ALTER EVENT TRIGGER %I DISABLE'),
    (2, 'ALTER EVENT TRIGGER %I ENABLE REPLICA'),
    (3, 'ALTER EVENT TRIGGER %I ENABLE'),
    (4, 'ALTER EVENT TRIGGER %I ENABLE ALWAYS'),
    (5, 'ALTER EVENT TRIGGER %I RENAME TO renamed_trigger'),
    (6, 'ALTER EVENT TRIGGER %I OWNER TO gd_et_other'),
    (7, 'DROP EVENT TRIGGER %I'),
    (8, 'DROP EVENT TRIGGER IF EXISTS %I');
CREATE ROLE gd_et_other SUPERUSER;
CREATE ROLE gd_et_nobody;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset

-- The refusals, as the user sees them.
ALTER EVENT TRIGGER guarded_ddl_sql_drop DISABLE;
\echo :LAST_ERROR_SQLSTATE
ALTER EVENT TRIGGER guarded_ddl_sql_drop ENABLE REPLICA;
\echo :LAST_ERROR_SQLSTATE
ALTER EVENT TRIGGER guarded_ddl_sql_drop RENAME TO gd_sql_drop_off;
\echo :LAST_ERROR_SQLSTATE
DROP EVENT TRIGGER guarded_ddl_sql_drop;
\echo :LAST_ERROR_SQLSTATE
-- ENABLE ALWAYS is what they already are: it passes.
ALTER EVENT TRIGGER guarded_ddl_sql_drop ENABLE ALWAYS;

-- Every change of every one of the four is refused with ZG003, except
-- ENABLE ALWAYS.  (Inside BEGIN ... ROLLBACK: should one get through, the
-- triggers are back afterwards.)
BEGIN;
SELECT c.n, c.template, t.evtname, pg_temp.attempt(format(c.template, t.evtname)) AS sqlstate
  FROM changes AS c
 CROSS JOIN (VALUES ('guarded_ddl_ddl_command_start'), ('guarded_ddl_sql_drop'),
                    ('guarded_ddl_table_rewrite'), ('guarded_ddl_ddl_command_end')) AS t(evtname)
 ORDER BY c.n, t.evtname;
ROLLBACK;

-- A role that may not change the triggers at all gets PostgreSQL's own
-- error; that is no refusal of guarded_ddl, and no denial is recorded.
SELECT count(*) AS denials_before FROM guarded_ddl.denials WHERE id > :mark \gset
SET ROLE gd_et_nobody;
ALTER EVENT TRIGGER guarded_ddl_sql_drop DISABLE;
DROP EVENT TRIGGER guarded_ddl_sql_drop;
RESET ROLE;
SELECT count(*) - :denials_before AS new_denials FROM guarded_ddl.denials WHERE id > :mark;

-- Event triggers of others are not guarded.
CREATE FUNCTION pg_temp.noop_evt() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END; $$;
CREATE EVENT TRIGGER gd_et_someone_elses ON ddl_command_start EXECUTE FUNCTION pg_temp.noop_evt();
ALTER EVENT TRIGGER gd_et_someone_elses DISABLE;
ALTER EVENT TRIGGER gd_et_someone_elses RENAME TO gd_et_renamed;
DROP EVENT TRIGGER gd_et_renamed;

-- With an override guarded_ddl lets them through (undone by ROLLBACK).
-- DROP reaches PostgreSQL, which refuses to drop an extension member alone.
BEGIN;
SELECT guarded_ddl.override('event_trigger_protection test: maintenance');
ALTER EVENT TRIGGER guarded_ddl_sql_drop DISABLE;
ALTER EVENT TRIGGER guarded_ddl_table_rewrite ENABLE REPLICA;
ALTER EVENT TRIGGER guarded_ddl_ddl_command_end RENAME TO gd_command_end_renamed;
SELECT evtname, evtenabled FROM pg_event_trigger
 WHERE evtname LIKE 'guarded\_ddl\_%' OR evtname LIKE 'gd\_%'
 ORDER BY evtname;
SELECT c.n, c.template, pg_temp.attempt(format(c.template, 'guarded_ddl_ddl_command_start')) AS sqlstate
  FROM changes AS c
 ORDER BY c.n;
ROLLBACK;

-- Afterwards all four are still there, ENABLE ALWAYS, and status() agrees.
SELECT evtname, evtevent, evtenabled FROM pg_event_trigger
 WHERE evtname LIKE 'guarded\_ddl\_%'
 ORDER BY evtname;
SELECT item, value, ok FROM guarded_ddl.status() WHERE item = 'event triggers';

-- The refusals are in guarded_ddl.denials.
SELECT command_tag, operation, object_type, object_identity, count(*) AS times
  FROM guarded_ddl.denials
 WHERE id > :mark
 GROUP BY command_tag, operation, object_type, object_identity
 ORDER BY command_tag, operation, object_identity;
SELECT count(*) AS denials,
       count(*) FILTER (WHERE reason LIKE '% belongs to guarded_ddl itself') AS self_reason
  FROM guarded_ddl.denials
 WHERE id > :mark;

-- Clean up: the extension goes with an override, then the schema CREATE
-- EXTENSION made, and the roles.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP EXTENSION guarded_ddl;
DROP SCHEMA guarded_ddl;
COMMIT;
DROP ROLE gd_et_other;
DROP ROLE gd_et_nobody;
