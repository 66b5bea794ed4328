//! Locking a `std::sync::Mutex` whatever a panicking holder left: every critical section in this
//! crate is a few assignments to plain data, so a poisoned lock still guards consistent values,
//! and a host must go on serving (and cleaning up) after a panic elsewhere.

use std::sync::{Mutex, MutexGuard};

/// The guard of `mutex`, poisoned or not.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
