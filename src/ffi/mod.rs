//! The C ABI. Converts and delegates to the safe core; owns no behaviour.
//!
//! Conventions every export follows (the header repeats them):
//! - fallible functions return `appose_status`; results go to `*_out`
//!   parameters, written only on success;
//! - every pointer argument is checked for NULL and every string for UTF-8;
//! - every body runs inside [`guard`], so a panic becomes
//!   `APPOSE_STATUS_PANIC` instead of unwinding into C;
//! - the message of the last failure on the calling thread is kept for
//!   `appose_last_error()`.
//!
//! Handles are not pointers to memory: they are numbered tokens looked up in
//! a table ([`handle`]), so a freed, forged or wrong-kind handle is reported
//! as `APPOSE_STATUS_INVALID_HANDLE` instead of being dereferenced.
#![allow(non_camel_case_types, clippy::missing_safety_doc)]

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{Error, ErrorKind};
pub use error::appose_error;

pub mod builder;
pub mod environment;
pub mod error;
pub mod handle;
#[cfg(test)]
mod header;
pub mod ndarray;
pub mod queue;
pub mod service;
pub mod shm;
pub mod task;
pub mod threads;
pub mod value;
pub mod worker_object;

/// Status of a fallible call. The numbers are part of the ABI and are never
/// reused or renumbered.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum appose_status {
    /// Success.
    APPOSE_STATUS_OK = 0,
    /// A required pointer argument was NULL.
    APPOSE_STATUS_NULL_ARGUMENT = 1,
    /// A string argument was not valid UTF-8.
    APPOSE_STATUS_INVALID_UTF8 = 2,
    /// An argument was malformed or out of range.
    APPOSE_STATUS_INVALID_ARGUMENT = 3,
    /// A handle was freed already, never issued, or of another kind.
    APPOSE_STATUS_INVALID_HANDLE = 4,
    /// Text that must be JSON was not.
    APPOSE_STATUS_INVALID_JSON = 5,
    /// The object's state does not allow the call.
    APPOSE_STATUS_INVALID_STATE = 6,
    /// An operating-system call failed.
    APPOSE_STATUS_IO = 7,
    /// A needed file or executable does not exist.
    APPOSE_STATUS_NOT_FOUND = 8,
    /// A timeout ran out; the object is left as it was.
    APPOSE_STATUS_TIMEOUT = 9,
    /// A blocking call was made from a callback, where it would deadlock.
    APPOSE_STATUS_REENTRANT = 10,
    /// The task finished FAILED; appose_last_error() holds its error.
    APPOSE_STATUS_TASK_FAILED = 11,
    /// The task finished CANCELED.
    APPOSE_STATUS_TASK_CANCELED = 12,
    /// The task finished CRASHED; appose_last_error() holds the crash report.
    APPOSE_STATUS_TASK_CRASHED = 13,
    /// The service is closed and takes no more requests.
    APPOSE_STATUS_SERVICE_CLOSED = 14,
    /// The library panicked; the call had no effect it could vouch for.
    APPOSE_STATUS_PANIC = 15,
    /// Something to be created exists already (e.g. a named memory block).
    APPOSE_STATUS_ALREADY_EXISTS = 16,
    /// The worker has left too many requests unread (it is busy, or no
    /// longer reads): this one was refused; the bound is in the message.
    APPOSE_STATUS_BACKLOG_FULL = 17,
    /// `appose_service_close` ran out of time while a listener was still
    /// running: the worker is gone, the remaining callbacks run later on
    /// the dispatcher thread.
    APPOSE_STATUS_LISTENER_BUSY = 18,
}

use appose_status::*;

/// Frees the caller's `userdata` when the library no longer needs it.
pub type appose_userdata_free = Option<unsafe extern "C" fn(userdata: *mut c_void)>;

/// An error crossing the boundary: status plus message.
pub(crate) struct FfiError {
    pub(crate) status: appose_status,
    pub(crate) message: String,
}

impl FfiError {
    pub(crate) fn new(status: appose_status, message: impl Into<String>) -> Self {
        FfiError {
            status,
            message: message.into(),
        }
    }
}

