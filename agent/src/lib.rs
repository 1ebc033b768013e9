//! shrike: a container runtime threat detector for Linux.
//!
//! Data flows one way: kernel probes → [`sensor`] (load, attach, read, decode) → typed
//! [`event`]s → [`process`] table → detectors → findings → sinks. Only the sensor touches the
//! kernel; everything after it works on owned, serializable events, so [`replay`] can feed a
//! recording through the same [`pipeline`] as live events. The [`agent`] runs it all: events
//! from the sensor through the pipeline to the sinks (or into a recording), and shutdown.
//!
//! Imports run the same way: [`sensor`] → [`process`] → [`container`] → [`detect`] →
//! [`finding`] → [`sink`], each module importing only those before it, [`event`] and the
//! neutral [`metrics`] and [`toml_file`]; only the sensor uses aya. The modules that put them
//! together ([`pipeline`], [`agent`], [`config`], [`doctor`], ...) come after all of them.
#![deny(missing_docs)]

pub mod agent;
pub mod cloud;
pub mod config;
pub mod container;
pub mod detect;
pub mod doctor;
pub mod event;
pub mod finding;
pub mod logging;
pub mod metrics;
pub mod pipeline;
pub mod privileges;
pub mod process;
pub mod replay;
pub mod scan;
pub mod sensor;
pub mod sink;
pub mod toml_file;

#[cfg(test)]
mod layers;
