# 030_migration_history: replay an application's Prisma migration history
# (test/t/fixtures/migrations, applied in folder order like `prisma migrate
# deploy`) against guarded_ddl with its defaults -- no backup recorded,
# default_action = require_backup -- and one generated row in every table
# before each migration, so every destructive change meets data.
#
# What must hold is data, not code: fixtures/migrations/expected.tsv says for
# each migration whether it destroys values, whether the guard stops it, with
# which SQLSTATE and on which intents.  A stopped migration is applied again
# with guarded_ddl.override() in its transaction, as a DBA would after
# checking it, so the next migrations find the schema they were written for.
# The summary counts false alarms (stopped, destroys nothing) and misses
# (passed, destroys values) and compares them with the manifest.
#
# Phase 2 replays the same history with the migration role opted into
# delete_all (DESIGN 3.1, 3.6): the DELETE FROM "UserProfile" before a
# reshape must then be stopped too.
use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $fixtures = "$ENV{GUARDED_DDL_SRC}/test/t/fixtures/migrations";
my $role     = 'prisma_migrator';

# --- the history and what must happen to it ---------------------------------

# read_manifest: expected.tsv as a list of hashes, in file order.
sub read_manifest
{
	my @rows;
	my @columns;
	open my $fh, '<', "$fixtures/expected.tsv" or die "expected.tsv: $!";
	while (my $line = <$fh>)
	{
		chomp $line;
		next if $line =~ /^\s*(#|$)/;
		my @fields = split /\t/, $line, -1;
		if (!@columns)
		{
			@columns = @fields;
			next;
		}
		die "expected.tsv: " . scalar(@fields) . " fields, not " . scalar(@columns) . ": $line"
		  unless @fields == @columns;
		my %row;
		@row{@columns} = @fields;
		$row{objects} = $row{object} eq '-' ? [] : [ split /,/, $row{object} ];
		push @rows, \%row;
	}
	close $fh;
	return @rows;
}

my @manifest = read_manifest();
my @folders = sort map { (split m{/}, $_)[-2] } glob("$fixtures/*/migration.sql");
cmp_ok(scalar @folders, '>=', 40, 'the history has at least 40 migrations');
is_deeply([ map { $_->{migration} } @manifest ], \@folders,
	'expected.tsv names every migration folder, in order');

my %sql;
for my $name (@folders)
{
	open my $fh, '<', "$fixtures/$name/migration.sql" or die "$name: $!";
	local $/;
	$sql{$name} = <$fh>;
	close $fh;
}

# --- the cluster ------------------------------------------------------------

my $node = PostgreSQL::Test::Cluster->new('migration_history');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'guarded_ddl'");
$node->start;

$node->safe_psql(
	'postgres', qq{
CREATE ROLE $role LOGIN;
ALTER ROLE $role SET search_path = app;
});

# create_app_database DB: the application's database as a DBA sets it up for
# Prisma: guarded_ddl with its defaults, a schema owned by the migration role,
# Prisma's own bookkeeping table, and the break-glass right for the role.
sub create_app_database
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql(
		$db, qq{
CREATE EXTENSION guarded_ddl;
CREATE SCHEMA app AUTHORIZATION $role;
BEGIN;
SELECT guarded_ddl.override('rights on guarded_ddl for this test');
GRANT USAGE ON SCHEMA guarded_ddl TO $role;
GRANT EXECUTE ON FUNCTION guarded_ddl.override(text) TO $role;
COMMIT;
});
	# What `prisma migrate deploy` creates before the first migration.
	$node->safe_psql(
		$db, qq{
SET ROLE $role;
CREATE TABLE app."_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);
});
	return;
}

# --- data in every table ----------------------------------------------------

