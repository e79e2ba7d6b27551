--
-- rename_guard: a rename cannot move an object out from under the rule that
-- protects it (DESIGN §3.1).  With a recent backup recorded (so the default
-- would let the drops through) and deny rules naming objects under their
-- current names, each two-step attack -- rename, then drop under the new
-- name -- is stopped at the rename:
--   * RENAME COLUMN of a column a deny rule names;
--   * RENAME of a table a deny rule names, or whose column one names;
--   * SET SCHEMA of such a table;
--   * RENAME of the schema holding such a table (a schema holding none of
--     them can be renamed);
-- each refusal names the protecting rule (ZG001).  A require_backup rule
-- asks the rename for a recent backup; a warn rule warns; an allow rule and
-- a rule about renames themselves change nothing; objects no rule protects
-- are renamed as before.  ALTER DATABASE ... RENAME of a protected database
-- is tested in drop_database (it needs the hook).
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never

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

CREATE SCHEMA rg;
CREATE SCHEMA rg_other;
CREATE SCHEMA rg_plain;
CREATE TABLE rg.customers (id int, embedding text, note text);
INSERT INTO rg.customers VALUES (1, 'v', 'n');
CREATE TABLE rg.precious (id int);
INSERT INTO rg.precious VALUES (1);
CREATE TABLE rg.moved (id int);
INSERT INTO rg.moved VALUES (1);
CREATE TABLE rg.backed (id int);
INSERT INTO rg.backed VALUES (1);
CREATE TABLE rg.noisy (id int);
CREATE TABLE rg_plain.free (id int);
SELECT guarded_ddl.record_backup('pgbackrest', 'nightly') > 0 AS backup_recorded;
INSERT INTO guarded_ddl.policy (id, operation, schema_name, object_name, column_name, action) VALUES
    (1, 'drop', 'rg', 'customers', 'embedding', 'deny'),
    (2, 'drop', 'rg', 'precious', '*', 'deny'),
    (3, '*', 'rg', 'moved', '*', 'deny'),
    (5, 'drop', 'rg', 'noisy', '*', 'warn'),
    (6, 'rename', 'rg', 'customers', 'note', 'deny');
INSERT INTO guarded_ddl.policy (id, operation, schema_name, object_name, backup_max_age, action)
VALUES (7, 'drop', 'rg', 'backed', interval '1 minute', 'require_backup');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset

-- The two-step attacks, each stopped at the rename.
SELECT pg_temp.attempt('ALTER TABLE rg.customers RENAME COLUMN embedding TO e2') AS rename_column,
       pg_temp.attempt('ALTER TABLE rg.customers RENAME TO c2') AS rename_table_of_column,
       pg_temp.attempt('ALTER TABLE rg.precious RENAME TO p2') AS rename_table,
       pg_temp.attempt('ALTER TABLE rg.moved SET SCHEMA rg_other') AS set_schema,
       pg_temp.attempt('ALTER SCHEMA rg RENAME TO rg2') AS rename_schema;
SELECT operation, object_identity, reason, policy_id
  FROM guarded_ddl.denials WHERE id > :mark ORDER BY id;

-- The message names the rule.
ALTER TABLE rg.customers RENAME COLUMN embedding TO e2;

-- A rename rule (6) is about renames; the deny rule on note decides it as
-- before, and a column no rule protects is renamed.
SELECT pg_temp.attempt('ALTER TABLE rg.customers RENAME COLUMN note TO n2') AS rename_rule_column,
       pg_temp.attempt('ALTER TABLE rg.customers RENAME COLUMN id TO customer_id') AS free_column;

-- require_backup: the rename needs a backup recent enough for the rule
-- (1 minute: the recorded one is, so it goes); warn: a WARNING.
SELECT pg_temp.attempt('ALTER TABLE rg.backed RENAME TO b2') AS with_backup;
UPDATE guarded_ddl.backups SET finished_at = now() - interval '1 hour';
SELECT pg_temp.attempt('ALTER TABLE rg.backed RENAME TO b2') AS backup_too_old;
BEGIN;
ALTER TABLE rg.noisy RENAME TO n2;
ROLLBACK;

-- Objects no rule protects, and a schema holding none of them.
SELECT pg_temp.attempt('ALTER TABLE rg_plain.free RENAME TO f2') AS free_table,
       pg_temp.attempt('ALTER SCHEMA rg_plain RENAME TO rg_plain2') AS free_schema,
       pg_temp.attempt('ALTER SCHEMA rg_other RENAME TO rg_other2') AS other_schema;

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('rename_guard cleanup') \gset
DROP SCHEMA rg, rg_other, rg_plain CASCADE;
DELETE FROM guarded_ddl.policy;
DROP EXTENSION guarded_ddl;
DROP SCHEMA guarded_ddl;
COMMIT;
