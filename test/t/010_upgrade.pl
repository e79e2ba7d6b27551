# 010_upgrade: ALTER EXTENSION guarded_ddl UPDATE from 1.0 to 1.1 keeps
# every row and every guarantee, and leaves exactly what a fresh 1.1
# install has.
#
# On a cluster with the library preloaded, guarded_ddl 1.0 is installed and
# used: policy rules (one with a name too long for 1.1's checks), backup
# markers, audit rows of a refused and of allowed DROPs, a soft-dropped
# table in the recycle bin, and grants a DBA gave.  After the update:
#   - the extension is at 1.1 and every policy, backup, audit and trash row
#     is there with the same id and contents;
#   - the guarantees hold: the deny rule still refuses its DROP (and the
#     refusal is audited), the soft-dropped table can be restored with its
#     rows, a member of pg_write_all_data can no longer write the policy or
#     the audit (it could in 1.0), the DBA's grants still work;
#   - the new columns exist and say the right thing for the old rows
#     (trash: drop/table and a size; recovery: a pgBackRest restore command);
#   - a 1.0 installed into a schema a non-superuser made beforehand is
#     updated with a WARNING naming the schema's owner;
#   - the catalog shape of the updated extension -- objects, columns in
#     order, defaults, constraints, indexes, triggers, view definitions and
#     options, function bodies, settings, grants, comments, initial
#     privileges, configuration tables -- is identical to a fresh 1.1
#     install given the same grants, and to an update of an unused 1.0.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'guarded_ddl'
wal_level = replica
max_wal_senders = 2
max_worker_processes = 16
lc_messages = 'C'
});
$node->start;

# What a DBA granted on guarded_ddl's objects in 1.0; given the same way to
# the fresh 1.1 install the shapes are compared with.
my $grants = q{
BEGIN;
SELECT guarded_ddl.override('rights on guarded_ddl for this test');
GRANT USAGE ON SCHEMA guarded_ddl TO gd_policy_admin, gd_auditor, gd_trash_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON guarded_ddl.policy TO gd_policy_admin;
GRANT USAGE ON SEQUENCE guarded_ddl.policy_id_seq TO gd_policy_admin;
GRANT SELECT ON guarded_ddl.audit, guarded_ddl.denials, guarded_ddl.recovery,
                guarded_ddl.backups, guarded_ddl.policy TO gd_auditor;
GRANT EXECUTE ON FUNCTION guarded_ddl.status() TO gd_auditor;
GRANT SELECT ON guarded_ddl.trash TO gd_trash_admin;
GRANT EXECUTE ON FUNCTION guarded_ddl.restore(bigint, text) TO gd_trash_admin;
COMMIT;
};

$node->safe_psql(
	'postgres', q{
CREATE ROLE gd_policy_admin;
CREATE ROLE gd_auditor;
CREATE ROLE gd_trash_admin;
CREATE ROLE gd_writer IN ROLE pg_write_all_data, pg_read_all_data;
CREATE DATABASE up;
CREATE DATABASE up_unused;
CREATE DATABASE fresh;
});

# --- guarded_ddl 1.0, in use ------------------------------------------------

$node->safe_psql('up', q{CREATE EXTENSION guarded_ddl VERSION '1.0'});
is($node->safe_psql('up', q{SELECT extversion FROM pg_extension WHERE extname = 'guarded_ddl'}),
	'1.0', 'guarded_ddl 1.0 is installed');
