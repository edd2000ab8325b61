//! C ABI for [`crate::value`]: maps of named values (task inputs, outputs).

use std::ffi::c_char;
use std::sync::{Arc, Mutex};

use super::handle::{self, appose_map, appose_ndarray, appose_shm};
use super::{
    appose_error, appose_status, arg_str, check_out, guard, string_out, FfiError, FfiResult,
};
use crate::lock;
use crate::value::{self, BlockOwner, Map, Value};

/// Parses JSON text, decoding `appose_type` objects (attaching to the blocks
/// they name, which must exist).
pub(crate) fn parse_json_arg(text: &str, name: &str) -> FfiResult<Value> {
    let v = value::parse(text).map_err(|e| {
        FfiError::new(
            appose_status::APPOSE_STATUS_INVALID_JSON,
            format!("`{name}` is not JSON: {e}"),
        )
    })?;
    Ok(value::decode_strict(v, BlockOwner::Others)?)
}

fn missing(key: &str) -> FfiError {
    FfiError::new(
        appose_status::APPOSE_STATUS_NOT_FOUND,
        format!("no value named {key:?}"),
    )
}

/// Applies `f` to the value of `key` under the map's lock (no copy of a
/// value that may be large).
fn with_value<T>(
    map: *const appose_map,
    key: *const c_char,
    f: impl FnOnce(&Value, &str) -> FfiResult<T>,
) -> FfiResult<T> {
    let map = handle::get(map)?;
    let key = unsafe { arg_str(key, "key")? };
    let map = lock(&map);
    let v = map.get(key).ok_or_else(|| missing(key))?;
    f(v, key)
}

fn put(map: *mut appose_map, key: *const c_char, v: Value) -> FfiResult {
    let map = handle::get(map)?;
    let key = unsafe { arg_str(key, "key")? };
    lock(&map).insert(key, v);
    Ok(())
}

/// A new empty map. Free with `appose_map_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_map_new(
    map_out: *mut *mut appose_map,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        check_out(map_out, "map_out")?;
        *map_out = handle::insert(Arc::new(Mutex::new(Map::new())));
        Ok(())
    })
}

/// A map from a JSON object's text; `appose_type` objects in it are decoded
/// (their blocks must exist). Free with `appose_map_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_map_from_json(
    json: *const c_char,
    map_out: *mut *mut appose_map,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let text = arg_str(json, "json")?;
        check_out(map_out, "map_out")?;
        match parse_json_arg(text, "json")?.into_object() {
            Some(m) => {
                *map_out = handle::insert(Arc::new(Mutex::new(m)));
                Ok(())
            }
            None => Err(FfiError::new(
                appose_status::APPOSE_STATUS_INVALID_JSON,
                "`json` must be a JSON object",
            )),
        }
    })
}

/// Sets `key` to the value of `json` (any JSON value; `appose_type` objects
/// are decoded and their blocks must exist).
#[no_mangle]
pub unsafe extern "C" fn appose_map_put_json(
    map: *mut appose_map,
    key: *const c_char,
    json: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let v = parse_json_arg(arg_str(json, "json")?, "json")?;
        put(map, key, v)
    })
}

/// Sets `key` to an array (the map shares the array's block).
#[no_mangle]
pub extern "C" fn appose_map_put_ndarray(
    map: *mut appose_map,
    key: *const c_char,
    ndarray: *const appose_ndarray,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        put(map, key, Value::NDArray(handle::get(ndarray)?))
    })
}

/// Sets `key` to a shared memory block.
#[no_mangle]
pub extern "C" fn appose_map_put_shm(
    map: *mut appose_map,
    key: *const c_char,
    shm: *const appose_shm,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || put(map, key, Value::Shm(handle::get(shm)?)))
}

/// Removes `key`; `APPOSE_STATUS_NOT_FOUND` if absent.
#[no_mangle]
pub unsafe extern "C" fn appose_map_remove(
    map: *mut appose_map,
    key: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let map = handle::get(map)?;
        let key = arg_str(key, "key")?;
        let removed = lock(&map).remove(key);
        removed.map(drop).ok_or_else(|| missing(key))
    })
}

/// The number of entries.
#[no_mangle]
pub unsafe extern "C" fn appose_map_len(
    map: *const appose_map,
    len_out: *mut usize,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let map = handle::get(map)?;
        check_out(len_out, "len_out")?;
        *len_out = lock(&map).len();
        Ok(())
    })
}

/// The key of entry `index` (insertion order). Free with `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_map_key(
    map: *const appose_map,
    index: usize,
    key_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let map = handle::get(map)?;
        check_out(key_out, "key_out")?;
        let map = lock(&map);
        let key = map.iter().nth(index).map(|(k, _)| k).ok_or_else(|| {
            FfiError::new(
                appose_status::APPOSE_STATUS_INVALID_ARGUMENT,
                format!("index {index} is past the map's {} entries", map.len()),
            )
        })?;
        *key_out = string_out(key);
        Ok(())
    })
}

