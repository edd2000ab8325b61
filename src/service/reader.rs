//! Reading the worker: stdout lines become responses routed to their
//! tasks; stderr lines are kept.
//!
//! Who reads stdout: while a caller waits for a task without listeners, that
//! caller reads it ([`ServiceInner::lead_until_settled`]), handling every
//! line on the way (other tasks' responses included): its response wakes it
//! straight from the pipe, with no thread hand-over in between. One caller
//! at a time has that right ([`ReadControl`]); the stdout reader thread rests
//! meanwhile, and reads whenever no caller does. It is woken when a caller
//! stops while tasks are pending, when output is expected and nobody reads,
//! and when the worker exits.
//!
//! After the worker has exited, only the reader thread reads: it handles
//! everything still in the pipe, and waits at most [`DRAIN_GRACE`] for
//! end-of-file (a child that escaped the worker's process group may hold
//! the pipe open forever). Handling time does not count against the grace.
//!
//! Memory stays bounded: readers hand events for listeners to the dispatcher
//! and stop reading while its queue is full, so the worker blocks on its
//! pipe, as it would with the peers. A panic while reading kills the worker
//! and is named in the crash report.

use std::cell::RefCell;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::dispatch::{Dispatch, MAX_BATCH};
use super::process::DRAIN_GRACE;
use super::{push_bounded, ExitLatch, ServiceInner};
use crate::lines::{self, trim_eol, Fill, Line, LineReader};
use crate::lock;
use crate::protocol::{self, NotAResponse, Response, ResponseType};
use crate::task::TaskInner;
use crate::value::{self, BlockOwner, Value};

/// Longest stdout line read whole (a response with a 100 MB string fits).
/// Longer lines are skipped without being buffered and reported invalid.
pub(super) const MAX_LINE: usize = 256 << 20;

/// The error of the FAILURE appose-java's GroovyWorker (0.9.0) sends when
/// its janitor finds a task's thread not alive. It also finds threads that
/// have not started yet: about 1.5% of tasks get a spurious "thread death"
/// (before or just after their LAUNCH) followed by their real LAUNCH and
/// COMPLETION.
const THREAD_DEATH: &str = "thread death";

/// How long a "thread death" FAILURE is held back, so that the task's real
/// end can overtake it. Measured between the spurious FAILURE and the real
/// COMPLETION over 2,000 tasks each: idle, median 5.3 ms and at most 40 ms;
/// with both cores busy (two CPU-bound loops), median 6.7 ms and at most
/// 26 ms. Two seconds is fifty times the worst seen; a real thread death is
/// reported that much later.
const THREAD_DEATH_GRACE: Duration = Duration::from_secs(2);

/// Bytes of an invalid line kept for `invalid_lines` and crash reports.
const MAX_KEPT_LINE: usize = 4096;

/// Output that keeps arriving within this long of the reader thread looking
/// for it, [`STREAM_READS`] reads in a row, is a stream: the reader thread
/// then takes it in gulps, pausing [`COALESCE`] before each read.
const STREAM_GAP: Duration = Duration::from_micros(100);
const STREAM_READS: u32 = 8;
const COALESCE: Duration = Duration::from_micros(200);

thread_local! {
    /// Set on a thread while it reads stdout: events for the dispatcher are
    /// held back and handed over together, one wake-up for many.
    static BATCH: RefCell<Option<Vec<Dispatch>>> = const { RefCell::new(None) };
}

/// Holds `d` back in this thread's batch when it is reading; gives it back
/// otherwise.
pub(super) fn hold_in_batch(d: Dispatch) -> Option<Dispatch> {
    BATCH.with(|b| match b.borrow_mut().as_mut() {
        Some(batch) => {
            batch.push(d);
            None
        }
        None => Some(d),
    })
}

#[derive(Default)]
struct Control {
    /// A caller has the right to read stdout.
    leading: bool,
    /// The reader thread waits until no caller leads.
    resting: bool,
    /// The worker exited: callers no longer read, the reader thread drains.
    exited: bool,
}

/// Who may read stdout: one caller at a time, else the reader thread.
#[derive(Default)]
pub(super) struct ReadControl {
    state: Mutex<Control>,
    wake: Condvar,
}

impl ReadControl {
    pub(super) fn claim(&self) -> bool {
        let mut st = lock(&self.state);
        if st.leading || st.exited {
            return false;
        }
        st.leading = true;
        true
    }

