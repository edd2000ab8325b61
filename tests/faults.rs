//! Faults and bad input around the I/O core, against the real worker: a
//! worker whose child keeps its pipes open, a worker that stops reading, a
//! completion read after close, panics inside the library's own threads
//! (injected with the `fault-injection` feature), a listener that blocks
//! close, tasks started while the worker dies, a slow listener under a
//! chatty task. Each test names the item of issue 10 it covers.
//!
//! The tests of this binary run one at a time: some count the library's
//! threads or measure the process's memory.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use appose::faults::{self, Fault};
use appose::{ErrorKind, Map, TaskEvent, TaskStatus, Value};
use common::{eventually, python_program, python_service};

const LONG: Option<Duration> = Some(Duration::from_secs(60));

fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Names of this process's threads that the library started.
fn library_threads() -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if let Ok(comm) = std::fs::read_to_string(entry.path().join("comm")) {
            if comm.starts_with("appose-") {
                names.push(comm.trim().to_owned());
            }
        }
    }
    names
}

/// Counts its drops: stands for a C listener's `userdata_free`.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs `f` on another thread; its result, or `None` if it had not returned
/// within `limit` (the thread is left behind: the test fails anyway).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
}

// Item 1: a waiter parked on the pipe wakes when its task is crashed by the
// monitor, although a child that left the worker's session holds stdout.
#[test]
fn a_waiter_returns_crashed_when_an_escaped_child_holds_the_pipe() {
    let _one = one_at_a_time();
    let before = library_threads();
    let svc = python_service();
    let freed = Arc::new(AtomicUsize::new(0));
    let debug_token = DropCount(freed.clone());
    svc.debug(Box::new(move |_line: &str| {
        let _ = &debug_token;
    }))
    .unwrap();
    let escaped = common::spawn_escaped_child(&svc);
    let running = svc
        .task("import time\ntime.sleep(300)", None, None)
        .unwrap();
    let listener_token = DropCount(freed.clone());
    running
        .listen(Box::new(move |_e: &TaskEvent| {
            let _ = &listener_token;
        }))
        .unwrap();
    running.start().unwrap();
    let unwatched = svc
        .task("import time\ntime.sleep(300)", None, None)
        .unwrap();
    let waiter = unwatched.clone();
    // No timeout: only the crash can end this wait.
    let waited = std::thread::spawn(move || {
        let t0 = Instant::now();
        let r = waiter.wait(None);
        (r.map_err(|e| e.kind()), t0.elapsed())
    });
    std::thread::sleep(Duration::from_millis(500));
    let killed_at = Instant::now();
    svc.kill();
    let (result, _) = within(Duration::from_secs(10), move || waited.join().unwrap())
        .expect("wait(None) did not return within 10 s of the kill");
    assert_eq!(result, Err(ErrorKind::TaskCrashed));
    // The grace period (2 s) bounds the wait for end-of-file.
    assert!(
        killed_at.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        killed_at.elapsed()
    );
    assert_eq!(
        running.wait(LONG).unwrap_err().kind(),
        ErrorKind::TaskCrashed
    );
    assert!(svc.close(LONG).is_ok());
    // Every thread of the service ends, and every listener's user data is
    // released, although the escaped child still holds the pipes.
    assert!(
        eventually(Duration::from_secs(5), || library_threads()
            .iter()
            .all(|t| before.contains(t))),
        "left: {:?}",
        library_threads()
    );
    assert_eq!(freed.load(Ordering::SeqCst), 2);
    // SAFETY: plain syscall; the child is ours to end.
    unsafe { libc::kill(escaped as libc::pid_t, libc::SIGKILL) };
}

/// A worker that never reads its stdin (and ignores SIGTERM).
fn deaf_worker() -> common::Closing {
    python_program(&[
        "-c",
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: time.sleep(1)",
    ])
}

// Item 2: a worker that stops reading stdin blocks nobody: not start, not
// wait(timeout) on an unstarted task, not close(timeout), not kill.
#[test]
fn a_worker_that_stops_reading_blocks_no_caller() {
    let _one = one_at_a_time();
    let svc = deaf_worker();
    let mut big = Map::new();
    big.insert("blob", Value::from("x".repeat(1 << 20)));
    let r = within(Duration::from_secs(10), {
        let svc = svc.0.clone();
        move || {
            let t0 = Instant::now();
            // A few dozen 1 KiB requests and a 1 MiB one: far more than the
            // socket holds.
            let small: Vec<_> = (0..64)
                .map(|_| {
                    let t = svc.task(&"1 #".repeat(340), None, None).unwrap();
                    t.start().unwrap();
                    t
                })
                .collect();
            let t = svc.task("1", Some(big), None).unwrap();
            t.start().unwrap();
            // wait(200 ms) on an unstarted task with a 1 MiB script.
            let script = format!("x = '{}'", "y".repeat(1 << 20));
            let unstarted = svc.task(&script, None, None).unwrap();
            let waited = unstarted.wait(Some(Duration::from_millis(200)));
            (t0.elapsed(), waited.map_err(|e| e.kind()), small.len())
        }
    })
    .expect("starting tasks on a deaf worker blocked");
    assert_eq!(r.1, Err(ErrorKind::Timeout));
    assert!(r.0 < Duration::from_secs(3), "took {:?}", r.0);
    let closed = within(Duration::from_secs(10), {
        let svc = svc.0.clone();
        move || {
            let t0 = Instant::now();
            (svc.close(Some(Duration::from_millis(500))), t0.elapsed())
        }
    })
    .expect("close(500 ms) blocked");
    assert_eq!(closed.0.unwrap(), Some(137));
    assert!(closed.1 < Duration::from_secs(3), "took {:?}", closed.1);
}

