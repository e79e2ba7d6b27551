# GuardedDDL::Recipe -- run the README's recipes as written.
#
# The README marks every recipe a DBA copies with an info string on its
# fenced code block:  ```sh recipe=NAME  (or ```sql / ```ini).  The tests
# take the text from there, never from a copy of their own, replace only the
# names the README documents as placeholders (database, host, stanza, paths,
# the audit_id of the example) and run it.  A placeholder that is no longer
# in the recipe is an error, so the README and the tests cannot drift apart
# without a failure.
#
# Also here: what the recipe tests share about the tools themselves --
# finding them and telling "this tool does not support this PostgreSQL
# major" apart from any other failure, so that such a run fails with the
# tool's own words instead of being skipped.
package GuardedDDL::Recipe;

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use File::Spec;
use IPC::Run;
use Test::More;

our @EXPORT_OK = qw(readme_recipe substitute run_recipe recipe_ok
  drop_after_backup
  tool_version fail_unsupported shell_quote);

# readme_file: the README of the tree under test (GUARDED_DDL_SRC, the copy
# the harness built), or the one three levels above this module.
sub readme_file
{
	my $src = $ENV{GUARDED_DDL_SRC}
	  // File::Spec->catdir(dirname(__FILE__), '..', '..', '..', '..');
	return File::Spec->catfile($src, 'README.md');
}

# readme_recipe(NAME): the body of the one fenced block whose info string
# carries recipe=NAME.  Dies when there is none or more than one.
sub readme_recipe
{
	my ($name) = @_;
	my $file = readme_file();
	open my $fh, '<:encoding(UTF-8)', $file or die "cannot read $file: $!\n";
	my @found;
	my ($fence, $collect, $body);
	while (my $line = <$fh>)
	{
		if (!defined $fence)
		{
			if ($line =~ /^\s{0,3}(`{3,}|~{3,})\s*([^`]*?)\s*$/)
			{
				$fence = $1;
				my @words = split /\s+/, $2;
				$collect = grep { $_ eq "recipe=$name" } @words;
				$body = '';
			}
		}
		elsif ($line =~ /^\s{0,3}\Q$fence\E\s*$/)
		{
			push @found, $body if $collect;
			undef $fence;
		}
		elsif ($collect)
		{
			$body .= $line;
		}
	}
	close $fh;
	die "README.md has no block marked recipe=$name\n" unless @found;
	die "README.md has " . scalar(@found) . " blocks marked recipe=$name\n"
	  if @found > 1;
	return $found[0];
}

# substitute(TEXT, [FROM, TO], ...): TEXT with every FROM replaced by TO,
# literally.  Each FROM must occur in TEXT: a placeholder the README no
# longer uses means the test no longer tests what the README says.
sub substitute
{
	my ($text, @pairs) = @_;
	for my $pair (@pairs)
	{
		my ($from, $to) = @$pair;
		my $n = () = $text =~ /\Q$from\E/g;
		die "placeholder '$from' does not occur in the recipe:\n$text\n"
		  unless $n;
		$text =~ s/\Q$from\E/$to/g;
	}
	return $text;
}

# shell_quote(STRING): STRING as one single-quoted shell word.
sub shell_quote
{
	my ($s) = @_;
	$s =~ s/'/'"'"'/g;
	return "'$s'";
}

