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

    #[test]
    fn a_type_of_the_hosts_own_stays_raw_and_readable_through_the_value_tree() {
        // The peers' `register` of custom appose_types: here the host reads
        // its own types from the tree, no callback needed.
        let json = CString::new(r#"{"roi": {"appose_type": "roi", "x": 3, "y": 4}}"#).unwrap();
        let (mut v, mut roi, mut tag) = (
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        let key = CString::new("roi").unwrap();
        let tag_key = CString::new("appose_type").unwrap();
        let none = std::ptr::null_mut();
        // SAFETY: live strings and out-parameters.
        unsafe {
            assert_eq!(
                appose_value_from_json(json.as_ptr(), &mut v, none),
                appose_status::APPOSE_STATUS_OK
            );
            assert_eq!(
                appose_value_get(v, key.as_ptr(), &mut roi, none),
                appose_status::APPOSE_STATUS_OK
            );
            let mut kind = -1;
            assert_eq!(
                appose_value_get_kind(roi, &mut kind, none),
                appose_status::APPOSE_STATUS_OK
            );
            assert_eq!(kind, appose_value_kind::APPOSE_VALUE_OBJECT as i32);
            assert_eq!(
                appose_value_get(roi, tag_key.as_ptr(), &mut tag, none),
                appose_status::APPOSE_STATUS_OK
            );
            let mut text = std::ptr::null_mut();
            assert_eq!(
                appose_value_string(tag, &mut text, none),
                appose_status::APPOSE_STATUS_OK
            );
            assert_eq!(CStr::from_ptr(text).to_str().unwrap(), "roi");
            appose_string_free(text);
            for h in [tag, roi, v] {
                assert_eq!(appose_value_free(h), appose_status::APPOSE_STATUS_OK);
            }
        }
    }

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

// The value tree: read-only access to any value at any depth.

/// A value at any depth of a result, an output or an event's info (see
/// `appose_value_*`): a read-only view, cheap to make (it shares the
/// whole value and remembers its path). Free with `appose_value_free`.
pub struct appose_value {
    _opaque: [u8; 0],
}

/// The kind of a value. Numbers are part of the ABI.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum appose_value_kind {
    APPOSE_VALUE_NULL = 0,
    APPOSE_VALUE_BOOL = 1,
    APPOSE_VALUE_NUMBER = 2,
    APPOSE_VALUE_STRING = 3,
    APPOSE_VALUE_ARRAY = 4,
    APPOSE_VALUE_OBJECT = 5,
    /// A shared memory block (`appose_value_shm`).
    APPOSE_VALUE_SHM = 6,
    /// An n-dimensional array (`appose_value_ndarray`).
    APPOSE_VALUE_NDARRAY = 7,
    /// An object that stays in the worker (`appose_value_worker_object`).
    APPOSE_VALUE_WORKER_OBJECT = 8,
}

/// A shared value and the path to one place in it.
#[derive(Clone)]
pub(crate) struct ValueRef {
    root: Arc<Value>,
    /// Item or member positions, outermost first.
    path: Vec<usize>,
}

impl ValueRef {
    pub(crate) fn new(v: Value) -> Self {
        ValueRef {
            root: Arc::new(v),
            path: Vec::new(),
        }
    }

    pub(crate) fn value(&self) -> &Value {
        self.get()
    }

    fn get(&self) -> &Value {
        // Paths are only made to places that exist (values never change).
        static NULL: Value = Value::Null;
        let mut v: &Value = &self.root;
        for &i in &self.path {
            v = match v {
                Value::Array(items) => &items[i],
                Value::Object(m) => m.get_index(i).map_or(&NULL, |(_, v)| v),
                _ => &NULL,
            };
        }
        v
    }

    fn child(&self, i: usize) -> Self {
        let mut path = self.path.clone();
        path.push(i);
        ValueRef {
            root: self.root.clone(),
            path,
        }
    }
}

fn kind_of(v: &Value) -> appose_value_kind {
    use appose_value_kind::*;
    match v {
        Value::Null => APPOSE_VALUE_NULL,
        Value::Bool(_) => APPOSE_VALUE_BOOL,
        Value::Number(_) => APPOSE_VALUE_NUMBER,
        Value::String(_) => APPOSE_VALUE_STRING,
        Value::Array(_) => APPOSE_VALUE_ARRAY,
        Value::Object(_) => APPOSE_VALUE_OBJECT,
        Value::Shm(_) => APPOSE_VALUE_SHM,
        Value::NDArray(_) => APPOSE_VALUE_NDARRAY,
        Value::WorkerObject(_) => APPOSE_VALUE_WORKER_OBJECT,
    }
}

fn wrong_kind(v: &Value, wanted: &str) -> FfiError {
    FfiError::new(
        appose_status::APPOSE_STATUS_INVALID_ARGUMENT,
        format!("the value is {}, not {wanted}", kind_name(v)),
    )
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        Value::Shm(_) => "a shared memory block",
        Value::NDArray(_) => "an ndarray",
        Value::WorkerObject(_) => "a worker object",
    }
}

