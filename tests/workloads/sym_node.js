// SPDX-License-Identifier: GPL-2.0-only
// Run with node --perf-basic-prof: the hot JIT-compiled function must show as hotLoop.
'use strict';
function hotLoop(n) {
	let h = 0;
	for (let i = 0; i < n; i++)
		h = (h * 31 + i) | 0;
	return h;
}
// Seconds of CPU time, not of wall time: on a busy machine a short run would otherwise be
// mostly start-up (interpreted code, before hotLoop is compiled), however long it lasted.
const secs = Number(process.argv[2] || 1);
const cpu = () => {
	const u = process.cpuUsage();
	return (u.user + u.system) / 1e6;
};
let acc = 0;
while (cpu() < secs)
	acc ^= hotLoop(100000);
console.log(acc);
