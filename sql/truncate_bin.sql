--
-- truncate_bin: TRUNCATE into the recycle bin without copying a row
-- (library preloaded; preloaded pass only).
--
-- Proves that, with a soft_drop rule matching the table,
--   * TRUNCATE leaves the table empty exactly as without the bin (same
--     command tag, new rows go in, indexes and TOAST work) and the removed
--     rows are kept by handing the table's old file to a relation of
--     guarded_ddl_trash: the bin relation has the table's old relfilenode
--     and its old TOAST relation (no row was copied), an entry in
--     guarded_ddl.trash (operation 'truncate'), audited soft_dropped;
--   * restore(id) puts every row back -- toasted values, identity ALWAYS
--     values, generated columns, a dropped column in the row layout -- into
--     the table when it is empty, refuses when it is not (hint: new name),
--     and restore(id, new_name) gives the rows as a table of their own;
--   * TRUNCATE ONLY keeps only the parent's rows; TRUNCATE of a partitioned
--     table keeps every partition with rows; CASCADE keeps the referencing
--     table too; RESTART IDENTITY restarts the sequence as usual;
--   * a rolled-back TRUNCATE (also to a savepoint) leaves the table whole
--     and nothing in the bin; two soft TRUNCATEs in one transaction keep
--     two sets of rows;
--   * an empty table keeps nothing; without a soft_drop rule TRUNCATE is
--     judged as before (ZG002); a temporary table is truncated for real;
--   * hostile identifiers (quotes, spaces, unicode, 63-byte names) work;
--   * the owner of a table, without any right on the bin, truncates into
--     it, sees the entry and restores it; another role sees nothing and
--     cannot restore.
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

-- A checksum of a table's rows, in key order.
CREATE FUNCTION pg_temp.rows_md5(rel regclass) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE format('SELECT md5(coalesce(string_agg(t::text, %L ORDER BY t::text), %L)) FROM %s AS t',
                   ',', '', rel) INTO result;
    RETURN result;
END;
$$;

CREATE SCHEMA tb;
CREATE TABLE tb.big (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                     gone int, payload text,
                     doubled int GENERATED ALWAYS AS (id * 2) STORED);
ALTER TABLE tb.big DROP COLUMN gone;
-- every tenth row holds a value of ~9,600 bytes: stored in TOAST
INSERT INTO tb.big (payload)
SELECT CASE WHEN g % 10 = 0
            THEN (SELECT string_agg(md5(g::text || h::text), '') FROM generate_series(1, 300) AS h)
            ELSE 'row ' || g END
  FROM generate_series(1, 10000) AS g;
SELECT pg_temp.rows_md5('tb.big') AS big_before \gset
SELECT relfilenode AS big_file, reltoastrelid AS big_toast
  FROM pg_class WHERE oid = 'tb.big'::regclass \gset

-- Without a soft_drop rule: judged as before (no backup recorded).
SELECT pg_temp.sqlstate_of('TRUNCATE tb.big') AS without_rule;

INSERT INTO guarded_ddl.policy (schema_name, object_name, operation, action, note)
VALUES ('tb', '*', 'truncate', 'soft_drop', 'keep what TRUNCATE removes in tb');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset

TRUNCATE tb.big;
SELECT count(*) AS rows_left FROM tb.big;
SELECT original_schema, original_name, trash_name, operation, object_type,
       column_name, size_bytes > 10000 * 9600 / 10 AS sized
  FROM guarded_ddl.trash ORDER BY id;
-- no row was copied: the bin relation has the table's old file and TOAST
SELECT c.relfilenode = :big_file AS same_file,
       c.reltoastrelid = :big_toast AS same_toast,
       t.relname = 'pg_toast_' || c.oid AS toast_named_after_it,
       c.relowner = (SELECT relowner FROM pg_class WHERE oid = 'tb.big'::regclass) AS owner_kept
  FROM pg_class AS c JOIN pg_class AS t ON t.oid = c.reltoastrelid
 WHERE c.relnamespace = 'guarded_ddl_trash'::regnamespace AND c.relname = 'big_gdt1';
SELECT c.relfilenode <> :big_file AS new_file, c.reltoastrelid <> :big_toast AS new_toast,
       t.relname = 'pg_toast_' || c.oid AS toast_named_after_it
  FROM pg_class AS c JOIN pg_class AS t ON t.oid = c.reltoastrelid
 WHERE c.oid = 'tb.big'::regclass;
SELECT count(*) AS kept_rows, count(*) FILTER (WHERE length(payload) > 9000) AS toasted
  FROM guarded_ddl_trash.big_gdt1;
SELECT decision, operation, object_identity, reason
  FROM guarded_ddl.audit WHERE id > :mark ORDER BY id;

-- The table works as a truncated one: new rows, index, TOAST.
INSERT INTO tb.big (payload) VALUES (repeat('y', 100000));
SELECT count(*), max(length(payload)) FROM tb.big WHERE id > 0;

