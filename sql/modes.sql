--
-- modes: guarded_ddl.mode, the audit level, and what survives a rollback.
--
-- Proves that
--   * mode = warn refuses nothing: the statement runs with a WARNING saying
--     what would have been refused, audited as 'warned';
--   * mode = off does nothing at all, not even audit;
--   * mode = enforce (the default) refuses again; status() reports the mode;
--   * the settings are superuser-only and override() is not granted to
--     PUBLIC, so the roles the guard watches cannot switch it off;
--   * session_replication_role = replica does not bypass the guard;
--   * audit = all also records every other DDL command (operation 'ddl');
--   * a rolled-back DROP leaves no 'allowed' row, while a denial survives
--     the rollback of its transaction;
--   * override() lasts until the end of its transaction or savepoint;
--   * restore_points = off creates no restore point, the rest of the
--     evidence stays.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE FUNCTION pg_temp.audit_since(mark bigint)
RETURNS TABLE (decision text, operation text, object_type text,
               object_identity text, command_tag text, reason text)
    LANGUAGE sql AS $$
    SELECT decision, operation, object_type, object_identity, command_tag, reason
      FROM guarded_ddl.audit
     WHERE id > mark
     ORDER BY id
$$;
CREATE SCHEMA md;
CREATE TABLE md.full_one (id int);
INSERT INTO md.full_one VALUES (1), (2);
CREATE TABLE md.full_two (id int);
INSERT INTO md.full_two VALUES (1), (2);
CREATE TABLE md.full_three (id int);
INSERT INTO md.full_three VALUES (1), (2);
CREATE TABLE md.empty_one (id int);

-- enforce is the default, and status() says all is well (its 'utility
-- hook' and 'audit writer' rows depend on preloading, its 'newest backup'
-- row on the clock).
SHOW guarded_ddl.mode;
SELECT item, value, ok FROM guarded_ddl.status()
 WHERE item NOT IN ('utility hook', 'newest backup', 'audit writer');
DROP TABLE md.full_one;

-- warn: the statement runs; the WARNING says what enforce would do, the
-- audit row is 'warned' and still carries the recovery evidence.
SET guarded_ddl.mode = warn;
SELECT item, value, ok FROM guarded_ddl.status() WHERE item IN ('mode', 'denials (24 h)');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TABLE md.full_one;
SELECT to_regclass('md.full_one') IS NULL AS dropped;
SELECT * FROM pg_temp.audit_since(:mark);
SELECT restore_point IS NOT NULL AS has_restore_point, txid IS NOT NULL AS has_txid
  FROM guarded_ddl.audit WHERE id > :mark;
-- a deny rule is only a warning too
INSERT INTO guarded_ddl.policy (id, object_name, action) VALUES (1, 'full_two', 'deny');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
BEGIN;
ALTER TABLE md.full_two RENAME COLUMN id TO ident;
SELECT * FROM pg_temp.audit_since(:mark);
ROLLBACK;
DELETE FROM guarded_ddl.policy;

-- off: the guard stands aside entirely; nothing is audited.
SET guarded_ddl.mode = off;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE md.full_two DROP COLUMN id;
DROP TABLE md.full_two;
SELECT count(*) AS audit_rows FROM guarded_ddl.audit WHERE id > :mark;

-- back to enforce: refused again.
RESET guarded_ddl.mode;
DROP TABLE md.full_three;

-- The settings are superuser-only and override() is not granted to PUBLIC:
-- an ordinary role can neither switch the guard off nor break the glass.
CREATE ROLE regress_gd_modes_user;
SET ROLE regress_gd_modes_user;
SET guarded_ddl.mode = off;
SET guarded_ddl.default_action = allow;
SET guarded_ddl.audit = 'all';
BEGIN;
SELECT guarded_ddl.override('let me');
ROLLBACK;
RESET ROLE;

-- session_replication_role = replica skips ordinary event triggers, not
-- guarded_ddl's (ENABLE ALWAYS).
SET session_replication_role = replica;
DROP TABLE md.full_three;
RESET session_replication_role;
SELECT evtname, evtenabled FROM pg_event_trigger ORDER BY evtname;

-- audit = destructive (the default) records only intents; audit = all
-- also every other DDL command, as operation 'ddl'.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
CREATE TABLE md.quiet (id int);
SET guarded_ddl.audit = 'all';
CREATE TABLE md.loud (id int);
CREATE INDEX loud_id_idx ON md.loud (id);
COMMENT ON TABLE md.loud IS 'audited';
ALTER TABLE md.loud ADD COLUMN note text;
DROP TABLE md.quiet;
RESET guarded_ddl.audit;
CREATE TABLE md.quiet_again (id int);
SELECT * FROM pg_temp.audit_since(:mark);

-- A DROP that is rolled back leaves no 'allowed' row: it is written in the
-- statement's own transaction.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
BEGIN;
DROP TABLE md.empty_one;
SELECT decision, object_identity FROM guarded_ddl.audit WHERE id > :mark;
ROLLBACK;
SELECT count(*) AS audit_rows FROM guarded_ddl.audit WHERE id > :mark;
SELECT to_regclass('md.empty_one') IS NOT NULL AS still_there;

-- A denial survives the rollback of its transaction (the background
-- worker committed it), also inside a savepoint.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
BEGIN;
SAVEPOINT before_drop;
DROP TABLE md.full_three;
ROLLBACK TO SAVEPOINT before_drop;
DROP TABLE md.full_three;
ROLLBACK;
SELECT decision, object_identity, command_tag FROM guarded_ddl.audit WHERE id > :mark ORDER BY id;

-- override() lets the refused DROP through, audited as 'overridden' with
-- the reason; it ends with its transaction, and with a rolled-back
-- savepoint.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
BEGIN;
SAVEPOINT s;
SELECT guarded_ddl.override('undone by the savepoint');
ROLLBACK TO SAVEPOINT s;
DROP TABLE md.full_three;
ROLLBACK;
BEGIN;
SELECT guarded_ddl.override('OPS-7: table retired');
SET LOCAL guarded_ddl.restore_points = off;
DROP TABLE md.full_three;
COMMIT;
SELECT decision, object_identity, reason,
       restore_point IS NULL AS no_restore_point, txid IS NOT NULL AS has_txid,
       wal_lsn IS NOT NULL AS has_wal_lsn
  FROM guarded_ddl.audit WHERE id > :mark ORDER BY id;
-- the recovery view falls back to the transaction id
SELECT object_identity, recovery_settings LIKE 'recovery_target_xid = %' AS by_xid
  FROM guarded_ddl.recovery WHERE audit_id > :mark;
-- after COMMIT the override is gone
CREATE TABLE md.full_four (id int);
INSERT INTO md.full_four VALUES (1), (2);
DROP TABLE md.full_four;

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA md CASCADE;
DROP EXTENSION guarded_ddl;
-- CREATE EXTENSION made the schema; DROP EXTENSION leaves it behind
DROP SCHEMA guarded_ddl;
COMMIT;
DROP ROLE regress_gd_modes_user;
