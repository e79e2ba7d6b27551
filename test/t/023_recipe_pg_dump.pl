# 023_recipe_pg_dump: the README's pg_dump recipes work as written.
#
# The backup recipe must record the time pg_dump started (its snapshot),
# not the time it finished: while the recipe runs, another session holds a
# lock that makes pg_dump wait 3 seconds, and commits a row at the end of
# that wait.  The dump cannot have that row, so the marker must be older
# than its commit.  A DROP is then allowed with that marker's backup_id; the
# next night's dump goes to a file of its own; and the README's restore
# recipe brings the table back from the dump behind the audit row, not from
# the newest one (which no longer has the table).
use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';

use GuardedDDL::Recipe qw(readme_recipe substitute recipe_ok);
use IPC::Run;
use Time::HiRes qw(time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir();
my $backups = "$tmp/backups";
mkdir $backups or die "mkdir $backups: $!";

my $node = PostgreSQL::Test::Cluster->new('production');
$node->init(allows_streaming => 1);
$node->append_conf(
	'postgresql.conf', q{
max_worker_processes = 16
lc_messages = 'C'
});
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql(
	'shop', q{
CREATE EXTENSION guarded_ddl;
CREATE SCHEMA app;
CREATE TABLE app.customers (id int PRIMARY KEY, payload text NOT NULL);
INSERT INTO app.customers SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
CREATE TABLE app.other (id int);
});
my $checksum_at_start = $node->safe_psql('shop',
	q{SELECT count(*) || ':' || md5(string_agg(id || ':' || payload, ',' ORDER BY id)) FROM app.customers});

my %env = (PGHOST => $node->host, PGPORT => $node->port);
my $backup_recipe = substitute(readme_recipe('pg_dump-backup'),
	[ '/backups', $backups ]);

# --- night 1, with pg_dump held up by a lock --------------------------------

my $before = $node->safe_psql('shop', 'SELECT now()');
my ($locker_out, $locker_err) = ('', '');
my $locker_sql = q{
BEGIN;
LOCK TABLE app.other IN ACCESS EXCLUSIVE MODE;
INSERT INTO app.customers VALUES (5000, 'committed while pg_dump waited');
SELECT pg_sleep(3);
SELECT clock_timestamp();
COMMIT;
};
append_to_file("$tmp/locker.sql", $locker_sql);
my $locker = IPC::Run::start(
	[ 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('shop'),
	  '-f', "$tmp/locker.sql" ],
	'<', \'', '>', \$locker_out, '2>', \$locker_err);
$node->poll_query_until('shop',
	q{SELECT count(*) = 1 FROM pg_catalog.pg_locks
	   WHERE relation = 'app.other'::regclass AND mode = 'AccessExclusiveLock' AND granted})
  or die 'the lock on app.other was not taken';

my $t0 = time;
recipe_ok('pg_dump-backup', $backup_recipe, ENV => \%env);
cmp_ok(time - $t0, '>=', 2, 'pg_dump waited for the lock');
$locker->finish or diag("locker: $locker_err");
my ($released) = grep { /^\d{4}-/ } split /\n/, $locker_out;

my ($marker1, $tool, $label, $kind, $location, $finished_at) = split /\|/,
  $node->safe_psql('shop',
	'SELECT id, tool, label, kind, location, finished_at FROM guarded_ddl.backups ORDER BY id DESC LIMIT 1');
like($location, qr{^\Q$backups\E/shop-\d{8}-\d{6}\.dump$},
	'the marker records the dump file as its location');
ok(-s $location, 'and the dump is there');
is_deeply([ $tool, $label, $kind ], [ 'pg_dump', ($location =~ m{([^/]+)$})[0], 'logical' ],
	'tool pg_dump, the file name as label, kind logical');
is( $node->safe_psql('shop',
		"SELECT '$finished_at'::timestamptz >= '$before'::timestamptz
		    AND '$finished_at'::timestamptz < '$released'::timestamptz"),
	't',
	"the marker carries pg_dump's start ($finished_at), before the row committed during its lock wait ($released)");

# --- an allowed DROP, then night 2 -------------------------------------------

$node->safe_psql('shop',
	q{INSERT INTO app.customers SELECT g, 'after the dump' FROM generate_series(6001, 6010) g});
$node->safe_psql('shop', 'DROP TABLE app.customers');
my ($audit_id, $decision, $backup_id) = split /\|/,
  $node->safe_psql('shop',
	q{SELECT id, decision, backup_id FROM guarded_ddl.audit
	   WHERE object_identity = 'app.customers' AND operation = 'drop'});
is($decision,  'allowed', 'the DROP is allowed: a recent backup is recorded');
is($backup_id, $marker1,  'its audit row carries the backup_id of the dump');

sleep 1;    # file names have a resolution of one second
recipe_ok('pg_dump-backup (next night)', $backup_recipe, ENV => \%env);
my $location2 = $node->safe_psql('shop',
	'SELECT location FROM guarded_ddl.backups ORDER BY id DESC LIMIT 1');
isnt($location2, $location, 'the next dump went to a file of its own');
ok(-s $location, "and the first one is still there");

# --- the README's restore recipe ---------------------------------------------

my $restore_recipe = substitute(
	readme_recipe('pg_dump-restore'),
	[ 'a.id = 2', "a.id = $audit_id" ],
	[ '-h db1',   '-h ' . $node->host ]);
recipe_ok('pg_dump-restore', $restore_recipe, ENV => \%env);
is( $node->safe_psql('shop',
		q{SELECT count(*) || ':' || md5(string_agg(id || ':' || payload, ',' ORDER BY id)) FROM app.customers}),
	$checksum_at_start,
	"the table is back with the rows of the dump's start: neither the row committed during its lock wait nor the rows written after it"
);

$node->stop;
done_testing();
