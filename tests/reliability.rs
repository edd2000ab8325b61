//! Reliability under load and abuse, against real processes: a 20,000-task
//! burst, kill -9 with 100 tasks in flight, 100,000 lines of noise, huge
//! lines. (Measurements of process-wide resources live in
//! tests/reliability_soak.rs, alone in their binary.)

mod common;

use std::time::{Duration, Instant};

use appose::{ErrorKind, Map, TaskStatus, Value};
use common::{eventually, python_env, python_service, Closing};

const LONG: Option<Duration> = Some(Duration::from_secs(300));

fn x_inputs(i: i64) -> Map {
    let mut m = Map::new();
    m.insert("x", Value::from(i));
    m
}

#[test]
fn burst_of_20000_concurrent_tasks_all_complete() {
    let svc = python_service();
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..20_000i64)
        .map(|i| {
            let t = svc.task("x * 2", Some(x_inputs(i)), None).unwrap();
            t.start().unwrap();
            t
        })
        .collect();
    for (i, t) in tasks.iter().enumerate() {
        t.wait(LONG).unwrap_or_else(|e| panic!("task {i}: {e}"));
        assert_eq!(t.result(), Some(Value::from(2 * i as i64)));
    }
    println!(
        "20,000 concurrent tasks: all complete in {:?}",
        t0.elapsed()
    );
}

#[test]
fn kill_9_with_100_tasks_in_flight_crashes_them_all_within_a_second() {
    let svc = python_service();
    let pid_task = svc.task("import os\nos.getpid()", None, None).unwrap();
    pid_task.wait(LONG).unwrap();
    let pid = pid_task.result().unwrap().as_i64().unwrap() as libc::pid_t;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let t = svc.task("import time\ntime.sleep(60)", None, None).unwrap();
            t.start().unwrap();
            t
        })
        .collect();
    assert!(eventually(Duration::from_secs(30), || tasks
        .iter()
        .all(|t| t.status() == TaskStatus::Running)));
    let t0 = Instant::now();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    for t in &tasks {
        assert_eq!(t.wait(LONG).unwrap_err().kind(), ErrorKind::TaskCrashed);
    }
    let took = t0.elapsed();
    println!("kill -9 with 100 tasks in flight: all CRASHED after {took:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert!(tasks[0]
        .error()
        .unwrap()
        .starts_with("Worker crashed with exit code 137."));
}

#[test]
fn a_hundred_thousand_lines_of_noise_lose_no_result() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/noisy_worker.py");
    let env = appose::Environment::wrap(python_env()).unwrap();
    let svc = Closing(
        env.service(&["python"], &[script.to_owned(), "100".to_owned()])
            .unwrap(),
    );
    let tasks: Vec<_> = (0..1000i64)
        .map(|i| {
            let t = svc.task("noise", Some(x_inputs(i)), None).unwrap();
            t.start().unwrap();
            t
        })
        .collect();
    for (i, t) in tasks.iter().enumerate() {
        t.wait(LONG).unwrap_or_else(|e| panic!("task {i}: {e}"));
        assert_eq!(t.result(), Some(Value::from(2 * i as i64)), "task {i}");
    }
    // Kept, bounded, and lossy-decoded where not UTF-8.
    let invalid = svc.invalid_lines();
    assert!(
        invalid.len() >= 9_000 && invalid.len() <= 10_000,
        "{}",
        invalid.len()
    );
    assert!(invalid.iter().any(|l| l.contains('\u{FFFD}')));
    // Still healthy.
    let again = svc.task("noise", Some(x_inputs(21)), None).unwrap();
    again.wait(LONG).unwrap();
    assert_eq!(again.result(), Some(Value::from(42i64)));
    assert_eq!(svc.close(LONG).unwrap(), Some(0));
}

#[test]
fn a_100_mb_response_is_handled_and_an_oversized_line_is_skipped() {
    let svc = python_service();
    let big = svc.task("'x' * 100_000_000", None, None).unwrap();
    big.wait(LONG).unwrap();
    match big.result().as_ref() {
        Some(Value::String(s)) => assert_eq!(s.len(), 100_000_000),
        other => panic!("unexpected result {:?}", other.map(|v| v.to_json().len())),
    }
    drop(big);
    // Longer than the 256 MiB line limit: skipped without being buffered.
    let huge = svc
        .task(
            "import sys\nsys.stdout.write('y' * 300_000_000 + '\\n')\nsys.stdout.flush()\n'after'",
            None,
            None,
        )
        .unwrap();
    huge.wait(LONG).unwrap();
    assert_eq!(huge.result(), Some(Value::from("after")));
    let invalid = svc.invalid_lines();
    assert!(
        invalid
            .iter()
            .any(|l| l.contains("300000001-byte line was skipped")),
        "{:?}",
        invalid
            .iter()
            .map(|l| &l[..l.len().min(80)])
            .collect::<Vec<_>>()
    );
}