-- restore() into a table that is not empty: refused, with the way out.
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash WHERE trash_name = 'big_gdt1';
DELETE FROM tb.big;
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash WHERE trash_name = 'big_gdt1';
SELECT pg_temp.rows_md5('tb.big') = :'big_before' AS every_row_back,
       count(*) AS rows FROM tb.big;
SELECT count(*) AS left_in_bin FROM pg_class
 WHERE relnamespace = 'guarded_ddl_trash'::regnamespace;
SELECT original_name, restored_as FROM guarded_ddl.trash_bin WHERE trash_name = 'big_gdt1';

-- restore(id, new_name): the rows as a table of their own, beside the table.
TRUNCATE tb.big;
SELECT guarded_ddl.restore(id, 'big_rows') FROM guarded_ddl.trash WHERE original_name = 'big';
SELECT count(*) AS big_rows, (SELECT count(*) FROM tb.big) AS big FROM tb.big_rows;
SELECT pg_temp.rows_md5('tb.big_rows') = :'big_before' AS same_rows;
INSERT INTO tb.big (id, payload) OVERRIDING SYSTEM VALUE
SELECT id, payload FROM tb.big_rows;

-- Rolled back: the table keeps its rows, nothing in the bin.
BEGIN;
TRUNCATE tb.big;
ROLLBACK;
BEGIN;
SAVEPOINT s;
TRUNCATE tb.big;
ROLLBACK TO s;
COMMIT;
SELECT pg_temp.rows_md5('tb.big') = :'big_before' AS whole,
       (SELECT count(*) FROM guarded_ddl.trash) AS entries,
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'guarded_ddl_trash'::regnamespace) AS relations;

-- Two soft TRUNCATEs in one transaction keep two sets of rows.
BEGIN;
TRUNCATE tb.big;
INSERT INTO tb.big (payload) VALUES ('second set');
TRUNCATE tb.big;
COMMIT;
SELECT trash_name, row_estimate > 0 AS counted FROM guarded_ddl.trash ORDER BY id;
SELECT count(*) FROM guarded_ddl_trash.big_gdt1;
SELECT payload FROM guarded_ddl_trash.big_gdt2;

-- An empty table keeps nothing.
CREATE TABLE tb.empty (id int);
TRUNCATE tb.empty;
SELECT count(*) AS entries FROM guarded_ddl.trash WHERE original_name = 'empty';

-- RESTART IDENTITY restarts the sequence as usual; the rows are kept.
CREATE TABLE tb.ident (id serial PRIMARY KEY, v text);
INSERT INTO tb.ident (v) VALUES ('a'), ('b'), ('c');
TRUNCATE tb.ident RESTART IDENTITY;
INSERT INTO tb.ident (v) VALUES ('after') RETURNING id;
SELECT id, v FROM guarded_ddl_trash.ident_gdt1 ORDER BY id;

-- TRUNCATE ONLY: the parent's rows only; without ONLY: the child's too.
CREATE TABLE tb.inh_parent (id int, v text);
CREATE TABLE tb.inh_child () INHERITS (tb.inh_parent);
INSERT INTO tb.inh_parent VALUES (1, 'parent');
INSERT INTO tb.inh_child VALUES (2, 'child');
TRUNCATE ONLY tb.inh_parent;
SELECT * FROM tb.inh_parent ORDER BY id;
TRUNCATE tb.inh_parent;
SELECT original_name, trash_name FROM guarded_ddl.trash
 WHERE original_name LIKE 'inh%' ORDER BY id;

-- Partitioned: every partition with rows is kept, each in its own entry.
CREATE TABLE tb.parted (id int, v text) PARTITION BY RANGE (id);
CREATE TABLE tb.parted_1 PARTITION OF tb.parted FOR VALUES FROM (0) TO (100);
CREATE TABLE tb.parted_2 PARTITION OF tb.parted FOR VALUES FROM (100) TO (200);
CREATE TABLE tb.parted_3 PARTITION OF tb.parted FOR VALUES FROM (200) TO (300);
INSERT INTO tb.parted SELECT g, 'v' || g FROM generate_series(0, 199) AS g;
SELECT pg_temp.rows_md5('tb.parted') AS parted_before \gset
TRUNCATE tb.parted;
SELECT original_name, trash_name, row_estimate FROM guarded_ddl.trash
 WHERE original_name LIKE 'parted%' ORDER BY id;
SELECT decision, object_identity, reason FROM guarded_ddl.audit
 WHERE id = (SELECT max(id) FROM guarded_ddl.audit);
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash
 WHERE original_name LIKE 'parted%' ORDER BY id;
SELECT pg_temp.rows_md5('tb.parted') = :'parted_before' AS every_row_back;