impl From<Error> for FfiError {
    fn from(e: Error) -> Self {
        let status = match e.kind() {
            ErrorKind::InvalidArgument => APPOSE_STATUS_INVALID_ARGUMENT,
            ErrorKind::InvalidJson => APPOSE_STATUS_INVALID_JSON,
            ErrorKind::InvalidState => APPOSE_STATUS_INVALID_STATE,
            ErrorKind::Io => APPOSE_STATUS_IO,
            ErrorKind::NotFound => APPOSE_STATUS_NOT_FOUND,
            ErrorKind::AlreadyExists => APPOSE_STATUS_ALREADY_EXISTS,
            ErrorKind::Timeout => APPOSE_STATUS_TIMEOUT,
            ErrorKind::Reentrant => APPOSE_STATUS_REENTRANT,
            ErrorKind::TaskFailed => APPOSE_STATUS_TASK_FAILED,
            ErrorKind::TaskCanceled => APPOSE_STATUS_TASK_CANCELED,
            ErrorKind::TaskCrashed => APPOSE_STATUS_TASK_CRASHED,
            ErrorKind::ServiceClosed => APPOSE_STATUS_SERVICE_CLOSED,
            ErrorKind::Backlog => APPOSE_STATUS_BACKLOG_FULL,
            ErrorKind::ListenerBusy => APPOSE_STATUS_LISTENER_BUSY,
        };
        FfiError::new(status, e.message())
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, FfiError>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let c = to_cstring(message);
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// Runs an export's body: panics and errors become a status; an error's
/// message is kept for `appose_last_error` and, when `error_out` is not
/// NULL, handed to the caller as a new `appose_error`.
pub(crate) fn guard(
    error_out: *mut *mut appose_error,
    body: impl FnOnce() -> FfiResult,
) -> appose_status {
    let e = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return APPOSE_STATUS_OK,
        Ok(Err(e)) => e,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            FfiError::new(APPOSE_STATUS_PANIC, format!("libappose panicked: {what}"))
        }
    };
    set_last_error(&e.message);
    let status = e.status;
    if !error_out.is_null() {
        // SAFETY: the caller passes NULL or a pointer it can write.
        unsafe { *error_out = error::new(e) };
    }
    status
}

/// A C string made from `s`; interior NULs (which C cannot carry) become U+FFFD.
pub(crate) fn to_cstring(s: &str) -> CString {
    CString::new(s)
        .unwrap_or_else(|_| CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default())
}

/// Reads a required string argument.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, name: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(FfiError::new(
            APPOSE_STATUS_NULL_ARGUMENT,
            format!("`{name}` is NULL"),
        ));
    }
    CStr::from_ptr(p).to_str().map_err(|e| {
        FfiError::new(
            APPOSE_STATUS_INVALID_UTF8,
            format!("`{name}` is not valid UTF-8: {e}"),
        )
    })
}

/// Reads an optional string argument (NULL gives `None`).
pub(crate) unsafe fn arg_opt_str<'a>(p: *const c_char, name: &str) -> FfiResult<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        arg_str(p, name).map(Some)
    }
}

/// Reads an array of `n` strings (NULL allowed when `n` is 0).
pub(crate) unsafe fn arg_str_array(
    p: *const *const c_char,
    n: usize,
    name: &str,
) -> FfiResult<Vec<String>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(FfiError::new(
            APPOSE_STATUS_NULL_ARGUMENT,
            format!("`{name}` is NULL but its length is {n}"),
        ));
    }
    (0..n)
        .map(|i| arg_str(*p.add(i), &format!("{name}[{i}]")).map(str::to_owned))
        .collect()
}

/// Checks an out-parameter before any work is done.
pub(crate) fn check_out<T>(p: *mut T, name: &str) -> FfiResult {
    if p.is_null() {
        Err(FfiError::new(
            APPOSE_STATUS_NULL_ARGUMENT,
            format!("`{name}` is NULL"),
        ))
    } else {
        Ok(())
    }
}

/// Hands a string to the caller, who frees it with `appose_string_free`.
pub(crate) fn string_out(s: &str) -> *mut c_char {
    to_cstring(s).into_raw()
}

/// Converts a timeout in milliseconds; negative means "no timeout".
pub(crate) fn timeout_from_ms(ms: i64) -> Option<std::time::Duration> {
    u64::try_from(ms).ok().map(std::time::Duration::from_millis)
}

/// Caller data that travels with a callback and is released exactly once,
/// when the owning callback is dropped.
pub(crate) struct UserData {
    ptr: *mut c_void,
    free: appose_userdata_free,
    armed: Arc<AtomicBool>,
}

