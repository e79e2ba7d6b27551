--
-- alter_table: every ALTER subcommand guarded_ddl classifies, one intent
-- per destructive subcommand.
--
-- Proves that
--   * DROP COLUMN of a table with rows is refused: alone, in Prisma's
--     multi-subcommand form (one denial per column), and when the column is
--     dropped and re-added, in one statement (Prisma) or two (TypeORM);
--   * ALTER COLUMN TYPE of a table with rows is refused (alter_type) when
--     the conversion can lose values, not when it keeps them (alter_type.sql
--     has the whole table);
--   * on an empty table both are allowed;
--   * SET UNLOGGED, DETACH PARTITION, DROP CONSTRAINT / NOT NULL / DEFAULT /
--     IDENTITY / EXPRESSION and RENAME of table, column, view, schema, type
--     and enum value, and SET SCHEMA are allowed by default and audited,
--     each as exactly one row with its operation;
--   * DETACH PARTITION CONCURRENTLY is decided before it starts;
--   * changes that rewrite a table without changing a column's type
--     (ADD COLUMN with a volatile default, SET LOGGED) are not alter_type;
--   * an override lets the refused forms through as 'overridden'.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END;
$$;
CREATE FUNCTION pg_temp.audit_since(mark bigint)
RETURNS TABLE (decision text, operation text, object_type text,
               object_identity text, column_name text)
    LANGUAGE sql AS $$
    SELECT decision, operation, object_type, object_identity, column_name
      FROM guarded_ddl.audit
     WHERE id > mark
     ORDER BY id
$$;
CREATE SCHEMA alt;
CREATE TABLE alt."User" (
    id int GENERATED ALWAYS AS IDENTITY,
    email text NOT NULL,
    name text,
    nickname text,
    score int NOT NULL DEFAULT 0,
    score2 int GENERATED ALWAYS AS (score * 2) STORED,
    CONSTRAINT score_positive CHECK (score >= 0)
);
INSERT INTO alt."User" (email, name, nickname)
    VALUES ('a@example.com', 'Ann', 'an'), ('b@example.com', 'Bob', 'bo');

-- A single DROP COLUMN of a table with rows: refused, backup required.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alt."User" DROP COLUMN "name";
SELECT * FROM pg_temp.audit_since(:mark);
SELECT pg_temp.sqlstate_of('ALTER TABLE alt."User" DROP COLUMN "name"');

-- Prisma joins the dropped columns of one table into one statement: one
-- ERROR, one denial per column.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE "alt"."User" DROP COLUMN "name",
DROP COLUMN "nickname";
SELECT * FROM pg_temp.audit_since(:mark);

-- Prisma's drop-and-recreate of a column it cannot cast: the column exists
-- again afterwards, but its values would be gone.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE "alt"."User" DROP COLUMN "nickname",
ADD COLUMN "nickname" varchar(10);
-- TypeORM does the same in two statements; the first is refused, so the
-- second finds the old column still there.
ALTER TABLE "alt"."User" DROP COLUMN "nickname";
ALTER TABLE "alt"."User" ADD "nickname" varchar(10);
SELECT * FROM pg_temp.audit_since(:mark);

-- ALTER COLUMN TYPE of a table with rows: varchar(5) can cut values and is
-- refused as alter_type.  integer to bigint keeps every value and passes
-- guarded_ddl; here PostgreSQL itself refuses it (a generated column uses
-- the column).
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alt."User" ALTER COLUMN score TYPE bigint;
ALTER TABLE "alt"."User" ALTER COLUMN "email" SET DATA TYPE varchar(5);
SELECT * FROM pg_temp.audit_since(:mark);

-- IF EXISTS on what is not there: PostgreSQL's notices, no intent.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE IF EXISTS alt.no_such_table DROP COLUMN name;
ALTER TABLE alt."User" DROP COLUMN IF EXISTS no_such_column;
SELECT count(*) AS audit_rows FROM guarded_ddl.audit WHERE id > :mark;