# One row in every table of the app schema (but Prisma's own), parents before
# children.  Columns with a default get it; every other column -- nullable
# ones too, so that dropping them destroys values -- gets a value of its
# type that is unique to the round, and a foreign key column the row just
# inserted into the table it references (NULL when it references its own
# table).  Strings are longer than 50 characters and shorter than 100, cut to
# the column's length.  A type with no dummy value stops the test.
my $seed_sql = q{
DO $seed$
DECLARE
	seed_round constant int := %d;
	done oid[] := '{}';
	made jsonb := '{}';
	tbl record;
	col record;
	names text[];
	vals text[];
	v text;
	inserted jsonb;
	progress boolean;
BEGIN
	LOOP
		progress := false;
		FOR tbl IN
			SELECT c.oid, c.relname
			  FROM pg_catalog.pg_class AS c
			 WHERE c.relnamespace = 'app'::regnamespace
			   AND c.relkind IN ('r', 'p')
			   AND c.relname <> '_prisma_migrations'
			   AND c.oid <> ALL (done)
			   AND NOT EXISTS (
			         SELECT FROM pg_catalog.pg_constraint AS f
			          WHERE f.conrelid = c.oid AND f.contype = 'f'
			            AND f.confrelid <> c.oid AND f.confrelid <> ALL (done))
			 ORDER BY c.relname
		LOOP
			names := '{}';
			vals := '{}';
			FOR col IN
				SELECT a.attname, a.atttypid, t.typtype, t.typcategory,
				       pg_catalog.format_type(a.atttypid, a.atttypmod) AS typ,
				       (SELECT pg_catalog.jsonb_build_object('rel', f.confrelid, 'col', r.attname)
				          FROM pg_catalog.pg_constraint AS f
				          CROSS JOIN LATERAL unnest(f.conkey, f.confkey) AS k (attnum, refnum)
				          JOIN pg_catalog.pg_attribute AS r
				            ON r.attrelid = f.confrelid AND r.attnum = k.refnum
				         WHERE f.conrelid = tbl.oid AND f.contype = 'f' AND k.attnum = a.attnum
				         LIMIT 1) AS fk
				  FROM pg_catalog.pg_attribute AS a
				  JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
				 WHERE a.attrelid = tbl.oid AND a.attnum > 0 AND NOT a.attisdropped
				   AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = ''
				 ORDER BY a.attnum
			LOOP
				IF col.fk IS NOT NULL THEN
					CONTINUE WHEN (col.fk->>'rel')::oid = tbl.oid;
					v := made -> (col.fk->>'rel') ->> (col.fk->>'col');
				ELSIF col.typcategory = 'A' THEN
					v := '{}';
				ELSIF col.typtype = 'e' THEN
					SELECT e.enumlabel INTO v FROM pg_catalog.pg_enum AS e
					 WHERE e.enumtypid = col.atttypid ORDER BY e.enumsortorder LIMIT 1;
				ELSE
					v := CASE col.atttypid
						WHEN 'int2'::regtype THEN seed_round::text
						WHEN 'int4'::regtype THEN seed_round::text
						WHEN 'int8'::regtype THEN seed_round::text
						WHEN 'numeric'::regtype THEN (seed_round + 0.5)::text
						WHEN 'float4'::regtype THEN (seed_round + 0.25)::text
						WHEN 'float8'::regtype THEN (seed_round + 0.25)::text
						WHEN 'bool'::regtype THEN 'true'
						WHEN 'text'::regtype THEN NULL
						WHEN 'varchar'::regtype THEN NULL
						WHEN 'bpchar'::regtype THEN NULL
						WHEN 'timestamp'::regtype THEN
							(timestamp '2024-01-01 12:00' + seed_round * interval '1 day')::text
						WHEN 'timestamptz'::regtype THEN
							(timestamp '2024-01-01 12:00' + seed_round * interval '1 day')::text
						WHEN 'date'::regtype THEN
							(date '2024-01-01' + seed_round)::text
						WHEN 'jsonb'::regtype THEN format('{"seed": %%s}', seed_round)
						WHEN 'json'::regtype THEN format('{"seed": %%s}', seed_round)
						WHEN 'uuid'::regtype THEN
							md5(format('%%s.%%s.%%s', tbl.relname, col.attname, seed_round))::uuid::text
						WHEN 'bytea'::regtype THEN '\x00'
						END;
					IF col.typcategory = 'S' THEN
						v := format('seed %%s %%s.%%s lorem ipsum dolor sit amet consectetur adipiscing elit',
									seed_round, tbl.relname, col.attname);
					END IF;
				END IF;
				IF v IS NULL THEN
					RAISE EXCEPTION 'seed: no value for column %%.%% of type %%',
						tbl.relname, col.attname, col.typ;
				END IF;
				names := names || quote_ident(col.attname);
				vals := vals || format('%%L::%%s', v, col.typ);
			END LOOP;
			IF cardinality(names) = 0 THEN
				EXECUTE format('INSERT INTO app.%%I AS seeded DEFAULT VALUES RETURNING to_jsonb(seeded.*)',
							   tbl.relname) INTO inserted;
			ELSE
				EXECUTE format('INSERT INTO app.%%I AS seeded (%%s) VALUES (%%s) RETURNING to_jsonb(seeded.*)',
							   tbl.relname, array_to_string(names, ', '), array_to_string(vals, ', '))
				   INTO inserted;
			END IF;
			made := made || jsonb_build_object(tbl.oid::text, inserted);
			done := done || tbl.oid;
			progress := true;
		END LOOP;
		EXIT WHEN NOT progress;
	END LOOP;
	IF EXISTS (SELECT FROM pg_catalog.pg_class AS c
	            WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('r', 'p')
	              AND c.relname <> '_prisma_migrations' AND c.oid <> ALL (done)) THEN
		RAISE EXCEPTION 'seed: foreign keys form a cycle, some tables got no row';
	END IF;
END
$seed$;
};

