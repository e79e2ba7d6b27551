--
-- alter_type: which column type changes lose data (DESIGN §3.1.1).
--
-- Proves that
--   * a lossless change (integer to bigint, varchar(10) to text,
--     numeric(10,2) to numeric(12,2) ...) of a table with rows passes the
--     default require_backup without a backup, and is audited as alter_type
--     with holds_data true and a reason starting "lossless:";
--   * every row of the classification table holds, in both directions, and
--     the edge cases a DBA asks about are decided as the README says;
--   * USING c, USING c::newtype (however the type is spelled) keep a change
--     lossless; any other USING makes it lossy;
--   * domains, arrays and collations follow the same rules;
--   * a partitioned table gets one intent for the parent, however many
--     partitions the change recurses to;
--   * ALTER TYPE ... ALTER ATTRIBUTE ... CASCADE gets one intent per typed
--     table, judged like ALTER TABLE;
--   * in a multi-command ALTER TABLE the lossy change decides;
--   * a deny rule on alter_type still stops a lossless change, a warn rule
--     says why a change is lossy, and check() shows the same reasons.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE FUNCTION pg_temp.audit_since(mark bigint)
RETURNS TABLE (decision text, object_identity text, cascaded boolean,
               holds_data boolean, row_estimate bigint, reason text)
    LANGUAGE sql AS $$
    SELECT decision, object_identity, cascaded, holds_data, row_estimate,
           reason
      FROM guarded_ddl.audit
     WHERE id > mark
     ORDER BY id
$$;
CREATE SCHEMA alty;

-- change(old type, new type, a value, USING): a fresh table of one row, one
-- ALTER COLUMN ... TYPE, and what came of it: 'ok' or the SQLSTATE of the
-- refusal (ZG002: backup required), and the audit row of the change.
CREATE TEMPORARY SEQUENCE change_no;
CREATE FUNCTION pg_temp.change(old_type text, new_type text, sample text,
                               using_clause text DEFAULT '')
RETURNS TABLE (outcome text, decision text, holds_data boolean, reason text)
    LANGUAGE plpgsql AS $$
DECLARE
    tbl text := 'alty.c' || nextval('change_no');
    mark bigint;
BEGIN
    EXECUTE format('CREATE TABLE %s (c %s)', tbl, old_type);
    EXECUTE format('INSERT INTO %s VALUES (%L)', tbl, sample);
    SELECT coalesce(max(a.id), 0) INTO mark FROM guarded_ddl.audit AS a;
    BEGIN
        EXECUTE format('ALTER TABLE %s ALTER COLUMN c TYPE %s %s',
                       tbl, new_type, using_clause);
        outcome := 'ok';
    EXCEPTION WHEN OTHERS THEN
        outcome := SQLSTATE;
    END;
    SELECT a.decision, a.holds_data, a.reason
      INTO decision, holds_data, reason
      FROM guarded_ddl.audit AS a
     WHERE a.id > mark AND a.operation = 'alter_type'
     ORDER BY a.id DESC
     LIMIT 1;
    RETURN NEXT;
END;
$$;

-- The changes once refused on a table with rows now pass without
-- a backup; each is audited as a lossless alter_type of a table holding
-- rows, and the values are all still there.
CREATE TABLE alty.account (
    id int,
    code varchar(10),
    label varchar(10),
    balance numeric(10,2)
);
INSERT INTO alty.account VALUES (1, 'A-1', 'first', 12.34), (2, 'B-2', 'second', 5678.90);
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alty.account ALTER COLUMN id TYPE bigint;
ALTER TABLE alty.account ALTER COLUMN code TYPE text;
ALTER TABLE alty.account ALTER COLUMN label TYPE varchar(20);
ALTER TABLE alty.account ALTER COLUMN balance TYPE numeric(12,2);
SELECT * FROM pg_temp.audit_since(:mark);
SELECT * FROM alty.account ORDER BY id;
-- nothing was destroyed, so no restore point was made for them
SELECT count(restore_point) AS restore_points
  FROM guarded_ddl.audit
 WHERE id > :mark;

-- Its lossy counterpart is refused as before, and the audit says why.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alty.account ALTER COLUMN balance TYPE numeric(5,2);
SELECT * FROM pg_temp.audit_since(:mark);

