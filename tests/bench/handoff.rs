//! Hands a 1 GiB float32 array to a Python worker and back, and compares the
//! round trip with one numpy copy of the same 1 GiB inside the worker. Also
//! times making blocks: a 1 GiB block and its first fill, and the create/drop
//! cycle of a small block (the fixed cost every array pays), alone and while
//! another block is owned.
//!
//! Run: `cargo bench --bench handoff`. Prints times and their ratio; it
//! asserts nothing about speed (targets live in the README, not in tests).

#[path = "../common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use appose::{DType, Map, NDArray, Order, SharedMemory, Value};

const GIB: usize = 1 << 30;
const ROUNDS: usize = 7;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median time to create a 1 GiB block, and to write every page of it once.
fn creation() -> (Duration, Duration) {
    let (mut create, mut fill) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t0 = Instant::now();
        let shm = SharedMemory::create(GIB).unwrap();
        create.push(t0.elapsed());
        let t1 = Instant::now();
        unsafe { shm.as_mut_slice().fill(1) };
        fill.push(t1.elapsed());
    }
    (median(create), median(fill))
}

/// Median time of one create-then-drop of a 4 KiB block, over 2,000 cycles.
/// With `held`, another block stays owned meanwhile, as in a program that
/// keeps its arrays: the process's owner registry then stays too, and each
/// cycle only adds a line to it (without, it is made and deleted each time).
fn small_block_cycle(held: bool) -> Duration {
    const CYCLES: u32 = 2_000;
    let _held = held.then(|| SharedMemory::create(4096).unwrap());
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        let t0 = Instant::now();
        for _ in 0..CYCLES {
            drop(SharedMemory::create(4096).unwrap());
        }
        rounds.push(t0.elapsed() / CYCLES);
    }
    median(rounds)
}

fn main() {
    let (create, fill) = creation();
    let cycle = small_block_cycle(false);
    let cycle_held = small_block_cycle(true);
    println!("making blocks, median of {ROUNDS} rounds");
    println!("  create a 1 GiB block:                                {create:>10.3?}");
    println!("  then write every page of it once:                    {fill:>10.3?}");
    println!("  create and drop a 4 KiB block, owning no other:      {cycle:>10.3?}");
    println!("  the same while another block is owned:               {cycle_held:>10.3?}");

    let svc = common::python_service();
    svc.init("import numpy as np").unwrap();
    let n = GIB / 4;
    let image = NDArray::new(DType::Float32, &[n / 4096, 4096], Order::C).unwrap();
    let pixels = unsafe { std::slice::from_raw_parts_mut(image.as_ptr().cast::<f32>(), n) };
    pixels.fill(1.0); // fault every page in before timing

    let mut inputs = Map::new();
    inputs.insert("image", Value::NDArray(image.clone()));
    let run = |script: &str| {
        let t = svc.task(script, Some(inputs.clone()), None).unwrap();
        t.wait(None).unwrap();
        t
    };
    // Warm-up: the worker maps the block and imports numpy.
    run("image.ndarray()[0, 0] = 0");

    let mut handoff = Vec::new();
    for round in 0..ROUNDS {
        let t0 = Instant::now();
        run(&format!("v = image.ndarray()\nv[-1, -1] = {round}"));
        assert_eq!(
            pixels[n - 1],
            round as f32,
            "the worker's write is visible here"
        );
        handoff.push(t0.elapsed());
    }

    let mut copy = Vec::new();
    for _ in 0..ROUNDS {
        let t = run("import time\nv = image.ndarray()\nt0 = time.perf_counter()\nc = v.copy()\ntime.perf_counter() - t0");
        let secs = t.result().and_then(|v| v.as_f64()).unwrap();
        copy.push(Duration::from_secs_f64(secs));
    }

    let (h, c) = (median(handoff), median(copy));
    println!("1 GiB float32 array, median of {ROUNDS} rounds");
    println!("  handoff to the worker, in-place write, visible here: {h:>10.3?}");
    println!("  one numpy copy of the same 1 GiB inside the worker:  {c:>10.3?}");
    println!(
        "  handoff / copy: {:.2}%",
        100.0 * h.as_secs_f64() / c.as_secs_f64()
    );
    svc.close(Some(Duration::from_secs(30))).unwrap();
}