/// The value of `key` as JSON text (arrays and blocks in their `appose_type`
/// form). `APPOSE_STATUS_NOT_FOUND` if absent. Free with `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_map_get_json(
    map: *const appose_map,
    key: *const c_char,
    json_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let text = with_value(map, key, |v, _| Ok(v.to_json()))?;
        check_out(json_out, "json_out")?;
        *json_out = string_out(&text);
        Ok(())
    })
}

/// The array under `key` as a new handle. `APPOSE_STATUS_INVALID_ARGUMENT` if
/// the value is not an array.
#[no_mangle]
pub unsafe extern "C" fn appose_map_get_ndarray(
    map: *const appose_map,
    key: *const c_char,
    ndarray_out: *mut *mut appose_ndarray,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let a = with_value(map, key, |v, key| match v {
            Value::NDArray(a) => Ok(a.clone()),
            other => Err(not_a("an ndarray", key, other)),
        })?;
        check_out(ndarray_out, "ndarray_out")?;
        *ndarray_out = handle::insert(a);
        Ok(())
    })
}

/// The block under `key` as a new handle (an array's block too).
#[no_mangle]
pub unsafe extern "C" fn appose_map_get_shm(
    map: *const appose_map,
    key: *const c_char,
    shm_out: *mut *mut appose_shm,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let s = with_value(map, key, |v, key| match v {
            Value::Shm(s) => Ok(s.clone()),
            Value::NDArray(a) => Ok(a.shm().clone()),
            other => Err(not_a("a shared memory block", key, other)),
        })?;
        check_out(shm_out, "shm_out")?;
        *shm_out = handle::insert(s);
        Ok(())
    })
}

/// The variable name of a worker object under `key` (a value the worker
/// could not send as JSON and kept under that name; later scripts can use
/// it). Free with `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_map_get_worker_object(
    map: *const appose_map,
    key: *const c_char,
    var_name_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let name = with_value(map, key, |v, key| match v {
            Value::WorkerObject(w) => Ok(w.name().to_owned()),
            other => Err(not_a("a worker object", key, other)),
        })?;
        check_out(var_name_out, "var_name_out")?;
        *var_name_out = string_out(&name);
        Ok(())
    })
}

fn not_a(what: &str, key: &str, v: &Value) -> FfiError {
    let mut text = v.to_json();
    if text.len() > 200 {
        text.truncate(200);
        text.push_str("...");
    }
    FfiError::new(
        appose_status::APPOSE_STATUS_INVALID_ARGUMENT,
        format!("{key:?} is not {what}: {text}"),
    )
}

/// The whole map as JSON text, in the encoded form sent to workers. Free
/// with `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_map_to_json(
    map: *const appose_map,
    json_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let map = handle::get(map)?;
        check_out(json_out, "json_out")?;
        let text = lock(&map).to_json();
        *json_out = string_out(&text);
        Ok(())
    })
}

/// Frees a map handle (the values' blocks live on while other handles use
/// them).
#[no_mangle]
pub extern "C" fn appose_map_free(map: *mut appose_map) -> appose_status {
    guard(std::ptr::null_mut(), || handle::remove(map))
}

#[cfg(test)]
mod tests {
    use std::ffi::{CStr, CString};

    use super::*;
    use crate::ffi::appose_string_free;

    fn ok(status: appose_status) {
        assert_eq!(status, appose_status::APPOSE_STATUS_OK);
    }

    /// Takes a string the C ABI returned.
    unsafe fn text(p: *mut c_char) -> String {
        let s = CStr::from_ptr(p).to_str().unwrap().to_owned();
        appose_string_free(p);
        s
    }

    #[test]
    fn deep_json_crosses_the_c_abi_on_a_small_stack() {
        // As deep as the parser accepts with the map and the innermost
        // object, lists and objects alternating.
        let levels = crate::value::MAX_DEPTH - 2;
        let mut deep = String::new();
        for i in 0..levels {
            deep.push_str(if i % 2 == 0 { "[" } else { "{\"k\":" });
        }
        deep.push_str("{\"appose_type\":\"worker_object\",\"var_name\":\"w\"}");
        for i in (0..levels).rev() {
            deep.push(if i % 2 == 0 { ']' } else { '}' });
        }
        let whole = format!("{{\"r\":{deep}}}");
        // A thread stack far too small to recurse through the value.
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || unsafe {
                let whole_c = CString::new(whole.as_str()).unwrap();
                let deep_c = CString::new(deep.as_str()).unwrap();
                let (r, s) = (c"r", c"s");
                let mut map = std::ptr::null_mut();
                ok(appose_map_from_json(
                    whole_c.as_ptr(),
                    &mut map,
                    std::ptr::null_mut(),
                ));
                ok(appose_map_put_json(
                    map,
                    s.as_ptr(),
                    deep_c.as_ptr(),
                    std::ptr::null_mut(),
                ));
                let mut out = std::ptr::null_mut();
                ok(appose_map_get_json(
                    map,
                    r.as_ptr(),
                    &mut out,
                    std::ptr::null_mut(),
                ));
                assert_eq!(text(out), deep);
                ok(appose_map_remove(map, s.as_ptr(), std::ptr::null_mut()));
                ok(appose_map_to_json(map, &mut out, std::ptr::null_mut()));
                assert_eq!(text(out), whole);
                ok(appose_map_free(map));
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