// Item 2: requests waiting in memory are bounded, with a clear error.
#[test]
fn requests_a_worker_does_not_read_are_bounded() {
    let _one = one_at_a_time();
    let svc = deaf_worker();
    let script = "#".repeat(100 << 20);
    let mut refused = None;
    for i in 0..4 {
        let t = svc.task(&script, None, None).unwrap();
        if let Err(e) = t.start() {
            refused = Some((i, e));
            assert_eq!(t.status(), TaskStatus::Initial);
            break;
        }
    }
    let (i, e) = refused.expect("400 MiB of requests were all accepted");
    assert_eq!(i, 2, "{e}");
    assert_eq!(e.kind(), ErrorKind::Backlog);
    assert!(e.message().contains("bytes of requests unread"), "{e}");
    assert_eq!(
        svc.close(Some(Duration::from_millis(200))).unwrap(),
        Some(137)
    );
}

// Item 3: a completion the worker wrote before exiting is handled, however
// long handling it takes, before pending tasks are reported CRASHED.
#[test]
fn a_completion_written_before_exit_is_never_reported_crashed() {
    let _one = one_at_a_time();
    let svc = python_service();
    let t = svc
        .task(
            "import time\ntime.sleep(0.5)\n{'d': {f'label_{i}': i for i in range(60000)}}",
            None,
            None,
        )
        .unwrap();
    t.start().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(svc.close(Some(Duration::from_secs(120))).unwrap(), Some(0));
    t.wait(Some(Duration::from_secs(120))).unwrap();
    let d = t.outputs().get("d").cloned().unwrap();
    assert_eq!(d.as_object().unwrap().len(), 60000);
}

fn assert_crashed_naming(task: &appose::Task, what: &str) {
    let err = task.wait(LONG).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TaskCrashed, "{err}");
    assert!(err.message().contains(what), "{err}");
    assert!(err.message().contains("injected fault"), "{err}");
}

// Item 6: a panic in the stdout reader thread.
#[test]
fn a_panic_in_the_reader_crashes_the_service_and_close_returns() {
    let _one = one_at_a_time();
    let svc = python_service();
    let t = svc
        .task("import time\ntime.sleep(0.3)\n1", None, None)
        .unwrap();
    t.listen(Box::new(|_e: &TaskEvent| {})).unwrap();
    t.start().unwrap();
    faults::arm(Fault::ReaderPanic);
    assert_crashed_naming(&t, "the stdout reader thread panicked");
    assert!(within(Duration::from_secs(10), move || svc.close(LONG).is_ok()).unwrap());
}

// Item 6: a panic while a waiting caller reads the output itself.
#[test]
fn a_panic_while_a_caller_reads_crashes_its_task() {
    let _one = one_at_a_time();
    let svc = python_service();
    let t = svc
        .task("import time\ntime.sleep(0.3)\n1", None, None)
        .unwrap();
    faults::arm(Fault::ReaderPanic);
    let err = t.wait(LONG).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TaskCrashed, "{err}");
    assert!(err.message().contains("panicked: injected fault"), "{err}");
    assert!(within(Duration::from_secs(10), move || svc.close(LONG).is_ok()).unwrap());
}

// Item 6: a panic in the dispatcher thread outside the listeners.
#[test]
fn a_panic_in_the_dispatcher_crashes_the_service_and_close_returns() {
    let _one = one_at_a_time();
    let svc = python_service();
    let first = svc.task("task.update('a')\n1", None, None).unwrap();
    first.listen(Box::new(|_e: &TaskEvent| {})).unwrap();
    let second = svc.task("import time\ntime.sleep(30)", None, None).unwrap();
    second.listen(Box::new(|_e: &TaskEvent| {})).unwrap();
    faults::arm(Fault::DispatcherPanic);
    first.start().unwrap();
    second.start().unwrap();
    assert_crashed_naming(&first, "the dispatcher thread panicked");
    // The service is crashed: the other task too, naming the panic.
    assert_crashed_naming(&second, "the dispatcher thread panicked");
    assert!(within(Duration::from_secs(10), move || svc.close(LONG).is_ok()).unwrap());
}

