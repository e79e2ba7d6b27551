--
-- install_safety: CREATE EXTENSION guarded_ddl installs only into a schema
-- nobody else controls.
--
-- CREATE EXTENSION creates the control file's schema when it is missing and
-- otherwise reuses it.  Proves that
--   * a schema guarded_ddl that a non-superuser with CREATE on the database
--     made beforehand (and put objects in) makes CREATE EXTENSION fail with
--     an error naming the owner and saying what to do, and nothing is
--     created: no extension, no guarded_ddl_trash, the squatter's schema and
--     objects as they were;
--   * so does a superuser's schema guarded_ddl in which another role, or
--     PUBLIC, may create objects;
--   * a schema guarded_ddl_trash that already exists is refused with an
--     error of its own (not CREATE SCHEMA's bare "already exists");
--   * once such a schema is gone the install works: into an empty schema
--     another superuser made (as a restore of pg_dump's output does), or
--     into a schema it creates itself; and the squatter cannot create in it.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE ROLE regress_gd_squatter;
CREATE ROLE regress_gd_other_superuser SUPERUSER;
SELECT format('GRANT CREATE ON DATABASE %I TO regress_gd_squatter', current_database()) \gexec
-- What exists of guarded_ddl in this database, and who owns it (the
-- installing superuser shown as "me", whatever its name).
CREATE FUNCTION pg_temp.footprint()
RETURNS TABLE (what text, name text, owner text)
    LANGUAGE sql AS $$
    SELECT f.what, f.name,
           CASE WHEN f.owner = current_user THEN 'me' ELSE f.owner::text END
      FROM (SELECT 'extension' AS what, e.extname::text AS name, e.extowner::regrole::name AS owner
              FROM pg_extension AS e WHERE e.extname = 'guarded_ddl'
            UNION ALL
            SELECT 'schema', n.nspname::text, n.nspowner::regrole::name
              FROM pg_namespace AS n WHERE n.nspname IN ('guarded_ddl', 'guarded_ddl_trash')
            UNION ALL
            SELECT 'relation', c.oid::regclass::text, c.relowner::regrole::name
              FROM pg_class AS c
             WHERE c.relnamespace::regnamespace::text IN ('guarded_ddl', 'guarded_ddl_trash')
            UNION ALL
            SELECT 'function', p.oid::regprocedure::text, p.proowner::regrole::name
              FROM pg_proc AS p
             WHERE p.pronamespace::regnamespace::text IN ('guarded_ddl', 'guarded_ddl_trash')) AS f
     ORDER BY 1, 2
$$;
SELECT * FROM pg_temp.footprint();

-- A non-superuser squats the schema, with a table and a function of the
-- names guarded_ddl would use.
SET ROLE regress_gd_squatter;
CREATE SCHEMA guarded_ddl;
CREATE TABLE guarded_ddl.audit (id int);
CREATE FUNCTION guarded_ddl.status() RETURNS text LANGUAGE sql AS $$ SELECT 'squatted' $$;
RESET ROLE;
CREATE EXTENSION guarded_ddl;
-- Nothing was created, nothing of the squatter's was touched.
SELECT * FROM pg_temp.footprint();

-- A superuser's schema is not enough when another role may create in it.
DROP SCHEMA guarded_ddl CASCADE;
CREATE SCHEMA guarded_ddl AUTHORIZATION regress_gd_other_superuser;
GRANT CREATE ON SCHEMA guarded_ddl TO regress_gd_squatter;
CREATE EXTENSION guarded_ddl;
REVOKE CREATE ON SCHEMA guarded_ddl FROM regress_gd_squatter;
GRANT USAGE, CREATE ON SCHEMA guarded_ddl TO PUBLIC;
CREATE EXTENSION guarded_ddl;
REVOKE ALL ON SCHEMA guarded_ddl FROM PUBLIC;
SELECT * FROM pg_temp.footprint();

-- A recycle bin schema that is already there (here the squatter's, with a
-- table in it) is refused with a message of its own.
SET ROLE regress_gd_squatter;
CREATE SCHEMA guarded_ddl_trash;
CREATE TABLE guarded_ddl_trash.kept (id int);
RESET ROLE;
CREATE EXTENSION guarded_ddl;
SELECT * FROM pg_temp.footprint();
DROP SCHEMA guarded_ddl_trash CASCADE;

-- Into the empty schema another superuser made beforehand: the install
-- works.
CREATE EXTENSION guarded_ddl;
SELECT extversion FROM pg_extension WHERE extname = 'guarded_ddl';
SELECT * FROM pg_temp.footprint() WHERE what IN ('extension', 'schema');
SELECT has_schema_privilege('regress_gd_squatter', 'guarded_ddl', 'CREATE') AS squatter_creates,
       has_schema_privilege('regress_gd_squatter', 'guarded_ddl', 'USAGE') AS squatter_uses;

-- And into a schema it creates itself.
BEGIN;
SELECT guarded_ddl.override('install_safety: reinstall');
DROP EXTENSION guarded_ddl;
COMMIT;
DROP SCHEMA guarded_ddl;
SELECT * FROM pg_temp.footprint();
CREATE EXTENSION guarded_ddl;
SELECT * FROM pg_temp.footprint() WHERE what IN ('extension', 'schema');

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP EXTENSION guarded_ddl;
COMMIT;
DROP SCHEMA guarded_ddl;
SELECT format('REVOKE CREATE ON DATABASE %I FROM regress_gd_squatter', current_database()) \gexec
DROP ROLE regress_gd_squatter;
DROP ROLE regress_gd_other_superuser;
