-- 20_roles: the recommended role layout of the README, granted exactly as
-- the README writes it, and proof that each role can do its part and
-- nothing else (DESIGN.md §3.3 "Privileges").  Also: the audit cannot be
-- written by anyone but the extension, SECURITY DEFINER functions pin
-- search_path, and a hostile search_path does not change record_backup().
--
-- Roles are cluster-wide: they are created inside the transaction, so the
-- final ROLLBACK removes them together with everything else.
--
-- No statement here is meant to be refused by guarded_ddl itself (that
-- would leave a durable 'denied' audit row behind the ROLLBACK): every
-- refusal tested below is PostgreSQL's own permission check or the audit's
-- append-only trigger.  The one guarded DROP (break-glass drill) runs under
-- an override.
BEGIN;
SELECT plan(118);

------------------------------------------------------------------------------
-- The layout, exactly as README documents it
------------------------------------------------------------------------------

CREATE ROLE gd_policy_admin NOLOGIN;
CREATE ROLE gd_backup_job NOLOGIN;
CREATE ROLE gd_auditor NOLOGIN;
CREATE ROLE gd_break_glass NOLOGIN;
CREATE ROLE gd_audit_admin NOLOGIN;
CREATE ROLE gd_outsider NOLOGIN;

-- rights on guarded_ddl's objects are granted under an override (DESIGN
-- 3.7), as the README's role layout does; nothing below is meant to be
-- refused by guarded_ddl, so it lasting to the ROLLBACK changes nothing
SELECT guarded_ddl.override('role layout of the README');

-- policy admin
GRANT USAGE ON SCHEMA guarded_ddl TO gd_policy_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON guarded_ddl.policy TO gd_policy_admin;
GRANT USAGE ON SEQUENCE guarded_ddl.policy_id_seq TO gd_policy_admin;
GRANT SELECT ON guarded_ddl.audit, guarded_ddl.denials TO gd_policy_admin;

-- backup recorder
GRANT USAGE ON SCHEMA guarded_ddl TO gd_backup_job;
GRANT EXECUTE ON FUNCTION guarded_ddl.record_backup(text,text,timestamptz,text,text),
                          guarded_ddl.record_restore_test(bigint,timestamptz) TO gd_backup_job;

-- auditor
GRANT USAGE ON SCHEMA guarded_ddl TO gd_auditor;
GRANT SELECT ON guarded_ddl.audit, guarded_ddl.denials, guarded_ddl.recovery,
                guarded_ddl.backups, guarded_ddl.policy TO gd_auditor;
GRANT EXECUTE ON FUNCTION guarded_ddl.status(), guarded_ddl.check(text) TO gd_auditor;

-- break-glass
GRANT USAGE ON SCHEMA guarded_ddl TO gd_break_glass;
GRANT EXECUTE ON FUNCTION guarded_ddl.override(text) TO gd_break_glass;

-- audit retention
GRANT USAGE ON SCHEMA guarded_ddl TO gd_audit_admin;
GRANT EXECUTE ON FUNCTION guarded_ddl.purge_audit(interval) TO gd_audit_admin;

-- gd_outsider: no grants at all.

------------------------------------------------------------------------------
-- Fixtures (as superuser)
------------------------------------------------------------------------------

