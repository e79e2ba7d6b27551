--
-- truncate: TRUNCATE is guarded by the utility hook (library preloaded;
-- event triggers never see TRUNCATE).  Preloaded pass only.
--
-- Proves that
--   * TRUNCATE of a table with rows is refused without a recent backup
--     (ZG002); an empty table passes (and is audited as allowed);
--   * a TRUNCATE naming several tables is refused whole when one holds rows;
--   * TRUNCATE ... CASCADE is judged on every table it reaches: an empty
--     table whose referencing table holds rows is refused, and the
--     referencing table is in guarded_ddl.denials with cascaded = true --
--     also when the foreign key references a partition of the named
--     partitioned table or a child of the named inheritance parent;
--   * TRUNCATE ONLY of an inheritance parent whose rows are all in a child
--     passes; without ONLY it is refused;
--   * a partitioned table with rows in one partition is refused, and so is
--     that partition; an empty partition passes;
--   * RESTART IDENTITY changes nothing about the decision;
--   * TRUNCATE inside a function and inside a DO block is refused as well;
--   * a role without the TRUNCATE privilege gets PostgreSQL's own error and
--     learns nothing (no denial recorded); a role with it is refused like
--     anyone else, and the denial names it;
--   * temporary tables, and a table whose rows this transaction deleted,
--     pass;
--   * the drizzle form `truncate table "t" cascade;` is caught;
--   * TRUNCATE of guarded_ddl's own tables is refused (ZG003), with or
--     without a backup;
--   * with a recent backup the TRUNCATE is allowed and audited (operation
--     'truncate', command_tag 'TRUNCATE TABLE', naming the backup);
--   * guarded_ddl.status() reports the utility hook active.
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

-- The tables: full, empty, referenced/referencing, inheritance, partitions.
CREATE SCHEMA tr;
CREATE TABLE tr.full_t (id serial PRIMARY KEY, v text);
INSERT INTO tr.full_t (v) VALUES ('a'), ('b'), ('c');
CREATE TABLE tr.empty_t (id int);
-- an empty table referenced by a table with rows (whose keys are NULL)
CREATE TABLE tr.parent (id int PRIMARY KEY);
CREATE TABLE tr.child (id int, parent_id int REFERENCES tr.parent);
INSERT INTO tr.child VALUES (1, NULL), (2, NULL);
-- an inheritance parent whose rows all live in its child
CREATE TABLE tr.inh_parent (id int);
CREATE TABLE tr.inh_child () INHERITS (tr.inh_parent);
INSERT INTO tr.inh_child VALUES (1), (2);
-- a partitioned table with rows in one partition only
CREATE TABLE tr.part (id int) PARTITION BY RANGE (id);
CREATE TABLE tr.part_1 PARTITION OF tr.part FOR VALUES FROM (0) TO (100);
CREATE TABLE tr.part_2 PARTITION OF tr.part FOR VALUES FROM (100) TO (200);
INSERT INTO tr.part VALUES (1), (2), (3);
-- an identity column, for RESTART IDENTITY
CREATE TABLE tr.ident (id int GENERATED ALWAYS AS IDENTITY, v text);
INSERT INTO tr.ident (v) VALUES ('x'), ('y');
-- the table drizzle-kit names "t"
CREATE TABLE tr.t (id int);
INSERT INTO tr.t VALUES (1);
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset

-- The hook is active in this (preloaded) session.
SELECT item, ok FROM guarded_ddl.status() WHERE item = 'utility hook';

-- A table with rows is refused: backup required.
TRUNCATE tr.full_t;
SELECT pg_temp.sqlstate_of('TRUNCATE tr.full_t') AS sqlstate;
SELECT count(*) AS full_rows FROM tr.full_t;

-- An empty table passes, and the decision is audited in the transaction.
TRUNCATE tr.empty_t;
SELECT decision, operation, object_identity, holds_data, row_estimate, command_tag
  FROM guarded_ddl.audit WHERE id > :mark AND decision <> 'denied';

-- Several tables: refused as a whole when one of them holds rows.
TRUNCATE tr.empty_t, tr.full_t;
SELECT pg_temp.sqlstate_of('TRUNCATE TABLE tr.empty_t, tr.full_t') AS sqlstate;