$node->safe_psql('up', $grants);
$node->safe_psql(
	'up', q{
CREATE SCHEMA app;
CREATE TABLE app.precious (id int PRIMARY KEY);
INSERT INTO app.precious SELECT generate_series(1, 10);
CREATE TABLE app.data (id int);
INSERT INTO app.data VALUES (1);
CREATE TABLE app.tmp_scratch (id int);
INSERT INTO app.tmp_scratch VALUES (1);
CREATE TABLE app.soft_orders (id int PRIMARY KEY, amount numeric);
INSERT INTO app.soft_orders SELECT g, g * 1.5 FROM generate_series(1, 25) g;

INSERT INTO guarded_ddl.policy (priority, operation, object_type, schema_name, object_name, action, note)
VALUES (10, 'drop', 'table', 'app', 'precious', 'deny', 'never'),
       (20, 'drop', 'table', 'app', 'soft_*', 'soft_drop', 'recycle bin'),
       (30, '*', '*', 'app', 'tmp_*', 'allow', 'scratch');
INSERT INTO guarded_ddl.policy (priority, application_name, action, enabled, expires_at, backup_max_age)
VALUES (40, 'deploy*', 'allow', true, '2100-01-01 00:00+00', NULL),
       (50, '*', 'warn', false, NULL, interval '2 hours');
-- a literal no name can have: 1.0 took it, 1.1 would not
INSERT INTO guarded_ddl.policy (priority, object_name, action, note)
VALUES (60, repeat('x', 80), 'deny', 'too long to match');
});

# A refused DROP (durable denial), before any backup.
my ($rc, $out, $err) = $node->psql('up', 'DROP TABLE app.data');
isnt($rc, 0, '1.0: DROP of a table with rows and no backup is refused');
$node->safe_psql(
	'up', q{
SELECT guarded_ddl.record_backup('pg_dump', 'nightly', now() - interval '2 hours', 'logical', '/backups/nightly.dump');
SELECT guarded_ddl.record_backup('pgbackrest', '20200101-000000F', now() - interval '1 hour', 'full', 'stanza=main');
SELECT guarded_ddl.record_restore_test(2);
DROP TABLE app.data;
DROP TABLE app.tmp_scratch;
DROP TABLE app.soft_orders;
});
($rc, $out, $err) = $node->psql('up', 'DROP TABLE app.precious');
isnt($rc, 0, '1.0: the deny rule refuses DROP TABLE app.precious');

is( $node->safe_psql(
		'up',
		q{SELECT string_agg(decision || ':' || object_identity, ',' ORDER BY id) FROM guarded_ddl.audit
		   WHERE command_tag NOT IN ('GRANT', 'REVOKE')}),
	'denied:app.data,allowed:app.data,allowed:app.tmp_scratch,soft_dropped:app.soft_orders,denied:app.precious',
	'1.0: the audit has denied, allowed and soft-dropped rows');
is($node->safe_psql('up', q{SELECT count(*) FROM guarded_ddl.trash WHERE original_name = 'soft_orders'}),
	'1', '1.0: app.soft_orders is in the recycle bin');

# The hole 1.1 closes: in 1.0 a member of pg_write_all_data writes the policy.
($rc, $out, $err) = $node->psql('up',
	q{BEGIN; SET ROLE gd_writer; INSERT INTO guarded_ddl.policy (action) VALUES ('allow'); ROLLBACK;});
is($rc, 0, '1.0: a member of pg_write_all_data can insert an allow rule (rolled back here)');

# Every row, by id, in the columns 1.0 has.
my %query = (
	policy    => 'SELECT * FROM guarded_ddl.policy ORDER BY id',
	backups   => 'SELECT * FROM guarded_ddl.backups ORDER BY id',
	audit     => 'SELECT * FROM guarded_ddl.audit ORDER BY id',
	trash_bin => 'SELECT id, dropped_at, original_schema, original_name, trash_name, row_estimate,
	                     dropped_by, audit_id, renamed_from, renamed_to, restored_at, restored_as, purged_at
	                FROM guarded_ddl.trash_bin ORDER BY id',
	app       => 'SELECT * FROM guarded_ddl_trash.' . $node->safe_psql('up',
		q{SELECT quote_ident(trash_name) FROM guarded_ddl.trash_bin WHERE original_name = 'soft_orders'})
	  . ' ORDER BY id',);
my %before = map { $_ => $node->safe_psql('up', $query{$_}) } keys %query;
my $max_audit_id = $node->safe_psql('up', 'SELECT max(id) FROM guarded_ddl.audit');
ok($before{$_} ne '', "1.0: $_ is not empty") for sort keys %query;

# --- the update -----------------------------------------------------------