# run_recipe(TEXT, ENV => {NAME => VALUE}, TIMEOUT => SECONDS): run TEXT
# with /bin/sh, as cron or a pasted terminal session would, stdin empty.
# Returns (exit status, stdout, stderr); everything goes to the test log.
sub run_recipe
{
	my ($text, %opt) = @_;
	my %env = %{ $opt{ENV} // {} };
	local @ENV{ keys %env } = values %env;
	my ($in, $out, $err) = ('', '', '');
	note("running recipe:\n$text");
	my $ok = eval {
		IPC::Run::run([ '/bin/sh', '-c', $text ],
			'<', \$in, '>', \$out, '2>', \$err,
			IPC::Run::timeout($opt{TIMEOUT} // 180));
		1;
	};
	my $rc = $ok ? $? >> 8 : -1;
	$err .= "\n(recipe did not finish: $@)" unless $ok;
	note("exit status $rc\n--- stdout ---\n$out--- stderr ---\n$err");
	return ($rc, $out, $err);
}

# recipe_ok(NAME, TEXT, %opt): run_recipe, then one test that it exited 0
# and wrote nothing to stderr that cron would mail as a failure (an
# EXCEPTION, ERROR or FATAL line, or a Broken pipe).  Returns (stdout,
# stderr, rc) for further checks.
sub recipe_ok
{
	my ($name, $text, %opt) = @_;
	my ($rc, $out, $err) = run_recipe($text, %opt);
	my $noise = join "\n",
	  grep { /EXCEPTION|ERROR|FATAL|Broken pipe/ } split /\n/, $err;
	ok($rc == 0 && $noise eq '',
		"recipe $name runs as written: exit status 0, no error on stderr")
	  or diag("exit status $rc\nstdout:\n$out\nstderr:\n$err");
	return ($out, $err, $rc);
}

# tool_version(COMMAND...): the first line COMMAND prints, or undef when
# it cannot be run at all.
sub tool_version
{
	my @cmd = @_;
	my ($out, $err) = ('', '');
	my $ok = eval { IPC::Run::run(\@cmd, '<', \'', '>', \$out, '2>', \$err); 1 };
	return undef unless $ok;
	my ($first) = split /\n/, $out . $err;
	return $first;
}

# fail_unsupported(TOOL, MAJOR, OUTPUT, PATTERN): when OUTPUT (a tool's
# output after a failed step) matches PATTERN -- the tool's own way of
# saying it does not know this PostgreSQL major -- fail with that message
# quoted and stop the test: the rest cannot run, and a skip would hide it.
sub fail_unsupported
{
	my ($tool, $major, $output, $pattern) = @_;
	return unless $output =~ $pattern;
	my ($line) = grep { $_ =~ $pattern } split /\n/, $output;
	fail("$tool supports PostgreSQL $major");
	diag("$tool does not support PostgreSQL $major; it says:\n$line");
	done_testing();
	exit 1;
}

# drop_after_backup(NODE, MARKER): the part of a backup tool's recipe test
# every tool shares.  Writes 500 more rows into shop's app.customers after
# the backup (they must come back through the WAL archive), drops the
# table (allowed: MARKER is a recent backup), leaves a table behind that a
# restore to just before the DROP must not have, and checks the DROP's
# audit row: allowed, carrying MARKER's backup_id and a restore point.
# Returns (checksum of the rows, the audit id, the restore point).
sub drop_after_backup
{
	my ($node, $marker) = @_;
	$node->safe_psql('shop',
		q{INSERT INTO app.customers SELECT g, md5(g::text) FROM generate_series(1001, 1500) g});
	my $checksum = $node->safe_psql('shop',
		q{SELECT count(*) || ':' || md5(string_agg(id || ':' || payload, ',' ORDER BY id)) FROM app.customers});

	$node->safe_psql('shop', 'DROP TABLE app.customers');
	$node->safe_psql('shop', 'CREATE TABLE app.after_drop (id int)');

	my ($audit_id, $decision, $backup_id, $restore_point) = split /\|/,
	  $node->safe_psql('shop',
		q{SELECT id, decision, backup_id, restore_point FROM guarded_ddl.audit
		   WHERE object_identity = 'app.customers' AND operation = 'drop'});
	is($decision,  'allowed', 'the DROP is allowed: a recent backup is recorded');
	is($backup_id, $marker,   'its audit row carries the backup_id of the marker');
	like($restore_point, qr/^guarded_ddl_\d+_\d+$/,
		'and names the restore point created before it');
	return ($checksum, $audit_id, $restore_point);
}

1;
