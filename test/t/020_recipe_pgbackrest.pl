# 020_recipe_pgbackrest: the README's pgBackRest recipes work as written
# against Debian's pgbackrest, with a local repository.
#
# The README's "Backup jobs" recipe takes a full backup and records its
# label and stanza as a marker; a DROP is then allowed and its audit row
# carries that marker's backup_id.  The next night's backup is taken (so a
# newer backup exists, the usual case when a loss is noticed), and the
# README's restore recipe -- the restore_command of guarded_ddl.recovery,
# run with --pg1-path -- restores the backup behind the row into a new
# directory.  The restored cluster must stop at guarded_ddl's restore
# point, promote, have every row (also those written after the backup),
# and never archive into production's repository.
#
# The restore runs as on a spare host: with a pgBackRest configuration of
# its own, whose pg1-path is the restored directory (pgBackRest refuses to
# archive from a data directory that is not its pg1-path, so only then
# could production's archive_command push anything).  Two controls show
# what the README warns about: the same command without --set restores
# the newest backup and cannot reach the target; without --archive-mode=off
# the promoted copy pushes its timeline's history file into production's
# repository.
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Find;
use lib dirname(__FILE__) . '/lib';

use GuardedDDL::Recipe
  qw(readme_recipe substitute recipe_ok run_recipe tool_version fail_unsupported
  drop_after_backup);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pg_config = $ENV{PG_CONFIG} || 'pg_config';
my ($major) = `$pg_config --version` =~ /(\d+)/;

# The harness installs pgbackrest (Debian package): its absence is a
# failure, not a reason to skip.
my $version = tool_version('pgbackrest', 'version');
ok(defined $version && $version =~ /^pgBackRest \d/,
	'pgbackrest is installed' . (defined $version ? " ($version)" : ''))
  or BAIL_OUT('pgbackrest is not installed (Debian package pgbackrest)');
note("PostgreSQL $major, $version");

# What pgBackRest says when it does not know the server's major.
my $unsupported =
  qr/version of PostgreSQL supported|unexpected control version|unsupported.*version|not supported/i;

my $tmp = PostgreSQL::Test::Utils::tempdir();
my $repo = "$tmp/repo";
my $conf = "$tmp/pgbackrest.conf";
mkdir "$tmp/$_" or die "mkdir $tmp/$_: $!" for qw(repo log lock spare);

my $node = PostgreSQL::Test::Cluster->new('production');
$node->init(allows_streaming => 1);

# The configuration a DBA keeps in /etc/pgbackrest/pgbackrest.conf; here it
# lives in the test's directory and PGBACKREST_CONFIG points every process
# of this test at it: the recipes, and the servers' archive_command and the
# restore_command pgBackRest writes for a restored cluster.
open my $fh, '>', $conf or die "cannot write $conf: $!";
print $fh <<"EOF";
[global]
repo1-path=$repo
repo1-retention-full=4
log-path=$tmp/log
lock-path=$tmp/lock
start-fast=y

[main]
pg1-path=@{[ $node->data_dir ]}
pg1-socket-path=@{[ $node->host ]}
pg1-port=@{[ $node->port ]}
EOF
close $fh;
$ENV{PGBACKREST_CONFIG} = $conf;

$node->append_conf(
	'postgresql.conf', q{
max_worker_processes = 16
lc_messages = 'C'
archive_mode = on
archive_command = 'pgbackrest --stanza=main archive-push %p'
});
$node->start;

my ($rc, $out, $err) = run_recipe('pgbackrest --stanza=main stanza-create');
fail_unsupported('pgBackRest', $major, $err . $out, $unsupported) if $rc;
is($rc, 0, 'pgbackrest stanza-create succeeds') or diag($err);

$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql(
	'shop', q{
CREATE EXTENSION guarded_ddl;
CREATE SCHEMA app;
CREATE TABLE app.customers (id int PRIMARY KEY, payload text NOT NULL);
INSERT INTO app.customers SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
});

# The recipes' psql and pg_dump reach production as a DBA's would: through
# the libpq environment, and `-h db1` is the host placeholder.
my %env = (PGHOST => $node->host, PGPORT => $node->port);
my $backup_recipe = readme_recipe('pgbackrest-backup');

