--
-- policy_rules: how guarded_ddl.policy decides.
--
-- Proves that
--   * rules are tried in (priority, id) order among enabled, unexpired ones
--     and the first whose every pattern matches decides -- a later, more
--     specific rule does not;
--   * globs: * any run, ? one character, \* a literal star; matching is
--     case-sensitive, on unquoted names; schema_name, object_type and
--     operation narrow a rule;
--   * role_name matches current_user (SET ROLE), application_name the
--     session's application_name;
--   * expired and disabled rules are ignored;
--   * a column rule can protect one hand-made column (embedding) while the
--     table's other columns follow the default (it does not cover a DROP
--     of the whole table, which is a table intent);
--   * deny (ZG001), warn (WARNING, 'warned'), allow and require_backup with
--     the rule's own backup_max_age (ZG002 while the backup is too old);
--   * guarded_ddl.default_action decides unmatched data-destroying intents,
--     and never intents that destroy nothing;
--   * a policy change is seen by the very next statement of the session,
--     even inside the transaction that made it.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never
-- Run a statement, report how guarded_ddl decided it, and undo it.
-- 'allowed rule 10' = allowed by policy rule 10; 'ZG002 denied default' =
-- refused with SQLSTATE ZG002 by guarded_ddl.default_action.
CREATE FUNCTION pg_temp.dry_run(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    mark bigint;
    verdict text;
BEGIN
    SELECT coalesce(max(id), 0) INTO mark FROM guarded_ddl.audit;
    BEGIN
        EXECUTE stmt;
        SELECT string_agg(a.decision || ' ' || coalesce('rule ' || a.policy_id, 'default'),
                          ', ' ORDER BY a.id)
          INTO verdict
          FROM guarded_ddl.audit AS a
         WHERE a.id > mark;
        RAISE EXCEPTION USING ERRCODE = 'ZX999';    -- undo the statement
    EXCEPTION
        WHEN SQLSTATE 'ZX999' THEN
            RETURN coalesce(verdict, 'no audit row');
        WHEN OTHERS THEN
            SELECT SQLSTATE || ' ' ||
                   coalesce(string_agg(a.decision || ' ' || coalesce('rule ' || a.policy_id, 'default'),
                                       ', ' ORDER BY a.id),
                            SQLERRM)
              INTO verdict
              FROM guarded_ddl.audit AS a
             WHERE a.id > mark;
            RETURN verdict;
    END;
END;
$$;
CREATE SCHEMA pr;
CREATE TABLE pr.orders (id int, note text, embedding real[]);
INSERT INTO pr.orders VALUES (1, 'a', '{0.1,0.2}'), (2, 'b', '{0.3,0.4}');
CREATE TABLE pr."Orders" (id int);
INSERT INTO pr."Orders" VALUES (1), (2);
CREATE TABLE pr.empty_one (id int);

-- Without rules: data-destroying intents need a backup (ZG002), the rest
-- are allowed.
SELECT pg_temp.dry_run('DROP TABLE pr.orders') AS drop_full,
       pg_temp.dry_run('DROP TABLE pr.empty_one') AS drop_empty,
       pg_temp.dry_run('ALTER TABLE pr.orders RENAME TO orders_old') AS rename;

-- (priority, id) order: priority 50 beats priority 100; on equal priority
-- the lower id wins.  The first match decides even when a later rule is
-- more specific.
INSERT INTO guarded_ddl.policy (id, priority, object_name, action, note)
VALUES (10, 100, 'orders', 'deny', 'specific, but priority 100'),
       (20, 50, '*', 'allow', 'catch-all at priority 50'),
       (30, 50, 'orders', 'deny', 'same priority, higher id');
SELECT pg_temp.dry_run('DROP TABLE pr.orders');
UPDATE guarded_ddl.policy SET priority = 60 WHERE id = 20;
SELECT pg_temp.dry_run('DROP TABLE pr.orders');
-- the refusal names the rule that decided
DROP TABLE pr.orders;
DELETE FROM guarded_ddl.policy;

-- Globs on the unquoted name: * and ?; case-sensitive, so "Orders" is not
-- orders; \* matches a literal star only.
CREATE TABLE pr.log_1 (id int);
INSERT INTO pr.log_1 VALUES (1), (2);
CREATE TABLE pr.log_10 (id int);
INSERT INTO pr.log_10 VALUES (1), (2);
CREATE TABLE pr."star*" (id int);
INSERT INTO pr."star*" VALUES (1), (2);
CREATE TABLE pr.starry (id int);
INSERT INTO pr.starry VALUES (1), (2);
INSERT INTO guarded_ddl.policy (id, object_name, action)
VALUES (40, 'ord*', 'allow'),
       (41, 'log_?', 'allow'),
       (42, 'star\*', 'allow');
SELECT pg_temp.dry_run('DROP TABLE pr.orders') AS "ord* / orders",
       pg_temp.dry_run('DROP TABLE pr."Orders"') AS "ord* / Orders",
       pg_temp.dry_run('DROP TABLE pr.log_1') AS "log_? / log_1",
       pg_temp.dry_run('DROP TABLE pr.log_10') AS "log_? / log_10";
SELECT pg_temp.dry_run('DROP TABLE pr."star*"') AS "star\* / star*",
       pg_temp.dry_run('DROP TABLE pr.starry') AS "star\* / starry";
-- a rule for "Orders" must spell it that way
INSERT INTO guarded_ddl.policy (id, object_name, action) VALUES (43, 'O*', 'allow');
SELECT pg_temp.dry_run('DROP TABLE pr."Orders"') AS "O* / Orders";
DELETE FROM guarded_ddl.policy;

-- schema_name, object_type and operation narrow a rule.
CREATE SCHEMA pr_scratch;
CREATE TABLE pr_scratch.orders (id int);
INSERT INTO pr_scratch.orders VALUES (1), (2);
CREATE MATERIALIZED VIEW pr.order_totals AS SELECT 1 AS n;
INSERT INTO guarded_ddl.policy (id, schema_name, object_type, operation, action)
VALUES (50, 'pr_*', 'table', 'drop', 'allow'),
       (51, 'pr', 'materialized view', '*', 'allow'),
       (52, '*', 'table', 'rename', 'deny');
SELECT pg_temp.dry_run('DROP TABLE pr_scratch.orders') AS "pr_* table drop",
       pg_temp.dry_run('DROP TABLE pr.orders') AS "pr table drop",
       pg_temp.dry_run('DROP MATERIALIZED VIEW pr.order_totals') AS "pr matview drop";
SELECT pg_temp.dry_run('ALTER TABLE pr.empty_one RENAME TO empty_two') AS "table rename",
       pg_temp.dry_run('ALTER TABLE pr.orders RENAME COLUMN note TO remark') AS "column rename";
DELETE FROM guarded_ddl.policy;

-- Expired and disabled rules are ignored.
INSERT INTO guarded_ddl.policy (id, object_name, action, expires_at, enabled)
VALUES (60, 'orders', 'allow', now() - interval '1 minute', true),
       (61, 'orders', 'allow', NULL, false),
       (62, 'orders', 'allow', now() + interval '1 hour', true);
SELECT pg_temp.dry_run('DROP TABLE pr.orders');
UPDATE guarded_ddl.policy SET enabled = false WHERE id = 62;
SELECT pg_temp.dry_run('DROP TABLE pr.orders');
DELETE FROM guarded_ddl.policy;

-- The warn action: the statement runs with a WARNING and is audited as
-- 'warned', naming the rule.
INSERT INTO guarded_ddl.policy (id, object_name, action) VALUES (70, 'orders', 'warn');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
BEGIN;
DROP TABLE pr.orders;
SELECT decision, operation, object_identity, policy_id, reason
  FROM guarded_ddl.audit WHERE id > :mark;
ROLLBACK;
-- The allow action: no message at all, audited as 'allowed' with the rule.
UPDATE guarded_ddl.policy SET action = 'allow' WHERE id = 70;
BEGIN;
DROP TABLE pr.orders;
SELECT decision, operation, object_identity, policy_id, reason
  FROM guarded_ddl.audit WHERE id > :mark;
ROLLBACK;
-- The deny action: ZG001, and the rule is named in the DETAIL.
UPDATE guarded_ddl.policy SET action = 'deny' WHERE id = 70;
DROP TABLE pr.orders;
SELECT pg_temp.dry_run('DROP TABLE pr.orders');
DELETE FROM guarded_ddl.policy;

-- A policy change is seen by the next statement: inside the transaction
-- that makes it, and after it commits.
BEGIN;
INSERT INTO guarded_ddl.policy (id, object_name, action) VALUES (80, 'orders', 'allow');
SELECT pg_temp.dry_run('DROP TABLE pr.orders') AS inside_transaction;
ROLLBACK;
SELECT pg_temp.dry_run('DROP TABLE pr.orders') AS after_rollback;
INSERT INTO guarded_ddl.policy (id, object_name, action) VALUES (80, 'orders', 'allow');
SELECT pg_temp.dry_run('DROP TABLE pr.orders') AS after_insert;
UPDATE guarded_ddl.policy SET action = 'deny' WHERE id = 80;
SELECT pg_temp.dry_run('DROP TABLE pr.orders') AS after_update;
DELETE FROM guarded_ddl.policy WHERE id = 80;
SELECT pg_temp.dry_run('DROP TABLE pr.orders') AS after_delete;

-- guarded_ddl.default_action decides data-destroying intents no rule
-- matches; intents that destroy nothing stay allowed whatever it says.
SET guarded_ddl.default_action = deny;
SELECT pg_temp.dry_run('DROP TABLE pr.orders') AS drop_full,
       pg_temp.dry_run('DROP TABLE pr.empty_one') AS drop_empty,
       pg_temp.dry_run('ALTER TABLE pr.orders RENAME TO orders_old') AS rename;
DROP TABLE pr.orders;
SET guarded_ddl.default_action = warn;
SELECT pg_temp.dry_run('DROP TABLE pr.orders') AS drop_full;
SET guarded_ddl.default_action = allow;
SELECT pg_temp.dry_run('DROP TABLE pr.orders') AS drop_full;
RESET guarded_ddl.default_action;

-- A column rule protects a hand-made embedding column the ORM does not
-- know about; with a backup recorded, the table's other columns follow
-- the default (require_backup, now satisfied).
INSERT INTO guarded_ddl.policy (id, object_type, column_name, action, note)
VALUES (90, 'table column', 'embedding', 'deny', 'added by hand, never by the ORM');
SELECT guarded_ddl.record_backup('pgbackrest', 'nightly') IS NOT NULL AS backup_recorded;
SELECT pg_temp.dry_run('ALTER TABLE pr.orders DROP COLUMN note') AS drop_note,
       pg_temp.dry_run('ALTER TABLE pr.orders DROP COLUMN embedding') AS drop_embedding;
-- Prisma's multi-column form is refused whole when one column is protected.
ALTER TABLE "pr"."orders" DROP COLUMN "note",
DROP COLUMN "embedding";
-- A column rule is about columns: dropping the whole table is a table
-- intent, which the rule does not match (the backup lets it through).
-- Protecting the table takes a rule of its own.
SELECT pg_temp.dry_run('DROP TABLE pr.orders') AS drop_table;
DELETE FROM guarded_ddl.policy;
DELETE FROM guarded_ddl.backups;

-- role_name matches current_user: forbid an application role from
-- destroying anything, even an empty table, even a rename.
CREATE ROLE regress_gd_app_user;
CREATE ROLE regress_gd_migrator;
GRANT USAGE ON SCHEMA pr TO regress_gd_app_user, regress_gd_migrator;
-- (only so that dry_run can read the audit as these roles)
BEGIN;
SELECT guarded_ddl.override('rights on guarded_ddl for this test') \gset
GRANT USAGE ON SCHEMA guarded_ddl TO regress_gd_app_user, regress_gd_migrator;
GRANT SELECT ON guarded_ddl.audit TO regress_gd_app_user, regress_gd_migrator;
COMMIT;
CREATE TABLE pr.app_empty (id int);
CREATE TABLE pr.app_data (id int);
INSERT INTO pr.app_data VALUES (1), (2);
ALTER TABLE pr.app_empty OWNER TO regress_gd_app_user;
ALTER TABLE pr.app_data OWNER TO regress_gd_app_user;
CREATE TABLE pr.mig_empty (id int);
CREATE TABLE pr.mig_data (id int);
INSERT INTO pr.mig_data VALUES (1), (2);
ALTER TABLE pr.mig_empty OWNER TO regress_gd_migrator;
ALTER TABLE pr.mig_data OWNER TO regress_gd_migrator;
INSERT INTO guarded_ddl.policy (id, priority, role_name, operation, action, note)
VALUES (100, 10, 'regress_gd_app_user', '*', 'deny', 'the application never changes the schema');
SET ROLE regress_gd_app_user;
SELECT pg_temp.dry_run('DROP TABLE pr.app_empty') AS drop_empty,
       pg_temp.dry_run('DROP TABLE pr.app_data') AS drop_data,
       pg_temp.dry_run('ALTER TABLE pr.app_empty RENAME TO app_old') AS rename;
DROP TABLE pr.app_empty;
RESET ROLE;
SET ROLE regress_gd_migrator;
SELECT pg_temp.dry_run('DROP TABLE pr.mig_empty') AS drop_empty,
       pg_temp.dry_run('DROP TABLE pr.mig_data') AS drop_data;
RESET ROLE;

-- Allow the migration role when a backup is younger than 6 hours (the
-- setting allows 24): a 7 hour old backup is not enough for it, though it
-- is for everyone else; one from an hour ago is.
INSERT INTO guarded_ddl.policy (id, priority, role_name, operation, action, backup_max_age, note)
VALUES (110, 20, 'regress_gd_migrator', 'drop', 'require_backup', interval '6 hours',
        'migrations need a fresh backup');
SELECT guarded_ddl.record_backup('pgbackrest', 'old', now() - interval '7 hours') AS old_backup \gset
SET ROLE regress_gd_migrator;
SELECT pg_temp.dry_run('DROP TABLE pr.mig_data') AS with_7h_old_backup;
DROP TABLE pr.mig_data;
RESET ROLE;
SELECT pg_temp.dry_run('DROP TABLE pr.mig_data') AS superuser_with_7h_old_backup;
SELECT guarded_ddl.record_backup('pgbackrest', 'fresh', now() - interval '1 hour') AS fresh_backup \gset
SET ROLE regress_gd_migrator;
SELECT pg_temp.dry_run('DROP TABLE pr.mig_data') AS with_1h_old_backup;
RESET ROLE;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
SET ROLE regress_gd_migrator;
DROP TABLE pr.mig_data;
RESET ROLE;
SELECT decision, object_identity, policy_id, backup_id = :fresh_backup AS fresh_backup_used,
       role_name, session_role = current_user AS session_role_is_me
  FROM guarded_ddl.audit WHERE id > :mark;
DELETE FROM guarded_ddl.backups;

-- application_name: a rule for whatever calls itself prisma*.
INSERT INTO guarded_ddl.policy (id, priority, application_name, action)
VALUES (120, 30, 'prisma*', 'deny');
SET application_name = 'prisma-migrate';
SELECT pg_temp.dry_run('DROP TABLE pr.empty_one') AS as_prisma;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TABLE pr.empty_one;
SELECT decision, policy_id, application_name FROM guarded_ddl.denials WHERE id > :mark;
RESET application_name;
SELECT pg_temp.dry_run('DROP TABLE pr.empty_one') AS as_psql;

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA pr, pr_scratch CASCADE;
DROP EXTENSION guarded_ddl;
-- CREATE EXTENSION made the schema; DROP EXTENSION leaves it behind
DROP SCHEMA guarded_ddl;
COMMIT;
DROP ROLE regress_gd_app_user;
DROP ROLE regress_gd_migrator;
