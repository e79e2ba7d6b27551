--
-- identifiers: hostile names in objects and in rules.
--
-- Proves that
--   * objects whose names hold double quotes, dots, spaces, backslashes,
--     glob characters, non-ASCII letters, or exactly 63 bytes are guarded
--     like any other, and audited with their quoted identity and their
--     plain (unquoted) names;
--   * rules match those names as written unquoted: no quoting, no case
--     folding, * and ? count characters (not bytes), and \* \? \\ stand
--     for a literal star, question mark and backslash;
--   * a name longer than 63 bytes is truncated by PostgreSQL (with a
--     NOTICE); rules see the truncated name, so a rule spelling the long
--     name never matches;
--   * a name made to look like SQL is only ever data.
--
-- Expects a database without guarded_ddl (UTF8); drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never
-- Run a statement, report how guarded_ddl decided it, and undo it.
CREATE FUNCTION pg_temp.dry_run(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    mark bigint;
    verdict text;
BEGIN
    SELECT coalesce(max(id), 0) INTO mark FROM guarded_ddl.audit;
    BEGIN
        EXECUTE stmt;
        SELECT string_agg(a.decision || ' ' || coalesce('rule ' || a.policy_id, 'default'),
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
                   coalesce(string_agg(a.decision || ' ' || coalesce('rule ' || a.policy_id, 'default'),
                                       ', ' ORDER BY a.id),
                            SQLERRM)
              INTO verdict
              FROM guarded_ddl.audit AS a
             WHERE a.id > mark;
            RETURN verdict;
    END;
END;
$$;
-- A table with two rows.
CREATE FUNCTION pg_temp.make_table(schema_name text, table_name text) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE %I.%I (id int, "we""ird col" text)', schema_name, table_name);
    EXECUTE format('INSERT INTO %I.%I VALUES (1, %L), (2, %L)', schema_name, table_name, 'a', 'b');
END;
$$;
CREATE SCHEMA "Ident ""Schema"".v2";
SELECT pg_temp.make_table('Ident "Schema".v2', 'we"ird');
SELECT pg_temp.make_table('Ident "Schema".v2', 'a.b');
SELECT pg_temp.make_table('Ident "Schema".v2', 'order items');
SELECT pg_temp.make_table('Ident "Schema".v2', 'Kundën ✓');
SELECT pg_temp.make_table('Ident "Schema".v2', 'back\slash');
SELECT pg_temp.make_table('Ident "Schema".v2', repeat('x', 63));
SELECT pg_temp.make_table('Ident "Schema".v2', 'x"; DROP TABLE pg_class; --');

-- Refused like any other table.  The audit names them by quoted identity
-- and by plain name.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TABLE "Ident ""Schema"".v2"."we""ird";
DROP TABLE "Ident ""Schema"".v2"."a.b", "Ident ""Schema"".v2"."order items",
           "Ident ""Schema"".v2"."Kundën ✓", "Ident ""Schema"".v2"."back\slash",
           "Ident ""Schema"".v2"."x""; DROP TABLE pg_class; --";
DROP TABLE "Ident ""Schema"".v2".xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx;
ALTER TABLE "Ident ""Schema"".v2"."Kundën ✓" DROP COLUMN "we""ird col";
SELECT decision, object_type, object_identity, schema_name, object_name, column_name
  FROM guarded_ddl.audit
 WHERE id > :mark
 ORDER BY id;

-- Rules name them unquoted, exactly as they are spelled.
INSERT INTO guarded_ddl.policy (id, schema_name, object_name, action)
VALUES (1, 'Ident "Schema".v2', 'we"ird', 'allow'),
       (2, '*', 'a.b', 'allow'),
       (3, '*', 'order items', 'allow'),
       (4, '*', 'Kundën ✓', 'allow'),
       (5, '*', 'back\\slash', 'allow'),
       (6, '*', repeat('x', 63), 'allow'),
       (7, '*', 'x"; DROP TABLE pg_class; --', 'allow');
SELECT pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."we""ird"$$) AS "we""ird",
       pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."a.b"$$) AS "a.b",
       pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."order items"$$) AS "order items";
SELECT pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."Kundën ✓"$$) AS "Kundën ✓",
       pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."back\slash"$$) AS "back\slash",
       pg_temp.dry_run(format('DROP TABLE %I.%I', 'Ident "Schema".v2', repeat('x', 63))) AS "63 bytes",
       pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."x""; DROP TABLE pg_class; --"$$) AS "sql-like";
-- quoting or case folding does not make a match
UPDATE guarded_ddl.policy SET object_name = '"we""ird"' WHERE id = 1;
UPDATE guarded_ddl.policy SET object_name = 'KUNDËN ✓' WHERE id = 4;
UPDATE guarded_ddl.policy SET object_name = 'back\slash' WHERE id = 5;
SELECT pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."we""ird"$$) AS "quoted rule",
       pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."Kundën ✓"$$) AS "upper-case rule",
       pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."back\slash"$$) AS "unescaped \";
DELETE FROM guarded_ddl.policy;

