--
-- cascade: what a statement takes with it that it does not name.
--
-- Proves that
--   * DROP TABLE ... CASCADE is judged by the named table, and the views
--     and foreign keys it takes along are audited as cascaded;
--   * DROP SCHEMA ... CASCADE is refused when any table in it holds rows,
--     the denial marked cascaded; a schema of empty tables may go;
--   * DROP OWNED BY is refused for a role owning a table with rows;
--   * DROP TYPE / DOMAIN / COLLATION ... CASCADE that take a column of a
--     table with rows are refused (the column is the intent);
--   * DROP FUNCTION ... CASCADE is refused only when it takes data (a
--     generated column), not when it only takes a column default;
--   * a table dropped as a side effect that nobody could probe beforehand
--     (a typed table behind DROP TYPE ... CASCADE) counts as holding data;
--   * an object's own parts (its row type, column defaults, a view's
--     "_RETURN" rule, owned sequences) get no audit row of their own;
--   * nothing takes guarded_ddl itself along without an override, not
--     even DROP SCHEMA guarded_ddl CASCADE.
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
               object_identity text, cascaded boolean, holds_data boolean,
               command_tag text)
    LANGUAGE sql AS $$
    SELECT decision, operation, object_type, object_identity, cascaded,
           holds_data, command_tag
      FROM guarded_ddl.audit
     WHERE id > mark
     ORDER BY id
$$;

-- DROP TABLE ... CASCADE of a table with rows: refused before anything,
-- its dependent view survives.
CREATE SCHEMA cas;
CREATE TABLE cas.accounts (id serial PRIMARY KEY, owner text);
INSERT INTO cas.accounts (owner) VALUES ('ann'), ('bob');
CREATE VIEW cas.account_owners AS SELECT owner FROM cas.accounts;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TABLE cas.accounts CASCADE;
SELECT to_regclass('cas.account_owners') IS NOT NULL AS view_still_there;
SELECT * FROM pg_temp.audit_since(:mark);

