//! Streaming XML helpers (WIP).