-- The subcommands that destroy no data are allowed and audited, one row
-- each, naming the operation.
CREATE TABLE alt.orders (id int, region text) PARTITION BY LIST (region);
CREATE TABLE alt.orders_eu PARTITION OF alt.orders FOR VALUES IN ('eu');
INSERT INTO alt.orders VALUES (1, 'eu'), (2, 'eu');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alt."User" SET UNLOGGED;
ALTER TABLE alt.orders DETACH PARTITION alt.orders_eu;
ALTER TABLE alt."User" DROP CONSTRAINT score_positive;
ALTER TABLE alt."User" ALTER COLUMN email DROP NOT NULL;
ALTER TABLE alt."User" ALTER COLUMN score DROP DEFAULT;
ALTER TABLE alt."User" ALTER COLUMN id DROP IDENTITY;
ALTER TABLE alt."User" ALTER COLUMN score2 DROP EXPRESSION;
SELECT * FROM pg_temp.audit_since(:mark);
-- the data is all still there
SELECT count(*) FROM alt."User";
SELECT count(*) FROM alt.orders_eu;

-- DETACH ... CONCURRENTLY commits in the middle: it is decided before it
-- starts.  A rule denying detach_partition refuses it with ZG001 and the
-- partition stays attached; without the rule it runs and is audited.
CREATE TABLE alt.orders_us PARTITION OF alt.orders FOR VALUES IN ('us');
INSERT INTO alt.orders VALUES (3, 'us');
INSERT INTO guarded_ddl.policy (id, operation, action) VALUES (1, 'detach_partition', 'deny');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alt.orders DETACH PARTITION alt.orders_us CONCURRENTLY;
SELECT relispartition FROM pg_class WHERE oid = 'alt.orders_us'::regclass;
DELETE FROM guarded_ddl.policy;
ALTER TABLE alt.orders DETACH PARTITION alt.orders_us CONCURRENTLY;
SELECT relispartition FROM pg_class WHERE oid = 'alt.orders_us'::regclass;
SELECT * FROM pg_temp.audit_since(:mark);

-- Renames break applications but destroy nothing: allowed by default and
-- audited as rename, under the old name.
CREATE VIEW alt.user_emails AS SELECT email FROM alt."User";
CREATE TYPE alt.mood AS ENUM ('sad', 'ok', 'happy');
CREATE SCHEMA alt_archive;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alt."User" RENAME COLUMN nickname TO handle;
ALTER TABLE alt."User" RENAME TO "Member";
ALTER VIEW alt.user_emails RENAME TO member_emails;
ALTER TABLE alt.orders_eu SET SCHEMA alt_archive;
ALTER SCHEMA alt_archive RENAME TO alt_old;
ALTER TYPE alt.mood RENAME TO feeling;
ALTER TYPE alt.feeling RENAME VALUE 'sad' TO 'blue';
SELECT * FROM pg_temp.audit_since(:mark);

-- A table rewrite that changes no column's type is not alter_type:
-- adding a column with a volatile default, or SET LOGGED, keeps every row.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alt."Member" ADD COLUMN joined_at timestamptz DEFAULT clock_timestamp();
ALTER TABLE alt."Member" SET LOGGED;
SELECT * FROM pg_temp.audit_since(:mark);

-- On an empty table DROP COLUMN and ALTER COLUMN TYPE destroy nothing:
-- allowed, and audited as such.
-- A NOT NULL column is one intent and one audit row on every major (from
-- PostgreSQL 18 on its NOT NULL is a constraint that goes with it).
CREATE TABLE alt.empty_one (a int, b int, c text, d int NOT NULL, e int NOT NULL);
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alt.empty_one DROP COLUMN a;
ALTER TABLE alt.empty_one DROP COLUMN b, ADD COLUMN b bigint;
ALTER TABLE alt.empty_one ALTER COLUMN c TYPE varchar(3);
ALTER TABLE alt.empty_one DROP COLUMN d;
ALTER TABLE alt.empty_one ALTER COLUMN e DROP NOT NULL, DROP COLUMN e;
SELECT decision, operation, object_identity, holds_data, row_estimate
  FROM guarded_ddl.audit
 WHERE id > :mark
 ORDER BY id;

-- An override lets the refused forms through, each audited as
-- 'overridden' with the reason; integer to bigint needs none (lossless).
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
BEGIN;
SELECT guarded_ddl.override('JIRA-42: nickname becomes varchar(10)');
ALTER TABLE "alt"."Member" DROP COLUMN "handle",
ADD COLUMN "handle" varchar(10);
ALTER TABLE alt."Member" ALTER COLUMN score TYPE bigint;
COMMIT;
SELECT decision, operation, object_identity, column_name, reason
  FROM guarded_ddl.audit
 WHERE id > :mark
 ORDER BY id;

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA alt, alt_old CASCADE;
DROP EXTENSION guarded_ddl;
-- CREATE EXTENSION made the schema; DROP EXTENSION leaves it behind
DROP SCHEMA guarded_ddl;
COMMIT;
