# 009_override_not_a_setting: override() is the only way to an override.
# guarded_ddl.override_reason is no setting: a role or database default set
# in a session that never loaded the library, a connection option
# (PGOPTIONS), a line in postgresql.conf -- none of them makes a DROP
# overridden, with the library preloaded or not.  And an override() ends
# with its transaction, its savepoint, and never reaches the next
# transaction of the same connection (a transaction-mode pooler).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use GuardedDDL::Test qw(run_sql);

# sqlstate(node, sql, %connection options): the SQLSTATE the SQL ends with,
# or 'ok'.
sub sqlstate
{
	my ($node, $sql, %opts) = @_;
	my (undef, $state) = run_sql($node, 'postgres', $sql, %opts);
	return $state eq '' ? 'ok' : $state;
}
for my $preload (0, 1)
{
	my $label = $preload ? 'preloaded' : 'not preloaded';
	my $node = PostgreSQL::Test::Cluster->new("override_$preload");
	$node->init;
	$node->append_conf('postgresql.conf', "max_worker_processes = 16\nlc_messages = 'C'\n");
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'guarded_ddl'\n") if $preload;
	$node->start;
	$node->safe_psql(
		'postgres', q{
CREATE EXTENSION guarded_ddl;
CREATE ROLE app_user LOGIN;
CREATE SCHEMA app AUTHORIZATION app_user;
SET ROLE app_user;
CREATE TABLE app.t1 (id int); INSERT INTO app.t1 VALUES (1);
CREATE TABLE app.t2 (id int); INSERT INTO app.t2 VALUES (1);
CREATE TABLE app.t3 (id int); INSERT INTO app.t3 VALUES (1);
CREATE TABLE app.t4 (id int); INSERT INTO app.t4 VALUES (1);
});

	# A role default, set where the library is not loaded (ALTER ROLE fires
	# no event trigger).  Preloaded, the reserved prefix refuses it at once.
	my $alter = sqlstate($node,
		q{ALTER ROLE app_user IN DATABASE postgres SET guarded_ddl.override_reason = 'sneaky'});
	is($alter, $preload ? '42602' : 'ok',
		"[$label] ALTER ROLE ... SET guarded_ddl.override_reason: "
		  . ($preload ? 'refused, the prefix is reserved' : 'stored as a placeholder'));
	is(sqlstate($node, 'DROP TABLE app.t1', extra_params => [ '-U', 'app_user' ]),
		'ZG002', "[$label] ... and app_user's DROP is still refused");

	# A connection option, for a superuser.
	is( sqlstate(
			$node, 'DROP TABLE app.t2',
			extra_params => [ '-U', $node->safe_psql('postgres', 'SELECT current_user') ],
			connstr => undef),
		'ZG002', "[$label] a superuser's DROP is refused without override()");
	{
		local $ENV{PGOPTIONS} = '-c guarded_ddl.override_reason=sneaky';
		my $state = sqlstate($node, 'DROP TABLE app.t2');
		ok($state eq 'ZG002' || $state eq '42602' || $state eq 'FATAL',
			"[$label] PGOPTIONS guarded_ddl.override_reason does not override ($state)");
	}
	is($node->safe_psql('postgres', q{SELECT count(*) FROM app.t2}), '1',
		"[$label] ... and app.t2 is still there");

	# A configuration line (reload).
	$node->append_conf('postgresql.conf', "guarded_ddl.override_reason = 'sneaky'\n");
	$node->reload;
	is(sqlstate($node, 'DROP TABLE app.t3'), 'ZG002',
		"[$label] a postgresql.conf line does not override");

	# override() itself: for its transaction only; a rolled-back savepoint
	# takes it back; the next transaction of the connection has none.
	is( sqlstate(
			$node, q{
BEGIN;
SAVEPOINT s;
SELECT guarded_ddl.override('ticket 1');
ROLLBACK TO SAVEPOINT s;
DROP TABLE app.t4;
COMMIT;}),
		'ZG002', "[$label] a rolled-back savepoint takes the override back");
	is( sqlstate(
			$node, q{
BEGIN; SELECT guarded_ddl.override('ticket 2'); COMMIT;
DROP TABLE app.t4;}),
		'ZG002', "[$label] the next transaction of the connection has no override");
	is( sqlstate(
			$node, q{
BEGIN; SELECT guarded_ddl.override('ticket 3'); DROP TABLE app.t4; COMMIT;}),
		'ok', "[$label] override() in the transaction lets the DROP through");
	is( $node->safe_psql(
			'postgres',
			q{SELECT decision || ': ' || reason FROM guarded_ddl.audit
			   WHERE object_identity = 'app.t4' AND decision = 'overridden'}),
		'overridden: ticket 3',
		"[$label] ... audited as overridden with its reason");
	$node->stop;
}
done_testing();
