//! C ABI for [`crate::value`]: maps of named values (task inputs, outputs).

use std::ffi::c_char;
use std::sync::{Arc, Mutex};

use super::handle::{self, appose_map, appose_ndarray, appose_shm};
use super::{appose_status, arg_str, check_out, guard, string_out, FfiError, FfiResult};
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

fn get_value(map: *const appose_map, key: *const std::ffi::c_char) -> FfiResult<(Value, String)> {
    let map = handle::get(map)?;
    let key = unsafe { arg_str(key, "key")? };
    let v = lock(&map).get(key).cloned().ok_or_else(|| missing(key))?;
    Ok((v, key.to_owned()))
}

fn put(map: *mut appose_map, key: *const c_char, v: Value) -> FfiResult {
    let map = handle::get(map)?;
    let key = unsafe { arg_str(key, "key")? };
    lock(&map).insert(key, v);
    Ok(())
}

/// A new empty map. Free with `appose_map_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_map_new(map_out: *mut *mut appose_map) -> appose_status {
    guard(|| {
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
) -> appose_status {
    guard(|| {
        let text = arg_str(json, "json")?;
        check_out(map_out, "map_out")?;
        match parse_json_arg(text, "json")? {
            Value::Object(m) => {
                *map_out = handle::insert(Arc::new(Mutex::new(m)));
                Ok(())
            }
            _ => Err(FfiError::new(
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
) -> appose_status {
    guard(|| {
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
) -> appose_status {
    guard(|| put(map, key, Value::NDArray(handle::get(ndarray)?)))
}

/// Sets `key` to a shared memory block.
#[no_mangle]
pub extern "C" fn appose_map_put_shm(
    map: *mut appose_map,
    key: *const c_char,
    shm: *const appose_shm,
) -> appose_status {
    guard(|| put(map, key, Value::Shm(handle::get(shm)?)))
}

/// Removes `key`; `APPOSE_STATUS_NOT_FOUND` if absent.
#[no_mangle]
pub unsafe extern "C" fn appose_map_remove(
    map: *mut appose_map,
    key: *const c_char,
) -> appose_status {
    guard(|| {
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
) -> appose_status {
    guard(|| {
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
) -> appose_status {
    guard(|| {
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
) -> appose_status {
    guard(|| {
        let (v, _) = get_value(map, key)?;
        check_out(json_out, "json_out")?;
        *json_out = string_out(&v.to_json());
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
) -> appose_status {
    guard(|| {
        let (v, key) = get_value(map, key)?;
        check_out(ndarray_out, "ndarray_out")?;
        match v {
            Value::NDArray(a) => {
                *ndarray_out = handle::insert(a);
                Ok(())
            }
            other => Err(not_a("an ndarray", &key, &other)),
        }
    })
}

/// The block under `key` as a new handle (an array's block too).
#[no_mangle]
pub unsafe extern "C" fn appose_map_get_shm(
    map: *const appose_map,
    key: *const c_char,
    shm_out: *mut *mut appose_shm,
) -> appose_status {
    guard(|| {
        let (v, key) = get_value(map, key)?;
        check_out(shm_out, "shm_out")?;
        match v {
            Value::Shm(s) => *shm_out = handle::insert(s),
            Value::NDArray(a) => *shm_out = handle::insert(a.shm().clone()),
            other => return Err(not_a("a shared memory block", &key, &other)),
        }
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
) -> appose_status {
    guard(|| {
        let (v, key) = get_value(map, key)?;
        check_out(var_name_out, "var_name_out")?;
        match v {
            Value::WorkerObject(name) => {
                *var_name_out = string_out(&name);
                Ok(())
            }
            other => Err(not_a("a worker object", &key, &other)),
        }
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
) -> appose_status {
    guard(|| {
        let map = handle::get(map)?;
        check_out(json_out, "json_out")?;
        let text = Value::Object(lock(&map).clone()).to_json();
        *json_out = string_out(&text);
        Ok(())
    })
}

/// Frees a map handle (the values' blocks live on while other handles use
/// them).
#[no_mangle]
pub extern "C" fn appose_map_free(map: *mut appose_map) -> appose_status {
    guard(|| handle::remove(map))
}
