//! C ABI for [`crate::queue`]: event queues, the event struct that both
//! queues and task listeners use, and the sources that feed queues.

use std::ffi::{c_char, c_int, CString};
use std::ptr;
use std::sync::{Arc, Mutex};

use super::handle::{self, appose_builder, appose_env, appose_map, appose_service, appose_task};
use super::{appose_error, appose_status, check_out, guard, timeout_from_ms, to_cstring, FfiError};
use crate::queue::{Event, EventKind, EventQueue};
use crate::value::Value;
use crate::TaskEvent;

/// A queue of events a host takes on its own thread (see `appose_queue_*`).
pub struct appose_queue {
    _opaque: [u8; 0],
}

/// Events taken from a queue in one call (see `appose_event_batch_*`).
pub struct appose_event_batch {
    _opaque: [u8; 0],
}

/// What an event is about. Numbers are part of the ABI.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum appose_event_kind {
    /// A task's event: LAUNCH, UPDATE, or its one terminal event
    /// (COMPLETION, CANCELATION, FAILURE, CRASH).
    APPOSE_EVENT_TASK = 0,
    /// The outcome of `appose_service_close_async`.
    APPOSE_EVENT_CLOSED = 1,
    /// Build progress: `message` is the title, `current` and `maximum`.
    APPOSE_EVENT_BUILD_PROGRESS = 2,
    /// A line of a build tool's output, in `message`.
    APPOSE_EVENT_BUILD_OUTPUT = 3,
    /// A line of a build tool's error output, in `message`.
    APPOSE_EVENT_BUILD_ERROR = 4,
    /// The outcome of `appose_builder_build_async`: `env` on success.
    APPOSE_EVENT_BUILT = 5,
}

/// One event, from a queue or given to a task listener.
///
/// Every field is a fixed-width integer or a pointer (no `bool`, no hidden
/// padding). Pointers are NULL when the field does not apply, and what they
/// point to (strings, the `info` map, the `env` handle) lives until the
/// batch is freed, or for a listener until it returns: copy what you keep
/// (e.g. `appose_map_get_ndarray` on `info` gives a handle of your own).
/// Fields are only ever added at the end: a host built against a newer
/// header reads a field only when its offset is below `size`.
#[repr(C)]
pub struct appose_event {
    /// `sizeof(appose_event)` in the library that made this event.
    pub size: usize,
    /// An appose_event_kind.
    pub kind: i32,
    /// TASK: an appose_response_type.
    pub response_type: i32,
    /// TASK: the task's status with this event taken into account (an
    /// appose_task_status).
    pub task_status: i32,
    /// CLOSED and BUILT: `APPOSE_STATUS_OK`, or the failure's status (then
    /// `error` holds its message).
    pub status: i32,
    /// 1 when `current` holds a value (TASK UPDATE; always for
    /// BUILD_PROGRESS), else 0.
    pub has_current: i32,
    /// 1 when `maximum` holds a value, else 0.
    pub has_maximum: i32,
    /// CLOSED: the worker's exit code (128 + signal if killed), -1 when it
    /// was never started or its code is unknown.
    pub exit_code: i32,
    /// Always 0.
    pub reserved: i32,
    /// The tag given when the source was attached to the queue (0 for a
    /// listener).
    pub tag: u64,
    pub current: i64,
    pub maximum: i64,
    /// TASK: the task's id.
    pub task_id: *const c_char,
    /// TASK UPDATE: its message; BUILD_PROGRESS: the title; BUILD_OUTPUT
    /// and BUILD_ERROR: the line.
    pub message: *const c_char,
    /// TASK UPDATE: its `info` value as JSON text.
    pub info_json: *const c_char,
    /// TASK UPDATE: its `info` (an object) as a map, arrays and blocks
    /// typed (`appose_map_get_ndarray`, `appose_map_get_shm`). Owned by the
    /// event: never free it.
    pub info: *const appose_map,
    /// TASK FAILURE and CRASH: the error text; CLOSED and BUILT: the
    /// failure's message.
    pub error: *const c_char,
    /// BUILT: the environment. Owned by the event: keep it with
    /// `appose_env_clone`.
    pub env: *const appose_env,
}

