--
-- schema_bin: DROP SCHEMA ... CASCADE and DROP TABLE ... CASCADE into the
-- recycle bin (library preloaded; preloaded pass only).
--
-- Proves that, with soft_drop rules matching the tables,
--   * DROP SCHEMA shop CASCADE moves every matching table to the bin -- a
--     partitioned table with its partitions as one entry, a sequence that a
--     default uses with its table -- audited soft_dropped, and drops the
--     schema and what depended on the tables, inside and outside the
--     schema (views, a view on a view, a materialized view with its index,
--     a foreign key and a row security policy of another table), exactly
--     as the real statement would; its own triggers, policies, indexes and
--     constraints move with each table; the materialized view, which holds
--     data, is audited soft_dropped with the tables;
--   * restore() creates the schema again (owned as before), moves each
--     table back under its name, and re-creates what depended on it, in
--     order, each owned by its old owner: what needs a table still in the
--     bin waits (NOTICE) and comes with the restore of that table; a
--     trigger whose function was in the dropped schema comes back with its
--     function; the rows, the sequence's position, triggers and policies
--     all work again;
--   * a table whose column uses a type the statement drops is dropped for
--     real under the normal rules (here: refused without a backup), and so
--     is the whole statement when a table outside the schema would lose a
--     column with it;
--   * DROP TABLE ... CASCADE by the table's owner moves the table; when the
--     owner restores it, what it owned comes back, what a role it does not
--     belong to owned is not built by it (NOTICE with the statement);
--   * hostile identifiers (quotes, spaces, unicode, 63-byte names) work;
--   * purge_trash() drops what went together for real (foreign keys between
--     kept tables, partitions, a sequence taken along), leaving nothing.
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

-- What is in the schema guarded_ddl_trash, OIDs masked.
CREATE FUNCTION pg_temp.trash_schema()
RETURNS TABLE (relname text, relkind "char")
    LANGUAGE sql AS $$
    SELECT regexp_replace(c.relname, '_gd[0-9]+$', '_gd<oid>'), c.relkind
      FROM pg_class AS c
     WHERE c.relnamespace = 'guarded_ddl_trash'::regnamespace
     ORDER BY 1;
$$;

CREATE ROLE regress_gd_shop_owner;
CREATE ROLE regress_gd_reporter;
CREATE SCHEMA shop AUTHORIZATION regress_gd_shop_owner;
SET ROLE regress_gd_shop_owner;
CREATE SEQUENCE shop.customer_ids;
CREATE TABLE shop.customers (id int PRIMARY KEY DEFAULT nextval('shop.customer_ids'),
                             name text NOT NULL CHECK (name <> ''));
CREATE TABLE shop.orders (id serial PRIMARY KEY,
                          customer int NOT NULL REFERENCES shop.customers,
                          total numeric);
INSERT INTO shop.customers (name) SELECT 'customer ' || g FROM generate_series(1, 1247) AS g;
INSERT INTO shop.orders (customer, total) SELECT g, g * 1.5 FROM generate_series(1, 1247) AS g;
CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.total := coalesce(NEW.total, 0); RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE INSERT ON shop.orders
    FOR EACH ROW EXECUTE FUNCTION shop.touch();
ALTER TABLE shop.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_all ON shop.orders USING (true);
CREATE VIEW shop.order_view WITH (security_barrier) AS
    SELECT o.id, c.name, o.total
      FROM shop.orders AS o JOIN shop.customers AS c ON c.id = o.customer;
CREATE TABLE shop.events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE shop.events_2025 PARTITION OF shop.events
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE shop.events_2026 PARTITION OF shop.events
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_id ON shop.events (id);
INSERT INTO shop.events VALUES (1, '2025-05-01'), (2, '2026-05-01');
GRANT USAGE ON SCHEMA shop TO regress_gd_reporter;
GRANT SELECT ON shop.customers, shop.orders TO regress_gd_reporter;
REVOKE EXECUTE ON FUNCTION shop.touch() FROM PUBLIC;
RESET ROLE;
-- outside the schema, owned by the superuser running the test
CREATE VIEW public.customer_count AS SELECT count(*) AS n FROM shop.customers;
CREATE VIEW public.customer_count_twice AS SELECT n * 2 AS n2 FROM public.customer_count;
CREATE MATERIALIZED VIEW public.revenue AS
    SELECT customer, sum(total) AS total FROM shop.orders GROUP BY customer;
