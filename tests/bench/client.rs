//! Benchmark client over the Rust API (see tests/bench/run.sh).
//! Usage: bench_client ENV_DIR MODE N [WORKER ARGV...]
//! MODE: roundtrip (N sequential tasks after N/10 warm-up), throughput,
//! startup, events, arrays, objects (N worker objects made by N tasks, then
//! released: the time until the worker has forgotten them all). With a WORKER argv (an absolute path first), the
//! service runs that command instead of the environment's Python worker (e.g.
//! the null worker; roundtrip and throughput only). Prints one JSON line.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use appose::{DType, Environment, Map, NDArray, Order, Service, TaskEvent, Value};

/// The worker command given after N, if any.
static WORKER: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

fn service(env_dir: &str) -> Service {
    let svc = match WORKER.get().filter(|w| !w.is_empty()) {
        Some(w) => Environment::system()
            .unwrap()
            .service(&[w[0].as_str()], &w[1..])
            .unwrap(),
        None => Environment::wrap(env_dir).unwrap().python().unwrap(),
    };
    svc.start().unwrap();
    svc
}

fn run(svc: &Service, script: &str, inputs: Option<Map>) {
    svc.task(script, inputs, None).unwrap().wait(None).unwrap();
}

/// CPU time (user + system) of this process, all threads, in microseconds.
fn cpu_us() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let ru = unsafe {
        let mut ru = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(ru.ru_utime) + us(ru.ru_stime)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (env_dir, mode, n) = (
        &args[1],
        args[2].as_str(),
        args[3].parse::<usize>().unwrap(),
    );
    WORKER.set(args[4..].to_vec()).unwrap();
    match mode {
        "roundtrip" => {
            let svc = service(env_dir);
            for _ in 0..n / 10 {
                run(&svc, "1", None);
            }
            let c0 = cpu_us();
            let mut v: Vec<f64> = (0..n)
                .map(|_| {
                    let t0 = Instant::now();
                    run(&svc, "1", None);
                    t0.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            let cpu = (cpu_us() - c0) / n as f64;
            v.sort_by(f64::total_cmp);
            println!(
                "{{\"median_us\": {:.1}, \"p99_us\": {:.1}, \"cpu_us\": {cpu:.2}}}",
                v[n / 2],
                v[n * 99 / 100]
            );
            svc.close(Some(Duration::from_secs(10))).unwrap();
        }
        "throughput" => {
            let svc = service(env_dir);
            run(&svc, "1", None);
            let t0 = Instant::now();
            let tasks: Vec<_> = (0..n)
                .map(|_| {
                    let t = svc.task("1", None, None).unwrap();
                    t.start().unwrap();
                    t
                })
                .collect();
            let deadline = t0 + Duration::from_secs(30);
            let lost = tasks
                .iter()
                .filter(|t| {
                    let left = deadline.saturating_duration_since(Instant::now());
                    t.wait(Some(left)).is_err()
                })
                .count();
            let secs = t0.elapsed().as_secs_f64();
            println!(
                "{{\"tasks_per_s\": {:.0}, \"lost\": {lost}}}",
                (n - lost) as f64 / secs
            );
            svc.kill();
        }
        "startup" => {
            let v = (0..n)
                .map(|_| {
                    let t0 = Instant::now();
                    let svc = service(env_dir);
                    run(&svc, "1", None);
                    let ms = t0.elapsed().as_secs_f64() * 1e3;
                    svc.close(Some(Duration::from_secs(10))).unwrap();
                    ms
                })
                .collect();
            println!("{{\"startup_ms\": {:.1}}}", median(v));
        }
        "events" => {
            let svc = service(env_dir);
            run(&svc, "1", None);
            let mut inputs = Map::new();
            inputs.insert("n", Value::from(n as i64));
            let task = svc
                .task(
                    "for i in range(n):\n    task.update(current=i)\n",
                    Some(inputs),
                    None,
                )
                .unwrap();
            let count = Arc::new(AtomicU64::new(0));
            let c = count.clone();
            task.listen(Box::new(move |_e: &TaskEvent| {
                c.fetch_add(1, Ordering::Relaxed);
            }))
            .unwrap();
            let t0 = Instant::now();
            task.wait(None).unwrap();
            let secs = t0.elapsed().as_secs_f64();
            let got = count.load(Ordering::Relaxed) - 2;
            println!(
                "{{\"events_per_s\": {:.0}, \"received\": {got}}}",
                got as f64 / secs
            );
            svc.close(Some(Duration::from_secs(10))).unwrap();
        }
        "arrays" => {
            let svc = service(env_dir);
            svc.close(None).ok();
            let svc = Environment::wrap(env_dir).unwrap().python().unwrap();
            svc.init("import numpy").unwrap();
            let image = NDArray::new(DType::Float32, &[n / 4 / 4096, 4096], Order::C).unwrap();
            let px = unsafe { std::slice::from_raw_parts_mut(image.as_ptr().cast::<f32>(), n / 4) };
            px.fill(1.0);
            let mut inputs = Map::new();
            inputs.insert("image", Value::NDArray(image.clone()));
            run(&svc, "image.ndarray()[0, 0] = 0", Some(inputs.clone()));
            let v = (0..7)
                .map(|r| {
                    let t0 = Instant::now();
                    run(
                        &svc,
                        &format!("image.ndarray()[-1, -1] = {r}"),
                        Some(inputs.clone()),
                    );
                    assert_eq!(px[n / 4 - 1], r as f32);
                    t0.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            let handoff = median(v);
            let copies = (0..5)
                .map(|_| {
                    let t = svc
                        .task(
                            "import time\nv = image.ndarray()\nt0 = time.perf_counter()\nc = v.copy()\n(time.perf_counter() - t0) * 1000",
                            Some(inputs.clone()),
                            None,
                        )
                        .unwrap();
                    t.wait(None).unwrap();
                    t.result().and_then(|v| v.as_f64()).unwrap()
                })
                .collect();
            println!(
                "{{\"handoff_ms\": {:.2}, \"numpy_copy_ms\": {:.1}}}",
                handoff,
                median(copies)
            );
            svc.close(Some(Duration::from_secs(10))).unwrap();
        }
        "objects" => {
            let svc = service(env_dir);
            let exports = || {
                let t = svc.task("len(task._worker.exports)", None, None).unwrap();
                t.wait(None).unwrap();
                t.result().and_then(|v| v.as_i64()).unwrap()
            };
            let before = exports();
            let t0 = Instant::now();
            let objects: Vec<Value> = (0..n)
                .map(|_| {
                    let t = svc.task("object()", None, None).unwrap();
                    t.wait(None).unwrap();
                    t.result().unwrap()
                })
                .collect();
            let create = t0.elapsed().as_secs_f64();
            assert_eq!(exports(), before + n as i64);
            let t0 = Instant::now();
            drop(objects);
            while exports() != before {
                std::thread::sleep(Duration::from_micros(200));
            }
            let release = t0.elapsed().as_secs_f64();
            println!(
                "{{\"create_ms\": {:.1}, \"release_ms\": {:.1}, \"release_vs_create\": {:.4}}}",
                create * 1e3,
                release * 1e3,
                release / create
            );
            svc.close(Some(Duration::from_secs(10))).unwrap();
        }
        _ => std::process::exit(2),
    }
}
