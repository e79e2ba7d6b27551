# 003_recovery_recipe: the recovery settings guarded_ddl.recovery prints for
# an allowed DROP really bring the dropped rows back.
#
# A primary with WAL archiving; a base backup; then a table is filled, a
# backup marker recorded (so the DROP is allowed) and the table dropped.
# Two point-in-time restores of the base backup:
#   1. with the recovery_settings line of guarded_ddl.recovery as printed
#      (recovery_target_name = the restore point guarded_ddl created just
#      before the DROP, recovery_target_action = 'pause'): the table must be
#      readable while paused in hot standby, and after promotion;
#   2. with the xid form: recovery_target_xid = the audit row's txid,
#      recovery_target_inclusive = off, then promoted.
# Both must have every row.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $nrows = 1000;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(has_archiving => 1, allows_streaming => 1);
$primary->append_conf(
	'postgresql.conf', q{
max_worker_processes = 16
lc_messages = 'C'
});
$primary->start;

is($primary->safe_psql('postgres', 'SHOW wal_level'),
	'replica', 'the primary runs with wal_level = replica');

$primary->safe_psql(
	'postgres', q{
CREATE EXTENSION guarded_ddl;
CREATE SCHEMA app;
});
$primary->backup('base');

$primary->safe_psql(
	'postgres', qq{
CREATE TABLE app.precious (id int PRIMARY KEY, payload text NOT NULL);
INSERT INTO app.precious SELECT g, md5(g::text) FROM generate_series(1, $nrows) g;
SELECT guarded_ddl.record_backup('pgbackrest', 'nightly');
});
my $checksum = $primary->safe_psql('postgres',
	q{SELECT md5(string_agg(id || ':' || payload, ',' ORDER BY id)) FROM app.precious});

# The DROP is allowed (recent backup) and gets a restore point.
my ($drop_xid) = $primary->safe_psql(
	'postgres', q{
BEGIN;
DROP TABLE app.precious;
SELECT txid_current();
COMMIT;
});
# Something after the DROP, which a restore to just before it must not have.
$primary->safe_psql('postgres', 'CREATE TABLE app.after_drop (id int)');

my $audit = $primary->safe_psql(
	'postgres', q{
SELECT decision, holds_data, restore_point, txid
  FROM guarded_ddl.audit WHERE object_identity = 'app.precious'});
my ($decision, $holds, $restore_point, $audit_xid) = split /\|/, $audit;
is($decision, 'allowed', 'the DROP of the backed-up table was allowed');
is($holds,    't',       'the audit row says the table held data');
like($restore_point, qr/^guarded_ddl_\d+_\d+$/,
	'a restore point named guarded_ddl_<xid>_<n> was created before the DROP');
is($audit_xid, $drop_xid, 'the audit row carries the DROP\'s transaction id');
like($restore_point, qr/^guarded_ddl_${drop_xid}_/,
	'the restore point name carries the DROP\'s transaction id');

my $settings = $primary->safe_psql('postgres',
	q{SELECT recovery_settings FROM guarded_ddl.recovery WHERE object_identity = 'app.precious'}
);
like($settings, qr/^recovery_target_name = '\Q$restore_point\E'$/m,
	'guarded_ddl.recovery names the restore point of the DROP as the recovery target');
like($settings, qr/^recovery_target_action = '(pause|promote)'$/m,
	'guarded_ddl.recovery says what to do at the target');

# Make sure every WAL record up to the DROP's commit is in the archive.
my $last_segment = $primary->safe_psql('postgres',
	'SELECT pg_walfile_name(pg_current_wal_lsn())');
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->poll_query_until('postgres',
	qq{SELECT last_archived_wal >= '$last_segment' FROM pg_stat_archiver})
  or die "WAL segment $last_segment was not archived";

# --- 1. recovery_target_name, exactly as guarded_ddl.recovery says ---------

my $by_name = PostgreSQL::Test::Cluster->new('restored_by_name');
$by_name->init_from_backup($primary, 'base',
	has_restoring => 1,
	standby       => 0);
