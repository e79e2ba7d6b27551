-- test/demo.sql -- the incidents of DESIGN.md section 1, met by guarded_ddl.
--
-- Run by test/demo.sh (psql -X -e, so every query is echoed) against a
-- throw-away cluster with shared_preload_libraries = 'guarded_ddl' and
-- wal_level = replica.  Refused statements are the point: keep going.

\set ON_ERROR_STOP 0
\set VERBOSITY default

\echo
\echo '======================================================================'
\echo ' Setting the scene: the production database "shop"'
\echo '======================================================================'
\echo 'A migration role that owns the application schema, as ORMs and'
\echo 'deploy pipelines usually have it.'
\echo

CREATE DATABASE shop;
\c shop

CREATE ROLE app_migrator LOGIN;
CREATE SCHEMA app AUTHORIZATION app_migrator;

\echo
\echo '1,247 customers.  "embedding" was added by hand for a search feature;'
\echo 'the ORM''s schema file never heard of it.'
\echo

CREATE TABLE app.customers (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name      text NOT NULL,
    email     text NOT NULL UNIQUE,
    embedding real[]
);

INSERT INTO app.customers (name, email, embedding)
SELECT 'Customer ' || g,
       'customer' || g || '@example.com',
       ARRAY[random(), random(), random(), random()]::real[]
  FROM generate_series(1, 1247) AS g;

CREATE TABLE app.orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES app.customers (id),
    total       numeric(10, 2) NOT NULL,
    placed_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO app.orders (customer_id, total, placed_at)
SELECT 1 + (g * 7) % 1247,
       round((5 + (g * 13) % 200)::numeric, 2),
       now() - g * interval '1 hour'
  FROM generate_series(1, 3000) AS g;

ALTER TABLE app.customers OWNER TO app_migrator;
ALTER TABLE app.orders OWNER TO app_migrator;

\echo
\echo 'Prisma''s migration history, with its real columns.'
\echo

CREATE TABLE public._prisma_migrations (
    id                  varchar(36) PRIMARY KEY NOT NULL,
    checksum            varchar(64) NOT NULL,
    finished_at         timestamptz,
    migration_name      varchar(255) NOT NULL,
    logs                text,
    rolled_back_at      timestamptz,
    started_at          timestamptz NOT NULL DEFAULT now(),
    applied_steps_count integer NOT NULL DEFAULT 0
);