CREATE UNIQUE INDEX revenue_customer ON public.revenue (customer);
CREATE TABLE public.notes (id int PRIMARY KEY,
                           customer int CONSTRAINT notes_customer REFERENCES shop.customers,
                           note text);
INSERT INTO public.notes VALUES (1, 1, 'a good customer');
ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY notes_known ON public.notes FOR SELECT TO PUBLIC
    USING (EXISTS (SELECT 1 FROM shop.customers AS c WHERE c.id = notes.customer));
-- owned by another role
CREATE VIEW public.big_orders AS SELECT id FROM shop.orders WHERE total > 1000;
ALTER VIEW public.big_orders OWNER TO regress_gd_reporter;
ALTER VIEW public.customer_count OWNER TO regress_gd_reporter;
ALTER VIEW public.customer_count_twice OWNER TO regress_gd_reporter;
GRANT SELECT ON public.customer_count_twice TO regress_gd_shop_owner;
ALTER TABLE public.notes OWNER TO regress_gd_reporter;

INSERT INTO guarded_ddl.policy (schema_name, object_type, operation, action, note)
VALUES ('shop', 'table', 'drop', 'soft_drop', 'keep the shop tables');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
SELECT nextval('shop.customer_ids') AS next_before;

-- DROP SCHEMA: the tables move; the schema and every dependent go.  (The
-- NOTICEs of the moves carry OIDs: not shown.)
SET client_min_messages = warning;
DROP SCHEMA shop CASCADE;
RESET client_min_messages;
SELECT to_regnamespace('shop') AS shop,
       to_regclass('public.customer_count') AS customer_count,
       to_regclass('public.revenue') AS revenue,
       to_regclass('public.big_orders') AS big_orders,
       (SELECT count(*) FROM pg_constraint WHERE conname = 'notes_customer') AS notes_fk,
       (SELECT count(*) FROM pg_policy WHERE polname = 'notes_known') AS notes_policy;
SELECT original_schema, original_name, row_estimate, operation, object_type
  FROM guarded_ddl.trash ORDER BY original_name;
SELECT * FROM pg_temp.trash_schema();
SELECT t.original_name, d.kind, d.schema, d."table", d.name,
       CASE WHEN d.owner = current_user THEN '(me)' ELSE d.owner END AS owner
  FROM guarded_ddl.trash_bin AS t,
       jsonb_to_recordset(t.recreate) AS d (kind text, schema text, "table" text, name text, owner text)
 ORDER BY t.original_name, d.kind, d."table";
SELECT decision, object_type, regexp_replace(object_identity, '_gd[0-9]+', '_gd<oid>') AS object_identity,
       cascaded, reason ~ '^moved to guarded_ddl_trash\.' AS moved
  FROM guarded_ddl.audit WHERE id > :mark ORDER BY decision DESC, object_identity;
-- the public table that lost its foreign key kept its rows
SELECT count(*) AS notes FROM public.notes;

-- restore(): the schema first (owned as before), then each table, with
-- what depended on it -- a trigger's function first; what needs a table
-- still in the bin waits for it.
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash WHERE original_name = 'orders';
SELECT nspowner::regrole AS shop_owner, nspacl AS shop_rights
  FROM pg_namespace WHERE nspname = 'shop';
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash WHERE original_name = 'customers';
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash WHERE original_name = 'events';
SELECT count(*) AS entries_left FROM guarded_ddl.trash;
SELECT * FROM pg_temp.trash_schema();

