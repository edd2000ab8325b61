//! C ABI for [`crate::service`].

use std::ffi::{c_char, c_int, c_void};

use super::handle::{self, appose_map, appose_service, appose_task};
use super::{
    appose_error, appose_status, appose_userdata_free, arg_opt_str, arg_str, check_out, guard,
    string_out, timeout_from_ms, to_cstring, FfiError, UserData,
};
use crate::value::Value;

/// Receives one debug line: `[SERVICE-n] ...` (service messages, requests,
/// responses) or `[WORKER-n] ...` (worker stderr). `message` lives for the
/// call only. Runs on the service's dispatcher thread.
pub type appose_debug_listener =
    Option<unsafe extern "C" fn(userdata: *mut c_void, message: *const c_char)>;

/// Sets a script the worker runs before it reads any request (through a temp
/// file readable only by the user, named in `APPOSE_INIT_SCRIPT`). Its public
/// names are visible to every task. Only before the service starts.
#[no_mangle]
pub unsafe extern "C" fn appose_service_init(
    service: *mut appose_service,
    script: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let script = arg_str(script, "script")?;
        service.init(script)?;
        Ok(())
    })
}

/// Sets (or, with `value` NULL, removes) an environment variable of the
/// worker. Only before the service starts.
#[no_mangle]
pub unsafe extern "C" fn appose_service_env_var(
    service: *mut appose_service,
    key: *const c_char,
    value: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let key = arg_str(key, "key")?;
        let value = arg_opt_str(value, "value")?;
        service.env_var(key, value)?;
        Ok(())
    })
}

/// Sets the debug listener, before or after the service starts (after: it
/// replaces the previous one from the next line on). On success the library
/// owns `userdata` and calls `userdata_free` (if not NULL) exactly once,
/// when it no longer needs it: on the dispatcher thread (when replaced, or
/// when the service ends), or on the thread freeing a service that never
/// started; on failure (a closed service) it never does.
#[no_mangle]
pub unsafe extern "C" fn appose_service_debug(
    service: *mut appose_service,
    listener: appose_debug_listener,
    userdata: *mut c_void,
    userdata_free: appose_userdata_free,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let Some(listener) = listener else {
            return Err(FfiError::new(
                appose_status::APPOSE_STATUS_NULL_ARGUMENT,
                "`listener` is NULL",
            ));
        };
        let data = UserData::new(userdata, userdata_free);
        let armed = data.armed();
        let result = service.try_debug(Box::new(move |line: &str| {
            let c = to_cstring(line);
            // SAFETY: the C contract of appose_debug_listener.
            unsafe { listener(data.ptr(), c.as_ptr()) };
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

/// Starts the worker process. Optional: the first task starts it too.
/// Blocks only while the process and the service's threads are spawned
/// (milliseconds); it does not wait for the worker to be ready.
#[no_mangle]
pub extern "C" fn appose_service_start(
    service: *mut appose_service,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        handle::get(service)?.start()?;
        Ok(())
    })
}

/// Makes a task (INITIAL) running `script` with `inputs_json` (a JSON object,
/// or NULL for none) on `queue` (NULL, or `"main"` for the worker's main
/// thread). Starts the service if needed, which blocks as
/// `appose_service_start` does. Add listeners, then call
/// `appose_task_start` or `appose_task_wait`. Free with `appose_task_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_service_task(
    service: *mut appose_service,
    script: *const c_char,
    inputs_json: *const c_char,
    queue: *const c_char,
    task_out: *mut *mut appose_task,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let script = arg_str(script, "script")?;
        let inputs = match arg_opt_str(inputs_json, "inputs_json")? {
            None => None,
            Some(text) => match super::value::parse_json_arg(text, "inputs_json")?.into_object() {
                Some(m) => Some(m),
                None => {
                    return Err(FfiError::new(
                        appose_status::APPOSE_STATUS_INVALID_JSON,
                        "`inputs_json` must be a JSON object",
                    ))
                }
            },
        };
        let queue = arg_opt_str(queue, "queue")?;
        check_out(task_out, "task_out")?;
        let task = service.task(script, inputs, queue)?;
        *task_out = handle::insert(task);
        Ok(())
    })
}

/// Makes a task as `appose_service_task` does (starting the service if
/// needed, which blocks as `appose_service_start` does), with inputs from a
/// map (NULL for none; arrays and blocks in it are shared, not copied).
#[no_mangle]
pub unsafe extern "C" fn appose_service_task_map(
    service: *mut appose_service,
    script: *const c_char,
    inputs: *const appose_map,
    queue: *const c_char,
    task_out: *mut *mut appose_task,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let script = arg_str(script, "script")?;
        let inputs = if inputs.is_null() {
            None
        } else {
            let inputs = handle::get(inputs)?;
            let map = crate::lock(&inputs).clone();
            Some(map)
        };
        let queue = arg_opt_str(queue, "queue")?;
        check_out(task_out, "task_out")?;
        let task = service.task(script, inputs, queue)?;
        *task_out = handle::insert(task);
        Ok(())
    })
}

