//! C ABI for [`crate::task`].

use std::ffi::{c_char, c_void};
use std::ptr;

use super::handle::{self, appose_map, appose_task};
use super::{
    appose_error, appose_status, appose_userdata_free, check_out, guard, string_out,
    timeout_from_ms, FfiError, UserData,
};
use crate::{ResponseType, TaskEvent, TaskStatus};

/// Where a task is in its life. Numbers are part of the ABI.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum appose_task_status {
    /// Made, not yet sent to the worker; listeners may be added.
    APPOSE_TASK_INITIAL = 0,
    /// Sent, not yet launched by the worker.
    APPOSE_TASK_QUEUED = 1,
    /// Launched by the worker.
    APPOSE_TASK_RUNNING = 2,
    /// Finished; outputs are available.
    APPOSE_TASK_COMPLETE = 3,
    /// Canceled at the caller's request.
    APPOSE_TASK_CANCELED = 4,
    /// The script raised an error; see appose_task_error.
    APPOSE_TASK_FAILED = 5,
    /// The worker exited with the task pending; see appose_task_error.
    APPOSE_TASK_CRASHED = 6,
}

/// The kind of a task event. Numbers are part of the ABI.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum appose_response_type {
    APPOSE_RESPONSE_LAUNCH = 0,
    APPOSE_RESPONSE_UPDATE = 1,
    APPOSE_RESPONSE_COMPLETION = 2,
    APPOSE_RESPONSE_CANCELATION = 3,
    APPOSE_RESPONSE_FAILURE = 4,
    /// Our own verdict when the worker exits with the task pending.
    APPOSE_RESPONSE_CRASH = 5,
}

/// Receives the events of one task, in order, on the service's dispatcher
/// thread. `event` lives for the call only. Must not unwind (no C++
/// exceptions may escape it).
pub type appose_task_listener =
    Option<unsafe extern "C" fn(userdata: *mut c_void, event: *const super::queue::appose_event)>;

pub(crate) fn status_to_c(s: TaskStatus) -> appose_task_status {
    use appose_task_status::*;
    match s {
        TaskStatus::Initial => APPOSE_TASK_INITIAL,
        TaskStatus::Queued => APPOSE_TASK_QUEUED,
        TaskStatus::Running => APPOSE_TASK_RUNNING,
        TaskStatus::Complete => APPOSE_TASK_COMPLETE,
        TaskStatus::Canceled => APPOSE_TASK_CANCELED,
        TaskStatus::Failed => APPOSE_TASK_FAILED,
        TaskStatus::Crashed => APPOSE_TASK_CRASHED,
    }
}

pub(crate) fn response_to_c(r: ResponseType) -> appose_response_type {
    use appose_response_type::*;
    match r {
        ResponseType::Launch => APPOSE_RESPONSE_LAUNCH,
        ResponseType::Update => APPOSE_RESPONSE_UPDATE,
        ResponseType::Completion => APPOSE_RESPONSE_COMPLETION,
        ResponseType::Cancelation => APPOSE_RESPONSE_CANCELATION,
        ResponseType::Failure => APPOSE_RESPONSE_FAILURE,
        ResponseType::Crash => APPOSE_RESPONSE_CRASH,
    }
}

/// Adds a listener. Only while the task is INITIAL. On success the library
/// owns `userdata` and calls `userdata_free` (if not NULL) exactly once:
/// on the service's dispatcher thread after the task's last event, or on
/// the calling thread of `appose_task_free` when the task never started; on
/// failure it never does.
#[no_mangle]
pub unsafe extern "C" fn appose_task_listen(
    task: *mut appose_task,
    listener: appose_task_listener,
    userdata: *mut c_void,
    userdata_free: appose_userdata_free,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let task = handle::get(task)?;
        let Some(listener) = listener else {
            return Err(FfiError::new(
                appose_status::APPOSE_STATUS_NULL_ARGUMENT,
                "`listener` is NULL",
            ));
        };
        let data = UserData::new(userdata, userdata_free);
        let armed = data.armed();
        let id = task.id().to_owned();
        let result = task.try_listen(Box::new(move |ev: &TaskEvent| {
            let mut keep = super::queue::Keep::default();
            let c = super::queue::task_event(ev, Some(&id), 0, &mut keep);
            // SAFETY: the C contract of appose_task_listener.
            unsafe { listener(data.ptr(), &c) };
        }));
        if let Err((e, rejected)) = result {
            // On failure the caller keeps `userdata`: drop without freeing it.
            armed.store(false, std::sync::atomic::Ordering::Release);
            drop(rejected);
            return Err(e.into());
        }
        Ok(())
    })
}

