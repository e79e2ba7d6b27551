# 002_no_worker_slot: when no background worker slot is free, a denial
# cannot be committed by the audit worker.  The statement must be refused
# all the same (fail closed), promptly, and the denial must be in the
# server log, together with the reason it is only there.
#
# max_worker_processes = 1 and the logical replication launcher (a static
# background worker registered at postmaster start) holds that one slot,
# so RegisterDynamicBackgroundWorker() has nothing left to give.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use GuardedDDL::Test qw(sqlstate_of);
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('noslot');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'guarded_ddl'
max_worker_processes = 1
max_logical_replication_workers = 1
max_parallel_workers = 0
max_parallel_workers_per_gather = 0
lc_messages = 'C'
});
$node->start;

# The launcher is the one worker: wait for it to be up.
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'logical replication launcher'}
) or die 'the logical replication launcher did not start';
is($node->safe_psql('postgres', 'SHOW max_worker_processes'),
	'1', 'max_worker_processes is 1, taken by the logical replication launcher');

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION guarded_ddl;
CREATE SCHEMA app;
CREATE TABLE app.keep (id int);
INSERT INTO app.keep SELECT generate_series(1, 10);
CREATE TABLE app.empty_one (id int);
});

my $log_offset = -s $node->logfile;
my $t0 = time();
my ($rc, $state, $err) =
  sqlstate_of($node, 'postgres', 'DROP TABLE app.keep;');
my $elapsed = time() - $t0;

isnt($rc, 0, 'DROP TABLE of a non-empty table fails without a free worker slot');
is($state, 'ZG002',
	'it is refused with SQLSTATE ZG002 although the denial cannot be committed'
) or diag($err);
cmp_ok($elapsed, '<', 4.5,
	'the refusal does not wait for guarded_ddl.audit_worker_timeout (5 s)');
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.keep'),
	'10', 'the table and its rows are untouched');

ok( $node->log_contains(
		qr/guarded_ddl: refused drop of table "app\.keep"/, $log_offset),
	'the server log has the "guarded_ddl: refused" line');
ok( $node->log_contains(
		qr/guarded_ddl: denial recorded in the server log only: no background worker slot is free/,
		$log_offset),
	'the server log says the denial is only there because no background worker slot is free'
);

# status() counts what reached only the log.
is( $node->safe_psql(
		'postgres',
		q{SELECT ok::text || ': ' || value FROM guarded_ddl.status() WHERE item = 'audit writer'}),
	'false: a writer per database, fed through shared memory; 1 refusal in the last 24 h reached only the server log',
	'status() reports the refusal that reached only the server log');

# With the hook (preloaded): TRUNCATE takes the same path.
$log_offset = -s $node->logfile;
($rc, $state, $err) =
  sqlstate_of($node, 'postgres', 'TRUNCATE app.keep;');
is($state, 'ZG002', 'TRUNCATE of the non-empty table is refused too')
  or diag($err);
ok( $node->log_contains(
		qr/denial recorded in the server log only: no background worker slot is free/,
		$log_offset),
	'and its denial is logged with the same reason');

# Allowed intents are audited in the statement's own transaction: no worker.
$node->safe_psql('postgres', 'DROP TABLE app.empty_one');
is( $node->safe_psql(
		'postgres',
		q{SELECT decision FROM guarded_ddl.audit WHERE object_identity = 'app.empty_one'}
	),
	'allowed',
	'an allowed DROP of an empty table still works and is audited without a worker'
);

$node->stop;
done_testing();
