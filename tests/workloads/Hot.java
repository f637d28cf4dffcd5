// SPDX-License-Identifier: GPL-2.0-only
// A Java workload for tests/e2e/test_hotspot.sh: main -> mid -> hot, each spinning in its own
// frame for the seconds given (argument 1). hot and mid are made of more bytecode than C2
// inlines at a hot call site (FreqInlineSize, 325 bytes), so that with no JVM flag each stays
// a compiled frame of its own; main's loop turns often enough to be compiled (OSR) early.
// mix, called in hot's loop, is small enough to be inlined into hot wherever hot is compiled:
// an inline frame (Hot.hot;Hot.mix_[i]) from hot's scope descriptors.
public class Hot {
	static volatile long sink;

	// The leaf: integer mixing, unrolled (over 325 bytes of bytecode: never inlined).
	static long hot(long x) {
		long h = x;
		for (int i = 0; i < 40; i++) {
			h ^= h << 3; h ^= h >>> 5; h += 0x1e3779b97f4a7c15L;
			h ^= h << 10; h ^= h >>> 10; h += 0x3c6ef372fe94f82aL;
			h ^= h << 17; h ^= h >>> 15; h += 0x5aa66d2c7ddf743fL;
			h ^= h << 24; h ^= h >>> 20; h += 0x78dde6e5fd29f054L;
			h ^= h << 31; h ^= h >>> 25; h += 0x1715609f7c746c69L;
			h ^= h << 9; h ^= h >>> 7; h += 0x354cda58fbbee87eL;
			h ^= h << 16; h ^= h >>> 12; h += 0x538454127b096493L;
			h ^= h << 23; h ^= h >>> 17; h += 0x71bbcdcbfa53e0a8L;
			h ^= h << 30; h ^= h >>> 22; h += 0xff34785799e5cbdL;
			h ^= h << 8; h ^= h >>> 27; h += 0x2e2ac13ef8e8d8d2L;
			h ^= h << 15; h ^= h >>> 9; h += 0x4c623af8783354e7L;
			h ^= h << 22; h ^= h >>> 14; h += 0x6a99b4b1f77dd0fcL;
			h ^= h << 29; h ^= h >>> 19; h += 0x8d12e6b76c84d11L;
			h ^= h << 7; h ^= h >>> 24; h += 0x2708a824f612c926L;
			h ^= h << 14; h ^= h >>> 6; h += 0x454021de755d453bL;
			h ^= h << 21; h ^= h >>> 11; h += 0x63779b97f4a7c150L;
			h ^= h << 28; h ^= h >>> 16; h += 0x1af155173f23d65L;
			h ^= h << 6; h ^= h >>> 21; h += 0x1fe68f0af33cb97aL;
			h ^= h << 13; h ^= h >>> 26; h += 0x3e1e08c47287358fL;
			h ^= h << 20; h ^= h >>> 8; h += 0x5c55827df1d1b1a4L;
			h ^= h << 27; h ^= h >>> 13; h += 0x7a8cfc37711c2db9L;
			h ^= h << 5; h ^= h >>> 18; h += 0x18c475f0f066a9ceL;
			h ^= h << 12; h ^= h >>> 23; h += 0x36fbefaa6fb125e3L;
			h ^= h << 19; h ^= h >>> 5; h += 0x55336963eefba1f8L;
			h = mix(h);
		}
		return h;
	}

	// Under MaxInlineSize (35 bytes of bytecode): inlined by C1 and C2. Its loop counts nothing
	// (it ends when h does), so C2 keeps a safepoint poll in it: a PcDesc of mix's own scope
	// after the code sampled there. The loop is one line: its samples have that line.
	static long mix(long h) {
		do h = (h ^ (h >>> 29)) * 0xbf58476d1ce4e5b9L; while ((h & 7) != 0);
		return h;
	}

	// Calls hot from a switch of many call sites (over 325 bytes of bytecode).
	static long mid(long x, int round) {
		long acc = x;
		for (int i = 0; i < 4; i++) {
			switch ((round + i) & 15) {
			case 0: acc += hot(x * 3 + acc + 0) >>> 1; break;
			case 1: acc ^= hot(x * 5 + acc + 31) >>> 2; break;
			case 2: acc -= hot(x * 7 + acc + 62) >>> 3; break;
			case 3: acc += hot(x * 9 + acc + 93) >>> 4; break;
			case 4: acc ^= hot(x * 11 + acc + 124) >>> 5; break;
			case 5: acc -= hot(x * 13 + acc + 155) >>> 1; break;
			case 6: acc += hot(x * 15 + acc + 186) >>> 2; break;
			case 7: acc ^= hot(x * 17 + acc + 217) >>> 3; break;
			case 8: acc -= hot(x * 19 + acc + 248) >>> 4; break;
			case 9: acc += hot(x * 21 + acc + 279) >>> 5; break;
			case 10: acc ^= hot(x * 23 + acc + 310) >>> 1; break;
			case 11: acc -= hot(x * 25 + acc + 341) >>> 2; break;
			case 12: acc += hot(x * 27 + acc + 372) >>> 3; break;
			case 13: acc ^= hot(x * 29 + acc + 403) >>> 4; break;
			case 14: acc -= hot(x * 31 + acc + 434) >>> 5; break;
			case 15: acc += hot(x * 33 + acc + 465) >>> 1; break;
			default: acc += hot(i); break;
			}
		}
		return acc;
	}

	// "gc" as argument 2: a thread that keeps 32 MiB alive and asks for a full collection
	// every 100 ms, so the collector's own threads run (their native frames are named).
	static void churn(long end) {
		java.util.ArrayList<long[]> live = new java.util.ArrayList<>();
		for (int i = 0; i < 256; i++)
			live.add(new long[16384]);
		while (System.nanoTime() < end) {
			live.set((int)(System.nanoTime() & 255), new long[16384]);
			System.gc();
			try {
				Thread.sleep(100);
			} catch (InterruptedException e) {
				return;
			}
		}
	}

	public static void main(String[] args) {
		double secs = args.length > 0 ? Double.parseDouble(args[0]) : 5;
		long end = System.nanoTime() + (long)(secs * 1e9);
		if (args.length > 1 && args[1].equals("gc")) {
			Thread t = new Thread(() -> churn(end), "churn");

			t.setDaemon(true);
			t.start();
		}
		int round = 0;
		long acc = 0;
		while (System.nanoTime() < end) {
			acc += mid(acc, round++);
			sink = acc;
		}
		System.out.println(sink);
	}
}
