--
-- recycle_bin: a policy rule with action soft_drop turns DROP TABLE into a
-- move to the schema guarded_ddl_trash (utility hook: preloaded pass only).
--
-- Proves that
--   * DROP TABLE of a matching table with rows becomes a move: the client
--     sees DROP TABLE and a NOTICE saying where it went; the table, its
--     indexes, constraints and owned sequence are in guarded_ddl_trash under
--     unique names; guarded_ddl.trash lists it (original_schema,
--     original_name, row_estimate, dropped_by); the audit says
--     'soft_dropped';
--   * a DROP naming two tables moves both; two tables of the same name
--     dropped one after the other are both kept, under distinct names;
--     a soft drop in a transaction that rolls back leaves nothing behind;
--   * PostgreSQL's RESTRICT semantics are kept: a table referenced by a
--     foreign key, or with a dependent view, fails to drop exactly as a
--     real DROP does;
--   * a table with a foreign key to another table is moved, and after
--     restore the foreign key still works;
--   * DROP ... CASCADE that takes a view with it moves the table, drops the
--     view, and restore() re-creates it; a partitioned table moves with its
--     partitions and indexes as one entry and comes back as one;
--   * a partition on its own, inheritance children and temporary tables
--     are dropped for real under the normal rules (soft_drop counts as
--     require_backup: refused without a backup); PostgreSQL refuses to
--     drop a table belonging to an extension, as always;
--   * a non-superuser owning its table in its own schema may soft-drop it
--     without any right on guarded_ddl_trash;
--   * guarded_ddl.restore(id) brings the table back with every row, its
--     primary key index and constraint names, a working serial sequence and
--     identity (nextval continues) and working constraints; when the name
--     is taken it errors with a hint, and restore(id, 'new_name') works;
--     an unknown or already restored id errors;
--   * a table with a name near the 63-byte limit, or with long index names,
--     can be soft-dropped and restored like any other;
--   * guarded_ddl.purge_trash() drops entries older than the interval for
--     real: they leave guarded_ddl.trash and the audit has an 'allowed'
--     drop with reason 'purged from the recycle bin ...'.
--
-- Trash names end in _gd<OID>; only their shape is shown here.
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
-- The recycle bin without OIDs: trash names only checked for their shape.
CREATE FUNCTION pg_temp.bin()
RETURNS TABLE (original_schema name, original_name name, trash_name_ok boolean,
               row_estimate bigint, dropped_by_me boolean)
    LANGUAGE sql AS $$
    SELECT t.original_schema, t.original_name,
           t.trash_name ~ ('^' || left(t.original_name, 20) || '.*_gd[0-9]+$'),
           t.row_estimate, t.dropped_by = current_user
      FROM guarded_ddl.trash AS t
     ORDER BY t.id
$$;
-- What is in the schema guarded_ddl_trash, OIDs masked.
CREATE FUNCTION pg_temp.trash_schema()
RETURNS TABLE (relname text, relkind "char")
    LANGUAGE sql AS $$
    SELECT regexp_replace(c.relname, '_gd[0-9]+$', '_gd<oid>'), c.relkind
      FROM pg_class AS c
     WHERE c.relnamespace = 'guarded_ddl_trash'::regnamespace
     ORDER BY 1
$$;

-- The rules: every table of the schemas rb and rb_own, and tables named
-- rb_tmp* wherever they are, go to the recycle bin.
INSERT INTO guarded_ddl.policy (operation, object_type, schema_name, action, note)
VALUES ('drop', 'table', 'rb*', 'soft_drop', 'recycle_bin test: schemas rb*');
INSERT INTO guarded_ddl.policy (operation, object_type, object_name, action, note)
VALUES ('drop', 'table', 'rb_tmp*', 'soft_drop', 'recycle_bin test: rb_tmp* anywhere');

