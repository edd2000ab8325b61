//! C ABI for [`crate::worker_object`] and [`crate::syntax`]: worker objects,
//! variables and calls.
//!
//! Every blocking call here (it runs a task and waits for it) also comes as
//! `*_task`, which returns the task unstarted: add listeners or a queue,
//! start it, and read `appose_task_result` when it completes.

use std::ffi::c_char;

use super::handle::{self, appose_service, appose_task};
use super::value::{appose_value, ValueRef};
use super::{
    appose_error, appose_status, arg_opt_str, arg_str, check_out, guard, string_out, FfiError,
    FfiResult,
};
use crate::value::Value;
use crate::{Syntax, Task, WorkerObject};

/// An object that lives in a worker (see `appose_worker_object_*`).
pub struct appose_worker_object {
    _opaque: [u8; 0],
}

/// Reads `n` value handles into values (NULL allowed when `n` is 0).
unsafe fn read_args(values: *const *const appose_value, n: usize) -> FfiResult<Vec<Value>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if values.is_null() {
        return Err(FfiError::new(
            appose_status::APPOSE_STATUS_NULL_ARGUMENT,
            format!("`args` is NULL but `nargs` is {n}"),
        ));
    }
    (0..n)
        .map(|i| handle::get(*values.add(i)).map(|r| r.value().clone()))
        .collect()
}

fn put_value(out: *mut *mut appose_value, v: Value) {
    // SAFETY: checked by the caller before any work.
    unsafe { *out = handle::insert::<appose_value>(ValueRef::new(v)) };
}

fn put_task(out: *mut *mut appose_task, t: Task) {
    // SAFETY: checked by the caller before any work.
    unsafe { *out = handle::insert::<appose_task>(t) };
}

/// Names the language of the worker's scripts: "python", "groovy", or NULL
/// for none. Services made by `appose_env_python` and `appose_env_groovy`
/// know theirs; a custom worker must be named before variables, calls and
/// worker objects work on it.
#[no_mangle]
pub unsafe extern "C" fn appose_service_set_syntax(
    service: *mut appose_service,
    syntax: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let syntax = arg_opt_str(syntax, "syntax")?
            .map(Syntax::from_name)
            .transpose()?;
        service.set_syntax(syntax);
        Ok(())
    })
}

/// The value of the worker's exported variable `name` (a task on `queue`,
/// NULL for any). Blocks until it completes; `APPOSE_STATUS_TASK_FAILED`
/// with the worker's traceback when the name is unknown.
#[no_mangle]
pub unsafe extern "C" fn appose_service_get_var(
    service: *mut appose_service,
    name: *const c_char,
    queue: *const c_char,
    value_out: *mut *mut appose_value,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let (name, queue) = (arg_str(name, "name")?, arg_opt_str(queue, "queue")?);
        check_out(value_out, "value_out")?;
        put_value(value_out, service.get_var(name, queue)?);
        Ok(())
    })
}

/// `appose_service_get_var` as an unstarted task (its result is the value).
#[no_mangle]
pub unsafe extern "C" fn appose_service_get_var_task(
    service: *mut appose_service,
    name: *const c_char,
    queue: *const c_char,
    task_out: *mut *mut appose_task,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let (name, queue) = (arg_str(name, "name")?, arg_opt_str(queue, "queue")?);
        check_out(task_out, "task_out")?;
        put_task(task_out, service.get_var_task(name, queue)?);
        Ok(())
    })
}

/// Sets the worker's variable `name` to `value` and exports it for later
/// tasks. Blocks until done.
#[no_mangle]
pub unsafe extern "C" fn appose_service_put_var(
    service: *mut appose_service,
    name: *const c_char,
    value: *const appose_value,
    queue: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let name = arg_str(name, "name")?;
        let v = handle::get(value)?.value().clone();
        service.put_var(name, v, arg_opt_str(queue, "queue")?)?;
        Ok(())
    })
}

