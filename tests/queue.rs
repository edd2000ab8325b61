//! Event queues against the real `appose` Python worker: events taken on
//! the host's own thread, in order, never lost; closes and builds through
//! the queue; thread hooks.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use appose::{Builder, BuilderKind, Event, EventKind, EventQueue, ResponseType, TaskStatus};
use common::python_service;

/// Waits for the queue's fd to turn readable, then takes everything.
fn take_when_ready(q: &EventQueue, limit: Duration) -> Vec<Event> {
    let mut p = libc::pollfd {
        fd: q.fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one live pollfd.
    let n = unsafe { libc::poll(&mut p, 1, limit.as_millis() as i32) };
    assert!(n >= 0);
    q.take(0)
}

#[test]
fn tasks_of_two_services_share_one_queue_in_order() {
    let (a, b) = (python_service(), python_service());
    let q = EventQueue::new().unwrap();
    a.listen_queue(&q, 1);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let script =
            format!("for i in range(5):\n    task.update(current=i)\ntask.outputs['result'] = {i}");
        let t = if i % 2 == 0 {
            a.task(&script, None, None).unwrap()
        } else {
            let t = b.task(&script, None, None).unwrap();
            t.listen_queue(&q, 2).unwrap();
            t
        };
        t.start().unwrap();
        tasks.push(t);
    }
    let mut seen: HashMap<String, Vec<(ResponseType, Option<i64>)>> = HashMap::new();
    let mut ended = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while ended < tasks.len() && Instant::now() < deadline {
        for ev in take_when_ready(&q, Duration::from_secs(1)) {
            let EventKind::Task { task_id, event } = ev.kind else {
                panic!("unexpected {:?}", ev.kind)
            };
            let t = tasks.iter().position(|t| t.id() == task_id).unwrap();
            assert_eq!(ev.tag, if t % 2 == 0 { 1 } else { 2 });
            if event.response_type.is_terminal() {
                ended += 1;
            }
            seen.entry(task_id)
                .or_default()
                .push((event.response_type, event.current));
        }
    }
    assert_eq!(ended, tasks.len());
    for t in &tasks {
        let expected: Vec<_> = std::iter::once((ResponseType::Launch, None))
            .chain((0..5).map(|i| (ResponseType::Update, Some(i))))
            .chain(std::iter::once((ResponseType::Completion, None)))
            .collect();
        assert_eq!(seen[t.id()], expected, "task {}", t.id());
        assert_eq!(t.status(), TaskStatus::Complete);
    }
    assert!(q.take(0).is_empty());
}

#[test]
fn a_crash_arrives_through_the_queue() {
    let svc = python_service();
    let q = EventQueue::new().unwrap();
    let t = svc.task("import os\nos._exit(3)", None, None).unwrap();
    t.listen_queue(&q, 9).unwrap();
    t.start().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut crash = None;
    while crash.is_none() && Instant::now() < deadline {
        for ev in take_when_ready(&q, Duration::from_secs(1)) {
            if let EventKind::Task { event, .. } = ev.kind {
                if event.response_type == ResponseType::Crash {
                    crash = Some(event);
                }
            }
        }
    }
    let crash = crash.expect("no CRASH event");
    assert_eq!(crash.status, TaskStatus::Crashed);
    assert!(crash.error.unwrap().contains("exit code 3"));
    // wait() on a queue-listened task returns once it has settled.
    assert!(t.wait(Some(Duration::from_secs(5))).is_err());
}

