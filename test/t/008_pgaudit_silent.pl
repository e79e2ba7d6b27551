# 008_pgaudit_silent: guarded_ddl's own work does not show up in pgaudit's
# log under the user's statement.  With pgaudit.log = 'all' (and
# log_catalog on, its default), in either preload order: an allowed DROP
# TABLE of a table with rows, a DROP of an empty table, a refused DROP, and
# a DROP SCHEMA ... CASCADE of several tables write AUDIT lines for the
# user's statements only -- none mentions guarded_ddl's policy, backups or
# audit table, nor pg_event_trigger_dropped_objects(): guarded_ddl reads its
# policy and markers, reads the dropped objects and writes its audit rows
# without SQL.  The audit rows are there all the same.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pg_config = $ENV{PG_CONFIG} || 'pg_config';
my $pkglibdir = `$pg_config --pkglibdir`;
chomp $pkglibdir;
die "pgaudit is not installed ($pkglibdir/pgaudit.so is missing)\n"
  unless $pkglibdir ne '' && -f "$pkglibdir/pgaudit.so";

my $node = PostgreSQL::Test::Cluster->new('pgaudit_silent');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
max_worker_processes = 16
lc_messages = 'C'
pgaudit.log = 'all'
pgaudit.log_catalog = on
});

my $n = 0;
for my $order ('pgaudit,guarded_ddl', 'guarded_ddl,pgaudit')
{
	$n++;
	my $db = "silent$n";
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = '$order'\n");
	if ($n == 1) { $node->start; }
	else         { $node->restart; }

	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql(
		$db, q{
CREATE EXTENSION pgaudit;
CREATE EXTENSION guarded_ddl;
CREATE SCHEMA app;
CREATE SCHEMA doomed;
CREATE TABLE app.full_one (id int);
INSERT INTO app.full_one SELECT generate_series(1, 10);
CREATE TABLE app.empty_one (id int);
CREATE TABLE app.kept (id int);
INSERT INTO app.kept VALUES (1);
CREATE TABLE doomed.a (id int);
CREATE TABLE doomed.b (id int);
CREATE TABLE doomed.c (id int);
INSERT INTO doomed.c VALUES (1);
INSERT INTO guarded_ddl.policy (schema_name, object_name, action)
VALUES ('app', 'kept', 'deny');
SELECT guarded_ddl.record_backup('pgbackrest', 'nightly');
});

	# From here on only the statements under test.
	my $offset = -s $node->logfile;
	$node->safe_psql($db, 'DROP TABLE app.full_one');
	$node->safe_psql($db, 'DROP TABLE app.empty_one');
	my ($rc, $out, $err) = ('', '', '');
	$rc = $node->psql($db, 'DROP TABLE app.kept',
		stdout => \$out, stderr => \$err);
	like($err, qr/refusing to drop table "app\.kept"/,
		"[$order] the deny rule still refuses");
	$node->safe_psql($db, 'DROP SCHEMA doomed CASCADE');
	# the denial row is committed by a worker; wait for it before reading
	$node->poll_query_until($db,
		q{SELECT count(*) = 1 FROM guarded_ddl.denials WHERE object_identity = 'app.kept'})
	  or die "no denial row";

	my $log = slurp_file($node->logfile, $offset);
	my @audit = grep { /AUDIT:/ } split /\n/, $log;
	# (the poll's own SELECT on guarded_ddl.denials is the test's, not
	# guarded_ddl's: leave it out)
	@audit = grep { !/guarded_ddl\.denials/ } @audit;
	ok(scalar(grep { /DROP TABLE app\.full_one/ } @audit),
		"[$order] pgaudit logs the user's DROP TABLE");
	ok(scalar(grep { /DROP SCHEMA doomed CASCADE/ } @audit),
		"[$order] pgaudit logs the user's DROP SCHEMA");
	my @ours = grep {
		/guarded_ddl\.(policy|backups|audit|trash_bin)\b|pg_event_trigger_dropped_objects|guarded_ddl\.record_backup/
	} @audit;
	is(scalar(@ours), 0,
		"[$order] no AUDIT line mentions guarded_ddl's tables or the dropped-objects function")
	  or diag(join("\n", @ours));

	is( $node->safe_psql(
			$db, q{SELECT string_agg(decision || ' ' || object_identity, ', '
			                          ORDER BY object_identity)
			         FROM guarded_ddl.audit}),
		'allowed app.empty_one, allowed app.full_one, denied app.kept, '
		  . 'allowed doomed, allowed doomed.a, allowed doomed.b, allowed doomed.c',
		"[$order] every decision is in guarded_ddl.audit all the same");
}

ok(!$node->log_contains(qr/TRAP:|server process .* was terminated/),
	'no backend crashed');
$node->stop;
done_testing();
