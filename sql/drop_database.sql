--
-- drop_database: DROP DATABASE is guarded by the utility hook (library
-- preloaded; no event trigger sees it).  Preloaded pass only.
--
-- Proves that
--   * with guarded_ddl.protected_databases at its default '*', DROP DATABASE
--     of any existing database is refused (SQLSTATE ZG004), WITH (FORCE)
--     too, and also for a non-superuser who owns the database;
--   * naming another database in guarded_ddl.allow_drop_database does not
--     help; naming this one lets it go; only a superuser may set it;
--   * DROP DATABASE IF EXISTS of a missing database passes with
--     PostgreSQL's notice, and without IF EXISTS PostgreSQL's own error
--     comes (3D000, not ZG004);
--   * protected_databases is a reload-time list of globs: set to
--     'prod_*, gd_keep' (ALTER SYSTEM + reload), a database matching neither
--     can be dropped, the matching ones are refused naming the pattern, and
--     matching is case-sensitive; reset, '*' protects everything again.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default

-- The default protects every database.
SHOW guarded_ddl.protected_databases;
CREATE DATABASE gd_victim;
DROP DATABASE gd_victim;
\echo :LAST_ERROR_SQLSTATE
DROP DATABASE gd_victim WITH (FORCE);
\echo :LAST_ERROR_SQLSTATE
SELECT datname FROM pg_database WHERE datname = 'gd_victim';

-- Allowing another database changes nothing for this one.
SET guarded_ddl.allow_drop_database = 'gd_other';
DROP DATABASE gd_victim;
\echo :LAST_ERROR_SQLSTATE

-- Naming this database in guarded_ddl.allow_drop_database lets it go.
SET guarded_ddl.allow_drop_database = 'gd_victim';
DROP DATABASE gd_victim;
SELECT count(*) AS victims_left FROM pg_database WHERE datname = 'gd_victim';
-- ... once: that DROP DATABASE clears the setting, so it cannot linger for
-- the next client of a pooled server connection.
SHOW guarded_ddl.allow_drop_database;
CREATE DATABASE gd_victim;
DROP DATABASE gd_victim;
\echo :LAST_ERROR_SQLSTATE
SET guarded_ddl.allow_drop_database = 'gd_victim';
DROP DATABASE gd_victim;
SELECT count(*) AS victims_left FROM pg_database WHERE datname = 'gd_victim';
RESET guarded_ddl.allow_drop_database;

-- Renaming a protected database is refused the same way: renamed, it would
-- no longer match the pattern and could be dropped (a two-step attack).
CREATE DATABASE gd_rn;
ALTER DATABASE gd_rn RENAME TO gd_rn_scratch;
\echo :LAST_ERROR_SQLSTATE
SET guarded_ddl.allow_drop_database = 'gd_rn';
ALTER DATABASE gd_rn RENAME TO gd_rn_scratch;
SHOW guarded_ddl.allow_drop_database;
SET guarded_ddl.allow_drop_database = 'gd_rn_scratch';
DROP DATABASE gd_rn_scratch;

-- A database that does not exist: IF EXISTS passes with PostgreSQL's
-- notice; without it PostgreSQL reports it (3D000, not a refusal).
DROP DATABASE IF EXISTS gd_missing;
DROP DATABASE gd_missing;
\echo :LAST_ERROR_SQLSTATE

-- A non-superuser owning its database is refused too, and may not set
-- guarded_ddl.allow_drop_database (superuser-only).
CREATE ROLE gd_dd_owner CREATEDB;
SET ROLE gd_dd_owner;
CREATE DATABASE gd_owned;
DROP DATABASE gd_owned;
\echo :LAST_ERROR_SQLSTATE
SET guarded_ddl.allow_drop_database = 'gd_owned';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'gd_owned';
SET guarded_ddl.allow_drop_database = 'gd_owned';
DROP DATABASE gd_owned;
RESET guarded_ddl.allow_drop_database;
DROP ROLE gd_dd_owner;

-- protected_databases is a reload-time list of globs.
ALTER SYSTEM SET guarded_ddl.protected_databases = 'prod_*, gd_keep';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
-- (the reload reaches this session between statements; wait more if slow)
SELECT current_setting('guarded_ddl.protected_databases') <> 'prod_*, gd_keep' AS reload_pending \gset
\if :reload_pending
SELECT pg_sleep(3) \gset
\endif
SHOW guarded_ddl.protected_databases;
-- a database matching no pattern can be dropped
CREATE DATABASE gd_scratch;
DROP DATABASE gd_scratch;
SELECT count(*) AS scratch_left FROM pg_database WHERE datname = 'gd_scratch';
-- matching is case-sensitive: "Prod_x" is not prod_*
CREATE DATABASE "Prod_gd_x";
DROP DATABASE "Prod_gd_x";
-- the matching ones are refused, naming the pattern
CREATE DATABASE prod_gd_orders;
CREATE DATABASE gd_keep;
DROP DATABASE prod_gd_orders;
\echo :LAST_ERROR_SQLSTATE
DROP DATABASE gd_keep;
\echo :LAST_ERROR_SQLSTATE
SET guarded_ddl.allow_drop_database = 'prod_gd_orders';
DROP DATABASE prod_gd_orders;
SET guarded_ddl.allow_drop_database = 'gd_keep';
DROP DATABASE gd_keep;
RESET guarded_ddl.allow_drop_database;
SELECT count(*) AS left_over FROM pg_database
 WHERE datname IN ('prod_gd_orders', 'gd_keep', 'Prod_gd_x');

-- Reset: '*' protects every database again.
ALTER SYSTEM RESET guarded_ddl.protected_databases;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT current_setting('guarded_ddl.protected_databases') <> '*' AS reload_pending \gset
\if :reload_pending
SELECT pg_sleep(3) \gset
\endif
SHOW guarded_ddl.protected_databases;
CREATE DATABASE gd_victim;
DROP DATABASE gd_victim;
\echo :LAST_ERROR_SQLSTATE
SET guarded_ddl.allow_drop_database = 'gd_victim';
DROP DATABASE gd_victim;
RESET guarded_ddl.allow_drop_database;

-- Clean up: the extension, then the schema CREATE EXTENSION made.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP EXTENSION guarded_ddl;
DROP SCHEMA guarded_ddl;
COMMIT;
