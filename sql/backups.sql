--
-- backups: the recent-backup marker.
--
-- Proves that
--   * record_backup() fills in its defaults (finished now, kind full,
--     recorded by the session user) and returns the new marker's id;
--   * record_restore_test() marks a backup as restore-tested, and a rule
--     with require_verified_backup only accepts such backups;
--   * a backup is recent when finished_at >= now() - max age, the boundary
--     included; the max age comes from the rule, else from the setting
--     guarded_ddl.backup_max_age (minutes resolution, accepts h and min);
--   * the audit row of an allowed intent names the backup that made it
--     acceptable and the newest backup's age;
--   * bad markers are refused with a clear error and nothing is recorded:
--     finished more than 5 minutes in the future, unknown kind, blank or
--     missing tool, restore test of a backup that does not exist or in the
--     future.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never
-- Run a statement, report how guarded_ddl decided it and with which
-- backup, and undo it.
CREATE FUNCTION pg_temp.dry_run(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    mark bigint;
    verdict text;
BEGIN
    SELECT coalesce(max(id), 0) INTO mark FROM guarded_ddl.audit;
    BEGIN
        EXECUTE stmt;
        SELECT string_agg(a.decision || ' ' || coalesce('rule ' || a.policy_id, 'default')
                          || coalesce(' with backup ' || a.backup_id, ''),
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
                   coalesce(string_agg(a.decision || ' ' || coalesce('rule ' || a.policy_id, 'default')
                                       || ': ' || a.reason,
                                       ', ' ORDER BY a.id),
                            SQLERRM)
              INTO verdict
              FROM guarded_ddl.audit AS a
             WHERE a.id > mark;
            RETURN verdict;
    END;
END;
$$;
-- The error of a statement with the timestamps in its message masked.
CREATE FUNCTION pg_temp.error_of(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' ||
           regexp_replace(SQLERRM, '[A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]+ [0-9:.]+ [0-9]{4} [A-Z]+',
                          '<timestamp>', 'g');
END;
$$;
CREATE SCHEMA bk;
CREATE TABLE bk.invoices (id int, amount numeric);
INSERT INTO bk.invoices VALUES (1, 10), (2, 20);

-- No marker yet: refused.
SELECT pg_temp.dry_run('DROP TABLE bk.invoices');

-- record_backup() with only the tool: finished now, kind full, no label
-- or location, not restore-tested, recorded by the session user.  It
-- returns the id of the new marker.
SELECT guarded_ddl.record_backup('pgbackrest') AS first_backup \gset
SELECT id = :first_backup AS returned_id, tool, label, kind, location,
       finished_at = recorded_at AS finished_now,
       restore_verified_at IS NULL AS not_tested,
       recorded_by = session_user AS by_session_user
  FROM guarded_ddl.backups;
SELECT pg_temp.dry_run('DROP TABLE bk.invoices');

-- Every argument, by name and by position.
SELECT guarded_ddl.record_backup(tool => 'pg_dump', kind => 'logical',
                                 label => 'before upgrade',
                                 finished_at => now() - interval '30 minutes',
                                 location => '/backups/app.dump') > :first_backup AS newer_id;
SELECT guarded_ddl.record_backup('barman', 'weekly', now() - interval '3 days',
                                 'incremental', 'barman://main') > :first_backup AS newer_id;
SELECT tool, label, kind, location, date_trunc('minute', now() - finished_at) AS age
  FROM guarded_ddl.backups
 ORDER BY id;
DELETE FROM guarded_ddl.backups;

-- The audit row of the allowed DROP names the backup that made it
-- acceptable, and how old the newest backup was.
SELECT guarded_ddl.record_backup('pgbackrest', finished_at => now() - interval '2 hours') AS two_hours_old \gset
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
BEGIN;
DROP TABLE bk.invoices;
SELECT decision, backup_id = :two_hours_old AS names_backup,
       backup_age >= interval '2 hours' AND backup_age < interval '2 hours 1 minute' AS age_2h
  FROM guarded_ddl.audit WHERE id > :mark;
ROLLBACK;

-- guarded_ddl.backup_max_age: minutes resolution, given in min or h.  The
-- 2 hour old backup is too old for 90min, recent enough for 3h.
SHOW guarded_ddl.backup_max_age;
SET guarded_ddl.backup_max_age = '90min';
SHOW guarded_ddl.backup_max_age;
SELECT pg_temp.dry_run('DROP TABLE bk.invoices');
DROP TABLE bk.invoices;
SET guarded_ddl.backup_max_age = '3h';
SHOW guarded_ddl.backup_max_age;
SELECT pg_temp.dry_run('DROP TABLE bk.invoices');
SET guarded_ddl.backup_max_age = 150;
SHOW guarded_ddl.backup_max_age;
SELECT pg_temp.dry_run('DROP TABLE bk.invoices');
-- (zero and negative ages are refused: see settings_ranges)
RESET guarded_ddl.backup_max_age;

-- The boundary: a backup that finished exactly max age ago is recent, one
-- a microsecond older is not.  now() is fixed within the transaction, and
-- the marker is visible to the DROP that follows it.
DELETE FROM guarded_ddl.backups;
BEGIN;
SET LOCAL guarded_ddl.backup_max_age = '1h';
SELECT guarded_ddl.record_backup('snapshot', kind => 'snapshot',
                                 finished_at => now() - interval '1 hour') IS NOT NULL AS recorded;
SELECT pg_temp.dry_run('DROP TABLE bk.invoices') AS exactly_max_age;
ROLLBACK;
BEGIN;
SET LOCAL guarded_ddl.backup_max_age = '1h';
SELECT guarded_ddl.record_backup('snapshot', kind => 'snapshot',
                                 finished_at => now() - interval '1 hour 0.000001 seconds') IS NOT NULL AS recorded;
SELECT pg_temp.dry_run('DROP TABLE bk.invoices') AS one_microsecond_older;
ROLLBACK;

-- A rule's own backup_max_age replaces the setting, in both directions.
SELECT guarded_ddl.record_backup('pgbackrest', finished_at => now() - interval '30 hours') AS thirty_hours_old \gset
SELECT pg_temp.dry_run('DROP TABLE bk.invoices') AS setting_24h;
DROP TABLE bk.invoices;
INSERT INTO guarded_ddl.policy (id, object_name, action, backup_max_age)
VALUES (1, 'invoices', 'require_backup', interval '2 days');
SELECT pg_temp.dry_run('DROP TABLE bk.invoices') AS rule_2_days;
UPDATE guarded_ddl.policy SET backup_max_age = interval '10 hours';
SELECT pg_temp.dry_run('DROP TABLE bk.invoices') AS rule_10_hours;
DELETE FROM guarded_ddl.policy;
DELETE FROM guarded_ddl.backups;

-- require_verified_backup: only restore-tested backups count.  A fresh
-- untested backup is not enough; once its restore test is recorded it is.
INSERT INTO guarded_ddl.policy (id, object_name, action, require_verified_backup)
VALUES (2, 'invoices', 'require_backup', true);
SELECT guarded_ddl.record_backup('pgbackrest', 'untested') AS untested \gset
SELECT pg_temp.dry_run('DROP TABLE bk.invoices') AS untested_only;
DROP TABLE bk.invoices;
SELECT guarded_ddl.record_restore_test(:untested);
SELECT restore_verified_at IS NOT NULL AS verified FROM guarded_ddl.backups WHERE id = :untested;
SELECT pg_temp.dry_run('DROP TABLE bk.invoices') AS after_restore_test;
-- A newer untested backup does not hide the older tested one ...
SELECT guarded_ddl.record_backup('pgbackrest', 'newer, untested') IS NOT NULL AS recorded;
SELECT pg_temp.dry_run('DROP TABLE bk.invoices') AS tested_one_used;
-- ... but a restore test of a backup that is too old is worth nothing.
DELETE FROM guarded_ddl.backups;
SELECT guarded_ddl.record_backup('pgbackrest', 'old', now() - interval '2 days') AS old_backup \gset
SELECT guarded_ddl.record_restore_test(:old_backup, now() - interval '1 day');
SELECT guarded_ddl.record_backup('pgbackrest', 'fresh, untested') IS NOT NULL AS recorded;
SELECT pg_temp.dry_run('DROP TABLE bk.invoices') AS tested_but_old;
DELETE FROM guarded_ddl.policy;
DELETE FROM guarded_ddl.backups;

-- Bad markers are refused and nothing is recorded.
-- finished in the future: up to 5 minutes of clock skew are accepted
SELECT guarded_ddl.record_backup('pgbackrest', finished_at => now() + interval '4 minutes') IS NOT NULL AS skew_accepted;
DELETE FROM guarded_ddl.backups;
SELECT pg_temp.error_of($$SELECT guarded_ddl.record_backup('pgbackrest', finished_at => now() + interval '10 minutes')$$);
SELECT guarded_ddl.record_backup('pgbackrest', kind => 'weekly');
SELECT guarded_ddl.record_backup('   ');
SELECT guarded_ddl.record_backup(NULL);
SELECT guarded_ddl.record_backup('pgbackrest', finished_at => NULL);
-- the table's constraints back the function up (terse: the DETAIL shows
-- the failing row, with timestamps)
\set VERBOSITY terse
INSERT INTO guarded_ddl.backups (finished_at, tool, kind) VALUES (now(), 'pgbackrest', 'weekly');
INSERT INTO guarded_ddl.backups (finished_at, tool) VALUES (now(), '');
INSERT INTO guarded_ddl.backups (finished_at, tool) VALUES (now() + interval '1 hour', 'pgbackrest');
\set VERBOSITY default
SELECT count(*) AS backups FROM guarded_ddl.backups;
-- restore tests: of a backup that does not exist, or in the future
SELECT guarded_ddl.record_restore_test(999999);
SELECT guarded_ddl.record_backup('pgbackrest') AS good_backup \gset
SELECT pg_temp.error_of(format('SELECT guarded_ddl.record_restore_test(%s, now() + interval %L)',
                               :good_backup, '1 hour'));
SELECT guarded_ddl.record_restore_test(:good_backup, NULL);
SELECT count(*) AS backups, count(restore_verified_at) AS verified FROM guarded_ddl.backups;

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA bk CASCADE;
DROP EXTENSION guarded_ddl;
-- CREATE EXTENSION made the schema; DROP EXTENSION leaves it behind
DROP SCHEMA guarded_ddl;
COMMIT;
