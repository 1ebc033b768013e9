//! Process tracking: the live [`ProcessTable`] built from sensor events, and [`procfs`] seeding
//! of that table from `/proc` at start so processes that predate the agent have ancestry too.

pub mod procfs;
pub mod rootfs;
pub mod table;

pub use table::{Process, ProcessTable};
