--
-- trash_view: what guarded_ddl.trash shows, and to whom.
--
-- The entries are written by hand (as the extension writes them: a row in
-- guarded_ddl.trash_bin, the kept relation in guarded_ddl_trash), so this
-- runs without the utility hook.  Proves that
--   * the view ends with the 1.1 columns operation, object_type,
--     column_name, size_bytes, and is a security_barrier view;
--   * a role sees the entries it dropped and those whose table it owns: the
--     table in the bin, or for column and TRUNCATE entries (whose table
--     stays) the table under its original name; not restored, purged or
--     vanished entries;
--   * superusers and members of a role granted SELECT on
--     guarded_ddl.trash_bin see every entry; pg_read_all_data does not widen
--     the view (its members read guarded_ddl.trash_bin itself);
--   * a function in the caller's query sees only the rows the caller may
--     see (security_barrier);
--   * guarded_ddl.trash_entry_visible() -- for restore() and purge_trash(),
--     which run as the owner -- answers as the view does;
--   * size_bytes is the recorded size, else the size of the kept relation;
--     status() reports the entries and their total size;
--   * trash_bin refuses an unknown operation or object type, and a column
--     entry without its column.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never

CREATE ROLE regress_gd_alice;
CREATE ROLE regress_gd_bob;
CREATE ROLE regress_gd_trash_admins;
CREATE ROLE regress_gd_carol IN ROLE regress_gd_trash_admins;
CREATE ROLE regress_gd_reader IN ROLE pg_read_all_data;
CREATE ROLE regress_gd_nobody;
BEGIN;
SELECT guarded_ddl.override('rights on guarded_ddl for this test') \gset
GRANT USAGE ON SCHEMA guarded_ddl
   TO regress_gd_alice, regress_gd_bob, regress_gd_carol, regress_gd_reader, regress_gd_nobody;
GRANT SELECT ON guarded_ddl.trash
   TO regress_gd_alice, regress_gd_bob, regress_gd_carol, regress_gd_reader, regress_gd_nobody;
GRANT SELECT ON guarded_ddl.trash_bin TO regress_gd_trash_admins;
COMMIT;

-- Live tables: alice's docs (a column of it is in the bin), bob's events
-- (truncated into the bin).
CREATE SCHEMA tv_app;
CREATE TABLE tv_app.docs (id int PRIMARY KEY, title text);
ALTER TABLE tv_app.docs OWNER TO regress_gd_alice;
CREATE TABLE tv_app.events (id int);
ALTER TABLE tv_app.events OWNER TO regress_gd_bob;

-- What is kept in the bin, and by whom it is owned.
CREATE TABLE guarded_ddl_trash.notes_gd1 (id int);
ALTER TABLE guarded_ddl_trash.notes_gd1 OWNER TO regress_gd_alice;
CREATE TABLE guarded_ddl_trash.ledger_gd2 (id int);
ALTER TABLE guarded_ddl_trash.ledger_gd2 OWNER TO regress_gd_bob;
CREATE TABLE guarded_ddl_trash.docs_embedding_gd3 (id int PRIMARY KEY, embedding text);
INSERT INTO guarded_ddl_trash.docs_embedding_gd3 VALUES (1, 'a'), (2, 'b');
CREATE TABLE guarded_ddl_trash.events_gd4 (id int);
CREATE TABLE guarded_ddl_trash.restored_gd5 (id int);
ALTER TABLE guarded_ddl_trash.restored_gd5 OWNER TO regress_gd_alice;

-- 1: alice dropped her notes.  2: an admin dropped bob's ledger.  3: an
-- admin dropped the column embedding of alice's docs.  4: an admin
-- truncated bob's events.  5: restored since.  6: its relation is gone.
INSERT INTO guarded_ddl.trash_bin (original_schema, original_name, trash_name, dropped_by,
                                   operation, object_type, column_name, column_type,
                                   key_columns, size_bytes, restored_at)
VALUES ('tv_app', 'notes', 'notes_gd1', 'regress_gd_alice', 'drop', 'table', NULL, NULL, NULL, 1000, NULL),
       ('tv_app', 'ledger', 'ledger_gd2', 'regress_gd_admin', 'drop', 'table', NULL, NULL, NULL, 2000, NULL),
       ('tv_app', 'docs', 'docs_embedding_gd3', 'regress_gd_admin', 'drop', 'table column',
        'embedding', 'text', '{id}', NULL, NULL),
       ('tv_app', 'events', 'events_gd4', 'regress_gd_admin', 'truncate', 'table', NULL, NULL, NULL, 4000, NULL),
       ('tv_app', 'old', 'restored_gd5', 'regress_gd_alice', 'drop', 'table', NULL, NULL, NULL, 5000, now()),
       ('tv_app', 'vanished', 'vanished_gd6', 'regress_gd_alice', 'drop', 'table', NULL, NULL, NULL, 6000, NULL);