my $log_offset = -s $node->logfile;
($rc, $out, $err) = $node->psql('up', 'ALTER EXTENSION guarded_ddl UPDATE');
is($rc, 0, 'ALTER EXTENSION guarded_ddl UPDATE succeeds');
is($err, '', '... and has nothing to warn about');
is($node->safe_psql('up', q{SELECT extversion FROM pg_extension WHERE extname = 'guarded_ddl'}),
	'1.1', 'ALTER EXTENSION guarded_ddl UPDATE brings it to 1.1');
ok(!$node->log_contains(qr/guarded_ddl: refused/, $log_offset),
	'the guard did not refuse any step of its own update');

for my $t (sort keys %query)
{
	is($node->safe_psql('up', $query{$t}), $before{$t},
		"after the update: $t has the same rows, ids and contents");
}

# --- the guarantees, after the update ---------------------------------------

($rc, $out, $err) = $node->psql('up', 'DROP TABLE app.precious');
isnt($rc, 0, 'the deny rule still refuses DROP TABLE app.precious');
like($err, qr/refusing to drop table "app\.precious"/, '... with the guard\'s error');
is( $node->safe_psql(
		'up',
		q{SELECT count(*) FROM guarded_ddl.denials WHERE object_identity = 'app.precious'}),
	'2', '... and the refusal is audited, after the one from 1.0');
cmp_ok( $node->safe_psql(
		'up',
		q{SELECT max(id) FROM guarded_ddl.denials WHERE object_identity = 'app.precious'}),
	'>', $max_audit_id, '... under an id after every kept one');

is( $node->safe_psql(
		'up',
		q{SELECT operation || '/' || object_type || '/' || (column_name IS NULL) || '/' || (size_bytes > 0)
		    FROM guarded_ddl.trash WHERE original_name = 'soft_orders'}),
	'drop/table/true/true',
	'the kept trash entry shows as a dropped table, with its size');
my $restored = $node->safe_psql(
	'up', q{
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash WHERE original_name = 'soft_orders';
SELECT count(*) || '/' || sum(amount) FROM app.soft_orders;
});
is((split /\n/, $restored)[-1], '25/487.5', 'the trash entry from 1.0 restores with every row');

like( $node->safe_psql(
		'up',
		q{SELECT restore_command FROM guarded_ddl.recovery WHERE object_identity = 'app.data'}),
	qr/^pgbackrest --stanza='main' --set='20200101-000000F' --type=name --target='guarded_ddl_[^']+' --target-action=promote --archive-mode=off restore$/,
	'recovery gives the pgBackRest command for the DROP allowed by the 1.0 marker');

is( $node->safe_psql(
		'up',
		q{SELECT string_agg(item || '=' || ok, ',' ORDER BY item) FROM guarded_ddl.status()
		   WHERE item IN ('event triggers', 'application_name rules', 'trash')}),
	'application_name rules=false,event triggers=true,trash=true',
	'status() has the 1.1 rows, flags the application_name rule kept from 1.0, and the event triggers are intact');

# The rule 1.1 would refuse is kept, and can still be switched off.
$node->safe_psql('up', q{UPDATE guarded_ddl.policy SET enabled = false WHERE priority = 60});
is($node->safe_psql('up', q{SELECT enabled FROM guarded_ddl.policy WHERE priority = 60}),
	'f', 'a rule kept from 1.0 that 1.1 would refuse can still be disabled');
($rc, $out, $err) = $node->psql('up',
	q{INSERT INTO guarded_ddl.policy (object_name, action) VALUES (repeat('y', 80), 'deny')});
like($err, qr/can never match/, 'a new rule like it is refused');

# pg_write_all_data no longer opens guarded_ddl's tables.
for my $attack (
	q{INSERT INTO guarded_ddl.policy (action) VALUES ('allow')},
	q{UPDATE guarded_ddl.backups SET finished_at = now()},
	q{INSERT INTO guarded_ddl.audit (decision, operation, object_type, object_identity, command_tag, role_name, session_role, backend_pid) VALUES ('allowed', 'drop', 'table', 'x', 'DROP TABLE', 'x', 'x', 1)},
	q{DELETE FROM guarded_ddl.audit})
{
	($rc, $out, $err) = $node->psql('up', "SET ROLE gd_writer; $attack");
	like($err, qr/permission denied to \w+/, "a pg_write_all_data member is refused: $attack");
}