# Night 1.
($out, $err, $rc) = recipe_ok('pgbackrest-backup', $backup_recipe, ENV => \%env);
fail_unsupported('pgBackRest', $major, $err . $out, $unsupported) if $rc;

sub newest_label
{
	my ($rc, $json, $err) = run_recipe('pgbackrest --stanza=main --output=json info');
	my $info = decode_json($json);
	return $info->[0]{backup}[-1]{label};
}
my $label1 = newest_label();
like($label1, qr/^\d{8}-\d{6}F$/, "pgBackRest lists the full backup $label1");

my ($marker1, $tool, $label, $kind, $location) = split /\|/,
  $node->safe_psql('shop',
	'SELECT id, tool, label, kind, location FROM guarded_ddl.backups ORDER BY id DESC LIMIT 1');
is_deeply(
	[ $tool, $label, $kind, $location ],
	[ 'pgbackrest', $label1, 'full', 'stanza=main' ],
	'the marker names the tool, the label of the backup just taken and the stanza');

# Rows written after the backup (they come back through the WAL archive),
# then the allowed DROP and its audit row.
my ($checksum, $audit_id, $restore_point) = drop_after_backup($node, $marker1);

# Night 2: a newer backup, taken after the DROP.
sleep 1;    # labels have a resolution of one second
recipe_ok('pgbackrest-backup (next night)', $backup_recipe, ENV => \%env);
my $label2 = newest_label();
isnt($label2, $label1, "a newer backup $label2 exists");

my $restore_command = $node->safe_psql('shop',
	"SELECT restore_command FROM guarded_ddl.recovery WHERE audit_id = $audit_id");
like($restore_command, qr/ --set='\Q$label1\E' /,
	'restore_command names the backup behind the row, not the newest one');

# --- the README's restore recipe, with the row's values -------------------

# spare_conf(NODE): the pgBackRest configuration of a spare host that
# restores into NODE's data directory: the same repository, pg1-path there.
sub spare_conf
{
	my ($copy) = @_;
	my $name = $copy->name;
	my $file = "$tmp/spare/$name.conf";
	return $file if -f $file;
	mkdir "$tmp/spare/$name" or die "mkdir $tmp/spare/$name: $!";
	append_to_file($file, join("\n",
		'[global]',
		"repo1-path=$repo",
		"log-path=$tmp/spare/$name",
		"lock-path=$tmp/spare/$name",
		'',
		'[main]',
		'pg1-path=' . $copy->data_dir,
		'pg1-socket-path=' . $copy->host,
		'pg1-port=' . $copy->port, ''));
	return $file;
}

my $restored = PostgreSQL::Test::Cluster->new('restored');
my $dir = $restored->data_dir;
my $recipe = substitute(
	readme_recipe('pgbackrest-restore'),
	[ 'audit_id = 2',          "audit_id = $audit_id" ],
	[ '-h db1',                '-h ' . $node->host ],
	[ q{'20261121-020000F'},   "'$label1'" ],
	[ q{'guarded_ddl_950_1'},  "'$restore_point'" ],
	[ '/srv/restore',          $dir ]);
mkdir $dir, 0700 or die "mkdir $dir: $!";
($out, $err, $rc) = recipe_ok('pgbackrest-restore', $recipe,
	ENV => { %env, PGBACKREST_CONFIG => spare_conf($restored) });

my ($printed) = split /\n/, $out;
my ($run_line) = grep { /^pgbackrest / } split /\n/, $recipe;
is("$printed --pg1-path=$dir", $run_line,
	'the command the README runs is what guarded_ddl.recovery prints, plus --pg1-path');

# Start the restored copy on a port of its own, as the spare host would:
# with the spare's pgBackRest configuration in its environment.
sub start_restored
{
	my ($copy) = @_;
	$copy->append_conf(
		'postgresql.conf', qq{
port = @{[ $copy->port ]}
unix_socket_directories = '@{[ $copy->host ]}'
listen_addresses = ''
});
	local $ENV{PGBACKREST_CONFIG} = spare_conf($copy);
	return $copy->start(fail_ok => 1);
}