-- Every row of the table, lossless one way and lossy the other.
SELECT o AS old_type, n AS new_type, r.*
  FROM (VALUES
        ('smallint', 'integer', '7'), ('integer', 'smallint', '7'),
        ('smallint', 'bigint', '7'), ('bigint', 'smallint', '7'),
        ('integer', 'bigint', '7'), ('bigint', 'integer', '7'),
        ('smallint', 'numeric', '7'), ('numeric', 'smallint', '7'),
        ('integer', 'numeric(10,0)', '7'), ('integer', 'numeric(9,0)', '7'),
        ('integer', 'numeric(65,30)', '7'), ('integer', 'numeric(12,-2)', '7'),
        ('numeric(10,0)', 'integer', '7'),
        ('bigint', 'numeric', '7'), ('bigint', 'numeric(19,0)', '7'),
        ('bigint', 'numeric(18,0)', '7'), ('numeric', 'bigint', '7'),
        ('smallint', 'double precision', '7'), ('double precision', 'smallint', '7'),
        ('integer', 'double precision', '7'), ('double precision', 'integer', '7'),
        ('real', 'double precision', '1.5'), ('double precision', 'real', '1.5'),
        ('numeric(10,2)', 'numeric(12,2)', '1.5'), ('numeric(12,2)', 'numeric(10,2)', '1.5'),
        ('numeric(10,2)', 'numeric(11,3)', '1.5'), ('numeric(10,2)', 'numeric(10,3)', '1.5'),
        ('numeric(10,2)', 'numeric(12,1)', '1.5'),
        ('numeric(10,2)', 'numeric', '1.5'), ('numeric', 'numeric(10,2)', '1.5'),
        ('varchar(10)', 'varchar(20)', 'abc'), ('varchar(20)', 'varchar(10)', 'abc'),
        ('varchar(10)', 'varchar', 'abc'), ('varchar', 'varchar(10)', 'abc'),
        ('varchar(10)', 'text', 'abc'), ('text', 'varchar(10)', 'abc'),
        ('text', 'varchar', 'abc'),
        ('char(5)', 'text', 'abc'), ('text', 'char(5)', 'abc'),
        ('char(5)', 'varchar', 'abc'), ('varchar(5)', 'char(5)', 'abc'),
        ('integer', 'text', '7'), ('text', 'integer', '7'),
        ('timestamptz', 'text', '2024-01-02 03:04:05+00'),
        ('text', 'timestamptz', '2024-01-02 03:04:05+00'),
        ('boolean', 'varchar', 'true'), ('varchar', 'boolean', 'true'),
        ('jsonb', 'text', '{"a": 1}'), ('text', 'jsonb', '{"a": 1}'),
        ('text', 'text COLLATE "C"', 'abc')
       ) AS c (o, n, v)
 CROSS JOIN LATERAL pg_temp.change(o, n, v) AS r;

-- The edge cases a DBA asks about: bigint to numeric keeps every value;
-- integer to real (24-bit mantissa) and bigint to double precision (53-bit)
-- round large values; char pads and truncates; timestamp and timestamptz
-- convert through the session's TimeZone; float to numeric keeps 15 digits;
-- jsonb normalises json.  Conversions nobody listed (smallint to real,
-- date to timestamp, another timestamp precision) count as lossy.
SELECT o AS old_type, n AS new_type, r.*
  FROM (VALUES
        ('bigint', 'numeric(25,5)', '7'),
        ('integer', 'real', '16777217'), ('bigint', 'real', '7'),
        ('bigint', 'double precision', '9007199254740993'),
        ('varchar(10)', 'char(10)', 'abc'), ('char(5)', 'char(10)', 'abc'),
        ('timestamp', 'timestamptz', '2024-01-02 03:04:05'),
        ('timestamptz', 'timestamp', '2024-01-02 03:04:05+00'),
        ('timestamptz', 'date', '2024-01-02 03:04:05+00'),
        ('timestamp', 'date', '2024-01-02 03:04:05'),
        ('double precision', 'numeric', '0.1'), ('real', 'numeric', '0.1'),
        ('numeric', 'double precision', '0.1'),
        ('json', 'jsonb', '{"a": 1, "a": 2}'),
        ('smallint', 'real', '7'), ('date', 'timestamp', '2024-01-02'),
        ('timestamp(3)', 'timestamp(6)', '2024-01-02 03:04:05')
       ) AS c (o, n, v)
 CROSS JOIN LATERAL pg_temp.change(o, n, v) AS r;