# The DBA's grants still work.
$node->safe_psql('up',
	q{SET ROLE gd_policy_admin; UPDATE guarded_ddl.policy SET note = 'edited' WHERE priority = 50});
is($node->safe_psql('up', q{SELECT note FROM guarded_ddl.policy WHERE priority = 50}),
	'edited', 'the policy admin granted in 1.0 still edits rules');
is( $node->safe_psql(
		'up', q{SET ROLE gd_auditor; SELECT count(*) > 0 FROM guarded_ddl.recovery}),
	't', 'the auditor granted in 1.0 still reads recovery');

# A 1.0 installed into a schema a non-superuser had made (1.0 took it; 1.1's
# install refuses it): the update says so.
$node->safe_psql(
	'postgres', q{
CREATE ROLE gd_squatter;
CREATE DATABASE squatted OWNER gd_squatter;
});
$node->safe_psql('squatted',
	q{SET ROLE gd_squatter; CREATE SCHEMA guarded_ddl; RESET ROLE; CREATE EXTENSION guarded_ddl VERSION '1.0'});
($rc, $out, $err) = $node->psql('squatted', 'ALTER EXTENSION guarded_ddl UPDATE');
is($rc, 0, 'the update of a 1.0 install in a squatted schema goes through');
like($err, qr/WARNING:  schema "guarded_ddl" is controlled by roles that are not superusers\nDETAIL:  Its owner is role "gd_squatter"/,
	'... and warns that the schema is controlled by its owner, naming it');

# --- catalog shape: updated == fresh ---------------------------------------

