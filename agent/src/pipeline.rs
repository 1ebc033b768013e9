//! The stages after the sensor, fed one event at a time, live or from a recording:
//! process table → container resolver → (detectors).

use std::sync::Arc;

use crate::{
    container::{ContainerRef, ContainerResolver},
    event::{Event, EventBody},
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

/// Process table, container resolver and (as they are added) the stages after them.
pub struct Pipeline {
    table: ProcessTable,
    resolver: ContainerResolver,
    stats: PipelineStats,
    last_expire_ns: u64,
}

impl Pipeline {
    /// A pipeline whose table starts with `seed` (processes that existed before the agent).
    pub fn new(seed: Vec<Process>, resolver: ContainerResolver) -> Self {
        let mut table = ProcessTable::new(EXIT_GRACE_NS);
        for p in seed {
            table.insert_seeded(p);
        }
        Self { table, resolver, stats: PipelineStats::default(), last_expire_ns: 0 }
    }

    /// Handle one event; returns the container it came from (`None`: the host).
    pub fn handle(&mut self, ev: &Event) -> Option<Arc<ContainerRef>> {
        self.stats.events += 1;
        let pid_ns = match &ev.body {
            EventBody::Exec(x) => {
                self.stats.execs += 1;
                x.pid_ns
            }
            EventBody::Fork(_) => {
                self.stats.forks += 1;
                0
            }
            EventBody::Exit(_) => {
                self.stats.exits += 1;
                0
            }
            EventBody::StdioRedirect(_) => {
                self.stats.redirects += 1;
                0
            }
        };
        let pid_ns = match self.table.apply(ev) {
            Some(p) if pid_ns == 0 => p.pid_ns,
            _ => pid_ns,
        };
        let container = self.resolver.identify(ev.cgroup_id, ev.process.pid, pid_ns);
        if ev.ts_boot_ns.saturating_sub(self.last_expire_ns) > 1_000_000_000 {
            self.table.expire(ev.ts_boot_ns);
            self.last_expire_ns = ev.ts_boot_ns;
        }
        container
    }

    /// Take answers from the container runtime and do periodic upkeep.
    pub fn poll(&mut self) {
        self.resolver.poll();
    }

    /// The process table.
    pub fn table(&self) -> &ProcessTable {
        &self.table
    }

    /// The container resolver.
    pub fn resolver(&self) -> &ContainerResolver {
        &self.resolver
    }

    /// The container resolver, mutably.
    pub fn resolver_mut(&mut self) -> &mut ContainerResolver {
        &mut self.resolver
    }

    /// Counters.
    pub fn stats(&self) -> PipelineStats {
        self.stats
    }
}
