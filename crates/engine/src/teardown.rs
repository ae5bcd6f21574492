//! Whether a render may leave its working structures to the end of the process.
//!
//! A render builds thousands of small allocations (parse trees, the function table, one
//! context per template) and, dropped at the end, frees them one by one: several percent of
//! a `rudder template` run, for memory the operating system takes back at once when the
//! process exits a moment later. Helm never pays this (Go's collector does not run in so
//! short a process). A command-line program that renders once and exits calls [`skip`];
//! a long-running user of the library does not, and every render then frees what it used.
//!
//! The flag itself is [`rudder_value::teardown`]'s, which values coalescing reads too.

/// Declares that this process exits after a bounded number of renders, so renders need not
/// free their working structures.
pub fn skip() {
    rudder_value::teardown::skip();
}

/// True once [`skip`] was called.
pub fn skipped() -> bool {
    rudder_value::teardown::skipped()
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
        if skipped() {
            std::mem::forget(self.0.take());
        }
    }
}
