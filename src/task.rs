//! Tasks: one script run in a worker, its status, events and results.
//!
//! Thread rules. A task's state is changed by exactly one thread at a time:
//! whichever thread reads the worker's output (or the service's monitor, for
//! CRASH) when the task has no listeners, the service's dispatcher thread
//! when it has. Listeners can only be added before the task starts, so which
//! path a task takes is fixed at start. `wait` returns only after the
//! listeners have seen the terminal event ("settled"), and refuses to block
//! on a dispatcher thread, where it would deadlock.
//!
//! A task reaches its service only through [`TaskHost`], so this module
//! knows nothing of processes, pipes or threads.

use std::any::Any;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::lock;
use crate::protocol::{self, Response, ResponseType};
use crate::shm::SharedMemory;
use crate::value::{Map, Value};

thread_local! {
    static IN_DISPATCHER: Cell<bool> = const { Cell::new(false) };
}

/// True on a dispatcher thread, i.e. inside a listener or debug callback.
pub(crate) fn in_dispatcher() -> bool {
    IN_DISPATCHER.with(Cell::get)
}

/// Marks the current thread as a dispatcher thread for the guard's life.
pub(crate) fn in_dispatcher_scope() -> impl Drop {
    struct Scope;
    impl Drop for Scope {
        fn drop(&mut self) {
            IN_DISPATCHER.with(|f| f.set(false));
        }
    }
    IN_DISPATCHER.with(|f| f.set(true));
    Scope
}

/// What a task needs from the service that runs it.
pub(crate) trait TaskHost: Send + Sync {
    /// Registers `task` as pending and sends its request. On error the task
    /// was never registered and gets no event.
    fn submit(&self, task: &Arc<TaskInner>, line: String) -> Result<()>;
    /// Sends a request that concerns a task already submitted.
    fn send(&self, line: String) -> Result<()>;
    /// Queues a response for the dispatcher thread.
    fn dispatch(&self, task: Arc<TaskInner>, r: Response);
    /// Takes the right to read the worker's output on this thread; false
    /// when another thread has it or nothing is left to read.
    fn claim_reading(&self) -> bool;
    /// Gives the right back without reading.
    fn release_reading(&self);
    /// With the right claimed: reads the worker's output until `task`
    /// settles, `deadline` passes or reading on this thread must stop;
    /// gives the right back.
    fn read_until_settled(&self, task: &TaskInner, deadline: Option<Instant>);
    /// A debug message about the service.
    fn debug(&self, message: String);
}

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    Initial,
    Queued,
    Running,
    Complete,
    Canceled,
    Failed,
    Crashed,
}

impl TaskStatus {
    /// Every status, in the order of their numbers in the C ABI.
    pub const ALL: [TaskStatus; 7] = [
        TaskStatus::Initial,
        TaskStatus::Queued,
        TaskStatus::Running,
        TaskStatus::Complete,
        TaskStatus::Canceled,
        TaskStatus::Failed,
        TaskStatus::Crashed,
    ];

    /// The status's name (`"COMPLETE"`, ...): the one table of names, for
    /// Rust and C alike.
    pub fn name(self) -> &'static std::ffi::CStr {
        match self {
            TaskStatus::Initial => c"INITIAL",
            TaskStatus::Queued => c"QUEUED",
            TaskStatus::Running => c"RUNNING",
            TaskStatus::Complete => c"COMPLETE",
            TaskStatus::Canceled => c"CANCELED",
            TaskStatus::Failed => c"FAILED",
            TaskStatus::Crashed => c"CRASHED",
        }
    }

    pub fn as_str(self) -> &'static str {
        self.name().to_str().unwrap_or_default()
    }

    /// COMPLETE, CANCELED, FAILED or CRASHED.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TaskStatus::Complete | TaskStatus::Canceled | TaskStatus::Failed | TaskStatus::Crashed
        )
    }
}

/// What a listener is told.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskEvent {
    pub response_type: ResponseType,
    /// The task's status once this event is taken into account.
    pub status: TaskStatus,
    pub message: Option<String>,
    pub current: Option<i64>,
    pub maximum: Option<i64>,
    pub info: Option<Value>,
    /// The error text, on FAILURE and CRASH.
    pub error: Option<String>,
}

/// A task listener. Dropped (on whichever thread lets go last) once the task
/// has delivered its terminal event or is itself dropped.
pub type Listener = Box<dyn FnMut(&TaskEvent) + Send>;

