//! Event queues: events a host takes on its own thread, when it likes.
//!
//! A host with an event loop (Node's libuv, a Java selector, a GUI main
//! loop) cannot be called from a library thread: Node's FFI relays such
//! calls to the JS thread while the calling thread waits, which deadlocks
//! against any blocking call. Instead, tasks, services, closes and builds
//! can send their events into an [`EventQueue`]; the queue owns a pipe whose
//! read end becomes readable when events wait, and [`EventQueue::take`]
//! hands them over without blocking. The rule for hosts: readable means
//! "take until empty".
//!
//! A pipe rather than an eventfd because Node's `net.Socket({fd})` can watch
//! a pipe and not an eventfd. At most one byte is ever in the pipe (written
//! when the first event arrives after a take), so writing never blocks.
//!
//! Memory is bounded like the listeners' dispatch queue: a producer that
//! finds [`MAX_WAITING`] events waiting blocks until the host takes some,
//! so a service's reader stops reading and its worker blocks on its pipe.
//! Terminal events (a task's end, a close's or a build's outcome) never
//! wait: they always get through, so nothing that ends is ever lost.
//!
//! One queue can serve many tasks, services and builds. Each event carries
//! the `tag` given when its source was attached, and a task's events keep
//! their order (they come from one thread, the service's dispatcher).

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Condvar, Mutex};

use crate::error::{Error, Result};
use crate::lock;
use crate::task::TaskEvent;
use crate::Environment;

/// Most events waiting in a queue before producers of non-terminal events
/// wait for the host to take some (a memory bound, like the dispatcher's).
pub const MAX_WAITING: usize = 1024;

/// Where an event comes from and what it says.
#[derive(Debug)]
pub enum EventKind {
    /// An event of a task (its LAUNCH, UPDATEs, and one terminal event).
    Task { task_id: String, event: TaskEvent },
    /// The outcome of [`crate::Service::close_async`]: the worker's exit
    /// code, or why closing did not end cleanly.
    Closed { result: Result<Option<i32>> },
    /// Build progress: a title, the current amount and the maximum.
    BuildProgress {
        title: String,
        current: u64,
        maximum: u64,
    },
    /// One line of a build tool's output.
    BuildOutput { line: String },
    /// One line of a build tool's error output.
    BuildError { line: String },
    /// The outcome of a build.
    Built { result: Result<Environment> },
}

impl EventKind {
    /// Ends its source: never held back by a full queue.
    pub fn is_terminal(&self) -> bool {
        match self {
            EventKind::Task { event, .. } => event.response_type.is_terminal(),
            EventKind::Closed { .. } | EventKind::Built { .. } => true,
            _ => false,
        }
    }
}

/// One event taken from a queue.
#[derive(Debug)]
pub struct Event {
    /// The tag given when the source was attached to the queue.
    pub tag: u64,
    pub kind: EventKind,
}

struct State {
    events: VecDeque<Event>,
    /// A byte is in the pipe (or was, and the host read it itself).
    signalled: bool,
    /// The host let go of the queue: events are dropped, nobody waits.
    closed: bool,
}

pub(crate) struct QueueInner {
    state: Mutex<State>,
    room: Condvar,
    read_end: OwnedFd,
    write_end: OwnedFd,
}

impl QueueInner {
    /// Adds an event. A non-terminal one waits while the queue is full;
    /// false when the queue was closed (the event is dropped).
    pub(crate) fn push(&self, event: Event) -> bool {
        let terminal = event.kind.is_terminal();
        let mut st = lock(&self.state);
        while !terminal && !st.closed && st.events.len() >= MAX_WAITING {
            st = self.room.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        if st.closed {
            return false;
        }
        st.events.push_back(event);
        if !st.signalled {
            st.signalled = true;
            // One byte into an empty pipe: cannot block or fail short of a
            // closed read end, which we hold.
            // SAFETY: writing one byte from a live buffer to our own fd.
            let _ = unsafe { libc::write(self.write_end.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
        }
        true
    }

    fn close(&self) {
        let dropped = {
            let mut st = lock(&self.state);
            st.closed = true;
            std::mem::take(&mut st.events)
        };
        self.room.notify_all();
        // Events may hold blocks and environments: dropped outside the lock.
        drop(dropped);
    }
}

/// Keeps the queue open while the host holds it.
struct Owner {
    inner: Arc<QueueInner>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.inner.close();
    }
}

/// A queue of events that a host takes on its own thread (see the module
/// documentation). Clones share the queue; when the last clone goes, the
/// queue closes: waiting events are dropped and sources stop sending.
#[derive(Clone)]
pub struct EventQueue {
    owner: Arc<Owner>,
}

impl std::fmt::Debug for EventQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue")
            .field("fd", &self.fd())
            .field("waiting", &self.len())
            .finish()
    }
}