-- A table holding data, and a rule that denies dropping it: only an
-- override lets the break-glass drill below through.
CREATE SCHEMA gd_roles_app;
CREATE TABLE gd_roles_app.t (id int);
INSERT INTO gd_roles_app.t VALUES (1), (2), (3);
-- (An application-side grant, not part of the layout: check() resolves
-- names with the caller's rights, like the statement itself would.)
GRANT USAGE ON SCHEMA gd_roles_app TO gd_auditor;
INSERT INTO guarded_ddl.policy (priority, operation, object_type, schema_name, object_name, action, note)
     VALUES (1, 'drop', 'table', 'gd_roles_app', 't', 'deny', '20_roles: deny drill');

-- A disabled rule for the policy admin to edit and delete.
INSERT INTO guarded_ddl.policy (priority, schema_name, action, enabled, note)
     VALUES (50, 'gd_roles_nowhere', 'warn', false, '20_roles fixture');

-- A backup marker the other roles try (and fail) to touch.
DO $$ BEGIN
    PERFORM set_config('gd_test.fixture_backup',
                       guarded_ddl.record_backup('pg_dump', '20_roles fixture')::text, true);
END $$;

-- Every privilege a role holds on guarded_ddl's schema, tables, views,
-- sequences and functions, one "object:PRIVILEGE" line each.
CREATE FUNCTION pg_temp.gd_privileges(r name) RETURNS SETOF text
    LANGUAGE sql STABLE AS $$
    SELECT 'schema:' || p
      FROM unnest(ARRAY['USAGE', 'CREATE']) AS p
     WHERE has_schema_privilege(r, 'guarded_ddl', p)
    UNION ALL
    SELECT c.relname || ':' || p
      FROM pg_class AS c, unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) AS p
     WHERE c.relnamespace = 'guarded_ddl'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
       AND has_any_column_privilege(r, c.oid, p)
    UNION ALL
    SELECT c.relname || ':' || p
      FROM pg_class AS c, unnest(ARRAY['DELETE', 'TRUNCATE', 'TRIGGER']) AS p
     WHERE c.relnamespace = 'guarded_ddl'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
       AND has_table_privilege(r, c.oid, p)
    UNION ALL
    SELECT c.relname || ':' || p
      FROM pg_class AS c, unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) AS p
     WHERE c.relnamespace = 'guarded_ddl'::regnamespace AND c.relkind = 'S'
       AND has_sequence_privilege(r, c.oid, p)
    UNION ALL
    SELECT f.proname || '(' || oidvectortypes(f.proargtypes) || '):EXECUTE'
      FROM pg_proc AS f
     WHERE f.pronamespace = 'guarded_ddl'::regnamespace
       AND has_function_privilege(r, f.oid, 'EXECUTE')
$$;

------------------------------------------------------------------------------
-- Privilege matrix: each role holds exactly its grants, nothing more
------------------------------------------------------------------------------

SELECT set_eq($$SELECT pg_temp.gd_privileges('gd_policy_admin')$$,
    ARRAY['schema:USAGE',
          'policy:SELECT', 'policy:INSERT', 'policy:UPDATE', 'policy:DELETE',
          'policy_id_seq:USAGE',
          'audit:SELECT', 'denials:SELECT'],
    'privileges of gd_policy_admin: exactly the policy, its sequence, and reading audit/denials');
SELECT set_eq($$SELECT pg_temp.gd_privileges('gd_backup_job')$$,
    ARRAY['schema:USAGE',
          'record_backup(text, text, timestamp with time zone, text, text):EXECUTE',
          'record_restore_test(bigint, timestamp with time zone):EXECUTE'],
    'privileges of gd_backup_job: exactly record_backup() and record_restore_test()');
SELECT set_eq($$SELECT pg_temp.gd_privileges('gd_auditor')$$,
    ARRAY['schema:USAGE',
          'audit:SELECT', 'denials:SELECT', 'recovery:SELECT', 'backups:SELECT', 'policy:SELECT',
          'status():EXECUTE', 'check(text):EXECUTE'],
    'privileges of gd_auditor: exactly reading the five relations, status() and check()');
SELECT set_eq($$SELECT pg_temp.gd_privileges('gd_break_glass')$$,
    ARRAY['schema:USAGE', 'override(text):EXECUTE'],
    'privileges of gd_break_glass: exactly override()');
SELECT set_eq($$SELECT pg_temp.gd_privileges('gd_audit_admin')$$,
    ARRAY['schema:USAGE', 'purge_audit(interval):EXECUTE'],
    'privileges of gd_audit_admin: exactly purge_audit()');
SELECT is_empty($$SELECT pg_temp.gd_privileges('gd_outsider')$$,
    'privileges of gd_outsider: none at all');

------------------------------------------------------------------------------
-- Policy admin
------------------------------------------------------------------------------

SET ROLE gd_policy_admin;

