//! Process-wide resources: 200 start/kill cycles leave file descriptors,
//! threads and resident memory at their baseline, and 100,000 tasks through
//! one service grow resident memory by less than 5 MiB. One test, alone in
//! its binary, so nothing else moves the numbers.

mod common;

use std::time::Duration;

use common::{eventually, python_service};

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn status_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn threads() -> u64 {
    status_kb("Threads:")
}

#[test]
fn resources_return_to_baseline() {
    let cycle = || {
        let svc = python_service();
        svc.start().unwrap();
        svc.kill();
        assert_eq!(svc.close(Some(Duration::from_secs(30))).unwrap(), Some(137));
    };
    for _ in 0..5 {
        cycle();
    }
    assert!(eventually(Duration::from_secs(5), || threads() == 2 || threads() == 1));
    let (fd0, th0, rss0) = (fds(), threads(), status_kb("VmRSS:"));
    for _ in 0..200 {
        cycle();
    }
    assert!(
        eventually(Duration::from_secs(10), || fds() == fd0 && threads() == th0),
        "fds {fd0} -> {}, threads {th0} -> {}",
        fds(),
        threads()
    );
    let rss1 = status_kb("VmRSS:");
    println!(
        "200 start/kill cycles: fds {fd0} -> {}, threads {th0} -> {}, RSS {rss0} -> {rss1} KiB",
        fds(),
        threads()
    );
    assert!(rss1 < rss0 + 2048, "RSS grew from {rss0} to {rss1} KiB");

    // Soak: 100,000 tasks through one service.
    let svc = python_service();
    let run = |n: usize| {
        for _ in 0..n {
            let t = svc.task("1", None, None).unwrap();
            t.wait(Some(Duration::from_secs(60))).unwrap();
        }
    };
    run(2_000); // warm up allocator pools and the worker
    let before = status_kb("VmRSS:");
    run(100_000);
    let after = status_kb("VmRSS:");
    println!("100,000 tasks: RSS {before} -> {after} KiB");
    assert!(
        after < before + 5 * 1024,
        "RSS grew by {} KiB",
        after - before
    );
}