my $shape = q{
WITH ext AS (SELECT oid, extowner FROM pg_extension WHERE extname = 'guarded_ddl'),
members AS (
  SELECT d.classid, d.objid FROM pg_depend AS d, ext
   WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
rels AS (SELECT c.* FROM pg_class AS c
          WHERE c.relnamespace IN ('guarded_ddl'::regnamespace, 'guarded_ddl_trash'::regnamespace)
            AND (c.relnamespace = 'guarded_ddl'::regnamespace
                 OR c.oid IN (SELECT objid FROM members WHERE classid = 'pg_class'::regclass)))
SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM members
UNION ALL
SELECT format('rel %s kind=%s persistence=%s opts=%s acl=%s rls=%s owner_is_ext_owner=%s comment=%s',
              c.relname, c.relkind, c.relpersistence, c.reloptions, c.relacl, c.relrowsecurity,
              c.relowner = (SELECT extowner FROM ext), obj_description(c.oid, 'pg_class'))
  FROM rels AS c
UNION ALL
SELECT format('col %s.%s #%s %s notnull=%s default=%s identity=%s generated=%s collation=%s acl=%s comment=%s',
              c.relname, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
              pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated, a.attcollation,
              a.attacl, col_description(c.oid, a.attnum))
  FROM rels AS c
  JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef AS ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
UNION ALL
SELECT format('con %s.%s %s comment=%s', c.relname, k.conname, pg_get_constraintdef(k.oid),
              obj_description(k.oid, 'pg_constraint'))
  FROM rels AS c JOIN pg_constraint AS k ON k.conrelid = c.oid
UNION ALL
SELECT format('idx %s', pg_get_indexdef(i.indexrelid))
  FROM rels AS c JOIN pg_index AS i ON i.indrelid = c.oid
UNION ALL
SELECT format('seq %s %s %s %s %s %s', c.relname, s.seqtypid::regtype, s.seqstart, s.seqincrement,
              s.seqmax, s.seqcycle)
  FROM rels AS c JOIN pg_sequence AS s ON s.seqrelid = c.oid
UNION ALL
SELECT format('trg %s enabled=%s comment=%s', pg_get_triggerdef(t.oid), t.tgenabled,
              obj_description(t.oid, 'pg_trigger'))
  FROM rels AS c JOIN pg_trigger AS t ON t.tgrelid = c.oid AND NOT t.tgisinternal
UNION ALL
SELECT format('rule %s', pg_get_ruledef(r.oid))
  FROM rels AS c JOIN pg_rewrite AS r ON r.ev_class = c.oid AND r.rulename <> '_RETURN'
UNION ALL
SELECT format('view %s %s', c.relname, pg_get_viewdef(c.oid)) FROM rels AS c WHERE c.relkind = 'v'
UNION ALL
SELECT format('fn %s(%s) returns %s lang=%s secdef=%s volatile=%s strict=%s parallel=%s leakproof=%s cost=%s rows=%s config=%s acl=%s comment=%s bin=%s src=%s',
              p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), l.lanname,
              p.prosecdef, p.provolatile, p.proisstrict, p.proparallel, p.proleakproof, p.procost,
              p.prorows, p.proconfig, p.proacl, obj_description(p.oid, 'pg_proc'), p.probin, p.prosrc)
  FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
 WHERE p.pronamespace = 'guarded_ddl'::regnamespace
UNION ALL
SELECT format('evt %s on %s enabled=%s runs %s tags=%s', e.evtname, e.evtevent, e.evtenabled,
              e.evtfoid::regprocedure, e.evttags)
  FROM pg_event_trigger AS e WHERE e.evtname LIKE 'guarded\_ddl\_%'
UNION ALL
SELECT format('nsp %s acl=%s owner_is_ext_owner=%s comment=%s', n.nspname, n.nspacl,
              n.nspowner = (SELECT extowner FROM ext), obj_description(n.oid, 'pg_namespace'))
  FROM pg_namespace AS n WHERE n.nspname IN ('guarded_ddl', 'guarded_ddl_trash')
UNION ALL
SELECT format('config %s condition=%s', u.c::regclass, coalesce(x.extcondition[u.i], '<null>'))
  FROM pg_extension AS x, unnest(x.extconfig) WITH ORDINALITY AS u (c, i)
 WHERE x.extname = 'guarded_ddl'
UNION ALL
SELECT format('extension version=%s relocatable=%s schema=%s', x.extversion, x.extrelocatable,
              x.extnamespace::regnamespace)
  FROM pg_extension AS x WHERE x.extname = 'guarded_ddl'
UNION ALL
SELECT format('initpriv %s %s %s', pg_describe_object(ip.classoid, ip.objoid, ip.objsubid),
              ip.privtype, ip.initprivs)
  FROM pg_init_privs AS ip
 WHERE (ip.classoid, ip.objoid) IN (SELECT classid, objid FROM members)
ORDER BY 1
};

# A 1.0 install updated without being used, and a fresh 1.1 install.
$node->safe_psql('up_unused',
	q{CREATE EXTENSION guarded_ddl VERSION '1.0'; ALTER EXTENSION guarded_ddl UPDATE TO '1.1'});
$node->safe_psql('up_unused', $grants);
$node->safe_psql('fresh', q{CREATE EXTENSION guarded_ddl VERSION '1.1'});
$node->safe_psql('fresh', $grants);

my $fresh_shape = $node->safe_psql('fresh', $shape);
cmp_ok(scalar(split /\n/, $fresh_shape), '>', 300,
	'the shape query describes the fresh install in detail');
like($fresh_shape, qr/^extension version=1\.1 /m, 'the fresh install is 1.1');
for my $db ('up_unused', 'up')
{
	my $updated_shape = $node->safe_psql($db, $shape);
	is($updated_shape, $fresh_shape,
		"$db: the updated extension has exactly the catalog shape of a fresh 1.1 install");
	if ($updated_shape ne $fresh_shape)
	{
		my %fresh   = map { $_ => 1 } split /\n/, $fresh_shape;
		my %updated = map { $_ => 1 } split /\n/, $updated_shape;
		diag("only in the fresh install: $_") for grep { !$updated{$_} } sort keys %fresh;
		diag("only in $db: $_") for grep { !$fresh{$_} } sort keys %updated;
	}
}

$node->stop;
done_testing();
