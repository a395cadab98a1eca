//! The fuzz targets of mugai: what each does is in [`targets`]; the binaries in `fuzz_targets/`
//! only hand libFuzzer's bytes to it. [`alloc`] is the allocator every fuzz binary runs with.

pub mod alloc;
pub mod targets;

pub use targets::*;
