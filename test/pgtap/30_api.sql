-- 30_api: behaviour of the SQL API (DESIGN.md §3.3): check() as a preflight
-- that executes nothing, status(), record_backup(), record_restore_test(),
-- purge_audit() and the input checks of override().
--
-- Order matters: check() is exercised first, while no backup is recorded
-- and no override is active (both change the decision it reports); the
-- override() calls that succeed come last, because an override lasts for
-- the rest of the transaction.  Nothing here runs a guarded statement, so
-- no durable 'denied' audit row is left behind.
-- Rights on guarded_ddl's objects are granted under an override (DESIGN
-- 3.7), which lasts for the rest of its transaction: so the backup job's
-- role gets them here, in a transaction of its own, and loses them again
-- after the test's ROLLBACK at the end.
CREATE ROLE gd_api_job NOLOGIN;
BEGIN;
SELECT guarded_ddl.override('30_api: rights for the backup job');
GRANT USAGE ON SCHEMA guarded_ddl TO gd_api_job;
GRANT EXECUTE ON FUNCTION guarded_ddl.record_backup(text,text,timestamptz,text,text) TO gd_api_job;
COMMIT;

BEGIN;
SELECT plan(71);

------------------------------------------------------------------------------
-- Fixtures
------------------------------------------------------------------------------

CREATE SCHEMA gd_api;
CREATE TABLE gd_api.t (id int PRIMARY KEY, payload text);
INSERT INTO gd_api.t VALUES (1, 'keep me');
CREATE TABLE gd_api.u (id int, payload text);
INSERT INTO gd_api.u VALUES (1, 'keep me too');
CREATE TABLE gd_api.empty (id int);

-- Tests need a clean slate of backups for the "no backup" decisions.
SELECT is_empty($$SELECT id FROM guarded_ddl.backups WHERE finished_at >= now() - interval '1 day'$$,
    'precondition: no recent backup is recorded in this database');

------------------------------------------------------------------------------
-- check(): preflight, executes nothing
------------------------------------------------------------------------------

SELECT results_eq(
    $$SELECT statement_no, operation, object_type, decision
        FROM guarded_ddl.check('DROP TABLE gd_api.t')$$,
    $$VALUES (1, 'drop'::text, 'table'::text, 'denied'::text)$$,
    'check(DROP TABLE of a non-empty table, no backup): one row, statement 1, drop table, denied');
SELECT results_eq(
    $$SELECT command_tag, object_identity, schema_name, object_name, holds_data, policy_id
        FROM guarded_ddl.check('DROP TABLE gd_api.t')$$,
    $$VALUES ('DROP TABLE'::text, 'gd_api.t'::text, 'gd_api'::text, 't'::text, true, NULL::bigint)$$,
    'check(DROP TABLE): command tag, identity, names, holds_data = true, decided by the default (no rule)');
SELECT isnt_empty(
    $$SELECT 1 FROM guarded_ddl.check('DROP TABLE gd_api.t') WHERE reason IS NOT NULL AND reason <> ''$$,
    'check(DROP TABLE) says why it would be denied');
SELECT has_table('gd_api', 't', 'the table check() looked at still exists');
SELECT is((SELECT count(*)::int FROM gd_api.t), 1, 'and still holds its row');
SELECT is_empty(
    $$SELECT id FROM guarded_ddl.audit WHERE object_identity = 'gd_api.t'$$,
    'check() wrote no audit row (it decides, it does not refuse)');

SELECT results_eq(
    $$SELECT statement_no, operation, object_type, decision, holds_data
        FROM guarded_ddl.check('DROP TABLE gd_api.empty')$$,
    $$VALUES (1, 'drop'::text, 'table'::text, 'allowed'::text, false)$$,
    'check(DROP TABLE of an empty table): allowed, holds_data = false');

