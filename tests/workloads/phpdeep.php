<?php
// SPDX-License-Identifier: GPL-2.0-only
// PHP frames at a known depth, for bench/runtime/php_cost.sh: recurses argv[2] PHP frames deep ({main}
// included), then spins in pure PHP for argv[1] seconds of CPU time.

function cpu_seconds()
{
	$r = getrusage();
	return $r['ru_utime.tv_sec'] + $r['ru_utime.tv_usec'] / 1e6 +
		$r['ru_stime.tv_sec'] + $r['ru_stime.tv_usec'] / 1e6;
}

function spin($seconds)
{
	$end = cpu_seconds() + $seconds;
	$x = 0;
	while (cpu_seconds() < $end)
		for ($i = 0; $i < 2000; $i++) { $x += $i; }
	return $x;
}

function down($n, $seconds)
{
	if ($n <= 1)
		return spin($seconds);
	return down($n - 1, $seconds);
}

down((int)($argv[2] ?? 20) - 2, (float)($argv[1] ?? 5));