# --- applying a migration -----------------------------------------------------

# apply_migration DB NAME OVERRIDE: run NAME's migration.sql in one
# transaction, as the migration role with Prisma's application_name, and
# record it in _prisma_migrations in the same transaction.  With OVERRIDE,
# guarded_ddl.override('replay: NAME') comes first.  Prisma writes BEGIN and
# COMMIT around an enum rewrite; the replay has its own transaction, so those
# lines are left out.  Returns (exit status, stderr).
sub apply_migration
{
	my ($db, $name, $override) = @_;
	my $body = join '', grep { !/^\s*(BEGIN|COMMIT)\s*;\s*$/i } split /^/m, $sql{$name};
	my $checksum = sha256_hex($sql{$name});
	my $script = "\\set VERBOSITY verbose\nBEGIN;\n";
	$script .= "SELECT guarded_ddl.override('replay: $name');\n" if $override;
	$script .= $body;
	$script .= qq{
INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count)
VALUES (gen_random_uuid()::text, '$checksum', '$name', now(), 1);
COMMIT;
};
	my ($out, $err);
	my $rc = $node->psql(
		$db, $script,
		connstr => $node->connstr($db) . " user=$role application_name=prisma-migrate",
		stdout  => \$out,
		stderr  => \$err);
	return ($rc, $err);
}

# audit_mark DB: the newest audit id, to find the rows a migration adds.
sub audit_mark
{
	my ($db) = @_;
	return $node->safe_psql($db, 'SELECT coalesce(max(id), 0) FROM guarded_ddl.audit');
}

# audit_since DB MARK DECISION: "operation object_identity" of the audit rows
# with DECISION after MARK, sorted, and the reasons.
sub audit_since
{
	my ($db, $mark, $decision) = @_;
	my $rows = $node->safe_psql(
		$db, qq{
SELECT operation || ' ' || object_identity || E'\t' || coalesce(reason, '')
     || E'\t' || role_name || E'\t' || coalesce(application_name, '')
  FROM guarded_ddl.audit
 WHERE id > $mark AND decision = '$decision'
 ORDER BY 1});
	return map { [ split /\t/, $_, -1 ] } grep { $_ ne '' } split /\n/, $rows;
}

sub uniq
{
	my %seen;
	return grep { !$seen{$_}++ } @_;
}

