//! C ABI for errors that travel with the call.
//!
//! `appose_last_error` is thread-local, which hosts whose calls hop threads
//! (koffi's async calls on the libuv pool, Java virtual threads moving
//! between carriers) cannot use. Every fallible export therefore also takes
//! a trailing `appose_error **error_out`: on failure it receives an error
//! object the caller owns, readable from any thread.

use std::ffi::{c_char, CString};
use std::sync::Arc;

use super::handle;
use super::{appose_status, to_cstring, FfiError};

/// An error a call handed to its caller (see `appose_error_*`). Owned by the
/// caller, readable from any thread, freed with `appose_error_free`.
pub struct appose_error {
    _opaque: [u8; 0],
}

/// What an `appose_error` holds.
pub(crate) struct ErrorObject {
    status: appose_status,
    message: CString,
}

pub(crate) fn new(e: FfiError) -> *mut appose_error {
    handle::insert::<appose_error>(Arc::new(ErrorObject {
        status: e.status,
        message: to_cstring(&e.message),
    }))
}

/// The status of the failed call; `APPOSE_STATUS_INVALID_HANDLE` for a NULL,
/// freed or wrong-kind handle.
#[no_mangle]
pub extern "C" fn appose_error_status(error: *const appose_error) -> appose_status {
    match std::panic::catch_unwind(|| handle::get(error)) {
        Ok(Ok(e)) => e.status,
        _ => appose_status::APPOSE_STATUS_INVALID_HANDLE,
    }
}

/// The error's message (UTF-8). Valid until the error is freed; never free
/// it. `""` for a NULL, freed or wrong-kind handle.
#[no_mangle]
pub extern "C" fn appose_error_message(error: *const appose_error) -> *const c_char {
    match std::panic::catch_unwind(|| handle::get(error)) {
        // The table keeps the object alive until `appose_error_free`, and
        // the string's buffer never moves.
        Ok(Ok(e)) => e.message.as_ptr(),
        _ => c"".as_ptr(),
    }
}

/// Frees an error. NULL is a no-op.
#[no_mangle]
pub extern "C" fn appose_error_free(error: *mut appose_error) -> appose_status {
    super::guard(std::ptr::null_mut(), || handle::remove(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::ptr;

    #[test]
    fn a_failed_call_hands_its_error_to_the_caller_on_any_thread() {
        let mut err: *mut appose_error = ptr::null_mut();
        // SAFETY: a NULL out-parameter is the misuse under test.
        let st = unsafe { super::super::value::appose_map_new(ptr::null_mut(), &mut err) };
        assert_eq!(st, appose_status::APPOSE_STATUS_NULL_ARGUMENT);
        assert!(!err.is_null());
        let addr = err.addr();
        let (status, message) = std::thread::spawn(move || {
            let e = std::ptr::without_provenance::<appose_error>(addr);
            // SAFETY: a live error's message is a C string.
            let m = unsafe { CStr::from_ptr(appose_error_message(e)) };
            (appose_error_status(e), m.to_str().unwrap().to_owned())
        })
        .join()
        .unwrap();
        assert_eq!(status, appose_status::APPOSE_STATUS_NULL_ARGUMENT);
        assert!(message.contains("map_out"), "{message}");
        assert_eq!(appose_error_free(err), appose_status::APPOSE_STATUS_OK);
        assert_eq!(
            appose_error_free(err),
            appose_status::APPOSE_STATUS_INVALID_HANDLE
        );
        assert_eq!(
            appose_error_status(err),
            appose_status::APPOSE_STATUS_INVALID_HANDLE
        );
        // SAFETY: a static empty string.
        assert_eq!(
            unsafe { CStr::from_ptr(appose_error_message(err)) }.to_bytes(),
            b""
        );
    }

    #[test]
    fn a_successful_call_leaves_the_error_slot_alone() {
        let mut err: *mut appose_error = ptr::null_mut();
        let mut map = ptr::null_mut();
        // SAFETY: valid out-parameters.
        let st = unsafe { super::super::value::appose_map_new(&mut map, &mut err) };
        assert_eq!(st, appose_status::APPOSE_STATUS_OK);
        assert!(err.is_null());
        assert_eq!(
            super::super::value::appose_map_free(map),
            appose_status::APPOSE_STATUS_OK
        );
    }
}