-- The same of an empty table: allowed.  The view and the foreign key of
-- another table go with it and are audited as cascaded; the table's own
-- parts (row type, serial default and sequence, the view's rule) are not.
CREATE TABLE cas.ledger (id serial PRIMARY KEY);
CREATE VIEW cas.ledger_ids AS SELECT id FROM cas.ledger;
CREATE TABLE cas.entries (ledger_id int CONSTRAINT entries_ledger_fk REFERENCES cas.ledger, amount int);
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TABLE cas.ledger CASCADE;
SELECT * FROM pg_temp.audit_since(:mark);

-- DROP SCHEMA ... CASCADE with a full and an empty table: refused.  The
-- denial is for the table with rows, marked cascaded (the statement named
-- only the schema).
CREATE TABLE cas.empty_one (id int);
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP SCHEMA cas CASCADE;
SELECT operation, object_type, object_identity, cascaded, holds_data, command_tag
  FROM guarded_ddl.denials
 WHERE id > :mark;
SELECT pg_temp.sqlstate_of('DROP SCHEMA cas CASCADE');
SELECT count(*) AS accounts_rows FROM cas.accounts;

-- DROP SCHEMA ... CASCADE of only empty tables, a never-used sequence and a
-- view: allowed; the schema is the named object, the rest cascaded.
CREATE SCHEMA cas_empty;
CREATE TABLE cas_empty.a (id serial);
CREATE TABLE cas_empty.b (id int);
CREATE SEQUENCE cas_empty.s;
CREATE VIEW cas_empty.v AS SELECT id FROM cas_empty.a;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP SCHEMA cas_empty CASCADE;
SELECT * FROM pg_temp.audit_since(:mark);

-- DROP OWNED BY a role that owns a table with rows: refused, the denial
-- marked cascaded (the statement names a role, not the table).
CREATE ROLE regress_gd_cascade_owner;
GRANT USAGE, CREATE ON SCHEMA cas TO regress_gd_cascade_owner;
SET ROLE regress_gd_cascade_owner;
CREATE TABLE cas.owned_full (id int);
INSERT INTO cas.owned_full VALUES (1), (2);
CREATE TABLE cas.owned_empty (id int);
RESET ROLE;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP OWNED BY regress_gd_cascade_owner;
SELECT * FROM pg_temp.audit_since(:mark);
-- Once that table is empty the role's objects may go.
DELETE FROM cas.owned_full;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP OWNED BY regress_gd_cascade_owner;
SELECT * FROM pg_temp.audit_since(:mark);

-- DROP TYPE ... CASCADE takes every column of that type: refused when the
-- column's table has rows.
CREATE TYPE cas.status AS ENUM ('open', 'closed');
CREATE TABLE cas.tickets (id int, status cas.status);
INSERT INTO cas.tickets VALUES (1, 'open'), (2, 'closed');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TYPE cas.status CASCADE;
SELECT * FROM pg_temp.audit_since(:mark);

-- The same for a domain and for a collation.
CREATE DOMAIN cas.positive AS int CHECK (VALUE > 0);
CREATE TABLE cas.stock (id int, quantity cas.positive);
INSERT INTO cas.stock VALUES (1, 5), (2, 7);
CREATE COLLATION cas.bytewise (provider = libc, locale = 'C');
CREATE TABLE cas.labels (id int, label text COLLATE cas.bytewise);
INSERT INTO cas.labels VALUES (1, 'x'), (2, 'y');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP DOMAIN cas.positive CASCADE;
DROP COLLATION cas.bytewise CASCADE;
SELECT * FROM pg_temp.audit_since(:mark);
SELECT pg_temp.sqlstate_of('DROP DOMAIN cas.positive CASCADE') AS drop_domain,
       pg_temp.sqlstate_of('DROP COLLATION cas.bytewise CASCADE') AS drop_collation;

-- DROP FUNCTION ... CASCADE: taking a column default destroys no data and
-- is allowed; taking a generated column is refused.
CREATE FUNCTION cas.one() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
CREATE FUNCTION cas.two() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 2';
CREATE TABLE cas.counters (id int, n int DEFAULT cas.one(),
                           doubled int GENERATED ALWAYS AS (id * cas.two()) STORED);
INSERT INTO cas.counters (id) VALUES (1), (2);
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP FUNCTION cas.one() CASCADE;
DROP FUNCTION cas.two() CASCADE;
SELECT * FROM pg_temp.audit_since(:mark);
SELECT id, n, doubled FROM cas.counters ORDER BY id;

-- A typed table dropped by DROP TYPE ... CASCADE is probed as PostgreSQL
-- deletes it: with a row it is refused, empty it goes (with its type).
CREATE TYPE cas.address AS (street text, city text);
CREATE TABLE cas.addresses OF cas.address;
INSERT INTO cas.addresses VALUES ('1 Main St', 'Springfield');
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TYPE cas.address CASCADE;
SELECT * FROM pg_temp.audit_since(:mark);
SELECT count(*) AS addresses_kept FROM cas.addresses;
DELETE FROM cas.addresses;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP TYPE cas.address CASCADE;
SELECT * FROM pg_temp.audit_since(:mark);

-- guarded_ddl protects itself (ZG003): its tables, the extension, and its
-- schema, which DROP SCHEMA ... CASCADE would take together with the
-- extension, its event triggers and its audit.  (In a transaction that is
-- rolled back, so that nothing is lost should one of them get through.)
BEGIN;
SELECT pg_temp.sqlstate_of('DROP TABLE guarded_ddl.audit') AS drop_audit,
       pg_temp.sqlstate_of('DROP TABLE guarded_ddl.policy CASCADE') AS drop_policy,
       pg_temp.sqlstate_of('DROP EXTENSION guarded_ddl') AS drop_extension,
       pg_temp.sqlstate_of('DROP EXTENSION guarded_ddl CASCADE') AS drop_extension_cascade,
       pg_temp.sqlstate_of('DROP SCHEMA guarded_ddl CASCADE') AS drop_schema_cascade;
ROLLBACK;
SELECT count(*) AS event_triggers FROM pg_event_trigger WHERE evtname LIKE 'guarded\_ddl\_%';

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA cas CASCADE;
DROP EXTENSION guarded_ddl;
-- CREATE EXTENSION made the schema; DROP EXTENSION leaves it behind
DROP SCHEMA guarded_ddl;
COMMIT;
DROP ROLE regress_gd_cascade_owner;