# replay DB LABEL: seed, apply, and on refusal apply with override, for every
# migration in order.  Returns one hash per migration: stopped, sqlstate,
# denied (sorted distinct "operation object"), allowed (the same for allowed
# audit rows, with reasons), overridden, error.
sub replay
{
	my ($db, $label) = @_;
	my @results;
	my $round = 0;
	for my $name (@folders)
	{
		$round++;
		$node->safe_psql($db, sprintf($seed_sql, $round));

		my $mark = audit_mark($db);
		my ($rc, $err) = apply_migration($db, $name, 0);
		my %r = (name => $name, stopped => $rc != 0, error => $err);
		if ($rc == 0)
		{
			$r{denied} = [];
			$r{allowed} = [ audit_since($db, $mark, 'allowed') ];
			push @results, \%r;
			next;
		}

		($r{sqlstate}) = $err =~ /ERROR:\s+([0-9A-Z]{5}):/;
		$r{sqlstate} //= '';
		my @denied = audit_since($db, $mark, 'denied');
		$r{denied} = [ uniq(sort map { $_->[0] } @denied) ];
		$r{denied_by} = [ uniq(map { "$_->[2]/$_->[3]" } @denied) ];

		# As a DBA would once the refusal is understood: the same migration,
		# with the override in its transaction.
		my $mark2 = audit_mark($db);
		my ($rc2, $err2) = apply_migration($db, $name, 1);
		$r{override_error} = $rc2 == 0 ? '' : $err2;
		$r{overridden} = [
			uniq(sort map { $_->[0] }
				  grep { index($_->[1], "replay: $name") >= 0 }
				  audit_since($db, $mark2, 'overridden'))
		];
		push @results, \%r;
		if ($rc2 != 0)
		{
			fail("$label $name: applies with the override");
			diag($err2);
			last;
		}
	}
	return @results;
}

# --- phase 1: the default policy ----------------------------------------------

create_app_database('app');
my $started = time;
my @results = replay('app', 'replay');
note(sprintf('replay of %d migrations took %d s', scalar @results, time - $started));