impl EventQueue {
    /// A new, empty queue with its pipe.
    pub fn new() -> Result<Self> {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two fds on success.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return Err(Error::io(
                "cannot make the event queue's pipe",
                std::io::Error::last_os_error(),
            ));
        }
        // SAFETY: both fds were just made and are ours alone.
        let (read_end, write_end) = unsafe {
            use std::os::fd::FromRawFd;
            (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
        };
        Ok(EventQueue {
            owner: Arc::new(Owner {
                inner: Arc::new(QueueInner {
                    state: Mutex::new(State {
                        events: VecDeque::new(),
                        signalled: false,
                        closed: false,
                    }),
                    room: Condvar::new(),
                    read_end,
                    write_end,
                }),
            }),
        })
    }

    /// The read end of the queue's pipe: readable while events wait (then
    /// take until [`EventQueue::take`] returns nothing). Owned by the queue:
    /// never close it; a watcher that closes what it watches (Node's
    /// `net.Socket`) must watch a `dup` of it.
    pub fn fd(&self) -> RawFd {
        self.owner.inner.read_end.as_raw_fd()
    }

    /// Takes up to `max` waiting events (all of them when `max` is 0), in
    /// order, without blocking. Empty when none wait.
    pub fn take(&self, max: usize) -> Vec<Event> {
        let inner = &self.owner.inner;
        let taken: Vec<Event> = {
            let mut st = lock(&inner.state);
            let n = if max == 0 {
                st.events.len()
            } else {
                max.min(st.events.len())
            };
            let taken = st.events.drain(..n).collect();
            if st.events.is_empty() && st.signalled {
                // Empty the pipe (the host may have read the byte itself).
                let mut buf = [0u8; 64];
                // SAFETY: reading into a live buffer from our non-blocking fd.
                while unsafe {
                    libc::read(
                        inner.read_end.as_raw_fd(),
                        buf.as_mut_ptr().cast(),
                        buf.len(),
                    )
                } > 0
                {}
                st.signalled = false;
            }
            taken
        };
        if !taken.is_empty() {
            inner.room.notify_all();
        }
        taken
    }

    /// How many events wait.
    pub fn len(&self) -> usize {
        lock(&self.owner.inner.state).events.len()
    }

    /// True when no event waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shared part, for sources to push into (it does not keep the
    /// queue open).
    pub(crate) fn sink(&self, tag: u64) -> Sink {
        Sink {
            inner: self.owner.inner.clone(),
            tag,
        }
    }
}

/// Where one source sends its events: a queue and the source's tag.
#[derive(Clone)]
pub(crate) struct Sink {
    inner: Arc<QueueInner>,
    tag: u64,
}

impl Sink {
    /// Sends an event (see [`QueueInner::push`]); false once the queue closed.
    pub(crate) fn send(&self, kind: EventKind) -> bool {
        self.inner.push(Event {
            tag: self.tag,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ResponseType;
    use crate::task::TaskStatus;

    fn update(n: i64) -> EventKind {
        EventKind::Task {
            task_id: "t".into(),
            event: TaskEvent {
                response_type: ResponseType::Update,
                status: TaskStatus::Running,
                message: None,
                current: Some(n),
                maximum: None,
                info: None,
                error: None,
            },
        }
    }

    fn readable(fd: RawFd) -> bool {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd.
        unsafe { libc::poll(&mut p, 1, 0) == 1 }
    }

    #[test]
    fn the_fd_is_readable_exactly_while_events_wait() {
        let q = EventQueue::new().unwrap();
        let sink = q.sink(7);
        assert!(!readable(q.fd()));
        assert!(sink.send(update(1)));
        assert!(sink.send(update(2)));
        assert!(readable(q.fd()));
        let first = q.take(1);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].tag, 7);
        assert!(readable(q.fd()), "one event still waits");
        let rest = q.take(0);
        assert_eq!(rest.len(), 1);
        assert!(!readable(q.fd()));
        assert!(q.take(0).is_empty());
    }

    #[test]
    fn a_full_queue_holds_back_progress_but_never_an_ending() {
        let q = EventQueue::new().unwrap();
        let sink = q.sink(1);
        for i in 0..MAX_WAITING {
            assert!(sink.send(update(i as i64)));
        }
        // A terminal event gets through at once.
        assert!(sink.send(EventKind::Closed {
            result: Ok(Some(0))
        }));
        // A non-terminal one waits until the host takes.
        let (tx, rx) = std::sync::mpsc::channel();
        let s2 = sink.clone();
        let t = std::thread::spawn(move || {
            s2.send(update(-1));
            tx.send(()).unwrap();
        });
        assert!(rx
            .recv_timeout(std::time::Duration::from_millis(200))
            .is_err());
        assert_eq!(q.take(10).len(), 10);
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        t.join().unwrap();
        assert_eq!(q.take(0).len(), MAX_WAITING - 10 + 2);
    }

    #[test]
    fn dropping_the_queue_releases_waiting_producers() {
        let q = EventQueue::new().unwrap();
        let sink = q.sink(1);
        for i in 0..MAX_WAITING {
            sink.send(update(i as i64));
        }
        let t = std::thread::spawn(move || sink.send(update(-1)));
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(q);
        assert!(!t.join().unwrap(), "the event is refused, not queued");
    }
}
