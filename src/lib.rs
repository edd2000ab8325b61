//! libappose: the service side of Appose in Rust, behind a C ABI.
//!
//! Build an [`Environment`], get a [`Service`] (a worker process) from it, run
//! scripts there as [`Task`]s and follow their events. The safe core lives in
//! this crate's modules; `ffi` only converts and delegates (see
//! `include/appose.h` for the C contract).

pub mod builder;
pub mod environment;
pub mod error;
pub mod ndarray;
pub mod protocol;
pub mod queue;
pub mod service;
pub mod shm;
pub mod syntax;
pub mod task;
pub mod threads;
pub mod value;
pub mod worker_object;

pub mod faults;
mod ffi;
mod lines;

pub use builder::{Builder, BuilderKind};
pub use environment::Environment;
pub use error::{Error, ErrorKind, Result};
pub use ndarray::{DType, NDArray, Order};
pub use protocol::ResponseType;
pub use queue::{Event, EventKind, EventQueue};
pub use service::{DebugListener, Service, ServiceConfig};
pub use shm::SharedMemory;
pub use syntax::Syntax;
pub use task::{Listener, Task, TaskEvent, TaskStatus};
pub use value::{Map, Number, Value};
pub use worker_object::WorkerObject;

/// Locks a mutex, ignoring poisoning: a panicking user callback must not
/// wedge the service (callbacks run under `catch_unwind`, state stays valid).
pub(crate) fn lock<T: ?Sized>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The message of a caught panic, for reports.
pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_owned()
    }
}
