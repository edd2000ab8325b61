//! Services: one worker process, the threads that talk to it, its tasks.
//!
//! Threads per started service:
//! - callers write requests, one line each, under the `stdin` lock;
//! - a stdout reader parses responses and hands each to its task (directly
//!   when the task has no listeners). While a caller waits for a task without
//!   listeners, that caller reads stdout itself instead (one caller at a
//!   time; see [`ServiceInner::lead_until_settled`]): its response wakes it
//!   straight from the pipe, with no thread hand-over in between;
//! - a stderr reader keeps the worker's error lines;
//! - a monitor waits for the process to exit, lets both readers drain to EOF,
//!   then marks every pending task CRASHED with the peers' crash report;
//! - one dispatcher thread runs every callback of the service (task listeners,
//!   debug listener) in order, never two at once, never on a caller's thread.
//!   The reader hands it events in batches (all the lines it has buffered)
//!   through a mutex-and-condvar queue that never spins.
//!
//! The worker runs in its own process group. `kill` signals the whole group,
//! and when the worker exits whatever is left of its group is killed too, so
//! a launcher (`pixi run`) or a task's child process cannot outlive it or hold
//! its pipes open. The group id is only signalled while the worker is not yet
//! reaped, so it can never name a recycled process.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::error::{Error, ErrorKind, Result};
use crate::lines::{self, trim_eol, Fill, Line, LineReader};
use crate::lock;
use crate::protocol::{self, NotAResponse, Response};
use crate::task::{Task, TaskInner};
use crate::value::{self, BlockOwner, Map, Value};

/// How long the monitor lets the output readers drain after the worker exits.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// How long a worker whose every handle was dropped may take to exit after
/// its stdin is closed, before it is killed.
const ABANDON_GRACE: Duration = Duration::from_secs(10);

/// Most stdout/stderr lines kept per service; older ones are dropped so a
/// chatty worker cannot grow memory without bound.
const MAX_KEPT_LINES: usize = 10_000;

/// Longest stdout line read whole (a response with a 100 MB string fits).
/// Longer lines are skipped without being buffered and reported invalid.
const MAX_LINE: usize = 256 << 20;

/// Bytes of an invalid line kept for `invalid_lines` and crash reports.
const MAX_KEPT_LINE: usize = 4096;

thread_local! {
    static IN_DISPATCHER: Cell<bool> = const { Cell::new(false) };
}

/// True on a dispatcher thread, i.e. inside a listener or debug callback.
pub(crate) fn in_dispatcher() -> bool {
    IN_DISPATCHER.with(Cell::get)
}

/// A debug listener: receives `[SERVICE-n] ...` and `[WORKER-n] ...` lines.
pub type DebugListener = Box<dyn FnMut(&str) + Send>;

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

struct Process {
    pid: libc::pid_t,
    exited: bool,
    reaped: bool,
}

/// How the worker ended.
#[derive(Clone, Debug)]
struct ExitInfo {
    code: i32,
    crash_message: String,
}

struct Pending {
    tasks: HashMap<String, Arc<TaskInner>>,
    /// Set by the monitor once the worker is gone: no task is pending after it.
    exit: Option<ExitInfo>,
    /// The monitor has finished (crash reports delivered or queued).
    monitor_done: bool,
}

enum Dispatch {
    Task(Arc<TaskInner>, Response),
    Debug(String),
    /// What a stdout reader gathered from the lines it had buffered: one
    /// wake-up of the dispatcher instead of one per event.
    Batch(Vec<Dispatch>),
    /// Signals once everything queued before it has been delivered.
    Barrier(Sender<()>),
}

/// How long the reader thread rests, unless woken, once a caller has taken
/// over reading stdout. Whatever nobody waits for (a task whose caller never
/// calls `wait`, stray output) is read at the latest this long after the
/// last caller stopped reading.
const REST: Duration = Duration::from_millis(10);

