--
-- audit_rows: the audit rows of one statement that drops many objects.
--
-- Proves that
--   * a statement whose text is longer than a heap page (here about 33 kB,
--     stored compressed and out of line) writes that text, unaltered, into
--     every one of its audit rows -- compressed once for all of them;
--   * the audit table's indexes point at every row written that way (an
--     index scan finds them all, and the next statement's audit row, which
--     looks up the highest id through the primary key, goes in);
--   * the rows of one statement carry the same statement-wide columns.
--
-- Expects a database without guarded_ddl; drops it again at the end.
--
CREATE EXTENSION IF NOT EXISTS guarded_ddl;
\set VERBOSITY terse
SELECT guarded_ddl.record_backup('regress') > 0 AS backup_recorded;
CREATE SCHEMA long_text;
-- (the generated statements are not echoed: the DROP's text is 33 kB)
\set ECHO none
SELECT format('CREATE TABLE long_text.t%s (id serial PRIMARY KEY, v text DEFAULT %L)', g, 'x')
  FROM generate_series(1, 40) AS g \gexec
\set ECHO all

-- The statement: a comment of 1,000 md5 sums (hex compresses poorly, so it
-- stays longer than a page even compressed), then the DROP.
CREATE TEMP TABLE sent AS
SELECT format('/* %s */ DROP SCHEMA long_text CASCADE',
              string_agg(md5(g::text), ' ' ORDER BY g)) AS statement
  FROM generate_series(1, 1000) AS g;
SELECT length(statement) > 32000 AS longer_than_32k FROM sent;
SELECT coalesce(max(id), 0) AS mark FROM guarded_ddl.audit \gset
\set ECHO none
SELECT statement FROM sent \gexec
\set ECHO all

-- Forty tables and the schema, each with the whole text.
SELECT count(*) AS rows,
       count(*) FILTER (WHERE a.statement = s.statement) AS with_the_text,
       count(DISTINCT (a.txid, a.backend_pid, a.role_name, a.session_role,
                       a.command_tag, a.backup_age)) AS statement_wide_values
  FROM guarded_ddl.audit AS a, sent AS s
 WHERE a.id > :mark;
SELECT object_type, count(*) FROM guarded_ddl.audit
 WHERE id > :mark GROUP BY 1 ORDER BY 1;

-- Through the indexes: every row is found by id and by logged_at.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) AS by_id FROM guarded_ddl.audit WHERE id > :mark;
SELECT count(*) AS by_time FROM guarded_ddl.audit
 WHERE logged_at >= (SELECT min(logged_at) FROM guarded_ddl.audit WHERE id > :mark);
RESET enable_seqscan;
RESET enable_bitmapscan;

-- The next statement's row goes in after them.
CREATE TABLE public.after_long_text (id int);
DROP TABLE public.after_long_text;
SELECT object_identity, statement LIKE 'DROP TABLE public.after_long_text%' AS its_own_text
  FROM guarded_ddl.audit
 WHERE id > :mark AND object_identity = 'public.after_long_text';

BEGIN;
SELECT guarded_ddl.override('test cleanup');
DROP EXTENSION guarded_ddl;
-- CREATE EXTENSION made the schema; DROP EXTENSION leaves it behind
DROP SCHEMA guarded_ddl;
COMMIT;