-- A column rule names the column unquoted too.
INSERT INTO guarded_ddl.policy (id, object_type, column_name, action)
VALUES (10, 'table column', 'we"ird col', 'deny');
SELECT guarded_ddl.record_backup('pgbackrest') IS NOT NULL AS backup_recorded;
SELECT pg_temp.dry_run($$ALTER TABLE "Ident ""Schema"".v2"."Kundën ✓" DROP COLUMN "we""ird col"$$) AS "we""ird col",
       pg_temp.dry_run($$ALTER TABLE "Ident ""Schema"".v2"."Kundën ✓" DROP COLUMN id$$) AS id;
DELETE FROM guarded_ddl.policy;
DELETE FROM guarded_ddl.backups;

-- ? is one character, however many bytes it takes; * any run of them.
INSERT INTO guarded_ddl.policy (id, object_name, action)
VALUES (20, 'Kund?n ?', 'allow'),
       (21, 'order?items', 'allow'),
       (22, '*ë*', 'allow');
SELECT pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."Kundën ✓"$$) AS "Kund?n ?",
       pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."order items"$$) AS "order?items";
DELETE FROM guarded_ddl.policy WHERE id IN (20, 21);
SELECT pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."Kundën ✓"$$) AS "*ë*";
DELETE FROM guarded_ddl.policy;

-- Names that look like globs: \* and \? match the literal character only.
SELECT pg_temp.make_table('Ident "Schema".v2', 'what?');
SELECT pg_temp.make_table('Ident "Schema".v2', 'whats');
SELECT pg_temp.make_table('Ident "Schema".v2', 'a*b');
SELECT pg_temp.make_table('Ident "Schema".v2', 'a-long-b');
SELECT pg_temp.make_table('Ident "Schema".v2', '*');
INSERT INTO guarded_ddl.policy (id, object_name, action)
VALUES (30, 'what\?', 'allow'),
       (31, 'a\*b', 'allow'),
       (32, '\*', 'allow');
SELECT pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."what?"$$) AS "what?",
       pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2".whats$$) AS whats,
       pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."a*b"$$) AS "a*b",
       pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."a-long-b"$$) AS "a-long-b",
       pg_temp.dry_run($$DROP TABLE "Ident ""Schema"".v2"."*"$$) AS "*";
DELETE FROM guarded_ddl.policy;

-- More than 63 bytes: PostgreSQL truncates the name, with a NOTICE, and
-- rules see the truncated name.  A rule spelling the long name never
-- matches; one spelling the truncated name, or a glob, does.  Multibyte
-- names are cut at a character boundary.
CREATE TABLE "Ident ""Schema"".v2".yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy (id int);
INSERT INTO "Ident ""Schema"".v2".yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy VALUES (1), (2);
CREATE TABLE "Ident ""Schema"".v2"."üüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüü" (id int);
INSERT INTO "Ident ""Schema"".v2"."üüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüü" VALUES (1), (2);
SELECT length(relname) AS chars, octet_length(relname::text) AS bytes
  FROM pg_class
 WHERE relnamespace = '"Ident ""Schema"".v2"'::regnamespace
   AND (relname LIKE 'yyy%' OR relname LIKE 'üüü%')
 ORDER BY relname;
-- a rule naming more than 63 bytes could never match: refused ...
INSERT INTO guarded_ddl.policy (id, object_name, action)
VALUES (40, repeat('y', 70), 'allow');
INSERT INTO guarded_ddl.policy (id, object_name, action)
VALUES (41, repeat('ü', 40), 'allow');
-- ... the names as PostgreSQL keeps them match
INSERT INTO guarded_ddl.policy (id, object_name, action)
VALUES (40, repeat('y', 63), 'allow'),
       (41, 'ü*', 'allow');
SELECT pg_temp.dry_run(format('DROP TABLE %I.%I', 'Ident "Schema".v2', repeat('y', 70))) AS "63 y",
       pg_temp.dry_run(format('DROP TABLE %I.%I', 'Ident "Schema".v2', repeat('ü', 40))) AS "ü*";
DELETE FROM guarded_ddl.policy;

-- A hostile schema name in a deny rule for every operation, and DROP
-- SCHEMA ... CASCADE of it: the schema itself and each of its tables are
-- denied by the rule, all under the plain schema name.
INSERT INTO guarded_ddl.policy (id, schema_name, action) VALUES (50, 'Ident "Schema".v?', 'deny');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP SCHEMA "Ident ""Schema"".v2" CASCADE;
SELECT object_type, cascaded, count(*) AS denials, min(policy_id) AS policy_id,
       bool_and(schema_name = 'Ident "Schema".v2') AS plain_schema_name
  FROM guarded_ddl.denials WHERE id > :mark
 GROUP BY object_type, cascaded
 ORDER BY object_type;
DELETE FROM guarded_ddl.policy;

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA "Ident ""Schema"".v2" CASCADE;
DROP EXTENSION guarded_ddl;
-- CREATE EXTENSION made the schema; DROP EXTENSION leaves it behind
DROP SCHEMA guarded_ddl;
COMMIT;
