# 012_denial_flood: every refusal leaves its durable audit row, however the
# refusals arrive (DESIGN 3.7), with the library preloaded and
# max_worker_processes = 8:
#   - 8 clients x 50 refused DROPs at once: 400 refusals, 400 denied rows,
#     none "in the server log only"; a parallel query run during the flood
#     gets every worker it planned (denial writers queue, at most a quarter
#     of max_worker_processes at a time);
#   - statement_timeout = '4ms' before each of 60 refused DROPs: every
#     refusal the server log has is in the audit;
#   - a database its owner closed to new connections (ALLOW_CONNECTIONS
#     false) while a session stays connected still gets its denials.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use GuardedDDL::Test qw(guarded_cluster);

my $node = guarded_cluster(
	'flood',
	conf => q{
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_workers_per_gather = 4
max_connections = 40
});
# (guarded_cluster also writes max_worker_processes = 16; the later line wins)

my $clients = 8;
my $per_client = 50;
$node->safe_psql(
	'postgres', q{
CREATE EXTENSION guarded_ddl;
CREATE SCHEMA app;
CREATE TABLE app.big (id int, pad text);
INSERT INTO app.big SELECT g, repeat('x', 50) FROM generate_series(1, 200000) AS g;
ANALYZE app.big;
} . join('', map { "CREATE TABLE app.keep_$_ (id int); INSERT INTO app.keep_$_ VALUES (1);\n" } 1 .. $clients));
is($node->safe_psql('postgres', 'SHOW max_worker_processes'), '8', 'max_worker_processes = 8');

# psql SCRIPT in the background: its harness and output.
my $tmp = PostgreSQL::Test::Utils::tempdir();
sub start_psql
{
	my ($db, $script, $name) = @_;
	my $file = "$tmp/$name.sql";
	open(my $fh, '>', $file) or die "cannot write $file: $!";
	print $fh $script;
	close($fh);
	my %r = (out => '', err => '');
	$r{h} = IPC::Run::start(
		[ 'psql', '-X', '-q', '-d', $node->connstr($db), '-f', $file ],
		'>', \$r{out}, '2>', \$r{err});
	return \%r;
}

# --- the flood --------------------------------------------------------------

my $log_offset = -s $node->logfile;
my @flood = map {
	start_psql('postgres', "DROP TABLE app.keep_$_;\n" x $per_client, "flood_$_")
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
	my ($planned)  = $plan =~ /Workers Planned: (\d+)/;
	my ($got) = $plan =~ /Workers Launched: (\d+)/;
	push @launched, ($got // 'none') . '/' . ($planned // 'none');
}
$_->{h}->finish for @flood;

my $refused = 0;
$refused += () = $_->{err} =~ /ERROR:\s+refusing to drop table/g for @flood;
is($refused, $clients * $per_client, "$clients clients x $per_client refused DROPs");
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM guarded_ddl.denials WHERE object_identity LIKE 'app.keep\_%'}),
	$clients * $per_client,
	'... and as many denied rows in the audit');
ok(!$node->log_contains(qr/denial recorded in the server log only/, $log_offset),
	'no denial reached only the server log');
is_deeply([ grep { !m{^(\d+)/\1$} } @launched ], [],
	'a parallel query during the flood got every worker it planned (' . join(', ', @launched) . ')');
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.keep_1'), '1', 'the tables are untouched');

# --- statement_timeout ---------------------------------------------------------

$node->safe_psql('postgres',
	'CREATE TABLE app.tmo (id int); INSERT INTO app.tmo VALUES (1);');
$log_offset = -s $node->logfile;
my $tmo = start_psql('postgres',
	"SET statement_timeout = '4ms';\nDROP TABLE app.tmo;\n" x 60, 'timeout');
$tmo->{h}->finish;
my $log = slurp_file($node->logfile, $log_offset);
my $logged = () = $log =~ /guarded_ddl: refused drop of table "app\.tmo"/g;
cmp_ok($logged, '>', 0, "statement_timeout = 4ms: $logged refusals reached the server log");
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM guarded_ddl.denials WHERE object_identity = 'app.tmo'}),
	$logged,
	'... and every one of them is in the audit');

# --- a database closed to new connections ----------------------------------------

$node->safe_psql('postgres', 'CREATE ROLE owner_role LOGIN CREATEDB');
$node->safe_psql('postgres', 'CREATE DATABASE own OWNER owner_role');
$node->safe_psql('own', q{
CREATE EXTENSION guarded_ddl;
CREATE TABLE public.keep (id int); INSERT INTO public.keep VALUES (1);
ALTER TABLE public.keep OWNER TO owner_role;
});
my $closed = start_psql('own', q{
SET ROLE owner_role;
ALTER DATABASE own ALLOW_CONNECTIONS false;
DROP TABLE public.keep;
RESET ROLE;
SELECT 'denials=' || count(*) FROM guarded_ddl.denials WHERE object_identity = 'public.keep';
}, 'closed');
$closed->{h}->finish;
like($closed->{err}, qr/refusing to drop table "public\.keep"/,
	'in a database closed to new connections the DROP is refused');
like($closed->{out}, qr/denials=1/, '... and its denial is in the audit');
$node->safe_psql('postgres', 'ALTER DATABASE own ALLOW_CONNECTIONS true');

$node->stop;
done_testing();