/// What an event's pointers point to, kept until the event is released.
#[derive(Default)]
pub(crate) struct Keep {
    strings: Vec<CString>,
    maps: Vec<usize>,
    envs: Vec<usize>,
}

impl Keep {
    fn string(&mut self, s: &str) -> *const c_char {
        let c = to_cstring(s);
        let p = c.as_ptr();
        self.strings.push(c);
        p
    }

    fn opt_string(&mut self, s: Option<&str>) -> *const c_char {
        s.map_or(ptr::null(), |s| self.string(s))
    }
}

impl Drop for Keep {
    fn drop(&mut self) {
        for &m in &self.maps {
            let _ = handle::remove::<appose_map>(ptr::without_provenance_mut(m));
        }
        for &e in &self.envs {
            let _ = handle::remove::<appose_env>(ptr::without_provenance_mut(e));
        }
    }
}

fn empty_event(kind: appose_event_kind, tag: u64) -> appose_event {
    appose_event {
        size: std::mem::size_of::<appose_event>(),
        kind: kind as i32,
        response_type: 0,
        task_status: 0,
        status: appose_status::APPOSE_STATUS_OK as i32,
        has_current: 0,
        has_maximum: 0,
        exit_code: -1,
        reserved: 0,
        tag,
        current: 0,
        maximum: 0,
        task_id: ptr::null(),
        message: ptr::null(),
        info_json: ptr::null(),
        info: ptr::null(),
        error: ptr::null(),
        env: ptr::null(),
    }
}

/// A task event in C form; its pointers live as long as `keep`.
pub(crate) fn task_event(
    ev: &TaskEvent,
    task_id: Option<&str>,
    tag: u64,
    keep: &mut Keep,
) -> appose_event {
    let mut c = empty_event(appose_event_kind::APPOSE_EVENT_TASK, tag);
    c.response_type = super::task::response_to_c(ev.response_type) as i32;
    c.task_status = super::task::status_to_c(ev.status) as i32;
    c.task_id = keep.opt_string(task_id);
    c.message = keep.opt_string(ev.message.as_deref());
    c.has_current = ev.current.is_some().into();
    c.current = ev.current.unwrap_or(0);
    c.has_maximum = ev.maximum.is_some().into();
    c.maximum = ev.maximum.unwrap_or(0);
    if let Some(info) = &ev.info {
        c.info_json = keep.string(&info.to_json());
        if let Value::Object(m) = info {
            let h = handle::insert::<appose_map>(Arc::new(Mutex::new(m.clone())));
            keep.maps.push(h.addr());
            c.info = h;
        }
    }
    c.error = keep.opt_string(ev.error.as_deref());
    c
}

fn failure(c: &mut appose_event, e: crate::Error, keep: &mut Keep) {
    let e = FfiError::from(e);
    c.status = e.status as i32;
    c.error = keep.string(&e.message);
}

fn queued_event(ev: Event, keep: &mut Keep) -> appose_event {
    use appose_event_kind::*;
    let tag = ev.tag;
    match ev.kind {
        EventKind::Task { task_id, event } => task_event(&event, Some(&task_id), tag, keep),
        EventKind::Closed { result } => {
            let mut c = empty_event(APPOSE_EVENT_CLOSED, tag);
            match result {
                Ok(code) => c.exit_code = code.unwrap_or(-1),
                Err(e) => failure(&mut c, e, keep),
            }
            c
        }
        EventKind::BuildProgress {
            title,
            current,
            maximum,
        } => {
            let mut c = empty_event(APPOSE_EVENT_BUILD_PROGRESS, tag);
            c.message = keep.string(&title);
            c.has_current = 1;
            c.current = i64::try_from(current).unwrap_or(i64::MAX);
            c.has_maximum = 1;
            c.maximum = i64::try_from(maximum).unwrap_or(i64::MAX);
            c
        }
        EventKind::BuildOutput { line } => {
            let mut c = empty_event(APPOSE_EVENT_BUILD_OUTPUT, tag);
            c.message = keep.string(&line);
            c
        }
        EventKind::BuildError { line } => {
            let mut c = empty_event(APPOSE_EVENT_BUILD_ERROR, tag);
            c.message = keep.string(&line);
            c
        }
        EventKind::Built { result } => {
            let mut c = empty_event(APPOSE_EVENT_BUILT, tag);
            match result {
                Ok(env) => {
                    let h = handle::insert::<appose_env>(Arc::new(env));
                    keep.envs.push(h.addr());
                    c.env = h;
                }
                Err(e) => failure(&mut c, e, keep),
            }
            c
        }
    }
}