SELECT results_eq(
    $$SELECT statement_no, operation, object_type, object_identity, decision
        FROM guarded_ddl.check('DROP TABLE gd_api.t; ALTER TABLE gd_api.u DROP COLUMN payload')
       ORDER BY statement_no$$,
    $$VALUES (1, 'drop'::text, 'table'::text, 'gd_api.t'::text, 'denied'::text),
             (2, 'drop'::text, 'table column'::text, 'gd_api.u.payload'::text, 'denied'::text)$$,
    'check() of two statements: one row per intent, statement_no 1 and 2');
SELECT set_eq(
    $$SELECT statement_no FROM guarded_ddl.check(
          'DROP TABLE gd_api.empty; DROP TABLE gd_api.t; ALTER TABLE gd_api.u DROP COLUMN payload;')$$,
    ARRAY[1, 2, 3],
    'check() of three statements numbers them 1, 2, 3');
SELECT has_column('gd_api', 'u', 'payload', 'the column check() looked at still exists');

SELECT lives_ok($$SELECT * FROM guarded_ddl.check('CREATE TABLE gd_api.made_by_check (i int)')$$,
    'check() of a harmless statement runs');
SELECT hasnt_table('gd_api', 'made_by_check', 'check() did not execute the CREATE TABLE it was given');

SELECT throws_ok($$SELECT * FROM guarded_ddl.check('DROP TABLEZ gd_api.t')$$, '42601', NULL,
    'check() of invalid SQL raises a syntax error (42601)');
SELECT throws_ok($$SELECT * FROM guarded_ddl.check('DROP TABLE gd_api.empty; DROP TABLE')$$, '42601', NULL,
    'check() of a string whose second statement is invalid raises a syntax error (42601)');
SELECT has_table('gd_api', 'empty', 'a syntax error in a later statement did not run the first one');

------------------------------------------------------------------------------
-- status(): the items, in order
------------------------------------------------------------------------------

SELECT results_eq(
    $$SELECT item FROM guarded_ddl.status()$$,
    ARRAY['mode', 'event triggers', 'utility hook', 'newest backup', 'rules',
          'application_name rules', 'denials (24 h)', 'audit writer', 'trash'],
    'status() returns exactly mode, event triggers, utility hook, newest backup, rules, application_name rules, denials (24 h), audit writer, trash, in that order');
SELECT is((SELECT ok FROM guarded_ddl.status() WHERE item = 'event triggers'), true,
    'status(): event triggers ok (all four ENABLE ALWAYS)');
SELECT results_eq(
    $$SELECT value, ok FROM guarded_ddl.status() WHERE item = 'mode'$$,
    $$VALUES ('enforce'::text, true)$$,
    'status(): mode is enforce, ok');
SELECT is((SELECT ok FROM guarded_ddl.status() WHERE item = 'utility hook'), true,
    'status(): utility hook ok (library preloaded)');
SELECT is((SELECT ok FROM guarded_ddl.status() WHERE item = 'newest backup'), false,
    'status(): newest backup not ok while none is recorded');
SELECT is_empty($$SELECT item FROM guarded_ddl.status() WHERE value IS NULL OR ok IS NULL$$,
    'status(): every item has a value and an ok flag');

------------------------------------------------------------------------------
-- record_backup()
------------------------------------------------------------------------------

SELECT lives_ok(
    $$SELECT set_config('gd_test.b1', guarded_ddl.record_backup('pgbackrest', '30_api b1')::text, true)$$,
    'record_backup(tool, label) runs');
SELECT cmp_ok(current_setting('gd_test.b1')::bigint, '>', 0::bigint, 'record_backup() returns a positive id');
SELECT results_eq(
    $$SELECT tool, label, kind, location, finished_at, restore_verified_at,
             recorded_by::text COLLATE "default", recorded_at
        FROM guarded_ddl.backups WHERE id = current_setting('gd_test.b1')::bigint$$,
    $$VALUES ('pgbackrest'::text, '30_api b1'::text, 'full'::text, NULL::text, now(), NULL::timestamptz,
              session_user::text COLLATE "default", now())$$,
    'the marker row: kind full, finished_at now(), recorded_by = session_user, recorded_at now()');