SELECT lives_ok(
    $$INSERT INTO guarded_ddl.policy (priority, operation, schema_name, action, enabled, note)
           VALUES (60, 'drop', 'gd_roles_nowhere', 'deny', false, '20_roles: by policy admin')$$,
    'policy admin can INSERT a rule');
SELECT lives_ok(
    $$UPDATE guarded_ddl.policy SET action = 'deny', note = '20_roles fixture (edited)'
       WHERE note = '20_roles fixture'$$,
    'policy admin can UPDATE a rule');
SELECT lives_ok(
    $$DELETE FROM guarded_ddl.policy WHERE note LIKE '20\_roles fixture%'$$,
    'policy admin can DELETE a rule');
SELECT lives_ok($$SELECT count(*) FROM guarded_ddl.policy$$, 'policy admin can read the policy');
SELECT lives_ok($$SELECT count(*) FROM guarded_ddl.audit$$, 'policy admin can read the audit');
SELECT lives_ok($$SELECT count(*) FROM guarded_ddl.denials$$, 'policy admin can read denials');

SELECT throws_ok($$SELECT guarded_ddl.record_backup('pg_dump')$$, '42501', NULL,
    'policy admin cannot record a backup');
SELECT throws_ok($$SELECT guarded_ddl.record_restore_test(current_setting('gd_test.fixture_backup')::bigint)$$,
    '42501', NULL, 'policy admin cannot record a restore test');
SELECT throws_ok($$SELECT count(*) FROM guarded_ddl.backups$$, '42501', NULL,
    'policy admin cannot read backups');
SELECT throws_ok($$SELECT count(*) FROM guarded_ddl.recovery$$, '42501', NULL,
    'policy admin cannot read recovery');
SELECT throws_ok(
    $$INSERT INTO guarded_ddl.audit (decision, operation, object_type, object_identity, command_tag,
                                     role_name, session_role, backend_pid)
           VALUES ('allowed', 'drop', 'table', 'forged.t', 'DROP TABLE', 'x', 'x', 1)$$,
    '42501', NULL, 'policy admin cannot INSERT into the audit');
SELECT throws_ok($$UPDATE guarded_ddl.audit SET reason = 'forged'$$, '42501', NULL,
    'policy admin cannot UPDATE the audit');
SELECT throws_ok($$DELETE FROM guarded_ddl.audit$$, '42501', NULL,
    'policy admin cannot DELETE from the audit');
SELECT throws_ok($$TRUNCATE guarded_ddl.policy$$, '42501', NULL,
    'policy admin cannot TRUNCATE the policy (not granted)');
SELECT throws_ok($$SELECT guarded_ddl.override('policy admin')$$, '42501', NULL,
    'policy admin cannot override');
SELECT throws_ok($$SELECT guarded_ddl.purge_audit('0')$$, '42501', NULL,
    'policy admin cannot purge the audit');
SELECT throws_ok($$SELECT * FROM guarded_ddl.status()$$, '42501', NULL,
    'policy admin cannot call status() (not granted)');

RESET ROLE;

SELECT results_eq(
    $$SELECT action, created_by::text COLLATE "default" FROM guarded_ddl.policy
       WHERE note = '20_roles: by policy admin'$$,
    $$VALUES ('deny'::text, 'gd_policy_admin'::text)$$,
    'the policy admin''s rule is stored, created_by = gd_policy_admin');
SELECT is_empty(
    $$SELECT id FROM guarded_ddl.policy WHERE note LIKE '20\_roles fixture%'$$,
    'the rule the policy admin deleted is gone');

------------------------------------------------------------------------------
-- Backup recorder
------------------------------------------------------------------------------

SET ROLE gd_backup_job;

SELECT lives_ok(
    $$SELECT set_config('gd_test.job_backup',
                        guarded_ddl.record_backup('pgbackrest', '20_roles nightly',
                                                  kind => 'differential')::text, true)$$,
    'backup job can record a backup');
SELECT lives_ok(
    $$SELECT guarded_ddl.record_restore_test(current_setting('gd_test.job_backup')::bigint)$$,
    'backup job can record a restore test');

