# SPDX-License-Identifier: GPL-2.0-only
# Known Perl chains for flamed's Perl frames (tests/e2e/test_perl.sh reads the lines from here by
# their marks): main::RUNTIME -> main::main -> Outer::mid -> main::leaf, whose loop is one line;
# with "digest" Outer::mid -> main::digest, a loop of Digest::MD5::md5 calls (native code under
# a Perl caller); with "sort" Outer::mid -> main::sorter, whose sort block (a second runops
# loop, on a stackinfo of its own, under pp_sort) calls main::leaf; with "first" Outer::mid ->
# main::finder -> List::Util::first (XS) running its block main::__ANON__ by MULTICALL (a runops
# loop on a PERLSI_MULTICALL stackinfo, the sub's retop NULL) -> main::leaf; with "threads" an
# ithread spins in main::worker -> main::leaf (an interpreter of its own) while the main thread
# runs the chain.
# Runs for CPU time, not wall time: a loaded machine still gets its samples.
#   perl plchain.pl [chain|digest|sort|first|threads] [SECONDS] [wall]
use strict;
use warnings;
use Digest::MD5 ();
use List::Util ();
use Time::HiRes qw(clock_gettime CLOCK_PROCESS_CPUTIME_ID CLOCK_MONOTONIC);

sub leaf {
	my ($n) = @_;
	my $x = 0;
	for (my $i = 0; $i < $n; $i++) { $x += $i * $i; } # L-LEAF
	return $x;
}

sub digest {
	my ($n) = @_;
	my $h = 'a' x 1048576;
	for (1 .. $n) { $h = Digest::MD5::md5($h) x 65536; } # L-DIGEST
	return $h;
}

sub sorter {
	my ($n) = @_;
	my @s = sort { leaf($n) <=> leaf($n) or $a <=> $b } (1 .. 4); # L-SORT
	return $s[0];
}

sub finder {
	my ($n) = @_;
	return List::Util::first { leaf($n) < 0 } (1 .. 4); # L-FIRST
}

package Outer;

sub mid {
	my ($mode, $n) = @_;
	return main::digest($n / 2000) if $mode eq 'digest'; # L-MID-DIGEST
	return main::sorter($n / 4) if $mode eq 'sort'; # L-MID-SORT
	return main::finder($n / 4) if $mode eq 'first'; # L-MID-FIRST
	return main::leaf($n); # L-MID
}

package main;

sub cpu_seconds { return clock_gettime(CLOCK_PROCESS_CPUTIME_ID); }

# ARGV[2] "wall": seconds of wall time (a process that lives that long however busy the
# machine), else of CPU time.
sub wall_seconds { return clock_gettime(CLOCK_MONOTONIC); }

sub main {
	my ($mode, $seconds, $clock) = @_;
	my $t_end = $clock->() + $seconds;
	while ($clock->() < $t_end) {
		Outer::mid($mode, 20000); # L-MAIN
	}
}

sub worker {
	my ($t_end) = @_;
	leaf(20000) while wall_seconds() < $t_end; # L-WORKER
}

my $mode = $ARGV[0] // 'chain';
my $seconds = $ARGV[1] // 3;
if ($mode eq 'threads') {
	# Loaded at run time: the other modes keep a process without threads.so.
	require threads;
	my $t = threads->create(\&worker, wall_seconds() + $seconds);
	main('chain', $seconds, \&wall_seconds);
	$t->join;
	exit 0;
}
main($mode, $seconds, ($ARGV[2] // '') eq 'wall' ? \&wall_seconds : \&cpu_seconds); # L-TOP