/// Runs `f` on the value behind a handle and writes what it gives to `out`.
unsafe fn read_value<T>(
    value: *const appose_value,
    out: *mut T,
    name: &str,
    f: impl FnOnce(&Value, &ValueRef) -> FfiResult<T>,
) -> FfiResult {
    let r = handle::get(value)?;
    check_out(out, name)?;
    *out = f(r.get(), &r)?;
    Ok(())
}

/// A value from JSON text (any JSON value; `appose_type` objects decoded,
/// their blocks must exist), e.g. an argument for `appose_service_call`.
#[no_mangle]
pub unsafe extern "C" fn appose_value_from_json(
    json: *const c_char,
    value_out: *mut *mut appose_value,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let text = arg_str(json, "json")?;
        check_out(value_out, "value_out")?;
        *value_out = handle::insert::<appose_value>(ValueRef::new(parse_json_arg(text, "json")?));
        Ok(())
    })
}

/// A value holding an array (sharing its block).
#[no_mangle]
pub unsafe extern "C" fn appose_value_from_ndarray(
    ndarray: *const appose_ndarray,
    value_out: *mut *mut appose_value,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let a = handle::get(ndarray)?;
        check_out(value_out, "value_out")?;
        *value_out = handle::insert::<appose_value>(ValueRef::new(Value::NDArray(a)));
        Ok(())
    })
}

/// The value's kind (an appose_value_kind).
#[no_mangle]
pub unsafe extern "C" fn appose_value_get_kind(
    value: *const appose_value,
    kind_out: *mut i32,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        read_value(value, kind_out, "kind_out", |v, _| Ok(kind_of(v) as i32))
    })
}

/// A bool value as 0 or 1.
#[no_mangle]
pub unsafe extern "C" fn appose_value_bool(
    value: *const appose_value,
    bool_out: *mut i32,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        read_value(value, bool_out, "bool_out", |v, _| match v {
            Value::Bool(b) => Ok(i32::from(*b)),
            other => Err(wrong_kind(other, "a bool")),
        })
    })
}

/// A number that is an integer fitting in 64 bits (`APPOSE_STATUS_INVALID_ARGUMENT`
/// otherwise: read wider integers with `appose_value_number_text`).
#[no_mangle]
pub unsafe extern "C" fn appose_value_i64(
    value: *const appose_value,
    i64_out: *mut i64,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        read_value(value, i64_out, "i64_out", |v, _| match v {
            Value::Number(n) => n.as_i64().ok_or_else(|| {
                FfiError::new(
                    appose_status::APPOSE_STATUS_INVALID_ARGUMENT,
                    format!("{} is not an integer that fits in 64 bits", n.as_str()),
                )
            }),
            other => Err(wrong_kind(other, "a number")),
        })
    })
}

/// A number as a double (NaN and the infinities included; wide integers
/// rounded).
#[no_mangle]
pub unsafe extern "C" fn appose_value_f64(
    value: *const appose_value,
    f64_out: *mut f64,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        read_value(value, f64_out, "f64_out", |v, _| match v {
            Value::Number(n) => Ok(n.as_f64()),
            other => Err(wrong_kind(other, "a number")),
        })
    })
}

/// A number's exact text as the worker wrote it (`12345678901234567890123`,
/// `NaN`, ...). Free with `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_value_number_text(
    value: *const appose_value,
    text_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        read_value(value, text_out, "text_out", |v, _| match v {
            Value::Number(n) => Ok(string_out(n.as_str())),
            other => Err(wrong_kind(other, "a number")),
        })
    })
}

/// A string value. Free with `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_value_string(
    value: *const appose_value,
    text_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        read_value(value, text_out, "text_out", |v, _| match v {
            Value::String(s) => Ok(string_out(s)),
            other => Err(wrong_kind(other, "a string")),
        })
    })
}

