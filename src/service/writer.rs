//! Requests to the worker's stdin, without ever blocking the caller.
//!
//! The worker's stdin is a pipe whose write end is ours, non-blocking, so a
//! write never blocks. We also keep a copy of its read end open (never read
//! from): a pipe with a reader cannot raise `SIGPIPE`, whose default action
//! would kill a C host, so no signal mask is touched and a request costs one
//! `write`. (A socket pair with `MSG_NOSIGNAL` would do the same at about
//! 2 µs more per request, measured against a null worker on one core.) The
//! worker still sees end-of-file when our write end closes. A caller writes
//! its request straight into the pipe when nothing is waiting before it;
//! what does not fit (a worker busy, deaf or dying stops reading) waits in
//! memory, in order, and the flusher thread writes it as the worker reads.
//! The lock is only ever held for non-blocking work, so `close` and `kill`
//! never wait behind a full pipe.
//!
//! Requests waiting in memory are bounded by [`MAX_BACKLOG`] bytes; past it a
//! request is refused with [`ErrorKind::Backlog`].

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Condvar, Mutex};

use crate::error::{Error, ErrorKind, Result};
use crate::lines;
use crate::lock;

/// Most bytes of requests kept in memory while the worker does not read.
pub(crate) const MAX_BACKLOG: usize = 256 << 20;

#[derive(Default)]
struct State {
    /// Our end of the worker's stdin; `None` once closed.
    pipe: Option<Arc<OwnedFd>>,
    /// A copy of the worker's end, kept so that writing can never raise
    /// `SIGPIPE`; closed once the worker is gone.
    reader: Option<OwnedFd>,
    backlog: VecDeque<Vec<u8>>,
    /// Bytes of `backlog[0]` already written.
    written: usize,
    backlog_bytes: usize,
    /// `close` was called while requests were waiting: end stdin after them.
    close_when_flushed: bool,
    /// The worker is gone (its end is closed, or it exited): requests are
    /// dropped, and the monitor reports the tasks.
    gone: bool,
}

pub(crate) struct Writer {
    state: Mutex<State>,
    more: Condvar,
}

/// What one attempt to write found.
enum Sent {
    All,
    Partly(usize),
    Gone,
}

fn write_some(fd: RawFd, bytes: &[u8]) -> Sent {
    let mut done = 0;
    while done < bytes.len() {
        let rest = &bytes[done..];
        // SAFETY: a valid descriptor and a valid buffer.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n >= 0 {
            done += n as usize;
            continue;
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN) => return Sent::Partly(done),
            // Cannot be EPIPE while we hold a reader; any error means no
            // more requests get through.
            _ => return Sent::Gone,
        }
    }
    Sent::All
}

impl Writer {
    /// Takes our (write) end of the worker's stdin, non-blocking, and a
    /// copy of the worker's (read) end.
    pub(crate) fn new(pipe: OwnedFd, reader: OwnedFd) -> Self {
        Writer {
            state: Mutex::new(State {
                pipe: Some(Arc::new(pipe)),
                reader: Some(reader),
                ..State::default()
            }),
            more: Condvar::new(),
        }
    }

    /// Writes `line` (a whole request with its newline) or queues it behind
    /// the requests already waiting. Never blocks.
    ///
    /// `Ok` also when the worker is gone: its tasks are reported CRASHED by
    /// the monitor. [`ErrorKind::ServiceClosed`] after `close`,
    /// [`ErrorKind::Backlog`] when the worker has left too much unread.
    pub(crate) fn send(&self, line: Vec<u8>) -> Result<()> {
        let mut st = lock(&self.state);
        if st.gone {
            return Ok(());
        }
        let Some(pipe) = st.pipe.clone() else {
            return Err(closed_error());
        };
        if st.close_when_flushed {
            return Err(closed_error());
        }
        if st.backlog.is_empty() {
            match write_some(pipe.as_raw_fd(), &line) {
                Sent::All => return Ok(()),
                Sent::Gone => {
                    st.mark_gone();
                    return Ok(());
                }
                Sent::Partly(n) => {
                    st.written = n;
                    st.backlog_bytes = line.len() - n;
                    st.backlog.push_back(line);
                    self.more.notify_one();
                    return Ok(());
                }
            }
        }
        if st.backlog_bytes + line.len() > MAX_BACKLOG {
            return Err(Error::new(
                ErrorKind::Backlog,
                format!(
                    "the worker has left {} bytes of requests unread (it is busy, or no longer \
                     reads its input); a {}-byte request would pass the {MAX_BACKLOG}-byte bound",
                    st.backlog_bytes,
                    line.len()
                ),
            ));
        }
        st.backlog_bytes += line.len();
        st.backlog.push_back(line);
        Ok(())
    }

    /// Ends the worker's stdin once the requests already accepted are
    /// written (at once when none wait). Never blocks.
    pub(crate) fn close(&self) {
        let mut st = lock(&self.state);
        if st.backlog.is_empty() {
            st.pipe = None;
        } else {
            st.close_when_flushed = true;
        }
        self.more.notify_one();
    }

    /// The worker has exited: drop what waits, close stdin.
    pub(crate) fn stop(&self) {
        lock(&self.state).mark_gone();
        self.more.notify_one();
    }

    /// The flusher thread: writes waiting requests as the worker reads them,
    /// until stdin is closed. `exit_fd` turns readable when the worker has
    /// exited (a child that escaped its group may hold stdin open forever).
    pub(crate) fn flush_until_closed(&self, exit_fd: RawFd) {
        loop {
            let pipe = {
                let mut st = lock(&self.state);
                loop {
                    match &st.pipe {
                        None => return,
                        Some(s) if !st.backlog.is_empty() => break s.clone(),
                        Some(_) => st = self.more.wait(st).unwrap_or_else(|e| e.into_inner()),
                    }
                }
            };
            let ready = lines::wait_any(
                [(pipe.as_raw_fd(), libc::POLLOUT), (exit_fd, libc::POLLIN)],
                None,
            );
            if matches!(ready, Some([_, true])) {
                self.stop();
                return;
            }
            drop(pipe);
            lock(&self.state).write_backlog();
        }
    }
}

impl State {
    fn mark_gone(&mut self) {
        self.gone = true;
        self.pipe = None;
        self.reader = None;
        self.backlog.clear();
        self.backlog_bytes = 0;
        self.written = 0;
    }

    /// Writes as much of the backlog as the pipe takes now.
    fn write_backlog(&mut self) {
        let Some(pipe) = self.pipe.clone() else {
            return;
        };
        while let Some(front) = self.backlog.front() {
            match write_some(pipe.as_raw_fd(), &front[self.written..]) {
                Sent::All => {
                    self.backlog_bytes -= front.len() - self.written;
                    self.written = 0;
                    self.backlog.pop_front();
                }
                Sent::Partly(n) => {
                    self.written += n;
                    self.backlog_bytes -= n;
                    return;
                }
                Sent::Gone => {
                    self.mark_gone();
                    return;
                }
            }
        }
        if self.close_when_flushed {
            self.pipe = None;
        }
    }
}

pub(crate) fn closed_error() -> Error {
    Error::new(
        ErrorKind::ServiceClosed,
        "the service is closed and takes no more tasks",
    )
}
