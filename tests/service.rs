//! Services and tasks against the real `appose` Python worker.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use appose::{ErrorKind, Map, ResponseType, TaskEvent, TaskStatus, Value};
use common::{eventually, pid_alive, python_program, python_service};

const LONG: Option<Duration> = Some(Duration::from_secs(60));

/// The peers' own test script: the Collatz stopping time of 9999 (91 steps).
const COLLATZ: &str = "\
# Computes the stopping time of a given value
# according to the Collatz conjecture sequence.
time = 0
v = 9999
while v != 1:
    v = v//2 if v%2==0 else 3*v+1
    task.update(f\"[{time}] -> {v}\", current=time)
    time += 1
task.outputs[\"result\"] = time
";

fn recorder(task: &appose::Task) -> Arc<Mutex<Vec<TaskEvent>>> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    task.listen(Box::new(move |e: &TaskEvent| {
        sink.lock().unwrap().push(e.clone())
    }))
    .unwrap();
    events
}

#[test]
fn collatz_gives_93_events_and_91() {
    let svc = python_service();
    let task = svc.task(COLLATZ, None, None).unwrap();
    let events = recorder(&task);
    task.wait(LONG).unwrap();

    // No sleep: every listener call happened before wait returned.
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 93);
    assert_eq!(events[0].response_type, ResponseType::Launch);
    assert_eq!(events[92].response_type, ResponseType::Completion);
    assert_eq!(events[92].status, TaskStatus::Complete);
    let mut v: i64 = 9999;
    for (time, e) in events[1..92].iter().enumerate() {
        v = if v % 2 == 0 { v / 2 } else { 3 * v + 1 };
        assert_eq!(e.response_type, ResponseType::Update);
        assert_eq!(
            e.message.as_deref(),
            Some(format!("[{time}] -> {v}").as_str())
        );
        assert_eq!(e.current, Some(time as i64));
        assert_eq!(e.maximum, None);
    }
    assert_eq!(v, 1);
    assert_eq!(task.status(), TaskStatus::Complete);
    assert_eq!(task.result(), Some(Value::from(91i64)));
}

#[test]
fn failing_script_reports_the_python_exception() {
    let svc = python_service();
    let task = svc.task("whee", None, None).unwrap();
    let err = task.wait(LONG).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TaskFailed);
    assert_eq!(task.status(), TaskStatus::Failed);
    let error = task.error().unwrap();
    assert!(error.contains("Traceback"), "{error}");
    assert_eq!(
        error.trim_end().lines().last(),
        Some("NameError: name 'whee' is not defined")
    );
}

#[test]
fn cancel_wins_over_the_trailing_completion() {
    let svc = python_service();
    let debug = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = debug.clone();
    svc.debug(Box::new(move |line: &str| {
        sink.lock().unwrap().push(line.to_owned())
    }))
    .unwrap();
    let script = "\
import time
for i in range(1200):
    if task.cancel_requested:
        task.cancel()
        break
    time.sleep(0.05)
'finished'
";
    let task = svc.task(script, None, None).unwrap();
    let events = recorder(&task);
    task.start().unwrap();
    assert!(eventually(Duration::from_secs(30), || task.status()
        == TaskStatus::Running));
    task.cancel().unwrap();
    assert_eq!(task.wait(LONG).unwrap_err().kind(), ErrorKind::TaskCanceled);
    assert_eq!(task.status(), TaskStatus::Canceled);
    assert!(task.outputs().is_empty());
    let types: Vec<ResponseType> = events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.response_type)
        .collect();
    assert_eq!(types, [ResponseType::Launch, ResponseType::Cancelation]);
    // The worker still sends COMPLETION after CANCELATION; it is ignored.
    let ignored = format!("No such task: {} (COMPLETION ignored)", task.id());
    assert!(
        eventually(Duration::from_secs(10), || debug
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.ends_with(&ignored))),
        "the trailing COMPLETION never arrived"
    );
    assert_eq!(task.status(), TaskStatus::Canceled);
}