$by_name->append_conf('postgresql.conf', "archive_mode = off\n$settings\n");
$by_name->start;
ok( $by_name->poll_query_until(
		'postgres',
		q{SELECT NOT pg_is_in_recovery() OR pg_get_wal_replay_pause_state() = 'paused'}),
	'recovery to the restore point reaches the target');
ok( $by_name->log_contains(
		qr/recovery stopping at restore point "\Q$restore_point\E"/),
	'recovery stopped at guarded_ddl\'s restore point');

if ($by_name->safe_psql('postgres', 'SELECT pg_is_in_recovery()') eq 't')
{
	# Paused at the target (recovery_target_action = 'pause'): a DBA checks
	# the data before promoting.  If the DROP's transaction had taken its
	# lock on the table before the restore point, that transaction is in
	# progress at the target and the read waits forever: bound the wait.
	my ($rc, $out, $err) = $by_name->psql('postgres',
		"SET lock_timeout = '5s'; SELECT count(*) FROM app.precious");
	is($out, $nrows,
		"paused at the restore point (hot standby), all $nrows rows can be read without waiting for a lock"
	) or diag("rc=$rc: $err");

	$by_name->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
	ok( $by_name->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
		'the restored server promotes after pg_wal_replay_resume()');
}
is($by_name->safe_psql('postgres', 'SELECT count(*) FROM app.precious'),
	$nrows, "restored by recovery_target_name: all $nrows rows are back");
is( $by_name->safe_psql(
		'postgres',
		q{SELECT md5(string_agg(id || ':' || payload, ',' ORDER BY id)) FROM app.precious}
	),
	$checksum,
	'restored by recovery_target_name: the rows have their contents');
is( $by_name->safe_psql(
		'postgres', q{SELECT to_regclass('app.after_drop') IS NULL}),
	't', 'and nothing after the DROP was replayed');
$by_name->stop;

# --- 2. recovery_target_xid with recovery_target_inclusive = off -----------

my $by_xid = PostgreSQL::Test::Cluster->new('restored_by_xid');
$by_xid->init_from_backup($primary, 'base',
	has_restoring => 1,
	standby       => 0);
$by_xid->append_conf(
	'postgresql.conf', qq{
archive_mode = off
recovery_target_xid = '$audit_xid'
recovery_target_inclusive = off
recovery_target_action = 'promote'
});
$by_xid->start;
ok( $by_xid->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
	'recovery to just before the DROP\'s transaction ends and promotes');
ok( $by_xid->log_contains(
		qr/recovery stopping before commit of transaction $audit_xid/),
	'recovery stopped before the commit of the DROP\'s transaction');
is($by_xid->safe_psql('postgres', 'SELECT count(*) FROM app.precious'),
	$nrows, "restored by recovery_target_xid: all $nrows rows are back");
is( $by_xid->safe_psql(
		'postgres',
		q{SELECT md5(string_agg(id || ':' || payload, ',' ORDER BY id)) FROM app.precious}
	),
	$checksum,
	'restored by recovery_target_xid: the rows have their contents');
$by_xid->stop;

# The xid form is also what the view prints when there is no restore point.
$primary->safe_psql(
	'postgres', q{
SET guarded_ddl.restore_points = off;
CREATE TABLE app.second (id int);
INSERT INTO app.second VALUES (1);
DROP TABLE app.second;
});
my ($second_xid, $second_settings) = split /\|/,
  $primary->safe_psql('postgres',
	q{SELECT txid, recovery_settings FROM guarded_ddl.recovery WHERE object_identity = 'app.second'}
  );
like($second_settings, qr/^recovery_target_xid = '$second_xid'$/m,
	'with restore_points = off the view names the DROP\'s transaction as recovery_target_xid');
like($second_settings, qr/^recovery_target_inclusive = off$/m,
	'with recovery_target_inclusive = off');

$primary->stop;
done_testing();
