//! The handle table: C handles are numbered tokens, never dereferenced.
//!
//! Every handle given out is a fresh number (never reused) dressed as an
//! opaque pointer. Calls look the number up and clone the object out under a
//! short lock, so a handle freed on one thread while another thread blocks in
//! `appose_task_wait` only drops a reference. A freed, never-issued or
//! wrong-kind handle is an error, never undefined behaviour.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use super::appose_status::APPOSE_STATUS_INVALID_HANDLE;
use super::queue::{appose_event_batch, appose_queue};
use super::value::appose_value;
use super::worker_object::appose_worker_object;
use super::{appose_error, FfiError, FfiResult};
use crate::lock;
use crate::{Builder, Environment, Map, NDArray, Service, SharedMemory, Task};

/// An environment handle (see `appose_env_*`).
pub struct appose_env {
    _opaque: [u8; 0],
}

/// A service handle: one worker process (see `appose_service_*`).
pub struct appose_service {
    _opaque: [u8; 0],
}

/// A task handle (see `appose_task_*`).
pub struct appose_task {
    _opaque: [u8; 0],
}

/// A shared memory block handle (see `appose_shm_*`).
pub struct appose_shm {
    _opaque: [u8; 0],
}

/// An n-dimensional array handle (see `appose_ndarray_*`).
pub struct appose_ndarray {
    _opaque: [u8; 0],
}

/// A map of named values: task inputs and outputs (see `appose_map_*`).
pub struct appose_map {
    _opaque: [u8; 0],
}

/// An environment builder handle (see `appose_builder_*`).
pub struct appose_builder {
    _opaque: [u8; 0],
}

pub(crate) enum Object {
    Value(super::value::ValueRef),
    WorkerObject(crate::WorkerObject),
    Queue(crate::queue::EventQueue),
    Batch(Arc<super::queue::Batch>),
    Error(Arc<super::error::ErrorObject>),
    Env(Arc<Environment>),
    Service(Service),
    Task(Task),
    Shm(SharedMemory),
    NDArray(NDArray),
    Map(Arc<Mutex<Map>>),
    Builder(Arc<Mutex<Builder>>),
}

static TABLE: LazyLock<Mutex<HashMap<usize, Object>>> = LazyLock::new(Default::default);

/// Next token; steps of 16 keep tokens looking like aligned pointers.
static NEXT: AtomicUsize = AtomicUsize::new(0x1000);

/// A kind of handle and the object behind it.
pub(crate) trait Handle {
    type Target: Clone;
    const NAME: &'static str;
    fn wrap(t: Self::Target) -> Object;
    fn unwrap(o: &Object) -> Option<&Self::Target>;
}

macro_rules! handle_kind {
    ($handle:ident, $variant:ident, $target:ty, $name:literal) => {
        impl Handle for $handle {
            type Target = $target;
            const NAME: &'static str = $name;
            fn wrap(t: $target) -> Object {
                Object::$variant(t)
            }
            fn unwrap(o: &Object) -> Option<&$target> {
                match o {
                    Object::$variant(t) => Some(t),
                    _ => None,
                }
            }
        }
    };
}

handle_kind!(
    appose_error,
    Error,
    Arc<super::error::ErrorObject>,
    "appose_error"
);
handle_kind!(
    appose_queue,
    Queue,
    crate::queue::EventQueue,
    "appose_queue"
);
handle_kind!(
    appose_event_batch,
    Batch,
    Arc<super::queue::Batch>,
    "appose_event_batch"
);
handle_kind!(appose_value, Value, super::value::ValueRef, "appose_value");
handle_kind!(
    appose_worker_object,
    WorkerObject,
    crate::WorkerObject,
    "appose_worker_object"
);
handle_kind!(appose_env, Env, Arc<Environment>, "appose_env");
handle_kind!(appose_service, Service, Service, "appose_service");
handle_kind!(appose_task, Task, Task, "appose_task");
handle_kind!(appose_shm, Shm, SharedMemory, "appose_shm");
handle_kind!(appose_ndarray, NDArray, NDArray, "appose_ndarray");
handle_kind!(appose_map, Map, Arc<Mutex<Map>>, "appose_map");
handle_kind!(
    appose_builder,
    Builder,
    Arc<Mutex<Builder>>,
    "appose_builder"
);

/// Registers `t` and returns its new handle.
pub(crate) fn insert<H: Handle>(t: H::Target) -> *mut H {
    let id = NEXT.fetch_add(16, Ordering::Relaxed);
    lock(&TABLE).insert(id, H::wrap(t));
    std::ptr::without_provenance_mut(id)
}

/// The object behind `h`, cloned out of the table.
pub(crate) fn get<H: Handle>(h: *const H) -> FfiResult<H::Target> {
    if h.is_null() {
        return Err(FfiError::new(
            super::appose_status::APPOSE_STATUS_NULL_ARGUMENT,
            format!("the {} handle is NULL", H::NAME),
        ));
    }
    let table = lock(&TABLE);
    match table.get(&h.addr()) {
        Some(o) => H::unwrap(o).cloned().ok_or_else(|| wrong_kind::<H>(h)),
        None => Err(FfiError::new(
            APPOSE_STATUS_INVALID_HANDLE,
            format!(
                "{:p} is not a live {} handle (freed already, or never issued)",
                h,
                H::NAME
            ),
        )),
    }
}

/// Removes `h` from the table. NULL is a no-op. The object is dropped after
/// the table lock is released, since dropping it may run user callbacks.
pub(crate) fn remove<H: Handle>(h: *mut H) -> FfiResult {
    if h.is_null() {
        return Ok(());
    }
    let removed = {
        let mut table = lock(&TABLE);
        match table.get(&h.addr()) {
            Some(o) if H::unwrap(o).is_some() => table.remove(&h.addr()),
            Some(_) => return Err(wrong_kind::<H>(h)),
            None => None,
        }
    };
    match removed {
        Some(o) => {
            drop(o);
            Ok(())
        }
        None => Err(FfiError::new(
            APPOSE_STATUS_INVALID_HANDLE,
            format!("{:p} is not a live {} handle (freed twice?)", h, H::NAME),
        )),
    }
}

fn wrong_kind<H: Handle>(h: *const H) -> FfiError {
    FfiError::new(
        APPOSE_STATUS_INVALID_HANDLE,
        format!("{:p} is a handle of another kind, not {}", h, H::NAME),
    )
}
