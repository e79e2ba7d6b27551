# 005_pgaudit: guarded_ddl and pgaudit both hook ProcessUtility and both
# install event triggers.  In either order in shared_preload_libraries:
# refusals still happen (and are in guarded_ddl.denials), an allowed DROP
# runs and pgaudit writes its AUDIT line for it, TRUNCATE is still guarded.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use GuardedDDL::Test qw(run_sql);

my $pg_config = $ENV{PG_CONFIG} || 'pg_config';
my $pkglibdir = `$pg_config --pkglibdir`;
chomp $pkglibdir;
# The harness installs pgaudit for every major: its absence is a failure,
# not a reason to skip.
my $major = `$pg_config --version` =~ /(\d+)/ ? $1 : 'NN';
die "pgaudit is not installed ($pkglibdir/pgaudit.so is missing; Debian package postgresql-$major-pgaudit)\n"
  unless $pkglibdir ne '' && -f "$pkglibdir/pgaudit.so";

my $node = PostgreSQL::Test::Cluster->new('pgaudit');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
max_worker_processes = 16
lc_messages = 'C'
pgaudit.log = 'ddl'
});

my $n = 0;
for my $order ('pgaudit,guarded_ddl', 'guarded_ddl,pgaudit')
{
	$n++;
	my $db = "coexist$n";
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = '$order'\n");
	if ($n == 1) { $node->start; }
	else         { $node->restart; }

	is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'),
		$order, "[$order] both libraries are preloaded in this order");

	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql(
		$db, q{
CREATE EXTENSION pgaudit;
CREATE EXTENSION guarded_ddl;
CREATE SCHEMA app;
CREATE TABLE app.keep (id int);
INSERT INTO app.keep SELECT generate_series(1, 10);
CREATE TABLE app.gone (id int);
INSERT INTO app.gone SELECT generate_series(1, 10);
});
	is( $node->safe_psql(
			$db,
			q{SELECT ok FROM guarded_ddl.status() WHERE item = 'utility hook'}),
		't',
		"[$order] guarded_ddl's utility hook is active next to pgaudit's");

	# refused DROP
	my ($rc, $state, $out, $err) = run_sql(
		$node, $db, q{
SET pgaudit.log = 'ddl';
DROP TABLE app.keep;
});
	is($state, 'ZG002',
		"[$order] DROP TABLE of a non-empty table is refused with ZG002")
	  or diag($err);
	is( $node->safe_psql(
			$db,
			q{SELECT count(*) FROM guarded_ddl.denials WHERE object_identity = 'app.keep' AND operation = 'drop'}
		),
		'1',
		"[$order] the refused DROP is in guarded_ddl.denials");
	is($node->safe_psql($db, 'SELECT count(*) FROM app.keep'),
		'10', "[$order] the table keeps its rows");

	# refused TRUNCATE (before any backup is recorded)
	($rc, $state, $out, $err) = run_sql(
		$node, $db, q{
SET pgaudit.log = 'ddl';
TRUNCATE app.keep;
});
	is($state, 'ZG002',
		"[$order] TRUNCATE of a non-empty table is refused with ZG002")
	  or diag($err);
	is( $node->safe_psql(
			$db,
			q{SELECT count(*) FROM guarded_ddl.denials WHERE object_identity = 'app.keep' AND operation = 'truncate'}
		),
		'1',
		"[$order] the refused TRUNCATE is in guarded_ddl.denials");

	# allowed DROP, logged by pgaudit
	my $log_offset = -s $node->logfile;
	($rc, $state, $out, $err) = run_sql(
		$node, $db, q{
SET pgaudit.log = 'ddl';
SELECT guarded_ddl.record_backup('pgbackrest');
DROP TABLE app.gone;
});
	is($rc, 0, "[$order] DROP TABLE after record_backup() succeeds")
	  or diag($err);
	is( $node->safe_psql(
			$db, q{SELECT to_regclass('app.gone') IS NULL}),
		't', "[$order] the table is gone");
	is( $node->safe_psql(
			$db,
			q{SELECT decision FROM guarded_ddl.audit WHERE object_identity = 'app.gone'}),
		'allowed',
		"[$order] guarded_ddl audited the DROP as allowed");
	ok( $node->log_contains(
			qr/AUDIT: SESSION,\d+,\d+,DDL,DROP TABLE,[^\n]*app\.gone/,
			$log_offset),
		"[$order] pgaudit logged an AUDIT line for the allowed DROP TABLE");

	# An allowed row would mean some part of a refused statement went through.
	is( $node->safe_psql(
			$db,
			q{SELECT count(*) FROM guarded_ddl.audit WHERE object_identity = 'app.keep' AND decision <> 'denied'}
		),
		'0',
		"[$order] the refused statements left no allowed audit rows");
}

ok(!$node->log_contains(qr/TRAP:|server process .* was terminated/),
	'no assertion failure or crashed backend in the server log');

$node->stop;
done_testing();
