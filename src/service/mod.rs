//! Services: one worker process, the threads that talk to it, its tasks.
//!
//! Split by concern:
//! - [`process`]: spawning the worker in its own process group, the monitor
//!   that sees it exit and reports pending tasks CRASHED, killing it;
//! - [`writer`]: requests to its stdin, never blocking a caller;
//! - [`reader`]: its stdout (responses, routed to tasks) and stderr;
//! - [`dispatch`]: the one thread that runs every callback of the service.
//!
//! This file holds the public [`Service`] and the state the parts share.
//!
//! Threads per started service: a stdout reader, a stderr reader, a writer
//! flusher, a monitor and a dispatcher. None of them holds a lock while it
//! blocks on the worker, so `close(timeout)` and `kill` always return in
//! time. The readers, the flusher and the monitor end once the worker has
//! exited and its output is drained (a grace period bounds the wait for
//! end-of-file only); the dispatcher ends when the service is closed or
//! dropped.

mod dispatch;
mod process;
mod reader;
mod writer;

use std::any::Any;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::lines::LineReader;
use crate::lock;
use crate::protocol::Response;
use crate::queue::EventQueue;
use crate::syntax::Syntax;
use crate::task::{in_dispatcher, Task, TaskHost, TaskInner};
use crate::value::Map;

pub use dispatch::DebugListener;
use dispatch::{Dispatch, DispatchHost, DispatchQueue};
use process::{ExitInfo, Process};
use writer::Writer;

/// Most stdout/stderr lines kept per service; older ones are dropped so a
/// chatty worker cannot grow memory without bound.
const MAX_KEPT_LINES: usize = 10_000;

/// What to run: the full argv, the working directory, and environment
/// changes (`None` removes the variable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceConfig {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub env_vars: Vec<(String, Option<String>)>,
}

struct Setup {
    config: ServiceConfig,
    init_script: Option<String>,
    debug: Option<DebugListener>,
    started: bool,
}

struct Pending {
    tasks: HashMap<String, Arc<TaskInner>>,
    /// `close` was called (or every handle dropped): no new tasks.
    closed: bool,
    /// Set by the monitor once the worker is gone: no task is pending after it.
    exit: Option<ExitInfo>,
    /// The monitor has finished (crash reports delivered or queued).
    monitor_done: bool,
}

/// Turns readable, for good, once the worker has exited: every thread that
/// waits on the worker's pipes also waits on it.
/// Wakes a caller that leads reading (blocked in `poll` on the worker's
/// output) when its task may have settled without any output: an eventfd
/// polled with the pipe, drained by whoever wakes.
struct Nudge {
    fd: OwnedFd,
}

impl Nudge {
    fn new() -> std::io::Result<Self> {
        // SAFETY: plain syscall; the descriptor is owned right away.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor nobody else owns.
        let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        Ok(Nudge { fd })
    }

    fn poke(&self) {
        let one: u64 = 1;
        // SAFETY: an 8-byte write to our eventfd.
        unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    fn drain(&self) {
        let mut n: u64 = 0;
        // SAFETY: an 8-byte read from our non-blocking eventfd.
        unsafe { libc::read(self.fd.as_raw_fd(), (&mut n as *mut u64).cast(), 8) };
    }
}

struct ExitLatch {
    fd: OwnedFd,
    at: OnceLock<Instant>,
}

impl ExitLatch {
    fn new() -> std::io::Result<Self> {
        // SAFETY: plain syscall; the descriptor is owned right away.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor nobody else owns.
        let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        Ok(ExitLatch {
            fd,
            at: OnceLock::new(),
        })
    }

    fn set(&self) {
        if self.at.set(Instant::now()).is_ok() {
            let one: u64 = 1;
            // SAFETY: an 8-byte write to our eventfd.
            unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
        }
    }

    fn is_set(&self) -> bool {
        self.at.get().is_some()
    }

    fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

pub(crate) struct ServiceInner {
    id: u64,
    next_task: AtomicU64,
    setup: Mutex<Setup>,
    writer: OnceLock<Arc<Writer>>,
    /// The worker's stdout; whoever holds the lock reads it.
    stdout: Mutex<Option<LineReader>>,
    reading: reader::ReadControl,
    latch: OnceLock<ExitLatch>,
    nudge: OnceLock<Nudge>,
    process: Mutex<Option<Process>>,
    pending: Mutex<Pending>,
    pending_cv: Condvar,
    invalid_lines: Mutex<Vec<String>>,
    error_lines: Mutex<Vec<String>>,
    dispatch: OnceLock<Arc<DispatchQueue>>,
    /// Signalled by the dispatcher thread when it ends.
    dispatcher_done: Mutex<Option<crossbeam_channel::Receiver<()>>>,
    /// A debug listener is set (lines are only made when one is).
    debug_on: std::sync::atomic::AtomicBool,
    /// Why the library itself gave up on this service (a panic in one of
    /// its threads), for the crash report.
    internal_failure: Mutex<Option<String>>,
    /// Per-service prefix of task ids (random), followed by a counter.
    task_prefix: String,
    /// Queues every new task of this service sends its events to.
    queues: Mutex<Vec<crate::queue::Sink>>,
    /// The language of the worker's scripts, when known.
    syntax: Mutex<Option<Syntax>>,
    /// Worker objects waiting to be deleted in the worker.
    releases: Mutex<crate::worker_object::Releases>,
    /// The user-side owner, to tie worker objects the worker sends to it.
    owner: OnceLock<std::sync::Weak<Owner>>,
}

/// The user-side owner of a service: when the last [`Service`] or [`Task`]
/// handle goes, the worker is asked to exit (and killed if it will not).
pub(crate) struct Owner {
    inner: Arc<ServiceInner>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.inner.abandon();
    }
}

/// A [`Service`] reference that does not keep it alive.
pub(crate) struct WeakService(std::sync::Weak<Owner>);

impl WeakService {
    pub(crate) fn upgrade(&self) -> Option<Service> {
        self.0.upgrade().map(|owner| Service { owner })
    }
}

/// A worker process and the tasks it runs. Cheap to clone; clones share it.
#[derive(Clone)]
pub struct Service {
    owner: Arc<Owner>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("id", &self.owner.inner.id)
            .field("argv", &self.argv())
            .field("alive", &self.is_alive())
            .finish()
    }
}

static NEXT_SERVICE_ID: AtomicU64 = AtomicU64::new(0);

impl Service {
    /// A service that will run `config` (nothing starts until [`Service::start`]
    /// or the first task).
    pub fn new(config: ServiceConfig) -> Self {
        let random = uuid::Uuid::new_v4().simple().to_string();
        let inner = Arc::new(ServiceInner {
            id: NEXT_SERVICE_ID.fetch_add(1, Ordering::Relaxed),
            next_task: AtomicU64::new(0),
            setup: Mutex::new(Setup {
                config,
                init_script: None,
                debug: None,
                started: false,
            }),
            writer: OnceLock::new(),
            stdout: Mutex::new(None),
            reading: reader::ReadControl::default(),
            latch: OnceLock::new(),
            nudge: OnceLock::new(),
            process: Mutex::new(None),
            pending: Mutex::new(Pending {
                tasks: HashMap::new(),
                closed: false,
                exit: None,
                monitor_done: false,
            }),
            pending_cv: Condvar::new(),
            invalid_lines: Mutex::new(Vec::new()),
            error_lines: Mutex::new(Vec::new()),
            dispatch: OnceLock::new(),
            dispatcher_done: Mutex::new(None),
            debug_on: std::sync::atomic::AtomicBool::new(false),
            internal_failure: Mutex::new(None),
            task_prefix: random[..16].to_owned(),
            queues: Mutex::new(Vec::new()),
            syntax: Mutex::new(None),
            releases: Mutex::default(),
            owner: OnceLock::new(),
        });
        let owner = Arc::new(Owner { inner });
        let _ = owner.inner.owner.set(Arc::downgrade(&owner));
        Service { owner }
    }

    /// The command line the worker runs (or will run).
    pub fn argv(&self) -> Vec<String> {
        lock(&self.owner.inner.setup).config.argv.clone()
    }