-- USING that only names the column, or casts it to the new type (spelled
-- any way), converts as no USING would: lossless.  Any other expression
-- computes new values: lossy, even where the types alone would not be.
SELECT o AS old_type, n AS new_type, u AS using_clause, r.*
  FROM (VALUES
        ('integer', 'bigint', 'USING c'),
        ('integer', 'bigint', 'USING (c)'),
        ('integer', 'bigint', 'USING c::bigint'),
        ('integer', 'bigint', 'USING c::int8'),
        ('integer', 'int8', 'USING CAST(c AS bigint)'),
        ('varchar(10)', 'text', 'USING c::text'),
        ('integer', 'bigint', 'USING c::integer'),
        ('integer', 'bigint', 'USING c + 0'),
        ('varchar(10)', 'text', 'USING c::varchar(20)'),
        ('varchar(10)', 'text', 'USING upper(c)'),
        ('varchar(10)', 'varchar(3)', 'USING left(c, 3)')
       ) AS c (o, n, u)
 CROSS JOIN LATERAL pg_temp.change(o, n,
                                   CASE WHEN o = 'integer' THEN '7' ELSE 'abc' END,
                                   u) AS r;

-- Into a domain over the new type a change is as lossless as into the type
-- itself: the domain's CHECK can refuse a row, which fails the statement,
-- but changes no value.  A domain over a narrower type is lossy; out of a
-- domain, its values are values of its base type.
CREATE DOMAIN alty.positive_id AS bigint CHECK (VALUE > 0);
CREATE DOMAIN alty.small_positive AS smallint CHECK (VALUE > 0);
CREATE DOMAIN alty.short_code AS varchar(5);
SELECT o AS old_type, n AS new_type, r.*
  FROM (VALUES
        ('integer', 'alty.positive_id', '7'),
        ('alty.positive_id', 'bigint', '7'),
        ('alty.positive_id', 'integer', '7'),
        ('integer', 'alty.small_positive', '7'),
        ('varchar(3)', 'alty.short_code', 'abc'),
        ('varchar(10)', 'alty.short_code', 'abc'),
        ('alty.short_code', 'text', 'abc'),
        ('integer[]', 'alty.positive_id[]', '{7}')
       ) AS c (o, n, v)
 CROSS JOIN LATERAL pg_temp.change(o, n, v) AS r;
-- The CHECK refuses a row: guarded_ddl lets the lossless change through,
-- PostgreSQL's own error stops it, the value stays as it was.
CREATE TABLE alty.ledger (id int);
INSERT INTO alty.ledger VALUES (-1);
ALTER TABLE alty.ledger ALTER COLUMN id TYPE alty.positive_id;
SELECT id, pg_typeof(id) FROM alty.ledger;

-- Arrays are converted element by element, with the element's rule.
SELECT o AS old_type, n AS new_type, r.*
  FROM (VALUES
        ('integer[]', 'bigint[]', '{7,8}'), ('bigint[]', 'integer[]', '{7,8}'),
        ('varchar(10)[]', 'text[]', '{a,b}'), ('text[]', 'varchar(10)[]', '{a,b}'),
        ('numeric(10,2)[]', 'numeric(12,2)[]', '{1.5}'),
        ('numeric(12,2)[]', 'numeric(10,2)[]', '{1.5}'),
        ('integer[]', 'text', '{7,8}'), ('text', 'text[]', '{7,8}')
       ) AS c (o, n, v)
 CROSS JOIN LATERAL pg_temp.change(o, n, v) AS r;

-- Any type into text keeps every value because its text form holds all of
-- it -- but not for floating-point values printed with extra_float_digits
-- below 1, which rounds them.
SET extra_float_digits = 0;
SELECT o AS old_type, n AS new_type, r.*
  FROM (VALUES
        ('double precision', 'text', '0.1'), ('real[]', 'text', '{0.1}'),
        ('point', 'text', '(1,2)'), ('integer', 'text', '7')
       ) AS c (o, n, v)
 CROSS JOIN LATERAL pg_temp.change(o, n, v) AS r;
RESET extra_float_digits;

-- On an empty table even a lossy change destroys nothing: allowed, and the
-- audit still says it is lossy.
CREATE TABLE alty.empty_one (note varchar(10));
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alty.empty_one ALTER COLUMN note TYPE varchar(3);
SELECT * FROM pg_temp.audit_since(:mark);

