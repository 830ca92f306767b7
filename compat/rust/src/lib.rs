//! Compatibility suite: `tests/sdk.rs` drives a real Sesame (through `sesame-testkit`) with Ory's
//! official Rust SDK, `ory-kratos-client`, pinned at 26.2.0. A response the SDK cannot decode is a
//! Sesame bug against Kratos's contract. This crate has no code of its own and ships nothing.