-- Everything works again.
SELECT (SELECT count(*) FROM shop.customers) AS customers,
       (SELECT count(*) FROM shop.orders) AS orders,
       (SELECT count(*) FROM shop.order_view) AS order_view,
       (SELECT n2 FROM public.customer_count_twice) AS count_twice,
       (SELECT count(*) FROM public.revenue) AS revenue,
       (SELECT count(*) FROM shop.events) AS events;
SELECT nextval('shop.customer_ids') AS next_after;
INSERT INTO shop.orders (customer) VALUES (1) RETURNING id, total;
SELECT c.relname, CASE WHEN c.relowner = current_user::regrole THEN '(me)'
                      ELSE c.relowner::regrole::text END AS owner, c.reloptions,
       c.relacl IS NOT NULL AS has_grants
  FROM pg_class AS c
 WHERE c.oid IN ('shop.order_view'::regclass, 'public.customer_count'::regclass,
                 'public.customer_count_twice'::regclass,
                 'public.revenue'::regclass, 'public.revenue_customer'::regclass)
 ORDER BY 1;
SELECT conname, contype, conrelid::regclass AS on_table FROM pg_constraint
 WHERE conrelid IN ('shop.customers'::regclass, 'shop.orders'::regclass, 'public.notes'::regclass)
   AND contype <> 'n'
 ORDER BY 1;
SELECT polname, polrelid::regclass AS on_table FROM pg_policy ORDER BY 1;
SELECT tgname, tgfoid::regprocedure AS function, p.proowner::regrole AS function_owner,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute
  FROM pg_trigger JOIN pg_proc AS p ON p.oid = tgfoid
 WHERE tgrelid = 'shop.orders'::regclass AND NOT tgisinternal;
SELECT pg_temp.sqlstate_of($$INSERT INTO public.notes VALUES (2, 999999, 'nobody')$$) AS fk_checked;
SELECT inhrelid::regclass AS partition FROM pg_inherits
 WHERE inhparent = 'shop.events'::regclass ORDER BY 1;

-- A table whose column has a type the statement drops cannot be kept: it
-- is dropped for real under the normal rules (refused without a backup).
CREATE SCHEMA typed;
CREATE TYPE typed.mood AS ENUM ('ok', 'sad');
CREATE TABLE typed.moods (id int, mood typed.mood);
INSERT INTO typed.moods VALUES (1, 'ok');
INSERT INTO guarded_ddl.policy (schema_name, object_type, operation, action)
VALUES ('typed', 'table', 'drop', 'soft_drop');
SET client_min_messages = warning;
SELECT pg_temp.sqlstate_of('DROP SCHEMA typed CASCADE') AS typed_schema;
SELECT count(*) AS moods FROM typed.moods;

-- Nor when a table outside the schema would lose a column with it: the
-- whole statement is judged as without the bin.
CREATE TABLE public.holder (id int, kept shop.customers);
SELECT pg_temp.sqlstate_of('DROP SCHEMA shop CASCADE') AS with_holder;
RESET client_min_messages;
SELECT count(*) AS customers, (SELECT count(*) FROM guarded_ddl.trash) AS entries FROM shop.customers;
DROP TABLE public.holder;

-- DROP TABLE ... CASCADE: the table moves, what depended on it goes.  Its
-- owner restores it: what it owned comes back (the foreign key of orders,
-- the view in shop); what another role owned is not built by it (NOTICE
-- with the statement to run).
BEGIN;
SELECT guarded_ddl.override('test set-up: the shop owner may look at the bin');
GRANT USAGE ON SCHEMA guarded_ddl TO regress_gd_shop_owner;
GRANT SELECT ON guarded_ddl.trash TO regress_gd_shop_owner;
GRANT EXECUTE ON FUNCTION guarded_ddl.restore(bigint, text) TO regress_gd_shop_owner;
COMMIT;
SET ROLE regress_gd_shop_owner;
SET client_min_messages = warning;
SELECT pg_temp.sqlstate_of('DROP TABLE shop.customers CASCADE') AS drop_cascade;
RESET client_min_messages;
RESET ROLE;
SELECT to_regclass('shop.customers') AS customers, to_regclass('shop.order_view') AS order_view,
       to_regclass('public.customer_count') AS customer_count,
       (SELECT count(*) FROM pg_constraint
         WHERE conname IN ('orders_customer_fkey', 'notes_customer')) AS foreign_keys;
