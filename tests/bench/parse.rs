//! Parse, write and drop times of wide objects and deep lists.
//!
//! The wide objects are issue 10's repro, `{"label_0":0,"label_1":1,...}`:
//! when objects were lists of pairs with linear lookup, 100,000 keys took
//! about 14 s to parse and stalled the reader thread meanwhile.
//!
//! Run: `cargo bench --bench parse`. Prints median times; it asserts nothing
//! about speed (targets live in the README, not in tests).

use std::hint::black_box;
use std::time::{Duration, Instant};

use appose::value::{parse, MAX_DEPTH};

const ROUNDS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `{"label_0":0,...}` with `n` keys.
fn wide(n: usize) -> String {
    let mut s = String::from("{");
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!("\"label_{i}\":{i}"));
    }
    s.push('}');
    s
}

/// `[[[...]]]`, `depth` lists deep.
fn deep(depth: usize) -> String {
    "[".repeat(depth) + &"]".repeat(depth)
}

/// Median parse, write and drop times of `text`.
fn measure(what: &str, text: &str) {
    let (mut parsing, mut writing, mut dropping) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t0 = Instant::now();
        let v = parse(black_box(text)).expect("the bench's own text parses");
        parsing.push(t0.elapsed());
        let t0 = Instant::now();
        let back = black_box(v.to_json());
        writing.push(t0.elapsed());
        assert_eq!(back.len(), text.len(), "{what} round-trips");
        let t0 = Instant::now();
        drop(v);
        dropping.push(t0.elapsed());
    }
    println!(
        "  {what:<28} {:>9.1} MB  parse {:>10.3?}  write {:>10.3?}  drop {:>10.3?}",
        text.len() as f64 / 1e6,
        median(parsing),
        median(writing),
        median(dropping),
    );
}

fn main() {
    println!("median of {ROUNDS} rounds");
    for n in [10_000, 100_000, 1_000_000] {
        measure(&format!("object, {n} keys"), &wide(n));
    }
    for d in [10_000, MAX_DEPTH] {
        measure(&format!("list, {d} deep"), &deep(d));
    }
}
