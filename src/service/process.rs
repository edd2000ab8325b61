//! The worker process: spawning it in its own process group, the monitor
//! that sees it exit, killing it.
//!
//! The worker runs in a process group of its own, led by a supervisor: a
//! `/bin/sh` that reads a pipe (the lifeline) whose only writer is this
//! process, and kills its whole group (`kill -s KILL 0`) when that pipe
//! ends. The lifeline ends when `kill` drops it, when the monitor drops it
//! after the worker exits (so a launcher's or a task's leftover children go
//! too), and when the host process dies, whichever way (return from `main`,
//! Ctrl-C, SIGTERM, SIGKILL): the kernel closes the host's descriptors, so no
//! worker outlives its host. Linux's parent-death signal would not do: it
//! follows the thread that spawned the child and reaches only that child.
//!
//! This process never signals a process group itself. The supervisor signals
//! its own group, whose id is its own pid and cannot be recycled while it
//! runs, so a host that reaps children behind our back (SIGCHLD ignored, a
//! `waitpid(-1)` handler) can never make us kill an unrelated group. The
//! worker itself is also killed through a pidfd, which names exactly that
//! process or nothing. The supervisor never calls host code and needs no
//! thread hooks.
//!
//! The monitor thread waits for the worker to exit, sets the exit latch (every
//! thread blocked on the worker's pipes wakes), waits until both readers have
//! handled everything the worker wrote, reaps it, and reports every pending
//! task CRASHED with the peers' crash report. A panic in the monitor still
//! ends with the tasks reported and `close` returning.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Receiver;

use super::dispatch::{self, DispatchHost, DispatchQueue};
use super::reader;
use super::writer::Writer;
use super::{ExitLatch, ServiceInner};
use crate::error::{Error, ErrorKind, Result};
use crate::lines::{self, LineReader};
use crate::lock;
use crate::protocol::{self, Response};
use crate::task::TaskInner;

/// How long the readers wait for end-of-file after the worker exits (a child
/// that left the worker's process group may hold the pipes open forever).
/// Only the wait counts: output that arrives is read and handled in full.
pub(super) const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// How long a worker whose every handle was dropped may take to exit after
/// its stdin is closed, before it is killed.
pub(super) const ABANDON_GRACE: Duration = Duration::from_secs(10);

pub(super) struct Process {
    pub(super) pid: libc::pid_t,
    pub(super) exited: bool,
    /// Our end of the supervisor's lifeline; dropping it ends the group.
    lifeline: Option<OwnedFd>,
    /// Names the worker process and no other, even once it is reaped.
    pidfd: Option<OwnedFd>,
}

/// The supervisor's whole program: wait for the lifeline to end (or for a
/// line on it), then kill the process group it leads, itself included.
const SUPERVISOR_SCRIPT: &str = "read -r _; kill -s KILL 0";

/// Starts a supervisor leading a new process group; its lifeline's write
/// end is returned (close-on-exec, so no other child inherits it).
fn spawn_supervisor() -> std::io::Result<(Child, OwnedFd)> {
    let (read, write) = pipe()?;
    let child = Command::new("/bin/sh")
        .arg("-c")
        .arg(SUPERVISOR_SCRIPT)
        .stdin(Stdio::from(read))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    Ok((child, write))
}

/// A pipe, both ends close-on-exec: (read end, write end).
fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: a valid two-int array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: two fresh descriptors nobody else owns.
    Ok(unsafe {
        (
            <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fds[0]),
            <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fds[1]),
        )
    })
}

fn pidfd_open(pid: libc::pid_t) -> Option<OwnedFd> {
    // SAFETY: plain syscall; the descriptor is owned right away.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    // SAFETY: a fresh descriptor nobody else owns.
    (fd >= 0).then(|| unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) })
}

/// How the worker ended.
#[derive(Clone, Debug)]
pub(super) struct ExitInfo {
    /// `None` when it could not be learnt (someone else reaped the worker).
    pub(super) code: Option<i32>,
    pub(super) crash_message: String,
}

