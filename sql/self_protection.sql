--
-- self_protection: guarded_ddl refuses to be dropped, altered or blinded
-- (SQLSTATE ZG003) unless overridden in the same transaction.
--
-- Proves that
--   * DROP EXTENSION guarded_ddl is refused; with an override it goes
--     (tried inside BEGIN ... ROLLBACK, so the extension stays);
--   * ALTER TABLE of guarded_ddl.policy, .audit and .backups (ADD COLUMN,
--     DISABLE TRIGGER, RENAME, RENAME COLUMN, SET SCHEMA), DROP TRIGGER on
--     them, DROP TABLE guarded_ddl.audit and DROP SCHEMA guarded_ddl
--     CASCADE are refused with ZG003;
--   * each of them is let through by an override (tried and undone inside
--     BEGIN ... ROLLBACK); PostgreSQL itself still refuses to drop an
--     extension member on its own (2BP01);
--   * ALTER EXTENSION guarded_ddl UPDATE to the installed version is not
--     refused ("version 1.1 is already installed");
--   * every refusal is in guarded_ddl.denials, naming the statement and
--     the object it would have changed;
--   * UPDATE guarded_ddl.audit is refused by its append-only trigger, with
--     or without an override;
--   * the quieter ways to blind it are refused too (ZG003) and let through
--     by an override: a rule or a trigger on guarded_ddl.audit that swallows
--     its rows, replacing the guarded_ddl.denials view, renaming the
--     recycle bin's schema guarded_ddl_trash;
--   * GRANT and REVOKE on its tables, columns, sequences, functions and
--     schema (also ALL TABLES IN SCHEMA) are refused (ZG003) and let
--     through by an override; role memberships and other objects pass.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- SQLSTATE a statement ends with ('ok' when it succeeds); whatever it did
-- is undone either way, so one attempt cannot disarm the next.
CREATE FUNCTION pg_temp.attempt(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RAISE EXCEPTION 'undo' USING ERRCODE = 'GDUND';
EXCEPTION
    WHEN SQLSTATE 'GDUND' THEN
        RETURN 'ok';
    WHEN OTHERS THEN
        RETURN SQLSTATE;
END;
$$;

-- The statements that would disable or destroy guarded_ddl.
CREATE TEMP TABLE attacks (n int PRIMARY KEY, stmt text NOT NULL);
INSERT INTO attacks VALUES
    (1, 'ALTER TABLE guarded_ddl.policy ADD COLUMN sneaky int'),
    (2, 'ALTER TABLE guarded_ddl.policy DISABLE TRIGGER policy_changed'),
    (3, 'ALTER TABLE guarded_ddl.policy RENAME TO policy_old'),
    (4, 'ALTER TABLE guarded_ddl.policy SET SCHEMA public'),
    (5, 'ALTER TABLE guarded_ddl.audit ADD COLUMN sneaky int'),
    (6, 'ALTER TABLE guarded_ddl.audit DISABLE TRIGGER audit_append_only'),
    (7, 'ALTER TABLE guarded_ddl.audit DISABLE TRIGGER ALL'),
    (8, 'ALTER TABLE guarded_ddl.audit RENAME TO audit_old'),
    (9, 'ALTER TABLE guarded_ddl.backups ADD COLUMN sneaky int'),
    (10, 'ALTER TABLE guarded_ddl.backups RENAME COLUMN finished_at TO done_at'),
    (11, 'DROP TRIGGER policy_changed ON guarded_ddl.policy'),
    (12, 'DROP TRIGGER audit_append_only ON guarded_ddl.audit'),
    (13, 'DROP TABLE guarded_ddl.audit'),
    (14, 'DROP SCHEMA guarded_ddl CASCADE'),
    (15, 'DROP EXTENSION guarded_ddl');

-- Quieter ways to blind it: a rule or trigger that swallows audit rows, a
-- denials view that shows nothing, a recycle bin schema soft_drop and
-- restore() can no longer find.
CREATE FUNCTION pg_temp.swallow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NULL;
END;
$$;
CREATE TEMP TABLE blinders (n int PRIMARY KEY, stmt text NOT NULL);
INSERT INTO blinders VALUES
    (1, 'CREATE RULE swallow AS ON INSERT TO guarded_ddl.audit DO INSTEAD NOTHING'),
    (2, 'CREATE TRIGGER swallow BEFORE INSERT ON guarded_ddl.audit FOR EACH ROW EXECUTE FUNCTION pg_temp.swallow()'),
    (3, 'CREATE OR REPLACE VIEW guarded_ddl.denials AS SELECT * FROM guarded_ddl.audit WHERE false'),
    (4, 'ALTER SCHEMA guarded_ddl_trash RENAME TO guarded_ddl_trash_old');

-- DROP EXTENSION guarded_ddl is refused: the audit it would take with it is
-- data.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
DROP EXTENSION guarded_ddl;
SELECT extname FROM pg_extension WHERE extname = 'guarded_ddl';

-- With an override it goes (inside BEGIN ... ROLLBACK, so it stays).
BEGIN;
SELECT guarded_ddl.override('self_protection test: drop the extension');
DROP EXTENSION guarded_ddl;
SELECT count(*) AS extensions_left FROM pg_extension WHERE extname = 'guarded_ddl';
ROLLBACK;
SELECT extname FROM pg_extension WHERE extname = 'guarded_ddl';

-- Two of the refusals in full: what the user sees.
ALTER TABLE guarded_ddl.audit DISABLE TRIGGER audit_append_only;
ALTER TABLE guarded_ddl.policy RENAME TO policy_old;

-- Every change of guarded_ddl's own tables, their triggers and its schema is
-- refused with ZG003.  (Inside BEGIN ... ROLLBACK: should one get through,
-- the rest of the file still runs against an intact extension.)
BEGIN;
SELECT n, stmt, pg_temp.attempt(stmt) AS sqlstate FROM attacks ORDER BY n;
ROLLBACK;

-- The quieter ways are refused as well.
BEGIN;
SELECT n, stmt, pg_temp.attempt(stmt) AS sqlstate FROM blinders ORDER BY n;
ROLLBACK;

-- Nothing changed.
SELECT count(*) AS policy_columns FROM pg_attribute
 WHERE attrelid = 'guarded_ddl.policy'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT tgrelid::regclass AS on_table, tgname, tgenabled FROM pg_trigger
 WHERE tgrelid IN ('guarded_ddl.policy'::regclass, 'guarded_ddl.audit'::regclass)
   AND NOT tgisinternal
 ORDER BY tgname;
SELECT extname, extnamespace::regnamespace AS schema FROM pg_extension
 WHERE extname = 'guarded_ddl';

-- With an override each of them gets past guarded_ddl (and is undone).
-- PostgreSQL itself still refuses to drop one member of an extension on its
-- own (DROP TABLE guarded_ddl.audit: 2BP01).
BEGIN;
SELECT guarded_ddl.override('self_protection test: maintenance');
SELECT n, stmt, pg_temp.attempt(stmt) AS sqlstate FROM attacks ORDER BY n;
SELECT n, stmt, pg_temp.attempt(stmt) AS sqlstate FROM blinders ORDER BY n;
ROLLBACK;

-- ALTER EXTENSION ... UPDATE is not refused: to the installed version it
-- only says so.
ALTER EXTENSION guarded_ddl UPDATE;
ALTER EXTENSION guarded_ddl UPDATE TO '1.1';

-- Every refusal above is in guarded_ddl.denials, durably, although each
-- refused statement was rolled back: what it was and what it would have
-- changed.
SELECT command_tag, operation, object_type, object_identity, count(*) AS times
  FROM guarded_ddl.denials
 WHERE id > :mark AND command_tag IN ('DROP EXTENSION', 'ALTER TABLE', 'DROP TRIGGER',
                                      'DROP TABLE', 'DROP SCHEMA')
 GROUP BY command_tag, operation, object_type, object_identity
 ORDER BY min(id);
SELECT command_tag, count(*) AS times
  FROM guarded_ddl.denials
 WHERE id > :mark AND command_tag IN ('CREATE RULE', 'CREATE TRIGGER', 'CREATE VIEW',
                                      'ALTER SCHEMA')
 GROUP BY command_tag
 ORDER BY command_tag;
SELECT count(*) AS denials, count(*) FILTER (WHERE decision = 'denied') AS all_denied,
       count(*) FILTER (WHERE reason LIKE '% belongs to guarded_ddl itself') AS self_reason
  FROM guarded_ddl.denials
 WHERE id > :mark;

-- The audit is append-only: UPDATE is refused for everyone, even inside an
-- override (which is about DDL only).
UPDATE guarded_ddl.audit SET reason = 'forged' WHERE id > :mark;
BEGIN;
SELECT guarded_ddl.override('self_protection test: try to forge');
SELECT pg_temp.attempt('UPDATE guarded_ddl.audit SET reason = ''forged''') AS sqlstate;
ROLLBACK;
SELECT count(*) AS forged FROM guarded_ddl.audit WHERE reason = 'forged';

-- Rights on guarded_ddl's objects are what let a role rewrite the policy,
-- forge backups or call override(): GRANT and REVOKE on its tables,
-- sequences, functions and schema (also ALL ... IN SCHEMA) are refused
-- (ZG003) unless overridden.  Role memberships and other schemas' objects
-- are not guarded_ddl's business.
CREATE ROLE regress_gd_grantee;
CREATE ROLE regress_gd_group;
CREATE TABLE public.not_ours (id int);
SELECT pg_temp.attempt($$GRANT SELECT ON guarded_ddl.audit TO regress_gd_grantee$$) AS grant_table,
       pg_temp.attempt($$GRANT UPDATE (enabled) ON guarded_ddl.policy TO regress_gd_grantee$$) AS grant_column,
       pg_temp.attempt($$GRANT USAGE ON SEQUENCE guarded_ddl.policy_id_seq TO regress_gd_grantee$$) AS grant_sequence,
       pg_temp.attempt($$GRANT EXECUTE ON FUNCTION guarded_ddl.override(text) TO regress_gd_grantee$$) AS grant_function,
       pg_temp.attempt($$GRANT USAGE ON SCHEMA guarded_ddl TO regress_gd_grantee$$) AS grant_schema,
       pg_temp.attempt($$GRANT SELECT ON ALL TABLES IN SCHEMA guarded_ddl TO regress_gd_grantee$$) AS grant_all_in_schema,
       pg_temp.attempt($$REVOKE SELECT ON guarded_ddl.audit FROM regress_gd_grantee$$) AS revoke_table;
SELECT pg_temp.attempt($$GRANT SELECT ON public.not_ours TO regress_gd_grantee$$) AS other_table,
       pg_temp.attempt($$GRANT SELECT ON public.not_ours, guarded_ddl.backups TO regress_gd_grantee$$) AS mixed_list,
       pg_temp.attempt($$GRANT regress_gd_group TO regress_gd_grantee$$) AS role_membership;
SELECT command_tag, object_type, object_identity FROM guarded_ddl.denials
 WHERE command_tag IN ('GRANT', 'REVOKE') ORDER BY id;
BEGIN;
SELECT guarded_ddl.override('self_protection test: a grant on purpose') \gset
GRANT SELECT ON guarded_ddl.audit TO regress_gd_grantee;
COMMIT;
SELECT has_table_privilege('regress_gd_grantee', 'guarded_ddl.audit', 'SELECT') AS granted_with_override;
BEGIN;
SELECT guarded_ddl.override('self_protection test: clean up') \gset
REVOKE ALL ON guarded_ddl.audit FROM regress_gd_grantee;
COMMIT;
DROP TABLE public.not_ours;
DROP ROLE regress_gd_grantee;
DROP ROLE regress_gd_group;

-- Clean up: the extension goes with an override, then the schema CREATE
-- EXTENSION made.
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP EXTENSION guarded_ddl;
DROP SCHEMA guarded_ddl;
COMMIT;