SELECT lives_ok(
    $$SELECT set_config('gd_test.b2',
                        guarded_ddl.record_backup(tool => 'barman', label => '30_api b2',
                                                  finished_at => now() - interval '2 hours',
                                                  kind => 'incremental',
                                                  location => 's3://bucket/b2')::text, true)$$,
    'record_backup() with every argument named');
SELECT cmp_ok(current_setting('gd_test.b2')::bigint, '>', current_setting('gd_test.b1')::bigint,
    'ids increase');
SELECT results_eq(
    $$SELECT tool, label, kind, location, finished_at FROM guarded_ddl.backups
       WHERE id = current_setting('gd_test.b2')::bigint$$,
    $$VALUES ('barman'::text, '30_api b2'::text, 'incremental'::text, 's3://bucket/b2'::text,
              now() - interval '2 hours')$$,
    'the named arguments are stored as given');

SELECT lives_ok(
    $$SELECT guarded_ddl.record_backup('snap', '30_api kinds', now(), k)
        FROM unnest(ARRAY['full', 'differential', 'incremental', 'logical', 'snapshot']) AS k$$,
    'record_backup() accepts each kind: full, differential, incremental, logical, snapshot');
SELECT lives_ok(
    $$SELECT guarded_ddl.record_backup('pg_dump', '30_api skew', now() + interval '4 minutes')$$,
    'record_backup() accepts finished_at up to 5 minutes ahead (clock skew)');

SELECT throws_ok(
    $$SELECT guarded_ddl.record_backup('pg_dump', '30_api refused', now() + interval '6 minutes')$$,
    '22023', NULL, 'record_backup() refuses finished_at more than 5 minutes in the future');
SELECT throws_ok(
    $$SELECT guarded_ddl.record_backup('pg_dump', '30_api refused', now() + interval '1 day')$$,
    '22023', NULL, 'record_backup() refuses finished_at a day in the future');
SELECT throws_ok(
    $$SELECT guarded_ddl.record_backup('pg_dump', '30_api refused', kind => 'weekly')$$,
    '22023', NULL, 'record_backup() refuses an unknown kind');
SELECT throws_ok(
    $$SELECT guarded_ddl.record_backup('pg_dump', '30_api refused', kind => 'FULL')$$,
    '22023', NULL, 'record_backup() kinds are case-sensitive (FULL is unknown)');
SELECT throws_ok(
    $$SELECT guarded_ddl.record_backup('pg_dump', '30_api refused', kind => NULL)$$,
    '22023', NULL, 'record_backup() refuses a NULL kind');
SELECT throws_ok($$SELECT guarded_ddl.record_backup('', '30_api refused')$$,
    '22023', NULL, 'record_backup() refuses an empty tool');
SELECT throws_ok($$SELECT guarded_ddl.record_backup('   ', '30_api refused')$$,
    '22023', NULL, 'record_backup() refuses a blank tool (spaces)');
SELECT throws_ok($$SELECT guarded_ddl.record_backup(E'\t\n ', '30_api blank whitespace')$$,
    '22023', NULL, 'record_backup() refuses a blank tool (tab, newline, space)');
SELECT throws_ok($$SELECT guarded_ddl.record_backup(NULL, '30_api refused')$$,
    NULL, NULL, 'record_backup() refuses a NULL tool');
SELECT throws_ok($$SELECT guarded_ddl.record_backup('pg_dump', '30_api refused', NULL)$$,
    NULL, NULL, 'record_backup() refuses a NULL finished_at');
SELECT is_empty($$SELECT id FROM guarded_ddl.backups WHERE label = '30_api refused'$$,
    'refused calls recorded nothing');

-- recorded_by is the session user even though record_backup() is SECURITY
-- DEFINER (owned by the superuser).
-- (gd_api_job and its rights are set up before this transaction: see the top)
SET SESSION AUTHORIZATION gd_api_job;
SELECT lives_ok(
    $$SELECT set_config('gd_test.b3', guarded_ddl.record_backup('pgbackrest', '30_api b3')::text, true)$$,
    'a backup job session records a backup');
