//! Test-only fault injection: with the `fault-injection` feature, tests can
//! make one of the library's own threads panic at a chosen point, to prove
//! that a failure inside the library still ends in a report, never a hang.
//! Without the feature every point compiles to nothing.

/// Where a fault can be injected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The next stdout line handled (by the reader thread or a waiting caller).
    ReaderPanic = 1,
    /// The next task event the dispatcher delivers, outside the listeners.
    DispatcherPanic = 2,
    /// The monitor, right after the worker exits.
    MonitorPanic = 4,
}

#[cfg(feature = "fault-injection")]
static ARMED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Arms `fault`: the next time its point is reached, it panics (once).
#[cfg(feature = "fault-injection")]
pub fn arm(fault: Fault) {
    ARMED.fetch_or(fault as u32, std::sync::atomic::Ordering::SeqCst);
}

#[cfg(feature = "fault-injection")]
pub(crate) fn point(fault: Fault) {
    let bit = fault as u32;
    if ARMED.fetch_and(!bit, std::sync::atomic::Ordering::SeqCst) & bit != 0 {
        panic!("injected fault: {fault:?}");
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn point(_fault: Fault) {}