/// Output that keeps arriving within this long of the reader thread looking
/// for it, [`STREAM_READS`] reads in a row, is a stream: the reader thread
/// then takes it in gulps, pausing [`COALESCE`] before each read.
const STREAM_GAP: Duration = Duration::from_micros(100);
const STREAM_READS: u32 = 8;
const COALESCE: Duration = Duration::from_micros(200);

#[derive(Default)]
struct Rest {
    resting: bool,
    woken: bool,
}

/// Most dispatches a reader holds back before handing them over.
const MAX_BATCH: usize = 256;

thread_local! {
    /// Set on a stdout reader thread while it works through buffered lines.
    static BATCH: std::cell::RefCell<Option<Vec<Dispatch>>> = const { std::cell::RefCell::new(None) };
}

pub(crate) struct ServiceInner {
    id: u64,
    setup: Mutex<Setup>,
    stdin: Mutex<Option<ChildStdin>>,
    /// The worker's stdout; whoever holds the lock reads it.
    stdout: Mutex<Option<LineReader>>,
    /// A caller is reading stdout for its own task (at most one at a time).
    waiter_leading: AtomicBool,
    /// Where the reader thread rests while callers read (see `read_stdout`).
    reader_rest: Mutex<Rest>,
    reader_cv: Condvar,
    process: Mutex<Option<Process>>,
    pending: Mutex<Pending>,
    pending_cv: Condvar,
    invalid_lines: Mutex<Vec<String>>,
    error_lines: Mutex<Vec<String>>,
    dispatch: OnceLock<Arc<DispatchQueue>>,
    debug_on: OnceLock<bool>,
    /// `close` was called (or every handle dropped): no new tasks.
    closed: AtomicBool,
}

/// The user-side owner of a service: when the last [`Service`] or [`Task`]
/// handle goes, the worker is asked to exit (and killed if it will not).
pub(crate) struct Owner {
    inner: Arc<ServiceInner>,
}

impl Owner {
    pub(crate) fn inner(&self) -> &Arc<ServiceInner> {
        &self.inner
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.inner.abandon();
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
        let inner = Arc::new(ServiceInner {
            id: NEXT_SERVICE_ID.fetch_add(1, Ordering::Relaxed),
            setup: Mutex::new(Setup {
                config,
                init_script: None,
                debug: None,
                started: false,
            }),
            stdin: Mutex::new(None),
            stdout: Mutex::new(None),
            waiter_leading: AtomicBool::new(false),
            reader_rest: Mutex::new(Rest::default()),
            reader_cv: Condvar::new(),
            process: Mutex::new(None),
            pending: Mutex::new(Pending {
                tasks: HashMap::new(),
                exit: None,
                monitor_done: false,
            }),
            pending_cv: Condvar::new(),
            invalid_lines: Mutex::new(Vec::new()),
            error_lines: Mutex::new(Vec::new()),
            dispatch: OnceLock::new(),
            debug_on: OnceLock::new(),
            closed: AtomicBool::new(false),
        });
        Service {
            owner: Arc::new(Owner { inner }),
        }
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
        match self.owner.inner.setup_before_start("debug") {
            Ok(mut setup) => {
                setup.debug = Some(listener);
                Ok(())
            }
            Err(e) => Err((e, listener)),
        }
    }

    /// Starts the worker process (no-op when already started).
    pub fn start(&self) -> Result<()> {
        self.owner.inner.start()
    }

    /// A new task (INITIAL: add listeners, then `start` or `wait`). Starts
    /// the service if needed, so a worker that cannot run is reported here.
    pub fn task(&self, script: &str, inputs: Option<Map>, queue: Option<&str>) -> Result<Task> {
        self.start()?;
        Ok(Task::new(
            self.owner.clone(),
            script.to_owned(),
            inputs.unwrap_or_default(),
            queue.map(str::to_owned),
        ))
    }

