// SPDX-License-Identifier: GPL-2.0-only
// Built with -C symbol-mangling-version=v0: the hot function demangles to
// sym_rust::work::<alloc::string::String>.
use std::time::Instant;

#[inline(never)]
fn work<T: AsRef<str>>(x: &T, n: u64) -> u64 {
	let mut h = 0u64;
	for i in 0..n {
		for b in x.as_ref().bytes() {
			h = h.rotate_left(5) ^ (b as u64) ^ i;
		}
	}
	h
}

fn main() {
	let secs: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1.0);
	let s = String::from("flamegraphs name every frame");
	let t0 = Instant::now();
	let mut acc = 0u64;
	while t0.elapsed().as_secs_f64() < secs {
		acc ^= work(std::hint::black_box(&s), 1000);
	}
	println!("{}", acc);
}
