--
-- column_bin: the recycle bin for columns (library preloaded; preloaded
-- pass only).
--
-- Proves that, with a soft_drop rule matching the column,
--   * ALTER TABLE ... DROP COLUMN -- psql style and prisma db push style
--     ("schema"."table"), and several columns in one multi-command ALTER
--     TABLE -- runs exactly as without the bin (same command tag, the
--     columns are gone) and keeps each column's values, with the primary
--     key, in its own entry of guarded_ddl.trash (object_type 'table
--     column', column_name, size_bytes), audited as soft_dropped;
--   * restore(id) adds the column back with its old type and every value
--     on the row with its key, also after rows were inserted (NULL),
--     updated (value back) and deleted (stay deleted) in between;
--   * a lossy type change keeps the old values (operation alter_type);
--     restore() then needs a new name; a lossless one keeps nothing;
--   * a unique key on NOT NULL columns serves when there is no primary
--     key; a table with neither keeps nothing and soft_drop counts as
--     require_backup (ZG002); partitioned tables keep every partition's
--     values;
--   * hostile identifiers (quotes, spaces, unicode, 63-byte names) work;
--   * a table of 1,000,000 rows gets every value back.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- SQLSTATE of a statement ('ok' when it succeeds; the success is kept).
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END;
$$;

CREATE SCHEMA cb;
CREATE TABLE cb.customers (id int PRIMARY KEY, name text, email text,
                           embedding float8[], note varchar(20));
INSERT INTO cb.customers
SELECT g, 'customer ' || g, 'c' || g || '@example.com', ARRAY[g, g / 2.0], 'note ' || g
  FROM generate_series(1, 1247) AS g;
INSERT INTO guarded_ddl.policy (schema_name, object_name, operation, action, note)
VALUES ('cb', '*', '*', 'soft_drop', 'keep what cb loses');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset

-- prisma db push style: the statement runs as without the bin.
ALTER TABLE "cb"."customers" DROP COLUMN "embedding";
SELECT count(*) AS embedding_columns FROM pg_attribute
 WHERE attrelid = 'cb.customers'::regclass AND attname = 'embedding' AND NOT attisdropped;
SELECT original_schema, original_name, column_name, operation, object_type,
       size_bytes > 0 AS sized, row_estimate
  FROM guarded_ddl.trash ORDER BY id;
SELECT decision, operation, object_identity, reason ~ '^values kept in guarded_ddl_trash\.' AS kept
  FROM guarded_ddl.audit WHERE id > :mark ORDER BY id;

-- Rows change in between; then the column comes back.
INSERT INTO cb.customers (id, name) VALUES (5000, 'new customer');
DELETE FROM cb.customers WHERE id = 1;
UPDATE cb.customers SET name = 'renamed' WHERE id = 2;
SELECT guarded_ddl.restore(id) AS restored FROM guarded_ddl.trash WHERE column_name = 'embedding';
SELECT count(*) AS customers, count(embedding) AS with_embedding,
       bool_and(embedding = ARRAY[id, id / 2.0]::float8[]) AS values_match
  FROM cb.customers;
SELECT id, name, embedding FROM cb.customers WHERE id IN (2, 5000) ORDER BY id;
SELECT format_type(atttypid, atttypmod) AS restored_type FROM pg_attribute
 WHERE attrelid = 'cb.customers'::regclass AND attname = 'embedding';
SELECT restored_at IS NOT NULL AS restored, restored_as FROM guarded_ddl.trash_bin
 WHERE column_name = 'embedding';

-- Several columns in one multi-command ALTER TABLE: one entry each.
ALTER TABLE cb.customers DROP COLUMN email, ADD COLUMN phone text, DROP COLUMN note;
SELECT column_name, operation FROM guarded_ddl.trash ORDER BY id;
SELECT guarded_ddl.restore(id) AS restored FROM guarded_ddl.trash ORDER BY id;
SELECT count(email) AS emails, count(note) AS notes,
       bool_and(email = 'c' || id || '@example.com') AS emails_match,
       pg_typeof(min(note)) AS note_type
  FROM cb.customers WHERE id < 5000;
SELECT format_type(atttypid, atttypmod) AS note_type FROM pg_attribute
 WHERE attrelid = 'cb.customers'::regclass AND attname = 'note';

-- A lossy type change keeps the old values; restore() wants a new name.
ALTER TABLE cb.customers ALTER COLUMN name TYPE varchar(3) USING left(name, 3);
SELECT column_name, operation FROM guarded_ddl.trash;
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash WHERE column_name = 'name';
SELECT guarded_ddl.restore(id, 'name_before') AS restored
  FROM guarded_ddl.trash WHERE column_name = 'name';
SELECT id, name, name_before FROM cb.customers WHERE id IN (2, 3) ORDER BY id;
-- a lossless one keeps nothing (and needs nothing)
ALTER TABLE cb.customers ALTER COLUMN id TYPE bigint;
SELECT count(*) AS entries_after_lossless FROM guarded_ddl.trash;

-- No primary key: a unique key on NOT NULL columns serves.
CREATE TABLE cb.by_unique (code text NOT NULL UNIQUE, v int);
INSERT INTO cb.by_unique SELECT 'k' || g, g FROM generate_series(1, 10) AS g;
ALTER TABLE cb.by_unique DROP COLUMN v;
SELECT column_name, key_columns FROM guarded_ddl.trash_bin
 WHERE original_name = 'by_unique';
SELECT guarded_ddl.restore(id) AS restored FROM guarded_ddl.trash WHERE original_name = 'by_unique';
SELECT sum(v) AS v_sum FROM cb.by_unique;

-- No key at all: nothing can be matched back, so it is require_backup.
CREATE TABLE cb.no_key (a int, b text);
INSERT INTO cb.no_key VALUES (1, 'x');
ALTER TABLE cb.no_key DROP COLUMN b;
SELECT count(*) AS no_key_entries FROM guarded_ddl.trash_bin WHERE original_name = 'no_key';

-- Partitioned: every partition's values.
CREATE TABLE cb.parted (id int, k int, v text, PRIMARY KEY (id, k)) PARTITION BY LIST (k);
CREATE TABLE cb.parted_1 PARTITION OF cb.parted FOR VALUES IN (1);
CREATE TABLE cb.parted_2 PARTITION OF cb.parted FOR VALUES IN (2);
INSERT INTO cb.parted SELECT g, 1 + g % 2, 'v' || g FROM generate_series(1, 100) AS g;
ALTER TABLE cb.parted DROP COLUMN v;
SELECT guarded_ddl.restore(id) AS restored FROM guarded_ddl.trash WHERE original_name = 'parted';
SELECT count(v) AS parted_values, bool_and(v = 'v' || id) AS parted_match FROM cb.parted;

-- Hostile identifiers.
CREATE TABLE cb."We""ird tab" ("ké y" int PRIMARY KEY, "col ""q"" ü" text,
    "c2345678901234567890123456789012345678901234567890123456789012" text);
INSERT INTO cb."We""ird tab" VALUES (1, 'one', 'long'), (2, 'two', 'longer');
ALTER TABLE cb."We""ird tab" DROP COLUMN "col ""q"" ü",
    DROP COLUMN "c2345678901234567890123456789012345678901234567890123456789012";
SELECT column_name, length(trash_name) <= 63 AS fits FROM guarded_ddl.trash
 WHERE original_name = 'We"ird tab' ORDER BY id;
SELECT guarded_ddl.restore(id) AS restored FROM guarded_ddl.trash
 WHERE original_name = 'We"ird tab' ORDER BY id;
SELECT * FROM cb."We""ird tab" ORDER BY 1;

-- 1,000,000 rows: every value back.
CREATE TABLE cb.big (id int PRIMARY KEY, payload text);
INSERT INTO cb.big SELECT g, md5(g::text) FROM generate_series(1, 1000000) AS g;
ALTER TABLE cb.big DROP COLUMN payload;
SELECT guarded_ddl.restore(id) AS restored FROM guarded_ddl.trash WHERE original_name = 'big';
SELECT count(*) AS big_rows, bool_and(payload = md5(id::text)) AS big_match FROM cb.big;

-- Every soft drop is audited.
SELECT decision, operation, count(*) FROM guarded_ddl.audit
 WHERE id > :mark AND decision IN ('soft_dropped', 'denied')
 GROUP BY decision, operation ORDER BY decision, operation;

-- Clean up.
SET client_min_messages = warning;
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DELETE FROM guarded_ddl.policy;
DROP SCHEMA cb CASCADE;
DROP EXTENSION guarded_ddl;
DROP SCHEMA guarded_ddl;
DROP SCHEMA IF EXISTS guarded_ddl_trash CASCADE;
COMMIT;
RESET client_min_messages;
