-- 00_smoke: the pgTAP harness reaches a preloaded cluster on which
-- test/run.sh created pgtap and guarded_ddl; the contract's objects exist.
BEGIN;
SELECT plan(8);

SELECT has_schema('guarded_ddl', 'schema guarded_ddl exists');
SELECT has_table('guarded_ddl', 'policy', 'policy table exists');
SELECT has_table('guarded_ddl', 'backups', 'backups table exists');
SELECT has_table('guarded_ddl', 'audit', 'audit table exists');
SELECT has_view('guarded_ddl', 'recovery', 'recovery view exists');
SELECT has_function('guarded_ddl', 'record_backup',
                    ARRAY['text', 'text', 'timestamp with time zone', 'text', 'text'],
                    'record_backup(tool, label, finished_at, kind, location) exists');
SELECT results_eq(
    $$SELECT count(*)::int FROM pg_event_trigger
       WHERE evtname LIKE 'guarded\_ddl\_%' AND evtenabled = 'A'$$,
    ARRAY[4],
    'four event triggers, all ENABLE ALWAYS');
SELECT ok(guarded_ddl.hook_active(), 'utility hook is active (library preloaded)');

SELECT * FROM finish();
ROLLBACK;
