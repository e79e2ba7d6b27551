# 024_pgaudit_refusals: what the README says pgaudit logs next to
# guarded_ddl ("pgaudit next to guarded_ddl").
#
# pgaudit logs a statement once it ran.  With pgaudit.log = 'all' and in
# either order of shared_preload_libraries, no statement guarded_ddl
# refuses -- DROP TABLE, TRUNCATE, DROP DATABASE, ALTER EVENT TRIGGER and
# DROP EXTENSION on guarded_ddl's own objects -- gets an AUDIT line: no line
# of class DDL, no TRUNCATE, and none carrying the refused statement's text.
# Each refusal is in the server log (guarded_ddl: refused ...) and, except
# DROP DATABASE, in guarded_ddl.denials.  An allowed DROP gets both
# pgaudit's DDL line and its audit row.  (test/t/005_pgaudit.pl covers the
# hooks working together; this file covers what ends up in the logs.)
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pg_config = $ENV{PG_CONFIG} || 'pg_config';
my $pkglibdir = `$pg_config --pkglibdir`;
chomp $pkglibdir;
my ($major) = `$pg_config --version` =~ /(\d+)/;
# The harness installs pgaudit for every major: its absence is a failure.
die "pgaudit is not installed ($pkglibdir/pgaudit.so is missing; Debian package postgresql-$major-pgaudit)\n"
  unless -f "$pkglibdir/pgaudit.so";

my $node = PostgreSQL::Test::Cluster->new('pgaudit');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
max_worker_processes = 16
lc_messages = 'C'
pgaudit.log = 'all'
log_statement = none
});

# The statements guarded_ddl refuses, the database each runs in, what its
# LOG line names, and whether guarded_ddl.denials has it (DROP DATABASE
# is in the server log only).
my @refused = (
	[ 'DROP TABLE app.keep', 'shop', qr/refused drop of table "app\.keep"/, 1 ],
	[ 'TRUNCATE app.keep', 'shop', qr/refused truncate of table "app\.keep"/, 1 ],
	[ 'DROP DATABASE victim', 'postgres', qr/refused DROP DATABASE victim/, 0 ],
	[ 'ALTER EVENT TRIGGER guarded_ddl_sql_drop DISABLE', 'shop',
		qr/refused ddl of event trigger "guarded_ddl_sql_drop"/, 1 ],
	[ 'DROP EXTENSION guarded_ddl', 'shop',
		qr/refused drop of extension "guarded_ddl"/, 1 ]);

my $n = 0;
for my $order ('pgaudit,guarded_ddl', 'guarded_ddl,pgaudit')
{
	$n++;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = '$order'\n");
	if ($n == 1) { $node->start; }
	else         { $node->restart; }
	my $shop = "shop$n";
	$node->safe_psql('postgres', "CREATE DATABASE $shop");
	$node->safe_psql('postgres', 'CREATE DATABASE victim') if $n == 1;
	$node->safe_psql(
		$shop, q{
CREATE EXTENSION pgaudit;
CREATE EXTENSION guarded_ddl;
CREATE SCHEMA app;
CREATE TABLE app.keep (id int);
INSERT INTO app.keep SELECT generate_series(1, 10);
CREATE TABLE app.gone (id int);
INSERT INTO app.gone SELECT generate_series(1, 10);
});

	for my $r (@refused)
	{
		my ($sql, $db, $log_pattern, $in_denials) = @$r;
		$db = $shop if $db eq 'shop';
		my $offset = -s $node->logfile;
		my ($rc, $out, $err) = $node->psql($db, $sql);
		like($err, qr/ERROR:  refusing/, "[$order] $sql is refused");

		ok($node->log_contains(qr/LOG:  guarded_ddl: $log_pattern/, $offset),
			"[$order] the server log has guarded_ddl's line for the refused $sql");
		my @audit = grep { /AUDIT: / } split /\n/,
		  substr(slurp_file($node->logfile), $offset);
		my @about_it = grep {
			     /AUDIT: \w+,\d+,\d+,DDL,/
			  || /AUDIT: \w+,\d+,\d+,\w+,TRUNCATE/
			  || /\Q$sql\E/i
		} @audit;
		is_deeply(\@about_it, [],
			"[$order] pgaudit wrote no AUDIT line for the refused $sql");

		next unless $in_denials;
		(my $quoted = $sql) =~ s/'/''/g;
		is( $node->safe_psql(
				$shop,
				"SELECT count(*) > 0 FROM guarded_ddl.denials WHERE statement = '$quoted'"),
			't',
			"[$order] guarded_ddl.denials has the refused $sql");
	}

	# An allowed DROP: pgaudit's line and guarded_ddl's row.
	my $offset = -s $node->logfile;
	$node->safe_psql(
		$shop, q{
SELECT guarded_ddl.record_backup('pgbackrest');
DROP TABLE app.gone;
});
	ok( $node->log_contains(
			qr/AUDIT: SESSION,\d+,\d+,DDL,DROP TABLE,TABLE,app\.gone,/, $offset),
		"[$order] pgaudit logged the allowed DROP TABLE");
	is( $node->safe_psql(
			$shop,
			q{SELECT decision FROM guarded_ddl.audit WHERE object_identity = 'app.gone'}),
		'allowed',
		"[$order] and guarded_ddl audited it as allowed");
}

ok(!$node->log_contains(qr/TRAP:|server process .* was terminated/),
	'no assertion failure or crashed backend in the server log');
$node->stop;
done_testing();
