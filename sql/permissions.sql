--
-- permissions: PostgreSQL's own permission check comes first.  A role that
-- may not drop or alter a table gets PostgreSQL's own error, learns nothing
-- about the table's rows, and no denial is recorded (no worker starts).  A
-- schema owner, who may drop tables of other owners in the schema, is judged
-- by the guard like the table owner.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE ROLE regress_gd_intruder;
CREATE ROLE regress_gd_schema_owner;
CREATE SCHEMA perm AUTHORIZATION regress_gd_schema_owner;
CREATE TABLE perm.secret (id int);
INSERT INTO perm.secret VALUES (1), (2);
GRANT USAGE ON SCHEMA perm TO regress_gd_intruder;
SELECT count(*) AS audit_rows_before FROM guarded_ddl.audit \gset

-- Not the owner of the table nor of its schema: PostgreSQL's own errors.
SET ROLE regress_gd_intruder;
DROP TABLE perm.secret;
ALTER TABLE perm.secret DROP COLUMN id;
ALTER TABLE perm.secret RENAME TO leaked;
RESET ROLE;

-- Nothing was recorded: no denial, no worker.
SELECT count(*) - :audit_rows_before AS new_audit_rows FROM guarded_ddl.audit;

-- The schema owner may drop the table: now the guard decides (no backup).
SET ROLE regress_gd_schema_owner;
DROP TABLE perm.secret;
RESET ROLE;
SELECT decision, object_identity, holds_data, row_estimate, role_name
  FROM guarded_ddl.denials
 WHERE object_identity = 'perm.secret';

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA perm CASCADE;
DROP EXTENSION guarded_ddl;
COMMIT;
DROP SCHEMA IF EXISTS guarded_ddl;
DROP ROLE regress_gd_intruder;
DROP ROLE regress_gd_schema_owner;