// Item 6: a panic in the monitor thread.
#[test]
fn a_panic_in_the_monitor_still_reports_and_close_returns() {
    let _one = one_at_a_time();
    let svc = python_service();
    let t = svc.task("import time\ntime.sleep(30)", None, None).unwrap();
    t.start().unwrap();
    faults::arm(Fault::MonitorPanic);
    svc.kill();
    assert_crashed_naming(&t, "the monitor thread panicked");
    let closed = within(Duration::from_secs(10), move || svc.close(LONG));
    assert!(closed.expect("close blocked").is_ok());
}

// Item 7: a listener that blocks does not hold close beyond its timeout.
#[test]
fn close_returns_by_its_timeout_while_a_listener_blocks() {
    let _one = one_at_a_time();
    let svc = python_service();
    let released = Arc::new(AtomicUsize::new(0));
    let t = svc.task("task.update('hold')\n1", None, None).unwrap();
    let seen = released.clone();
    t.listen(Box::new(move |e: &TaskEvent| {
        if e.message.as_deref() == Some("hold") {
            // A host whose callbacks wait for its busy main thread.
            std::thread::sleep(Duration::from_secs(3));
            seen.fetch_add(1, Ordering::SeqCst);
        }
    }))
    .unwrap();
    t.start().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let t0 = Instant::now();
    let err = svc.close(Some(Duration::from_millis(300))).unwrap_err();
    assert!(
        t0.elapsed() < Duration::from_millis(1500),
        "took {:?}",
        t0.elapsed()
    );
    assert_eq!(err.kind(), ErrorKind::ListenerBusy, "{err}");
    assert_eq!(svc.exit_code(), Some(0));
    // The drain finishes on its own.
    t.wait(LONG).unwrap();
    assert_eq!(released.load(Ordering::SeqCst), 1);
}

// Item 9: a task started while the worker dies has one outcome: refused
// (INITIAL, no event) or started (its events and status agree).
#[test]
fn tasks_started_while_the_worker_dies_have_one_outcome() {
    let _one = one_at_a_time();
    for round in 0..20 {
        let svc = python_service();
        svc.task("1", None, None).unwrap().wait(LONG).unwrap();
        let killer = {
            let svc = svc.0.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_micros(200 * round));
                svc.kill();
            })
        };
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let t = svc
                .task("import time\ntime.sleep(0.05)\n1", None, None)
                .unwrap();
            let events = Arc::new(Mutex::new(Vec::new()));
            let sink = events.clone();
            t.listen(Box::new(move |e: &TaskEvent| {
                sink.lock().unwrap().push(e.status)
            }))
            .unwrap();
            let started = t.start();
            tasks.push((t, events, started));
        }
        killer.join().unwrap();
        for (t, events, started) in tasks {
            match started {
                Err(_) => {
                    assert_eq!(t.status(), TaskStatus::Initial);
                    std::thread::sleep(Duration::from_millis(1));
                    assert!(events.lock().unwrap().is_empty());
                }
                Ok(()) => {
                    let _ = t.wait(LONG);
                    let last = *events.lock().unwrap().last().expect("no terminal event");
                    assert_eq!(last, t.status());
                    assert!(last.is_finished());
                }
            }
        }
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

// Item 10: a slow listener under a chatty task: the reader stops reading,
// the worker blocks on its pipe, memory stays bounded.
#[test]
fn a_slow_listener_bounds_memory() {
    let _one = one_at_a_time();
    let svc = python_service();
    // 20,000 UPDATEs of 10 KB: 200 MB if nothing pushed back.
    let t = svc
        .task(
            "m = 'x' * 10000\nfor i in range(20000):\n    task.update(m, current=i)\n1",
            None,
            None,
        )
        .unwrap();
    let base = rss_kib();
    let peak = Arc::new(AtomicUsize::new(0));
    let count = Arc::new(AtomicUsize::new(0));
    let (p, c) = (peak.clone(), count.clone());
    t.listen(Box::new(move |_e: &TaskEvent| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        if n % 200 == 0 {
            p.fetch_max(rss_kib() as usize, Ordering::SeqCst);
        }
        if n == 1 {
            // A host busy elsewhere: the worker keeps writing meanwhile.
            std::thread::sleep(Duration::from_secs(3));
            p.fetch_max(rss_kib() as usize, Ordering::SeqCst);
        }
    }))
    .unwrap();
    t.wait(Some(Duration::from_secs(120))).unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 20002);
    let grew = peak.load(Ordering::SeqCst) as u64 - base.min(peak.load(Ordering::SeqCst) as u64);
    println!("peak resident memory growth with a slow listener: {grew} KiB");
    assert!(grew < 40 * 1024, "grew by {grew} KiB");
}