ok(start_restored($restored), 'the restored cluster starts');
ok($restored->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
	'it replays to the target and promotes');
ok($restored->log_contains(qr/recovery stopping at restore point "\Q$restore_point\E"/),
	"recovery stopped at guarded_ddl's restore point $restore_point");
is( $restored->safe_psql('shop',
		q{SELECT count(*) || ':' || md5(string_agg(id || ':' || payload, ',' ORDER BY id)) FROM app.customers}),
	$checksum,
	'every row is back, including the 500 written after the backup');
is($restored->safe_psql('shop', q{SELECT to_regclass('app.after_drop') IS NULL}),
	't', 'nothing after the DROP was replayed');

# Never into production's repository.
is($restored->safe_psql('postgres', 'SHOW archive_mode'),
	'off', 'the restored cluster runs with archive_mode = off');
$restored->safe_psql('postgres', 'CREATE TABLE after_promotion AS SELECT 1 AS x');
$restored->safe_psql('postgres', 'SELECT pg_switch_wal()');
$restored->safe_psql('postgres', 'CHECKPOINT');
is($restored->safe_psql('postgres',
		'SELECT timeline_id FROM pg_control_checkpoint()'),
	'2', 'the restored cluster is on a timeline of its own');
sleep 2;
my @pushed;
find(sub { push @pushed, $File::Find::name if /^00000002/ }, "$repo/archive");
is_deeply(\@pushed, [],
	"no WAL or history file of the restored cluster's timeline is in production's repository");
$restored->stop;

# --- control: without --set, the newest backup cannot reach the target -----

my $newest = PostgreSQL::Test::Cluster->new('restored_newest');
my $dir2 = $newest->data_dir;
mkdir $dir2, 0700 or die "mkdir $dir2: $!";
(my $without_set = "$printed --pg1-path=$dir2") =~ s/ --set='[^']*'//;
($rc, $out, $err) = run_recipe($without_set,
	ENV => { %env, PGBACKREST_CONFIG => spare_conf($newest) });
is($rc, 0, 'control: without --set pgBackRest restores the newest backup');
# This server is meant to die at the end of recovery: started with pg_ctl
# itself, because Cluster->start bails out when the postmaster is gone
# before it could read its pid (which depends on timing).
$newest->append_conf(
	'postgresql.conf', qq{
port = @{[ $newest->port ]}
unix_socket_directories = '@{[ $newest->host ]}'
listen_addresses = ''
});
{
	local $ENV{PGBACKREST_CONFIG} = spare_conf($newest);
	PostgreSQL::Test::Utils::system_log('pg_ctl', '--wait', '--pgdata', $newest->data_dir,
		'--log', $newest->logfile, 'start');
}
ok( $newest->wait_for_log(
		qr/FATAL:  recovery ended before configured recovery target was reached/),
	'and recovery from it cannot reach the restore point, as the README says');
PostgreSQL::Test::Utils::system_log('pg_ctl', '--pgdata', $newest->data_dir,
	'--mode', 'immediate', 'stop');

# --- control: without --archive-mode=off, the copy archives into
# production's repository -------------------------------------------------

# poll_until(CODE): CODE returned true within 30 seconds.
sub poll_until
{
	my ($code) = @_;
	for (1 .. 300)
	{
		return 1 if $code->();
		select undef, undef, undef, 0.1;
	}
	return 0;
}

my $archiving = PostgreSQL::Test::Cluster->new('restored_archiving');
my $dir3 = $archiving->data_dir;
mkdir $dir3, 0700 or die "mkdir $dir3: $!";
(my $without_off = "$printed --pg1-path=$dir3") =~ s/ --archive-mode=off//;
($rc, $out, $err) = run_recipe($without_off,
	ENV => { %env, PGBACKREST_CONFIG => spare_conf($archiving) });
is($rc, 0, 'control: the same restore without --archive-mode=off');
start_restored($archiving);
$archiving->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()');
ok( poll_until(sub { -e "$repo/archive/main/$major-1/00000002.history" }),
	"then the promoted copy pushes its timeline's history file into production's repository, as the README warns"
);
$archiving->stop('immediate', fail_ok => 1);

$node->stop;
done_testing();