impl ServiceInner {
    pub(super) fn start(self: &Arc<Self>) -> Result<()> {
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
        let (theirs, ours) = pipe().map_err(|e| Error::io("cannot make the worker's stdin", e))?;
        let theirs_kept = theirs
            .try_clone()
            .and_then(|kept| lines::set_nonblocking(&ours).map(|()| kept))
            .map_err(|e| Error::io("cannot make the worker's stdin", e))?;
        let latch = ExitLatch::new().map_err(|e| Error::io("cannot make an eventfd", e))?;
        let nudge = super::Nudge::new().map_err(|e| Error::io("cannot make an eventfd", e))?;
        let (mut supervisor, lifeline) = spawn_supervisor()
            .map_err(|e| Error::io("cannot start the worker's supervisor (/bin/sh)", e))?;
        let group = supervisor.id() as libc::pid_t;
        let mut cmd = Command::new(&config.argv[0]);
        cmd.args(&config.argv[1..])
            .current_dir(&config.cwd)
            .stdin(Stdio::from(theirs))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(group);
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
        let spawned = cmd.spawn();
        let mut lifeline = Some(lifeline);
        if spawned.is_err() {
            // The supervisor ends with its lifeline.
            lifeline = None;
            let _ = supervisor.wait();
        }
        let mut child = spawned.map_err(|e| {
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
        // `cmd` still holds the worker's end of stdin (we keep our own copy
        // in the writer): let it go now rather than at the end of `start`.
        drop(cmd);
        let pid = child.id() as libc::pid_t;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            unreachable!("both output streams were piped");
        };
        *lock(&self.process) = Some(Process {
            pid,
            exited: false,
            lifeline,
            pidfd: pidfd_open(pid),
        });
        let writer = Arc::new(Writer::new(ours, theirs_kept));
        let _ = self.writer.set(writer.clone());
        let _ = self.latch.set(latch);
        let _ = self.nudge.set(nudge);
        setup.started = true;
        let debug = setup.debug.take();
        self.debug_on
            .store(debug.is_some(), std::sync::atomic::Ordering::Release);
        drop(setup);

        let queue = Arc::new(DispatchQueue::default());
        let (drained_tx, drained_rx) = crossbeam_channel::bounded(2);
        let (done_tx, done_rx) = crossbeam_channel::bounded(1);
        *lock(&self.dispatcher_done) = Some(done_rx);
        let name = |what: &str| format!("appose-{}-{what}", self.id);
        let spawned = (|| -> std::io::Result<()> {
            *lock(&self.stdout) = Some(LineReader::new(OwnedFd::from(stdout), reader::MAX_LINE)?);
            let stderr = LineReader::new(OwnedFd::from(stderr), reader::MAX_LINE)?;
            let host: Arc<dyn DispatchHost> = self.clone();
            let host = Arc::downgrade(&host);
            // The one thread of a service that calls host code.
            crate::threads::spawn_host_thread(name("dispatch"), {
                let queue = queue.clone();
                move || dispatch::run(&queue, debug, host, done_tx)
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
                .name(name("stdin"))
                .spawn(move || writer.flush_until_closed(me.latch_fd()))?;
            let me = self.clone();
            std::thread::Builder::new()
                .name(name("monitor"))
                .spawn(move || me.monitor(child, supervisor, drained_rx, init_file))?;
            Ok(())
        })();
        if let Err(e) = spawned {
            // Without its threads the worker is of no use: end it. Whatever
            // threads did start see the exit and finish.
            self.kill();
            return Err(Error::io("cannot start the service's threads", e));
        }
        self.debug_service(|| format!("worker started: pid {pid}, argv {:?}", config.argv));
        Ok(())
    }

    /// Kills the worker and its process group: the supervisor's lifeline
    /// ends (it kills its group), and the worker is killed through its pidfd.
    pub(super) fn kill(&self) {
        if let Some(p) = lock(&self.process).as_mut() {
            p.lifeline = None;
            if let Some(fd) = &p.pidfd {
                // SAFETY: plain syscall on a pidfd we own.
                unsafe {
                    libc::syscall(
                        libc::SYS_pidfd_send_signal,
                        std::os::fd::AsRawFd::as_raw_fd(fd),
                        libc::SIGKILL,
                        std::ptr::null::<libc::siginfo_t>(),
                        0,
                    )
                };
            }
        }
    }

    /// Ends whatever is left of the worker's process group (its supervisor
    /// included) and reaps the supervisor.
    fn end_group(&self, supervisor: &mut Child) {
        if let Some(p) = lock(&self.process).as_mut() {
            p.lifeline = None;
        }
        // Fails at once when someone else reaped it.
        let _ = supervisor.wait();
    }

    fn monitor(
        self: Arc<Self>,
        child: Child,
        mut supervisor: Child,
        drained: Receiver<()>,
        init: Option<PathBuf>,
    ) {
        let me = self.clone();
        let sup = &mut supervisor;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            me.watch(child, sup, drained, init)
        }));
        let code = match outcome {
            Ok(code) => code,
            Err(panic) => {
                let why = format!(
                    "the monitor thread panicked: {}",
                    crate::panic_text(&*panic)
                );
                self.fail_internally(why);
                // Wake every thread on the pipes; the exit is unknown.
                if let Some(l) = self.latch.get() {
                    l.set();
                }
                if let Some(w) = self.writer.get() {
                    w.stop();
                }
                None
            }
        };
        self.report_exit(code);
    }

