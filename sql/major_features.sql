--
-- major_features: what PostgreSQL 17, 18 and 19 add, guarded the same way
-- on every major.  Preloaded pass only (the event_triggers setting is only
-- visible to the utility hook).  Expected output per major:
--   expected/major_features.out     15 and 16 (no event_triggers setting,
--                                   no REPACK)
--   expected/major_features_1.out   17 and 18 (event_triggers setting)
--   expected/major_features_2.out   19 (also REPACK)
--
-- Proves that
--   * SET event_triggers = off (and ALTER ROLE / DATABASE / SYSTEM ... SET)
--     is refused with ZG003 unless overridden, since it would switch every
--     event trigger off; SET event_triggers = on passes;
--   * set_config('event_triggers', 'off', ...) gets past SET, but then every
--     statement the guard judges is refused while it is off (the triggers
--     would not fire); other statements run;
--   * each refusal leaves one denial row;
--   * REPACK (19) rewrites a table keeping every row: not judged, nothing
--     audited, the rows still there;
--   * ALTER TABLE ... SPLIT PARTITION / MERGE PARTITIONS are not part of
--     any major Debian ships (they were withdrawn from 17 and are not in
--     19): a syntax error everywhere, so this test fails the day one of them
--     appears and needs classifying.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE SCHEMA mf;
CREATE TABLE mf.keep (id int PRIMARY KEY, v text);
INSERT INTO mf.keep SELECT g, 'row ' || g FROM generate_series(1, 10) g;
CREATE TABLE mf.empty (id int);
CREATE ROLE mf_role;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset

-- Turning event triggers off is refused, however it is said.
SET event_triggers = off;
SET event_triggers TO false;
SET LOCAL event_triggers = 0;
ALTER ROLE mf_role SET event_triggers = off;
ALTER DATABASE contrib_regression SET event_triggers = off;
ALTER SYSTEM SET event_triggers = off;
-- on is harmless
SET event_triggers = on;
RESET event_triggers;

-- set_config() is no utility statement: it goes through, but while event
-- triggers are off every guarded statement is refused.
BEGIN;
SELECT set_config('event_triggers', 'off', true);
DROP TABLE mf.keep;
ROLLBACK;
BEGIN;
SELECT set_config('event_triggers', 'off', true);
ALTER TABLE mf.keep DROP COLUMN v;
ROLLBACK;
BEGIN;
SELECT set_config('event_triggers', 'off', true);
-- statements the guard does not judge still run
CREATE TABLE mf.new_one (id int);
SELECT count(*) AS rows_kept FROM mf.keep;
ROLLBACK;

-- With an override the setting can be changed (break-glass).
BEGIN;
SELECT guarded_ddl.override('mf: maintenance without event triggers');
SET LOCAL event_triggers = off;
SHOW event_triggers;
ROLLBACK;

SELECT operation, object_type, object_identity, decision
  FROM guarded_ddl.audit WHERE id > :mark ORDER BY id;

-- REPACK keeps every row: nothing to judge.
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
REPACK mf.keep;
SELECT count(*) AS rows_after_repack FROM mf.keep;
SELECT count(*) AS audit_rows FROM guarded_ddl.audit WHERE id > :mark;

-- SPLIT PARTITION / MERGE PARTITIONS: not in any major Debian ships.
CREATE TABLE mf.parted (id int) PARTITION BY RANGE (id);
CREATE TABLE mf.p1 PARTITION OF mf.parted FOR VALUES FROM (0) TO (100);
CREATE TABLE mf.p2 PARTITION OF mf.parted FOR VALUES FROM (100) TO (200);
ALTER TABLE mf.parted MERGE PARTITIONS (mf.p1, mf.p2) INTO mf.p12;
ALTER TABLE mf.parted SPLIT PARTITION mf.p1 INTO
    (PARTITION mf.p1a FOR VALUES FROM (0) TO (50),
     PARTITION mf.p1b FOR VALUES FROM (50) TO (100));

-- Clean up: the data, then the extension (with an override) and the schema
-- CREATE EXTENSION made, and the role.
BEGIN;
SELECT guarded_ddl.override('major_features cleanup');
DROP SCHEMA mf CASCADE;
DROP EXTENSION guarded_ddl;
DROP SCHEMA guarded_ddl;
COMMIT;
DROP ROLE mf_role;
