// SPDX-License-Identifier: GPL-2.0-only
// main -> mid -> hotJsFunction, spinning for CPU time; tests/e2e/test_node.sh profiles it with
// plain `node jschain.js SECS` and names the functions from V8's own metadata (src/runtime/v8.c).
// TurboFan inlines small functions into their caller, and inlined JavaScript frames are not
// named yet (only the function whose frame it is): mid and hotJsFunction carry a block that is
// never run, past TurboFan's inlining bound (460 bytes of bytecode), so each keeps its frame.
'use strict';
function hotJsFunction(n) {
	let h = 0;
	for (let i = 0; i < n; i++)
		h = (h * 31 + i) | 0;
	if (n < 0) {
		h = (h ^ 0) * 3 + 0;
		h = (h ^ 1) * 3 + 1;
		h = (h ^ 2) * 3 + 2;
		h = (h ^ 3) * 3 + 3;
		h = (h ^ 4) * 3 + 4;
		h = (h ^ 5) * 3 + 5;
		h = (h ^ 6) * 3 + 6;
		h = (h ^ 7) * 3 + 7;
		h = (h ^ 8) * 3 + 8;
		h = (h ^ 9) * 3 + 9;
		h = (h ^ 10) * 3 + 10;
		h = (h ^ 11) * 3 + 11;
		h = (h ^ 12) * 3 + 12;
		h = (h ^ 13) * 3 + 13;
		h = (h ^ 14) * 3 + 14;
		h = (h ^ 15) * 3 + 15;
		h = (h ^ 16) * 3 + 16;
		h = (h ^ 17) * 3 + 17;
		h = (h ^ 18) * 3 + 18;
		h = (h ^ 19) * 3 + 19;
		h = (h ^ 20) * 3 + 20;
		h = (h ^ 21) * 3 + 21;
		h = (h ^ 22) * 3 + 22;
		h = (h ^ 23) * 3 + 23;
		h = (h ^ 24) * 3 + 24;
		h = (h ^ 25) * 3 + 25;
		h = (h ^ 26) * 3 + 26;
		h = (h ^ 27) * 3 + 27;
		h = (h ^ 28) * 3 + 28;
		h = (h ^ 29) * 3 + 29;
		h = (h ^ 30) * 3 + 30;
		h = (h ^ 31) * 3 + 31;
		h = (h ^ 32) * 3 + 32;
		h = (h ^ 33) * 3 + 33;
		h = (h ^ 34) * 3 + 34;
		h = (h ^ 35) * 3 + 35;
		h = (h ^ 36) * 3 + 36;
		h = (h ^ 37) * 3 + 37;
		h = (h ^ 38) * 3 + 38;
		h = (h ^ 39) * 3 + 39;
		h = (h ^ 40) * 3 + 40;
		h = (h ^ 41) * 3 + 41;
		h = (h ^ 42) * 3 + 42;
		h = (h ^ 43) * 3 + 43;
		h = (h ^ 44) * 3 + 44;
		h = (h ^ 45) * 3 + 45;
		h = (h ^ 46) * 3 + 46;
		h = (h ^ 47) * 3 + 47;
		h = (h ^ 48) * 3 + 48;
		h = (h ^ 49) * 3 + 49;
		h = (h ^ 50) * 3 + 50;
		h = (h ^ 51) * 3 + 51;
		h = (h ^ 52) * 3 + 52;
		h = (h ^ 53) * 3 + 53;
		h = (h ^ 54) * 3 + 54;
		h = (h ^ 55) * 3 + 55;
		h = (h ^ 56) * 3 + 56;
		h = (h ^ 57) * 3 + 57;
		h = (h ^ 58) * 3 + 58;
		h = (h ^ 59) * 3 + 59;
		h = (h ^ 60) * 3 + 60;
		h = (h ^ 61) * 3 + 61;
		h = (h ^ 62) * 3 + 62;
		h = (h ^ 63) * 3 + 63;
		h = (h ^ 64) * 3 + 64;
		h = (h ^ 65) * 3 + 65;
		h = (h ^ 66) * 3 + 66;
		h = (h ^ 67) * 3 + 67;
		h = (h ^ 68) * 3 + 68;
		h = (h ^ 69) * 3 + 69;
		h = (h ^ 70) * 3 + 70;
		h = (h ^ 71) * 3 + 71;
		h = (h ^ 72) * 3 + 72;
		h = (h ^ 73) * 3 + 73;
		h = (h ^ 74) * 3 + 74;
		h = (h ^ 75) * 3 + 75;
		h = (h ^ 76) * 3 + 76;
		h = (h ^ 77) * 3 + 77;
		h = (h ^ 78) * 3 + 78;
		h = (h ^ 79) * 3 + 79;
		h = (h ^ 80) * 3 + 80;
		h = (h ^ 81) * 3 + 81;
		h = (h ^ 82) * 3 + 82;
		h = (h ^ 83) * 3 + 83;
		h = (h ^ 84) * 3 + 84;
		h = (h ^ 85) * 3 + 85;
		h = (h ^ 86) * 3 + 86;
		h = (h ^ 87) * 3 + 87;
		h = (h ^ 88) * 3 + 88;
		h = (h ^ 89) * 3 + 89;
	}
	return h;
}
function mid(n) {
	let h = hotJsFunction(n) ^ 1;
	if (n < 0) {
		h = (h ^ 0) * 3 + 0;
		h = (h ^ 1) * 3 + 1;
		h = (h ^ 2) * 3 + 2;
		h = (h ^ 3) * 3 + 3;
		h = (h ^ 4) * 3 + 4;
		h = (h ^ 5) * 3 + 5;
		h = (h ^ 6) * 3 + 6;
		h = (h ^ 7) * 3 + 7;
		h = (h ^ 8) * 3 + 8;
		h = (h ^ 9) * 3 + 9;
		h = (h ^ 10) * 3 + 10;
		h = (h ^ 11) * 3 + 11;
		h = (h ^ 12) * 3 + 12;
		h = (h ^ 13) * 3 + 13;
		h = (h ^ 14) * 3 + 14;
		h = (h ^ 15) * 3 + 15;
		h = (h ^ 16) * 3 + 16;
		h = (h ^ 17) * 3 + 17;
		h = (h ^ 18) * 3 + 18;
		h = (h ^ 19) * 3 + 19;
		h = (h ^ 20) * 3 + 20;
		h = (h ^ 21) * 3 + 21;
		h = (h ^ 22) * 3 + 22;
		h = (h ^ 23) * 3 + 23;
		h = (h ^ 24) * 3 + 24;
		h = (h ^ 25) * 3 + 25;
		h = (h ^ 26) * 3 + 26;
		h = (h ^ 27) * 3 + 27;
		h = (h ^ 28) * 3 + 28;
		h = (h ^ 29) * 3 + 29;
		h = (h ^ 30) * 3 + 30;
		h = (h ^ 31) * 3 + 31;
		h = (h ^ 32) * 3 + 32;
		h = (h ^ 33) * 3 + 33;
		h = (h ^ 34) * 3 + 34;
		h = (h ^ 35) * 3 + 35;
		h = (h ^ 36) * 3 + 36;
		h = (h ^ 37) * 3 + 37;
		h = (h ^ 38) * 3 + 38;
		h = (h ^ 39) * 3 + 39;
		h = (h ^ 40) * 3 + 40;
		h = (h ^ 41) * 3 + 41;
		h = (h ^ 42) * 3 + 42;
		h = (h ^ 43) * 3 + 43;
		h = (h ^ 44) * 3 + 44;
		h = (h ^ 45) * 3 + 45;
		h = (h ^ 46) * 3 + 46;
		h = (h ^ 47) * 3 + 47;
		h = (h ^ 48) * 3 + 48;
		h = (h ^ 49) * 3 + 49;
		h = (h ^ 50) * 3 + 50;
		h = (h ^ 51) * 3 + 51;
		h = (h ^ 52) * 3 + 52;
		h = (h ^ 53) * 3 + 53;
		h = (h ^ 54) * 3 + 54;
		h = (h ^ 55) * 3 + 55;
		h = (h ^ 56) * 3 + 56;
		h = (h ^ 57) * 3 + 57;
		h = (h ^ 58) * 3 + 58;
		h = (h ^ 59) * 3 + 59;
		h = (h ^ 60) * 3 + 60;
		h = (h ^ 61) * 3 + 61;
		h = (h ^ 62) * 3 + 62;
		h = (h ^ 63) * 3 + 63;
		h = (h ^ 64) * 3 + 64;
		h = (h ^ 65) * 3 + 65;
		h = (h ^ 66) * 3 + 66;
		h = (h ^ 67) * 3 + 67;
		h = (h ^ 68) * 3 + 68;
		h = (h ^ 69) * 3 + 69;
		h = (h ^ 70) * 3 + 70;
		h = (h ^ 71) * 3 + 71;
		h = (h ^ 72) * 3 + 72;
		h = (h ^ 73) * 3 + 73;
		h = (h ^ 74) * 3 + 74;
		h = (h ^ 75) * 3 + 75;
		h = (h ^ 76) * 3 + 76;
		h = (h ^ 77) * 3 + 77;
		h = (h ^ 78) * 3 + 78;
		h = (h ^ 79) * 3 + 79;
		h = (h ^ 80) * 3 + 80;
		h = (h ^ 81) * 3 + 81;
		h = (h ^ 82) * 3 + 82;
		h = (h ^ 83) * 3 + 83;
		h = (h ^ 84) * 3 + 84;
		h = (h ^ 85) * 3 + 85;
		h = (h ^ 86) * 3 + 86;
		h = (h ^ 87) * 3 + 87;
		h = (h ^ 88) * 3 + 88;
		h = (h ^ 89) * 3 + 89;
	}
	return h;
}
// Seconds of CPU time, not of wall time: on a busy machine a short run would otherwise be
// mostly start-up, however long it lasted. argv[3] "wall": seconds of wall time (a process
// that lives that long however busy the machine).
function main() {
	const secs = Number(process.argv[2] || 1);
	const wall = process.argv[3] === 'wall';
	const t0 = performance.now();
	let acc = 0;
	for (;;) {
		const u = process.cpuUsage();
		if ((wall ? (performance.now() - t0) / 1e3 : (u.user + u.system) / 1e6) >= secs)
			break;
		acc ^= mid(100000);
	}
	return acc;
}
console.log(main());