/// Events taken in one call, with everything they point to.
pub(crate) struct Batch {
    events: Vec<appose_event>,
    _keep: Keep,
}

// SAFETY: the events' pointers point into `_keep` (strings owned here) or
// are handle tokens; nothing is shared with another owner.
unsafe impl Send for Batch {}
// SAFETY: as above; the batch is read-only once made.
unsafe impl Sync for Batch {}

/// A new, empty event queue. Free with `appose_queue_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_queue_new(
    queue_out: *mut *mut appose_queue,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        check_out(queue_out, "queue_out")?;
        *queue_out = handle::insert::<appose_queue>(EventQueue::new()?);
        Ok(())
    })
}

/// The queue's file descriptor: the read end of a pipe that is readable
/// while events wait. When it is, take until `appose_queue_take` gives an
/// empty batch. Owned by the queue: never close it (a watcher that closes
/// what it watches, like Node's `net.Socket`, watches
/// `appose_queue_dup_fd` instead). Reading it yourself is harmless.
#[no_mangle]
pub unsafe extern "C" fn appose_queue_fd(
    queue: *const appose_queue,
    fd_out: *mut c_int,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let q = handle::get(queue)?;
        check_out(fd_out, "fd_out")?;
        *fd_out = q.fd();
        Ok(())
    })
}

/// A duplicate of the queue's file descriptor (close-on-exec) that the
/// caller owns and closes: for watchers that close the fd they watch.
#[no_mangle]
pub unsafe extern "C" fn appose_queue_dup_fd(
    queue: *const appose_queue,
    fd_out: *mut c_int,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let q = handle::get(queue)?;
        check_out(fd_out, "fd_out")?;
        // SAFETY: duplicating a live fd the queue owns.
        let fd = libc::fcntl(q.fd(), libc::F_DUPFD_CLOEXEC, 0);
        if fd < 0 {
            return Err(crate::Error::io(
                "cannot duplicate the queue's fd",
                std::io::Error::last_os_error(),
            )
            .into());
        }
        *fd_out = fd;
        Ok(())
    })
}

/// Takes up to `max` waiting events (every waiting event when `max` is 0)
/// in order, without ever blocking: the batch is empty when none wait.
/// Events of one task keep their order. Free the batch with
/// `appose_event_batch_free`; its events and what they point to live until
/// then.
#[no_mangle]
pub unsafe extern "C" fn appose_queue_take(
    queue: *mut appose_queue,
    max: usize,
    batch_out: *mut *mut appose_event_batch,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let q = handle::get(queue)?;
        check_out(batch_out, "batch_out")?;
        let mut keep = Keep::default();
        let events = q
            .take(max)
            .into_iter()
            .map(|e| queued_event(e, &mut keep))
            .collect();
        *batch_out = handle::insert::<appose_event_batch>(Arc::new(Batch {
            events,
            _keep: keep,
        }));
        Ok(())
    })
}

/// Frees a queue handle. Events still waiting are dropped, and sources
/// attached to it stop sending (tasks, closes and builds go on).
#[no_mangle]
pub extern "C" fn appose_queue_free(queue: *mut appose_queue) -> appose_status {
    guard(ptr::null_mut(), || handle::remove(queue))
}

