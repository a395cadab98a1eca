//! Validated zip reading (WIP).
