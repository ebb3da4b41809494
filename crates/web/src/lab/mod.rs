//! The lab's logic beside its page (`pages/lab.rs` and `pages/lab_panels`): the calls
//! into the worker, their payloads, the page state, the shareable URL and chart maths.
//! Everything here but [`bridge`] is plain Rust with native tests.

pub mod bridge;
pub mod charts;
pub mod messages;
pub mod recipe;
pub mod state;
pub mod take_home;
pub mod url;