SELECT throws_ok(
    $$INSERT INTO guarded_ddl.backups (finished_at, tool) VALUES (now(), 'forged')$$,
    '42501', NULL, 'backup job cannot INSERT into backups directly');
SELECT throws_ok($$UPDATE guarded_ddl.backups SET finished_at = now()$$, '42501', NULL,
    'backup job cannot UPDATE backups directly');
SELECT throws_ok($$DELETE FROM guarded_ddl.backups$$, '42501', NULL,
    'backup job cannot DELETE backups');
SELECT throws_ok($$SELECT count(*) FROM guarded_ddl.policy$$, '42501', NULL,
    'backup job cannot read the policy');
SELECT throws_ok($$INSERT INTO guarded_ddl.policy (action) VALUES ('allow')$$, '42501', NULL,
    'backup job cannot INSERT a rule');
SELECT throws_ok($$UPDATE guarded_ddl.policy SET enabled = false$$, '42501', NULL,
    'backup job cannot UPDATE rules');
SELECT throws_ok($$DELETE FROM guarded_ddl.policy$$, '42501', NULL,
    'backup job cannot DELETE rules');
SELECT throws_ok($$SELECT count(*) FROM guarded_ddl.audit$$, '42501', NULL,
    'backup job cannot read the audit');
SELECT throws_ok(
    $$INSERT INTO guarded_ddl.audit (decision, operation, object_type, object_identity, command_tag,
                                     role_name, session_role, backend_pid)
           VALUES ('allowed', 'drop', 'table', 'forged.t', 'DROP TABLE', 'x', 'x', 1)$$,
    '42501', NULL, 'backup job cannot INSERT into the audit');
SELECT throws_ok($$DELETE FROM guarded_ddl.audit$$, '42501', NULL,
    'backup job cannot DELETE from the audit');
SELECT throws_ok($$SELECT guarded_ddl.override('backup job')$$, '42501', NULL,
    'backup job cannot override');
SELECT throws_ok($$SELECT guarded_ddl.purge_audit('0')$$, '42501', NULL,
    'backup job cannot purge the audit');

RESET ROLE;

SELECT results_eq(
    $$SELECT tool, label, kind, restore_verified_at IS NOT NULL
        FROM guarded_ddl.backups
       WHERE id = current_setting('gd_test.job_backup')::bigint$$,
    $$VALUES ('pgbackrest'::text, '20_roles nightly'::text, 'differential'::text, true)$$,
    'the backup job''s marker is stored, with its restore test');

------------------------------------------------------------------------------
-- Auditor
------------------------------------------------------------------------------

SET ROLE gd_auditor;

SELECT lives_ok($$SELECT count(*) FROM guarded_ddl.audit$$, 'auditor can read the audit');
SELECT lives_ok($$SELECT count(*) FROM guarded_ddl.denials$$, 'auditor can read denials');
SELECT lives_ok($$SELECT count(*) FROM guarded_ddl.recovery$$, 'auditor can read recovery');
SELECT lives_ok($$SELECT count(*) FROM guarded_ddl.backups$$, 'auditor can read backups');
SELECT lives_ok($$SELECT count(*) FROM guarded_ddl.policy$$, 'auditor can read the policy');
SELECT lives_ok($$SELECT * FROM guarded_ddl.status()$$, 'auditor can call status()');
SELECT is((SELECT count(*)::int FROM guarded_ddl.status()), 9, 'status() run by the auditor reports all nine items');
SELECT lives_ok($$SELECT * FROM guarded_ddl.check('DROP TABLE gd_roles_app.t')$$,
    'auditor can call check()');
SELECT results_eq(
    $$SELECT statement_no, operation, object_type, object_identity
        FROM guarded_ddl.check('DROP TABLE gd_roles_app.t')$$,
    $$VALUES (1, 'drop'::text, 'table'::text, 'gd_roles_app.t'::text)$$,
    'check() run by the auditor reports the DROP TABLE intent');

