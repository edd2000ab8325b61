//! Tasks: one script run in a worker, its status, events and results.
//!
//! Thread rules. A task's state is changed by exactly one thread at a time:
//! the service's stdout reader (or its monitor, for CRASH) when the task has no
//! listeners, the service's dispatcher thread when it has. Listeners can only
//! be added before the task starts, so which path a task takes is fixed at
//! start. `wait` returns only after the listeners have seen the terminal event
//! ("settled"), and refuses to block on a dispatcher thread, where it would
//! deadlock.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::lock;
use crate::protocol::{self, Response, ResponseType};
use crate::service::{in_dispatcher, Owner, ServiceInner};
use crate::value::{Map, Value};

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
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Initial => "INITIAL",
            TaskStatus::Queued => "QUEUED",
            TaskStatus::Running => "RUNNING",
            TaskStatus::Complete => "COMPLETE",
            TaskStatus::Canceled => "CANCELED",
            TaskStatus::Failed => "FAILED",
            TaskStatus::Crashed => "CRASHED",
        }
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
}

pub(crate) struct TaskInner {
    pub(crate) id: String,
    script: String,
    inputs: Map,
    queue: Option<String>,
    service: Arc<ServiceInner>,
    state: Mutex<TaskState>,
    settled_cv: Condvar,
    listeners: Mutex<Vec<Listener>>,
    /// Fixed at start: events go through the dispatcher thread.
    routed: AtomicBool,
}

impl TaskInner {
    /// Takes a response in, on the thread the routing rule names.
    pub(crate) fn deliver(self: &Arc<Self>, r: Response) {
        if self.routed.load(Ordering::Acquire) {
            self.service.dispatch_task(self.clone(), r);
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
        // `take` consumes the response: whatever it does not keep (values
        // holding shared memory among them) is dropped before waiters wake,
        // so a waiter that frees the outputs sees their blocks go.
        if self.take(r) && terminal {
            lock(&self.state).settled = true;
            self.settled_cv.notify_all();
        }
    }

    /// Updates the state and calls the listeners; false if the response was
    /// ignored.
    fn take(&self, r: Response) -> bool {
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
                        .debug_service(|| format!("task {} listener panicked", self.id));
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
    _owner: Arc<Owner>,
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
        owner: Arc<Owner>,
        script: String,
        inputs: Map,
        queue: Option<String>,
    ) -> Self {
        let inner = Arc::new(TaskInner {
            id: uuid::Uuid::new_v4().simple().to_string(),
            script,
            inputs,
            queue,
            service: owner.inner().clone(),
            state: Mutex::new(TaskState {
                status: TaskStatus::Initial,
                outputs: Map::new(),
                error: None,
                settled: false,
            }),
            settled_cv: Condvar::new(),
            listeners: Mutex::new(Vec::new()),
            routed: AtomicBool::new(false),
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

    pub fn queue(&self) -> Option<&str> {
        self.inner.queue.as_deref()
    }

    /// Adds a listener; only before the task starts.
    pub fn listen(&self, listener: Listener) -> Result<()> {
        self.try_listen(listener).map_err(|(e, _)| e)
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
    /// here: the Python worker would stop answering altogether.
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
        let result = self
            .inner
            .service
            .start()
            .and_then(|()| self.inner.service.submit(&self.inner, line));
        if result.is_err() {
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
        if self.status() == TaskStatus::Initial {
            self.start()?;
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        if !self.inner.is_routed() {
            // Without listeners the response settles the task on whichever
            // thread reads it: let that be this one.
            self.inner.service.lead_until_settled(&self.inner, deadline);
        }
        let mut st = lock(&self.inner.state);
        while !st.settled {
            st = match deadline {
                None => self
                    .inner
                    .settled_cv
                    .wait(st)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
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
                st.settled = true;
                self.inner.settled_cv.notify_all();
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