/// Closes the worker's stdin, waits up to `timeout_ms` (negative: no limit)
/// for it to exit, then kills its process group. Writes the exit code (128 +
/// signal number if killed; -1 if never started) to `exit_code_out` unless
/// it is NULL. `APPOSE_STATUS_REENTRANT` from inside a callback.
///
/// Blocks up to `timeout_ms` for the worker to exit; if it has to be killed,
/// up to 2 s more for its output to drain; then up to `timeout_ms` again for
/// running listeners to return (`APPOSE_STATUS_LISTENER_BUSY` if one does
/// not): about twice `timeout_ms` at most.
#[no_mangle]
pub unsafe extern "C" fn appose_service_close(
    service: *mut appose_service,
    timeout_ms: i64,
    exit_code_out: *mut c_int,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let code = service.close(timeout_from_ms(timeout_ms))?;
        if !exit_code_out.is_null() {
            *exit_code_out = code.unwrap_or(-1);
        }
        Ok(())
    })
}

/// Waits for the worker to exit by itself, without closing its stdin
/// (unlike `appose_service_close`). Blocks up to `timeout_ms` (negative: no
/// limit). Writes its exit code (128 + signal if killed; -1 if unknown or never
/// started) to `exit_code_out` unless it is NULL. `APPOSE_STATUS_TIMEOUT`
/// when it still runs; `APPOSE_STATUS_REENTRANT` from inside a callback.
#[no_mangle]
pub unsafe extern "C" fn appose_service_wait_exit(
    service: *mut appose_service,
    timeout_ms: i64,
    exit_code_out: *mut c_int,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let code = service.wait_exit(timeout_from_ms(timeout_ms))?;
        if !exit_code_out.is_null() {
            *exit_code_out = code.unwrap_or(-1);
        }
        Ok(())
    })
}

/// Kills the worker's whole process group at once; pending tasks end CRASHED.
/// Does not block: the signal is sent, the exit is noticed later.
#[no_mangle]
pub extern "C" fn appose_service_kill(
    service: *mut appose_service,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        handle::get(service)?.kill();
        Ok(())
    })
}

/// Whether the worker process is running.
#[no_mangle]
pub unsafe extern "C" fn appose_service_is_alive(
    service: *const appose_service,
    alive_out: *mut bool,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        check_out(alive_out, "alive_out")?;
        *alive_out = service.is_alive();
        Ok(())
    })
}

/// The worker's process id (with a launcher such as `pixi run`, the
/// launcher's). `APPOSE_STATUS_INVALID_STATE` before the service has
/// started. After the worker exits it is still the id the worker had, which
/// the system may since have given to another process: to end the worker,
/// use `appose_service_kill` rather than signalling the id.
#[no_mangle]
pub unsafe extern "C" fn appose_service_pid(
    service: *const appose_service,
    pid_out: *mut i64,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        check_out(pid_out, "pid_out")?;
        let pid = service.pid().ok_or_else(|| {
            FfiError::new(
                appose_status::APPOSE_STATUS_INVALID_STATE,
                "the service has not started, so it has no process id yet \
                 (appose_service_start or a task starts it)",
            )
        })?;
        *pid_out = i64::from(pid);
        Ok(())
    })
}

fn lines_json(lines: Vec<String>) -> String {
    Value::Array(lines.into_iter().map(Value::String).collect()).to_json()
}

/// The worker's stdout lines that were not responses, as a JSON array of
/// strings (free with `appose_string_free`).
#[no_mangle]
pub unsafe extern "C" fn appose_service_invalid_lines(
    service: *const appose_service,
    json_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        check_out(json_out, "json_out")?;
        *json_out = string_out(&lines_json(service.invalid_lines()));
        Ok(())
    })
}

/// The worker's stderr lines, as a JSON array of strings (free with
/// `appose_string_free`).
#[no_mangle]
pub unsafe extern "C" fn appose_service_error_lines(
    service: *const appose_service,
    json_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        check_out(json_out, "json_out")?;
        *json_out = string_out(&lines_json(service.error_lines()));
        Ok(())
    })
}

/// Frees a service handle. Tasks keep their service alive; when the last
/// handle of a started service goes without `appose_service_close`, the
/// worker's stdin is closed and it is killed if still running 10 s later.
#[no_mangle]
pub extern "C" fn appose_service_free(service: *mut appose_service) -> appose_status {
    guard(std::ptr::null_mut(), || handle::remove(service))
}