    /// Sets a script the worker runs before reading requests; its public names
    /// are visible to every task. Only before start.
    pub fn init(&self, script: &str) -> Result<()> {
        let mut setup = self.owner.inner.setup_before_start("init")?;
        setup.init_script = Some(script.to_owned());
        Ok(())
    }

    /// Sets or removes (`None`) an environment variable of the worker. Only
    /// before start.
    pub fn env_var(&self, key: &str, value: Option<&str>) -> Result<()> {
        if key.is_empty() || key.contains('=') || key.contains('\0') {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("invalid environment variable name {key:?}"),
            ));
        }
        let mut setup = self.owner.inner.setup_before_start("env_var")?;
        setup
            .config
            .env_vars
            .push((key.to_owned(), value.map(str::to_owned)));
        Ok(())
    }

    /// Sets the debug listener. Only before start.
    pub fn debug(&self, listener: DebugListener) -> Result<()> {
        self.try_debug(listener).map_err(|(e, _)| e)
    }

    /// [`Service::debug`], giving the listener back when refused.
    pub(crate) fn try_debug(
        &self,
        listener: DebugListener,
    ) -> std::result::Result<(), (Error, DebugListener)> {
        let inner = &self.owner.inner;
        let mut setup = lock(&inner.setup);
        if !setup.started {
            setup.debug = Some(listener);
            return Ok(());
        }
        drop(setup);
        // Started: the dispatcher swaps it in, in order with the lines
        // already queued (which the previous listener, if any, receives),
        // and drops the previous one on its own thread.
        let closed = || {
            Error::new(
                ErrorKind::ServiceClosed,
                "the service is closed: its debug listener can no longer change",
            )
        };
        let Some(queue) = inner.dispatch.get() else {
            return Err((closed(), listener));
        };
        match queue.push_debug(listener) {
            Ok(()) => {
                inner.debug_on.store(true, Ordering::Release);
                Ok(())
            }
            Err(listener) => Err((closed(), listener)),
        }
    }

    /// Waits up to `timeout` (`None`: no limit) for the worker to exit by
    /// itself, without closing its stdin (unlike [`Service::close`]); its
    /// exit code (128 + signal when killed), `None` when unknown or never
    /// started. [`ErrorKind::Timeout`] when it is still running.
    pub fn wait_exit(&self, timeout: Option<Duration>) -> Result<Option<i32>> {
        let inner = &self.owner.inner;
        if in_dispatcher() {
            return Err(Error::new(
                ErrorKind::Reentrant,
                "Service::wait_exit called from a listener or debug callback, where it would deadlock",
            ));
        }
        if !lock(&inner.setup).started {
            return Ok(None);
        }
        inner
            .wait_monitor(timeout.map(|t| Instant::now() + t))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the worker is still running after {:?}",
                        timeout.unwrap_or_default()
                    ),
                )
            })
    }

    /// Starts the worker process (no-op when already started).
    pub fn start(&self) -> Result<()> {
        self.owner.inner.start()
    }

    /// A new task (INITIAL: add listeners, then `start` or `wait`). Starts
    /// the service if needed, so a worker that cannot run is reported here.
    pub fn task(&self, script: &str, inputs: Option<Map>, queue: Option<&str>) -> Result<Task> {
        self.start()?;
        let inner = &self.owner.inner;
        // Unique per service, like the peers' random ids, without a system
        // call per task.
        let id = format!(
            "{}{:016x}",
            inner.task_prefix,
            inner.next_task.fetch_add(1, Ordering::Relaxed)
        );
        let owner: Arc<dyn Any + Send + Sync> = self.owner.clone();
        let host: Arc<dyn TaskHost> = inner.clone();
        let task = Task::new(
            owner,
            host,
            id,
            script.to_owned(),
            inputs.unwrap_or_default(),
            queue.map(str::to_owned),
        );
        for sink in lock(&inner.queues).iter() {
            task.listen_sink(sink.clone())?;
        }
        Ok(task)
    }

    /// The language of the worker's scripts (set by `Environment::python`
    /// and `groovy`; `None` for a custom worker until named).
    pub fn syntax(&self) -> Option<Syntax> {
        *lock(&self.owner.inner.syntax)
    }

    /// Names the language of the worker's scripts, for [`Service::get_var`],
    /// [`Service::call`] and worker objects.
    pub fn set_syntax(&self, syntax: Option<Syntax>) {
        *lock(&self.owner.inner.syntax) = syntax;
    }

    /// See `ServiceInner::fail_by_thread_death` (reader.rs).
    pub(crate) fn deliver_held_death(&self, task: &str) {
        self.owner.inner.fail_by_thread_death(task);
    }

    /// A reference that does not keep the service alive.
    pub(crate) fn downgrade(&self) -> WeakService {
        WeakService(Arc::downgrade(&self.owner))
    }

    pub(crate) fn same_as(&self, other: &Service) -> bool {
        Arc::ptr_eq(&self.owner.inner, &other.owner.inner)
    }

    pub(crate) fn releases(&self) -> &Mutex<crate::worker_object::Releases> {
        &self.owner.inner.releases
    }

    /// Sends the events of every task this service makes from now on into
    /// `queue`, tagged `tag` (each event also names its task).
    pub fn listen_queue(&self, queue: &EventQueue, tag: u64) {
        lock(&self.owner.inner.queues).push(queue.sink(tag));
    }

    /// Starts closing (as [`Service::close`]) on a thread of its own and
    /// returns at once; `done` gets the outcome there (that thread runs the
    /// thread hooks, see [`crate::threads`]).
    pub fn close_then(
        &self,
        timeout: Option<Duration>,
        done: impl FnOnce(Result<Option<i32>>) + Send + 'static,
    ) -> Result<()> {
        let me = self.clone();
        crate::threads::spawn_host_thread(
            format!("appose-{}-close", self.owner.inner.id),
            move || done(me.close(timeout)),
        )
        .map(drop)
        .map_err(|e| Error::io("cannot start a thread to close the service", e))
    }

    /// Starts closing without blocking; the outcome arrives in `queue` as an
    /// [`EventKind::Closed`](crate::EventKind::Closed) tagged `tag`.
    pub fn close_async(
        &self,
        timeout: Option<Duration>,
        queue: &EventQueue,
        tag: u64,
    ) -> Result<()> {
        let sink = queue.sink(tag);
        self.close_then(timeout, move |result| {
            sink.send(crate::queue::EventKind::Closed { result });
        })
    }

    /// Closes the worker's stdin (the Python worker then finishes its running
    /// tasks and exits) and waits for it to exit. When `timeout` runs out the
    /// process group is killed. Returns the exit code (128 + signal when
    /// killed), or `None` if the service was never started.
    ///
    /// Every callback about the worker has returned when `close` returns,
    /// unless a listener is still running `timeout` after the worker is
    /// gone: then [`ErrorKind::ListenerBusy`] says so (the exit code is in
    /// [`Service::exit_code`]), and the remaining callbacks run later, on
    /// the dispatcher thread, which ends after them. Either way the worker
    /// is gone.
    pub fn close(&self, timeout: Option<Duration>) -> Result<Option<i32>> {
        let inner = &self.owner.inner;
        if in_dispatcher() {
            return Err(Error::new(
                ErrorKind::Reentrant,
                "Service::close called from a listener or debug callback, where it would deadlock",
            ));
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        lock(&inner.pending).closed = true;
        if !lock(&inner.setup).started {
            return Ok(None);
        }
        if let Some(w) = inner.writer.get() {
            w.close();
        }
        let code = match inner.wait_monitor(deadline) {
            Some(code) => code,
            None => {
                inner.debug_service(|| {
                    format!("<worker did not exit within {timeout:?}: killing it>")
                });
                inner.kill();
                // The monitor ends once the output is drained, which the
                // grace period bounds.
                inner.wait_monitor(None).flatten()
            }
        };
        // Every callback about the worker's life, its exit included, has
        // run before close returns: callers may tear down what they use. A
        // listener gets `timeout` from here to return.
        let deadline = timeout.map(|t| Instant::now() + t);
        if let Some(queue) = inner.dispatch.get() {
            let drained = queue.drain(deadline);
            queue.close();
            let ended = drained && {
                let done = lock(&inner.dispatcher_done).take();
                match done {
                    Some(rx) => match deadline {
                        None => {
                            let _ = rx.recv();
                            true
                        }
                        Some(d) => rx.recv_deadline(d).is_ok(),
                    },
                    None => true,
                }
            };
            if !ended {
                return Err(Error::new(
                    ErrorKind::ListenerBusy,
                    format!(
                        "the worker exited{} but a listener was still running after {:?}; \
                         the remaining callbacks run when it returns",
                        code.map(|c| format!(" with code {c}")).unwrap_or_default(),
                        timeout.unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(code)
    }

    /// Kills the worker's process group at once. Pending tasks end CRASHED.
    pub fn kill(&self) {
        self.owner.inner.kill();
    }

    /// True while the worker process runs.
    pub fn is_alive(&self) -> bool {
        lock(&self.owner.inner.process)
            .as_ref()
            .is_some_and(|p| !p.exited)
    }

    /// The worker's process id, once started.
    pub fn pid(&self) -> Option<u32> {
        lock(&self.owner.inner.process)
            .as_ref()
            .map(|p| p.pid as u32)
    }

    /// The worker's exit code (128 + signal when killed) once it has exited
    /// and been reaped; `None` before, or when nobody could learn it.
    pub fn exit_code(&self) -> Option<i32> {
        lock(&self.owner.inner.pending)
            .exit
            .as_ref()
            .and_then(|e| e.code)
    }

    /// Lines of worker stdout that were not responses (the last 10,000).
    pub fn invalid_lines(&self) -> Vec<String> {
        lock(&self.owner.inner.invalid_lines).clone()
    }

    /// Lines the worker wrote to stderr (the last 10,000).
    pub fn error_lines(&self) -> Vec<String> {
        lock(&self.owner.inner.error_lines).clone()
    }
}

impl ServiceInner {
    /// A user-side handle to this service, while one exists.
    pub(crate) fn user_handle(&self) -> Option<Service> {
        let owner = self.owner.get()?.upgrade()?;
        Some(Service { owner })
    }

    fn setup_before_start(&self, what: &str) -> Result<std::sync::MutexGuard<'_, Setup>> {
        let setup = lock(&self.setup);
        if setup.started {
            return Err(Error::new(
                ErrorKind::InvalidState,
                format!("{what} must be set before the service starts"),
            ));
        }
        Ok(setup)
    }

    fn latch_is_set(&self) -> bool {
        self.latch.get().is_some_and(ExitLatch::is_set)
    }

    /// Waits for the monitor to finish: `Some(exit code)` (itself `None`
    /// when unknown), or `None` if `deadline` passed first.
    fn wait_monitor(&self, deadline: Option<Instant>) -> Option<Option<i32>> {
        let mut pending = lock(&self.pending);
        loop {
            if pending.monitor_done {
                return Some(pending.exit.as_ref().and_then(|e| e.code));
            }
            pending = match deadline {
                None => self
                    .pending_cv
                    .wait(pending)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let left = d.checked_duration_since(Instant::now())?;
                    self.pending_cv
                        .wait_timeout(pending, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Queues a callback for the dispatcher thread (held back in the
    /// reader's batch when called while reading).
    fn dispatch_one(&self, d: Dispatch) {
        if let Some(d) = reader::hold_in_batch(d) {
            if let Some(queue) = self.dispatch.get() {
                queue.push(d);
            }
        }
    }

    pub(crate) fn debug_service(&self, message: impl FnOnce() -> String) {
        self.debug_line("SERVICE", message);
    }

    fn debug_line(&self, who: &str, message: impl FnOnce() -> String) {
        if !self.debug_on.load(Ordering::Acquire) {
            return;
        }
        self.dispatch_one(Dispatch::Debug(format!(
            "[{who}-{}] {}",
            self.id,
            message()
        )));
    }

    /// The last user handle is gone: ask the worker to exit, kill it if it
    /// does not within [`process::ABANDON_GRACE`].
    fn abandon(self: &Arc<Self>) {
        let monitor_done = {
            let mut pending = lock(&self.pending);
            pending.closed = true;
            pending.monitor_done
        };
        if !lock(&self.setup).started || monitor_done {
            if let Some(queue) = self.dispatch.get() {
                queue.close();
            }
            return;
        }
        if let Some(w) = self.writer.get() {
            w.close();
        }
        let me = self.clone();
        let _ = std::thread::Builder::new()
            .name(format!("appose-{}-reaper", self.id))
            .spawn(move || {
                let deadline = Instant::now() + process::ABANDON_GRACE;
                if me.wait_monitor(Some(deadline)).is_none() {
                    me.kill();
                    me.wait_monitor(None);
                }
                if let Some(queue) = me.dispatch.get() {
                    queue.close();
                }
            });
    }

    /// A request line as written (its newline added, no copy), and the text
    /// for the debug listener when there is one.
    fn request_bytes(&self, line: String) -> (Vec<u8>, Option<String>) {
        let shown = self.debug_on.load(Ordering::Acquire).then(|| line.clone());
        let mut bytes = line.into_bytes();
        bytes.push(b'\n');
        (bytes, shown)
    }

    /// The library failed inside one of this service's threads: the worker
    /// is killed and its pending tasks end CRASHED with `why` in the report.
    fn fail_internally(&self, why: String) {
        self.debug_service(|| format!("<internal failure: {why}>"));
        lock(&self.internal_failure).get_or_insert(why);
        self.kill();
    }
}

impl TaskHost for ServiceInner {
    fn submit(&self, task: &Arc<TaskInner>, line: String) -> Result<()> {
        let (bytes, shown) = self.request_bytes(line);
        {
            // One critical section decides the task's fate: refused (no
            // event, ever), crashed at once (the worker is gone), or pending.
            let mut pending = lock(&self.pending);
            if pending.closed {
                return Err(writer::closed_error());
            }
            if let Some(exit) = &pending.exit {
                let message = exit.crash_message.clone();
                drop(pending);
                task.deliver(Response::crash(&task.id, message));
                return Ok(());
            }
            let Some(writer) = self.writer.get() else {
                return Err(Error::new(
                    ErrorKind::InvalidState,
                    "the service was never started",
                ));
            };
            pending.tasks.insert(task.id.clone(), task.clone());
            if let Err(e) = writer.send(bytes) {
                pending.tasks.remove(&task.id);
                return Err(e);
            }
        }
        self.reading.output_expected();
        if let Some(line) = shown {
            self.debug_service(|| line);
        }
        Ok(())
    }

    fn send(&self, line: String) -> Result<()> {
        let (bytes, shown) = self.request_bytes(line);
        let Some(writer) = self.writer.get() else {
            return Err(writer::closed_error());
        };
        writer.send(bytes)?;
        if let Some(line) = shown {
            self.debug_service(|| line);
        }
        Ok(())
    }

    fn dispatch(&self, task: Arc<TaskInner>, r: Response) {
        self.dispatch_one(Dispatch::Task(task, r));
    }

    fn claim_reading(&self) -> bool {
        self.reading.claim()
    }

    fn release_reading(&self) {
        self.reading.release(self);
    }

    fn read_until_settled(&self, task: &TaskInner, deadline: Option<Instant>) {
        self.lead_until_settled(task, deadline);
    }

    fn debug(&self, message: String) {
        self.debug_service(|| message);
    }
}

impl DispatchHost for ServiceInner {
    fn internal_failure(&self, why: String) {
        self.fail_internally(why);
    }
}

impl Drop for ServiceInner {
    fn drop(&mut self) {
        if let Some(queue) = self.dispatch.get() {
            queue.close();
        }
    }
}

fn push_bounded(lines: &Mutex<Vec<String>>, line: String) {
    let mut lines = lock(lines);
    if lines.len() >= MAX_KEPT_LINES {
        lines.drain(..MAX_KEPT_LINES / 10);
    }
    lines.push(line);
}