SELECT throws_ok($$INSERT INTO guarded_ddl.policy (action) VALUES ('allow')$$, '42501', NULL,
    'auditor cannot INSERT a rule');
SELECT throws_ok($$UPDATE guarded_ddl.policy SET enabled = false$$, '42501', NULL,
    'auditor cannot UPDATE rules');
SELECT throws_ok($$DELETE FROM guarded_ddl.policy$$, '42501', NULL,
    'auditor cannot DELETE rules');
SELECT throws_ok(
    $$INSERT INTO guarded_ddl.backups (finished_at, tool) VALUES (now(), 'forged')$$,
    '42501', NULL, 'auditor cannot INSERT into backups');
SELECT throws_ok($$UPDATE guarded_ddl.backups SET restore_verified_at = now()$$, '42501', NULL,
    'auditor cannot UPDATE backups');
SELECT throws_ok($$SELECT guarded_ddl.record_backup('pg_dump')$$, '42501', NULL,
    'auditor cannot record a backup');
SELECT throws_ok($$SELECT guarded_ddl.record_restore_test(current_setting('gd_test.fixture_backup')::bigint)$$,
    '42501', NULL, 'auditor cannot record a restore test');
SELECT throws_ok(
    $$INSERT INTO guarded_ddl.audit (decision, operation, object_type, object_identity, command_tag,
                                     role_name, session_role, backend_pid)
           VALUES ('allowed', 'drop', 'table', 'forged.t', 'DROP TABLE', 'x', 'x', 1)$$,
    '42501', NULL, 'auditor cannot INSERT into the audit');
SELECT throws_ok($$UPDATE guarded_ddl.audit SET reason = 'forged'$$, '42501', NULL,
    'auditor cannot UPDATE the audit');
SELECT throws_ok($$DELETE FROM guarded_ddl.audit$$, '42501', NULL,
    'auditor cannot DELETE from the audit');
SELECT throws_ok($$TRUNCATE guarded_ddl.audit$$, '42501', NULL,
    'auditor cannot TRUNCATE the audit');
SELECT throws_ok($$SELECT guarded_ddl.override('auditor')$$, '42501', NULL,
    'auditor cannot override');
SELECT throws_ok($$SELECT guarded_ddl.purge_audit('0')$$, '42501', NULL,
    'auditor cannot purge the audit');

RESET ROLE;

------------------------------------------------------------------------------
-- Audit retention
------------------------------------------------------------------------------

SET ROLE gd_audit_admin;

SELECT lives_ok($$SELECT guarded_ddl.purge_audit('3650 days')$$, 'audit admin can purge the audit');
SELECT throws_ok($$SELECT count(*) FROM guarded_ddl.audit$$, '42501', NULL,
    'audit admin cannot read the audit (not granted)');
SELECT throws_ok($$DELETE FROM guarded_ddl.audit$$, '42501', NULL,
    'audit admin cannot DELETE from the audit directly, only through purge_audit()');
SELECT throws_ok($$UPDATE guarded_ddl.audit SET reason = 'forged'$$, '42501', NULL,
    'audit admin cannot UPDATE the audit');
SELECT throws_ok($$UPDATE guarded_ddl.policy SET enabled = false$$, '42501', NULL,
    'audit admin cannot change the policy');
SELECT throws_ok($$SELECT guarded_ddl.record_backup('pg_dump')$$, '42501', NULL,
    'audit admin cannot record a backup');
SELECT throws_ok($$SELECT guarded_ddl.override('audit admin')$$, '42501', NULL,
    'audit admin cannot override');

RESET ROLE;

------------------------------------------------------------------------------
-- Outsider: every function and every relation refused
------------------------------------------------------------------------------

SET ROLE gd_outsider;

SELECT throws_ok($$SELECT guarded_ddl.record_backup('pg_dump')$$, '42501', NULL,
    'outsider cannot call record_backup()');
SELECT throws_ok($$SELECT guarded_ddl.record_restore_test(current_setting('gd_test.fixture_backup')::bigint)$$,
    '42501', NULL, 'outsider cannot call record_restore_test()');
