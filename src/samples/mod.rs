//! Synthetic documents built by the project for its tests, samples and benchmarks.
//!
//! Every file here is made by this module's code; nothing is downloaded or copied.

pub mod media;
pub mod package;

pub use package::PackageBuilder;