/// The number of events in a batch (0 for a NULL or freed batch).
#[no_mangle]
pub extern "C" fn appose_event_batch_len(batch: *const appose_event_batch) -> usize {
    std::panic::catch_unwind(|| handle::get(batch).map_or(0, |b| b.events.len())).unwrap_or(0)
}

/// Event `index` of a batch, valid until the batch is freed; NULL when
/// `index` is out of range or the batch is NULL or freed.
#[no_mangle]
pub extern "C" fn appose_event_batch_get(
    batch: *const appose_event_batch,
    index: usize,
) -> *const appose_event {
    std::panic::catch_unwind(|| {
        handle::get(batch).map_or(ptr::null(), |b| {
            // The batch lives in the table until freed; its events never move.
            b.events.get(index).map_or(ptr::null(), |e| e as *const _)
        })
    })
    .unwrap_or(ptr::null())
}

/// Frees a batch and everything its events point to.
#[no_mangle]
pub extern "C" fn appose_event_batch_free(batch: *mut appose_event_batch) -> appose_status {
    guard(ptr::null_mut(), || handle::remove(batch))
}

/// Sends the task's events into `queue`, tagged `tag`, instead of (or
/// beside) listener calls. Only while the task is INITIAL. Its terminal
/// event always gets through; other events wait while the queue holds
/// 1,024 (and then the service stops reading its worker's output).
#[no_mangle]
pub extern "C" fn appose_task_listen_queue(
    task: *mut appose_task,
    queue: *const appose_queue,
    tag: u64,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let task = handle::get(task)?;
        let q = handle::get(queue)?;
        task.listen_queue(&q, tag)?;
        Ok(())
    })
}

/// Sends the events of every task the service makes from now on into
/// `queue`, tagged `tag` (each event names its task in `task_id`).
#[no_mangle]
pub extern "C" fn appose_service_listen_queue(
    service: *mut appose_service,
    queue: *const appose_queue,
    tag: u64,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let q = handle::get(queue)?;
        service.listen_queue(&q, tag);
        Ok(())
    })
}

/// Starts closing the service as `appose_service_close` does, without
/// blocking: the outcome arrives in `queue` as one APPOSE_EVENT_CLOSED
/// tagged `tag` (`status` as `appose_service_close` would return it,
/// `exit_code`). The closing runs on a library thread (with the thread
/// hooks). Allowed inside a callback.
#[no_mangle]
pub extern "C" fn appose_service_close_async(
    service: *mut appose_service,
    timeout_ms: i64,
    queue: *const appose_queue,
    tag: u64,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let q = handle::get(queue)?;
        service.close_async(timeout_from_ms(timeout_ms), &q, tag)?;
        Ok(())
    })
}

fn build_async(
    builder: *mut appose_builder,
    queue: *const appose_queue,
    tag: u64,
    rebuild: bool,
) -> super::FfiResult {
    let b = handle::get(builder)?;
    let q = handle::get(queue)?;
    crate::builder::spawn_build(b, &q, tag, rebuild)?;
    Ok(())
}

/// Builds as `appose_builder_build` does, without blocking: progress, the
/// tools' lines and then one APPOSE_EVENT_BUILT (always delivered) arrive in
/// `queue`, tagged `tag`. The build runs on a library thread (with the
/// thread hooks), where the builder's own listeners also run; the builder
/// refuses other calls (`APPOSE_STATUS_INVALID_STATE`) until it ends.
#[no_mangle]
pub extern "C" fn appose_builder_build_async(
    builder: *mut appose_builder,
    queue: *const appose_queue,
    tag: u64,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || build_async(builder, queue, tag, false))
}

/// As `appose_builder_build_async`, deleting the environment first (as
/// `appose_builder_rebuild`).
#[no_mangle]
pub extern "C" fn appose_builder_rebuild_async(
    builder: *mut appose_builder,
    queue: *const appose_queue,
    tag: u64,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || build_async(builder, queue, tag, true))
}