    /// Closes the worker's stdin (the Python worker then finishes its running
    /// tasks and exits) and waits for it to exit. After `timeout` the process
    /// group is killed. Returns the exit code (128 + signal when killed), or
    /// `None` if the service was never started.
    pub fn close(&self, timeout: Option<Duration>) -> Result<Option<i32>> {
        let inner = &self.owner.inner;
        if in_dispatcher() {
            return Err(Error::new(
                ErrorKind::Reentrant,
                "Service::close called from a listener or debug callback, where it would deadlock",
            ));
        }
        inner.closed.store(true, Ordering::Release);
        if !lock(&inner.setup).started {
            return Ok(None);
        }
        lock(&inner.stdin).take();
        let code = match inner.wait_monitor(timeout) {
            Some(code) => Some(code),
            None => {
                inner.debug_service(|| {
                    format!("<worker did not exit within {timeout:?}: killing it>")
                });
                inner.kill();
                inner.wait_monitor(None)
            }
        };
        // Every callback about the worker's life, its exit included, has
        // returned before close does: callers may tear down what they use.
        inner.drain_dispatcher();
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

    pub(crate) fn start(self: &Arc<Self>) -> Result<()> {
        let mut setup = lock(&self.setup);
        if setup.started {
            return Ok(());
        }
        let config = setup.config.clone();
        if config.argv.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "a worker command needs at least a program",
            ));
        }
        let mut cmd = Command::new(&config.argv[0]);
        cmd.args(&config.argv[1..])
            .current_dir(&config.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        for (k, v) in &config.env_vars {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let init_file = match &setup.init_script {
            Some(script) => {
                let path = write_init_script(script)?;
                cmd.env("APPOSE_INIT_SCRIPT", &path);
                Some(path)
            }
            None => None,
        };
        let mut child = cmd.spawn().map_err(|e| {
            if let Some(p) = &init_file {
                let _ = std::fs::remove_file(p);
            }
            Error::io(
                format!(
                    "cannot start worker {:?} in {}",
                    config.argv,
                    config.cwd.display()
                ),
                e,
            )
        })?;
        let pid = child.id() as libc::pid_t;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            unreachable!("all three streams were piped");
        };
        *lock(&self.stdin) = Some(stdin);
        *lock(&self.process) = Some(Process {
            pid,
            exited: false,
            reaped: false,
        });
        let stdout = LineReader::new(OwnedFd::from(stdout), MAX_LINE);
        setup.started = true;
        let debug = setup.debug.take();
        let _ = self.debug_on.set(debug.is_some());
        drop(setup);

        let queue = Arc::new(DispatchQueue::default());
        let (drained_tx, drained_rx) = crossbeam_channel::bounded(2);
        let name = |what: &str| format!("appose-{}-{what}", self.id);
        let spawned = (|| -> std::io::Result<()> {
            *lock(&self.stdout) = Some(stdout?);
            std::thread::Builder::new().name(name("dispatch")).spawn({
                let queue = queue.clone();
                move || dispatch_loop(&queue, debug)
            })?;
            // Only a queue with a thread behind it takes dispatches.
            let _ = self.dispatch.set(queue);
            let me = self.clone();
            let tx = drained_tx.clone();
            std::thread::Builder::new()
                .name(name("stdout"))
                .spawn(move || me.read_stdout(tx))?;
            let me = self.clone();
            std::thread::Builder::new()
                .name(name("stderr"))
                .spawn(move || me.read_stderr(stderr, drained_tx))?;
            let me = self.clone();
            std::thread::Builder::new()
                .name(name("monitor"))
                .spawn(move || me.monitor(child, drained_rx, init_file))?;
            Ok(())
        })();
        if let Err(e) = spawned {
            // Without its threads the worker is of no use: end it. Whatever
            // threads did start see EOF and finish.
            self.kill();
            return Err(Error::io("cannot start the service's threads", e));
        }
        self.debug_service(|| format!("worker started: pid {pid}, argv {:?}", config.argv));
        Ok(())
    }

    /// Registers `task` as pending and writes its request.
    pub(crate) fn submit(&self, task: &Arc<TaskInner>, line: String) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed_error());
        }
        {
            let mut pending = lock(&self.pending);
            if let Some(exit) = &pending.exit {
                let message = exit.crash_message.clone();
                drop(pending);
                task.deliver(Response::crash(&task.id, message));
                return Ok(());
            }
            pending.tasks.insert(task.id.clone(), task.clone());
        }
        if task.is_routed() {
            // Its events must flow whether or not anybody waits.
            self.wake_reader();
        }
        match self.send(line) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::ServiceClosed => {
                lock(&self.pending).tasks.remove(&task.id);
                Err(e)
            }
            // The worker is gone (EPIPE): the monitor will report the task
            // CRASHED with the worker's exit code and output.
            Err(_) => Ok(()),
        }
    }

    /// Writes one request line.
    pub(crate) fn send(&self, mut line: String) -> Result<()> {
        line.push('\n');
        let mut stdin = lock(&self.stdin);
        let Some(pipe) = stdin.as_mut() else {
            return Err(closed_error());
        };
        let result = write_without_sigpipe(pipe, line.as_bytes());
        drop(stdin);
        if self.debug_on.get() == Some(&true) {
            line.pop();
            self.debug_service(|| line);
        }
        result.map_err(|e| Error::io("cannot write to the worker", e))
    }

    pub(crate) fn dispatch_task(&self, task: Arc<TaskInner>, r: Response) {
        self.dispatch(Dispatch::Task(task, r));
    }

    /// Queues a callback for the dispatcher thread (held back in the batch
    /// when called on this service's stdout reader).
    fn dispatch(&self, d: Dispatch) {
        let d = BATCH.with(|b| match b.borrow_mut().as_mut() {
            Some(batch) => {
                batch.push(d);
                None
            }
            None => Some(d),
        });
        if let (Some(d), Some(queue)) = (d, self.dispatch.get()) {
            queue.push(d);
        }
    }

    /// Waits until the dispatcher has delivered everything queued so far.
    fn drain_dispatcher(&self) {
        if let Some(queue) = self.dispatch.get() {
            let (tx, rx) = crossbeam_channel::bounded(1);
            queue.push(Dispatch::Barrier(tx));
            let _ = rx.recv();
        }
    }

    /// Hands the reader's batch to the dispatcher (and keeps batching when
    /// `more` lines are already buffered).
    fn flush_batch(&self, more: bool) {
        let batch = BATCH.with(|b| {
            let mut b = b.borrow_mut();
            match b.as_mut() {
                Some(v) if !more || v.len() >= MAX_BATCH => Some(std::mem::take(v)),
                _ => None,
            }
        });
        if let (Some(batch), Some(queue)) = (batch, self.dispatch.get()) {
            if !batch.is_empty() {
                queue.push(Dispatch::Batch(batch));
            }
        }
    }

    pub(crate) fn debug_service(&self, message: impl FnOnce() -> String) {
        self.debug("SERVICE", message);
    }

    fn debug(&self, who: &str, message: impl FnOnce() -> String) {
        if self.debug_on.get() != Some(&true) {
            return;
        }
        self.dispatch(Dispatch::Debug(format!(
            "[{who}-{}] {}",
            self.id,
            message()
        )));
    }

    fn kill(&self) {
        if let Some(p) = lock(&self.process).as_ref() {
            if !p.reaped {
                // SAFETY: plain syscall; the group id is our unreaped child's pid.
                unsafe { libc::killpg(p.pid, libc::SIGKILL) };
            }
        }
    }

    /// Waits for the monitor to finish; the exit code, or `None` on timeout.
    fn wait_monitor(&self, timeout: Option<Duration>) -> Option<i32> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut pending = lock(&self.pending);
        loop {
            if pending.monitor_done {
                return pending.exit.as_ref().map(|e| e.code);
            }
            pending = match deadline {
                None => self
                    .pending_cv
                    .wait(pending)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return None;
                    }
                    self.pending_cv
                        .wait_timeout(pending, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// The last user handle is gone: ask the worker to exit, kill it if it
    /// does not within [`ABANDON_GRACE`].
    fn abandon(self: &Arc<Self>) {
        self.closed.store(true, Ordering::Release);
        if !lock(&self.setup).started {
            return;
        }
        lock(&self.stdin).take();
        let me = self.clone();
        let _ = std::thread::Builder::new()
            .name(format!("appose-{}-reaper", self.id))
            .spawn(move || {
                if me.wait_monitor(Some(ABANDON_GRACE)).is_none() {
                    me.kill();
                }
            });
    }

    /// The reader thread: reads whenever no caller does, until end of output.
    ///
    /// When a caller takes over (see [`ServiceInner::lead_until_settled`]) it
    /// rests instead of polling the pipe alongside, so a caller running one
    /// task after another has the pipe to itself. It is woken early when
    /// output needs it: a caller stops reading while other tasks are pending,
    /// a task with listeners is sent, or the worker exits.
    fn read_stdout(self: Arc<Self>, drained: Sender<()>) {
        BATCH.with(|b| *b.borrow_mut() = Some(Vec::new()));
        // (A statement of its own: the guard must be gone before the loop.)
        let fd = lock(&self.stdout).as_ref().map(LineReader::raw_fd);
        if let Some(fd) = fd {
            self.read_until_end(fd);
        }
        self.debug_service(|| "<worker stdout closed>".to_owned());
        self.flush_batch(false);
        BATCH.with(|b| *b.borrow_mut() = None);
        let _ = drained.send(());
    }

    /// The reader thread's loop over the worker's stdout (`fd`), until end
    /// of output or a read error; closes the pipe then.
    fn read_until_end(&self, fd: RawFd) {
        // Reads in a row that found output already there or nearly so.
        let mut streak = 0;
        loop {
            if self.waiter_leading.load(Ordering::Acquire) {
                self.rest();
                continue;
            }
            if streak >= STREAM_READS {
                // The worker is streaming (UPDATEs in a loop): let lines
                // gather instead of waking this thread, and the dispatcher,
                // for every one. Costs the stream at most this much latency.
                std::thread::sleep(COALESCE);
            }
            // Wait without the lock, so a caller can take over meanwhile.
            let waiting = Instant::now();
            lines::wait_readable(fd, None);
            let waited = waiting.elapsed();
            if self.waiter_leading.load(Ordering::Acquire) {
                continue;
            }
            let mut guard = lock(&self.stdout);
            let Some(reader) = guard.as_mut() else { return };
            let fill = reader.fill();
            self.handle_lines(reader);
            self.flush_batch(false);
            match fill {
                Ok(Fill::Data) => {
                    streak = if waited < STREAM_GAP { streak + 1 } else { 0 };
                    continue;
                }
                Ok(Fill::Empty) => continue,
                Ok(Fill::Eof) => {}
                Err(e) => self.debug_service(|| format!("<cannot read worker stdout: {e}>")),
            }
            // Closes our end of the pipe.
            *guard = None;
            break;
        }
    }

    /// The reader thread rests until woken or [`REST`] passes.
    fn rest(&self) {
        let mut rest = lock(&self.reader_rest);
        rest.resting = true;
        let deadline = Instant::now() + REST;
        while !rest.woken {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            rest = self
                .reader_cv
                .wait_timeout(rest, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        rest.resting = false;
        rest.woken = false;
    }

    /// Wakes the reader thread if it rests (no system call otherwise).
    fn wake_reader(&self) {
        let mut rest = lock(&self.reader_rest);
        if rest.resting && !rest.woken {
            rest.woken = true;
            self.reader_cv.notify_one();
        }
    }

    /// Reads the worker's stdout on the calling thread until `task` has
    /// settled, `deadline` passes or the output ends, handling every line on
    /// the way (other tasks' responses included). A caller blocked in `wait`
    /// is then woken by the pipe itself rather than by the reader thread: one
    /// wake-up per response instead of two. Returns at once when another
    /// caller is already reading; that caller then settles this task too.
    pub(crate) fn lead_until_settled(&self, task: &TaskInner, deadline: Option<Instant>) {
        if task.is_settled()
            || self
                .waiter_leading
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return;
        }
        let _lead = Lead(self);
        let mut guard = lock(&self.stdout);
        let Some(reader) = guard.as_mut() else { return };
        BATCH.with(|b| *b.borrow_mut() = Some(Vec::new()));
        // Lines the reader thread read but had not handled yet come first.
        self.handle_lines(reader);
        while !task.is_settled() && !reader.is_eof() {
            self.flush_batch(false);
            let timeout = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => break,
                },
            };
            if lines::wait_readable(reader.raw_fd(), timeout) {
                let fill = reader.fill();
                self.handle_lines(reader);
                if fill.is_err() {
                    // The reader thread meets the same error and reports it.
                    break;
                }
            }
        }
        self.flush_batch(false);
    }

    /// Handles every whole line `reader` holds (the caller holds its lock).
    fn handle_lines(&self, reader: &mut LineReader) {
        while let Some(line) = reader.next_line() {
            match line {
                Line::Text(text) => self.handle_stdout_line(text),
                Line::TooLong(total) => {
                    self.debug_service(|| format!("<INVALID> a {total}-byte line, over the limit"));
                    push_bounded(
                        &self.invalid_lines,
                        format!("<a {total}-byte line was skipped: lines over {MAX_LINE} bytes are not read>"),
                    );
                }
            }
            self.flush_batch(true);
        }
    }

    fn handle_stdout_line(&self, line: &[u8]) {
        self.debug_service(|| String::from_utf8_lossy(line).into_owned());
        let split = protocol::split_line(line);
        if split.has_garbage {
            let text = kept_text(line);
            self.debug_service(|| format!("<INVALID> {text}"));
            push_bounded(&self.invalid_lines, text);
        }
        // Only lines naming an appose_type need the (allocating) decode pass.
        let typed = line.windows(11).any(|w| w == b"appose_type");
        for obj in split.objects {
            match protocol::decode_response(obj) {
                Ok(r) if typed => self.route(self.decode_values(r)),
                Ok(r) => self.route(r),
                Err(NotAResponse::NoTask) => self.debug_service(|| {
                    format!("Invalid service message: {}", String::from_utf8_lossy(line))
                }),
                Err(NotAResponse::BadType(t)) => {
                    self.debug_service(|| format!("Invalid service message type: {t}"))
                }
            }
        }
    }

    /// Turns `appose_type` objects in outputs and info into typed values.
    /// Blocks the worker made are ours to unlink; this happens even for a
    /// response that turns out to be for no pending task, so they never leak.
    fn decode_values(&self, mut r: Response) -> Response {
        let mut errors = Vec::new();
        if let Some(outputs) = r.outputs.take() {
            r.outputs =
                value::decode(Value::Object(outputs), BlockOwner::Us, &mut errors).into_object();
        }
        if let Some(info) = r.info.take() {
            r.info = Some(value::decode(info, BlockOwner::Us, &mut errors));
        }
        for e in errors {
            self.debug_service(|| format!("task {}: cannot decode a value: {e}", r.task));
        }
        r
    }

    fn route(&self, r: Response) {
        let task = {
            let mut pending = lock(&self.pending);
            if r.response_type.is_terminal() {
                pending.tasks.remove(&r.task)
            } else {
                pending.tasks.get(&r.task).cloned()
            }
        };
        match task {
            Some(t) => t.deliver(r),
            // Also where a second terminal response for a task ends up.
            None => self.debug_service(|| {
                format!(
                    "No such task: {} ({} ignored)",
                    r.task,
                    r.response_type.as_str()
                )
            }),
        }
    }

    fn read_stderr(self: Arc<Self>, stderr: impl Read, drained: Sender<()>) {
        let mut reader = BufReader::new(stderr);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {
                    let text = kept_text(trim_eol(&line));
                    self.debug("WORKER", || text.clone());
                    push_bounded(&self.error_lines, text);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        self.debug_service(|| "<worker stderr closed>".to_owned());
        let _ = drained.send(());
    }

    fn monitor(self: Arc<Self>, mut child: Child, drained: Receiver<()>, init: Option<PathBuf>) {
        let pid = child.id() as libc::pid_t;
        wait_exited_unreaped(pid);
        if let Some(p) = lock(&self.process).as_mut() {
            p.exited = true;
        }
        // The output is ending: the reader thread drains it now.
        self.wake_reader();
        // Whatever is left of the worker's process group would hold our pipes
        // open (and is an orphan): end it while the zombie leader keeps the
        // group id from being recycled.
        // SAFETY: plain syscall on our own unreaped child's group.
        unsafe { libc::killpg(pid, libc::SIGKILL) };
        let deadline = Instant::now() + DRAIN_GRACE;
        for _ in 0..2 {
            if drained.recv_deadline(deadline).is_err() {
                self.debug_service(|| "<worker output did not close: not drained>".to_owned());
                break;
            }
        }
        let code = {
            let mut process = lock(&self.process);
            let status = child.wait();
            if let Some(p) = process.as_mut() {
                p.reaped = true;
            }
            match status {
                Ok(s) => s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0)),
                Err(_) => -1,
            }
        };
        if let Some(p) = init {
            // The worker deletes it after running it; not if it died first.
            let _ = std::fs::remove_file(p);
        }
        lock(&self.stdin).take();
        self.debug_service(|| format!("<worker process terminated with exit code {code}>"));
        let message =
            protocol::crash_message(code, &lock(&self.invalid_lines), &lock(&self.error_lines));
        let orphans: Vec<Arc<TaskInner>> = {
            let mut pending = lock(&self.pending);
            pending.exit = Some(ExitInfo {
                code,
                crash_message: message.clone(),
            });
            pending.tasks.drain().map(|(_, t)| t).collect()
        };
        if !orphans.is_empty() {
            let n = orphans.len();
            self.debug_service(|| format!("<worker process terminated with {n} pending task(s)>"));
        }
        for t in orphans {
            t.deliver(Response::crash(&t.id, message.clone()));
        }
        lock(&self.pending).monitor_done = true;
        self.pending_cv.notify_all();
    }
}