#[test]
fn kill_crashes_the_running_task_with_the_peers_report() {
    let svc = python_service();
    let script = "\
import sys, time
sys.stderr.write('about to sleep\\n')
sys.stderr.flush()
time.sleep(120)
";
    let task = svc.task(script, None, None).unwrap();
    let events = recorder(&task);
    task.start().unwrap();
    assert!(eventually(Duration::from_secs(30), || svc
        .error_lines()
        .iter()
        .any(|l| l == "about to sleep")));
    svc.kill();
    let err = task.wait(LONG).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TaskCrashed);
    assert_eq!(task.status(), TaskStatus::Crashed);
    let stderr = svc.error_lines();
    assert!(stderr.contains(&"about to sleep".to_owned()));
    let expected = format!(
        "Worker crashed with exit code 137.\n\n[stdout]\n<none>\n\n[stderr]\n{}\n",
        stderr.join("\n")
    );
    assert_eq!(task.error().unwrap(), expected);
    assert_eq!(
        events.lock().unwrap().last().unwrap().response_type,
        ResponseType::Crash
    );
    assert!(!svc.is_alive());
}

#[test]
fn worker_dying_at_startup_crashes_its_tasks() {
    let svc = python_program(&[
        "-c",
        "import sys; sys.stderr.write('starting\\nfatal: no model here\\n'); sys.exit(3)",
    ]);
    let first = svc.task("1 + 1", None, None).unwrap();
    assert_eq!(first.wait(LONG).unwrap_err().kind(), ErrorKind::TaskCrashed);
    let error = first.error().unwrap();
    assert!(
        error.starts_with("Worker crashed with exit code 3.\n"),
        "{error}"
    );
    assert!(
        error.ends_with("[stderr]\nstarting\nfatal: no model here\n"),
        "{error}"
    );
    // A task made after the worker is gone crashes the same way.
    let second = svc.task("2 + 2", None, None).unwrap();
    assert_eq!(
        second.wait(LONG).unwrap_err().kind(),
        ErrorKind::TaskCrashed
    );
    assert_eq!(second.error().unwrap(), error);
}

#[test]
fn init_script_state_is_visible_to_tasks() {
    let svc = python_service();
    svc.init("import math\ngreeting = 'hello from init'\n_private = 1")
        .unwrap();
    let task = svc
        .task("f'{greeting} {math.floor(2.5)}'", None, None)
        .unwrap();
    task.wait(LONG).unwrap();
    assert_eq!(task.result(), Some(Value::from("hello from init 2")));
    let hidden = svc.task("_private", None, None).unwrap();
    assert_eq!(hidden.wait(LONG).unwrap_err().kind(), ErrorKind::TaskFailed);
    // Setting it again after start is refused.
    assert_eq!(
        svc.init("x = 1").unwrap_err().kind(),
        ErrorKind::InvalidState
    );
}

#[test]
fn main_queue_runs_on_the_main_thread() {
    let svc = python_service();
    let script = "import threading\nthreading.current_thread() is threading.main_thread()";
    let on_main = svc.task(script, None, Some("main")).unwrap();
    let elsewhere = svc.task(script, None, None).unwrap();
    on_main.wait(LONG).unwrap();
    elsewhere.wait(LONG).unwrap();
    assert_eq!(on_main.result(), Some(Value::Bool(true)));
    assert_eq!(elsewhere.result(), Some(Value::Bool(false)));
}

#[test]
fn burst_of_2000_concurrent_tasks_all_complete() {
    let svc = python_service();
    let tasks: Vec<_> = (0..2000i64)
        .map(|i| {
            let mut inputs = Map::new();
            inputs.insert("x", Value::from(i));
            let t = svc.task("x * 2", Some(inputs), None).unwrap();
            t.start().unwrap();
            t
        })
        .collect();
    for (i, t) in tasks.iter().enumerate() {
        t.wait(Some(Duration::from_secs(120)))
            .unwrap_or_else(|e| panic!("task {i}: {e}"));
        assert_eq!(t.result(), Some(Value::from(2 * i as i64)));
    }
}

