--
-- policy_limits: rules that could never match, and rules anyone can
-- satisfy.
--
-- Proves that
--   * a schema_name, object_name, column_name or role_name pattern whose
--     every match would be longer than PostgreSQL's 63-byte names is refused
--     (a plain 64-byte name, 22 three-byte characters, a name long only
--     once escapes are counted once, question marks counting one byte
--     each), on INSERT and on UPDATE, and nothing changes;
--   * exactly 63 bytes, a long name cut short by a wildcard, escapes that
--     bring a pattern under the limit, and a long application_name (not an
--     identifier) are accepted;
--   * a rule stored before the check (here: with the triggers off) can still
--     be disabled and deleted;
--   * an allow or warn rule narrowed only by application_name (every other
--     pattern '*', whatever its operation) is accepted with a WARNING, when
--     inserted, and when an UPDATE makes a rule so (enabled, or widened);
--     deny, require_backup and soft_drop rules, rules also narrowed by role,
--     schema or object, and disabled rules are not warned about;
--   * status() lists the enabled, unexpired ones (ok false), and is content
--     when there are none.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- SQLSTATE of a statement ('ok' when it succeeds; the success is kept).
CREATE FUNCTION pg_temp.attempt(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END;
$$;
SHOW max_identifier_length;

-- Too long to ever match: the message says which column and why.
INSERT INTO guarded_ddl.policy (object_name, action) VALUES (repeat('y', 64), 'deny');
INSERT INTO guarded_ddl.policy (schema_name, action) VALUES (repeat('€', 22), 'deny');
-- every column, every way of being too long
SELECT n, pg_temp.attempt(format('INSERT INTO guarded_ddl.policy (%I, action) VALUES (%L, ''deny'')',
                                 col, pattern)) AS sqlstate,
       col, octet_length(pattern) AS pattern_bytes, left(pattern, 24) AS pattern_starts
  FROM (VALUES
    (1, 'schema_name', repeat('s', 64)),
    (2, 'object_name', repeat('ü', 32)),
    (3, 'column_name', repeat('c', 70) || '*'),
    (4, 'role_name', repeat('r', 60) || '????'),
    (5, 'object_name', repeat('\*', 64)),
    (6, 'column_name', '*' || repeat('ab', 32) || '*')
  ) AS t (n, col, pattern)
 ORDER BY n;
SELECT count(*) AS rules FROM guarded_ddl.policy;

-- Within the limit, or no identifier at all: accepted.
SELECT n, pg_temp.attempt(format('INSERT INTO guarded_ddl.policy (%I, action) VALUES (%L, ''deny'')',
                                 col, pattern)) AS sqlstate,
       col, octet_length(pattern) AS pattern_bytes
  FROM (VALUES
    (1, 'object_name', repeat('y', 63)),
    (2, 'schema_name', repeat('ü', 31) || 'x'),
    (3, 'column_name', repeat('c', 63) || '*'),
    (4, 'role_name', repeat('\r', 63)),
    (5, 'object_name', repeat('?', 63)),
    (6, 'object_name', repeat('*', 100)),
    (7, 'application_name', repeat('a', 200))
  ) AS t (n, col, pattern)
 ORDER BY n;
SELECT count(*) AS rules FROM guarded_ddl.policy;

-- UPDATE is checked too, and a refused UPDATE changes nothing.
UPDATE guarded_ddl.policy SET object_name = object_name || 'z' WHERE object_name = repeat('y', 63);
SELECT count(*) AS still_63 FROM guarded_ddl.policy WHERE object_name = repeat('y', 63);
DELETE FROM guarded_ddl.policy;

-- A rule stored before the check existed (the triggers off) stays editable:
-- a pattern the UPDATE leaves alone is not checked again.
SET session_replication_role = replica;
INSERT INTO guarded_ddl.policy (id, object_name, action, note)
VALUES (10, repeat('o', 80), 'deny', 'from an older version');
RESET session_replication_role;
UPDATE guarded_ddl.policy SET enabled = false WHERE id = 10;
UPDATE guarded_ddl.policy SET object_name = repeat('o', 81) WHERE id = 10;
DELETE FROM guarded_ddl.policy WHERE id = 10;

-- allow and warn narrowed only by application_name: accepted, with a
-- WARNING; also for one operation or one object type.
INSERT INTO guarded_ddl.policy (id, application_name, action) VALUES (20, 'deploy*', 'allow');
INSERT INTO guarded_ddl.policy (id, operation, object_type, application_name, action)
VALUES (21, 'drop', 'table', 'flyway', 'warn');
-- Not warned: stricter actions, other narrowing, disabled, no application.
INSERT INTO guarded_ddl.policy (id, application_name, action) VALUES (22, 'psql', 'deny');
INSERT INTO guarded_ddl.policy (id, application_name, action) VALUES (23, 'psql', 'require_backup');
INSERT INTO guarded_ddl.policy (id, role_name, application_name, action) VALUES (24, 'migrator', 'prisma*', 'allow');
INSERT INTO guarded_ddl.policy (id, schema_name, application_name, action) VALUES (25, 'scratch', 'etl', 'allow');
INSERT INTO guarded_ddl.policy (id, application_name, action, enabled) VALUES (26, 'later', 'allow', false);
INSERT INTO guarded_ddl.policy (id, action) VALUES (27, 'warn');
-- An UPDATE that makes a rule so is warned about; one that keeps it so is
-- not.
UPDATE guarded_ddl.policy SET enabled = true WHERE id = 26;
UPDATE guarded_ddl.policy SET role_name = '**' WHERE id = 24;
UPDATE guarded_ddl.policy SET note = 'known' WHERE id = 20;
UPDATE guarded_ddl.policy SET action = 'allow' WHERE id = 22;

-- status() lists the enabled, unexpired ones.
SELECT item, value, ok FROM guarded_ddl.status() WHERE item = 'application_name rules';
UPDATE guarded_ddl.policy SET expires_at = now() - interval '1 minute' WHERE id IN (21, 22, 24);
UPDATE guarded_ddl.policy SET enabled = false WHERE id = 26;
SELECT item, value, ok FROM guarded_ddl.status() WHERE item = 'application_name rules';
DELETE FROM guarded_ddl.policy WHERE id = 20;
SELECT item, value, ok FROM guarded_ddl.status() WHERE item = 'application_name rules';
DELETE FROM guarded_ddl.policy;
SELECT item, value, ok FROM guarded_ddl.status() WHERE item = 'application_name rules';

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP EXTENSION guarded_ddl;
COMMIT;
DROP SCHEMA IF EXISTS guarded_ddl;
