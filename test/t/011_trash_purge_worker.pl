# 011_trash_purge_worker: with the library preloaded, the recycle bin's
# retention (guarded_ddl.trash_retention, trash_max_size) is applied by a
# background worker every guarded_ddl.trash_purge_interval, in every
# database where guarded_ddl is installed, without any soft drop to
# trigger it.  Each purge is audited as 'purged' and the table is gone for
# real; entries within the limits stay; a database without guarded_ddl is
# left alone; and the first pass waits one interval.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use GuardedDDL::Test qw(guarded_cluster);

my $node = guarded_cluster('trash_purge',
	conf => "guarded_ddl.trash_purge_interval = '1h'\n");

is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM pg_stat_activity
		   WHERE backend_type = 'guarded_ddl recycle bin launcher'}),
	'1',
	'the launcher runs, connected to no database');

# Two databases with guarded_ddl and a soft_drop rule, one without it.
my $setup = q{
CREATE EXTENSION guarded_ddl;
INSERT INTO guarded_ddl.policy (operation, object_type, schema_name, action, note)
VALUES ('drop', 'table', 'app', 'soft_drop', 'keep dropped tables');
CREATE SCHEMA app;
CREATE TABLE app.old_orders (id int PRIMARY KEY); INSERT INTO app.old_orders VALUES (1);
CREATE TABLE app.recent (id int PRIMARY KEY); INSERT INTO app.recent VALUES (1);
DROP TABLE app.old_orders;
DROP TABLE app.recent;
-- the entry of old_orders has been in the bin for 40 days
UPDATE guarded_ddl.trash_bin SET dropped_at = now() - interval '40 days'
 WHERE original_name = 'old_orders';
};
$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql('postgres', 'CREATE DATABASE plain_db');
$node->safe_psql($_, $setup) for qw(postgres shop);
$node->safe_psql('plain_db',
	'CREATE TABLE old_orders (id int); INSERT INTO old_orders VALUES (1)');

# The first pass waits one interval: nothing purged yet.
sleep 2;
is( $node->safe_psql(
		'shop',
		q{SELECT count(*) FROM guarded_ddl.trash_bin WHERE purged_at IS NOT NULL}),
	'0',
	'no purge before the first interval has passed');

# A shorter interval takes effect at the reload.
$node->safe_psql('postgres',
	q{ALTER SYSTEM SET guarded_ddl.trash_purge_interval = '1s'; SELECT pg_reload_conf()});

for my $db (qw(postgres shop))
{
	ok( $node->poll_query_until(
			$db,
			q{SELECT purged_at IS NOT NULL FROM guarded_ddl.trash_bin
			   WHERE original_name = 'old_orders'}),
		"[$db] the 40-day-old entry is purged by the worker, no soft drop needed");
	is( $node->safe_psql(
			$db,
			q{SELECT count(*) FROM pg_catalog.pg_class AS c
			    JOIN guarded_ddl.trash_bin AS t ON t.trash_name = c.relname
			   WHERE c.relnamespace = 'guarded_ddl_trash'::regnamespace
			     AND t.original_name = 'old_orders'}),
		'0',
		"[$db] its table is gone for real");
	is( $node->safe_psql(
			$db,
			q{SELECT decision || ':' || object_identity || ':' || (reason LIKE '%trash_retention%')::text
			    FROM guarded_ddl.audit WHERE decision = 'purged'}),
		'purged:guarded_ddl_trash.'
		  . $node->safe_psql($db,
			q{SELECT trash_name FROM guarded_ddl.trash_bin WHERE original_name = 'old_orders'})
		  . ':true',
		"[$db] the purge is audited as purged, naming the retention");
	is( $node->safe_psql(
			$db,
			q{SELECT purged_at IS NULL FROM guarded_ddl.trash_bin WHERE original_name = 'recent'}),
		't',
		"[$db] the recent entry stays");
}
is($node->safe_psql('plain_db', 'SELECT count(*) FROM old_orders'),
	'1', 'a database without guarded_ddl is left alone');

# trash_max_size: two more entries of one table's size each; a limit that
# fits one of them purges the oldest until the bin fits.
$node->safe_psql(
	'shop', q{
CREATE TABLE app.a (id int PRIMARY KEY); INSERT INTO app.a VALUES (1);
DROP TABLE app.a;
UPDATE guarded_ddl.trash_bin SET dropped_at = now() - interval '2 hours' WHERE original_name = 'a';
UPDATE guarded_ddl.trash_bin SET dropped_at = now() - interval '3 hours' WHERE original_name = 'recent';
});
my $one = $node->safe_psql('shop',
	q{SELECT pg_total_relation_size(format('guarded_ddl_trash.%I', trash_name)::regclass)
	    FROM guarded_ddl.trash_bin WHERE original_name = 'a'});
my $limit_kb = int($one * 1.5 / 1024);
$node->safe_psql('postgres',
	"ALTER SYSTEM SET guarded_ddl.trash_max_size = '${limit_kb}kB'; SELECT pg_reload_conf()");
ok( $node->poll_query_until(
		'shop',
		q{SELECT purged_at IS NOT NULL FROM guarded_ddl.trash_bin WHERE original_name = 'recent'}),
	'trash_max_size: the oldest entry is purged by the worker');
is( $node->safe_psql(
		'shop',
		q{SELECT original_name FROM guarded_ddl.trash_bin WHERE purged_at IS NULL ORDER BY id}),
	'a',
	'... and the newest, which fits the limit, stays');

# The worker's purges happened in their own sessions: the log names them.
$node->stop;
my $log = slurp_file($node->logfile);
unlike($log, qr/guarded_ddl recycle bin purge.*exited with exit code [1-9]/,
	'no purge worker failed');

done_testing();
