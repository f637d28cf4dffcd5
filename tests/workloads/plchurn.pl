# SPDX-License-Identifier: GPL-2.0-only
# Closures that live microseconds (bench/runtime/churn_names.sh): main::finder runs a
# List::Util::first block closing over $n, a clone made and freed at each call, each with its
# own malloc'd copy of its file name in a threaded perl; other closures kept and dropped at
# random move the free lists, so clones land at many addresses. Usage: plchurn.pl [SECONDS]
use strict;
use warnings;
use List::Util ();

my @keep;

sub leaf {
	my $x = 0;
	$x += $_ for 1 .. 30;
	return $x;
}

sub finder {
	my ($n) = @_;
	return List::Util::first { leaf($n) < 0 } (1 .. 4);
}

my $end = time + ($ARGV[0] || 3);
while (time < $end) {
	for my $i (1 .. 20) {
		finder($i);
		my $v = $i;
		push @keep, sub { $v } if rand() < 0.5;
		splice(@keep, int(rand(@keep)), 1) if @keep > 500;
	}
}
