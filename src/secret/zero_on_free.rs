//! A global allocator that zeroes every block before it goes back to the system allocator.
//!
//! Secrets themselves live in [`super::arena`] pages, which no core dump includes. Copies of
//! them do not: the Basic and `X-Auth-Token` header values built per request, the HTTP
//! buffers a request is written into and an answer read from, JSON bodies holding a token.
//! Freed, such a block would keep its bytes until reused, and a core of the running daemon
//! (root's `gcore`, which `PR_SET_DUMPABLE` 0 does not stop) would show them. Zeroing on
//! free keeps each copy alive no longer than the value holding it.
//!
//! Written here rather than taken from a crate: it is a thin wrapper around `System` whose
//! only work is `zeroize` (volatile writes the compiler cannot drop) on the freed block.

use std::alloc::{GlobalAlloc, Layout, System};

use zeroize::Zeroize;

/// `System`, zeroing on `dealloc` and on the old block of a `realloc`.
pub struct ZeroOnFree;

// SAFETY: every call is forwarded to `System` with the caller's layout; the only addition is
// writing zeros into a block the caller gives up, before it is freed.
unsafe impl GlobalAlloc for ZeroOnFree {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        std::slice::from_raw_parts_mut(ptr, layout.size()).zeroize();
        System.dealloc(ptr, layout)
    }

    /// In place when the block already has room (`malloc_usable_size`): nothing is left
    /// outside it, and a shrunk tail is zeroed. Otherwise moves (allocate, copy, zero and
    /// free the old block): glibc's own `realloc` would free the old block unzeroed.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size <= libc::malloc_usable_size(ptr.cast()) {
            if new_size < layout.size() {
                std::slice::from_raw_parts_mut(ptr.add(new_size), layout.size() - new_size)
                    .zeroize();
            }
            return ptr;
        }
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let new = System.alloc(new_layout);
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}
