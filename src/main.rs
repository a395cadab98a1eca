//! The `mugai` command: parses arguments, sets up logging, runs a command, maps errors to exit
//! codes (0 clean, 1 something blocked or found, 2 usage or configuration error).

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    tune_allocator();
    cli::main()
}

/// glibc's allocator hands memory back to the system as soon as 128 KiB are free at the top of
/// a heap, grows its heaps a few pages at a time and maps larger blocks afresh, so a service
/// that disarms file after file faults the same memory in again for every file. Kept instead:
/// up to 64 MiB free at a heap's top, blocks up to 32 MiB from the heaps, heaps grown 16 MiB at
/// a time. On the drop-folder bench (500 documents) this took page faults from about 10 000 to
/// 6 000 and heap-growing calls from 255 to 33 a run, and the 2-thread run from 0.213 s to
/// 0.200 s (1 thread unchanged). An operator who sets the allocator's own tunables
/// (`GLIBC_TUNABLES=glibc.malloc...`) keeps them.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    use nix::libc::{mallopt, M_MMAP_THRESHOLD, M_TOP_PAD, M_TRIM_THRESHOLD};
    if std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("glibc.malloc.")) {
        return;
    }
    // SAFETY: mallopt only sets the allocator's parameters, and is called before any other
    // thread exists; it cannot touch memory of ours.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 64 << 20);
        mallopt(M_TOP_PAD, 16 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}
