# 012_denial_flood: every refusal leaves its durable audit row, however the
# refusals arrive (DESIGN 3.7), with max_worker_processes = 8, once with
# the library preloaded (the denial writer of each database, fed through
# shared memory) and once without (a worker per refusal, at most a quarter
# of max_worker_processes at once):
#   - 8 clients x 50 refused DROPs at once: 400 refusals, 400 denied rows,
#     none "in the server log only"; a parallel query run during the flood
#     gets every worker it planned;
#   - statement_timeout = '4ms' before each of 60 refused DROPs: every
#     refusal the server log has is in the audit;
#   - a database its owner closed to new connections (ALLOW_CONNECTIONS
#     false) while a session stays connected still gets its denials;
#   - status() reports the kind of writer and no refusal in the log only.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use GuardedDDL::Test qw(guarded_cluster);

my $clients    = 8;
my $per_client = 50;
my $tmp        = PostgreSQL::Test::Utils::tempdir();

# start_psql(node, db, script, name): psql running the script in the
# background; returns { h => harness, out => ..., err => ... }.
sub start_psql
{
	my ($node, $db, $script, $name) = @_;
	my $file = "$tmp/$name.sql";
	open(my $fh, '>', $file) or die "cannot write $file: $!";
	print $fh $script;
	close($fh);
	my $r = { out => '', err => '' };
	$r->{h} = IPC::Run::start(
		[ 'psql', '-X', '-q', '-d', $node->connstr($db), '-f', $file ],
		'>', \$r->{out}, '2>', \$r->{err});
	return $r;
}

for my $preload (1, 0)
{
	my $label = $preload ? 'preloaded' : 'not preloaded';
	# (guarded_cluster writes max_worker_processes = 16 first; the later
	# line wins)
	my $node = guarded_cluster(
		"flood_$preload",
		preload => $preload,
		conf    => "max_worker_processes = 8\nmax_parallel_workers = 8\n"
		  . "max_parallel_workers_per_gather = 4\nmax_connections = 40\n");
	is($node->safe_psql('postgres', 'SHOW max_worker_processes'),
		'8', "[$label] max_worker_processes = 8");
	$node->safe_psql('postgres',
		    "CREATE EXTENSION guarded_ddl;\nCREATE SCHEMA app;\n"
		  . "CREATE TABLE app.big (id int, pad text);\n"
		  . "INSERT INTO app.big SELECT g, repeat('x', 50) FROM generate_series(1, 200000) AS g;\n"
		  . "ANALYZE app.big;\n"
		  . join('',
			map { "CREATE TABLE app.keep_$_ (id int); INSERT INTO app.keep_$_ VALUES (1);\n" }
			  1 .. $clients));

	# --- the flood ----------------------------------------------------------

	my $log_offset = -s $node->logfile;
	my @flood = map {
		start_psql($node, 'postgres', "DROP TABLE app.keep_$_;\n" x $per_client,
			"flood_${preload}_$_")
	} 1 .. $clients;

	# A parallel query while it runs: every planned worker must be launched.
	my @launched;
	for (1 .. 5)
	{
		my $plan = $node->safe_psql(
			'postgres', q{
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM app.big;});
		my ($planned) = $plan =~ /Workers Planned: (\d+)/;
		my ($got)     = $plan =~ /Workers Launched: (\d+)/;
		push @launched, ($got // 'none') . '/' . ($planned // 'none');
	}
	$_->{h}->finish for @flood;

	my $refused = 0;
	$refused += () = $_->{err} =~ /ERROR:\s+refusing to drop table/g for @flood;
	is($refused, $clients * $per_client,
		"[$label] $clients clients x $per_client refused DROPs");
	is( $node->safe_psql(
			'postgres',
			q{SELECT count(*) FROM guarded_ddl.denials WHERE object_identity LIKE 'app.keep\_%'}),
		$clients * $per_client,
		"[$label] ... and as many denied rows in the audit");
	ok(!$node->log_contains(qr/denial recorded in the server log only/, $log_offset),
		"[$label] no denial reached only the server log");
	is_deeply([ grep { !m{^(\d+)/\1$} } @launched ],
		[],
		"[$label] a parallel query during the flood got every worker it planned ("
		  . join(', ', @launched) . ')');
	is($node->safe_psql('postgres', 'SELECT count(*) FROM app.keep_1'),
		'1', "[$label] the tables are untouched");

	# --- statement_timeout ----------------------------------------------------

	$node->safe_psql('postgres',
		'CREATE TABLE app.tmo (id int); INSERT INTO app.tmo VALUES (1);');
	$log_offset = -s $node->logfile;
	my $tmo = start_psql($node, 'postgres',
		"SET statement_timeout = '4ms';\nDROP TABLE app.tmo;\n" x 60,
		"timeout_$preload");
	$tmo->{h}->finish;
	my $log = slurp_file($node->logfile, $log_offset);
	my $logged = () = $log =~ /guarded_ddl: refused drop of table "app\.tmo"/g;
	cmp_ok($logged, '>', 0,
		"[$label] statement_timeout = 4ms: $logged refusals reached the server log");
	is( $node->safe_psql(
			'postgres',
			q{SELECT count(*) FROM guarded_ddl.denials WHERE object_identity = 'app.tmo'}),
		$logged,
		"[$label] ... and every one of them is in the audit");

	# --- a database closed to new connections ---------------------------------

	$node->safe_psql('postgres', 'CREATE ROLE owner_role LOGIN CREATEDB');
	$node->safe_psql('postgres', 'CREATE DATABASE own OWNER owner_role');
	$node->safe_psql(
		'own', q{
CREATE EXTENSION guarded_ddl;
CREATE TABLE public.keep (id int); INSERT INTO public.keep VALUES (1);
ALTER TABLE public.keep OWNER TO owner_role;
});
	my $closed = start_psql(
		$node, 'own', q{
SET ROLE owner_role;
ALTER DATABASE own ALLOW_CONNECTIONS false;
DROP TABLE public.keep;
RESET ROLE;
SELECT 'denials=' || count(*) FROM guarded_ddl.denials WHERE object_identity = 'public.keep';
}, "closed_$preload");
	$closed->{h}->finish;
	like($closed->{err}, qr/refusing to drop table "public\.keep"/,
		"[$label] in a database closed to new connections the DROP is refused");
	like($closed->{out}, qr/denials=1/, "[$label] ... and its denial is in the audit");
	$node->safe_psql('postgres', 'ALTER DATABASE own ALLOW_CONNECTIONS true');

	# --- status() ---------------------------------------------------------------

	like(
		$node->safe_psql(
			'postgres',
			q{SELECT ok::text || ': ' || value FROM guarded_ddl.status() WHERE item = 'audit writer'}),
		$preload
		? qr/^true: a writer per database, fed through shared memory; 0 refusals/
		: qr/^true: a background worker per refusal; 0 refusals/,
		"[$label] status() names the writer and no refusal in the server log only");

	$node->stop;
}

done_testing();
