# 022_recipe_pgbouncer: guarded_ddl behind PgBouncer in transaction mode,
# configured with the README's pgbouncer.ini lines.
#
# Every server connection is shared (default_pool_size = 1), so each check
# also proves that nothing of one client reaches the next one on the same
# server connection:
#   - a refusal through the pooler is audited; client_addr is the pooler's
#     address and application_name carries the client's address and port
#     (application_name_add_host), which PgBouncer's log has for the login;
#   - application_name rules see each client's own application_name;
#   - the README's override transaction works, and the next client of that
#     server connection is refused again;
#   - guarded_ddl.allow_drop_database is gone once its DROP DATABASE ran
#     (but a SET that no DROP DATABASE consumed stays on the server
#     connection, which is why the README says to drop databases over a
#     direct connection).
use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';

use GuardedDDL::Recipe qw(readme_recipe tool_version);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# The harness installs pgbouncer (Debian package): its absence is a failure.
# Debian puts it in /usr/sbin, which an unprivileged user's PATH lacks.
my ($pgbouncer) = grep { -x $_ }
  map { "$_/pgbouncer" } split(/:/, $ENV{PATH} // ''), '/usr/sbin';
$pgbouncer //= 'pgbouncer';
my $version = tool_version($pgbouncer, '--version');
ok(defined $version && $version =~ /^PgBouncer \d/,
	'pgbouncer is installed' . (defined $version ? " ($version)" : ''))
  or BAIL_OUT('pgbouncer is not installed (Debian package pgbouncer)');

my $tmp = PostgreSQL::Test::Utils::tempdir();

my $node = PostgreSQL::Test::Cluster->new('production');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
max_worker_processes = 16
lc_messages = 'C'
shared_preload_libraries = 'guarded_ddl'
listen_addresses = '127.0.0.1'
});
$node->append_conf('pg_hba.conf', "host all all 127.0.0.1/32 trust\n");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql('postgres', 'CREATE DATABASE scratch');
$node->safe_psql(
	'shop', q{
CREATE EXTENSION guarded_ddl;
CREATE ROLE migrator LOGIN;
CREATE SCHEMA app AUTHORIZATION migrator;
BEGIN;
SELECT guarded_ddl.override('rights on guarded_ddl for this test');
GRANT USAGE ON SCHEMA guarded_ddl TO migrator;
GRANT EXECUTE ON FUNCTION guarded_ddl.override(text) TO migrator;
COMMIT;
SET ROLE migrator;
CREATE TABLE app.keep (id int);
CREATE TABLE app.import_a (id int);
CREATE TABLE app.import_b (id int);
CREATE TABLE app.import_2019 (id int);
INSERT INTO app.keep VALUES (1);
INSERT INTO app.import_a VALUES (1);
INSERT INTO app.import_b VALUES (1);
INSERT INTO app.import_2019 VALUES (1);
RESET ROLE;
INSERT INTO guarded_ddl.policy (role_name, application_name, object_name, action, note)
VALUES ('migrator', 'deploy*', 'import_*', 'allow', 'the deploy job may drop import tables');
});

# --- PgBouncer, with the README's lines -------------------------------------

my $bport = PostgreSQL::Test::Cluster::get_free_port();
my $ini = "$tmp/pgbouncer.ini";
my $log = "$tmp/pgbouncer.log";
append_to_file("$tmp/userlist.txt", qq{"postgres" ""\n"migrator" ""\n});
append_to_file(
	$ini,
	"[databases]\nshop = host=127.0.0.1 port=@{[ $node->port ]} dbname=shop\n\n"
	  . readme_recipe('pgbouncer-ini') . qq{
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $tmp/userlist.txt
admin_users = postgres
default_pool_size = 1
logfile = $log
pidfile = $tmp/pgbouncer.pid
});
note(slurp_file($ini));

my ($bouncer_out, $bouncer_err) = ('', '');
my $bouncer = IPC::Run::start([ $pgbouncer, $ini ],
	'<', \'', '>', \$bouncer_out, '2>', \$bouncer_err);
END { $bouncer->kill_kill if $bouncer; }

# through(USER, APPLICATION, SQL...): run each SQL as its own statement in
# one client session through PgBouncer; returns (exit status, stdout,
# stderr).  psql stops at the first error.
sub through
{
	my ($user, $app, @sql) = @_;
	my ($out, $err) = ('', '');
	my @cmd = (
		'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose',
		'-d', "host=127.0.0.1 port=$bport dbname=shop user=$user application_name=$app",
		map { ('-c', $_) } @sql);
	IPC::Run::run(\@cmd, '<', \'', '>', \$out, '2>', \$err,
		IPC::Run::timeout(60));
	chomp $out;
	return ($? >> 8, $out, $err);
}

my $up = 0;
for (1 .. 100)
{
	my ($rc) = through('postgres', 'probe', 'SELECT 1');
	if ($rc == 0) { $up = 1; last; }
	select undef, undef, undef, 0.1;
}
ok($up, "PgBouncer accepts clients on port $bport")
  or diag("pgbouncer: $bouncer_err" . (-f $log ? slurp_file($log) : ''));