/// `appose_service_put_var` as an unstarted task.
#[no_mangle]
pub unsafe extern "C" fn appose_service_put_var_task(
    service: *mut appose_service,
    name: *const c_char,
    value: *const appose_value,
    queue: *const c_char,
    task_out: *mut *mut appose_task,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let name = arg_str(name, "name")?;
        let v = handle::get(value)?.value().clone();
        check_out(task_out, "task_out")?;
        put_task(
            task_out,
            service.put_var_task(name, v, arg_opt_str(queue, "queue")?)?,
        );
        Ok(())
    })
}

/// Calls `function` in the worker (a builtin or a name an earlier task or
/// the init script exported; dotted names allowed) with `nargs` arguments;
/// its result. A worker object of this service as an argument is passed as
/// the object itself. Blocks until done.
#[no_mangle]
pub unsafe extern "C" fn appose_service_call(
    service: *mut appose_service,
    function: *const c_char,
    args: *const *const appose_value,
    nargs: usize,
    queue: *const c_char,
    value_out: *mut *mut appose_value,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let function = arg_str(function, "function")?;
        let args = read_args(args, nargs)?;
        let queue = arg_opt_str(queue, "queue")?;
        check_out(value_out, "value_out")?;
        put_value(value_out, service.call(function, args, queue)?);
        Ok(())
    })
}

/// `appose_service_call` as an unstarted task (its result is the value).
#[no_mangle]
pub unsafe extern "C" fn appose_service_call_task(
    service: *mut appose_service,
    function: *const c_char,
    args: *const *const appose_value,
    nargs: usize,
    queue: *const c_char,
    task_out: *mut *mut appose_task,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let function = arg_str(function, "function")?;
        let args = read_args(args, nargs)?;
        let queue = arg_opt_str(queue, "queue")?;
        check_out(task_out, "task_out")?;
        put_task(task_out, service.call_task(function, args, queue)?);
        Ok(())
    })
}

/// A worker object for the variable `var` that the caller's scripts
/// exported (`task.export(var=...)`), its tasks running on `queue`. The
/// variable is the caller's: freeing the handle never deletes it.
#[no_mangle]
pub unsafe extern "C" fn appose_service_proxy(
    service: *mut appose_service,
    var: *const c_char,
    queue: *const c_char,
    object_out: *mut *mut appose_worker_object,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let service = handle::get(service)?;
        let var = arg_str(var, "var")?;
        let queue = arg_opt_str(queue, "queue")?;
        check_out(object_out, "object_out")?;
        *object_out = handle::insert::<appose_worker_object>(service.proxy(var, queue)?);
        Ok(())
    })
}

/// A worker object value as a new worker object handle. Objects the worker
/// sent are deleted in the worker when their last handle (this one, the
/// values and outputs holding them) goes.
#[no_mangle]
pub unsafe extern "C" fn appose_value_worker_object(
    value: *const appose_value,
    object_out: *mut *mut appose_worker_object,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let r = handle::get(value)?;
        check_out(object_out, "object_out")?;
        match r.value() {
            Value::WorkerObject(w) => {
                *object_out = handle::insert::<appose_worker_object>(w.clone());
                Ok(())
            }
            _ => Err(FfiError::new(
                appose_status::APPOSE_STATUS_INVALID_ARGUMENT,
                "the value is not a worker object",
            )),
        }
    })
}

/// A value holding a worker object (to pass it as an argument).
#[no_mangle]
pub unsafe extern "C" fn appose_value_from_worker_object(
    object: *const appose_worker_object,
    value_out: *mut *mut appose_value,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let w = handle::get(object)?;
        check_out(value_out, "value_out")?;
        put_value(value_out, Value::WorkerObject(w));
        Ok(())
    })
}

/// The variable the worker keeps the object under. Free with
/// `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_worker_object_name(
    object: *const appose_worker_object,
    name_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let w = handle::get(object)?;
        check_out(name_out, "name_out")?;
        *name_out = string_out(w.name());
        Ok(())
    })
}

fn blocking(
    object: *const appose_worker_object,
    out: *mut *mut appose_value,
    f: impl FnOnce(&WorkerObject) -> crate::Result<Value>,
) -> FfiResult {
    let w = handle::get(object)?;
    check_out(out, "value_out")?;
    put_value(out, f(&w)?);
    Ok(())
}

