# 006_dump_restore: pg_dump -Fc / pg_restore of a database that uses
# guarded_ddl.  The restore must not be refused by the guard, and the
# policy, the backup markers and the audit (extension configuration tables)
# must come back with the same ids and contents; the identity sequences
# must continue after the restored ids, so new rules, markers and audit
# rows get new, larger ids.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use GuardedDDL::Test qw(guarded_cluster);

my $node = guarded_cluster('dump');

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql(
	'src', q{
CREATE EXTENSION guarded_ddl;
CREATE SCHEMA app;
CREATE TABLE app.customers (id int PRIMARY KEY, name text);
INSERT INTO app.customers SELECT g, 'customer ' || g FROM generate_series(1, 50) g;
CREATE TABLE app.scratch (id int);
INSERT INTO app.scratch VALUES (1);
CREATE TABLE app.tmp_empty (id int);

INSERT INTO guarded_ddl.policy (priority, operation, object_type, schema_name, object_name, action, note)
VALUES (10, 'drop', 'table', 'app', 'customers', 'deny', 'never drop customers'),
       (15, 'drop', 'table', 'app', 'retired', 'deny', 'only with an override'),
       (20, '*', '*', 'app', 'tmp_*', 'allow', 'scratch tables'),
       (30, 'truncate', 'table', '*', '*', 'require_backup', NULL);
INSERT INTO guarded_ddl.policy (priority, action, backup_max_age, enabled, expires_at)
VALUES (40, 'warn', interval '2 hours', false, '2030-01-01 00:00+00');
});

# Audit rows of every kind: denied (by the worker), allowed, overridden.
$node->psql('src', 'DROP TABLE app.customers');    # denied by rule
$node->psql('src', 'DROP TABLE app.scratch');      # denied: no backup
$node->safe_psql(
	'src', q{
DROP TABLE app.tmp_empty;
SELECT guarded_ddl.record_backup('pg_dump', 'first', now() - interval '3 days', 'logical', '/backups/a');
SELECT guarded_ddl.record_backup('pgbackrest', 'second');
SELECT guarded_ddl.record_restore_test(2);
BEGIN;
SELECT guarded_ddl.override('ticket OPS-7');
CREATE TABLE app.retired (id int);
INSERT INTO app.retired VALUES (1);
COMMIT;
});
$node->safe_psql(
	'src', q{
BEGIN;
SELECT guarded_ddl.override('ticket OPS-7');
DROP TABLE app.retired;
COMMIT;
});
is( $node->safe_psql(
		'src', 'SELECT string_agg(DISTINCT decision, \',\' ORDER BY decision) FROM guarded_ddl.audit'),
	'allowed,denied,overridden',
	'the source database has allowed, denied and overridden audit rows');

my %query = (
	policy  => 'SELECT * FROM guarded_ddl.policy ORDER BY id',
	backups => 'SELECT * FROM guarded_ddl.backups ORDER BY id',
	audit   => 'SELECT * FROM guarded_ddl.audit ORDER BY id',
	app     => 'SELECT * FROM app.customers ORDER BY id',);
my %before = map { $_ => $node->safe_psql('src', $query{$_}) } keys %query;
ok($before{audit} ne '', 'the audit is not empty');

my $tempdir = PostgreSQL::Test::Utils::tempdir;
my $dump    = "$tempdir/src.dump";
command_ok(
	[ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('src') ],
	'pg_dump -Fc of the database succeeds');

# --- plain restore into an empty database ---------------------------------

sub check_restored
{
	my ($db, $label) = @_;
	for my $t (sort keys %query)
	{
		is($node->safe_psql($db, $query{$t}),
			$before{$t}, "$label: $t has the same rows, ids and contents");
	}
	is( $node->safe_psql(
			$db,
			q{SELECT ok FROM guarded_ddl.status() WHERE item = 'event triggers'}),
		't',
		"$label: the four event triggers are there and ENABLE ALWAYS");
	return;
}

$node->safe_psql('postgres', 'CREATE DATABASE dst');
my $log_offset = -s $node->logfile;
my ($stdout, $stderr);
my $ok = IPC::Run::run(
	[ 'pg_restore', '-d', $node->connstr('dst'), $dump ],
	'>', \$stdout, '2>', \$stderr);
ok($ok, 'pg_restore into an empty database succeeds without errors')
  or diag($stderr);
ok(!$node->log_contains(qr/guarded_ddl: refused/, $log_offset),
	'nothing of the restore was refused by the guard');
check_restored('dst', 'plain restore');

# The identity sequences continue after the restored ids.
my ($max_policy, $max_backup, $max_audit) = split /\|/,
  $node->safe_psql('dst',
	'SELECT (SELECT max(id) FROM guarded_ddl.policy), (SELECT max(id) FROM guarded_ddl.backups), (SELECT max(id) FROM guarded_ddl.audit)'
  );

my ($rc, $out, $err) = $node->psql('dst',
	q{INSERT INTO guarded_ddl.policy (object_name, action) VALUES ('new_rule', 'deny') RETURNING id}
);
is($rc, 0, 'after the restore a new rule can be inserted') or diag($err);
cmp_ok($out || 0, '>', $max_policy,
	'the new rule gets an id larger than every restored rule id');

($rc, $out, $err) = $node->psql('dst',
	q{SELECT guarded_ddl.record_backup('pgbackrest', 'after restore')});
is($rc, 0, 'after the restore a backup marker can be recorded') or diag($err);
cmp_ok($out || 0, '>', $max_backup,
	'the new backup marker gets an id larger than every restored marker id');

($rc, $out, $err) = $node->psql('dst',
	q{CREATE TABLE app.fresh (id int); DROP TABLE app.fresh; SELECT max(id) FROM guarded_ddl.audit});
is($rc, 0, 'after the restore an allowed DROP can be audited') or diag($err);
cmp_ok($out || 0, '>', $max_audit,
	'the new audit row gets an id larger than every restored audit id');

$node->psql('dst', 'DROP TABLE app.customers');
is( $node->safe_psql(
		'dst',
		q{SELECT count(*) FROM guarded_ddl.denials WHERE object_identity = 'app.customers'}
	),
	'2',
	'the restored policy is in force: DROP of app.customers is refused and audited again');

# --- restore with --clean --if-exists into an empty database ---------------

$node->safe_psql('postgres', 'CREATE DATABASE dst_clean');
$ok = IPC::Run::run(
	[ 'pg_restore', '--clean', '--if-exists', '-d', $node->connstr('dst_clean'), $dump ],
	'>', \$stdout, '2>', \$stderr);
ok($ok, 'pg_restore --clean --if-exists into an empty database succeeds')
  or diag($stderr);
check_restored('dst_clean', 'restore --clean --if-exists');

$node->stop;
done_testing();