-- (terse: the hints carry each statement, deparsed as each major does)
SET ROLE regress_gd_shop_owner;
\set VERBOSITY terse
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash WHERE original_name = 'customers';
\set VERBOSITY default
RESET ROLE;
SELECT to_regclass('shop.order_view') AS order_view,
       to_regclass('public.customer_count') AS customer_count,
       (SELECT count(*) FROM pg_constraint WHERE conname = 'orders_customer_fkey') AS orders_fk,
       (SELECT count(*) FROM pg_constraint WHERE conname = 'notes_customer') AS notes_fk;

-- Hostile identifiers.
CREATE SCHEMA "Shop ""Ü"" 2";
CREATE TABLE "Shop ""Ü"" 2"."tä.ble ""x""" (id int PRIMARY KEY);
CREATE TABLE "Shop ""Ü"" 2".t234567890123456789012345678901234567890123456789012345678901ü (
    id int REFERENCES "Shop ""Ü"" 2"."tä.ble ""x""");
INSERT INTO "Shop ""Ü"" 2"."tä.ble ""x""" VALUES (1);
INSERT INTO "Shop ""Ü"" 2".t234567890123456789012345678901234567890123456789012345678901ü VALUES (1);
CREATE VIEW public."vü ""q""" AS SELECT * FROM "Shop ""Ü"" 2"."tä.ble ""x""";
INSERT INTO guarded_ddl.policy (schema_name, object_type, operation, action)
VALUES ('Shop "Ü" 2', 'table', 'drop', 'soft_drop');
SET client_min_messages = warning;
DROP SCHEMA "Shop ""Ü"" 2" CASCADE;
RESET client_min_messages;
SELECT original_schema, original_name FROM guarded_ddl.trash ORDER BY original_name;
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash ORDER BY original_name;
SELECT * FROM public."vü ""q""";
SELECT count(*) FROM "Shop ""Ü"" 2".t234567890123456789012345678901234567890123456789012345678901ü;

-- purge_trash() drops for real what went together: tables that keep a
-- foreign key to each other, a partitioned table with its partitions, the
-- sequence a default took along; nothing is left in the bin.
SET client_min_messages = warning;
DROP SCHEMA shop CASCADE;
RESET client_min_messages;
SELECT count(*) AS entries, sum(row_estimate) AS rows FROM guarded_ddl.trash
 WHERE original_schema = 'shop';
SELECT guarded_ddl.purge_trash('0 seconds') AS purged;
SELECT count(*) AS left_in_bin FROM pg_class
 WHERE relnamespace = 'guarded_ddl_trash'::regnamespace;

-- Every soft drop is audited.
SELECT decision, operation, count(*) FROM guarded_ddl.audit
 WHERE id > :mark AND decision IN ('soft_dropped', 'denied')
 GROUP BY decision, operation ORDER BY decision, operation;

-- Clean up.
SET client_min_messages = warning;
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DELETE FROM guarded_ddl.policy;
DROP SCHEMA IF EXISTS shop CASCADE;
DROP SCHEMA typed CASCADE;
DROP SCHEMA "Shop ""Ü"" 2" CASCADE;
DROP VIEW IF EXISTS public."vü ""q""";
DROP TABLE public.notes;
DROP OWNED BY regress_gd_reporter;
DROP OWNED BY regress_gd_shop_owner;
DROP EXTENSION guarded_ddl;
DROP SCHEMA guarded_ddl;
DROP SCHEMA IF EXISTS guarded_ddl_trash CASCADE;
COMMIT;
DROP ROLE regress_gd_shop_owner;
DROP ROLE regress_gd_reporter;
RESET client_min_messages;
