//! Thread hooks: host code run at the start and end of every library thread
//! that may call into the host.
//!
//! A JVM must attach a native thread before it calls Java, and should detach
//! it before the thread ends (JNI's `AttachCurrentThreadAsDaemon` /
//! `DetachCurrentThread`); other runtimes have similar needs. The library
//! runs the hooks on each thread that can run host code: a service's
//! dispatcher thread (listeners, the debug listener, `userdata_free`), the
//! thread of a close or build started without blocking. Threads that never
//! call host code (stdout/stderr readers, the stdin flusher, the monitor, the
//! reaper, the worker's supervisor process) run no hooks.
//!
//! A thread runs the hooks that were set when it started, its exit hook
//! included, so replacing the hooks never unbalances a running thread.

use std::sync::{Arc, Mutex};

use crate::lock;

/// A hook: called with the thread's name.
pub type ThreadHook = Box<dyn Fn(&str) + Send + Sync>;

struct Hooks {
    on_start: Option<ThreadHook>,
    on_exit: Option<ThreadHook>,
}

static HOOKS: Mutex<Option<Arc<Hooks>>> = Mutex::new(None);

/// Sets the hooks for threads started from now on (`None`, `None` removes
/// them). Threads already running keep theirs.
pub fn set_thread_hooks(on_start: Option<ThreadHook>, on_exit: Option<ThreadHook>) {
    let hooks =
        (on_start.is_some() || on_exit.is_some()).then(|| Arc::new(Hooks { on_start, on_exit }));
    let old = std::mem::replace(&mut *lock(&HOOKS), hooks);
    // The old hooks (and what they own) go when their last thread ends.
    drop(old);
}

/// Runs `body` on a new thread named `name` that may call host code, with
/// the hooks around it. A panic in a hook is caught; the exit hook runs even
/// when `body` panics.
pub(crate) fn spawn_host_thread(
    name: String,
    body: impl FnOnce() + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let hooks = lock(&HOOKS).clone();
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            struct Exit(Option<Arc<Hooks>>, String);
            impl Drop for Exit {
                fn drop(&mut self) {
                    if let Some(f) = self.0.as_ref().and_then(|h| h.on_exit.as_ref()) {
                        let _ =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&self.1)));
                    }
                }
            }
            if let Some(f) = hooks.as_ref().and_then(|h| h.on_start.as_ref()) {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&name)));
            }
            let _exit = Exit(hooks, name);
            body();
        })
}
