//! The agent's periodic upkeep: warnings about lost kernel records and recovery from them,
//! memory given back.

use std::time::{Duration, Instant};

/// Events the kernel could not put in the full ring buffer reach the log, not only the
/// metrics: one warning at the start of a loss, then at most one per [`LossLog::EVERY`] with the
/// count since the last.
#[derive(Default)]
pub(super) struct LossLog {
    reported: u64,
    last_warning: Option<Instant>,
    recovered: u64,
    last_recovery: Option<Instant>,
}

impl LossLog {
    const EVERY: Duration = Duration::from_secs(10);
    /// Least time between two recoveries of the process table during a long loss.
    const RECOVER_EVERY: Duration = Duration::from_secs(5);

    /// Records lost since the last recovery, when one is due.
    pub(super) fn recovery_due(&mut self, ringbuf_full: u64) -> Option<u64> {
        let new = ringbuf_full.saturating_sub(self.recovered);
        if new == 0 || self.last_recovery.is_some_and(|t| t.elapsed() < Self::RECOVER_EVERY) {
            return None;
        }
        self.recovered = ringbuf_full;
        self.last_recovery = Some(Instant::now());
        Some(new)
    }

    pub(super) fn check(&mut self, ringbuf_full: u64) {
        let new = ringbuf_full.saturating_sub(self.reported);
        if new == 0 || self.last_warning.is_some_and(|t| t.elapsed() < Self::EVERY) {
            return;
        }
        tracing::warn!(
            lost = new,
            lost_total = ringbuf_full,
            "kernel events lost: the ring buffer was full (findings about those processes may be missing); raise [sensor] ring_buffer_bytes or give the agent more CPU"
        );
        self.reported = ringbuf_full;
        self.last_warning = Some(Instant::now());
    }
}

/// Publish ticks (seconds) between two [`release_freed_memory`] calls in the event loop.
pub(super) const TRIM_EVERY_TICKS: u64 = 10;

/// Return memory the allocator holds but no longer uses to the kernel (glibc keeps freed heap
/// for reuse; after start-up that is memory the agent will not need again).
pub(super) fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap memory; no pointer is involved.
    unsafe {
        libc::malloc_trim(0);
    }
}
