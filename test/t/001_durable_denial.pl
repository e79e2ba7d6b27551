# 001_durable_denial: a refused DROP leaves a committed "denied" row in
# guarded_ddl.audit (written by the background worker, so the statement's
# rollback cannot take it), visible from another session and still there
# after the postmaster is killed with SIGKILL and restarted.  Also measures
# what a refusal costs: median latency of 50 refused DROPs in one session.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use GuardedDDL::Test qw(crash_restart guarded_cluster sqlstate_of);

my $node = guarded_cluster('durable');

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION guarded_ddl;
CREATE SCHEMA app;
CREATE TABLE app.orders (id int PRIMARY KEY, note text);
INSERT INTO app.orders SELECT g, 'order ' || g FROM generate_series(1, 100) g;
});

# --- the refusal ----------------------------------------------------------

my ($rc, $state, $err) =
  sqlstate_of($node, 'postgres', 'DROP TABLE app.orders;');
isnt($rc, 0, 'DROP TABLE of a non-empty table without a backup fails');
is($state, 'ZG002',
	'the refusal carries SQLSTATE ZG002 (backup required)')
  or diag($err);
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.orders'),
	'100', 'the refused DROP changed nothing: all 100 rows are still there');

# another session (safe_psql always opens a new connection)
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM guarded_ddl.denials
 WHERE operation = 'drop' AND object_type = 'table'
   AND object_identity = 'app.orders' AND command_tag = 'DROP TABLE'
   AND statement = 'DROP TABLE app.orders'}),
	'1',
	'the denial is committed and visible from another session in guarded_ddl.denials'
);
is( $node->safe_psql(
		'postgres', q{
SELECT holds_data, backend_pid IS NOT NULL, role_name, reason IS NOT NULL
  FROM guarded_ddl.denials WHERE object_identity = 'app.orders'}),
	't|t|postgres|t',
	'the denied row records that the table held data, the role and a reason');
ok( $node->log_contains(
		qr/guarded_ddl: refused drop of table "app\.orders"/),
	'the refusal is also in the server log');
ok( !$node->log_contains(qr/denial recorded in the server log only/),
	'the durable path was used (no "server log only" fallback)');

# --- crash: SIGKILL the postmaster, restart -------------------------------

crash_restart($node);
ok( $node->log_contains(qr/database system was not properly shut down; automatic recovery in progress/),
	'the restart went through crash recovery');

is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM guarded_ddl.denials WHERE object_identity = 'app.orders'}
	),
	'1',
	'after kill -9 of the postmaster and crash recovery the denied row is still there'
);
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.orders'),
	'100', 'and so is every row of the table');

# --- latency --------------------------------------------------------------

# 50 refused DROPs in one session, each in its own subtransaction, timed
# from just before the statement to just after its error was caught.
$node->safe_psql(
	'postgres', q{
CREATE SCHEMA tap;
CREATE FUNCTION tap.denial_latencies(n int) RETURNS float8[]
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    ms float8[] := '{}';
BEGIN
    FOR i IN 1..n LOOP
        t0 := clock_timestamp();
        BEGIN
            EXECUTE 'DROP TABLE app.orders';
            RAISE EXCEPTION 'DROP TABLE app.orders was not refused';
        EXCEPTION WHEN SQLSTATE 'ZG002' THEN
            NULL;
        END;
        ms := ms || (extract(epoch FROM clock_timestamp() - t0) * 1000)::float8;
    END LOOP;
    RETURN ms;
END;
$$;
});

my $before = $node->safe_psql('postgres',
	q{SELECT count(*) FROM guarded_ddl.denials WHERE object_identity = 'app.orders'}
);
my $result = $node->safe_psql(
	'postgres', q{
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 2),
       round(min(x)::numeric, 2), round(max(x)::numeric, 2), count(*)
  FROM unnest(tap.denial_latencies(50)) AS x});
my ($median, $min, $max, $n) = split /\|/, $result;
diag("median denial latency: $median ms (min $min ms, max $max ms, n = $n)");
is($n, '50', '50 refused statements were timed');
cmp_ok($median, '<', 50,
	'median latency of a refused DROP (durable audit row included) is below 50 ms'
);
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM guarded_ddl.denials WHERE object_identity = 'app.orders'}
	),
	$before + 50,
	'each of the 50 refusals made inside one transaction left its own committed denied row'
);

# --- durable also when the server commits asynchronously --------------------

# synchronous_commit = off is a common server-wide setting.  The statement
# was refused and the client told so; the denied row was visible to other
# sessions: a crash must not take it back.  (The audit worker must commit
# synchronously whatever the server default is.)  wal_writer_delay is long
# so that only a synchronous commit can have flushed the row in time.
$node->safe_psql(
	'postgres', q{
CREATE TABLE app.async_t (id int);
INSERT INTO app.async_t SELECT generate_series(1, 10);
});
$node->append_conf(
	'postgresql.conf', q{
synchronous_commit = off
wal_writer_delay = '10s'
autovacuum = off
});
$node->restart;
is($node->safe_psql('postgres', 'SHOW synchronous_commit'),
	'off', 'the server now commits asynchronously by default');
($rc, $state, $err) =
  sqlstate_of($node, 'postgres', 'DROP TABLE app.async_t;');
is($state, 'ZG002', 'DROP TABLE app.async_t is refused') or diag($err);
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM guarded_ddl.denials WHERE object_identity = 'app.async_t'}
	),
	'1',
	'its denied row is visible from another session');
crash_restart($node);
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM guarded_ddl.denials WHERE object_identity = 'app.async_t'}
	),
	'1',
	'with synchronous_commit = off the acknowledged denial still survives kill -9 of the postmaster'
);

$node->stop;
done_testing();
