# 004_preload_variants: the utility hook is there exactly when the library
# is preloaded, and guards TRUNCATE, DROP DATABASE and guarded_ddl's own
# event triggers then.
#
#  (a) not preloaded: status() says the hook is inactive, TRUNCATE is not
#      guarded;
#  (d) not preloaded, library loaded lazily by an event trigger in the
#      middle of a session: the hook must not switch on for the rest of
#      that session;
#  (b) session_preload_libraries set per database (no restart, new
#      connection): the hook is active, TRUNCATE refused;
#  (c) shared_preload_libraries (restart): TRUNCATE refused; DROP DATABASE
#      of a protected database refused (ZG004) until the session names it
#      in guarded_ddl.allow_drop_database, both logged; ALTER EVENT TRIGGER
#      ... DISABLE on guarded_ddl's own trigger refused (ZG003), allowed
#      after override() in the same transaction;
#  (e) preloaded, in a database without the extension: TRUNCATE works.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use GuardedDDL::Test qw(run_sql);

# Run SQL in a fresh psql session; returns (exit code, SQLSTATE of the
# first error or '', stdout, stderr).
sub hook_ok
{
	my ($node, $db) = @_;
	return $node->safe_psql($db,
		q{SELECT ok FROM guarded_ddl.status() WHERE item = 'utility hook'});
}

# A database with the extension and a non-empty table app.t.
sub setup_db
{
	my ($node, $db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql(
		$db, q{
CREATE EXTENSION guarded_ddl;
CREATE SCHEMA app;
CREATE TABLE app.t (id int);
INSERT INTO app.t SELECT generate_series(1, 5);
CREATE TABLE app.spare (id int);
INSERT INTO app.spare SELECT generate_series(1, 5);
});
	return;
}

my $node = PostgreSQL::Test::Cluster->new('preload');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
max_worker_processes = 16
lc_messages = 'C'
});
$node->start;

# --- (a) not preloaded ----------------------------------------------------

setup_db($node, 'plain');
is(hook_ok($node, 'plain'), 'f',
	'(a) not preloaded: status() reports the utility hook inactive');
like(
	$node->safe_psql('plain',
		q{SELECT value FROM guarded_ddl.status() WHERE item = 'utility hook'}),
	qr/^inactive/,
	'(a) and says so in words');
my ($rc, $state, $out, $err) = run_sql($node, 'plain', 'TRUNCATE app.t;');
is($rc, 0, '(a) not preloaded: TRUNCATE of a non-empty table is not refused')
  or diag($err);
is($node->safe_psql('plain', 'SELECT count(*) FROM app.t'),
	'0', '(a) the table really was truncated');
is( $node->safe_psql(
		'plain', q{SELECT count(*) FROM guarded_ddl.audit WHERE operation = 'truncate'}),
	'0', '(a) no truncate intent was recorded without the hook');

# --- (d) lazy load by an event trigger, same session -----------------------

$node->safe_psql('plain', 'INSERT INTO app.t SELECT generate_series(1, 5)');
($rc, $state, $out, $err) = run_sql(
	$node, 'plain', q{
\set ON_ERROR_STOP 0
DROP TABLE app.spare;
TRUNCATE app.t;
SELECT 'hook: ' || ok FROM guarded_ddl.status() WHERE item = 'utility hook';
SELECT 'rows: ' || count(*) FROM app.t;
});
is($state, 'ZG002',
	'(d) the first DROP of the session is refused by the event trigger (loading the library)'
) or diag($err);
my @errors = $err =~ /ERROR:/g;
is(scalar(@errors), 1,
	'(d) TRUNCATE later in the same session is not refused: the hook did not switch on mid-session'
);
like($out, qr/^rows: 0$/m, '(d) and the table was truncated');
like($out, qr/^hook: false$/m,
	'(d) status() in that session still says the hook is inactive');

# --- (b) session_preload_libraries per database ----------------------------

setup_db($node, 'sessdb');
$node->safe_psql('postgres',
	q{ALTER DATABASE sessdb SET session_preload_libraries = 'guarded_ddl'});
is(hook_ok($node, 'sessdb'), 't',
	'(b) session_preload_libraries set per database: a new connection has the hook active'
);
is(hook_ok($node, 'plain'), 'f',
	'(b) other databases are not affected');
($rc, $state, $out, $err) = run_sql($node, 'sessdb', 'TRUNCATE app.t;');
is($state, 'ZG002',
	'(b) TRUNCATE of a non-empty table is refused with ZG002 under session_preload_libraries'
) or diag($err);
is($node->safe_psql('sessdb', 'SELECT count(*) FROM app.t'),
	'5', '(b) the table keeps its rows');
is( $node->safe_psql(
		'sessdb',
		q{SELECT decision || ' ' || operation || ' ' || object_identity FROM guarded_ddl.denials}
	),
	'denied truncate app.t',
	'(b) the refused TRUNCATE is in guarded_ddl.denials');

# --- (c) shared_preload_libraries ------------------------------------------

$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'guarded_ddl'\n");
$node->restart;

setup_db($node, 'shared');
is(hook_ok($node, 'shared'), 't',
	'(c) shared_preload_libraries: status() reports the utility hook active');
($rc, $state, $out, $err) = run_sql($node, 'shared', 'TRUNCATE app.t;');
is($state, 'ZG002',
	'(c) TRUNCATE of a non-empty table is refused with ZG002')
  or diag($err);
($rc, $state, $out, $err) =
  run_sql($node, 'shared', 'TRUNCATE app.t, app.spare;');
is($state, 'ZG002', '(c) TRUNCATE of two non-empty tables is refused')
  or diag($err);
is( $node->safe_psql(
		'shared', 'SELECT (SELECT count(*) FROM app.t) + (SELECT count(*) FROM app.spare)'),
	'10', '(c) both tables keep their rows');