/// A caller's turn at reading stdout: on the way out (a panic included) the
/// thread stops batching and the reader thread or another caller may read.
struct Lead<'a>(&'a ServiceInner);

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        let service = self.0;
        BATCH.with(|b| *b.borrow_mut() = None);
        service.waiter_leading.store(false, Ordering::Release);
        // Others' tasks still expect output: the reader thread takes over
        // now. Otherwise it may rest on; this caller is likely back soon.
        if !lock(&service.pending).tasks.is_empty() {
            service.wake_reader();
        }
    }
}

fn closed_error() -> Error {
    Error::new(
        ErrorKind::ServiceClosed,
        "the service is closed and takes no more tasks",
    )
}

/// The dispatcher's queue: a mutex and a condition variable, because a
/// channel's receiver spins and yields before it sleeps, and on two cores
/// that spinning takes CPU from the worker on every event.
#[derive(Default)]
struct DispatchQueue {
    state: Mutex<(VecDeque<Dispatch>, bool)>,
    ready: Condvar,
}

impl DispatchQueue {
    fn push(&self, d: Dispatch) {
        let mut st = lock(&self.state);
        st.0.push_back(d);
        if st.0.len() == 1 {
            self.ready.notify_one();
        }
    }

    /// No more pushes: the dispatcher finishes what is queued and ends.
    fn close(&self) {
        lock(&self.state).1 = true;
        self.ready.notify_one();
    }