fn tasked(
    object: *const appose_worker_object,
    out: *mut *mut appose_task,
    f: impl FnOnce(&WorkerObject) -> crate::Result<Task>,
) -> FfiResult {
    let w = handle::get(object)?;
    check_out(out, "task_out")?;
    put_task(out, f(&w)?);
    Ok(())
}

/// The object's attribute `name` (a value, or a worker object such as a
/// bound method). Blocks until done.
#[no_mangle]
pub unsafe extern "C" fn appose_worker_object_attr(
    object: *const appose_worker_object,
    name: *const c_char,
    value_out: *mut *mut appose_value,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let name = arg_str(name, "name")?;
        blocking(object, value_out, |w| w.attr(name))
    })
}

/// `appose_worker_object_attr` as an unstarted task.
#[no_mangle]
pub unsafe extern "C" fn appose_worker_object_attr_task(
    object: *const appose_worker_object,
    name: *const c_char,
    task_out: *mut *mut appose_task,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let name = arg_str(name, "name")?;
        tasked(object, task_out, |w| w.attr_task(name))
    })
}

/// Calls the object's method `method` with `nargs` arguments; its result.
/// Blocks until done.
#[no_mangle]
pub unsafe extern "C" fn appose_worker_object_invoke(
    object: *const appose_worker_object,
    method: *const c_char,
    args: *const *const appose_value,
    nargs: usize,
    value_out: *mut *mut appose_value,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let method = arg_str(method, "method")?;
        let args = read_args(args, nargs)?;
        blocking(object, value_out, |w| w.invoke(method, args))
    })
}

/// `appose_worker_object_invoke` as an unstarted task.
#[no_mangle]
pub unsafe extern "C" fn appose_worker_object_invoke_task(
    object: *const appose_worker_object,
    method: *const c_char,
    args: *const *const appose_value,
    nargs: usize,
    task_out: *mut *mut appose_task,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let method = arg_str(method, "method")?;
        let args = read_args(args, nargs)?;
        tasked(object, task_out, |w| w.invoke_task(method, args))
    })
}

/// Calls the object itself (a function, a bound method, any callable) with
/// `nargs` arguments; its result. Blocks until done.
#[no_mangle]
pub unsafe extern "C" fn appose_worker_object_call(
    object: *const appose_worker_object,
    args: *const *const appose_value,
    nargs: usize,
    value_out: *mut *mut appose_value,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let args = read_args(args, nargs)?;
        blocking(object, value_out, |w| w.call(args))
    })
}

/// `appose_worker_object_call` as an unstarted task.
#[no_mangle]
pub unsafe extern "C" fn appose_worker_object_call_task(
    object: *const appose_worker_object,
    args: *const *const appose_value,
    nargs: usize,
    task_out: *mut *mut appose_task,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let args = read_args(args, nargs)?;
        tasked(object, task_out, |w| w.call_task(args))
    })
}

/// The object's attribute names as a JSON array of strings (free with
/// `appose_string_free`). Blocks until done.
#[no_mangle]
pub unsafe extern "C" fn appose_worker_object_dir(
    object: *const appose_worker_object,
    json_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let w = handle::get(object)?;
        check_out(json_out, "json_out")?;
        let names = w.dir()?;
        *json_out =
            string_out(&Value::Array(names.into_iter().map(Value::String).collect()).to_json());
        Ok(())
    })
}

/// `appose_worker_object_dir` as an unstarted task (its result is the list).
#[no_mangle]
pub unsafe extern "C" fn appose_worker_object_dir_task(
    object: *const appose_worker_object,
    task_out: *mut *mut appose_task,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || tasked(object, task_out, |w| w.dir_task()))
}

/// Frees a worker object handle. With the last handle to an object the
/// worker sent, its export is deleted in the worker (batched; skipped when
/// the service is closed or its worker gone).
#[no_mangle]
pub extern "C" fn appose_worker_object_free(object: *mut appose_worker_object) -> appose_status {
    guard(std::ptr::null_mut(), || handle::remove(object))
}
