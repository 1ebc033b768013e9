//! What other crates reuse from the xtask tasks: the agent's container image writer (the
//! end-to-end tests build the same image the release does).

pub mod image;