-- The view: the 1.1 columns at the end, security_barrier.
SELECT attnum, attname, format_type(atttypid, atttypmod) AS type
  FROM pg_attribute
 WHERE attrelid = 'guarded_ddl.trash'::regclass AND attnum > 0
 ORDER BY attnum;
SELECT reloptions FROM pg_class WHERE oid = 'guarded_ddl.trash'::regclass;

-- Each role's view of the bin.
SELECT id, original_name, operation, object_type, column_name, dropped_by FROM guarded_ddl.trash ORDER BY id;
SET ROLE regress_gd_alice;
SELECT id, original_name, operation, object_type, column_name, dropped_by FROM guarded_ddl.trash ORDER BY id;
SET ROLE regress_gd_bob;
SELECT id, original_name, operation, object_type, column_name, dropped_by FROM guarded_ddl.trash ORDER BY id;
SET ROLE regress_gd_carol;
SELECT id, original_name, operation, object_type, column_name, dropped_by FROM guarded_ddl.trash ORDER BY id;
SET ROLE regress_gd_nobody;
SELECT id, original_name, operation, object_type, column_name, dropped_by FROM guarded_ddl.trash ORDER BY id;
-- pg_read_all_data: its own entries in the view (none), the table itself
-- in full.
SET ROLE regress_gd_reader;
SELECT id, original_name FROM guarded_ddl.trash ORDER BY id;
SELECT count(*) AS trash_bin_rows FROM guarded_ddl.trash_bin;
RESET ROLE;

-- A function of the caller's query sees only what the caller may see.
CREATE FUNCTION pg_temp.peek(name) RETURNS boolean
    LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    RAISE NOTICE 'peeked at %', $1;
    RETURN true;
END;
$$;
SET ROLE regress_gd_bob;
SELECT id FROM guarded_ddl.trash WHERE pg_temp.peek(original_name) ORDER BY id;
RESET ROLE;

-- trash_entry_visible() answers as the view does (entry 5 is visible to
-- alice, who dropped it, though restored: the function says who, the
-- view also says what is still in the bin).
SELECT r.rolname,
       array_agg(t.id ORDER BY t.id) FILTER (WHERE guarded_ddl.trash_entry_visible(t.id, r.oid)) AS visible
  FROM pg_roles AS r
 CROSS JOIN guarded_ddl.trash_bin AS t
 WHERE r.rolname IN ('regress_gd_alice', 'regress_gd_bob', 'regress_gd_carol',
                     'regress_gd_reader', 'regress_gd_nobody')
 GROUP BY r.rolname
 ORDER BY r.rolname;
SELECT guarded_ddl.trash_entry_visible(1, oid) AS superuser_sees, guarded_ddl.trash_entry_visible(999, oid) AS no_such_entry
  FROM pg_roles WHERE rolname = current_user;

-- size_bytes: recorded, else measured.  status() counts what is in the bin.
SELECT id,
       CASE WHEN size_bytes = pg_total_relation_size(format('guarded_ddl_trash.%I', trash_name))
                 AND size_bytes % 8192 = 0
            THEN 'measured' ELSE size_bytes::text END AS size_bytes
  FROM guarded_ddl.trash ORDER BY id;
UPDATE guarded_ddl.trash_bin SET size_bytes = 3000 WHERE trash_name = 'docs_embedding_gd3';
SELECT item, value, ok FROM guarded_ddl.status() WHERE item = 'trash';

-- What trash_bin refuses.
\set VERBOSITY terse
INSERT INTO guarded_ddl.trash_bin (original_schema, original_name, trash_name, dropped_by, operation)
VALUES ('tv_app', 'x', 'x_gd7', 'regress_gd_alice', 'delete');
INSERT INTO guarded_ddl.trash_bin (original_schema, original_name, trash_name, dropped_by, object_type)
VALUES ('tv_app', 'x', 'x_gd7', 'regress_gd_alice', 'view');
INSERT INTO guarded_ddl.trash_bin (original_schema, original_name, trash_name, dropped_by, object_type)
VALUES ('tv_app', 'x', 'x_gd7', 'regress_gd_alice', 'table column');
\set VERBOSITY default

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA tv_app CASCADE;
DROP TABLE guarded_ddl_trash.notes_gd1, guarded_ddl_trash.ledger_gd2,
           guarded_ddl_trash.docs_embedding_gd3, guarded_ddl_trash.events_gd4,
           guarded_ddl_trash.restored_gd5;
DROP EXTENSION guarded_ddl;
COMMIT;
DROP SCHEMA IF EXISTS guarded_ddl;
DROP ROLE regress_gd_alice;
DROP ROLE regress_gd_bob;
DROP ROLE regress_gd_carol;
DROP ROLE regress_gd_trash_admins;
DROP ROLE regress_gd_reader;
DROP ROLE regress_gd_nobody;