RESET SESSION AUTHORIZATION;
SELECT is(
    (SELECT recorded_by::text FROM guarded_ddl.backups WHERE id = current_setting('gd_test.b3')::bigint),
    'gd_api_job',
    'recorded_by is the calling session user, not the function''s owner');

-- With a backup recorded, the same preflight now says allowed.
SELECT results_eq(
    $$SELECT operation, object_type, decision FROM guarded_ddl.check('DROP TABLE gd_api.t')$$,
    $$VALUES ('drop'::text, 'table'::text, 'allowed'::text)$$,
    'check() decides as of now: after record_backup(), DROP TABLE of the non-empty table is allowed');
SELECT has_table('gd_api', 't', 'and check() still did not drop it');

SELECT results_eq(
    $$SELECT s.ok, s.value LIKE '#' || b.id || ' by ' || b.tool || '%'
        FROM guarded_ddl.status() AS s,
             (SELECT id, tool FROM guarded_ddl.backups ORDER BY finished_at DESC, id DESC LIMIT 1) AS b
       WHERE s.item = 'newest backup'$$,
    $$VALUES (true, true)$$,
    'status(): newest backup is ok and names the marker with the latest finished_at');

------------------------------------------------------------------------------
-- record_restore_test()
------------------------------------------------------------------------------

SELECT lives_ok($$SELECT guarded_ddl.record_restore_test(current_setting('gd_test.b1')::bigint)$$,
    'record_restore_test(id) runs');
SELECT is((SELECT restore_verified_at FROM guarded_ddl.backups WHERE id = current_setting('gd_test.b1')::bigint),
    now(), 'record_restore_test(id) sets restore_verified_at to now()');
SELECT lives_ok(
    $$SELECT guarded_ddl.record_restore_test(backup_id => current_setting('gd_test.b2')::bigint,
                                             verified_at => now() - interval '30 minutes')$$,
    'record_restore_test(backup_id, verified_at) with named arguments');
SELECT is((SELECT restore_verified_at FROM guarded_ddl.backups WHERE id = current_setting('gd_test.b2')::bigint),
    now() - interval '30 minutes', 'restore_verified_at is the time given');
SELECT is((SELECT restore_verified_at FROM guarded_ddl.backups WHERE id = current_setting('gd_test.b3')::bigint),
    NULL, 'other markers are untouched');
SELECT throws_ok(
    $$SELECT guarded_ddl.record_restore_test((SELECT coalesce(max(id), 0) + 1000 FROM guarded_ddl.backups))$$,
    'P0002', NULL, 'record_restore_test() refuses an unknown backup id');
SELECT throws_ok($$SELECT guarded_ddl.record_restore_test(NULL)$$, NULL, NULL,
    'record_restore_test() refuses a NULL backup id');
SELECT throws_ok(
    $$SELECT guarded_ddl.record_restore_test(current_setting('gd_test.b3')::bigint, now() + interval '1 day')$$,
    '22023', NULL, 'record_restore_test() refuses a verification time in the future');

------------------------------------------------------------------------------
-- purge_audit()
------------------------------------------------------------------------------

SELECT throws_ok($$SELECT guarded_ddl.purge_audit(interval '-1 day')$$, '22023', NULL,
    'purge_audit() refuses a negative interval');
SELECT throws_ok($$SELECT guarded_ddl.purge_audit(interval '-1 second')$$, '22023', NULL,
    'purge_audit() refuses a slightly negative interval');
SELECT is(pg_typeof(guarded_ddl.purge_audit(interval '100 years'))::text, 'bigint',
    'purge_audit() returns a bigint');

