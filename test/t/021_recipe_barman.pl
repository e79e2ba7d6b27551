# 021_recipe_barman: the README's Barman recipes work as written against
# Debian's barman, with a local Barman home and no ssh.
#
# Barman takes base backups with pg_basebackup (backup_method = postgres)
# and receives WAL through production's archive_command, which copies each
# segment into Barman's incoming directory -- the usual setup when Barman
# and PostgreSQL share a host.  The README's "Backup jobs" recipe runs
# `barman backup --wait` and records the backup id and the server as a
# marker; the backup must be DONE, not WAITING_FOR_WALS.  A DROP is then
# allowed with that marker's backup_id, the next night's backup is taken
# (the recipe must read the list of two backups without a Broken pipe), and
# the README's restore recipe runs the restore_command of
# guarded_ddl.recovery with the destination replaced.  The restored cluster
# must stop at guarded_ddl's restore point, promote, have every row, and not
# archive: Barman's archive_command = false, and archive_mode = off from the
# recipe's last line.
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Find;
use lib dirname(__FILE__) . '/lib';

use GuardedDDL::Recipe
  qw(readme_recipe substitute recipe_ok run_recipe tool_version fail_unsupported
  drop_after_backup);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pg_config = $ENV{PG_CONFIG} || 'pg_config';
my ($major) = `$pg_config --version` =~ /(\d+)/;
my $bindir = `$pg_config --bindir`;
chomp $bindir;

# The harness installs barman (Debian package): its absence is a failure.
my $version = tool_version('barman', '--version');
ok(defined $version && $version =~ /^\d+\.\d+/,
	'barman is installed' . (defined $version ? " ($version)" : ''))
  or BAIL_OUT('barman is not installed (Debian package barman)');
note("PostgreSQL $major, Barman $version");

# What Barman says when it does not know the server's major.
my $unsupported =
  qr/PostgreSQL version: FAILED|unsupported PostgreSQL version|not supported/i;

my $tmp = PostgreSQL::Test::Utils::tempdir();
my $home = "$tmp/barman";
my $incoming = "$home/pg/incoming";
system('mkdir', '-p', $incoming) == 0 or die "mkdir -p $incoming failed";
my $os_user = getpwuid($<);

my $node = PostgreSQL::Test::Cluster->new('production');
$node->init(allows_streaming => 1);
$node->append_conf(
	'postgresql.conf', qq{
max_worker_processes = 16
max_connections = 20
lc_messages = 'C'
archive_mode = on
archive_command = 'test ! -f $incoming/%f && cp %p $incoming/%f'
# The README asks for an archive_timeout: with PostgreSQL 17+ some Barman
# versions wait for the WAL file after the backup's last one.
archive_timeout = '5s'
});
$node->start;

# The configuration a DBA keeps in /etc/barman.conf and
# /etc/barman.d/pg.conf: Barman reads ~/.barman.conf first, and HOME points
# into the test's directory for every Barman command of this test.
open my $fh, '>', "$tmp/.barman.conf" or die "cannot write $tmp/.barman.conf: $!";
print $fh <<"EOF";
[barman]
barman_home = $home
barman_user = $os_user
log_file = $tmp/barman.log
log_level = INFO

[pg]
description = production
conninfo = host=@{[ $node->host ]} port=@{[ $node->port ]} dbname=postgres
streaming_conninfo = host=@{[ $node->host ]} port=@{[ $node->port ]}
backup_method = postgres
archiver = on
path_prefix = $bindir
EOF
close $fh;
$ENV{HOME} = $tmp;

# The recipes' psql reaches production through the libpq environment, and
# `-h db1` is the host placeholder.
my %env = (PGHOST => $node->host, PGPORT => $node->port);

# The first WAL segment in Barman's archive: `barman check` wants one
# before the first backup.
my ($rc, $out, $err) = run_recipe('barman switch-wal --force --archive pg', ENV => \%env);
is($rc, 0, 'Barman receives WAL through archive_command') or diag($out . $err);
($rc, $out, $err) = run_recipe('barman check pg', ENV => \%env);
fail_unsupported('Barman', $major, $out . $err, $unsupported) if $rc;
is($rc, 0, 'barman check passes') or diag($out . $err);

$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql(
	'shop', q{
CREATE EXTENSION guarded_ddl;
CREATE SCHEMA app;
CREATE TABLE app.customers (id int PRIMARY KEY, payload text NOT NULL);
INSERT INTO app.customers SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
});

my $backup_recipe = substitute(readme_recipe('barman-backup'),
	[ '-h db1', '-h ' . $node->host ]);

