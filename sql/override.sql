--
-- override: guarded_ddl.override(reason), the break-glass of DESIGN §3.3.
--
-- Proves that
--   * a role without EXECUTE on override() gets "permission denied"
--     (nothing is granted to PUBLIC);
--   * a reason is required: NULL, empty, blank ('   ', tabs, newlines) and
--     reasons over 1000 bytes (counted in bytes, not characters) are
--     refused; exactly 1000 bytes are accepted;
--   * outside a transaction block it warns and has no effect: the next
--     DROP is refused all the same;
--   * inside BEGIN it lets refused intents (backup required, deny rule)
--     through as 'overridden', with the reason in audit.reason, for the
--     rest of the transaction only: it is gone after COMMIT and after
--     ROLLBACK;
--   * savepoints: an override called inside a savepoint that is rolled
--     back is undone (the next DROP is refused again); one called before a
--     savepoint survives the rollback of that inner savepoint, and one
--     called inside a released savepoint stays; in plpgsql, one called in
--     an exception block that is rolled back is undone;
--   * a plpgsql function may call override() and then DROP; the override
--     persists after the function returns, for the rest of the
--     transaction (also through a SECURITY DEFINER wrapper with SET);
--   * a role granted EXECUTE on override() can use it, and the audit
--     names that role.
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

-- Tables with rows; no backup is recorded, so dropping them needs a backup
-- (guarded_ddl.default_action = require_backup) or an override.
CREATE SCHEMA ov;
CREATE TABLE ov.keep (id int PRIMARY KEY);
INSERT INTO ov.keep SELECT generate_series(1, 3);
CREATE TABLE ov.retired_a (id int);
INSERT INTO ov.retired_a VALUES (1), (2);
CREATE TABLE ov.retired_b (id int);
INSERT INTO ov.retired_b VALUES (1);
CREATE TABLE ov.ruled (id int);
INSERT INTO ov.ruled VALUES (1);
-- and one a deny rule protects (ZG001 without an override)
INSERT INTO guarded_ddl.policy (operation, schema_name, object_name, action, note)
VALUES ('drop', 'ov', 'ruled', 'deny', 'override test: never drop ov.ruled');

-- Two roles: one may use the schema but not override(), one may override.
CREATE ROLE gd_ov_plain;
CREATE ROLE gd_ov_breakglass;
BEGIN;
SELECT guarded_ddl.override('rights on guarded_ddl for this test') \gset
GRANT USAGE ON SCHEMA guarded_ddl TO gd_ov_plain, gd_ov_breakglass;
GRANT EXECUTE ON FUNCTION guarded_ddl.override(text) TO gd_ov_breakglass;
COMMIT;
CREATE SCHEMA ov_bg AUTHORIZATION gd_ov_breakglass;

-- Nothing is granted to PUBLIC: without EXECUTE the call is refused.
SELECT has_function_privilege('gd_ov_plain', 'guarded_ddl.override(text)', 'EXECUTE') AS plain_may,
       has_function_privilege('gd_ov_breakglass', 'guarded_ddl.override(text)', 'EXECUTE') AS breakglass_may;
SET ROLE gd_ov_plain;
BEGIN;
SELECT guarded_ddl.override('let me through');
ROLLBACK;
RESET ROLE;

-- A reason is required: NULL, empty and blank reasons are refused.
SELECT guarded_ddl.override(NULL);
SELECT guarded_ddl.override('');
SELECT guarded_ddl.override('   ');
SELECT guarded_ddl.override(E' \t\n ');
SELECT label, pg_temp.sqlstate_of(format('SELECT guarded_ddl.override(%L)', r)) AS sqlstate
  FROM (VALUES ('empty', ''), ('three spaces', '   '), ('tab and newline', E'\t\n')) AS v(label, r);
SELECT pg_temp.sqlstate_of('SELECT guarded_ddl.override(NULL)') AS null_reason;

-- More than 1000 bytes are refused, not cut; the limit counts bytes (501
-- two-byte characters are 1002 bytes).
SELECT guarded_ddl.override(repeat('x', 1001));
SELECT guarded_ddl.override(repeat('é', 501));

-- Exactly 1000 bytes are accepted, and the whole reason reaches the audit.
BEGIN;
SELECT guarded_ddl.override(repeat('x', 1000));
DROP TABLE ov.keep;
SELECT decision, length(reason) AS reason_bytes
  FROM guarded_ddl.audit
 WHERE object_identity = 'ov.keep' AND decision <> 'denied';
ROLLBACK;

-- Outside a transaction block it warns: it lasts only until the end of its
-- own statement, so the DROP that
-- follows is refused (backup required).
SELECT guarded_ddl.override('autocommit: has no effect');
DROP TABLE ov.keep;
SELECT pg_temp.sqlstate_of('DROP TABLE ov.keep') AS sqlstate;

-- Inside BEGIN the refused intents go through as 'overridden', for every
-- statement of the rest of the transaction, with the reason in the audit.
BEGIN;
SELECT guarded_ddl.override('OPS-101: retire ov.retired_a and ov.retired_b');
DROP TABLE ov.retired_a;
DROP TABLE ov.retired_b;
COMMIT;
SELECT to_regclass('ov.retired_a') IS NULL AS a_gone,
       to_regclass('ov.retired_b') IS NULL AS b_gone;
SELECT decision, operation, object_type, object_identity, holds_data,
       row_estimate, command_tag, reason
  FROM guarded_ddl.audit
 WHERE schema_name = 'ov' AND decision <> 'denied'
 ORDER BY id;

-- The override is gone after COMMIT: the next transaction is refused.
SELECT pg_temp.sqlstate_of('DROP TABLE ov.keep') AS after_commit;

