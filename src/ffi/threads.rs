//! C ABI for [`crate::threads`]: thread hooks.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::{appose_error, appose_status, appose_userdata_free, guard, to_cstring, UserData};

/// Runs on a library thread that may call host code: once when it starts
/// (before any other callback on it), once when it ends (after the last).
/// `thread_name` (e.g. "appose-3-dispatch") lives for the call only.
pub type appose_thread_hook =
    Option<unsafe extern "C" fn(userdata: *mut c_void, thread_name: *const c_char)>;

/// Sets the thread hooks for library threads started from now on (a thread
/// keeps the hooks it started with, so its exit hook always matches its
/// start hook). Threads that run them: each service's dispatcher thread
/// (task listeners, the debug listener, most `userdata_free` calls), and the
/// threads of `appose_service_close_async` and `appose_builder_build_async`.
/// The other library threads never call host code and run no hooks. Either
/// hook may be NULL; both NULL removes the hooks. `userdata_free` runs once,
/// on any thread, when no thread uses these hooks any more. Set them before
/// the first service starts (a JVM attaches threads as daemons in `on_start`
/// and detaches them in `on_exit`).
#[no_mangle]
pub extern "C" fn appose_set_thread_hooks(
    on_start: appose_thread_hook,
    on_exit: appose_thread_hook,
    userdata: *mut c_void,
    userdata_free: appose_userdata_free,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let data = Arc::new(UserData::new(userdata, userdata_free));
        let hook = |f: appose_thread_hook| {
            f.map(|f| {
                let data = data.clone();
                Box::new(move |name: &str| {
                    let n = to_cstring(name);
                    // SAFETY: the C contract of appose_thread_hook.
                    unsafe { f(data.ptr(), n.as_ptr()) };
                }) as crate::threads::ThreadHook
            })
        };
        let (start, exit) = (hook(on_start), hook(on_exit));
        // With no hook nothing holds `data`, which is freed here.
        crate::threads::set_thread_hooks(start, exit);
        Ok(())
    })
}
