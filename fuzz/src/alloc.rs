//! The fuzz binaries' allocator: the system's, with any single allocation above
//! [`MALLOC_LIMIT`] ending the process, which libFuzzer reports as a crash and keeps the input.
//!
//! libFuzzer's own `-malloc_limit_mb` is checked in allocation hooks that only a sanitizer's
//! allocator calls; the targets are built without a sanitizer (`-s none`, which stable Rust
//! allows), so without this an input asking for 100 GB at once would only show as a failed
//! allocation, or not at all when the memory is never touched.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;

/// The largest single allocation allowed (the same 2048 MB as `-rss_limit_mb`).
pub const MALLOC_LIMIT: usize = 2048 << 20;

struct Limited;

#[global_allocator]
static ALLOCATOR: Limited = Limited;

fn check(size: usize) {
    if size > MALLOC_LIMIT {
        // No formatting: that could allocate here.
        let _ = std::io::stderr().write_all(b"==ERROR: one allocation above the 2048 MB malloc limit\n");
        std::process::abort();
    }
}

// SAFETY: every call goes to the system allocator with the caller's own arguments; the only
// addition is a size check before it.
unsafe impl GlobalAlloc for Limited {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}
