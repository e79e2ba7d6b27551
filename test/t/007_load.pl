# 007_load: 4 concurrent sessions x 200 statements, half of them refused
# DROPs of non-empty tables (each a durable denial through a background
# worker), the other half CREATE TABLE / allowed DROP of the empty table
# just created.  Each session has its own tables, except that every fifth
# refused DROP goes to one table all sessions share (so refusals queue on
# its lock).  Afterwards:
#   - the audit has exactly one row per guarded statement (400 denied,
#     200 allowed) and nothing was only logged;
#   - the clients saw exactly the 400 refusals and no other error;
#   - the server log has 400 ZG002 errors, no other error, no deadlock.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);

my $clients    = 4;
my $statements = 200;
my $full       = 5;      # non-empty tables per client, dropped in turn

my $node = PostgreSQL::Test::Cluster->new('load');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'guarded_ddl'
max_worker_processes = 16
lc_messages = 'C'
log_line_prefix = '%m [%p] %e %q%a '
log_statement = 'none'
deadlock_timeout = '100ms'
log_lock_waits = on
});
$node->start;

my $setup = "CREATE EXTENSION guarded_ddl;\n";
for my $c (1 .. $clients)
{
	$setup .= "CREATE SCHEMA l$c;\n";
	for my $t (1 .. $full)
	{
		$setup .=
		  "CREATE TABLE l$c.full_$t (id int); INSERT INTO l$c.full_$t SELECT generate_series(1, 100);\n";
	}
}
$setup .= "CREATE SCHEMA hot; CREATE TABLE hot.shared (id int); INSERT INTO hot.shared VALUES (1);\n";
$node->safe_psql('postgres', $setup);

# One script per client: odd statements are refused DROPs, even ones
# alternate CREATE TABLE of a new empty table and DROP of it.
my $tempdir = PostgreSQL::Test::Utils::tempdir;
my ($expect_denied, $expect_allowed) = (0, 0);
my @scripts;
for my $c (1 .. $clients)
{
	my $sql = '';
	for my $i (1 .. $statements)
	{
		if ($i % 2 == 1)
		{
			my $n = ($i - 1) / 2;
			my $t = $n % $full + 1;
			$sql .=
			  ($n % 5 == 4)
			  ? "DROP TABLE hot.shared;\n"
			  : "DROP TABLE l$c.full_$t;\n";
			$expect_denied++;
		}
		elsif ($i % 4 == 2)
		{
			$sql .= "CREATE TABLE l$c.e_$i (id int);\n";
		}
		else
		{
			my $created = $i - 2;
			$sql .= "DROP TABLE l$c.e_$created;\n";
			$expect_allowed++;
		}
	}
	my $file = "$tempdir/client_$c.sql";
	PostgreSQL::Test::Utils::append_to_file($file, $sql);
	push @scripts, $file;
}
is($expect_denied + $expect_allowed,
	$clients * $statements * 3 / 4,
	"the workload issues $expect_denied refused and $expect_allowed allowed guarded statements"
);

my $log_offset = -s $node->logfile;
my (@handles, @out, @err);
my $t0 = time();
for my $c (0 .. $clients - 1)
{
	$out[$c] = '';
	$err[$c] = '';
	push @handles,
	  IPC::Run::start(
		[
			'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=0',
			'-d', $node->connstr('postgres'),
			'-f', $scripts[$c]
		],
		'>', \$out[$c], '2>', \$err[$c],
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
}
$_->finish for @handles;
my $elapsed = time() - $t0;
diag(sprintf('%d sessions x %d statements took %.1f s (%.0f statements/s)',
		$clients, $statements, $elapsed,
		$clients * $statements / $elapsed));

my ($refusals, $other_errors) = (0, 0);
for my $c (0 .. $clients - 1)
{
	for my $line (split /\n/, $err[$c])
	{
		next unless $line =~ /ERROR:/;
		if ($line =~ /ERROR:  refusing to drop table "(l\d+\.full_\d+|hot\.shared)"/)
		{
			$refusals++;
		}
		else
		{
			$other_errors++;
			diag("client " . ($c + 1) . ": $line");
		}
	}
}
is($refusals, $expect_denied,
	'the clients got exactly one refusal per refused DROP');
is($other_errors, 0, 'the clients got no other error');

is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM guarded_ddl.audit}),
	$expect_denied + $expect_allowed,
	'the audit has one row per guarded statement issued, and no other row');
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM guarded_ddl.audit WHERE decision = 'denied' AND (object_name LIKE 'full\_%' OR object_identity = 'hot.shared')}
	),
	$expect_denied,
	'every refused DROP has its denied row');
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM guarded_ddl.audit WHERE decision = 'allowed' AND object_name LIKE 'e\_%' AND holds_data = false}
	),
	$expect_allowed,
	'every allowed DROP of an empty table has its allowed row');
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM (SELECT backend_pid FROM guarded_ddl.audit GROUP BY backend_pid) s}
	),
	$clients,
	'the rows came from the four sessions');
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM pg_tables WHERE tablename LIKE 'e\_%'}),
	'0', 'every table created by the workload was dropped');
is( $node->safe_psql(
		'postgres',
		q{SELECT sum(n) FROM (SELECT count(*) AS n FROM l1.full_1 UNION ALL SELECT count(*) FROM l4.full_5 UNION ALL SELECT count(*) FROM hot.shared) s}
	),
	'201', 'the refused tables keep their rows');

my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile, $log_offset);
my @log_errors  = grep { / ERROR: / } split /\n/, $log;
my @log_refused = grep { / ZG002 .*ERROR:  refusing to drop table / } @log_errors;
my @log_other   = grep { !/ ZG002 .*ERROR:  refusing to drop table / } @log_errors;
is(scalar(@log_refused), $expect_denied,
	'the server log has one ZG002 error per refused DROP');
is(scalar(@log_other), 0, 'the server log has no other ERROR')
  or diag(join("\n", @log_other[ 0 .. ($#log_other < 9 ? $#log_other : 9) ]));
my @refused_lines = $log =~ /guarded_ddl: refused drop of table/g;
is(scalar(@refused_lines), $expect_denied,
	'the server log has one "guarded_ddl: refused" line per refused DROP');
unlike($log, qr/deadlock/i, 'no deadlock in the server log');
unlike($log, qr/denial recorded in the server log only/,
	'no denial fell back to the server log only (no timeout, no lack of workers)');
unlike($log, qr/FATAL|PANIC|TRAP:|terminated by signal/,
	'no FATAL, PANIC or crashed process in the server log');

$node->stop;
done_testing();