/// The number of items of an array or members of an object.
#[no_mangle]
pub unsafe extern "C" fn appose_value_len(
    value: *const appose_value,
    len_out: *mut usize,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        read_value(value, len_out, "len_out", |v, _| match v {
            Value::Array(items) => Ok(items.len()),
            Value::Object(m) => Ok(m.len()),
            other => Err(wrong_kind(other, "an array or an object")),
        })
    })
}

fn out_of_range(index: usize, len: usize) -> FfiError {
    FfiError::new(
        appose_status::APPOSE_STATUS_INVALID_ARGUMENT,
        format!("index {index} is out of range (length {len})"),
    )
}

/// Item `index` of an array, or the value of member `index` of an object
/// (insertion order), as a new handle.
#[no_mangle]
pub unsafe extern "C" fn appose_value_at(
    value: *const appose_value,
    index: usize,
    item_out: *mut *mut appose_value,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        read_value(value, item_out, "item_out", |v, r| {
            let len = match v {
                Value::Array(items) => items.len(),
                Value::Object(m) => m.len(),
                other => return Err(wrong_kind(other, "an array or an object")),
            };
            if index >= len {
                return Err(out_of_range(index, len));
            }
            Ok(handle::insert::<appose_value>(r.child(index)))
        })
    })
}

/// The key of member `index` of an object (insertion order). Free with
/// `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_value_key(
    value: *const appose_value,
    index: usize,
    key_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        read_value(value, key_out, "key_out", |v, _| match v {
            Value::Object(m) => m
                .get_index(index)
                .map(|(k, _)| string_out(k))
                .ok_or_else(|| out_of_range(index, m.len())),
            other => Err(wrong_kind(other, "an object")),
        })
    })
}

/// Member `key` of an object, as a new handle; `APPOSE_STATUS_NOT_FOUND`
/// when absent.
#[no_mangle]
pub unsafe extern "C" fn appose_value_get(
    value: *const appose_value,
    key: *const c_char,
    member_out: *mut *mut appose_value,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let key = arg_str(key, "key")?;
        read_value(value, member_out, "member_out", |v, r| match v {
            Value::Object(m) => m
                .index_of(key)
                .map(|i| handle::insert::<appose_value>(r.child(i)))
                .ok_or_else(|| missing(key)),
            other => Err(wrong_kind(other, "an object")),
        })
    })
}

/// An array value as a new array handle (sharing its block).
#[no_mangle]
pub unsafe extern "C" fn appose_value_ndarray(
    value: *const appose_value,
    ndarray_out: *mut *mut appose_ndarray,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        read_value(value, ndarray_out, "ndarray_out", |v, _| match v {
            Value::NDArray(a) => Ok(handle::insert::<appose_ndarray>(a.clone())),
            other => Err(wrong_kind(other, "an ndarray")),
        })
    })
}

/// A block value (or an array's block) as a new block handle.
#[no_mangle]
pub unsafe extern "C" fn appose_value_shm(
    value: *const appose_value,
    shm_out: *mut *mut appose_shm,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        read_value(value, shm_out, "shm_out", |v, _| match v {
            Value::Shm(s) => Ok(handle::insert::<appose_shm>(s.clone())),
            Value::NDArray(a) => Ok(handle::insert::<appose_shm>(a.shm().clone())),
            other => Err(wrong_kind(other, "a shared memory block")),
        })
    })
}

/// The value as JSON text (arrays, blocks and worker objects in their
/// `appose_type` form). Free with `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_value_to_json(
    value: *const appose_value,
    json_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        read_value(value, json_out, "json_out", |v, _| {
            Ok(string_out(&v.to_json()))
        })
    })
}

/// Frees a value handle (the whole value goes with its last handle).
#[no_mangle]
pub extern "C" fn appose_value_free(value: *mut appose_value) -> appose_status {
    guard(std::ptr::null_mut(), || handle::remove(value))
}

/// The value of `key` as a value handle (typed at any depth).
/// `APPOSE_STATUS_NOT_FOUND` if absent.
#[no_mangle]
pub unsafe extern "C" fn appose_map_get_value(
    map: *const appose_map,
    key: *const c_char,
    value_out: *mut *mut appose_value,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        check_out(value_out, "value_out")?;
        let v = with_value(map, key, |v, _| Ok(v.clone()))?;
        *value_out = handle::insert::<appose_value>(ValueRef::new(v));
        Ok(())
    })
}
