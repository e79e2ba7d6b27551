#!/usr/bin/perl
# test/layout_check.pl -- the source layout keeps its promises:
#
#   1. no include circles: a room is a .c/.h pair of src/ (intent.c and
#      intent.h are one room); a room that includes another's header points
#      at it.  The data flows one way, so the graph must have no cycle.
#   2. no file of src/ is longer than the limit (default 650 lines; the
#      aim is 600);
#   3. every file opens with a header comment, and every function longer
#      than a few lines has a comment above it saying what it is for.
#
# Usage: perl test/layout_check.pl [SRC_DIR] [MAX_LINES]
# Prints one line per problem and exits 1 when there is any, 0 otherwise.
use strict;
use warnings;

my $src = shift // 'src';
my $max_lines = shift // 650;
my (%edges, @problems);

opendir(my $dh, $src) or die "cannot read $src: $!\n";
my @files = sort grep { /\.[ch]$/ } readdir($dh);
closedir($dh);

for my $file (@files)
{
	my ($room) = $file =~ /^(.*)\.[ch]$/;
	open(my $fh, '<', "$src/$file") or die "cannot read $src/$file: $!\n";
	my $lines = 0;
	my @text = <$fh>;
	push @problems, "$src/$file does not open with a header comment"
	  unless @text && $text[0] =~ m{^/\*};
	for my $i (1 .. $#text)
	{
		# a definition: "name(" at column 0 under a line holding its type
		next unless $file =~ /\.c$/ && $text[$i] =~ /^([A-Za-z_]\w*)\(/;
		my $name = $1;
		next if $name =~ /^[A-Z0-9_]+$/;	# a macro (PG_FUNCTION_INFO_V1)
		next unless $text[$i - 1] =~ /^[A-Za-z]/;
		my $end = $i;
		$end++ while $end < $#text && $text[$end] !~ /^}/;
		next if $end - $i < 8;	# trivial
		push @problems, "$src/$file: $name() has no comment saying what it is for"
		  unless $i >= 2 && $text[$i - 2] =~ m{\*/\s*$};
	}
	for my $line (@text)
	{
		$lines++;
		next unless $line =~ /^\s*#\s*include\s+"([^"]+)\.h"/;
		my $target = $1;
		$target =~ s{.*/}{};
		next if $target eq $room || !-e "$src/$target.h";
		$edges{$room}{$target} = 1;
	}
	close($fh);
	push @problems, "$src/$file has $lines lines (limit $max_lines)"
	  if $lines > $max_lines;
	$edges{$room} //= {};
}

# Depth-first search; a grey room met again closes a circle.
my (%colour, @path);
sub visit
{
	my ($room) = @_;
	$colour{$room} = 'grey';
	push @path, $room;
	for my $next (sort keys %{ $edges{$room} })
	{
		my $c = $colour{$next} // 'white';
		if ($c eq 'grey')
		{
			my @cycle = @path;
			shift @cycle while $cycle[0] ne $next;
			push @problems, 'include circle: ' . join(' -> ', @cycle, $next);
		}
		elsif ($c eq 'white')
		{
			visit($next);
		}
	}
	pop @path;
	$colour{$room} = 'black';
}
visit($_) for grep { ($colour{$_} // 'white') eq 'white' } sort keys %edges;

print "$_\n" for @problems;
printf "%d rooms, %d include edges, %d problems\n", scalar(keys %edges),
  scalar(map { keys %$_ } values %edges), scalar(@problems);
exit(@problems ? 1 : 0);