my %count = map { $_ => 0 } qw(destroying stopped false_alarms misses);
my %expected_count = %count;
my @table;
for my $i (0 .. $#manifest)
{
	my $m = $manifest[$i];
	my $r = $results[$i];
	my $name = $m->{migration};
	last unless defined $r;
	my $destroys = $m->{destroys} eq 'yes';
	my @want = sort map { "$m->{operation} $_" } @{ $m->{objects} };

	if ($m->{expect} eq 'stop')
	{
		ok($r->{stopped}, "$name: stopped ($m->{why})") or diag($r->{error});
		is($r->{sqlstate}, $m->{sqlstate}, "$name: refused with SQLSTATE $m->{sqlstate}");
		is_deeply($r->{denied}, \@want,
			"$name: guarded_ddl.denials has the refused intent(s): @want")
		  or diag("denied: @{$r->{denied}}");
		is_deeply($r->{denied_by} // [], ["$role/prisma-migrate"],
			"$name: the denial names the migration role and application_name");
		if ($r->{stopped})
		{
			is($r->{override_error}, '', "$name: applies with override('replay: $name')");
			is_deeply($r->{overridden}, \@want,
				"$name: the override is audited as overridden with its reason");
		}
	}
	else
	{
		ok(!$r->{stopped}, "$name: passes ($m->{why})")
		  or diag($r->{error});
		is_deeply($r->{denied}, [], "$name: nothing denied");
		if ($m->{operation} ne '-')
		{
			my @allowed = grep { (split / /, $_->[0])[0] eq $m->{operation} } @{ $r->{allowed} };
			ok(scalar @allowed, "$name: the audit shows $m->{operation} allowed")
			  or diag('allowed: ' . join(', ', map { $_->[0] } @{ $r->{allowed} }));
			my %have = map { $_->[0] => 1 } @allowed;
			ok($have{$_}, "$name: allowed: $_") for @want;
			if ($m->{operation} eq 'alter_type')
			{
				is_deeply([ grep { $_->[1] !~ /^lossless: / } @allowed ], [],
					"$name: every type change is audited as lossless")
				  or diag(join "\n", map { "$_->[0]: $_->[1]" } @allowed);
			}
		}
	}

	$expected_count{destroying}++ if $destroys;
	$expected_count{stopped}++ if $m->{expect} eq 'stop';
	$expected_count{false_alarms}++ if !$destroys && $m->{expect} eq 'stop';
	$expected_count{misses}++ if $destroys && $m->{expect} eq 'pass';
	$count{destroying}++ if $destroys;
	$count{stopped}++ if $r->{stopped};
	$count{false_alarms}++ if !$destroys && $r->{stopped};
	$count{misses}++ if $destroys && !$r->{stopped};
	push @table,
	  sprintf('%-32s %-8s %-5s %-5s %s', $name, $m->{destroys}, $m->{expect},
		$r->{stopped} ? 'stop' : 'pass',
		$r->{stopped} ? "$r->{sqlstate} @{$r->{denied}}" : '');
}
is(scalar @results, scalar @manifest, 'every migration was replayed');

is( $node->safe_psql('app',
		q{SELECT count(*) FROM app."_prisma_migrations" WHERE finished_at IS NOT NULL}),
	scalar @folders,
	'_prisma_migrations records every migration as applied, the overridden ones included');
is( $node->safe_psql('app',
		q{SELECT count(*) FROM guarded_ddl.audit WHERE decision = 'overridden' AND reason LIKE '%replay: %'}),
	$node->safe_psql('app', q{SELECT count(*) FROM guarded_ddl.denials}),
	'every denied intent was overridden once, with the replay reason');

note(sprintf('%-32s %-8s %-5s %-5s %s', 'migration', 'destroys', 'want', 'got', 'refused'));
note($_) for @table;
note(
	sprintf(
		'%d migrations, %d destroying values, %d stopped, %d false alarms, %d misses',
		scalar @results,  $count{destroying}, $count{stopped},
		$count{false_alarms}, $count{misses}));
is($count{false_alarms}, $expected_count{false_alarms},
	"false alarms (stopped, destroys nothing): $expected_count{false_alarms} as expected.tsv says");
is($count{misses}, $expected_count{misses},
	"misses (passed, destroys values): $expected_count{misses} as expected.tsv says");
is($count{stopped}, $expected_count{stopped}, "stopped: $expected_count{stopped}");

# --- phase 2: the migration role opted into delete_all ------------------------

# The same history in a fresh database, with the rule the README's cookbook
# gives for migration roles.  First, whether delete_all is there at all: the
# policy must take the rule, and a DELETE without WHERE of a table with rows
# must be stopped by it.
create_app_database('app_delete_all');
my ($rc, $out, $err) = $node->psql(
	'app_delete_all',
	qq{INSERT INTO guarded_ddl.policy (operation, role_name, action, note)
	   VALUES ('delete_all', '$role', 'require_backup', 'migrations must not empty tables unseen')});
my $delete_all = $rc == 0;
my $why_not = $delete_all ? '' : "the policy refuses operation delete_all: $err";
if ($delete_all)
{
	$node->safe_psql(
		'app_delete_all', qq{
CREATE SCHEMA probe AUTHORIZATION $role;
CREATE TABLE probe.t (id int);
ALTER TABLE probe.t OWNER TO $role;
INSERT INTO probe.t VALUES (1);
});
	($rc, $out, $err) = $node->psql(
		'app_delete_all', 'DELETE FROM probe.t',
		connstr => $node->connstr('app_delete_all') . " user=$role application_name=prisma-migrate");
	$delete_all = $rc != 0;
	$why_not = 'a DELETE without WHERE is not stopped by a delete_all rule' unless $delete_all;
}
ok($delete_all, 'the policy takes a delete_all rule, and it stops a DELETE without WHERE')
  or diag($why_not);

my @results2 = replay('app_delete_all', 'replay with delete_all');
my ($reshape) = grep { $_->{name} eq '028_user_profile_reshape' } @results2;
ok($reshape && $reshape->{stopped},
	'delete_all rule: DELETE FROM "UserProfile" before the reshape is stopped');
is($reshape && $reshape->{sqlstate}, 'ZG002', '... with SQLSTATE ZG002 (no backup)');
is_deeply($reshape && $reshape->{denied}, ['delete_all app."UserProfile"'],
	'... and guarded_ddl.denials has the delete_all intent');
# rows this transaction deleted still count for the DROP COLUMN after it
is_deeply($reshape && $reshape->{overridden},
	[ 'delete_all app."UserProfile"', 'drop app."UserProfile".bio' ],
	'... and the override of it is audited, with the DROP COLUMN of the emptied table');
# Every other migration is decided as without the rule.
is_deeply(
	[ map { "$_->{name} " . ($_->{stopped} ? 'stop' : 'pass') } grep { $_->{name} ne '028_user_profile_reshape' } @results2 ],
	[ map { "$_->{name} " . ($_->{stopped} ? 'stop' : 'pass') } grep { $_->{name} ne '028_user_profile_reshape' } @results ],
	'delete_all rule: every other migration is decided as without it');

$node->stop;
done_testing();
