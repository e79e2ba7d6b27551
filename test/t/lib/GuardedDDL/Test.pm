# GuardedDDL::Test -- what the TAP tests share about clusters and SQL.
#
#   guarded_cluster(NAME, preload => 1, conf => '...')
#       a started PostgreSQL::Test::Cluster with the settings every test
#       needs (workers for the audit writer, messages in English), the
#       library preloaded unless preload => 0, and CONF appended;
#   run_sql(NODE, DB, SQL, %psql_options)
#       (exit code, SQLSTATE or '', stdout, stderr) of SQL run by psql with
#       verbose errors; a connection refused at startup, which prints no
#       SQLSTATE, gives 'FATAL';
#   sqlstate_of(NODE, DB, SQL)
#       (exit code, SQLSTATE or '', stderr), the same without stdout;
#   crash_restart(NODE)
#       SIGKILL the postmaster, wait until it is gone, start the server
#       again (crash recovery); two test results say both happened.
package GuardedDDL::Test;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT_OK = qw(crash_restart guarded_cluster run_sql sqlstate_of);

sub guarded_cluster
{
	my ($name, %opts) = @_;
	my $preload = $opts{preload} // 1;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%{ $opts{init} // {} });
	$node->append_conf('postgresql.conf',
		"max_worker_processes = 16\nlc_messages = 'C'\n"
		  . ($preload ? "shared_preload_libraries = 'guarded_ddl'\n" : '')
		  . ($opts{conf} // ''));
	$node->start;
	return $node;
}

sub run_sql
{
	my ($node, $db, $sql, %opts) = @_;
	my ($out, $err) = ('', '');
	my $rc = $node->psql(
		$db, "\\set VERBOSITY verbose\n$sql",
		stdout => \$out,
		stderr => \$err,
		%opts);
	my ($state) = $err =~ /(?:ERROR|FATAL):\s+([0-9A-Z]{5}):/;
	$state //= 'FATAL' if $err =~ /FATAL:/;
	return ($rc, $state // '', $out, $err);
}

sub sqlstate_of
{
	my ($rc, $state, $out, $err) = run_sql(@_);
	return ($rc, $state, $err);
}

sub crash_restart
{
	my ($node) = @_;
	my $old_pid = (split /\n/,
		  PostgreSQL::Test::Utils::slurp_file($node->data_dir . '/postmaster.pid'))[0];
	$node->kill9;
	# SIGKILL is asynchronous: wait until the old postmaster is gone.  Its
	# children exit when they notice, and until then the old shared memory
	# is still in use, so the start is retried too.
	for my $attempt (1 .. 600)
	{
		last unless kill(0, $old_pid);
		select(undef, undef, undef, 0.1);
	}
	ok(!kill(0, $old_pid), 'the postmaster was killed with SIGKILL');
	my $started = 0;
	for my $attempt (1 .. 60)
	{
		last if ($started = $node->start(fail_ok => 1));
		sleep 1;
	}
	ok($started, 'the server restarts after kill -9 of the postmaster');
	return;
}

1;