-- customers <- orders (serial key, foreign key, check constraint).
CREATE SCHEMA rb;
CREATE TABLE rb.customers (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO rb.customers VALUES (1, 'Ada'), (2, 'Grace');
CREATE TABLE rb.orders (
    id serial PRIMARY KEY,
    customer_id int NOT NULL REFERENCES rb.customers,
    amount numeric NOT NULL CHECK (amount > 0));
INSERT INTO rb.orders (customer_id, amount) VALUES (1, 10), (2, 20), (1, 30);
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset

-- RESTRICT kept: customers is referenced by orders' foreign key, so its
-- DROP fails exactly as a real DROP does (the second try is a real DROP,
-- let through by an override).
DROP TABLE rb.customers;
BEGIN;
SELECT guarded_ddl.override('recycle_bin test: compare with a real DROP');
DROP TABLE rb.customers;
ROLLBACK;
SELECT count(*) AS customers_rows FROM rb.customers;

-- DROP TABLE of orders becomes a move.  The client sees DROP TABLE and a
-- NOTICE naming the table in the recycle bin (run through psql to show both;
-- the OID in the name is masked).
\setenv PGDATABASE :DBNAME
\! psql -X -c 'DROP TABLE rb.orders' 2>&1 | sed -E 's/_gd[0-9]+/_gd<oid>/g'
SELECT to_regclass('rb.orders') AS orders_in_rb, to_regclass('rb.orders_id_seq') AS seq_in_rb;
SELECT * FROM pg_temp.bin();
-- the table, its primary key index and its sequence moved, renamed
SELECT * FROM pg_temp.trash_schema();
-- its constraints went with it (NOT NULL is checked through attnotnull: from
-- PostgreSQL 18 on it is a pg_constraint row too, and would list differently)
SELECT regexp_replace(conname, '_gd[0-9]+$', '_gd<oid>') AS conname, contype
  FROM pg_constraint
 WHERE conrelid = (SELECT format('guarded_ddl_trash.%I', trash_name)::regclass
                     FROM guarded_ddl.trash WHERE original_name = 'orders')
   AND contype <> 'n'
 ORDER BY 1;
SELECT attname AS not_null_column FROM pg_attribute
 WHERE attrelid = (SELECT format('guarded_ddl_trash.%I', trash_name)::regclass
                     FROM guarded_ddl.trash WHERE original_name = 'orders')
   AND attnum > 0 AND attnotnull ORDER BY attnum;
-- the audit says soft_dropped, and the trash entry points at that row
SELECT a.decision, a.operation, a.object_type, a.object_identity, a.holds_data,
       a.row_estimate, a.command_tag,
       a.reason ~ '^moved to guarded_ddl_trash\.orders_gd[0-9]+$' AS reason_names_trash,
       t.audit_id = a.id AS trash_points_here
  FROM guarded_ddl.audit AS a
  JOIN guarded_ddl.trash AS t ON t.original_name = a.object_name
 WHERE a.id > :mark AND a.decision <> 'denied';

-- From here on the NOTICE of each move is not shown (it carries an OID).
SET client_min_messages = warning;

-- A DROP naming two tables moves both.
CREATE TABLE rb.m1 (id int PRIMARY KEY);
INSERT INTO rb.m1 VALUES (1);
CREATE TABLE rb.m2 (id int);
INSERT INTO rb.m2 VALUES (1), (2);
DROP TABLE rb.m1, rb.m2;
SELECT to_regclass('rb.m1') AS m1, to_regclass('rb.m2') AS m2;
SELECT * FROM pg_temp.bin() WHERE original_name IN ('m1', 'm2');

-- Two tables of the same name, dropped one after the other: both kept,
-- under distinct names.
CREATE TABLE rb.dup (v text);
INSERT INTO rb.dup VALUES ('first');
DROP TABLE rb.dup;
CREATE TABLE rb.dup (v text);
INSERT INTO rb.dup VALUES ('second'), ('second');
DROP TABLE rb.dup;
SELECT * FROM pg_temp.bin() WHERE original_name = 'dup';
SELECT count(DISTINCT trash_name) AS distinct_names FROM guarded_ddl.trash WHERE original_name = 'dup';

-- A soft drop in a transaction that rolls back leaves nothing behind: the
-- table is where it was, no trash entry, no audit row.
CREATE TABLE rb.kept (id int);
INSERT INTO rb.kept VALUES (1);
SELECT coalesce(max(id), 0) AS mark2 FROM guarded_ddl.audit \gset
BEGIN;
DROP TABLE rb.kept;
SELECT to_regclass('rb.kept') IS NULL AS moved_inside;
ROLLBACK;
SELECT to_regclass('rb.kept') AS kept,
       (SELECT count(*) FROM guarded_ddl.trash WHERE original_name = 'kept') AS in_trash,
       (SELECT count(*) FROM guarded_ddl.audit WHERE id > :mark2) AS audit_rows;

-- A dependent view: without CASCADE the DROP fails exactly as a real DROP.
CREATE TABLE rb.base (id int);
INSERT INTO rb.base VALUES (1), (2);
CREATE VIEW rb.base_v AS SELECT id FROM rb.base;
DROP TABLE rb.base;
BEGIN;
SELECT guarded_ddl.override('recycle_bin test: compare with a real DROP');
DROP TABLE rb.base;
ROLLBACK;
-- With CASCADE the table goes to the bin, and the view goes as it would
-- with a real DROP; restore() brings the table back and re-creates the
-- view.
SELECT coalesce(max(id), 0) AS mark2 FROM guarded_ddl.audit \gset
DROP TABLE rb.base CASCADE;
SELECT to_regclass('rb.base') AS base, to_regclass('rb.base_v') AS base_v,
       (SELECT count(*) FROM guarded_ddl.trash WHERE original_name = 'base') AS in_trash;
SELECT decision, object_type, object_identity, cascaded
  FROM guarded_ddl.audit WHERE id > :mark2 ORDER BY id;
SELECT jsonb_path_query_array(recreate, '$[*].kind') AS recreates
  FROM guarded_ddl.trash_bin WHERE original_name = 'base';
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash WHERE original_name = 'base';
SELECT * FROM rb.base_v ORDER BY id;
DROP VIEW rb.base_v;
-- CASCADE with nothing depending on the table: still a move.
CREATE TABLE rb.lonely (id int);
INSERT INTO rb.lonely VALUES (1);
DROP TABLE rb.lonely CASCADE;
SELECT * FROM pg_temp.bin() WHERE original_name = 'lonely';

-- A partition on its own and inheritance children are dropped for real
-- under the normal rules: refused without a backup.  A partitioned table
-- goes to the bin with its partitions, as one entry, and comes back as one.
CREATE TABLE rb.part (id int) PARTITION BY RANGE (id);
CREATE TABLE rb.part_1 PARTITION OF rb.part FOR VALUES FROM (0) TO (100);
CREATE TABLE rb.part_2 PARTITION OF rb.part FOR VALUES FROM (100) TO (200);
CREATE INDEX part_id ON rb.part (id);
INSERT INTO rb.part VALUES (1), (2), (150);
CREATE TABLE rb.inh_parent (id int);
CREATE TABLE rb.inh_child () INHERITS (rb.inh_parent);
INSERT INTO rb.inh_child VALUES (1);
DROP TABLE rb.part_1;
SELECT pg_temp.sqlstate_of('DROP TABLE rb.part_1') AS partition,
       pg_temp.sqlstate_of('DROP TABLE rb.inh_child') AS inheritance_child;
DROP TABLE rb.part;
SELECT * FROM pg_temp.bin() WHERE original_name LIKE 'part%';
SELECT * FROM pg_temp.trash_schema() WHERE relname LIKE 'part%';
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash WHERE original_name = 'part';
SELECT count(*) AS part_rows, (SELECT count(*) FROM rb.inh_child) AS child_rows FROM rb.part;
SELECT inhrelid::regclass AS partition, pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM pg_inherits JOIN pg_class AS c ON c.oid = inhrelid
 WHERE inhparent = 'rb.part'::regclass ORDER BY 1;
SELECT indexrelid::regclass AS index FROM pg_index
 WHERE indrelid IN ('rb.part'::regclass, 'rb.part_1'::regclass, 'rb.part_2'::regclass)
 ORDER BY 1;

-- A table belonging to an extension (made one of plpgsql's for the test,
-- all rolled back): PostgreSQL's own refusal to drop an extension member
-- comes first, with or without an override; never moved.
BEGIN;
CREATE TABLE rb.ext_member (id int);
INSERT INTO rb.ext_member VALUES (1);
ALTER EXTENSION plpgsql ADD TABLE rb.ext_member;
SELECT pg_temp.sqlstate_of('DROP TABLE rb.ext_member') AS without_override;
SELECT guarded_ddl.override('recycle_bin test: extension member');
SELECT pg_temp.sqlstate_of('DROP TABLE rb.ext_member') AS with_override;
SELECT to_regclass('rb.ext_member') AS ext_member,
       (SELECT count(*) FROM guarded_ddl.trash WHERE original_name = 'ext_member') AS in_trash;
ROLLBACK;

-- Temporary tables are dropped for real, even when a rule matches them.
CREATE TEMP TABLE rb_tmp_scratch (id int);
INSERT INTO rb_tmp_scratch VALUES (1), (2);
DROP TABLE rb_tmp_scratch;
SELECT to_regclass('pg_temp.rb_tmp_scratch') AS tmp,
       (SELECT count(*) FROM guarded_ddl.trash WHERE original_name = 'rb_tmp_scratch') AS in_trash;

-- A non-superuser that owns its table in its own schema may soft-drop it,
-- with no right at all on guarded_ddl_trash (nor on guarded_ddl).
CREATE ROLE gd_rb_owner;
CREATE SCHEMA rb_own AUTHORIZATION gd_rb_owner;
SET ROLE gd_rb_owner;
CREATE TABLE rb_own.notes (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);
INSERT INTO rb_own.notes (body) VALUES ('one'), ('two');
DROP TABLE rb_own.notes;
SELECT to_regclass('rb_own.notes') AS notes;
RESET ROLE;
SELECT has_schema_privilege('gd_rb_owner', 'guarded_ddl_trash', 'USAGE') AS trash_usage,
       has_schema_privilege('gd_rb_owner', 'guarded_ddl_trash', 'CREATE') AS trash_create,
       has_schema_privilege('gd_rb_owner', 'guarded_ddl', 'USAGE') AS guard_usage;
SELECT original_schema, original_name, row_estimate, dropped_by
  FROM guarded_ddl.trash WHERE original_schema = 'rb_own';
SELECT decision, object_identity, role_name
  FROM guarded_ddl.audit WHERE schema_name = 'rb_own';

-- A name near the 63-byte limit, with a primary key: moved and restored
-- like any other (the trash names of the table and of its index must not
-- collide).
CREATE TABLE rb.customer_loyalty_programme_membership_history_2024_archive_x (
    id int PRIMARY KEY, points int);
INSERT INTO rb.customer_loyalty_programme_membership_history_2024_archive_x VALUES (1, 10), (2, 20);
SELECT conname AS long_pkey FROM pg_constraint
 WHERE conrelid = 'rb.customer_loyalty_programme_membership_history_2024_archive_x'::regclass
   AND contype = 'p' \gset
DROP TABLE rb.customer_loyalty_programme_membership_history_2024_archive_x;
SELECT original_name, length(trash_name) <= 63 AS fits, row_estimate
  FROM guarded_ddl.trash WHERE original_name LIKE 'customer_loyalty%';

-- The same for two long index names of a short-named table that differ only
-- near the end.
CREATE TABLE rb.wide (x int, y int);
CREATE INDEX wide_index_with_a_name_long_enough_to_be_cut_in_the_trash_on_x ON rb.wide (x);
CREATE INDEX wide_index_with_a_name_long_enough_to_be_cut_in_the_trash_on_y ON rb.wide (y);
INSERT INTO rb.wide VALUES (1, 2);
DROP TABLE rb.wide;
SELECT original_name, row_estimate FROM guarded_ddl.trash WHERE original_name = 'wide';

-- restore(id): every row back, the primary key index and constraint under
-- their names, the serial sequence continues, the constraints -- the
-- foreign key to customers included -- still work.
SELECT id AS orders_trash_id FROM guarded_ddl.trash WHERE original_name = 'orders' \gset
SELECT guarded_ddl.restore(:orders_trash_id);
SELECT count(*) AS orders_rows, sum(amount) AS total FROM rb.orders;
SELECT conname, contype FROM pg_constraint
 WHERE conrelid = 'rb.orders'::regclass AND contype <> 'n' ORDER BY conname;
SELECT attname AS not_null_column FROM pg_attribute
 WHERE attrelid = 'rb.orders'::regclass AND attnum > 0 AND attnotnull ORDER BY attnum;
SELECT indexrelid::regclass AS index FROM pg_index WHERE indrelid = 'rb.orders'::regclass;
SELECT pg_get_serial_sequence('rb.orders', 'id') AS sequence;
INSERT INTO rb.orders (customer_id, amount) VALUES (2, 40) RETURNING id;
INSERT INTO rb.orders (customer_id, amount) VALUES (99, 5);
INSERT INTO rb.orders (customer_id, amount) VALUES (1, -5);
INSERT INTO rb.orders (id, customer_id, amount) VALUES (1, 1, 1);
-- and customers is referenced again: RESTRICT as before
SELECT pg_temp.sqlstate_of('DROP TABLE rb.customers') AS drop_customers;
-- the entry has left the recycle bin
SELECT count(*) AS orders_in_trash FROM guarded_ddl.trash WHERE original_name = 'orders';

-- The identity column of the role's table continues too.
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash WHERE original_name = 'notes';
SET ROLE gd_rb_owner;
INSERT INTO rb_own.notes (body) VALUES ('three') RETURNING id;
RESET ROLE;

-- The long name comes back whole, with its primary key name.
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash
 WHERE original_name = 'customer_loyalty_programme_membership_history_2024_archive_x';
SELECT count(*) AS rows_back, bool_and(conname = :'long_pkey') AS pkey_name_back
  FROM rb.customer_loyalty_programme_membership_history_2024_archive_x,
       pg_constraint
 WHERE conrelid = 'rb.customer_loyalty_programme_membership_history_2024_archive_x'::regclass
   AND contype = 'p';

-- So do the two long index names.
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash WHERE original_name = 'wide';
SELECT indexrelid::regclass AS index FROM pg_index
 WHERE indrelid = 'rb.wide'::regclass ORDER BY 1::text;

-- The first "dup" goes back under its name; the second finds it taken:
-- an error with a hint, then restore(id, 'new_name') works.  (These tables
-- have no index, so restore() has no OID-bearing notice to give.)
RESET client_min_messages;
SELECT min(id) AS dup1, max(id) AS dup2 FROM guarded_ddl.trash WHERE original_name = 'dup' \gset
SELECT guarded_ddl.restore(:dup1);
DO $$
DECLARE
    msg text;
    hint text;
BEGIN
    PERFORM guarded_ddl.restore(max(id)) FROM guarded_ddl.trash WHERE original_name = 'dup';
    RAISE NOTICE 'restored?!';
EXCEPTION WHEN duplicate_table THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RAISE NOTICE 'ERROR: %', msg;
    RAISE NOTICE 'HINT: %', regexp_replace(hint, '\d+', '<id>');
END;
$$;
SELECT guarded_ddl.restore(:dup2, 'dup_second');
SELECT 'dup' AS t, v FROM rb.dup UNION ALL SELECT 'dup_second', v FROM rb.dup_second ORDER BY 1, 2;

-- Unknown and already restored entries.
SELECT guarded_ddl.restore(-1);
SELECT pg_temp.sqlstate_of(format('SELECT guarded_ddl.restore(%s)', :orders_trash_id)) AS restore_again;

-- A role restores and purges only what it may see (it dropped it or owns
-- the table): another role's entry is "missing" to it, with the same error
-- as an id that does not exist, and purge_trash() leaves it alone.
CREATE ROLE regress_gd_stranger;
BEGIN;
SELECT guarded_ddl.override('rights on guarded_ddl for this test') \gset
GRANT USAGE ON SCHEMA guarded_ddl TO regress_gd_stranger;
GRANT EXECUTE ON FUNCTION guarded_ddl.restore(bigint, text),
                          guarded_ddl.purge_trash(interval) TO regress_gd_stranger;
COMMIT;
SELECT min(id) AS someone_elses FROM guarded_ddl.trash \gset
SET ROLE regress_gd_stranger;
SELECT guarded_ddl.restore(:someone_elses);
SELECT guarded_ddl.purge_trash('0') AS purged_by_stranger;
RESET ROLE;
SELECT count(*) > 0 AS still_in_trash FROM guarded_ddl.trash WHERE id = :someone_elses;
BEGIN;
SELECT guarded_ddl.override('rights on guarded_ddl for this test') \gset
REVOKE ALL ON FUNCTION guarded_ddl.restore(bigint, text),
                       guarded_ddl.purge_trash(interval) FROM regress_gd_stranger;
REVOKE ALL ON SCHEMA guarded_ddl FROM regress_gd_stranger;
COMMIT;
DROP ROLE regress_gd_stranger;

-- purge_trash(): nothing is older than a day; with '0' every entry from an
-- earlier transaction is dropped for real and leaves guarded_ddl.trash.
SELECT original_name FROM guarded_ddl.trash ORDER BY id;
SELECT guarded_ddl.purge_trash('1 day') AS purged_day;
SELECT guarded_ddl.purge_trash('-1 day');
SELECT coalesce(max(id), 0) AS mark2 FROM guarded_ddl.audit \gset
SELECT guarded_ddl.purge_trash('0') AS purged;
SELECT count(*) AS left_in_trash FROM guarded_ddl.trash;
SELECT * FROM pg_temp.trash_schema();
SELECT decision, operation, object_type, schema_name,
       object_name ~ '_gd[0-9]+$' AS trash_name, holds_data, row_estimate,
       reason LIKE 'purged from the recycle bin%' AS purge_reason
  FROM guarded_ddl.audit WHERE id > :mark2 ORDER BY id;
SELECT original_name, restored_as, purged_at IS NOT NULL AS purged
  FROM guarded_ddl.trash_bin ORDER BY id;

-- Retention (reload-time settings, applied at every soft drop): an entry
-- older than guarded_ddl.trash_retention is purged for real, and with a
-- guarded_ddl.trash_max_size smaller than any table every older entry is;
-- the entry the soft drop just made stays.  Each purge is audited as
-- 'purged'.  (The DROPs' NOTICEs name the tables in the bin with an OID.)
SET client_min_messages = warning;
CREATE TABLE rb.ret_old (id int);
INSERT INTO rb.ret_old VALUES (1);
DROP TABLE rb.ret_old;
CREATE TABLE rb.ret_mid (id int);
INSERT INTO rb.ret_mid VALUES (1);
DROP TABLE rb.ret_mid;
RESET client_min_messages;
UPDATE guarded_ddl.trash_bin SET dropped_at = now() - interval '2 days'
 WHERE original_name = 'ret_old' AND purged_at IS NULL;
ALTER SYSTEM SET guarded_ddl.trash_retention = '1d';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT current_setting('guarded_ddl.trash_retention') <> '1d' AS reload_pending \gset
\if :reload_pending
SELECT pg_sleep(3) \gset
\endif
SHOW guarded_ddl.trash_retention;
SELECT coalesce(max(id), 0) AS mark3 FROM guarded_ddl.audit \gset
SET client_min_messages = warning;
CREATE TABLE rb.ret_new (id int);
INSERT INTO rb.ret_new VALUES (1);
DROP TABLE rb.ret_new;
RESET client_min_messages;
SELECT decision, object_type,
       reason LIKE 'purged from the recycle bin by guarded_ddl.trash_retention%' AS by_retention
  FROM guarded_ddl.audit WHERE id > :mark3 ORDER BY id;
SELECT original_name FROM guarded_ddl.trash ORDER BY id;
ALTER SYSTEM SET guarded_ddl.trash_max_size = '1kB';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT current_setting('guarded_ddl.trash_max_size') <> '1kB' AS reload_pending \gset
\if :reload_pending
SELECT pg_sleep(3) \gset
\endif
SET client_min_messages = warning;
CREATE TABLE rb.ret_last (id int);
INSERT INTO rb.ret_last VALUES (1);
DROP TABLE rb.ret_last;
RESET client_min_messages;
SELECT original_name FROM guarded_ddl.trash ORDER BY id;
SELECT count(*) FILTER (WHERE decision = 'purged') AS purged_rows
  FROM guarded_ddl.audit WHERE id > :mark3;
ALTER SYSTEM RESET guarded_ddl.trash_retention;
ALTER SYSTEM RESET guarded_ddl.trash_max_size;
SELECT pg_reload_conf();
SELECT guarded_ddl.purge_trash('0') AS purged_last;

-- Clean up: what is left needs the override; then the extension, the
-- schema CREATE EXTENSION made, and the role.
SET client_min_messages = warning;
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DELETE FROM guarded_ddl.policy;
DROP SCHEMA rb CASCADE;
DROP SCHEMA rb_own CASCADE;
DROP EXTENSION guarded_ddl;
DROP SCHEMA guarded_ddl;
COMMIT;
DROP ROLE gd_rb_owner;
RESET client_min_messages;