struct TaskState {
    status: TaskStatus,
    outputs: Map,
    error: Option<String>,
    /// Terminal event applied and delivered to every listener.
    settled: bool,
    /// Threads blocked on `settled_cv`: without any, settling makes no
    /// system call (a condition variable's notify always does one).
    waiters: u32,
}

impl TaskState {
    /// Marks the task settled; true if a waiter must be woken.
    fn mark_settled(&mut self) -> bool {
        self.settled = true;
        self.waiters > 0
    }
}

pub(crate) struct TaskInner {
    pub(crate) id: String,
    script: String,
    inputs: Map,
    queue: Option<String>,
    service: Arc<dyn TaskHost>,
    state: Mutex<TaskState>,
    settled_cv: Condvar,
    listeners: Mutex<Vec<Listener>>,
    /// Fixed at start: events go through the dispatcher thread.
    routed: AtomicBool,
    /// Blocks the worker sent in UPDATE info, kept until the task ends: a
    /// worker that previews an array and then returns it names a block that
    /// must still exist when the result is read.
    retained: Mutex<Vec<SharedMemory>>,
}

impl TaskInner {
    /// Takes a response in, on the thread the routing rule names.
    pub(crate) fn deliver(self: &Arc<Self>, r: Response) {
        if self.routed.load(Ordering::Acquire) {
            self.service.dispatch(self.clone(), r);
        } else {
            self.apply(r);
        }
    }

    /// Its events go through the dispatcher thread (it has listeners).
    pub(crate) fn is_routed(&self) -> bool {
        self.routed.load(Ordering::Acquire)
    }

    /// The terminal event has been applied and delivered.
    pub(crate) fn is_settled(&self) -> bool {
        lock(&self.state).settled
    }

    /// Applies a response: status, outputs, listeners, then wakes waiters.
    pub(crate) fn apply(&self, r: Response) {
        let terminal = r.response_type.is_terminal();
        // `update` consumes the response: whatever it does not keep (values
        // holding shared memory among them) is dropped before waiters wake,
        // so a waiter that frees the outputs sees their blocks go.
        if self.update(r) && terminal {
            self.settle();
        }
    }

    fn settle(&self) {
        if lock(&self.state).mark_settled() {
            self.settled_cv.notify_all();
        }
        // Its outputs hold whatever blocks they name now.
        lock(&self.retained).clear();
    }

    /// Keeps `blocks` alive until the task ends.
    pub(crate) fn retain_blocks(&self, blocks: Vec<SharedMemory>) {
        if !blocks.is_empty() && !self.is_settled() {
            lock(&self.retained).extend(blocks);
        }
    }

    /// Ends the task CRASHED after the library failed while delivering one
    /// of its events (its listeners may not have seen it).
    pub(crate) fn settle_after_internal_failure(&self, why: &str) {
        {
            let mut st = lock(&self.state);
            if st.settled {
                return;
            }
            if !st.status.is_finished() {
                st.status = TaskStatus::Crashed;
                st.error = Some(format!("libappose failed internally: {why}"));
            }
        }
        lock(&self.listeners).clear();
        self.settle();
    }

    /// Updates the state and calls the listeners; false if the response was
    /// ignored.
    fn update(&self, r: Response) -> bool {
        let Response {
            response_type,
            message,
            current,
            maximum,
            info,
            outputs,
            error,
            ..
        } = r;
        let terminal = response_type.is_terminal();
        let status = {
            let mut st = lock(&self.state);
            if st.status.is_finished() {
                // Only the first terminal response counts: the Python worker
                // follows a CANCELATION or FAILURE with a COMPLETION.
                return false;
            }
            match response_type {
                ResponseType::Launch => st.status = TaskStatus::Running,
                ResponseType::Update => {}
                ResponseType::Completion => {
                    st.status = TaskStatus::Complete;
                    if let Some(outputs) = outputs {
                        st.outputs = outputs;
                    }
                }
                ResponseType::Cancelation => st.status = TaskStatus::Canceled,
                ResponseType::Failure => {
                    st.status = TaskStatus::Failed;
                    st.error.clone_from(&error);
                }
                ResponseType::Crash => {
                    st.status = TaskStatus::Crashed;
                    st.error.clone_from(&error);
                }
            }
            st.status
        };
        if self.routed.load(Ordering::Acquire) {
            let mut listeners = std::mem::take(&mut *lock(&self.listeners));
            let event = TaskEvent {
                response_type,
                status,
                message,
                current,
                maximum,
                info,
                error,
            };
            for l in listeners.iter_mut() {
                if catch_unwind(AssertUnwindSafe(|| l(&event))).is_err() {
                    self.service
                        .debug(format!("task {} listener panicked", self.id));
                }
            }
            if !terminal {
                // Registration is closed after start, so nothing was added meanwhile.
                *lock(&self.listeners) = listeners;
            }
            // On a terminal event the listeners drop here, releasing user data
            // before `wait` returns rather than when the last handle goes.
        }
        true
    }
}