-- ... and after ROLLBACK.
BEGIN;
SELECT guarded_ddl.override('rolled back');
ROLLBACK;
SELECT pg_temp.sqlstate_of('DROP TABLE ov.keep') AS after_rollback;

-- It also lets a deny rule's refusal (ZG001) through, audited as
-- overridden with the deciding rule.
SELECT pg_temp.sqlstate_of('DROP TABLE ov.ruled') AS without_override;
BEGIN;
SELECT guarded_ddl.override('OPS-102: the deny rule is wrong here');
DROP TABLE ov.ruled;
SELECT decision, object_identity, policy_id IS NOT NULL AS has_rule, reason
  FROM guarded_ddl.audit
 WHERE object_identity = 'ov.ruled' AND decision <> 'denied';
ROLLBACK;
SELECT to_regclass('ov.ruled') IS NOT NULL AS ruled_still_there;

-- Savepoints: an override called inside a savepoint that is rolled back
-- is undone, so the next DROP is refused again.
BEGIN;
SAVEPOINT before_override;
SELECT guarded_ddl.override('undone by ROLLBACK TO SAVEPOINT');
ROLLBACK TO SAVEPOINT before_override;
SELECT pg_temp.sqlstate_of('DROP TABLE ov.keep') AS after_rollback_to_savepoint;
DROP TABLE ov.keep;
ROLLBACK;

-- An override called before a savepoint survives the rollback of that
-- inner savepoint.
BEGIN;
SELECT guarded_ddl.override('OPS-103: survives an inner rollback');
SAVEPOINT inner_work;
SELECT 1 / 0;
ROLLBACK TO SAVEPOINT inner_work;
DROP TABLE ov.keep;
SELECT decision, reason FROM guarded_ddl.audit
 WHERE object_identity = 'ov.keep' AND decision <> 'denied';
ROLLBACK;

-- The same inside plpgsql: an override called in an exception block that
-- is rolled back is undone.
CREATE FUNCTION ov.override_then_fail() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM guarded_ddl.override('undone with the exception block');
        RAISE EXCEPTION 'something else went wrong';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    RETURN pg_temp.sqlstate_of('DROP TABLE ov.keep');
END;
$$;
BEGIN;
SELECT ov.override_then_fail() AS drop_after_failed_block;
ROLLBACK;

-- One called inside a savepoint that is released stays for the rest of
-- the transaction.
BEGIN;
SAVEPOINT s;
SELECT guarded_ddl.override('OPS-104: released savepoint');
RELEASE SAVEPOINT s;
DROP TABLE ov.keep;
SELECT decision, reason FROM guarded_ddl.audit
 WHERE object_identity = 'ov.keep' AND decision <> 'denied';
ROLLBACK;
SELECT count(*) AS keep_rows FROM ov.keep;

-- Inside a plpgsql function: override() then DROP works, and the override
-- persists after the function returns, for the rest of the transaction.
CREATE FUNCTION ov.drop_with_override(why text, victim regclass) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM guarded_ddl.override(why);
    EXECUTE format('DROP TABLE %s', victim);
END;
$$;
CREATE TABLE ov.other (id int);
INSERT INTO ov.other VALUES (1);
BEGIN;
SELECT ov.drop_with_override('OPS-105: from a function', 'ov.keep');
DROP TABLE ov.other;
SELECT decision, object_identity, reason FROM guarded_ddl.audit
 WHERE schema_name = 'ov' AND object_name IN ('keep', 'other') AND decision <> 'denied'
 ORDER BY id;
ROLLBACK;

-- The same through a SECURITY DEFINER wrapper with its own SET clause (the
-- usual way to hand the break-glass to a team): it still lasts for the
-- rest of the caller's transaction.
CREATE FUNCTION ov.break_glass(why text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM guarded_ddl.override(why);
END;
$$;
BEGIN;
SELECT ov.break_glass('OPS-106: through a wrapper');
DROP TABLE ov.keep;
SELECT decision, reason FROM guarded_ddl.audit
 WHERE object_identity = 'ov.keep' AND decision <> 'denied';
ROLLBACK;
SELECT pg_temp.sqlstate_of('DROP TABLE ov.keep') AS after_wrapper_transaction;

-- A role granted EXECUTE on override() can use it: its own table with rows
-- is refused, then dropped with an override; the audit names the role.
SET ROLE gd_ov_breakglass;
CREATE TABLE ov_bg.data (id int);
INSERT INTO ov_bg.data VALUES (1), (2), (3);
SELECT pg_temp.sqlstate_of('DROP TABLE ov_bg.data') AS without_override;
BEGIN;
SELECT guarded_ddl.override('OPS-107: break-glass role drops its table');
DROP TABLE ov_bg.data;
COMMIT;
RESET ROLE;
SELECT decision, object_identity, row_estimate, role_name, reason
  FROM guarded_ddl.audit
 WHERE schema_name = 'ov_bg' AND decision <> 'denied';

-- Every refusal of this file reached guarded_ddl.denials, even though each
-- refused statement was rolled back.
SELECT object_identity, count(*) AS denials
  FROM guarded_ddl.denials
 WHERE schema_name IN ('ov', 'ov_bg')
 GROUP BY object_identity
 ORDER BY object_identity;

-- Clean up: the tables with rows need the override; then the extension,
-- the schema CREATE EXTENSION made, and the roles go.
SET client_min_messages = warning;
BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP SCHEMA ov CASCADE;
DROP SCHEMA ov_bg CASCADE;
DROP EXTENSION guarded_ddl;
DROP SCHEMA guarded_ddl;
COMMIT;
DROP ROLE gd_ov_plain;
DROP ROLE gd_ov_breakglass;
RESET client_min_messages;
