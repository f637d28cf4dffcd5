// SPDX-License-Identifier: GPL-2.0-only
// main -> outer -> inner, all time in inner; built with rustc -O (no frame pointers).
use std::hint::black_box;
use std::time::{Duration, Instant};

#[inline(never)]
fn inner(x: u64) -> u64 {
    let mut v = x;
    for _ in 0..1_000_000 {
        v = v.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    }
    v
}

#[inline(never)]
fn outer(x: u64) -> u64 {
    black_box(inner(black_box(x))) ^ 1
}

fn main() {
    let secs: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut acc = 0u64;
    while Instant::now() < end {
        acc = acc.wrapping_add(outer(acc));
    }
    black_box(acc);
}