-- CASCADE: the referencing table is truncated and kept too.
CREATE TABLE tb.customers (id int PRIMARY KEY);
CREATE TABLE tb.orders (id int PRIMARY KEY, customer int REFERENCES tb.customers);
INSERT INTO tb.customers SELECT g FROM generate_series(1, 1247) AS g;
INSERT INTO tb.orders SELECT g, g FROM generate_series(1, 1247) AS g;
TRUNCATE tb.customers CASCADE;
SELECT original_name, trash_name, row_estimate FROM guarded_ddl.trash
 WHERE original_name IN ('customers', 'orders') ORDER BY id;
-- orders first would break its foreign key: restore() checks it
SELECT pg_temp.sqlstate_of(format('SELECT guarded_ddl.restore(%s)', id)) AS orders_first
  FROM guarded_ddl.trash WHERE original_name = 'orders';
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash
 WHERE original_name IN ('customers', 'orders') ORDER BY id;
SELECT (SELECT count(*) FROM tb.customers) AS customers, (SELECT count(*) FROM tb.orders) AS orders;

-- A temporary table is truncated for real, as without the bin.
CREATE TEMP TABLE scratch (id int);
INSERT INTO scratch VALUES (1);
TRUNCATE scratch;
SELECT count(*) AS entries FROM guarded_ddl.trash WHERE original_name = 'scratch';

-- Hostile identifiers.
CREATE SCHEMA "tb ""quoted"" schema";
CREATE TABLE "tb ""quoted"" schema"."tä.ble ""x""" (id int PRIMARY KEY, v text);
CREATE TABLE "tb ""quoted"" schema".t234567890123456789012345678901234567890123456789012345678901ü (id int);
INSERT INTO "tb ""quoted"" schema"."tä.ble ""x""" VALUES (1, 'one'), (2, 'two');
INSERT INTO "tb ""quoted"" schema".t234567890123456789012345678901234567890123456789012345678901ü VALUES (7);
INSERT INTO guarded_ddl.policy (schema_name, object_name, operation, action)
VALUES ('tb "quoted" schema', '*', 'truncate', 'soft_drop');
TRUNCATE "tb ""quoted"" schema"."tä.ble ""x""",
         "tb ""quoted"" schema".t234567890123456789012345678901234567890123456789012345678901ü;
SELECT original_name, trash_name, octet_length(trash_name) AS bytes FROM guarded_ddl.trash
 WHERE original_schema = 'tb "quoted" schema' ORDER BY id;
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash
 WHERE original_schema = 'tb "quoted" schema' ORDER BY id;
SELECT * FROM "tb ""quoted"" schema"."tä.ble ""x""" ORDER BY id;

-- A table owner without any right on the bin: truncates into it, sees its
-- entry and restores it; another role sees nothing and cannot restore.
CREATE ROLE regress_gd_tb_owner;
CREATE ROLE regress_gd_stranger;
GRANT USAGE ON SCHEMA tb TO regress_gd_tb_owner;
CREATE TABLE tb.owned (id int PRIMARY KEY, v text);
ALTER TABLE tb.owned OWNER TO regress_gd_tb_owner;
INSERT INTO tb.owned VALUES (1, 'mine'), (2, 'also mine');
BEGIN;
SELECT guarded_ddl.override('test set-up: grant the view');
GRANT USAGE ON SCHEMA guarded_ddl TO regress_gd_tb_owner, regress_gd_stranger;
GRANT SELECT ON guarded_ddl.trash TO regress_gd_tb_owner, regress_gd_stranger;
GRANT EXECUTE ON FUNCTION guarded_ddl.restore(bigint, text)
   TO regress_gd_tb_owner, regress_gd_stranger;
COMMIT;
SET ROLE regress_gd_tb_owner;
TRUNCATE tb.owned;
SELECT original_name, trash_name FROM guarded_ddl.trash ORDER BY id;
SELECT id AS owned_entry FROM guarded_ddl.trash \gset
RESET ROLE;
SET ROLE regress_gd_stranger;
SELECT count(*) AS visible FROM guarded_ddl.trash;
SELECT guarded_ddl.restore(:owned_entry, 'mine');
RESET ROLE;
SET ROLE regress_gd_tb_owner;
SELECT guarded_ddl.restore(:owned_entry);
SELECT * FROM tb.owned ORDER BY id;
RESET ROLE;

-- Every soft TRUNCATE is audited.
SELECT decision, operation, count(*) FROM guarded_ddl.audit
 WHERE id > :mark AND operation = 'truncate'
 GROUP BY decision, operation ORDER BY decision, operation;

-- Clean up.
SET client_min_messages = warning;
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA tb CASCADE;
DROP SCHEMA "tb ""quoted"" schema" CASCADE;
SELECT guarded_ddl.purge_trash('0 seconds') > 0 AS purged;
DROP EXTENSION guarded_ddl;
DROP SCHEMA guarded_ddl;
DROP SCHEMA IF EXISTS guarded_ddl_trash CASCADE;
COMMIT;
DROP ROLE regress_gd_tb_owner;
DROP ROLE regress_gd_stranger;
RESET client_min_messages;