# audit_row(SQL condition): the newest audit row matching it.
sub audit_row
{
	my ($where) = @_;
	return split /\|/, $node->safe_psql('shop',
		"SELECT decision, role_name, application_name, host(client_addr), backend_pid, policy_id, reason
		   FROM guarded_ddl.audit WHERE $where ORDER BY id DESC LIMIT 1");
}

# --- a refusal through the pooler: who and from where ------------------------

my ($rc, $out, $err) = through('migrator', 'psql-ops', 'DROP TABLE app.keep');
like($err, qr/ERROR:  ZG002: refusing to drop table "app\.keep"/,
	'a DROP through PgBouncer is refused like on a direct connection');
my ($decision, $role, $app, $addr, $pid_refused) =
  audit_row(q{object_identity = 'app.keep'});
is($decision, 'denied', 'the refusal is in the audit');
is($role,     'migrator', 'with the role of the client');
is($addr,     '127.0.0.1',
	"client_addr is PgBouncer's address: the server only sees the pooler");
like($app, qr/^psql-ops - 127\.0\.0\.1:(\d+)$/,
	"application_name carries the client's address and port (application_name_add_host)");
my ($client_port) = $app =~ /:(\d+)$/;
ok(defined $client_port && slurp_file($log) =~ /\@127\.0\.0\.1:$client_port login attempt: db=shop user=migrator/,
	"PgBouncer's log has the login of that client address and port");

$node->psql('shop', 'DROP TABLE app.keep', on_error_stop => 0);
my (undef, undef, undef, $direct_addr) = audit_row(q{object_identity = 'app.keep'});
is($direct_addr, '', 'a direct connection over a Unix socket has no client_addr');

# --- application_name rules, client by client on one server connection ------

($rc, $out, $err) = through('migrator', 'deploy', 'DROP TABLE app.import_a');
is($rc, 0, "the deploy client's DROP is allowed by the deploy* rule") or diag($err);
my ($d_a, undef, $app_a, undef, $pid_a, $policy_a) =
  audit_row(q{object_identity = 'app.import_a'});
is_deeply([ $d_a, defined $policy_a && $policy_a ne '' ? 'rule' : 'no rule' ],
	[ 'allowed', 'rule' ], 'audited as allowed by the rule');
like($app_a, qr/^deploy - 127\.0\.0\.1:\d+$/,
	"with the deploy client's application_name");

($rc, $out, $err) = through('migrator', 'psql-ops', 'DROP TABLE app.import_b');
like($err, qr/ZG002/,
	"the next client's DROP on the same server connection is refused: its application_name is its own");
my (undef, undef, $app_b, undef, $pid_b) = audit_row(q{object_identity = 'app.import_b'});
like($app_b, qr/^psql-ops - /, 'audited with that client\'s application_name');
is($pid_b, $pid_a, 'both ran on the same server connection');

# --- the README's override transaction ------------------------------------------

my $override = readme_recipe('pooler-override');
append_to_file("$tmp/override.sql", $override);
{
	my @cmd = ('psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d',
		"host=127.0.0.1 port=$bport dbname=shop user=migrator application_name=psql-ops",
		'-f', "$tmp/override.sql");
	($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '<', \'', '>', \$out, '2>', \$err, IPC::Run::timeout(60));
	is($? >> 8, 0, 'the README\'s override transaction runs through PgBouncer')
	  or diag($err);
}
my ($d_o, undef, undef, undef, $pid_o, undef, $reason_o) =
  audit_row(q{object_identity = 'app.import_2019'});
is($d_o, 'overridden', 'the DROP is audited as overridden');
like($reason_o, qr/^INC-4711: /, 'with the reason given');
is($node->safe_psql('shop', q{SELECT to_regclass('app.import_2019') IS NULL}),
	't', 'and the table is gone');

($rc, $out, $err) = through('migrator', 'psql-ops',
	'BEGIN', 'CREATE TABLE app.after_override AS SELECT 1 AS id', 'COMMIT',
	'DROP TABLE app.after_override');
like($err, qr/ZG002/,
	'the next client of that server connection gets no override: its DROP is refused');
my (undef, undef, undef, undef, $pid_next) =
  audit_row(q{object_identity = 'app.after_override'});
is($pid_next, $pid_o, 'on the same server connection as the override');

# --- allow_drop_database does not outlive its DROP DATABASE --------------------

($rc, $out, $err) = through('postgres', 'psql-dba',
	'SELECT pg_backend_pid()',
	q{SET guarded_ddl.allow_drop_database = 'scratch'},
	'DROP DATABASE scratch');
is($rc, 0, 'DROP DATABASE after SET guarded_ddl.allow_drop_database runs through PgBouncer')
  or diag($err);
my ($pid_drop) = split /\n/, $out;
$node->safe_psql('postgres', 'CREATE DATABASE scratch');

($rc, $out, $err) = through('postgres', 'psql-other',
	'SELECT pg_backend_pid()',
	'SHOW guarded_ddl.allow_drop_database');
my ($pid_after, $setting_after) = split /\n/, $out;
is($pid_after, $pid_drop, 'the next client gets the same server connection');
is($setting_after // '', '',
	'guarded_ddl.allow_drop_database is empty for the next client: the DROP DATABASE consumed it');
($rc, $out, $err) = through('postgres', 'psql-other', 'DROP DATABASE scratch');
like($err, qr/ZG004/, 'and that client\'s DROP DATABASE scratch is refused');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_database WHERE datname = 'scratch'}),
	'1', 'the database is still there');

# Why the README says to issue DROP DATABASE over a direct connection: a SET
# that no DROP DATABASE consumed stays on the server connection.
through('postgres', 'psql-dba', q{SET guarded_ddl.allow_drop_database = 'scratch'});
($rc, $out, $err) = through('postgres', 'psql-other',
	'SHOW guarded_ddl.allow_drop_database', 'RESET guarded_ddl.allow_drop_database');
is((split /\n/, $out)[0], 'scratch',
	'a SET guarded_ddl.allow_drop_database with no DROP DATABASE after it is left to the next client, as the README warns');

$bouncer->signal('TERM');
$bouncer->finish;
undef $bouncer;
$node->stop;
done_testing();
