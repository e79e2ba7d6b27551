--
-- self_protection_paths: the quieter ways to take guarded_ddl over or to
-- blind it are refused (ZG003) unless overridden:
--   * handing its functions, schema, tables, views and sequences to another
--     role (ALTER ... OWNER TO), which could then change them;
--   * ALTER SEQUENCE of its id sequences (RESTART, and the like);
--   * with the library preloaded only (no event trigger fires for them):
--     LOCK TABLE of its tables, which would make refusals wait, and
--     TRUNCATE of its audit.  expected/self_protection_paths_preload.out
--     holds the preloaded pass.
-- And a rewound audit id sequence (setval, which no hook sees) costs no
-- denial row: the next one lands past the highest id.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE ROLE regress_gd_taker;

-- SQLSTATE a statement ends with ('ok' when it succeeds); whatever it did
-- is undone either way.
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

CREATE TEMP TABLE attacks (n int PRIMARY KEY, stmt text NOT NULL);
INSERT INTO attacks VALUES
    (1, 'ALTER FUNCTION guarded_ddl.glob_match(text, text) OWNER TO regress_gd_taker'),
    (2, 'ALTER FUNCTION guarded_ddl.override(text) OWNER TO regress_gd_taker'),
    (3, 'ALTER SCHEMA guarded_ddl OWNER TO regress_gd_taker'),
    (4, 'ALTER SCHEMA guarded_ddl_trash OWNER TO regress_gd_taker'),
    (5, 'ALTER TABLE guarded_ddl.audit OWNER TO regress_gd_taker'),
    (6, 'ALTER VIEW guarded_ddl.denials OWNER TO regress_gd_taker'),
    (7, 'ALTER SEQUENCE guarded_ddl.audit_id_seq OWNER TO regress_gd_taker'),
    (8, 'ALTER SEQUENCE guarded_ddl.audit_id_seq RESTART'),
    (9, 'ALTER SEQUENCE guarded_ddl.policy_id_seq RESTART WITH 1'),
    (10, 'ALTER SEQUENCE guarded_ddl.audit_id_seq MAXVALUE 10'),
    (11, 'LOCK TABLE guarded_ddl.audit IN ACCESS EXCLUSIVE MODE'),
    (12, 'LOCK TABLE guarded_ddl.policy, guarded_ddl.backups'),
    (13, 'TRUNCATE guarded_ddl.audit');
SELECT n, stmt, pg_temp.attempt(stmt) AS sqlstate FROM attacks ORDER BY n;

-- Each refusal is a denial naming the statement.
SELECT command_tag, count(*) AS denials
  FROM guarded_ddl.denials
 WHERE reason LIKE '% belongs to guarded_ddl itself'
 GROUP BY command_tag ORDER BY command_tag;

-- Objects of other schemas are not concerned.
CREATE SCHEMA spp;
CREATE SEQUENCE spp.s;
CREATE VIEW spp.v AS SELECT 1 AS one;
SELECT pg_temp.attempt('ALTER SCHEMA spp OWNER TO regress_gd_taker') AS other_schema,
       pg_temp.attempt('ALTER SEQUENCE spp.s RESTART') AS other_sequence,
       pg_temp.attempt('ALTER VIEW spp.v OWNER TO regress_gd_taker') AS other_view,
       pg_temp.attempt('LOCK TABLE spp.v') AS other_lock;

-- An override lets them through (undone here by the rollback).
BEGIN;
SELECT guarded_ddl.override('spp: maintenance of the id sequences');
ALTER SEQUENCE guarded_ddl.policy_id_seq RESTART WITH 1000;
LOCK TABLE guarded_ddl.policy IN SHARE MODE;
ROLLBACK;

-- A rewound audit id sequence loses no denial.
CREATE TABLE spp.full_t (id int);
INSERT INTO spp.full_t VALUES (1);
SELECT max(id) AS top FROM guarded_ddl.audit \gset
SELECT setval('guarded_ddl.audit_id_seq', 1) AS rewound;
SELECT pg_temp.attempt('DROP TABLE spp.full_t') AS refused;
SELECT count(*) AS denial_rows, min(id) > :top AS past_the_top
  FROM guarded_ddl.audit
 WHERE object_identity = 'spp.full_t' AND decision = 'denied';

-- Clean up.
BEGIN;
SELECT guarded_ddl.override('self_protection_paths cleanup');
DROP SCHEMA spp CASCADE;
DROP EXTENSION guarded_ddl;
DROP SCHEMA guarded_ddl;
COMMIT;
DROP ROLE regress_gd_taker;
