# 001_smoke: the TAP harness works -- PostgreSQL::Test::Cluster builds a
# cluster with guarded_ddl preloaded, the extension installs, and status()
# sees all four event triggers and the utility hook.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

ok(defined $ENV{GUARDED_DDL_SRC} && -f "$ENV{GUARDED_DDL_SRC}/guarded_ddl.control",
	'GUARDED_DDL_SRC points at the source tree');

my $node = PostgreSQL::Test::Cluster->new('smoke');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'guarded_ddl'");
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION guarded_ddl');

is( $node->safe_psql(
		'postgres',
		q{SELECT ok FROM guarded_ddl.status() WHERE item = 'event triggers'}),
	't',
	'status() finds the four event triggers ENABLE ALWAYS');
is( $node->safe_psql(
		'postgres',
		q{SELECT ok FROM guarded_ddl.status() WHERE item = 'utility hook'}),
	't',
	'status() reports the utility hook active when preloaded');

$node->stop;
done_testing();
