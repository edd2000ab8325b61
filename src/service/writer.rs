//! Requests to the worker's stdin, without ever blocking the caller.
//!
//! The worker's stdin is one end of a socket pair: `send` with
//! `MSG_DONTWAIT | MSG_NOSIGNAL` never blocks and never raises `SIGPIPE` (whose
//! default action would kill a C host), in one system call. A caller writes
//! its request straight into the socket when nothing is waiting before it;
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
    sock: Option<Arc<OwnedFd>>,
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

fn send_some(fd: RawFd, bytes: &[u8]) -> Sent {
    let mut done = 0;
    while done < bytes.len() {
        let rest = &bytes[done..];
        // SAFETY: a valid socket descriptor and a valid buffer.
        let n = unsafe {
            libc::send(
                fd,
                rest.as_ptr().cast(),
                rest.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if n >= 0 {
            done += n as usize;
            continue;
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN) => return Sent::Partly(done),
            // EPIPE, ECONNRESET: the worker closed its end.
            _ => return Sent::Gone,
        }
    }
    Sent::All
}

impl Writer {
    pub(crate) fn new(sock: OwnedFd) -> Self {
        Writer {
            state: Mutex::new(State {
                sock: Some(Arc::new(sock)),
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
        let Some(sock) = st.sock.clone() else {
            return Err(closed_error());
        };
        if st.close_when_flushed {
            return Err(closed_error());
        }
        if st.backlog.is_empty() {
            match send_some(sock.as_raw_fd(), &line) {
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
            st.sock = None;
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
            let sock = {
                let mut st = lock(&self.state);
                loop {
                    match &st.sock {
                        None => return,
                        Some(s) if !st.backlog.is_empty() => break s.clone(),
                        Some(_) => st = self.more.wait(st).unwrap_or_else(|e| e.into_inner()),
                    }
                }
            };
            let ready = lines::wait_any(
                [(sock.as_raw_fd(), libc::POLLOUT), (exit_fd, libc::POLLIN)],
                None,
            );
            if matches!(ready, Some([_, true])) {
                self.stop();
                return;
            }
            drop(sock);
            lock(&self.state).write_backlog();
        }
    }
}

impl State {
    fn mark_gone(&mut self) {
        self.gone = true;
        self.sock = None;
        self.backlog.clear();
        self.backlog_bytes = 0;
        self.written = 0;
    }

    /// Writes as much of the backlog as the socket takes now.
    fn write_backlog(&mut self) {
        let Some(sock) = self.sock.clone() else {
            return;
        };
        while let Some(front) = self.backlog.front() {
            match send_some(sock.as_raw_fd(), &front[self.written..]) {
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
            self.sock = None;
        }
    }
}

pub(crate) fn closed_error() -> Error {
    Error::new(
        ErrorKind::ServiceClosed,
        "the service is closed and takes no more tasks",
    )
}