// SAFETY: the C contract states that userdata and its free function may be
// used from any thread (callbacks run on the service's dispatcher thread).
unsafe impl Send for UserData {}
// SAFETY: the library only hands the pointer to the caller's functions; the
// C contract of each registration says whether they may run concurrently
// (thread hooks may).
unsafe impl Sync for UserData {}

impl UserData {
    pub(crate) fn new(ptr: *mut c_void, free: appose_userdata_free) -> Self {
        UserData {
            ptr,
            free,
            armed: Arc::new(AtomicBool::new(true)),
        }
    }

    /// The caller's pointer (a method, so closures capture the whole
    /// `UserData` and its Send impl rather than the bare pointer).
    pub(crate) fn ptr(&self) -> *mut c_void {
        self.ptr
    }

    /// A switch that, set to false, makes dropping this not call `free`:
    /// used when a registration fails and the caller keeps its data.
    pub(crate) fn armed(&self) -> Arc<AtomicBool> {
        self.armed.clone()
    }
}

impl Drop for UserData {
    fn drop(&mut self) {
        if !self.armed.load(Ordering::Acquire) {
            return;
        }
        if let Some(f) = self.free {
            // SAFETY: the caller gave us this function for this pointer.
            unsafe { f(self.ptr) };
        }
    }
}

/// The library version, e.g. `"0.1.0"`. Static; never free it.
#[no_mangle]
pub extern "C" fn appose_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The name of a status code (`"APPOSE_STATUS_OK"`, ...), or
/// `"APPOSE_STATUS_UNKNOWN"`. Static; never free it. Takes an `int` so that
/// any value, even one this version does not know, is safe to pass.
#[no_mangle]
pub extern "C" fn appose_status_str(status: c_int) -> *const c_char {
    let s: &'static str = match status {
        0 => "APPOSE_STATUS_OK\0",
        1 => "APPOSE_STATUS_NULL_ARGUMENT\0",
        2 => "APPOSE_STATUS_INVALID_UTF8\0",
        3 => "APPOSE_STATUS_INVALID_ARGUMENT\0",
        4 => "APPOSE_STATUS_INVALID_HANDLE\0",
        5 => "APPOSE_STATUS_INVALID_JSON\0",
        6 => "APPOSE_STATUS_INVALID_STATE\0",
        7 => "APPOSE_STATUS_IO\0",
        8 => "APPOSE_STATUS_NOT_FOUND\0",
        9 => "APPOSE_STATUS_TIMEOUT\0",
        10 => "APPOSE_STATUS_REENTRANT\0",
        11 => "APPOSE_STATUS_TASK_FAILED\0",
        12 => "APPOSE_STATUS_TASK_CANCELED\0",
        13 => "APPOSE_STATUS_TASK_CRASHED\0",
        14 => "APPOSE_STATUS_SERVICE_CLOSED\0",
        15 => "APPOSE_STATUS_PANIC\0",
        16 => "APPOSE_STATUS_ALREADY_EXISTS\0",
        17 => "APPOSE_STATUS_BACKLOG_FULL\0",
        18 => "APPOSE_STATUS_LISTENER_BUSY\0",
        _ => "APPOSE_STATUS_UNKNOWN\0",
    };
    s.as_ptr().cast()
}

/// The message of the last failed call on this thread ("" if none). Valid
/// until the next failing call on this thread; never free it.
#[no_mangle]
pub extern "C" fn appose_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Frees a string the library returned through an out-parameter. NULL is a
/// no-op. Never pass a string the library did not allocate.
#[no_mangle]
pub unsafe extern "C" fn appose_string_free(s: *mut c_char) {
    if !s.is_null() {
        let _ = catch_unwind(|| drop(CString::from_raw(s)));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_header_matches_the_generated_one() {
        let generated = include_str!(concat!(env!("OUT_DIR"), "/appose.h"));
        let committed =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/appose.h"))
                .expect("include/appose.h is missing");
        assert!(
            committed == generated,
            "include/appose.h differs from the generated header: \
             run `APPOSE_UPDATE_HEADER=1 cargo build` and commit it"
        );
    }

    #[test]
    fn every_status_has_a_name() {
        use std::ffi::CStr;
        for code in 0..=18 {
            let name = unsafe { CStr::from_ptr(super::appose_status_str(code)) };
            assert_ne!(name.to_str().unwrap(), "APPOSE_STATUS_UNKNOWN", "{code}");
        }
    }
}