/// Sends the task to the worker. `APPOSE_STATUS_INVALID_STATE` if it was
/// started already. Does not block: a request the worker's stdin cannot
/// take yet waits in memory.
#[no_mangle]
pub extern "C" fn appose_task_start(
    task: *mut appose_task,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        handle::get(task)?.start()?;
        Ok(())
    })
}

/// Blocks until the task finishes (starting it if INITIAL), at most
/// `timeout_ms` milliseconds (negative: no limit). Returns OK for COMPLETE,
/// `APPOSE_STATUS_TASK_FAILED` / `_CANCELED` / `_CRASHED` otherwise (the error
/// text in `appose_last_error()`), `APPOSE_STATUS_TIMEOUT` if time ran out
/// (the task goes on), `APPOSE_STATUS_REENTRANT` inside a callback. Every
/// listener call for the task has returned before this does.
#[no_mangle]
pub extern "C" fn appose_task_wait(
    task: *mut appose_task,
    timeout_ms: i64,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let task = handle::get(task)?;
        task.wait(timeout_from_ms(timeout_ms))?;
        Ok(())
    })
}

/// Asks the worker to cancel the task. Cooperative: the script must check
/// `task.cancel_requested`. A task not yet started is canceled at once.
#[no_mangle]
pub extern "C" fn appose_task_cancel(
    task: *mut appose_task,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        handle::get(task)?.cancel()?;
        Ok(())
    })
}

/// The task's current status.
#[no_mangle]
pub unsafe extern "C" fn appose_task_get_status(
    task: *const appose_task,
    status_out: *mut appose_task_status,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let task = handle::get(task)?;
        check_out(status_out, "status_out")?;
        *status_out = status_to_c(task.status());
        Ok(())
    })
}

/// The name of a task status (`"COMPLETE"`, ...). Static; never free it.
/// Takes an `int` so that any value is safe to pass (`"UNKNOWN"`).
#[no_mangle]
pub extern "C" fn appose_task_status_str(status: std::ffi::c_int) -> *const c_char {
    usize::try_from(status)
        .ok()
        .and_then(|i| TaskStatus::ALL.get(i))
        .map_or(c"UNKNOWN", |s| s.name())
        .as_ptr()
}

/// The task's outputs as a JSON object (`{}` before completion). Free with
/// `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_task_outputs_json(
    task: *const appose_task,
    json_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let task = handle::get(task)?;
        check_out(json_out, "json_out")?;
        *json_out = string_out(&crate::Value::Object(task.outputs()).to_json());
        Ok(())
    })
}

/// The task's outputs as a new map handle: arrays and blocks the worker
/// made are attached and owned here (unlinked when their last handle goes).
/// Free with `appose_map_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_task_outputs(
    task: *const appose_task,
    map_out: *mut *mut appose_map,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let task = handle::get(task)?;
        check_out(map_out, "map_out")?;
        *map_out = handle::insert(std::sync::Arc::new(std::sync::Mutex::new(task.outputs())));
        Ok(())
    })
}

/// `outputs["result"]` as JSON text, `null` when absent. Free with
/// `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_task_result_json(
    task: *const appose_task,
    json_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let task = handle::get(task)?;
        check_out(json_out, "json_out")?;
        *json_out = string_out(&task.result().unwrap_or(crate::Value::Null).to_json());
        Ok(())
    })
}

/// `outputs["result"]` as a value handle (typed at any depth; null when
/// absent). Free with `appose_value_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_task_result(
    task: *const appose_task,
    value_out: *mut *mut super::value::appose_value,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let task = handle::get(task)?;
        check_out(value_out, "value_out")?;
        *value_out = handle::insert::<super::value::appose_value>(super::value::ValueRef::new(
            task.result().unwrap_or_default(),
        ));
        Ok(())
    })
}

/// The error text of a FAILED or CRASHED task; NULL is written when there is
/// none. Free with `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_task_error(
    task: *const appose_task,
    text_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let task = handle::get(task)?;
        check_out(text_out, "text_out")?;
        *text_out = task.error().map_or(ptr::null_mut(), |e| string_out(&e));
        Ok(())
    })
}