-- The empty parent alone: guarded_ddl lets it through, PostgreSQL refuses
-- it because of the foreign key.
TRUNCATE tr.parent;
-- With CASCADE the referencing table with rows is reached and refused, and
-- it is the cascaded intent in guarded_ddl.denials.
TRUNCATE tr.parent CASCADE;
SELECT count(*) AS child_rows FROM tr.child;
SELECT decision, operation, object_identity, cascaded, holds_data, row_estimate, command_tag
  FROM guarded_ddl.denials WHERE id > :mark AND object_identity = 'tr.child';

-- ONLY on the inheritance parent: its own storage is empty, the child keeps
-- its rows -- it passes.  Without ONLY the child is emptied too: refused.
TRUNCATE ONLY tr.inh_parent;
SELECT count(*) AS inh_rows FROM tr.inh_parent;
TRUNCATE tr.inh_parent;
SELECT pg_temp.sqlstate_of('TRUNCATE tr.inh_parent') AS without_only;

-- Partitioned table with rows in one partition: refused; so is that
-- partition; the empty partition passes.
SELECT pg_temp.sqlstate_of('TRUNCATE tr.part') AS part,
       pg_temp.sqlstate_of('TRUNCATE tr.part_1') AS part_1,
       pg_temp.sqlstate_of('TRUNCATE tr.part_2') AS part_2;
SELECT count(*) AS part_rows FROM tr.part;

-- RESTART IDENTITY: refused the same, and the identity is not reset.
TRUNCATE tr.ident RESTART IDENTITY;
INSERT INTO tr.ident (v) VALUES ('z') RETURNING id;

-- Inside a function and inside a DO block: refused all the same.
CREATE FUNCTION tr.wipe() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE tr.full_t;
END;
$$;
SELECT pg_temp.sqlstate_of('SELECT tr.wipe()') AS in_function;
DO $$
BEGIN
    TRUNCATE tr.full_t;
EXCEPTION WHEN SQLSTATE 'ZG002' THEN
    RAISE NOTICE 'TRUNCATE in a DO block refused with ZG002';
END;
$$;
DO $$ BEGIN EXECUTE 'TRUNCATE TABLE tr.full_t'; END; $$;
SELECT count(*) AS full_rows FROM tr.full_t;

-- Rights first: a role that may not truncate gets PostgreSQL's own error
-- and no denial is recorded (it learns nothing about the rows); a role
-- with the TRUNCATE privilege is refused like anyone else.
CREATE ROLE gd_tr_reader;
CREATE ROLE gd_tr_truncator;
GRANT USAGE ON SCHEMA tr TO gd_tr_reader, gd_tr_truncator;
GRANT SELECT ON tr.full_t TO gd_tr_reader;
GRANT TRUNCATE ON tr.full_t TO gd_tr_truncator;
SELECT count(*) AS denials_before FROM guarded_ddl.denials WHERE id > :mark \gset
SET ROLE gd_tr_reader;
TRUNCATE tr.full_t;
RESET ROLE;
SELECT count(*) - :denials_before AS new_denials FROM guarded_ddl.denials WHERE id > :mark;
SET ROLE gd_tr_truncator;
SELECT pg_temp.sqlstate_of('TRUNCATE tr.full_t') AS truncator;
RESET ROLE;
SELECT object_identity, role_name FROM guarded_ddl.denials
 WHERE id > :mark AND role_name = 'gd_tr_truncator';

-- Temporary tables hold nothing that outlives the session: they pass.
CREATE TEMP TABLE tr_scratch (id int);
INSERT INTO tr_scratch VALUES (1), (2);
TRUNCATE tr_scratch;
-- A table whose rows this transaction deleted still holds them until it
-- commits: DELETE before TRUNCATE (or DROP) in one transaction is judged
-- like the TRUNCATE alone.
BEGIN;
DELETE FROM tr.full_t;
TRUNCATE tr.full_t;
ROLLBACK;
SELECT count(*) AS full_rows FROM tr.full_t;

-- The drizzle-kit form.
SET search_path = tr, public;
truncate table "t" cascade;
RESET search_path;
SELECT count(*) AS t_rows FROM tr.t;

