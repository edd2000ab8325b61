//! Hosts that fail: a host process that dies with a task running (returning
//! from `main`, Ctrl-C, SIGTERM, SIGKILL) leaves no worker behind; a host
//! that reaps children itself (SIGCHLD ignored) never makes the library
//! signal a process that reused the worker's id.
//!
//! Each scenario runs in a child process: this test binary again, told by
//! `APPOSE_HOST_SCENARIO` which part to play.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use appose::ErrorKind;
use common::{eventually, pid_alive, python_service};

const SCENARIO: &str = "APPOSE_HOST_SCENARIO";

/// Runs the test named `test` of this binary in a child process playing
/// `scenario`; the child with its stdout piped.
fn host(test: &str, scenario: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(SCENARIO, scenario)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The host's part: a worker with a task running and a child of its own,
/// their pids printed; then it dies as `how` says.
fn play_host(how: &str) {
    let svc = python_service();
    let t = svc
        .task(
            "import os, subprocess, time\np = subprocess.Popen(['sleep', '300'])\ntask.update(f'{os.getpid()} {p.pid}')\ntime.sleep(300)",
            None,
            None,
        )
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    t.listen(Box::new(move |e: &appose::TaskEvent| {
        if let Some(m) = &e.message {
            let _ = tx.send(m.clone());
        }
    }))
    .unwrap();
    t.start().unwrap();
    let pids = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    println!("PIDS {pids}");
    match how {
        // Returns from the test (and the process exits) without closing.
        "return" => {
            std::mem::forget(t);
            std::mem::forget(svc);
        }
        // Waits to be killed by the test.
        _ => loop {
            std::thread::sleep(Duration::from_secs(1));
        },
    }
}

/// The test's two parts: in the child, the host (`play_host`); here, the
/// test that the host's death takes its worker along.
fn host_dies(test: &str, how: &str, signal: Option<i32>) {
    if let Ok(how) = std::env::var(SCENARIO) {
        play_host(&how);
        return;
    }
    let mut child = host(test, how);
    // The harness may print on the same line before it.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.split_once("PIDS ").map(|(_, pids)| pids.to_owned()))
        .expect("the host printed no pids");
    // Keep reading, so the host's last words never meet a closed pipe.
    let drain = std::thread::spawn(move || lines.for_each(drop));
    let pids: Vec<i64> = line
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    if let Some(sig) = signal {
        // SAFETY: plain syscall on our own child.
        unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    }
    child.wait().unwrap();
    let died = Instant::now();
    let _ = drain.join();
    let gone = eventually(Duration::from_secs(1), || {
        pids.iter().all(|&p| !pid_alive(p))
    });
    for &p in &pids {
        // Clean up whatever survived (the test fails then).
        // SAFETY: plain syscall.
        unsafe { libc::kill(p as libc::pid_t, libc::SIGKILL) };
    }
    assert!(
        gone,
        "worker and its child still alive {:?} after the host died ({how})",
        died.elapsed()
    );
}

#[test]
fn no_worker_outlives_a_host_that_returns_from_main() {
    host_dies(
        "no_worker_outlives_a_host_that_returns_from_main",
        "return",
        None,
    );
}

#[test]
fn no_worker_outlives_a_host_stopped_by_ctrl_c() {
    host_dies(
        "no_worker_outlives_a_host_stopped_by_ctrl_c",
        "wait",
        Some(libc::SIGINT),
    );
}

#[test]
fn no_worker_outlives_a_host_stopped_by_sigterm() {
    host_dies(
        "no_worker_outlives_a_host_stopped_by_sigterm",
        "wait",
        Some(libc::SIGTERM),
    );
}

#[test]
fn no_worker_outlives_a_host_killed_by_sigkill() {
    host_dies(
        "no_worker_outlives_a_host_killed_by_sigkill",
        "wait",
        Some(libc::SIGKILL),
    );
}

/// Starts `sleep 30` as a process group leader whose pid is `pid`, by
/// setting the namespace's last pid (root in a private PID namespace).
fn decoy_with_pid(pid: i64) -> Option<std::process::Child> {
    use std::os::unix::process::CommandExt;
    for _ in 0..20 {
        std::fs::write("/proc/sys/kernel/ns_last_pid", (pid - 1).to_string()).ok()?;
        let child = Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        if i64::from(child.id()) == pid {
            return Some(child);
        }
        let mut child = child;
        let _ = child.kill();
    }
    None
}

/// Inside a private PID namespace, with SIGCHLD ignored (so the kernel reaps
/// every child at once): the worker dies, an unrelated process group takes
/// its id, and `kill` must leave that group alone.
fn reaping_host_scenario() {
    // Set up first: the set-up script is waited for.
    common::python_env();
    // SAFETY: setting a signal disposition in this (child) process.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
    let svc = python_service();
    // A child that left the worker's session keeps its pipes open, which
    // keeps the service reading for a while after the worker's death.
    common::spawn_escaped_child(&svc);
    let running = svc
        .task("import time\ntime.sleep(300)", None, None)
        .unwrap();
    running.start().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let worker = svc.task("import os\nos.getpid()", None, None).unwrap();
    worker.wait(Some(Duration::from_secs(60))).unwrap();
    let worker = worker.result().unwrap().as_i64().unwrap();
    // The worker dies and is reaped by the kernel, not by the library.
    // SAFETY: plain syscall on a process of ours.
    unsafe { libc::kill(worker as libc::pid_t, libc::SIGKILL) };
    assert!(eventually(Duration::from_secs(5), || {
        !std::path::Path::new(&format!("/proc/{worker}")).exists()
    }));
    let Some(mut decoy) = decoy_with_pid(worker) else {
        common::skip(&format!(
            "the recycled-pid decoy: could not place a process at pid {worker}"
        ));
        return;
    };
    svc.kill();
    std::thread::sleep(Duration::from_millis(300));
    let decoy_alive = decoy.try_wait().unwrap().is_none() && pid_alive(worker);
    let _ = decoy.kill();
    assert!(
        decoy_alive,
        "kill() signalled a process group that reused the worker's id"
    );
    let err = running.wait(Some(Duration::from_secs(10))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TaskCrashed, "{err}");
    println!("SCENARIO PASSED");
}

#[test]
fn a_host_that_reaps_children_never_gets_a_recycled_group_killed() {
    if std::env::var(SCENARIO).as_deref() == Ok("reaping") {
        reaping_host_scenario();
        return;
    }
    let probe = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        common::skip(
            "the reaping host: cannot make a private PID namespace here (needs root and unshare)",
        );
        return;
    }
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_host_that_reaps_children_never_gets_a_recycled_group_killed",
            "--nocapture",
        ])
        .env(SCENARIO, "reaping")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the scenario failed");
    assert!(stdout.contains("SCENARIO PASSED") || stdout.contains("skipped"));
}

/// A C host keeps SIGPIPE's default action (death): requests written to a
/// worker that has exited, and one that closed its stdin, must not raise it.
fn sigpipe_scenario() {
    common::python_env();
    // SAFETY: setting a signal disposition in this (child) process.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    for script in [
        "import sys; sys.exit(0)",
        "import os, time; os.close(0); time.sleep(2)",
    ] {
        let svc = common::python_program(&["-c", script]);
        svc.start().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let mut big = appose::Map::new();
        big.insert("blob", appose::Value::from("x".repeat(1 << 20)));
        for _ in 0..20 {
            let t = svc.task("1", Some(big.clone()), None).unwrap();
            let _ = t.start();
        }
        let _ = svc.close(Some(Duration::from_secs(5)));
    }
    println!("SCENARIO PASSED");
}

#[test]
fn writing_to_a_gone_worker_never_raises_sigpipe() {
    if std::env::var(SCENARIO).as_deref() == Ok("sigpipe") {
        sigpipe_scenario();
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "writing_to_a_gone_worker_never_raises_sigpipe",
            "--nocapture",
        ])
        .env(SCENARIO, "sigpipe")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("SCENARIO PASSED"),
        "the host died: {:?}\n{stdout}",
        out.status
    );
}