/// A handle to a task. Clones share the task; a task keeps its service alive.
#[derive(Clone)]
pub struct Task {
    inner: Arc<TaskInner>,
    /// Keeps the service's user-side owner alive while the task is held.
    _owner: Arc<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.inner.id)
            .field("status", &self.status())
            .finish()
    }
}

impl Task {
    pub(crate) fn new(
        owner: Arc<dyn Any + Send + Sync>,
        service: Arc<dyn TaskHost>,
        id: String,
        script: String,
        inputs: Map,
        queue: Option<String>,
    ) -> Self {
        let inner = Arc::new(TaskInner {
            id,
            script,
            inputs,
            queue,
            service,
            state: Mutex::new(TaskState {
                status: TaskStatus::Initial,
                outputs: Map::new(),
                error: None,
                settled: false,
                waiters: 0,
            }),
            settled_cv: Condvar::new(),
            listeners: Mutex::new(Vec::new()),
            routed: AtomicBool::new(false),
            retained: Mutex::new(Vec::new()),
        });
        Task {
            inner,
            _owner: owner,
        }
    }

    /// The id sent to the worker (32 hex digits, like the Python client's).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    pub fn script(&self) -> &str {
        &self.inner.script
    }

    /// The inputs the task was made with.
    pub fn inputs(&self) -> &Map {
        &self.inner.inputs
    }

    pub fn queue(&self) -> Option<&str> {
        self.inner.queue.as_deref()
    }

    /// Adds a listener; only before the task starts.
    pub fn listen(&self, listener: Listener) -> Result<()> {
        self.try_listen(listener).map_err(|(e, _)| e)
    }

    /// Sends the task's events into `queue`, tagged `tag`, instead of (or
    /// beside) calling listeners; only before the task starts. Its terminal
    /// event always gets through, however full the queue.
    pub fn listen_queue(&self, queue: &crate::queue::EventQueue, tag: u64) -> Result<()> {
        self.listen_sink(queue.sink(tag))
    }

    pub(crate) fn listen_sink(&self, sink: crate::queue::Sink) -> Result<()> {
        let id = self.inner.id.clone();
        self.listen(Box::new(move |ev: &TaskEvent| {
            sink.send(crate::queue::EventKind::Task {
                task_id: id.clone(),
                event: ev.clone(),
            });
        }))
    }

    /// [`Task::listen`], giving the listener back when refused.
    pub(crate) fn try_listen(
        &self,
        listener: Listener,
    ) -> std::result::Result<(), (Error, Listener)> {
        let st = lock(&self.inner.state);
        if st.status != TaskStatus::Initial {
            let e = Error::new(
                ErrorKind::InvalidState,
                format!(
                    "listeners must be added before the task starts (task {} is {})",
                    self.inner.id,
                    st.status.as_str()
                ),
            );
            return Err((e, listener));
        }
        lock(&self.inner.listeners).push(listener);
        Ok(())
    }

    /// Sends the task to the worker (starting the service if needed).
    ///
    /// Inputs naming a shared memory block that no longer exists are refused
    /// here: the Python worker would stop answering altogether. Never blocks
    /// on the worker: a request it does not read yet waits in memory. On
    /// error the task stays INITIAL and gets no event.
    pub fn start(&self) -> Result<()> {
        let mut missing = None;
        for (_, v) in self.inner.inputs.iter() {
            v.for_each_shm(&mut |shm| {
                if missing.is_none() && !shm.exists() {
                    missing = Some(shm.name().to_owned());
                }
            });
        }
        if let Some(name) = missing {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "the inputs of task {} name shared memory block {name}, which no longer \
                     exists (sending it would make the worker stop answering)",
                    self.inner.id
                ),
            ));
        }
        {
            let mut st = lock(&self.inner.state);
            if st.status != TaskStatus::Initial {
                return Err(Error::new(
                    ErrorKind::InvalidState,
                    format!(
                        "task {} was already started (it is {})",
                        self.inner.id,
                        st.status.as_str()
                    ),
                ));
            }
            st.status = TaskStatus::Queued;
            let routed = !lock(&self.inner.listeners).is_empty();
            self.inner.routed.store(routed, Ordering::Release);
        }
        let line = protocol::execute_request(
            &self.inner.id,
            &self.inner.script,
            &self.inner.inputs,
            self.inner.queue.as_deref(),
        );
        let result = self.inner.service.submit(&self.inner, line);
        if result.is_err() {
            // Never registered: nothing else can have touched the status.
            lock(&self.inner.state).status = TaskStatus::Initial;
        }
        result
    }

    /// Waits until the task finishes (starting it if it is INITIAL).
    ///
    /// `Ok` for COMPLETE; for CANCELED, FAILED and CRASHED an error of the
    /// matching kind carrying the task's error text. A timeout returns
    /// [`ErrorKind::Timeout`] and leaves the task running.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<()> {
        if in_dispatcher() {
            return Err(Error::new(
                ErrorKind::Reentrant,
                "Task::wait called from a listener or debug callback, where it would deadlock",
            ));
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let (initial, has_listeners) = {
            let st = lock(&self.inner.state);
            (
                st.status == TaskStatus::Initial,
                !lock(&self.inner.listeners).is_empty(),
            )
        };
        // Without listeners the response settles the task on whichever
        // thread reads it: let that be this one. The right to read is taken
        // before the request goes out, so nothing else is woken to read it.
        let reading =
            !has_listeners && !self.inner.is_routed() && self.inner.service.claim_reading();
        if initial {
            if let Err(e) = self.start() {
                if reading {
                    self.inner.service.release_reading();
                }
                return Err(e);
            }
        }
        if reading {
            self.inner.service.read_until_settled(&self.inner, deadline);
        }
        let mut st = lock(&self.inner.state);
        while !st.settled {
            st.waiters += 1;
            st = match deadline {
                None => self
                    .inner
                    .settled_cv
                    .wait(st)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        st.waiters -= 1;
                        return Err(Error::new(
                            ErrorKind::Timeout,
                            format!(
                                "task {} did not finish within {:?} (it is {})",
                                self.inner.id,
                                timeout.unwrap_or_default(),
                                st.status.as_str()
                            ),
                        ));
                    }
                    self.inner
                        .settled_cv
                        .wait_timeout(st, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
            st.waiters -= 1;
        }
        let error = st.error.clone().unwrap_or_default();
        match st.status {
            TaskStatus::Complete => Ok(()),
            TaskStatus::Canceled => Err(Error::new(ErrorKind::TaskCanceled, "task was canceled")),
            TaskStatus::Failed => Err(Error::new(
                ErrorKind::TaskFailed,
                if error.is_empty() {
                    "task failed without an error message".to_owned()
                } else {
                    error
                },
            )),
            _ => Err(Error::new(ErrorKind::TaskCrashed, error)),
        }
    }

    /// Asks the worker to cancel the task (cooperative: the script must check
    /// `task.cancel_requested`). A task not yet started is canceled at once.
    pub fn cancel(&self) -> Result<()> {
        {
            let mut st = lock(&self.inner.state);
            if st.status == TaskStatus::Initial {
                st.status = TaskStatus::Canceled;
                if st.mark_settled() {
                    self.inner.settled_cv.notify_all();
                }
                return Ok(());
            }
            if st.status.is_finished() {
                return Ok(());
            }
        }
        self.inner
            .service
            .send(protocol::cancel_request(&self.inner.id))
    }

    pub fn status(&self) -> TaskStatus {
        lock(&self.inner.state).status
    }

    /// The outputs the worker reported on COMPLETION (empty before).
    pub fn outputs(&self) -> Map {
        lock(&self.inner.state).outputs.clone()
    }

    /// `outputs["result"]`, if present.
    pub fn result(&self) -> Option<Value> {
        lock(&self.inner.state).outputs.get("result").cloned()
    }

    /// The error text of a FAILED or CRASHED task.
    pub fn error(&self) -> Option<String> {
        lock(&self.inner.state).error.clone()
    }
}
