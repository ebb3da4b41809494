//! One module per subcommand.

pub mod classify;
pub mod compare;
pub mod distill;
pub mod eval;
pub mod export;
pub mod quantize;
pub mod recipe;
