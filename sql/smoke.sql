--
-- smoke: the extension installs into its fixed schema with its four event
-- triggers ENABLE ALWAYS, and knows whether its utility hook is active
-- (false in the plain pass, true when preloaded: see smoke_preload.out).
-- Rolled back, so the tests after it start from a database without it.
--
BEGIN;
CREATE EXTENSION guarded_ddl;
SELECT extnamespace::regnamespace AS schema, extrelocatable
  FROM pg_extension
 WHERE extname = 'guarded_ddl';
SELECT evtname, evtevent, evtenabled
  FROM pg_event_trigger
 WHERE evtname LIKE 'guarded\_ddl\_%'
 ORDER BY evtname;
SELECT guarded_ddl.hook_active();
ROLLBACK;
