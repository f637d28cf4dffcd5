# SPDX-License-Identifier: GPL-2.0-only
# Perl frames at a known depth, for bench/runtime/php_cost.sh (RUNTIME=perl): recurses ARGV[1]
# Perl frames deep (main::RUNTIME included), then spins in pure Perl for ARGV[0] seconds of CPU
# time.
use strict;
use warnings;
use Time::HiRes qw(clock_gettime CLOCK_PROCESS_CPUTIME_ID);

sub spin {
	my ($seconds) = @_;
	my $t_end = clock_gettime(CLOCK_PROCESS_CPUTIME_ID) + $seconds;
	my $x = 0;
	while (clock_gettime(CLOCK_PROCESS_CPUTIME_ID) < $t_end) {
		for (my $i = 0; $i < 2000; $i++) { $x += $i; }
	}
	return $x;
}

sub down {
	my ($n, $seconds) = @_;
	return spin($seconds) if $n <= 1;
	return down($n - 1, $seconds);
}

down(($ARGV[1] // 20) - 2, $ARGV[0] // 5);
