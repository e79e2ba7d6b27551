--
-- bad_input: malformed rules and settings are refused with a clear error,
-- and nothing changes.
--
-- Proves that an INSERT or UPDATE of guarded_ddl.policy is refused, leaving
-- the table as it was, for
--   * an unknown operation, an unknown action, an object type PostgreSQL
--     does not have (the words are case-sensitive);
--   * backup_max_age of zero or less;
--   * a malformed glob (ending in an unescaped backslash) in each of
--     schema_name, object_name, column_name, role_name, application_name;
-- while every valid spelling is accepted; and that the settings and
-- override() refuse values they do not know.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- Unknown operation, action and object type.
INSERT INTO guarded_ddl.policy (operation, action) VALUES ('drop_table', 'deny');
INSERT INTO guarded_ddl.policy (operation, action) VALUES ('DROP', 'deny');
INSERT INTO guarded_ddl.policy (action) VALUES ('block');
INSERT INTO guarded_ddl.policy (action) VALUES ('Deny');
INSERT INTO guarded_ddl.policy (action) VALUES (NULL);
INSERT INTO guarded_ddl.policy (object_type, action) VALUES ('tabel', 'deny');
INSERT INTO guarded_ddl.policy (object_type, action) VALUES ('TABLE', 'deny');
INSERT INTO guarded_ddl.policy (object_type, action) VALUES ('table*', 'deny');
SELECT count(*) AS rules FROM guarded_ddl.policy;

-- backup_max_age must be positive.
INSERT INTO guarded_ddl.policy (action, backup_max_age) VALUES ('require_backup', interval '0');
INSERT INTO guarded_ddl.policy (action, backup_max_age) VALUES ('require_backup', interval '-1 hour');
INSERT INTO guarded_ddl.policy (action, backup_max_age) VALUES ('require_backup', interval '1 day -25 hours');
SELECT count(*) AS rules FROM guarded_ddl.policy;

-- A glob may not end in an unescaped backslash, in any pattern column.
INSERT INTO guarded_ddl.policy (schema_name, action) VALUES ('app\', 'deny');
INSERT INTO guarded_ddl.policy (object_name, action) VALUES ('orders\', 'deny');
INSERT INTO guarded_ddl.policy (column_name, action) VALUES ('\', 'deny');
INSERT INTO guarded_ddl.policy (role_name, action) VALUES ('app_*\', 'deny');
INSERT INTO guarded_ddl.policy (application_name, action) VALUES ('prisma\\\', 'deny');
SELECT count(*) AS rules FROM guarded_ddl.policy;

-- A multi-row INSERT with one bad row inserts nothing.
INSERT INTO guarded_ddl.policy (object_name, action)
VALUES ('orders', 'deny'), ('invoices', 'deny'), ('ledger\', 'deny');
SELECT count(*) AS rules FROM guarded_ddl.policy;

-- Every valid spelling is accepted: all operations and actions, PostgreSQL's
-- object type words, escaped backslashes, stars and question marks.
INSERT INTO guarded_ddl.policy (operation, object_type, schema_name, object_name,
                                column_name, role_name, application_name, action,
                                backup_max_age)
VALUES ('*', '*', '*', '*', '*', '*', '*', 'allow', NULL),
       ('drop', 'table', 'app', 'orders', '*', '*', '*', 'deny', NULL),
       ('alter_type', 'table column', 'app', 'orders', 'amount', '*', '*', 'warn', NULL),
       ('truncate', 'table', 'a\*b', 'c\?d', '*', '*', '*', 'require_backup', interval '1 minute'),
       ('rename', 'schema', '*', '*', '*', 'migrator', 'prisma*', 'deny', NULL),
       ('detach_partition', 'table', '*', '*', '*', '*', '*', 'warn', NULL),
       ('set_unlogged', 'table', '*', '*', '*', '*', '*', 'deny', NULL),
       ('drop_constraint', 'table constraint', '*', '*', '*', '*', '*', 'warn', NULL),
       ('drop', 'materialized view', 'back\\slash\\', '?', '*', '*', '*', 'soft_drop', NULL),
       ('drop', 'sequence', '*', '*', '*', '*', '*', 'require_backup', interval '6 hours');
SELECT count(*) AS rules FROM guarded_ddl.policy;

-- UPDATE is checked as well, and a refused UPDATE changes nothing.
UPDATE guarded_ddl.policy SET action = 'nope' WHERE operation = 'drop' AND object_type = 'table';
UPDATE guarded_ddl.policy SET operation = 'truncate_all' WHERE operation = 'truncate';
UPDATE guarded_ddl.policy SET object_type = 'tables' WHERE object_type = 'table';
UPDATE guarded_ddl.policy SET backup_max_age = interval '-5 minutes' WHERE backup_max_age IS NOT NULL;
UPDATE guarded_ddl.policy SET object_name = object_name || '\' WHERE object_name <> '*';
SELECT operation, object_type, schema_name, object_name, column_name, action, backup_max_age
  FROM guarded_ddl.policy
 ORDER BY id;
DELETE FROM guarded_ddl.policy;

-- Settings take only their documented values.
SET guarded_ddl.mode = 'audit_only';
SET guarded_ddl.default_action = 'soft_drop';
SET guarded_ddl.audit = 'none';
SHOW guarded_ddl.mode;
SHOW guarded_ddl.default_action;

-- override() needs a non-blank reason, and a transaction block to mean
-- anything.
BEGIN;
SELECT guarded_ddl.override(NULL);
ROLLBACK;
BEGIN;
SELECT guarded_ddl.override('   ');
ROLLBACK;
SELECT guarded_ddl.override('outside a transaction block');

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP EXTENSION guarded_ddl;
-- CREATE EXTENSION made the schema; DROP EXTENSION leaves it behind
DROP SCHEMA guarded_ddl;
COMMIT;