#[test]
fn a_full_queue_stops_the_reader_and_loses_nothing() {
    let svc = python_service();
    let q = EventQueue::new().unwrap();
    let n = 3 * appose::queue::MAX_WAITING;
    let t = svc
        .task(
            &format!("for i in range({n}):\n    task.update(current=i)"),
            None,
            None,
        )
        .unwrap();
    t.listen_queue(&q, 0).unwrap();
    t.start().unwrap();
    // Nobody takes for a while: the queue fills up to its bound and stops.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(q.len() <= appose::queue::MAX_WAITING + 1, "{}", q.len());
    let mut updates = 0;
    let mut done = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done && Instant::now() < deadline {
        for ev in take_when_ready(&q, Duration::from_secs(1)) {
            let EventKind::Task { event, .. } = ev.kind else {
                unreachable!()
            };
            match event.response_type {
                ResponseType::Update => {
                    assert_eq!(event.current, Some(updates));
                    updates += 1;
                }
                ResponseType::Completion => done = true,
                _ => {}
            }
        }
    }
    assert!(done);
    assert_eq!(updates, n as i64);
}

#[test]
fn close_async_reports_its_outcome_and_the_hooks_balance() {
    static STARTS: AtomicUsize = AtomicUsize::new(0);
    static EXITS: AtomicUsize = AtomicUsize::new(0);
    let names = Arc::new(Mutex::new(Vec::new()));
    let seen = names.clone();
    appose::threads::set_thread_hooks(
        Some(Box::new(move |name: &str| {
            seen.lock().unwrap().push(name.to_owned());
            STARTS.fetch_add(1, Ordering::SeqCst);
        })),
        Some(Box::new(|_: &str| {
            EXITS.fetch_add(1, Ordering::SeqCst);
        })),
    );
    let svc = python_service();
    let t = svc.task("task.outputs['result'] = 1", None, None).unwrap();
    t.listen(Box::new(|_| {})).unwrap();
    t.wait(Some(Duration::from_secs(60))).unwrap();
    let q = EventQueue::new().unwrap();
    svc.close_async(Some(Duration::from_secs(10)), &q, 5)
        .unwrap();
    let mut closed = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    while closed.is_none() && Instant::now() < deadline {
        for ev in take_when_ready(&q, Duration::from_secs(1)) {
            assert_eq!(ev.tag, 5);
            if let EventKind::Closed { result } = ev.kind {
                closed = Some(result);
            }
        }
    }
    assert_eq!(closed.expect("no CLOSED event").unwrap(), Some(0));
    appose::threads::set_thread_hooks(None, None);
    // The dispatcher and the closing thread both ran the hooks, and both
    // have ended (other tests' threads may also count: compare the two).
    assert!(common::eventually(Duration::from_secs(10), || {
        EXITS.load(Ordering::SeqCst) == STARTS.load(Ordering::SeqCst)
    }));
    let names = names.lock().unwrap();
    assert!(names.iter().any(|n| n.ends_with("-dispatch")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("-close")), "{names:?}");
}

#[test]
fn a_build_reports_through_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let q = EventQueue::new().unwrap();
    let mut b = Builder::new(BuilderKind::Custom);
    b.base(dir.path());
    appose::builder::spawn_build(Arc::new(Mutex::new(b)), &q, 3, false).unwrap();
    let mut built = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    while built.is_none() && Instant::now() < deadline {
        for ev in take_when_ready(&q, Duration::from_secs(1)) {
            assert_eq!(ev.tag, 3);
            if let EventKind::Built { result } = ev.kind {
                built = Some(result);
            }
        }
    }
    let env = built.expect("no BUILT event").unwrap();
    assert_eq!(env.base(), dir.path());
    // A failing build reports its error the same way.
    let mut bad = Builder::new(BuilderKind::Uv);
    bad.base(dir.path().join("nope"))
        .content("not a requirement ===");
    bad.tool_mirror("http://127.0.0.1:9");
    appose::builder::spawn_build(Arc::new(Mutex::new(bad)), &q, 4, false).unwrap();
    let mut failed = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while failed.is_none() && Instant::now() < deadline {
        for ev in take_when_ready(&q, Duration::from_secs(1)) {
            if let EventKind::Built { result } = ev.kind {
                failed = Some(result);
            }
        }
    }
    assert!(failed.expect("no BUILT event").is_err());
}