SELECT throws_ok($$SELECT guarded_ddl.override('outsider')$$, '42501', NULL,
    'outsider cannot call override()');
SELECT throws_ok($$SELECT * FROM guarded_ddl.check('DROP TABLE gd_roles_app.t')$$, '42501', NULL,
    'outsider cannot call check()');
SELECT throws_ok($$SELECT * FROM guarded_ddl.status()$$, '42501', NULL,
    'outsider cannot call status()');
SELECT throws_ok($$SELECT guarded_ddl.purge_audit('0')$$, '42501', NULL,
    'outsider cannot call purge_audit()');
SELECT throws_ok($$SELECT guarded_ddl.hook_active()$$, '42501', NULL,
    'outsider cannot call hook_active()');
SELECT throws_ok($$SELECT guarded_ddl.glob_match('*', 'x')$$, '42501', NULL,
    'outsider cannot call glob_match()');
SELECT throws_ok($$SELECT count(*) FROM guarded_ddl.policy$$, '42501', NULL,
    'outsider cannot read the policy');
SELECT throws_ok($$INSERT INTO guarded_ddl.policy (action) VALUES ('allow')$$, '42501', NULL,
    'outsider cannot INSERT a rule');
SELECT throws_ok($$DELETE FROM guarded_ddl.policy$$, '42501', NULL,
    'outsider cannot DELETE rules');
SELECT throws_ok($$SELECT count(*) FROM guarded_ddl.backups$$, '42501', NULL,
    'outsider cannot read backups');
SELECT throws_ok(
    $$INSERT INTO guarded_ddl.backups (finished_at, tool) VALUES (now(), 'forged')$$,
    '42501', NULL, 'outsider cannot INSERT into backups');
SELECT throws_ok($$SELECT count(*) FROM guarded_ddl.audit$$, '42501', NULL,
    'outsider cannot read the audit');
SELECT throws_ok(
    $$INSERT INTO guarded_ddl.audit (decision, operation, object_type, object_identity, command_tag,
                                     role_name, session_role, backend_pid)
           VALUES ('allowed', 'drop', 'table', 'forged.t', 'DROP TABLE', 'x', 'x', 1)$$,
    '42501', NULL, 'outsider cannot INSERT into the audit');
SELECT throws_ok($$SELECT count(*) FROM guarded_ddl.denials$$, '42501', NULL,
    'outsider cannot read denials');
SELECT throws_ok($$SELECT count(*) FROM guarded_ddl.recovery$$, '42501', NULL,
    'outsider cannot read recovery');
SELECT throws_ok($$SELECT nextval('guarded_ddl.policy_id_seq')$$, '42501', NULL,
    'outsider cannot use the policy sequence');
SELECT throws_ok($$SET LOCAL guarded_ddl.override_reason = 'sneaky'$$, '42602', NULL,
    'there is no setting to fake an override with (the guarded_ddl prefix is reserved)');
SELECT throws_ok($$SELECT set_config('guarded_ddl.override_reason', 'sneaky', true)$$, '42602', NULL,
    'nor through set_config()');
SELECT throws_ok($$SET LOCAL guarded_ddl.mode = 'off'$$, '42501', NULL,
    'outsider cannot switch the guard off (guarded_ddl.mode is superuser-only)');
SELECT throws_ok($$SET LOCAL guarded_ddl.default_action = 'allow'$$, '42501', NULL,
    'outsider cannot change guarded_ddl.default_action');

RESET ROLE;

------------------------------------------------------------------------------
-- Nobody but the extension writes the audit
------------------------------------------------------------------------------

SELECT throws_ok($$UPDATE guarded_ddl.audit SET reason = 'forged'$$, '42501',
    'guarded_ddl.audit is append-only',
    'even the superuser''s UPDATE of the audit is refused by the append-only trigger');
SELECT throws_ok($$UPDATE guarded_ddl.audit SET reason = 'forged' WHERE false$$, '42501',
    'guarded_ddl.audit is append-only',
    'the append-only trigger refuses an UPDATE of the audit even when no row matches');