    /// Gives the right back; the reader thread takes over at once when
    /// tasks still expect output (otherwise the next caller likely leads).
    pub(super) fn release(&self, service: &ServiceInner) {
        let mut st = lock(&self.state);
        st.leading = false;
        if st.resting && (st.exited || !lock(&service.pending).tasks.is_empty()) {
            self.wake.notify_one();
        }
    }

    /// A task was registered: if nobody reads, the reader thread must.
    pub(super) fn output_expected(&self) {
        let st = lock(&self.state);
        if st.resting && !st.leading {
            self.wake.notify_one();
        }
    }

    pub(super) fn worker_exited(&self) {
        lock(&self.state).exited = true;
        self.wake.notify_one();
    }

    fn is_leading(&self) -> bool {
        lock(&self.state).leading
    }

    /// The reader thread waits while a caller leads.
    fn rest_while_leading(&self) {
        let mut st = lock(&self.state);
        while st.leading && !st.exited {
            st.resting = true;
            st = self.wake.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        st.resting = false;
    }
}

/// A caller's turn at reading stdout: on the way out (a panic included) the
/// thread stops batching and gives the right back.
struct Lead<'a>(&'a ServiceInner);

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        BATCH.with(|b| *b.borrow_mut() = None);
        self.0.reading.release(self.0);
    }
}

/// Signals the monitor when a reader is done, however it ends.
struct Drained(Sender<()>);

impl Drop for Drained {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

impl ServiceInner {
    pub(super) fn latch_fd(&self) -> RawFd {
        self.latch.get().map_or(-1, ExitLatch::raw_fd)
    }

    /// Until when to wait for end-of-file, once the worker has exited.
    fn give_up_at(&self) -> Option<Instant> {
        self.latch.get()?.at.get().map(|t| *t + DRAIN_GRACE)
    }

