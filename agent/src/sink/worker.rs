//! One task per network sink: takes the oldest spooled findings, delivers them, acknowledges
//! what was delivered and retries the rest with exponential backoff and jitter.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::watch;

use super::{config::QueueParams, lock, spool::Item, Done, NetSink, Shared};

/// Exponential backoff with "equal jitter": the n-th delay is uniformly drawn from
/// `[d/2, d]`, `d = min(max, initial * 2^n)`.
#[derive(Debug)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
    rng: u64,
}

impl Backoff {
    /// A backoff that starts at `initial` and never waits more than `max`.
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        let seed = t ^ (u64::from(std::process::id()) << 32) ^ (&t as *const u64 as u64);
        Backoff { initial, max, failures: 0, rng: seed | 1 }
    }

    fn random(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let exp = self.initial.saturating_mul(1u32 << self.failures.min(20));
        let d = exp.min(self.max);
        self.failures = self.failures.saturating_add(1);
        let half = d / 2;
        let span = (d - half).as_nanos() as u64;
        half + Duration::from_nanos(if span == 0 { 0 } else { self.random() % (span + 1) })
    }

    /// An attempt succeeded.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// Wait until a shutdown deadline is set and has passed; returns at once when the `Delivery`
/// is gone.
async fn deadline_passed(stop: &mut watch::Receiver<Option<Instant>>) {
    loop {
        let d = *stop.borrow_and_update();
        match d {
            Some(d) => {
                tokio::time::sleep_until(d.into()).await;
                return;
            }
            None => {
                if stop.changed().await.is_err() {
                    return;
                }
            }
        }
    }
}

/// fsync what was spooled since the last call, off the event loop.
pub(crate) async fn sync_spool(shared: &Shared) {
    let Some((files, dir)) = lock(&shared.spool).take_unsynced() else { return };
    let job = tokio::task::spawn_blocking(move || super::spool::sync_files(&files, &dir));
    if let Err(e) = job.await {
        tracing::warn!(sink = %shared.name, error = %e, "fsync of the spool failed");
    }
}

/// The findings to send, bodies read back from disk where they are not in memory.
fn load(shared: &Shared, batch: Vec<(u64, String, Option<Arc<str>>)>) -> Vec<Item> {
    let mut spool = lock(&shared.spool);
    let mut items = Vec::with_capacity(batch.len());
    for (seq, id, body) in batch {
        let body = match body {
            Some(b) => b,
            None => match spool.read(seq) {
                Some(Ok(b)) => b,
                Some(Err(e)) => {
                    spool.reject(seq, &format!("cannot read the spooled finding: {e}"));
                    continue;
                }
                // Dropped (spool full) since it was handed out.
                None => continue,
            },
        };
        items.push(Item { seq, id, body });
    }
    items
}

/// The task's body; returns when the spool is empty after a shutdown was asked for, when the
/// shutdown deadline passes, or when the `Delivery` is gone.
pub(crate) async fn run(shared: Arc<Shared>, mut sink: NetSink, q: QueueParams, mut stop: watch::Receiver<Option<Instant>>) {
    let mut backoff = Backoff::new(q.backoff_initial, q.backoff_max);
    // After a batch was refused as a whole: how many findings to send one at a time, to find
    // the one the receiver refuses.
    let mut solo_left = 0usize;
    loop {
        let shutting_down = stop.borrow().is_some();
        let max = if solo_left > 0 { 1 } else { sink.batch_max() };
        let batch = lock(&shared.spool).checkout(max);
        if batch.is_empty() {
            if shutting_down {
                return;
            }
            tokio::select! {
                _ = shared.notify.notified() => {}
                r = stop.changed() => if r.is_err() { return },
            }
            continue;
        }
        sync_spool(&shared).await;
        let items = load(&shared, batch);
        if items.is_empty() {
            continue;
        }
        let report = tokio::select! {
            r = sink.deliver(&items) => r,
            _ = deadline_passed(&mut stop) => {
                let mut spool = lock(&shared.spool);
                items.iter().for_each(|i| spool.checkin(i.seq));
                return;
            }
        };
        let mut delivered = 0u64;
        {
            let mut spool = lock(&shared.spool);
            for (i, item) in items.iter().enumerate() {
                match report.done.get(i) {
                    Some(Done::Delivered) => {
                        if spool.ack(item.seq) {
                            delivered += 1;
                        }
                    }
                    Some(Done::Rejected(reason)) => spool.reject(item.seq, reason),
                    Some(Done::Pending) | None => spool.checkin(item.seq),
                }
            }
        }
        solo_left = solo_left.saturating_sub(report.done.len());
        {
            let mut c = lock(&shared.counters);
            c.delivered += delivered;
            if let Some(f) = &report.failure {
                c.failures += 1;
                c.last_error = Some(f.error.clone());
            }
        }
        let Some(failure) = report.failure else {
            backoff.reset();
            continue;
        };
        if failure.split {
            tracing::info!(sink = %shared.name, error = %failure.error, "batch refused: sending its findings one at a time");
            solo_left = items.len() - report.done.len();
            continue;
        }
        let delay = backoff.next_delay();
        let waiting = lock(&shared.spool).len();
        tracing::warn!(sink = %shared.name, error = %failure.error, retry_in_ms = delay.as_millis() as u64, waiting, "delivery failed; findings stay spooled");
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                _ = deadline_passed(&mut stop) => return,
                // New findings while waiting: fsync them now rather than after the wait.
                _ = shared.notify.notified() => sync_spool(&shared).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_bounded_and_jittered() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let d: Vec<Duration> = (0..10).map(|_| b.next_delay()).collect();
        assert!(d[0] >= Duration::from_millis(50) && d[0] <= Duration::from_millis(100), "{d:?}");
        assert!(d[3] >= Duration::from_millis(400) && d[3] <= Duration::from_millis(800), "{d:?}");
        assert!(d.iter().all(|x| *x <= Duration::from_secs(2)), "{d:?}");
        assert!(d[9] >= Duration::from_secs(1), "{d:?}");
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