    /// Waits for the worker to exit and its output to be handled; its exit
    /// code (`None` when someone else reaped it).
    fn watch(
        &self,
        mut child: Child,
        supervisor: &mut Child,
        drained: Receiver<()>,
        init: Option<PathBuf>,
    ) -> Option<i32> {
        let pid = child.id() as libc::pid_t;
        // False when someone else reaped it (a host ignoring SIGCHLD).
        let ours = wait_exited_unreaped(pid);
        if let Some(p) = lock(&self.process).as_mut() {
            p.exited = true;
        }
        crate::faults::point(crate::faults::Fault::MonitorPanic);
        // Whatever is left of the worker's process group would hold our
        // pipes open (and is an orphan): end it.
        self.end_group(supervisor);
        // Every thread blocked on the worker's pipes wakes; the readers
        // drain what is left, waiting at most DRAIN_GRACE for end-of-file.
        if let Some(l) = self.latch.get() {
            l.set();
        }
        if let Some(q) = self.dispatch.get() {
            q.lift_backpressure();
        }
        self.reading.worker_exited();
        if let Some(w) = self.writer.get() {
            w.stop();
        }
        // Both readers report, even when they panic (the sender drops).
        for _ in 0..2 {
            let _ = drained.recv();
        }
        let status = if ours { child.wait().ok() } else { None };
        let code = status.map(|s| s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0)));
        if let Some(p) = init {
            // The worker deletes it after running it; not if it died first.
            let _ = std::fs::remove_file(p);
        }
        code
    }

    /// Records the exit and reports every pending task CRASHED.
    fn report_exit(&self, code: Option<i32>) {
        let shown = code.unwrap_or(-1);
        self.debug_service(|| match code {
            Some(c) => format!("<worker process terminated with exit code {c}>"),
            None => "<worker process terminated; its exit code is unknown>".to_owned(),
        });
        let mut message =
            protocol::crash_message(shown, &lock(&self.invalid_lines), &lock(&self.error_lines));
        if let Some(why) = lock(&self.internal_failure).as_ref() {
            message.push_str(&format!("\n[libappose]\n{why}\n"));
        }
        if lock(&self.error_lines)
            .iter()
            .any(|l| l.contains("No module named 'appose'"))
        {
            // The environment was built without appose (allowed, for custom
            // workers): say what to do rather than leave a bare traceback.
            let base = lock(&self.setup).config.cwd.clone();
            message.push_str(&format!(
                "\n[libappose]\nappose is not installed in {}: add appose to its requirements \
                 (e.g. appose==0.12.0) and rebuild it\n",
                base.display()
            ));
        }
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

/// Blocks until `pid` has exited, leaving it a zombie (not reaped). False
/// when it was reaped by someone else (a host that ignores SIGCHLD or reaps
/// every child itself).
fn wait_exited_unreaped(pid: libc::pid_t) -> bool {
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
        if rc == 0 {
            return true;
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return false;
        }
    }
}