# After a backup marker, TRUNCATE is allowed and audited in its transaction.
$node->safe_psql(
	'shared', q{
SELECT guarded_ddl.record_backup('pg_dump');
TRUNCATE app.spare;
});
is( $node->safe_psql(
		'shared',
		q{SELECT decision, holds_data FROM guarded_ddl.audit WHERE operation = 'truncate' AND decision <> 'denied'}
	),
	'allowed|t',
	'(c) with a recent backup TRUNCATE is allowed and audited');

# DROP DATABASE of a protected database (default pattern '*').
$node->safe_psql('postgres', 'CREATE DATABASE victim');
my $log_offset = -s $node->logfile;
($rc, $state, $out, $err) = run_sql($node, 'postgres', 'DROP DATABASE victim;');
is($state, 'ZG004', '(c) DROP DATABASE of a protected database is refused with ZG004')
  or diag($err);
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM pg_database WHERE datname = 'victim'}),
	'1', '(c) the database still exists');
ok( $node->log_contains(
		qr/guarded_ddl: refused DROP DATABASE victim by postgres/, $log_offset),
	'(c) the refused DROP DATABASE is in the server log');

($rc, $state, $out, $err) = run_sql(
	$node, 'postgres', q{
SET guarded_ddl.allow_drop_database = 'other';
DROP DATABASE victim;
});
is($state, 'ZG004',
	'(c) naming another database in allow_drop_database does not help')
  or diag($err);

$log_offset = -s $node->logfile;
($rc, $state, $out, $err) = run_sql(
	$node, 'postgres', q{
SET guarded_ddl.allow_drop_database = 'victim';
DROP DATABASE victim;
});
is($rc, 0, '(c) DROP DATABASE is allowed after SET guarded_ddl.allow_drop_database = \'victim\'')
  or diag($err);
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM pg_database WHERE datname = 'victim'}),
	'0', '(c) the database is gone');
ok( $node->log_contains(
		qr/guarded_ddl: allowing DROP DATABASE victim by postgres/, $log_offset),
	'(c) the allowed DROP DATABASE is in the server log');

# guarded_ddl's own event triggers.
($rc, $state, $out, $err) = run_sql($node, 'shared',
	'ALTER EVENT TRIGGER guarded_ddl_sql_drop DISABLE;');
is($state, 'ZG003',
	'(c) ALTER EVENT TRIGGER guarded_ddl_sql_drop DISABLE is refused with ZG003')
  or diag($err);
($rc, $state, $out, $err) = run_sql($node, 'shared',
	'DROP EVENT TRIGGER guarded_ddl_ddl_command_start;');
is($state, 'ZG003',
	'(c) DROP EVENT TRIGGER guarded_ddl_ddl_command_start is refused with ZG003')
  or diag($err);
($rc, $state, $out, $err) = run_sql(
	$node, 'shared', q{
BEGIN;
SELECT guarded_ddl.override('maintenance window OPS-1');
ALTER EVENT TRIGGER guarded_ddl_sql_drop DISABLE;
SELECT 'inside: ' || evtenabled::text FROM pg_event_trigger WHERE evtname = 'guarded_ddl_sql_drop';
ROLLBACK;
});
is($rc, 0,
	'(c) after override() in the same transaction ALTER EVENT TRIGGER ... DISABLE is allowed'
) or diag($err);
like($out, qr/^inside: D$/m, '(c) the trigger was disabled inside that transaction');
is( $node->safe_psql(
		'shared',
		q{SELECT evtenabled FROM pg_event_trigger WHERE evtname = 'guarded_ddl_sql_drop'}
	),
	'A',
	'(c) after ROLLBACK the trigger is ENABLE ALWAYS again');
$node->safe_psql(
	'shared', q{
BEGIN;
SELECT guarded_ddl.override('maintenance window OPS-2');
ALTER EVENT TRIGGER guarded_ddl_sql_drop DISABLE;
ALTER EVENT TRIGGER guarded_ddl_sql_drop ENABLE ALWAYS;
COMMIT;
});
is( $node->safe_psql(
		'shared',
		q{SELECT decision || ' / ' || reason FROM guarded_ddl.audit WHERE object_type = 'event trigger' AND decision <> 'denied'}
	),
	'overridden / maintenance window OPS-2',
	'(c) a committed overridden change of an own event trigger is audited as overridden with the reason'
);
is( $node->safe_psql(
		'shared',
		q{SELECT ok FROM guarded_ddl.status() WHERE item = 'event triggers'}),
	't', '(c) status() sees all four event triggers enabled always');
is( $node->safe_psql(
		'shared',
		q{SELECT count(*) FROM guarded_ddl.denials WHERE object_type = 'event trigger'}
	),
	'2',
	'(c) both refused event trigger changes are in guarded_ddl.denials');

# --- (e) preloaded, database without the extension --------------------------

$node->safe_psql(
	'postgres', q{
CREATE DATABASE noext;
});
$node->safe_psql(
	'noext', q{
CREATE SCHEMA app;
CREATE TABLE app.t (id int);
INSERT INTO app.t SELECT generate_series(1, 5);
});
($rc, $state, $out, $err) = run_sql($node, 'noext', 'TRUNCATE app.t;');
is($rc, 0,
	'(e) preloaded, database without the extension: TRUNCATE works normally')
  or diag($err);
is($node->safe_psql('noext', 'SELECT count(*) FROM app.t'),
	'0', '(e) and the table is empty');
($rc, $state, $out, $err) = run_sql($node, 'noext', 'DROP TABLE app.t;');
is($rc, 0, '(e) so does DROP TABLE') or diag($err);

$node->stop;
done_testing();