INSERT INTO public._prisma_migrations
       (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
SELECT gen_random_uuid()::text,
       encode(sha256(convert_to(m.name, 'UTF8')), 'hex'),
       m.applied + interval '2 seconds',
       m.name,
       m.applied,
       1
  FROM (VALUES ('20240105093000_init',                  timestamptz '2024-01-05 09:30:00+00'),
               ('20240212141500_add_orders',            timestamptz '2024-02-12 14:15:00+00'),
               ('20240318101200_customer_email_unique', timestamptz '2024-03-18 10:12:00+00'))
       AS m (name, applied);

ALTER TABLE public._prisma_migrations OWNER TO app_migrator;

SELECT (SELECT count(*) FROM app.customers)          AS customers,
       (SELECT count(*) FROM app.orders)             AS orders,
       (SELECT count(*) FROM public._prisma_migrations) AS migrations;

\echo
\echo 'The DBA installs the guard.  No backup has been recorded yet, and the'
\echo 'default for data-destroying DDL is guarded_ddl.default_action = require_backup.'
\echo

CREATE EXTENSION guarded_ddl;
SHOW guarded_ddl.default_action;

\echo
\echo 'From here on we are the migration tool, as it connects in production.'
\echo

SET ROLE app_migrator;
SET application_name = 'prisma-migrate';

\echo
\echo '======================================================================'
\echo ' Incident 1: "prisma db push --accept-data-loss" in a start script'
\echo '======================================================================'
\echo 'The Prisma model has no "embedding" field, so Prisma drops the column'
\echo 'it never managed, and 1,247 embeddings with it.'
\echo

ALTER TABLE "app"."customers" DROP COLUMN "embedding";

\echo
\echo '======================================================================'
\echo ' Incident 2: a migration written for a local reset reaches production'
\echo '======================================================================'
\echo 'Fine on a laptop, where the next line re-creates the table empty.'
\echo

DROP TABLE IF EXISTS app.customers;

\echo
\echo '======================================================================'
\echo ' Incident 3: "cleaning up" during an outage'
\echo '======================================================================'
\echo 'CASCADE takes every table in the schema, not just the one in mind.'
\echo

DROP SCHEMA app CASCADE;

\echo
\echo '======================================================================'
\echo ' The DBA looks at what happened'
\echo '======================================================================'
\echo 'Every refused attempt is in the audit, although each statement was'
\echo 'rolled back.'
\echo

RESET ROLE;
RESET application_name;

SELECT decision, operation, object_type, object_identity, reason
  FROM guarded_ddl.audit
 ORDER BY id;

SELECT * FROM guarded_ddl.status();

\echo
\echo '======================================================================'
\echo ' The nightly backup job finishes and records a marker'
\echo '======================================================================'
\echo

SELECT guarded_ddl.record_backup('pgbackrest', 'nightly-full');

\echo
\echo 'Before the migration runs again, the DBA makes sure the hand-made column'
\echo 'can come back whatever happens to it: a soft_drop rule keeps its values'
\echo 'in the recycle bin if anything drops it.'
\echo

INSERT INTO guarded_ddl.policy (schema_name, object_name, column_name, operation, action, note)
VALUES ('app', 'customers', 'embedding', 'drop', 'soft_drop',
        'hand-made search vectors: keep them if the ORM drops the column');

SELECT md5(string_agg(embedding::text, ',' ORDER BY id)) AS embeddings_before
  FROM app.customers \gset

\echo
\echo 'The migration runs again.  "db push" drops the column as before -- the'
\echo 'statement runs exactly as written, but the values go to the recycle bin'
\echo 'first.  It also drops orders.placed_at, which no rule keeps: with a backup'
\echo 'younger than guarded_ddl.backup_max_age that is allowed, and recorded with'
\echo 'what it takes to get the data back.'
\echo

SET ROLE app_migrator;
SET application_name = 'prisma-migrate';

ALTER TABLE "app"."customers" DROP COLUMN "embedding";
ALTER TABLE "app"."orders" DROP COLUMN "placed_at";

RESET ROLE;
RESET application_name;

\echo
\echo 'The audit now holds the soft-dropped column and the allowed drop: its'
\echo 'transaction, the WAL position before it ran, the backup that made it'
\echo 'acceptable and the restore point taken just before it.'
\echo

\x on
SELECT id, decision, operation, object_identity, role_name, application_name,
       txid, wal_lsn, backup_id, backup_age, restore_point, reason
  FROM guarded_ddl.audit
 WHERE decision <> 'denied'
 ORDER BY id;

\echo
\echo 'For the allowed drop, what to put into a restored cluster''s configuration'
\echo 'to get orders.placed_at back:'
\echo

SELECT * FROM guarded_ddl.recovery;
\x off

\echo
\echo '======================================================================'
\echo ' The search feature breaks; the column comes back from the bin'
\echo '======================================================================'
\echo 'No restore of the whole cluster: the embeddings are in the recycle bin,'
\echo 'with the key of the row each belongs to.'
\echo

SELECT id, original_schema, original_name, column_name, object_type, operation,
       row_estimate, pg_size_pretty(size_bytes) AS size
  FROM guarded_ddl.trash;

SELECT guarded_ddl.restore(id) AS restored_into
  FROM guarded_ddl.trash WHERE column_name = 'embedding';

\echo
\echo 'Every embedding is back on its customer, still 1,247 customers:'
\echo

SELECT count(*) AS customers, count(embedding) AS with_embedding,
       md5(string_agg(embedding::text, ',' ORDER BY id)) = :'embeddings_before' AS same_values
  FROM app.customers;

SELECT column_name, data_type
  FROM information_schema.columns
 WHERE table_schema = 'app' AND table_name = 'customers'
 ORDER BY ordinal_position;