SELECT ok(
    EXISTS (SELECT 1 FROM pg_attribute
             WHERE attrelid = 'guarded_ddl.audit'::regclass AND attname = 'id'
               AND attidentity = 'a'),
    'audit.id is GENERATED ALWAYS: no INSERT can pick its own id without OVERRIDING SYSTEM VALUE');

------------------------------------------------------------------------------
-- Break-glass (last: the override lasts for the rest of the transaction)
------------------------------------------------------------------------------

SET ROLE gd_break_glass;

SELECT throws_ok($$SELECT count(*) FROM guarded_ddl.policy$$, '42501', NULL,
    'break-glass cannot read the policy');
SELECT throws_ok($$INSERT INTO guarded_ddl.policy (action) VALUES ('allow')$$, '42501', NULL,
    'break-glass cannot INSERT a rule');
SELECT throws_ok($$UPDATE guarded_ddl.policy SET enabled = false$$, '42501', NULL,
    'break-glass cannot disable rules');
SELECT throws_ok($$DELETE FROM guarded_ddl.policy$$, '42501', NULL,
    'break-glass cannot DELETE rules');
SELECT throws_ok($$SELECT count(*) FROM guarded_ddl.audit$$, '42501', NULL,
    'break-glass cannot read the audit');
SELECT throws_ok($$SELECT guarded_ddl.record_backup('pg_dump')$$, '42501', NULL,
    'break-glass cannot record a backup (which would also get past require_backup)');
SELECT throws_ok($$SELECT guarded_ddl.purge_audit('0')$$, '42501', NULL,
    'break-glass cannot purge the audit (and so cannot hide the override)');
SELECT throws_ok($$SET LOCAL guarded_ddl.mode = 'off'$$, '42501', NULL,
    'break-glass cannot switch the guard off');
SELECT lives_ok($$SELECT guarded_ddl.override('20_roles: break-glass drill')$$,
    'break-glass can call override() inside the transaction');

RESET ROLE;

-- The break-glass role's override is what lets the denied DROP through.
SELECT lives_ok($$DROP TABLE gd_roles_app.t$$,
    'after the break-glass override, a DROP that a deny rule covers goes through');
SELECT results_eq(
    $$SELECT decision, reason FROM guarded_ddl.audit
       WHERE object_identity = 'gd_roles_app.t' AND operation = 'drop'$$,
    $$VALUES ('overridden'::text, '20_roles: break-glass drill'::text)$$,
    'the DROP is audited as overridden with the break-glass reason');

------------------------------------------------------------------------------
-- SECURITY DEFINER functions pin search_path
------------------------------------------------------------------------------

SELECT is_definer('guarded_ddl', 'record_backup',
    ARRAY['text', 'text', 'timestamp with time zone', 'text', 'text'],
    'record_backup() is SECURITY DEFINER (the backup job has no INSERT on backups)');
SELECT is_definer('guarded_ddl', 'record_restore_test', ARRAY['bigint', 'timestamp with time zone'],
    'record_restore_test() is SECURITY DEFINER');
SELECT is_definer('guarded_ddl', 'purge_audit', ARRAY['interval'],
    'purge_audit() is SECURITY DEFINER (the audit admin has no DELETE on audit)');
SELECT is_definer('guarded_ddl', 'status', ARRAY[]::text[],
    'status() is SECURITY DEFINER (it reads tables the auditor may not)');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text
        FROM pg_proc AS p
       WHERE p.pronamespace = 'guarded_ddl'::regnamespace
         AND p.prosecdef
         AND NOT ('search_path=pg_catalog, pg_temp' = ANY (coalesce(p.proconfig, '{}')))$$,
    'every SECURITY DEFINER function of guarded_ddl has search_path=pg_catalog, pg_temp in proconfig');

------------------------------------------------------------------------------
-- A hostile search_path does not change record_backup()
--
-- The backup job owns a schema with look-alikes of btrim(), now() and a
-- text = text that is always true, and calls record_backup() with that
-- schema ahead of pg_catalog in search_path (set on the wrapper functions,
-- so pgTAP itself never runs under it).
------------------------------------------------------------------------------