    /// Reads the worker's stdout on the calling thread until `task` has
    /// settled, `deadline` passes, the output ends or the worker exits,
    /// handling every line on the way. The caller holds the right to read
    /// ([`ReadControl::claim`]); this gives it back.
    pub(super) fn lead_until_settled(&self, task: &TaskInner, deadline: Option<Instant>) {
        let _lead = Lead(self);
        if task.is_settled() {
            return;
        }
        let mut guard = lock(&self.stdout);
        let Some(reader) = guard.as_mut() else { return };
        BATCH.with(|b| *b.borrow_mut() = Some(Vec::new()));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.lead(reader, task, deadline)
        }));
        if let Err(panic) = outcome {
            self.fail_internally(format!(
                "reading the worker's output panicked: {}",
                crate::panic_text(&*panic)
            ));
        }
        self.flush_batch(false);
    }

    fn lead(&self, reader: &mut LineReader, task: &TaskInner, deadline: Option<Instant>) {
        // Lines the reader thread read but had not handled yet come first.
        self.handle_lines(reader);
        let (fd, latch) = (reader.raw_fd(), self.latch_fd());
        let nudge = self.nudge.get().map_or(-1, |n| n.fd.as_raw_fd());
        while !task.is_settled() && !reader.is_eof() && !self.latch_is_set() {
            self.flush_batch(false);
            if let Some(q) = self.dispatch.get() {
                if !q.wait_for_room(deadline) {
                    break;
                }
            }
            let timeout = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => break,
                },
            };
            let polled = lines::wait_any(
                [
                    (fd, libc::POLLIN),
                    (latch, libc::POLLIN),
                    (nudge, libc::POLLIN),
                ],
                timeout,
            );
            match polled {
                None => break,
                Some([_, _, true]) => {
                    // A task may have settled without output: look again.
                    if let Some(n) = self.nudge.get() {
                        n.drain();
                    }
                }
                Some([true, _, _]) => {
                    let fill = reader.fill();
                    self.handle_lines(reader);
                    if fill.is_err() {
                        // The reader thread meets the same error and reports it.
                        break;
                    }
                }
                // The worker exited (the loop ends), or an interrupted wait.
                Some(_) => {}
            }
        }
    }

    /// The stdout reader thread.
    pub(super) fn read_stdout(self: std::sync::Arc<Self>, drained: Sender<()>) {
        let _drained = Drained(drained);
        BATCH.with(|b| *b.borrow_mut() = Some(Vec::new()));
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.read_until_end()));
        if let Err(panic) = outcome {
            self.fail_internally(format!(
                "the stdout reader thread panicked: {}",
                crate::panic_text(&*panic)
            ));
            // Nobody reads any more: close our end.
            *lock(&self.stdout) = None;
        }
        self.debug_service(|| "<worker stdout closed>".to_owned());
        self.flush_batch(false);
        BATCH.with(|b| *b.borrow_mut() = None);
    }

    /// The reader thread's loop over the worker's stdout, until end of
    /// output, a read error, or the grace after the worker's exit; closes
    /// the pipe then.
    fn read_until_end(&self) {
        let Some(fd) = lock(&self.stdout).as_ref().map(LineReader::raw_fd) else {
            return;
        };
        let latch = self.latch_fd();
        // Reads in a row that found output already there or nearly so.
        let mut streak = 0;
        loop {
            self.reading.rest_while_leading();
            let give_up_at = self.give_up_at();
            if give_up_at.is_none() {
                if let Some(q) = self.dispatch.get() {
                    q.wait_for_room(None);
                }
                if streak >= STREAM_READS {
                    // The worker is streaming (UPDATEs in a loop): let lines
                    // gather instead of waking this thread, and the
                    // dispatcher, for every one. Costs the stream at most
                    // this much latency.
                    std::thread::sleep(COALESCE);
                }
            }
            // Wait without the lock, so a caller can take over meanwhile.
            let waiting = Instant::now();
            let ready = match give_up_at {
                None => lines::wait_any([(fd, libc::POLLIN), (latch, libc::POLLIN)], None)
                    .is_some_and(|[out, _]| out),
                Some(t) => lines::wait_readable(fd, Some(t.saturating_duration_since(waiting))),
            };
            let waited = waiting.elapsed();
            if self.reading.is_leading() {
                continue;
            }
            let mut guard = lock(&self.stdout);
            let Some(reader) = guard.as_mut() else { return };
            if !ready {
                if give_up_at.is_some_and(|t| Instant::now() >= t) {
                    // No end-of-file in time: take what the pipe holds and stop.
                    let _ = reader.fill_now(pipe_capacity(fd));
                    self.handle_lines(reader);
                    self.flush_batch(false);
                    self.debug_service(|| {
                        "<worker stdout still open after the worker exited: not read further>"
                            .to_owned()
                    });
                    *guard = None;
                    return;
                }
                continue;
            }
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
            return;
        }
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
        crate::faults::point(crate::faults::Fault::ReaderPanic);
        self.debug_service(|| String::from_utf8_lossy(line).into_owned());
        let split = protocol::split_line(line);
        if split.has_garbage {
            let text = kept_text(line);
            self.debug_service(|| format!("<INVALID> {text}"));
            push_bounded(&self.invalid_lines, text);
        }
        // A response that cannot be read would leave its task pending
        // forever: it fails the task instead, with the reason.
        for u in split.undecodable {
            let what = u.response_type.as_deref().unwrap_or("a");
            let error = format!(
                "libappose could not read {what} response of this task from the worker: {}",
                u.reason
            );
            self.route(Response::failure(&u.task, error));
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

    /// Holds back a `"thread death"` FAILURE for a pending task for
    /// [`THREAD_DEATH_GRACE`]: delivered then unless the task has ended
    /// meanwhile. False when it cannot be held (it is delivered at once).
    fn hold_thread_death(&self, task: &str) -> bool {
        if !lock(&self.pending).tasks.contains_key(task) {
            return false;
        }
        let Some(service) = self.user_handle() else {
            return false;
        };
        let weak = service.downgrade();
        drop(service);
        let task = task.to_owned();
        self.debug_service(|| {
            format!("<task {task}: \"thread death\" held back, the worker may still finish it>")
        });
        std::thread::Builder::new()
            .name(format!("appose-{}-death", self.id))
            .spawn(move || {
                std::thread::sleep(THREAD_DEATH_GRACE);
                if let Some(service) = weak.upgrade() {
                    service.deliver_held_death(&task);
                }
            })
            .is_ok()
    }

    /// The grace for a held `"thread death"` has passed: the task fails,
    /// unless another terminal response ended it meanwhile.
    pub(crate) fn fail_by_thread_death(&self, task: &str) {
        let task = lock(&self.pending).tasks.remove(task);
        if let Some(task) = task {
            let id = task.id.clone();
            task.deliver(Response::failure(&id, THREAD_DEATH.to_owned()));
            // A caller waiting for it may be reading, blocked on the pipe.
            if let Some(n) = self.nudge.get() {
                n.poke();
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
        // Worker objects it names belong to this service (and are deleted
        // in the worker when their last handle goes).
        let bind = |v: &Value| {
            let mut service = None;
            v.for_each_worker_object(&mut |w| {
                if let Some(s) = service.get_or_insert_with(|| self.user_handle()) {
                    w.bind(s);
                }
            });
        };
        if let Some(outputs) = &r.outputs {
            for (_, v) in outputs.iter() {
                bind(v);
            }
        }
        if let Some(info) = &r.info {
            bind(info);
        }
        r
    }

    fn route(&self, r: Response) {
        if r.response_type == ResponseType::Failure
            && r.error.as_deref() == Some(THREAD_DEATH)
            && self.hold_thread_death(&r.task)
        {
            return;
        }
        let task = {
            let mut pending = lock(&self.pending);
            if r.response_type.is_terminal() {
                pending.tasks.remove(&r.task)
            } else {
                pending.tasks.get(&r.task).cloned()
            }
        };
        let Some(task) = task else {
            // Also where a second terminal response for a task ends up.
            self.debug_service(|| {
                format!(
                    "No such task: {} ({} ignored)",
                    r.task,
                    r.response_type.as_str()
                )
            });
            return;
        };
        if r.response_type == ResponseType::Update {
            if let Some(info) = &r.info {
                let mut blocks = Vec::new();
                info.for_each_shm(&mut |shm| blocks.push(shm.clone()));
                task.retain_blocks(blocks);
            }
        }
        task.deliver(r);
    }

    /// Hands the batch held on this thread to the dispatcher (and keeps
    /// batching when `more` lines are already buffered).
    fn flush_batch(&self, more: bool) {
        let batch = BATCH.with(|b| {
            let mut b = b.borrow_mut();
            match b.as_mut() {
                Some(v) if !v.is_empty() && (!more || v.len() >= MAX_BATCH) => {
                    Some(std::mem::take(v))
                }
                _ => None,
            }
        });
        if let (Some(batch), Some(queue)) = (batch, self.dispatch.get()) {
            queue.push_all(batch);
        }
    }

    /// The stderr reader thread: keeps every line, until end of output or
    /// the grace after the worker's exit.
    pub(super) fn read_stderr(
        self: std::sync::Arc<Self>,
        mut reader: LineReader,
        drained: Sender<()>,
    ) {
        let _drained = Drained(drained);
        let (fd, latch) = (reader.raw_fd(), self.latch_fd());
        loop {
            let give_up_at = self.give_up_at();
            let ready = match give_up_at {
                None => lines::wait_any([(fd, libc::POLLIN), (latch, libc::POLLIN)], None)
                    .is_some_and(|[err, _]| err),
                Some(t) => {
                    lines::wait_readable(fd, Some(t.saturating_duration_since(Instant::now())))
                }
            };
            let fill = if ready {
                reader.fill()
            } else if give_up_at.is_some_and(|t| Instant::now() >= t) {
                reader.fill_now(pipe_capacity(fd)).map(|()| Fill::Eof)
            } else {
                continue;
            };
            while let Some(line) = reader.next_line() {
                let text = match line {
                    Line::Text(t) => kept_text(trim_eol(t)),
                    Line::TooLong(total) => format!("<a {total}-byte line was skipped>"),
                };
                self.debug_line("WORKER", || text.clone());
                push_bounded(&self.error_lines, text);
            }
            match fill {
                Ok(Fill::Data | Fill::Empty) => continue,
                Ok(Fill::Eof) | Err(_) => break,
            }
        }
        self.debug_service(|| "<worker stderr closed>".to_owned());
    }
}

/// How many bytes a pipe holds at most (what a writer that is gone can have
/// left in it).
fn pipe_capacity(fd: RawFd) -> usize {
    // SAFETY: fcntl on a descriptor we own.
    let n = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
    if n > 0 {
        n as usize
    } else {
        1 << 20
    }
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
