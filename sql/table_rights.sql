--
-- table_rights: a right to guarded_ddl's tables counts only when it was
-- granted on the table itself, or for the owner (guarded_ddl's own writes)
-- and superusers.  Members of pg_write_all_data pass every ACL check, so
-- triggers on the tables check the grants.
--
-- Proves that
--   * a member of pg_write_all_data with no grant on guarded_ddl is refused
--     (SQLSTATE 42501, a message saying why) when it inserts an allow rule,
--     updates or deletes rules, inserts or updates a backup marker, inserts
--     a forged audit row or deletes audit rows (directly or through the
--     views), or writes the recycle bin's table; TRUNCATE of each table is
--     refused; nothing changed, and its own table is still guarded;
--   * a role granted INSERT, UPDATE, DELETE on the policy -- directly or
--     through a group role, also as a member of pg_write_all_data -- does
--     what it was granted; a role granted UPDATE on one column changes that
--     column only; a role granted TRUNCATE on the policy may truncate it;
--   * no grant opens the audit: INSERT, DELETE, TRUNCATE granted on it are
--     still refused; purge_audit() (granted) still deletes, as the owner;
--   * guarded_ddl's own writes go on: audit rows of an allowed and of a
--     refused DROP, record_backup(), record_restore_test();
--   * a member of pg_read_all_data reads the tables and views.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- SQLSTATE of a statement ('ok' when it succeeds; the success is kept).
CREATE FUNCTION pg_temp.attempt(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END;
$$;
-- Row counts of guarded_ddl's tables, to show what an attack left behind
-- (audit rows about guarded_ddl's own objects left out: with the library
-- preloaded, TRUNCATE of the audit may be refused before the table's own
-- checks, and that refusal is audited).
CREATE FUNCTION pg_temp.counts()
RETURNS TABLE (policy bigint, backups bigint, audit bigint, trash_bin bigint)
    LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM guarded_ddl.policy),
           (SELECT count(*) FROM guarded_ddl.backups),
           (SELECT count(*) FROM guarded_ddl.audit
             WHERE object_identity NOT LIKE 'guarded\_ddl.%'),
           (SELECT count(*) FROM guarded_ddl.trash_bin)
$$;

CREATE ROLE regress_gd_writer IN ROLE pg_write_all_data, pg_read_all_data;
CREATE ROLE regress_gd_reader IN ROLE pg_read_all_data;
CREATE ROLE regress_gd_policy_admins;
CREATE ROLE regress_gd_alice IN ROLE regress_gd_policy_admins, pg_write_all_data;
CREATE ROLE regress_gd_oncall IN ROLE pg_write_all_data, pg_read_all_data;
CREATE ROLE regress_gd_janitor;
CREATE SCHEMA tr_app AUTHORIZATION regress_gd_writer;
CREATE TABLE tr_app.mine (id int);
ALTER TABLE tr_app.mine OWNER TO regress_gd_writer;
INSERT INTO tr_app.mine VALUES (1), (2), (3);

-- The state every attack starts from: one deny rule, one backup marker
-- (restore-tested), an audit row of an allowed drop, a recycle bin row.
INSERT INTO guarded_ddl.policy (id, object_name, action, note)
VALUES (1, 'precious', 'deny', 'table_rights: the rule under attack');
SELECT guarded_ddl.record_backup('pg_dump', 'nightly', now() - interval '3 hours', 'logical') AS backup_id \gset
SELECT guarded_ddl.record_restore_test(:backup_id);
CREATE TABLE tr_app.scratch (id int);
INSERT INTO tr_app.scratch VALUES (1);
DROP TABLE tr_app.scratch;
INSERT INTO guarded_ddl.trash_bin (original_schema, original_name, trash_name, dropped_by)
VALUES ('tr_app', 'gone', 'gone_gd1', current_user);
SELECT decision, object_identity, backup_id = :backup_id AS by_the_backup
  FROM guarded_ddl.audit ORDER BY id;
SELECT * FROM pg_temp.counts();
-- The backups are old enough that the writer's own DROP needs a new one.
UPDATE guarded_ddl.backups SET finished_at = now() - interval '3 days',
                               recorded_at = now() - interval '3 days';

-- The writer passes PostgreSQL's own ACL checks on every table.
SELECT c.relname,
       has_table_privilege('regress_gd_writer', c.oid, 'INSERT') AS insert,
       has_table_privilege('regress_gd_writer', c.oid, 'UPDATE') AS update,
       has_table_privilege('regress_gd_writer', c.oid, 'DELETE') AS delete,
       has_table_privilege('regress_gd_writer', c.oid, 'TRUNCATE') AS truncate
  FROM pg_class AS c
 WHERE c.relnamespace = 'guarded_ddl'::regnamespace AND c.relkind = 'r'
 ORDER BY c.relname;

-- The attacks, as the member of pg_write_all_data: each refused with a
-- message that says why.
SET ROLE regress_gd_writer;
INSERT INTO guarded_ddl.policy (object_name, action) VALUES ('mine', 'allow');
UPDATE guarded_ddl.policy SET action = 'allow' WHERE id = 1;
UPDATE guarded_ddl.backups SET finished_at = now();
INSERT INTO guarded_ddl.audit (decision, operation, object_type, object_identity,
                               command_tag, role_name, session_role, backend_pid)
VALUES ('allowed', 'drop', 'table', 'tr_app.mine', 'DROP TABLE', 'x', 'x', 1);
DELETE FROM guarded_ddl.audit;
-- Every other way in, by SQLSTATE.  (TRUNCATE of the audit is refused by
-- PostgreSQL itself here -- pg_write_all_data carries no TRUNCATE -- or,
-- preloaded, possibly before that as a change to guarded_ddl itself.)
SELECT n, pg_temp.attempt(stmt) AS sqlstate, stmt
  FROM (VALUES
    (1, $$INSERT INTO guarded_ddl.policy (object_name, action) VALUES ('mine', 'allow')$$),
    (2, $$INSERT INTO guarded_ddl.policy (id, action) VALUES (0, 'allow') ON CONFLICT (id) DO UPDATE SET action = 'allow'$$),
    (3, $$UPDATE guarded_ddl.policy SET enabled = false$$),
    (4, $$UPDATE guarded_ddl.policy SET expires_at = now()$$),
    (5, $$DELETE FROM guarded_ddl.policy$$),
    (6, $$TRUNCATE guarded_ddl.policy$$),
    (7, $$INSERT INTO guarded_ddl.backups (finished_at, tool) VALUES (now(), 'forged')$$),
    (8, $$UPDATE guarded_ddl.backups SET finished_at = now()$$),
    (9, $$UPDATE guarded_ddl.backups SET restore_verified_at = NULL$$),
    (10, $$DELETE FROM guarded_ddl.backups$$),
    (11, $$TRUNCATE guarded_ddl.backups$$),
    (12, $$INSERT INTO guarded_ddl.audit (decision, operation, object_type, object_identity, command_tag, role_name, session_role, backend_pid) VALUES ('allowed', 'drop', 'table', 'tr_app.mine', 'DROP TABLE', 'x', 'x', 1)$$),
    (13, $$UPDATE guarded_ddl.audit SET decision = 'allowed'$$),
    (14, $$DELETE FROM guarded_ddl.audit$$),
    (15, $$DELETE FROM guarded_ddl.denials$$),
    (16, $$DELETE FROM guarded_ddl.recovery$$),
    (18, $$INSERT INTO guarded_ddl.trash_bin (original_schema, original_name, trash_name, dropped_by) VALUES ('tr_app', 'x', 'x', 'x')$$),
    (19, $$UPDATE guarded_ddl.trash_bin SET dropped_by = current_user$$),
    (20, $$DELETE FROM guarded_ddl.trash_bin$$),
    (21, $$DELETE FROM guarded_ddl.trash$$),
    (22, $$TRUNCATE guarded_ddl.trash_bin$$)
  ) AS attacks (n, stmt)
 ORDER BY n;
SELECT pg_temp.attempt($$TRUNCATE guarded_ddl.audit$$) IN ('42501', 'ZG003') AS truncate_audit_refused;
-- Its own table is still guarded: the allow rule never got in.
DROP TABLE tr_app.mine;
RESET ROLE;
SELECT * FROM pg_temp.counts();
SELECT id, object_name, action, enabled, expires_at FROM guarded_ddl.policy;
SELECT decision, object_identity, role_name FROM guarded_ddl.denials
 WHERE object_identity NOT LIKE 'guarded\_ddl.%';

-- Granted rights count: through a group role, also for a member of
-- pg_write_all_data.
BEGIN;
SELECT guarded_ddl.override('rights on guarded_ddl for this test') \gset
GRANT USAGE ON SCHEMA guarded_ddl TO regress_gd_policy_admins;
GRANT SELECT, INSERT, UPDATE, DELETE ON guarded_ddl.policy TO regress_gd_policy_admins;
GRANT USAGE ON SEQUENCE guarded_ddl.policy_id_seq TO regress_gd_policy_admins;
COMMIT;
SET ROLE regress_gd_alice;
INSERT INTO guarded_ddl.policy (id, object_name, action, note)
VALUES (2, 'ledger', 'deny', 'by alice');
UPDATE guarded_ddl.policy SET note = 'by alice, edited' WHERE id = 2;
DELETE FROM guarded_ddl.policy WHERE id = 2;
-- ... but not what was not granted.
SELECT pg_temp.attempt($$TRUNCATE guarded_ddl.policy$$) AS truncate_policy,
       pg_temp.attempt($$INSERT INTO guarded_ddl.backups (finished_at, tool) VALUES (now(), 'forged')$$) AS insert_backup;
RESET ROLE;

-- A column grant: the on-call role may switch rules off, nothing else.
BEGIN;
SELECT guarded_ddl.override('rights on guarded_ddl for this test') \gset
GRANT USAGE ON SCHEMA guarded_ddl TO regress_gd_oncall;
GRANT UPDATE (enabled) ON guarded_ddl.policy TO regress_gd_oncall;
COMMIT;
SET ROLE regress_gd_oncall;
UPDATE guarded_ddl.policy SET enabled = false WHERE id = 1;
UPDATE guarded_ddl.policy SET enabled = true, action = 'allow' WHERE id = 1;
UPDATE guarded_ddl.policy SET enabled = true WHERE id = 1;
RESET ROLE;
SELECT id, action, enabled FROM guarded_ddl.policy;

-- TRUNCATE granted on the policy is TRUNCATE granted; on the audit no grant
-- counts, whatever it is.
BEGIN;
SELECT guarded_ddl.override('rights on guarded_ddl for this test') \gset
GRANT USAGE ON SCHEMA guarded_ddl TO regress_gd_janitor;
GRANT TRUNCATE ON guarded_ddl.policy TO regress_gd_janitor;
GRANT INSERT, DELETE, TRUNCATE ON guarded_ddl.audit TO regress_gd_janitor;
GRANT EXECUTE ON FUNCTION guarded_ddl.purge_audit(interval) TO regress_gd_janitor;
COMMIT;
SET ROLE regress_gd_janitor;
-- (the table lets it through; preloaded, the utility hook then refuses
-- TRUNCATE of guarded_ddl's own tables without an override: ZG003)
BEGIN;
SELECT pg_temp.attempt($$TRUNCATE guarded_ddl.policy$$) IN ('ok', 'ZG003') AS truncate_policy_granted;
ROLLBACK;
INSERT INTO guarded_ddl.audit (decision, operation, object_type, object_identity,
                               command_tag, role_name, session_role, backend_pid)
VALUES ('allowed', 'drop', 'table', 'tr_app.mine', 'DROP TABLE', 'x', 'x', 1);
DELETE FROM guarded_ddl.audit;
SELECT pg_temp.attempt($$TRUNCATE guarded_ddl.audit$$) IN ('42501', 'ZG003') AS truncate_audit_refused;
-- purge_audit() deletes as the owner (nothing is that old here).
SELECT guarded_ddl.purge_audit('100 years') AS purged;
RESET ROLE;
SELECT * FROM pg_temp.counts();

-- guarded_ddl's own writes: an allowed DROP (fresh backup) and a refused one
-- are audited, markers are recorded and restore-tested.
SELECT guarded_ddl.record_backup('pgbackrest', 'fresh') AS fresh_id \gset
SELECT guarded_ddl.record_restore_test(:fresh_id);
CREATE TABLE tr_app.precious (id int);
INSERT INTO tr_app.precious VALUES (1);
DROP TABLE tr_app.precious;
CREATE TABLE tr_app.old (id int);
INSERT INTO tr_app.old VALUES (1);
DROP TABLE tr_app.old;
SELECT decision, object_identity, policy_id, backup_id = :fresh_id AS by_fresh_backup
  FROM guarded_ddl.audit
 WHERE object_identity IN ('tr_app.precious', 'tr_app.old')
 ORDER BY id;
SELECT count(*) AS verified FROM guarded_ddl.backups WHERE restore_verified_at IS NOT NULL;

-- pg_read_all_data reads everything, as PostgreSQL intends.
SET ROLE regress_gd_reader;
SELECT (SELECT count(*) FROM guarded_ddl.policy) AS policy,
       (SELECT count(*) FROM guarded_ddl.backups) AS backups,
       (SELECT count(*) > 0 FROM guarded_ddl.audit) AS audit,
       (SELECT count(*) > 0 FROM guarded_ddl.denials) AS denials,
       (SELECT count(*) > 0 FROM guarded_ddl.recovery) AS recovery,
       (SELECT count(*) FROM guarded_ddl.trash_bin) AS trash_bin;
RESET ROLE;

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA tr_app CASCADE;
DROP EXTENSION guarded_ddl;
COMMIT;
DROP SCHEMA IF EXISTS guarded_ddl;
DROP ROLE regress_gd_writer;
DROP ROLE regress_gd_reader;
DROP ROLE regress_gd_alice;
DROP ROLE regress_gd_policy_admins;
DROP ROLE regress_gd_oncall;
DROP ROLE regress_gd_janitor;
