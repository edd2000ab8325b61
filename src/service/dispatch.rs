//! The dispatcher: one thread per service runs every callback of that
//! service (task listeners, the debug listener), in order, never two at once,
//! never on a caller's thread.
//!
//! Readers hand it events through a [`DispatchQueue`]: a mutex and a
//! condition variable, because a channel's receiver spins and yields before
//! it sleeps, and on two cores that spinning takes CPU from the worker on
//! every event. The queue is bounded for readers (they wait for room before
//! reading more of the worker's output, so the worker blocks on its pipe
//! when listeners fall behind), never for terminal events and crash reports,
//! which always get through.
//!
//! The thread ends when the queue is closed (the service is closed or
//! dropped) and everything queued has run. A panic outside user callbacks is
//! caught per item: the task it concerned is settled CRASHED, the service is
//! told ([`DispatchHost::internal_failure`]) and the thread carries on.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use crossbeam_channel::Sender;

use crate::lock;
use crate::protocol::Response;
use crate::task::{in_dispatcher_scope, TaskInner};

/// Most items queued for the dispatcher before readers stop reading the
/// worker's output. With the batch the dispatcher is working on, at most
/// twice this many events are held in memory.
pub(crate) const MAX_QUEUED: usize = 1024;

/// Most dispatches a reader holds back before handing them over.
pub(crate) const MAX_BATCH: usize = 256;

/// A debug listener: receives `[SERVICE-n] ...` and `[WORKER-n] ...` lines.
pub type DebugListener = Box<dyn FnMut(&str) + Send>;

pub(crate) enum Dispatch {
    /// A response for a task with listeners.
    Task(Arc<TaskInner>, Response),
    Debug(String),
    /// Replaces the debug listener (set after the service started).
    SetDebug(DebugListener),
    /// Signals once everything queued before it has run.
    Barrier(Sender<()>),
}

/// What the dispatcher reports to its service.
pub(crate) trait DispatchHost: Send + Sync {
    /// Something inside the library failed: the service must crash.
    fn internal_failure(&self, why: String);
}

#[derive(Default)]
struct State {
    items: VecDeque<Dispatch>,
    closed: bool,
    /// Readers should stop waiting for room (the worker has exited).
    no_backpressure: bool,
}

#[derive(Default)]
pub(crate) struct DispatchQueue {
    state: Mutex<State>,
    ready: Condvar,
    room: Condvar,
}

impl DispatchQueue {
    /// Queues items; never blocks and never refuses (except once closed,
    /// when nothing is left to run them and they are dropped).
    pub(crate) fn push_all(&self, items: impl IntoIterator<Item = Dispatch>) {
        let mut st = lock(&self.state);
        if st.closed {
            return;
        }
        let was_empty = st.items.is_empty();
        st.items.extend(items);
        if was_empty && !st.items.is_empty() {
            self.ready.notify_one();
        }
    }

    pub(crate) fn push(&self, d: Dispatch) {
        self.push_all(std::iter::once(d));
    }

    /// Queues a new debug listener unless the queue is closed; gives it
    /// back then.
    pub(crate) fn push_debug(
        &self,
        listener: DebugListener,
    ) -> std::result::Result<(), DebugListener> {
        let mut st = lock(&self.state);
        if st.closed {
            return Err(listener);
        }
        let was_empty = st.items.is_empty();
        st.items.push_back(Dispatch::SetDebug(listener));
        if was_empty {
            self.ready.notify_one();
        }
        Ok(())
    }

    /// Waits until fewer than [`MAX_QUEUED`] items wait, the queue is
    /// closed, backpressure is lifted, or `deadline` passes (false then).
    pub(crate) fn wait_for_room(&self, deadline: Option<Instant>) -> bool {
        let mut st = lock(&self.state);
        while st.items.len() >= MAX_QUEUED && !st.closed && !st.no_backpressure {
            st = match deadline {
                None => self.room.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let Some(left) = d.checked_duration_since(Instant::now()) else {
                        return false;
                    };
                    self.room
                        .wait_timeout(st, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        true
    }

    /// From now on readers never wait for room: the worker is gone, and
    /// what is left of its output must be read to the end.
    pub(crate) fn lift_backpressure(&self) {
        lock(&self.state).no_backpressure = true;
        self.room.notify_all();
    }

    /// No more items: the dispatcher runs what is queued and ends.
    pub(crate) fn close(&self) {
        lock(&self.state).closed = true;
        self.ready.notify_one();
        self.room.notify_all();
    }

    /// Everything queued, waiting for it; `None` once closed and empty.
    fn take(&self) -> Option<VecDeque<Dispatch>> {
        let mut st = lock(&self.state);
        loop {
            if !st.items.is_empty() {
                let items = std::mem::take(&mut st.items);
                self.room.notify_all();
                return Some(items);
            }
            if st.closed {
                return None;
            }
            st = self.ready.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Waits until everything queued so far has run, at most until
    /// `deadline`; false if it had not by then.
    pub(crate) fn drain(&self, deadline: Option<Instant>) -> bool {
        let (tx, rx) = crossbeam_channel::bounded(1);
        {
            let mut st = lock(&self.state);
            if st.closed && st.items.is_empty() {
                return true;
            }
            let was_empty = st.items.is_empty();
            st.items.push_back(Dispatch::Barrier(tx));
            if was_empty {
                self.ready.notify_one();
            }
        }
        match deadline {
            None => rx.recv().is_ok(),
            Some(d) => rx.recv_deadline(d).is_ok(),
        }
    }
}

/// The dispatcher thread's body: runs items until the queue is closed and
/// empty. `done` is signalled after the debug listener (and its user data)
/// is dropped.
pub(crate) fn run(
    queue: &DispatchQueue,
    mut debug: Option<DebugListener>,
    host: std::sync::Weak<dyn DispatchHost>,
    done: Sender<()>,
) {
    let _scope = in_dispatcher_scope();
    while let Some(items) = queue.take() {
        for item in items {
            run_one(item, &mut debug, &host);
        }
    }
    drop(debug);
    let _ = done.send(());
}

fn run_one(
    item: Dispatch,
    debug: &mut Option<DebugListener>,
    host: &std::sync::Weak<dyn DispatchHost>,
) {
    match item {
        Dispatch::Task(task, r) => {
            let t = task.clone();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::faults::point(crate::faults::Fault::DispatcherPanic);
                t.apply(r)
            }));
            if let Err(panic) = outcome {
                let why = format!(
                    "the dispatcher thread panicked while delivering an event of task {}: {}",
                    task.id,
                    crate::panic_text(&*panic)
                );
                task.settle_after_internal_failure(&why);
                if let Some(h) = host.upgrade() {
                    h.internal_failure(why);
                }
            }
        }
        Dispatch::SetDebug(listener) => {
            // The previous listener (and its user data) goes here.
            *debug = Some(listener);
        }
        Dispatch::Debug(text) => {
            if let Some(d) = debug.as_mut() {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d(&text)));
            }
        }
        Dispatch::Barrier(done) => {
            let _ = done.send(());
        }
    }
}