    /// Everything queued, waiting for it; `None` once closed and empty.
    fn take(&self) -> Option<VecDeque<Dispatch>> {
        let mut st = lock(&self.state);
        loop {
            if !st.0.is_empty() {
                return Some(std::mem::take(&mut st.0));
            }
            if st.1 {
                return None;
            }
            st = self.ready.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Drop for ServiceInner {
    fn drop(&mut self) {
        if let Some(queue) = self.dispatch.get() {
            queue.close();
        }
    }
}

fn dispatch_loop(queue: &DispatchQueue, mut debug: Option<DebugListener>) {
    IN_DISPATCHER.with(|f| f.set(true));
    fn run(msg: Dispatch, debug: &mut Option<DebugListener>) {
        match msg {
            Dispatch::Task(task, r) => task.apply(r),
            Dispatch::Debug(text) => {
                if let Some(d) = debug.as_mut() {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d(&text)));
                }
            }
            Dispatch::Batch(items) => {
                for item in items {
                    run(item, debug);
                }
            }
            Dispatch::Barrier(done) => {
                let _ = done.send(());
            }
        }
    }
    while let Some(items) = queue.take() {
        for msg in items {
            run(msg, &mut debug);
        }
    }
    // Closed: the service is gone; the debug listener (and its user data)
    // drops here.
}

/// A line as kept for the user: lossy UTF-8, at most [`MAX_KEPT_LINE`] bytes.
fn kept_text(line: &[u8]) -> String {
    if line.len() <= MAX_KEPT_LINE {
        return String::from_utf8_lossy(line).into_owned();
    }
    let mut text = String::from_utf8_lossy(&line[..MAX_KEPT_LINE]).into_owned();
    text.push_str(&format!("... ({} bytes in all)", line.len()));
    text
}

fn push_bounded(lines: &Mutex<Vec<String>>, line: String) {
    let mut lines = lock(lines);
    if lines.len() >= MAX_KEPT_LINES {
        lines.drain(..MAX_KEPT_LINES / 10);
    }
    lines.push(line);
}

/// Writes the init script to a temp file only its owner can read (0600).
fn write_init_script(script: &str) -> Result<PathBuf> {
    let mut file = tempfile::Builder::new()
        .prefix("appose-init-")
        .suffix(".txt")
        .tempfile()
        .map_err(|e| Error::io("cannot create the init script file", e))?;
    file.write_all(script.as_bytes())
        .map_err(|e| Error::io("cannot write the init script file", e))?;
    let (_, path) = file
        .keep()
        .map_err(|e| Error::io("cannot keep the init script file", e.error))?;
    Ok(path)
}

/// Blocks until `pid` has exited, leaving it a zombie (not reaped).
fn wait_exited_unreaped(pid: libc::pid_t) {
    loop {
        // SAFETY: zeroed siginfo_t is a valid out-buffer for waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: plain syscall with a valid pointer.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

/// Writes all of `data` to the worker's stdin without letting a closed pipe
/// raise SIGPIPE, whose default action would kill the host process (a C
/// program; JVMs and Node ignore it already).
fn write_without_sigpipe(pipe: &mut ChildStdin, data: &[u8]) -> std::io::Result<()> {
    // SAFETY: signal-set manipulation on this thread only, with valid pointers.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old);
        let result = pipe.write_all(data);
        if let Err(e) = &result {
            if e.raw_os_error() == Some(libc::EPIPE) && libc::sigismember(&old, libc::SIGPIPE) == 0
            {
                // Consume the SIGPIPE our write raised before unblocking.
                let zero = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                libc::sigtimedwait(&block, std::ptr::null_mut(), &zero);
            }
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        result
    }
}
