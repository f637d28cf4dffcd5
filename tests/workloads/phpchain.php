<?php
// SPDX-License-Identifier: GPL-2.0-only
// Known PHP chains for flamed's PHP frames (tests/e2e/test_php.sh reads the lines from here by
// their marks): {main} -> main -> Outer::mid -> leaf, whose loop is one line, or with "hash"
// Outer::mid -> digest, a loop of hash('sha256') calls (native code under a PHP caller), or
// with "callback" Outer::mid -> array_map (native) -> leaf (PHP called back from C).
// Runs for CPU time, not wall time: a loaded machine still gets its samples.
//   php phpchain.php [chain|hash|callback] [SECONDS]

function leaf($n)
{
	$x = 0;
	for ($i = 0; $i < $n; $i++) { $x += $i * $i; } // L-LEAF
	return $x;
}

function digest($n)
{
	$h = str_repeat('a', 8192);
	for ($i = 0; $i < $n; $i++) { $h = str_repeat(hash('sha256', $h), 128); } // L-HASH
	return $h;
}

class Outer
{
	public static function mid($mode, $n)
	{
		if ($mode === 'hash')
			return digest($n / 100); // L-MID-HASH
		if ($mode === 'callback')
			return array_map('leaf', array_fill(0, 10, $n / 10)); // L-MID-CB
		return leaf($n); // L-MID
	}
}

function cpu_seconds()
{
	$r = getrusage();
	return $r['ru_utime.tv_sec'] + $r['ru_utime.tv_usec'] / 1e6 +
		$r['ru_stime.tv_sec'] + $r['ru_stime.tv_usec'] / 1e6;
}

// argv[3] "wall": seconds of wall time (a process that lives that long however busy the
// machine), else of CPU time.
function wall_seconds()
{
	return microtime(true);
}

function main($mode, $seconds, $clock)
{
	$end = $clock() + $seconds;
	while ($clock() < $end) {
		Outer::mid($mode, 20000); // L-MAIN
	}
}

main($argv[1] ?? 'chain', (float)($argv[2] ?? 3), ($argv[3] ?? '') === 'wall' ? 'wall_seconds' : 'cpu_seconds'); // L-TOP
