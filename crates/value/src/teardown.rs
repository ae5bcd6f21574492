//! Whether working structures may be left to the end of the process.
//!
//! Rendering and values coalescing build many small allocations (parse trees, values trees
//! of subcharts that turn out disabled, coalesced temporaries) and, dropped, free them one
//! by one: several percent of a `rudder template` run, for memory the operating system takes
//! back at once when the process exits a moment later. Helm never pays this (Go's collector
//! does not run in so short a process). A command-line program that exits after a bounded
//! amount of work calls [`skip`]; a long-running user of the library does not, and then
//! everything is freed as usual. The flag lives here, in the crate every other one uses,
//! so one call covers the chart and the engine crates.

use std::sync::atomic::{AtomicBool, Ordering};

static SKIPPED: AtomicBool = AtomicBool::new(false);

/// Declares that this process exits after a bounded amount of work, so working structures
/// need not be freed.
pub fn skip() {
    SKIPPED.store(true, Ordering::Relaxed);
}

/// True once [`skip`] was called.
pub fn skipped() -> bool {
    SKIPPED.load(Ordering::Relaxed)
}

/// Drops `garbage`, or leaves it to the end of the process once [`skip`] was called.
pub fn discard<T>(garbage: T) {
    if skipped() {
        std::mem::forget(garbage);
    }
}

/// A value that is freed when dropped, unless [`skip`] was called: then it is left to the
/// end of the process (a loaded chart with its files, values and subcharts is thousands of
/// allocations).
pub struct FreedUnlessSkipped<T>(Option<T>);

impl<T> FreedUnlessSkipped<T> {
    pub fn new(value: T) -> Self {
        FreedUnlessSkipped(Some(value))
    }
}

impl<T> std::ops::Deref for FreedUnlessSkipped<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_ref().expect("only taken when dropped")
    }
}

impl<T> std::ops::DerefMut for FreedUnlessSkipped<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.as_mut().expect("only taken when dropped")
    }
}

impl<T> Drop for FreedUnlessSkipped<T> {
    fn drop(&mut self) {
        discard(self.0.take());
    }
}
