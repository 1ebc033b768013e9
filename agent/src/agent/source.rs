//! Where the agent's events come from.

use std::future::Future;

use crate::{
    event::Event,
    sensor::{KernelCounters, ProgramStats, Sensor},
};

/// A source of events for the [`Agent`](super::Agent): the kernel [`Sensor`], or any other
/// (tests feed a list).
pub trait EventSource {
    /// Wait for events and append them to `batch` (possibly none: the agent then does its
    /// upkeep). Cancel-safe: events taken from the source before a cancellation are in `batch`.
    fn next_batch(&mut self, batch: &mut Vec<Event>) -> impl Future<Output = anyhow::Result<()>>;

    /// The source's counters (all zero for a source that keeps none).
    fn counters(&self) -> SourceCounters;

    /// Runs and run time of the kernel programs behind the source (none for other sources).
    fn program_stats(&self) -> Vec<ProgramStats> {
        Vec::new()
    }
}

/// Counters of an [`EventSource`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SourceCounters {
    /// The kernel side's counters.
    pub kernel: KernelCounters,
    /// Records decoded into events.
    pub decoded: u64,
    /// Records that could not be decoded.
    pub decode_errors: u64,
}

impl EventSource for Sensor {
    async fn next_batch(&mut self, batch: &mut Vec<Event>) -> anyhow::Result<()> {
        self.read_batch(|ev| batch.push(ev)).await?;
        Ok(())
    }

    fn counters(&self) -> SourceCounters {
        let stats = self.stats();
        SourceCounters {
            kernel: self.kernel_counters(),
            decoded: stats.decoded.load(std::sync::atomic::Ordering::Relaxed),
            decode_errors: stats.decode_errors.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    fn program_stats(&self) -> Vec<ProgramStats> {
        Sensor::program_stats(self)
    }
}