/// The task's script. Free with `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_task_script(
    task: *const appose_task,
    script_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let task = handle::get(task)?;
        check_out(script_out, "script_out")?;
        *script_out = string_out(task.script());
        Ok(())
    })
}

/// The worker queue the task runs on (`"main"`, ...); NULL is written when
/// it runs on any thread. Free with `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_task_queue(
    task: *const appose_task,
    queue_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let task = handle::get(task)?;
        check_out(queue_out, "queue_out")?;
        *queue_out = task.queue().map_or(ptr::null_mut(), string_out);
        Ok(())
    })
}

/// The task's inputs as a new map handle (arrays and blocks shared, not
/// copied). Free with `appose_map_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_task_inputs(
    task: *const appose_task,
    map_out: *mut *mut appose_map,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let task = handle::get(task)?;
        check_out(map_out, "map_out")?;
        *map_out = handle::insert(std::sync::Arc::new(std::sync::Mutex::new(
            task.inputs().clone(),
        )));
        Ok(())
    })
}

/// The task's id, as sent to the worker. Free with `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_task_id(
    task: *const appose_task,
    id_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let task = handle::get(task)?;
        check_out(id_out, "id_out")?;
        *id_out = string_out(task.id());
        Ok(())
    })
}

/// Frees a task handle. A started task runs on; its listeners are released
/// after its last event.
#[no_mangle]
pub extern "C" fn appose_task_free(task: *mut appose_task) -> appose_status {
    guard(std::ptr::null_mut(), || handle::remove(task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tasks_script_queue_and_inputs_read_back() {
        let env = crate::Environment::system().unwrap();
        // Never started: `task` needs a service, not a running worker.
        let svc = env.service(&["sleep"], &["300".to_owned()]).unwrap();
        let mut inputs = crate::Map::new();
        inputs.insert("x", crate::Value::from(5));
        let t = svc.task("x * 2", Some(inputs), Some("main")).unwrap();
        let plain = svc.task("1", None, None).unwrap();
        let (h, p) = (
            handle::insert::<appose_task>(t),
            handle::insert::<appose_task>(plain),
        );
        let read = |f: unsafe extern "C" fn(
            *const appose_task,
            *mut *mut c_char,
            *mut *mut appose_error,
        ) -> appose_status,
                    h: *mut appose_task| {
            let mut out = ptr::null_mut();
            // SAFETY: a live handle and a writable out-parameter.
            assert_eq!(
                unsafe { f(h, &mut out, ptr::null_mut()) },
                appose_status::APPOSE_STATUS_OK
            );
            (!out.is_null()).then(|| {
                // SAFETY: a string the library made.
                let s = unsafe { std::ffi::CStr::from_ptr(out) }
                    .to_str()
                    .unwrap()
                    .to_owned();
                unsafe { crate::ffi::appose_string_free(out) };
                s
            })
        };
        assert_eq!(read(appose_task_script, h).as_deref(), Some("x * 2"));
        assert_eq!(read(appose_task_queue, h).as_deref(), Some("main"));
        assert_eq!(read(appose_task_queue, p), None);
        let mut map = ptr::null_mut();
        // SAFETY: as above.
        assert_eq!(
            unsafe { appose_task_inputs(h, &mut map, ptr::null_mut()) },
            appose_status::APPOSE_STATUS_OK
        );
        let Ok(m) = handle::get(map) else {
            panic!("the inputs map handle is not live")
        };
        assert_eq!(
            crate::lock(&m).get("x").and_then(crate::Value::as_i64),
            Some(5)
        );
        for r in [handle::remove(map), handle::remove(h), handle::remove(p)] {
            assert!(r.is_ok());
        }
    }

    #[test]
    fn status_numbers_and_names_come_from_one_table() {
        for (i, s) in TaskStatus::ALL.iter().enumerate() {
            assert_eq!(status_to_c(*s) as usize, i);
            // SAFETY: the function returns a static C string.
            let name = unsafe { std::ffi::CStr::from_ptr(appose_task_status_str(i as i32)) };
            assert_eq!(name.to_str().unwrap(), s.as_str());
        }
        // SAFETY: as above.
        let unknown = unsafe { std::ffi::CStr::from_ptr(appose_task_status_str(-1)) };
        assert_eq!(unknown.to_str().unwrap(), "UNKNOWN");
    }
}