#[test]
fn printed_garbage_is_kept_and_results_stay_intact() {
    let svc = python_service();
    let script = r#"
print("plain garbage")
print('{"task": "not-a-task", "responseType": "COMPLETION"}')
print("{half json")
print('{"a": 1}{"b": ')
print(12345)
"intact"
"#;
    let task = svc.task(script, None, None).unwrap();
    task.wait(LONG).unwrap();
    assert_eq!(task.result(), Some(Value::from("intact")));
    let invalid = svc.invalid_lines();
    for line in ["plain garbage", "{half json", "{\"a\": 1}{\"b\": ", "12345"] {
        assert!(
            invalid.iter().any(|l| l == line),
            "{line:?} not in {invalid:?}"
        );
    }
    // Well-formed JSON for an unknown task is not garbage, just ignored.
    assert!(!invalid.iter().any(|l| l.contains("not-a-task")));
    // The service still works.
    let again = svc.task("'still fine'", None, None).unwrap();
    again.wait(LONG).unwrap();
    assert_eq!(again.result(), Some(Value::from("still fine")));
}

#[test]
fn silent_worker_times_out_and_close_ends_it() {
    // Alive, reads nothing, ignores SIGTERM and EOF: only a kill ends it.
    let svc = python_program(&[
        "-c",
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: time.sleep(1)",
    ]);
    let task = svc.task("1", None, None).unwrap();
    let err = task.wait(Some(Duration::from_millis(300))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(task.status(), TaskStatus::Queued);
    assert!(svc.is_alive());
    let code = svc.close(Some(Duration::from_millis(500))).unwrap();
    assert_eq!(code, Some(137));
    assert!(!svc.is_alive());
    assert_eq!(task.wait(LONG).unwrap_err().kind(), ErrorKind::TaskCrashed);
}

#[test]
fn blocking_calls_inside_a_listener_are_refused() {
    let svc = python_service();
    let task = svc.task("task.update('tick')\n7", None, None).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (sink, me, service) = (seen.clone(), task.clone(), svc.0.clone());
    task.listen(Box::new(move |_e: &TaskEvent| {
        let wait = me.wait(None).unwrap_err().kind();
        let close = service.close(None).unwrap_err().kind();
        sink.lock().unwrap().push((wait, close));
    }))
    .unwrap();
    task.wait(LONG).unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert!(seen
        .iter()
        .all(|&k| k == (ErrorKind::Reentrant, ErrorKind::Reentrant)));
    assert_eq!(task.result(), Some(Value::from(7i64)));
}

#[test]
fn wide_integers_and_non_finite_floats_round_trip() {
    let svc = python_service();
    let inputs =
        appose::value::parse(r#"{"big": 1180591620717411303424, "s": "h\u00e9llo \ud83d\ude00"}"#)
            .unwrap()
            .into_object()
            .unwrap();
    let script = "{'next': big + 1, 'nan': float('nan'), 'ninf': float('-inf'), 's': s, 'f': 1.5}";
    let task = svc.task(script, Some(inputs), None).unwrap();
    task.wait(LONG).unwrap();
    assert_eq!(
        Value::Object(task.outputs()).to_json(),
        r#"{"next":1180591620717411303425,"nan":NaN,"ninf":-Infinity,"s":"h\u00e9llo \ud83d\ude00","f":1.5}"#
    );
}

#[test]
fn a_result_nested_520_deep_completes() {
    // Past the 512 levels the reader once allowed: its COMPLETION was filed
    // as an invalid line and the task stayed RUNNING.
    let svc = python_service();
    let script = "r = 1\nfor _ in range(520):\n    r = [r]\ntask.outputs['result'] = r";
    let task = svc.task(script, None, None).unwrap();
    task.wait(Some(Duration::from_secs(30))).unwrap();
    let result = task.result().unwrap();
    let (mut depth, mut v) = (0, &result);
    while let Value::Array(items) = v {
        depth += 1;
        v = &items[0];
    }
    assert_eq!((depth, v), (520, &Value::from(1i64)));
}

#[test]
fn a_response_that_cannot_be_read_fails_its_task() {
    // The script writes, as its worker would, a COMPLETION for itself that
    // is nested deeper than any reader accepts, then keeps running: the
    // task must end FAILED with the reason, not wait forever.
    let svc = python_service();
    let script = "\
import sys, time
deep = '[' * 200000 + ']' * 200000
sys.stdout.write('{\"task\":\"' + task._uuid + '\",\"responseType\":\"COMPLETION\",\"outputs\":{\"r\":' + deep + '}}\\n')
sys.stdout.flush()
time.sleep(30)
";
    let task = svc.task(script, None, None).unwrap();
    let err = task.wait(Some(Duration::from_secs(20))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TaskFailed, "{err}");
    assert!(
        err.message().contains("could not read COMPLETION response"),
        "{err}"
    );
    assert!(err.message().contains("nesting"), "{err}");
    svc.kill();
}

#[test]
fn listeners_after_start_are_refused_and_started_twice_too() {
    let svc = python_service();
    let task = svc.task("1", None, None).unwrap();
    task.start().unwrap();
    let err = task.listen(Box::new(|_e: &TaskEvent| {})).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState);
    assert_eq!(task.start().unwrap_err().kind(), ErrorKind::InvalidState);
    task.wait(LONG).unwrap();
}

#[test]
fn close_lets_running_tasks_finish() {
    let svc = python_service();
    let task = svc
        .task("import time\ntime.sleep(0.5)\n'done'", None, None)
        .unwrap();
    task.start().unwrap();
    assert!(eventually(Duration::from_secs(30), || task.status()
        == TaskStatus::Running));
    assert_eq!(svc.close(LONG).unwrap(), Some(0));
    task.wait(LONG).unwrap();
    assert_eq!(task.result(), Some(Value::from("done")));
    let late = svc.task("1", None, None).unwrap();
    assert_eq!(
        late.wait(LONG).unwrap_err().kind(),
        ErrorKind::ServiceClosed
    );
    assert_eq!(late.status(), TaskStatus::Initial);
}

#[test]
fn kill_takes_the_whole_process_tree() {
    let svc = python_service();
    // A child that would hold the worker's pipes open and outlive it.
    let spawn = svc
        .task(
            "import subprocess\nsubprocess.Popen(['sleep', '300']).pid",
            None,
            None,
        )
        .unwrap();
    spawn.wait(LONG).unwrap();
    let child = spawn.result().unwrap().as_i64().unwrap();
    assert!(pid_alive(child));
    let running = svc
        .task("import time\ntime.sleep(300)", None, None)
        .unwrap();
    running.start().unwrap();
    svc.kill();
    assert_eq!(
        running.wait(LONG).unwrap_err().kind(),
        ErrorKind::TaskCrashed
    );
    assert!(
        eventually(Duration::from_secs(5), || !pid_alive(child)),
        "the worker's child {child} survived the kill"
    );
}

#[test]
fn a_child_left_behind_by_a_task_does_not_outlive_close() {
    let svc = python_service();
    let spawn = svc
        .task(
            "import subprocess\nsubprocess.Popen(['sleep', '300']).pid",
            None,
            None,
        )
        .unwrap();
    spawn.wait(LONG).unwrap();
    let child = spawn.result().unwrap().as_i64().unwrap();
    // The child inherited the worker's stdout: close must still return.
    assert_eq!(svc.close(LONG).unwrap(), Some(0));
    assert!(eventually(Duration::from_secs(5), || !pid_alive(child)));
}

#[test]
fn close_returns_after_every_callback_about_the_worker_has_returned() {
    let svc = python_service();
    let done = Arc::new(Mutex::new(false));
    let flag = done.clone();
    svc.debug(Box::new(move |line: &str| {
        if line.ends_with("<worker stdout closed>") {
            std::thread::sleep(Duration::from_millis(200));
            *flag.lock().unwrap() = true;
        }
    }))
    .unwrap();
    svc.task("1", None, None).unwrap().wait(LONG).unwrap();
    assert_eq!(svc.close(LONG).unwrap(), Some(0));
    // Callers may free what their callbacks use as soon as close returns.
    assert!(*done.lock().unwrap());
}

// A caller waiting for a task without listeners reads the worker's output
// itself (one caller at a time); the tests below cover what that must not
// break: other callers, other tasks' events, tasks nobody waits for, and
// timeouts on a worker that stops halfway through a line.

#[test]
fn callers_on_many_threads_each_get_their_own_results() {
    let svc = python_service();
    std::thread::scope(|s| {
        for t in 0..8i64 {
            let svc = &svc;
            s.spawn(move || {
                for i in 0..150i64 {
                    let mut inputs = Map::new();
                    inputs.insert("x", Value::from(t * 1000 + i));
                    let task = svc.task("x + 1", Some(inputs), None).unwrap();
                    task.wait(LONG).unwrap();
                    assert_eq!(task.result(), Some(Value::from(t * 1000 + i + 1)));
                }
            });
        }
    });
}

#[test]
fn listener_events_flow_while_another_caller_waits() {
    let svc = python_service();
    let chatty = svc
        .task(
            "import time\nfor i in range(5):\n    task.update(str(i))\n    time.sleep(0.05)\n'done'",
            None,
            None,
        )
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    chatty
        .listen(Box::new(move |e: &TaskEvent| {
            sink.lock()
                .unwrap()
                .push((e.response_type, std::time::Instant::now()))
        }))
        .unwrap();
    chatty.start().unwrap();
    let slow = svc.task("import time\ntime.sleep(3)", None, None).unwrap();
    slow.wait(LONG).unwrap();
    let slow_done = std::time::Instant::now();
    let seen = seen.lock().unwrap();
    let updates = seen
        .iter()
        .filter(|(t, _)| *t == ResponseType::Update)
        .count();
    assert_eq!(updates, 5, "{seen:?}");
    let (last, at) = *seen.last().unwrap();
    assert_eq!(last, ResponseType::Completion);
    // Delivered as they came (about 0.3 s in), not when the slow task ended.
    assert!(
        slow_done.duration_since(at) > Duration::from_secs(2),
        "the chatty task's completion reached its listener only {:?} before the slow task ended",
        slow_done.duration_since(at)
    );
}

#[test]
fn a_task_nobody_waits_for_still_completes() {
    let svc = python_service();
    // A caller reads the output while it waits (the reader thread, woken by
    // the LAUNCH, then rests), then stops.
    svc.task("import time\ntime.sleep(0.3)", None, None)
        .unwrap()
        .wait(LONG)
        .unwrap();
    let unwatched = svc.task("'unwatched'", None, None).unwrap();
    unwatched.start().unwrap();
    assert!(
        eventually(Duration::from_secs(5), || unwatched.status()
            == TaskStatus::Complete),
        "status {:?}",
        unwatched.status()
    );
    assert_eq!(unwatched.result(), Some(Value::from("unwatched")));
}

#[test]
fn a_wait_times_out_on_a_worker_stuck_halfway_through_a_line() {
    let svc = python_program(&[
        "-c",
        "import sys, time\nsys.stdout.write('{\"task\": \"')\nsys.stdout.flush()\ntime.sleep(600)",
    ]);
    let task = svc.task("1", None, None).unwrap();
    let t0 = std::time::Instant::now();
    let err = task.wait(Some(Duration::from_millis(300))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    svc.kill();
    assert_eq!(task.wait(LONG).unwrap_err().kind(), ErrorKind::TaskCrashed);
    // The half line is kept, as the peers keep non-response output.
    assert!(
        eventually(Duration::from_secs(5), || svc
            .invalid_lines()
            .iter()
            .any(|l| l == "{\"task\": \"")),
        "{:?}",
        svc.invalid_lines()
    );
}

#[test]
fn a_debug_listener_can_be_set_and_replaced_after_start() {
    let svc = python_service();
    svc.task("1", None, None).unwrap().wait(LONG).unwrap();
    let first = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = first.clone();
    let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    struct OnDrop(Arc<std::sync::atomic::AtomicBool>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let guard = OnDrop(dropped.clone());
    svc.debug(Box::new(move |line: &str| {
        let _ = &guard;
        sink.lock().unwrap().push(line.to_owned())
    }))
    .unwrap();
    svc.task("'first marker'", None, None)
        .unwrap()
        .wait(LONG)
        .unwrap();
    assert!(eventually(Duration::from_secs(10), || first
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("first marker"))));
    let second = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = second.clone();
    svc.debug(Box::new(move |line: &str| {
        sink.lock().unwrap().push(line.to_owned())
    }))
    .unwrap();
    svc.task("'second marker'", None, None)
        .unwrap()
        .wait(LONG)
        .unwrap();
    assert!(eventually(Duration::from_secs(10), || second
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("second marker"))));
    assert!(eventually(Duration::from_secs(10), || dropped
        .load(std::sync::atomic::Ordering::SeqCst)));
    assert!(!first
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("second marker")));
    svc.close(LONG).unwrap();
    // Closed: the listener can no longer change, and the call says so.
    let e = svc.debug(Box::new(|_: &str| {})).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ServiceClosed);
}