-- A partitioned table: the change recurses to every partition, but the
-- statement named the parent, so the audit has one row for it, counting the
-- rows of all partitions.  Rewriting the partitions adds no second, lossy
-- intent: integer to bigint passes; bigint to integer under an override is
-- one overridden row.
CREATE TABLE alty.orders (id int, region text) PARTITION BY LIST (region);
CREATE TABLE alty.orders_eu PARTITION OF alty.orders FOR VALUES IN ('eu');
CREATE TABLE alty.orders_us PARTITION OF alty.orders FOR VALUES IN ('us');
INSERT INTO alty.orders VALUES (1, 'eu'), (2, 'eu'), (3, 'us');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alty.orders ALTER COLUMN id TYPE bigint;
BEGIN;
SELECT guarded_ddl.override('JIRA-7: ids fit in integer again');
ALTER TABLE alty.orders ALTER COLUMN id TYPE integer;
COMMIT;
ALTER TABLE alty.orders ALTER COLUMN id TYPE smallint;
SELECT * FROM pg_temp.audit_since(:mark);
SELECT tableoid::regclass, id, pg_typeof(id) FROM alty.orders ORDER BY id;

-- Typed tables: ALTER TYPE ... ALTER ATTRIBUTE ... TYPE ... CASCADE changes
-- the column of every table of that type, each judged like ALTER TABLE and
-- audited as a cascaded alter_type of that table's column.  The lossless
-- change passes; the lossy one is refused for the table with rows (the
-- empty table's intent would be allowed, but the statement is refused as a
-- whole).  Without CASCADE PostgreSQL refuses by itself: no intent.
CREATE TYPE alty.address AS (street varchar(20), zip integer);
CREATE TABLE alty.home_address OF alty.address;
CREATE TABLE alty.work_address OF alty.address;
INSERT INTO alty.home_address VALUES ('Main Street 1', 12345);
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TYPE alty.address ALTER ATTRIBUTE zip TYPE bigint CASCADE;
ALTER TYPE alty.address ALTER ATTRIBUTE street TYPE text CASCADE;
ALTER TYPE alty.address ALTER ATTRIBUTE zip TYPE integer CASCADE;
ALTER TYPE alty.address ALTER ATTRIBUTE zip TYPE numeric;
SELECT * FROM pg_temp.audit_since(:mark);
SELECT street, zip, pg_typeof(zip) FROM alty.home_address;
-- PostgreSQL checks only the type's owner: a typed table of another owner
-- changes with the type, so it is judged too.  Both tables hold rows now:
-- two denials, one ERROR.
CREATE ROLE regress_gd_alty_owner;
ALTER TABLE alty.work_address OWNER TO regress_gd_alty_owner;
INSERT INTO alty.work_address VALUES ('Side Street 2', 2);
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TYPE alty.address ALTER ATTRIBUTE street TYPE varchar(5) CASCADE;
SELECT * FROM pg_temp.audit_since(:mark);

-- A multi-command ALTER TABLE mixing a lossless and a lossy change: the
-- lossy one decides.  The statement is refused, the denial names the lossy
-- column, and neither column changed.
CREATE TABLE alty.profile (id int, nick varchar(10));
INSERT INTO alty.profile VALUES (1, 'ann');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alty.profile ALTER COLUMN id TYPE bigint,
    ALTER COLUMN nick TYPE varchar(3);
SELECT * FROM pg_temp.audit_since(:mark);
SELECT attname, format_type(atttypid, atttypmod)
  FROM pg_attribute
 WHERE attrelid = 'alty.profile'::regclass AND attnum > 0
 ORDER BY attnum;

-- A lossless change is still an alter_type intent: a deny rule on
-- alter_type stops it, and the denial says it would have been lossless.  A
-- warn rule lets a lossy change through with a warning that says why it is
-- lossy.
INSERT INTO guarded_ddl.policy (id, operation, schema_name, action)
    VALUES (1, 'alter_type', 'alty', 'deny');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alty.profile ALTER COLUMN id TYPE bigint;
SELECT * FROM pg_temp.audit_since(:mark);
UPDATE guarded_ddl.policy SET action = 'warn' WHERE id = 1;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
ALTER TABLE alty.profile ALTER COLUMN nick TYPE varchar(5);
SELECT * FROM pg_temp.audit_since(:mark);
DELETE FROM guarded_ddl.policy;

-- check() gives the same verdicts before anything runs.
SELECT statement_no, operation, object_identity, holds_data, decision, reason
  FROM guarded_ddl.check($$
        ALTER TABLE alty.profile ALTER COLUMN id TYPE numeric;
        ALTER TABLE alty.profile ALTER COLUMN id TYPE smallint;
        ALTER TYPE alty.address ALTER ATTRIBUTE zip TYPE numeric CASCADE;
       $$);

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
SET LOCAL client_min_messages = warning;
DROP SCHEMA alty CASCADE;
DROP EXTENSION guarded_ddl;
-- CREATE EXTENSION made the schema; DROP EXTENSION leaves it behind
DROP SCHEMA guarded_ddl;
COMMIT;
DROP ROLE regress_gd_alty_owner;
