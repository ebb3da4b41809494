//! The models the engine runs, one per file.

pub mod distilbert;