#[test]
fn wait_exit_waits_without_closing_stdin() {
    let svc = python_service();
    svc.start().unwrap();
    let e = svc.wait_exit(Some(Duration::from_millis(200))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(svc.is_alive(), "waiting must not close the worker's stdin");
    svc.task(
        "import os, threading\nthreading.Timer(0.3, lambda: os._exit(7)).start()",
        None,
        None,
    )
    .unwrap()
    .wait(LONG)
    .unwrap();
    assert_eq!(svc.wait_exit(LONG).unwrap(), Some(7));
}

/// A worker that answers each request as appose-java 0.9.0's GroovyWorker
/// sometimes does: a "thread death" FAILURE first, then (for tasks whose
/// script is "finish") the real LAUNCH and COMPLETION.
const JANITOR_WORKER: &str = r#"
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    t = req["task"]
    print(json.dumps({"task": t, "responseType": "FAILURE", "error": "thread death"}), flush=True)
    if req["script"] == "finish":
        print(json.dumps({"task": t, "responseType": "LAUNCH"}), flush=True)
        print(json.dumps({"task": t, "responseType": "COMPLETION", "outputs": {"result": 1}}), flush=True)
"#;

#[test]
fn a_spurious_thread_death_is_overtaken_by_the_real_end_and_a_real_one_still_fails() {
    let svc = python_program(&["-c", JANITOR_WORKER]);
    let t = svc.task("finish", None, None).unwrap();
    t.wait(LONG).unwrap();
    assert_eq!(t.status(), TaskStatus::Complete);
    assert_eq!(t.result(), Some(Value::from(1)));
    // Nothing follows: after the grace (2 s) the FAILURE stands, and a
    // caller waiting on the worker's pipe is woken for it.
    let t = svc.task("die", None, None).unwrap();
    let t0 = std::time::Instant::now();
    let e = t.wait(LONG).unwrap_err();
    assert!(
        t0.elapsed() < Duration::from_secs(8),
        "the waiter slept through the held failure: {:?}",
        t0.elapsed()
    );
    assert_eq!(e.kind(), ErrorKind::TaskFailed);
    assert_eq!(e.message(), "thread death");
    assert_eq!(t.status(), TaskStatus::Failed);
}

#[test]
fn python_with_other_arguments_runs_that_program() {
    let env = appose::Environment::wrap(common::python_env()).unwrap();
    let svc = env
        .python_with(&[
            "-c".to_owned(),
            "import sys; print('hello'); sys.exit(3)".to_owned(),
        ])
        .unwrap();
    svc.start().unwrap();
    assert_eq!(svc.wait_exit(LONG).unwrap(), Some(3));
    assert!(
        svc.invalid_lines().iter().any(|l| l == "hello"),
        "{:?}",
        svc.invalid_lines()
    );
    assert_eq!(env.env_type(), "uv", "the test environment is a venv");
}
