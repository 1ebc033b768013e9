//! The stages after the sensor, fed one event at a time, live or from a recording.

use crate::{
    event::Event,
    process::{Process, ProcessTable},
};

/// How long an exited process stays in the table for ancestry lookups.
pub const EXIT_GRACE_NS: u64 = 30_000_000_000;

/// Counters of the pipeline.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct PipelineStats {
    /// Events handled.
    pub events: u64,
    /// Exec events handled.
    pub execs: u64,
    /// Fork events handled.
    pub forks: u64,
    /// Exit events handled.
    pub exits: u64,
    /// Stdio redirect events handled.
    pub redirects: u64,
}

/// Process table and (as they are added) the stages after it.
pub struct Pipeline {
    table: ProcessTable,
    stats: PipelineStats,
    last_expire_ns: u64,
}

impl Pipeline {
    /// A pipeline whose table starts with `seed` (processes that existed before the agent).
    pub fn new(seed: Vec<Process>) -> Self {
        let mut table = ProcessTable::new(EXIT_GRACE_NS);
        for p in seed {
            table.insert_seeded(p);
        }
        Self { table, stats: PipelineStats::default(), last_expire_ns: 0 }
    }

    /// Handle one event.
    pub fn handle(&mut self, ev: &Event) {
        use crate::event::EventBody::*;
        self.stats.events += 1;
        match &ev.body {
            Exec(_) => self.stats.execs += 1,
            Fork(_) => self.stats.forks += 1,
            Exit(_) => self.stats.exits += 1,
            StdioRedirect(_) => self.stats.redirects += 1,
        }
        self.table.apply(ev);
        if ev.ts_boot_ns.saturating_sub(self.last_expire_ns) > 1_000_000_000 {
            self.table.expire(ev.ts_boot_ns);
            self.last_expire_ns = ev.ts_boot_ns;
        }
    }

    /// The process table.
    pub fn table(&self) -> &ProcessTable {
        &self.table
    }

    /// Counters.
    pub fn stats(&self) -> PipelineStats {
        self.stats
    }
}