CREATE SCHEMA gd_hostile AUTHORIZATION gd_backup_job;

SET ROLE gd_backup_job;

CREATE FUNCTION gd_hostile.btrim(text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$ SELECT 'not blank'::text $$;
CREATE FUNCTION gd_hostile.now() RETURNS timestamptz
    LANGUAGE sql STABLE AS $$ SELECT '2000-01-01 00:00:00+00'::timestamptz $$;
CREATE FUNCTION gd_hostile.text_eq_always(text, text) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$ SELECT true $$;
CREATE OPERATOR gd_hostile.= (LEFTARG = text, RIGHTARG = text,
                              FUNCTION = gd_hostile.text_eq_always);

-- What an unpinned function would see under the hostile path.
CREATE FUNCTION gd_hostile.probe(OUT trimmed text, OUT clock timestamptz, OUT weekly_is_full boolean)
    LANGUAGE sql STABLE
    SET search_path = gd_hostile, pg_catalog
    AS $$ SELECT btrim('   '), now(), 'weekly'::text = 'full'::text $$;

-- record_backup() called with the hostile search_path in force.
CREATE FUNCTION gd_hostile.rb(p_tool text, p_finished timestamptz, p_kind text) RETURNS bigint
    LANGUAGE sql VOLATILE
    SET search_path = gd_hostile, pg_catalog
    AS $$ SELECT guarded_ddl.record_backup(p_tool, 'hostile', p_finished, p_kind) $$;
CREATE FUNCTION gd_hostile.rb_default(p_tool text) RETURNS bigint
    LANGUAGE sql VOLATILE
    SET search_path = gd_hostile, pg_catalog
    AS $$ SELECT guarded_ddl.record_backup(p_tool, 'hostile default') $$;

SELECT results_eq($$SELECT * FROM gd_hostile.probe()$$,
    $$VALUES ('not blank'::text, '2000-01-01 00:00:00+00'::timestamptz, true)$$,
    'the hostile search_path does shadow btrim(), now() and text = text for unpinned code');

SELECT throws_ok($$SELECT gd_hostile.rb('   ', pg_catalog.now(), 'full')$$, '22023', NULL,
    'hostile search_path: record_backup() still refuses a blank tool');
SELECT throws_ok($$SELECT gd_hostile.rb('pg_dump', pg_catalog.now() + interval '1 hour', 'full')$$,
    '22023', NULL, 'hostile search_path: record_backup() still refuses a finish time 1 h ahead');
SELECT throws_ok($$SELECT gd_hostile.rb('pg_dump', pg_catalog.now(), 'weekly')$$, '22023', NULL,
    'hostile search_path: record_backup() still refuses an unknown kind');
SELECT lives_ok(
    $$SELECT set_config('gd_test.hostile_backup',
                        gd_hostile.rb('pg_dump', '2020-02-02 02:02:02+00', 'logical')::text, true)$$,
    'hostile search_path: a valid record_backup() call still works');
SELECT lives_ok(
    $$SELECT set_config('gd_test.hostile_default',
                        gd_hostile.rb_default('pg_dump')::text, true)$$,
    'hostile search_path: record_backup() with the default finished_at still works');

RESET ROLE;

SELECT results_eq(
    $$SELECT tool, label, kind, finished_at, recorded_at = pg_catalog.now(), recorded_by::text COLLATE "default"
        FROM guarded_ddl.backups
       WHERE id = current_setting('gd_test.hostile_backup')::bigint$$,
    $$VALUES ('pg_dump'::text, 'hostile'::text, 'logical'::text,
              '2020-02-02 02:02:02+00'::timestamptz, true, session_user::text COLLATE "default")$$,
    'hostile search_path: the stored marker has exactly the values passed, recorded_at = the real now()');
SELECT is(
    (SELECT finished_at FROM guarded_ddl.backups
      WHERE id = current_setting('gd_test.hostile_default')::bigint),
    pg_catalog.now(),
    'hostile search_path: the default finished_at is the real now(), not the look-alike''s');

SELECT * FROM finish();
ROLLBACK;
