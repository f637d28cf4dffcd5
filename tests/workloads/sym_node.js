// SPDX-License-Identifier: GPL-2.0-only
// Run with node --perf-basic-prof: the hot JIT-compiled function must show as hotLoop.
'use strict';
function hotLoop(n) {
	let h = 0;
	for (let i = 0; i < n; i++)
		h = (h * 31 + i) | 0;
	return h;
}
const secs = Number(process.argv[2] || 1);
const t0 = Date.now();
let acc = 0;
while (Date.now() - t0 < secs * 1000)
	acc ^= hotLoop(100000);
console.log(acc);
