//! The error type of the safe core. Each [`ErrorKind`] maps to one C status.

use std::fmt;

/// What went wrong, coarsely: the C ABI turns this into a status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An argument is malformed or out of range.
    InvalidArgument,
    /// Text that should be JSON is not.
    InvalidJson,
    /// The object is not in a state that allows the call (e.g. adding a
    /// listener to a task that already started).
    InvalidState,
    /// An operating-system call failed.
    Io,
    /// A file or executable the call needs does not exist.
    NotFound,
    /// Something to be created exists already (e.g. a named memory block).
    AlreadyExists,
    /// A timeout ran out; the object is left as it was.
    Timeout,
    /// A blocking call was made from a callback, where it would deadlock.
    Reentrant,
    /// The task finished with FAILED.
    TaskFailed,
    /// The task finished with CANCELED.
    TaskCanceled,
    /// The task finished with CRASHED.
    TaskCrashed,
    /// The worker is shut down or shutting down and takes no more tasks.
    ServiceClosed,
    /// The worker has left too many requests unread: this one is refused.
    Backlog,
    /// `close` ran out of time while a listener was still running; the
    /// worker is gone, the remaining callbacks run later.
    ListenerBusy,
}

/// An error with a message a user can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn io(context: impl fmt::Display, err: std::io::Error) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
            _ => ErrorKind::Io,
        };
        Error::new(kind, format!("{context}: {err}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
