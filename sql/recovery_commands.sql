--
-- recovery_commands: guarded_ddl.recovery gives, beside the recovery
-- settings, the shell command that restores the data with the tool that
-- took the backup behind the row.
--
-- Proves that
--   * for pgBackRest the command names the stanza (the marker's location,
--     'stanza=NAME' or a plain name), the backup set (--set, the marker's
--     label), the target -- restore point by name, else the transaction id
--     or the WAL position, exclusive -- and promotes with archiving off;
--     without a label there is no --set; without a stanza, no command;
--   * for Barman it is barman recover with the target, the server (location
--     'server=NAME' or a plain name), the backup id (label) and a
--     destination to replace; without a backup id, no command;
--   * other tools (pg_dump, snapshots) get no command;
--   * a row without a backup_id (allowed by a rule, overridden) uses the
--     newest pgBackRest or Barman marker that finished before it;
--   * every value is single-quoted for the shell, quotes inside too;
--   * the recovery settings are as before.
-- The audit rows are written by hand (as a superuser may): the commands
-- depend only on their columns.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- Backup markers: ids 1 to 8, in this order.
INSERT INTO guarded_ddl.backups (finished_at, tool, label, kind, location)
VALUES ('2020-03-01 02:00+00', 'pgbackrest', '20200301-020000F', 'full', 'stanza=main'),
       ('2020-03-02 02:00+00', 'pgBackRest', NULL, 'full', 'prod'),
       ('2020-03-03 02:00+00', 'pgbackrest', '20200303-020000F', 'full', '/var/lib/pgbackrest'),
       ('2020-03-04 02:00+00', 'barman', '20200304T020000', 'full', 'server=pg repo=/srv/barman'),
       ('2020-03-05 02:00+00', 'barman', NULL, 'full', 'pg'),
       ('2020-03-06 02:00+00', 'pg_dump', 'nightly', 'logical', '/backups/nightly.dump'),
       ('2020-03-07 02:00+00', 'pgbackrest', 'it''s-a-set', 'incremental', 'repo1 stanza=ma''in'),
       ('2020-03-04 05:00+00', 'pg_dump', 'early', 'logical', NULL);
-- One allowed DROP per case: audit ids 1 to 14, in this order.
INSERT INTO guarded_ddl.audit (logged_at, decision, operation, object_type, object_identity,
                               schema_name, object_name, holds_data, command_tag, backup_id,
                               role_name, session_role, backend_pid, txid, wal_lsn, restore_point)
VALUES ('2020-03-01 09:00+00', 'allowed', 'drop', 'table', 'app.t1', 'app', 't1', true, 'DROP TABLE', 1,
        'dba', 'dba', 1, '1001', '1/13000028', 'guarded_ddl_1001_1'),
       ('2020-03-01 09:01+00', 'allowed', 'drop', 'table', 'app.t2', 'app', 't2', true, 'DROP TABLE', 1,
        'dba', 'dba', 1, '1002', '1/13000100', NULL),
       ('2020-03-01 09:02+00', 'allowed', 'truncate', 'table', 'app.t3', 'app', 't3', true, 'TRUNCATE TABLE', 1,
        'dba', 'dba', 1, NULL, '1/13000200', NULL),
       ('2020-03-02 09:00+00', 'allowed', 'drop', 'table', 'app.t4', 'app', 't4', true, 'DROP TABLE', 2,
        'dba', 'dba', 1, '1004', '1/14000028', 'guarded_ddl_1004_1'),
       ('2020-03-03 09:00+00', 'allowed', 'drop', 'table', 'app.t5', 'app', 't5', true, 'DROP TABLE', 3,
        'dba', 'dba', 1, '1005', '1/15000028', 'guarded_ddl_1005_1'),
       ('2020-03-04 09:00+00', 'allowed', 'drop', 'table', 'app.t6', 'app', 't6', true, 'DROP TABLE', 4,
        'dba', 'dba', 1, '1006', '1/16000028', 'guarded_ddl_1006_1'),
       ('2020-03-04 09:01+00', 'allowed', 'alter_type', 'table column', 'app.t7.c', 'app', 't7', true, 'ALTER TABLE', 4,
        'dba', 'dba', 1, '1007', '1/16000100', NULL),
       ('2020-03-04 09:02+00', 'allowed', 'drop', 'table', 'app.t8', 'app', 't8', true, 'DROP TABLE', 4,
        'dba', 'dba', 1, NULL, '1/16000200', NULL),
       ('2020-03-05 09:00+00', 'allowed', 'drop', 'table', 'app.t9', 'app', 't9', true, 'DROP TABLE', 5,
        'dba', 'dba', 1, '1009', '1/17000028', 'guarded_ddl_1009_1'),
       ('2020-03-06 09:00+00', 'allowed', 'drop', 'table', 'app.t10', 'app', 't10', true, 'DROP TABLE', 6,
        'dba', 'dba', 1, '1010', '1/18000028', 'guarded_ddl_1010_1'),
       ('2020-03-04 10:00+00', 'overridden', 'drop', 'table', 'app.t11', 'app', 't11', true, 'DROP TABLE', NULL,
        'dba', 'dba', 1, '1011', '1/18000100', 'guarded_ddl_1011_1'),
       ('2020-03-07 09:00+00', 'allowed', 'drop', 'table', 'app.t12', 'app', 't12', true, 'DROP TABLE', 7,
        'dba', 'dba', 1, '1012', '1/19000028', 'guarded_ddl_1012_''1'),
       ('2020-02-01 09:00+00', 'allowed', 'drop', 'table', 'app.t13', 'app', 't13', true, 'DROP TABLE', NULL,
        'dba', 'dba', 1, '900', '1/11000028', 'guarded_ddl_900_1'),
       ('2020-03-01 09:03+00', 'allowed', 'drop', 'table', 'app.t14', 'app', 't14', false, 'DROP TABLE', 1,
        'dba', 'dba', 1, '1014', '1/13000300', NULL);

-- The commands.  14 destroyed nothing: not a recovery row.
SELECT audit_id, object_identity, restore_command
  FROM guarded_ddl.recovery
 ORDER BY audit_id;

-- The settings beside them, for the three kinds of target.
SELECT audit_id, recovery_settings
  FROM guarded_ddl.recovery
 WHERE audit_id IN (1, 2, 3)
 ORDER BY audit_id;

-- A quote inside a value is written '"'"' -- close the quoted string, a
-- double-quoted quote, open it again -- which a POSIX shell reads back as
-- the value recorded.
SELECT (regexp_match(restore_command, '^pgbackrest --stanza=''ma''"''"''in'' --set=''it''"''"''s-a-set'' --type=name --target=''guarded_ddl_1012_''"''"''1'' ')) IS NOT NULL
       AS quoted_as_expected
  FROM guarded_ddl.recovery WHERE audit_id = 12;

-- The view's columns: restore_command comes last.
SELECT attnum, attname, format_type(atttypid, atttypmod) AS type
  FROM pg_attribute
 WHERE attrelid = 'guarded_ddl.recovery'::regclass AND attnum > 0
 ORDER BY attnum;

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP EXTENSION guarded_ddl;
COMMIT;
DROP SCHEMA IF EXISTS guarded_ddl;