-- TRUNCATE ... CASCADE reaching a table whose foreign key references a
-- partition (or an inheritance child) of the named table.  A rule allows
-- emptying the named tables; the referencing table has rows and no rule,
-- so without a backup it must be refused like any other cascaded table.
CREATE TABLE tr.pk_part (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE tr.pk_part_1 PARTITION OF tr.pk_part FOR VALUES FROM (0) TO (100);
INSERT INTO tr.pk_part VALUES (1);
CREATE TABLE tr.ref_part (pk_id int REFERENCES tr.pk_part_1 (id));
INSERT INTO tr.ref_part VALUES (1);
CREATE TABLE tr.pk_inh (id int PRIMARY KEY);
CREATE TABLE tr.pk_inh_child (id int PRIMARY KEY) INHERITS (tr.pk_inh);
INSERT INTO tr.pk_inh_child VALUES (1);
CREATE TABLE tr.ref_inh (pk_id int REFERENCES tr.pk_inh_child (id));
INSERT INTO tr.ref_inh VALUES (1);
INSERT INTO guarded_ddl.policy (operation, schema_name, object_name, action, note)
VALUES ('truncate', 'tr', 'pk_*', 'allow', 'truncate test: the pk_* tables may be emptied');
BEGIN;
SELECT pg_temp.sqlstate_of('TRUNCATE tr.pk_part CASCADE') AS via_partition,
       pg_temp.sqlstate_of('TRUNCATE tr.pk_inh CASCADE') AS via_inheritance_child;
SELECT (SELECT count(*) FROM tr.ref_part) AS ref_part_rows,
       (SELECT count(*) FROM tr.ref_inh) AS ref_inh_rows;
ROLLBACK;
SELECT object_identity, cascaded
  FROM guarded_ddl.denials
 WHERE id > :mark AND object_identity IN ('tr.ref_part', 'tr.ref_inh')
 ORDER BY id;

-- guarded_ddl's own tables: refused (ZG003).
SELECT pg_temp.sqlstate_of('TRUNCATE guarded_ddl.audit') AS audit,
       pg_temp.sqlstate_of('TRUNCATE guarded_ddl.policy') AS policy,
       pg_temp.sqlstate_of('TRUNCATE guarded_ddl.backups') AS backups;
SELECT count(*) > 0 AS audit_kept FROM guarded_ddl.audit;

-- With a recent backup the same TRUNCATE is allowed and audited.
SELECT guarded_ddl.record_backup('pg_dump', 'truncate test') AS backup_id \gset
SELECT coalesce(max(id), 0) AS mark2 FROM guarded_ddl.audit \gset
TRUNCATE tr.full_t, tr.ident RESTART IDENTITY;
SELECT decision, operation, object_type, object_identity, cascaded, holds_data,
       row_estimate, command_tag, statement, backup_id = :backup_id AS names_backup
  FROM guarded_ddl.audit WHERE id > :mark2 ORDER BY id;
SELECT (SELECT count(*) FROM tr.full_t) AS full_rows,
       (SELECT count(*) FROM tr.ident) AS ident_rows;
INSERT INTO tr.ident (v) VALUES ('restarted') RETURNING id;
-- and with CASCADE, the cascaded table is audited as such
SELECT coalesce(max(id), 0) AS mark2 FROM guarded_ddl.audit \gset
TRUNCATE tr.parent CASCADE;
SELECT decision, object_identity, cascaded, holds_data, row_estimate
  FROM guarded_ddl.audit WHERE id > :mark2 ORDER BY id;

-- A backup does not make guarded_ddl's own tables fair game.
SELECT pg_temp.sqlstate_of('TRUNCATE guarded_ddl.audit') AS audit_with_backup;

-- Every refusal of this file is in guarded_ddl.denials.
SELECT object_identity, cascaded, count(*) AS denials
  FROM guarded_ddl.denials
 WHERE id > :mark AND operation = 'truncate'
 GROUP BY object_identity, cascaded
 ORDER BY object_identity, cascaded;

-- Clean up: the tables with rows need the override; then the extension and
-- the schema CREATE EXTENSION made.
SET client_min_messages = warning;
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA tr CASCADE;
DROP EXTENSION guarded_ddl;
DROP SCHEMA guarded_ddl;
COMMIT;
DROP ROLE gd_tr_reader;
DROP ROLE gd_tr_truncator;
RESET client_min_messages;
