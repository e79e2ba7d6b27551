# 013_truncate_bin_crash: a soft TRUNCATE (the table's storage handed to the
# recycle bin, no row copied) is crash-safe and reaches a streaming standby.
#
# The primary is killed with SIGKILL right after the TRUNCATE commits --
# no checkpoint in between, so recovery has to replay the storage exchange
# from WAL -- and after recovery the bin holds every row, toasted values
# included (same checksum), the table is empty and takes new rows, and a
# checkpoint after that (when PostgreSQL unlinks the files committed
# transactions dropped) leaves the kept file alone.  The standby, streaming
# from the primary throughout, shows the same.  A TRUNCATE whose
# transaction was still open at the crash leaves the table whole and
# nothing in the bin.  restore() then gives every row back, on both.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use GuardedDDL::Test qw(crash_restart guarded_cluster);

my $primary = guarded_cluster('truncate_primary',
	init => { allows_streaming => 1 });

$primary->safe_psql(
	'postgres', q{
CREATE EXTENSION guarded_ddl;
INSERT INTO guarded_ddl.policy (operation, object_type, schema_name, action, note)
VALUES ('truncate', 'table', 'app', 'soft_drop', 'keep what TRUNCATE removes');
CREATE SCHEMA app;
CREATE TABLE app.orders (id int PRIMARY KEY, payload text);
-- every twentieth row holds ~6,400 bytes of md5 text: kept in TOAST
INSERT INTO app.orders
SELECT g, CASE WHEN g % 20 = 0
               THEN (SELECT string_agg(md5(g::text || h::text), '') FROM generate_series(1, 200) AS h)
               ELSE 'order ' || g END
  FROM generate_series(1, 50000) AS g;
CREATE TABLE app.open_tx (id int);
INSERT INTO app.open_tx SELECT generate_series(1, 1000);
});
my $checksum_sql = q{SELECT count(*) || ':' || md5(string_agg(id || '=' || payload, ',' ORDER BY id))
  FROM %s};
my $before = $primary->safe_psql('postgres', sprintf($checksum_sql, 'app.orders'));
like($before, qr/^50000:/, 'app.orders holds 50,000 rows');
my $old_file = $primary->safe_psql('postgres',
	q{SELECT pg_relation_filepath('app.orders')});

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('truncate_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

# A TRUNCATE whose transaction is still open when the server dies.
my $open = $primary->background_psql('postgres');
$open->query_safe(q{SET client_min_messages = warning});
$open->query_safe(q{BEGIN; TRUNCATE app.open_tx;});

# The soft TRUNCATE, then SIGKILL at once: recovery replays it from WAL.
$primary->safe_psql('postgres', 'TRUNCATE app.orders');
crash_restart($primary);
eval { $open->quit };

my $bin_sql = q{SELECT trash_name FROM guarded_ddl.trash_bin
  WHERE original_name = 'orders' AND operation = 'truncate'};
my $trash_name = $primary->safe_psql('postgres', $bin_sql);
like($trash_name, qr/^orders_gdt\d+$/, 'after the crash the bin has the entry');
my $kept = 'guarded_ddl_trash.' . $trash_name;
is($primary->safe_psql('postgres', sprintf($checksum_sql, $kept)),
	$before, 'after the crash the bin holds every row, toasted values included');
is($primary->safe_psql('postgres',
		"SELECT pg_relation_filepath('$kept')"),
	$old_file, 'the kept rows are the old file itself: nothing was copied');
is($primary->safe_psql('postgres', 'SELECT count(*) FROM app.orders'),
	'0', 'the table is empty');
is($primary->safe_psql('postgres', 'SELECT count(*) FROM app.open_tx'),
	'1000', 'a TRUNCATE still open at the crash left its table whole');
is( $primary->safe_psql(
		'postgres',
		q{SELECT count(*) FROM guarded_ddl.trash_bin WHERE original_name = 'open_tx'}),
	'0',
	'... and nothing in the bin');
is( $primary->safe_psql(
		'postgres',
		q{SELECT count(*) FROM pg_class
		   WHERE relnamespace = 'guarded_ddl_trash'::regnamespace}),
	'1',
	'... nor any relation left over in the bin schema');

# A checkpoint unlinks what committed transactions dropped: not the kept file.
$primary->safe_psql('postgres',
	q{INSERT INTO app.orders VALUES (1, repeat('n', 50000)); CHECKPOINT});
$primary->restart;
is($primary->safe_psql('postgres', sprintf($checksum_sql, $kept)),
	$before, 'after a checkpoint and a restart the bin still holds every row');
is( $primary->safe_psql(
		'postgres', q{SELECT count(*), max(length(payload)) FROM app.orders}),
	'1|50000',
	'the truncated table takes new rows, toasted too');

# The standby replayed the exchange while streaming.
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', sprintf($checksum_sql, $kept)),
	$before, 'the standby reads every kept row from the bin');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM app.orders'),
	'1', 'the standby sees the truncated table with its new row');

# restore() gives every row back, on both.
$primary->safe_psql(
	'postgres', q{
DELETE FROM app.orders;
SELECT guarded_ddl.restore(id) FROM guarded_ddl.trash_bin
 WHERE original_name = 'orders' AND operation = 'truncate';
});
is($primary->safe_psql('postgres', sprintf($checksum_sql, 'app.orders')),
	$before, 'restore() gives every row back');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', sprintf($checksum_sql, 'app.orders')),
	$before, 'the standby sees them back too');

$standby->stop;
$primary->stop;
done_testing();