# barman_status(ID): the status Barman gives backup ID.
sub barman_status
{
	my ($id) = @_;
	my ($rc, $out) = run_recipe("barman show-backup pg $id");
	return $out =~ /^\s*Status\s*:\s*(\S+)/m ? $1 : "(none: $out)";
}

# Night 1.
($out, $err, $rc) = recipe_ok('barman-backup', $backup_recipe, ENV => \%env);
fail_unsupported('Barman', $major, $out . $err, $unsupported) if $rc;

my ($marker1, $tool, $id1, $kind, $location) = split /\|/,
  $node->safe_psql('shop',
	'SELECT id, tool, label, kind, location FROM guarded_ddl.backups ORDER BY id DESC LIMIT 1');
is_deeply(
	[ $tool, $kind, $location ],
	[ 'barman', 'full', 'server=pg' ],
	'the marker names the tool and the Barman server');
like($id1, qr/^\d{8}T\d{6}$/, "and Barman's backup id $id1");
is(barman_status($id1), 'DONE',
	'the recorded backup is DONE, not WAITING_FOR_WALS (backup --wait)');

# Rows written after the backup (they come back through the WAL archive),
# then the allowed DROP and its audit row.
my ($checksum, $audit_id, $restore_point) = drop_after_backup($node, $marker1);

# Night 2: a newer backup; the recipe now reads a list of two.
sleep 1;    # backup ids have a resolution of one second
recipe_ok('barman-backup (next night, two backups listed)',
	$backup_recipe, ENV => \%env);
my $id2 = $node->safe_psql('shop',
	'SELECT label FROM guarded_ddl.backups ORDER BY id DESC LIMIT 1');
isnt($id2, $id1, "the second marker names the newer backup $id2");
is(barman_status($id2), 'DONE', 'which is DONE too');
($rc, $out) = run_recipe('barman list-backups --minimal pg');
is($out, "$id2\n$id1\n", 'Barman lists both, newest first');

my $restore_command = $node->safe_psql('shop',
	"SELECT restore_command FROM guarded_ddl.recovery WHERE audit_id = $audit_id");
like($restore_command, qr/ 'pg' '\Q$id1\E' /,
	'restore_command names the backup behind the row, not the newest one');

# --- the README's restore recipe, with the row's values -------------------

my $restored = PostgreSQL::Test::Cluster->new('restored');
my $dir = $restored->data_dir;
my $recipe = substitute(
	readme_recipe('barman-restore'),
	[ 'audit_id = 2',         "audit_id = $audit_id" ],
	[ '-h db1',               '-h ' . $node->host ],
	[ q{'20261121T020000'},   "'$id1'" ],
	[ q{'guarded_ddl_950_1'}, "'$restore_point'" ],
	[ '/srv/restore',         $dir ]);
($out, $err, $rc) = recipe_ok('barman-restore', $recipe, ENV => \%env);

like($out, qr/^IMPORTANT\n.*^\S+ line \d+: archive_command = false$/ms,
	'barman recover says, under IMPORTANT, that it set archive_command = false');

my ($printed) = split /\n/, $out;
my ($run_line) = grep { /^barman recover / } split /\n/, $recipe;
(my $expected = $printed) =~ s{ '/var/lib/postgresql/restore'$}{ '$dir'};
is($run_line, $expected,
	'the command the README runs is what guarded_ddl.recovery prints, with the destination replaced');

$restored->append_conf(
	'postgresql.conf', qq{
port = @{[ $restored->port ]}
unix_socket_directories = '@{[ $restored->host ]}'
listen_addresses = ''
});
ok($restored->start(fail_ok => 1), 'the restored cluster starts');
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

# Never into production's Barman.
# (SHOW prints "(disabled)" for archive_command while archive_mode is off.)
my @archive_commands = grep { /^\s*archive_command\s*=/ }
  split /\n/, slurp_file("$dir/postgresql.conf");
is($archive_commands[-1], 'archive_command = false',
	"Barman set archive_command = false in the restored postgresql.conf");
is($restored->safe_psql('postgres', 'SHOW archive_mode'),
	'off', "and the recipe's last line switched archive_mode off");
$restored->safe_psql('postgres', 'CREATE TABLE after_promotion AS SELECT 1 AS x');
$restored->safe_psql('postgres', 'SELECT pg_switch_wal()');
$restored->safe_psql('postgres', 'CHECKPOINT');
is($restored->safe_psql('postgres',
		'SELECT timeline_id FROM pg_control_checkpoint()'),
	'2', 'the restored cluster is on a timeline of its own');
sleep 2;
my @pushed;
find(sub { push @pushed, $File::Find::name if /^00000002/ }, "$home/pg");
is_deeply(\@pushed, [],
	"no WAL or history file of the restored cluster's timeline reached Barman");
$restored->stop;

$node->stop;
done_testing();