-- An old row (inserted by the superuser as a stand-in for old history) is
-- purged; fresh rows are kept.
INSERT INTO guarded_ddl.audit (logged_at, decision, operation, object_type, object_identity,
                               command_tag, role_name, session_role, backend_pid)
     VALUES (now() - interval '400 days', 'allowed', 'drop', 'table', 'gd_api.old',
             'DROP TABLE', current_user, session_user, pg_backend_pid()),
            (now(), 'allowed', 'drop', 'table', 'gd_api.fresh',
             'DROP TABLE', current_user, session_user, pg_backend_pid());
DO $$ BEGIN
    PERFORM set_config('gd_test.old_rows',
        (SELECT count(*) FROM guarded_ddl.audit WHERE logged_at < now() - interval '30 days')::text, true);
END $$;
SELECT is(guarded_ddl.purge_audit(interval '30 days'), current_setting('gd_test.old_rows')::bigint,
    'purge_audit(30 days) returns the number of rows older than 30 days');
SELECT is_empty($$SELECT id FROM guarded_ddl.audit WHERE object_identity = 'gd_api.old'$$,
    'the 400-day-old row is gone');
SELECT isnt_empty($$SELECT id FROM guarded_ddl.audit WHERE object_identity = 'gd_api.fresh'$$,
    'the fresh row is kept');
SELECT is(guarded_ddl.purge_audit(interval '30 days'), 0::bigint,
    'a second purge finds nothing more');

------------------------------------------------------------------------------
-- override(): input checks (the refusals first, then the accepted calls)
------------------------------------------------------------------------------

SELECT throws_ok($$SELECT guarded_ddl.override(NULL)$$, '22004', NULL,
    'override(NULL) is refused');
SELECT throws_ok($$SELECT guarded_ddl.override('')$$, '22023', NULL,
    'override('''') is refused');
SELECT throws_ok($$SELECT guarded_ddl.override(E'  \t\n ')$$, '22023', NULL,
    'override() with a blank reason is refused');
SELECT throws_ok($$SELECT guarded_ddl.override(repeat('x', 1001))$$, '22001', NULL,
    'override() with a 1001-byte reason is refused');
SELECT throws_ok($$SELECT guarded_ddl.override(repeat('é', 501))$$, '22001', NULL,
    'override() counts bytes, not characters: 501 two-byte characters (1002 bytes) are refused');
SELECT throws_ok($$SELECT guarded_ddl.override(repeat('x', 100000))$$, '22001', NULL,
    'override() with a 100 kB reason is refused, not cut');
INSERT INTO guarded_ddl.policy (priority, operation, object_type, schema_name, object_name, action, note)
     VALUES (1, 'drop', 'table', 'gd_api', 'u', 'deny', '30_api: deny u');
SELECT results_eq(
    $$SELECT decision, policy_id FROM guarded_ddl.check('DROP TABLE gd_api.u')$$,
    $$SELECT 'denied'::text, id FROM guarded_ddl.policy WHERE note = '30_api: deny u'$$,
    'the refused override() calls changed nothing: a deny rule still denies (check)');

SELECT lives_ok($$SELECT guarded_ddl.override(repeat('é', 500))$$,
    'override() accepts a reason of exactly 1000 bytes');
SELECT lives_ok($$SELECT guarded_ddl.override('30_api: ticket OPS-1')$$,
    'override() accepts an ordinary reason inside a transaction block');
SELECT results_eq(
    $$SELECT decision, reason FROM guarded_ddl.check('DROP TABLE gd_api.u')$$,
    $$VALUES ('overridden'::text, '30_api: ticket OPS-1'::text)$$,
    'after override(), check() reports the denied DROP as overridden, with the latest reason');

SELECT * FROM finish();
ROLLBACK;

BEGIN;
SELECT guarded_ddl.override('30_api: clean up');
REVOKE ALL ON FUNCTION guarded_ddl.record_backup(text,text,timestamptz,text,text) FROM gd_api_job;
REVOKE ALL ON SCHEMA guarded_ddl FROM gd_api_job;
COMMIT;
DROP ROLE gd_api_job;
