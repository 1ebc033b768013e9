//! The sensor: loads the embedded eBPF programs, attaches them, reads the ring buffer and
//! decodes records into [`Event`]s. The only module that touches aya.

pub mod btf;
pub mod decode;
mod system;

use std::{
    os::fd::AsRawFd,
    sync::atomic::{AtomicU64, Ordering},
};

use agent_common::{counter, is_container_pid_ns, reader_state, KernelOffsets, ProbeConfig};
use aya::{
    maps::{Array, MapData, PerCpuArray, RingBuf},
    programs::BtfTracePoint,
    Ebpf, EbpfLoader,
};
use tokio::{io::unix::AsyncFd, task::JoinHandle};

pub use system::{node_pid_namespace, raise_memlock_rlimit, INIT_PID_NS_INODE};

use crate::event::{Event, EventBody};

/// The compiled kernel programs, built by `build.rs` and embedded in the binary.
pub static EBPF_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/shrike.bpf.o"));

/// Default ring buffer size. Exec records are as long as their paths and argv (about 400 bytes
/// for a typical command line, 6.3 KiB at most), so 4 MiB holds some 10,000 execs; its data pages
/// count twice in the agent's RSS (the kernel maps them twice, for wrap-around reads).
pub const DEFAULT_RING_BUFFER_BYTES: u32 = 4 * 1024 * 1024;

/// Whether the kernel counts every BPF program's runs (set by an administrator or a profiler).
const BPF_STATS_SYSCTL: &str = "/proc/sys/kernel/bpf_stats_enabled";

/// How often an active reader looks at the ring buffer (see [`Sensor::read_batch`]). Each look
/// is a wakeup, and a wakeup costs more than the records it brings: on this project's VMs an
/// exec storm cost the agent 4.6 µs per exec at a 20 ms poll and 3.0 µs at 50 ms (the records
/// that raise a finding on their own do not wait for it).
pub const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);
/// How often the reader looks while execs in containers come: they do not wake it each then, so
/// this bounds how late the agent sees a short-lived container process during a container's exec
/// storm (the first exec after a quiet moment wakes it at once).
pub const FAST_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(5);
/// How long a sleeping reader waits for a wakeup before it looks anyway: the bound on how late
/// a record that raced the reader falling asleep is read. One look a second costs nothing.
pub const ASLEEP_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// BTF tracepoints the sensor attaches (program name = tracepoint name). None of them is a
/// syscall tracepoint: attaching any of those puts every syscall of every thread of the kernel
/// on the tracing slow path. BTF tracepoints attach through the BPF syscall by BTF id and need no
/// tracefs.
const BTF_TRACEPOINTS: &[&str] = &["sched_process_exec", "sched_process_fork", "sched_process_exit", "inet_sock_set_state"];

/// BTF tracepoints the sensor does without when the kernel lacks them (see where each is
/// attached for what goes unseen).
const OPTIONAL_TRACEPOINTS: &[&str] = &["cgroup_mkdir"];

/// Where a process sends or receives on a socket (Linux 6.3+): how a socket on a standard fd is
/// found however it got there. Each is optional; [`SOCK_USE_FALLBACK`] stands in for the receive
/// side when it is missing.
const SOCK_USE: &[&str] = &["sock_send_length", "sock_recv_length"];

/// TCP receives on kernels without `sock_recv_length`.
const SOCK_USE_FALLBACK: &str = "tcp_rcv_space_adjust";

/// Load and attach one BTF tracepoint program.
fn attach(ebpf: &mut Ebpf, btf: &aya::Btf, program: &str, tracepoint: &str) -> Result<(), SensorError> {
    let program_error = |source| SensorError::Program {
        program: program.to_string(),
        target: format!("tp_btf/{tracepoint}"),
        source,
    };
    let prog: &mut BtfTracePoint = ebpf
        .program_mut(program)
        .ok_or_else(|| SensorError::Map { name: "program", reason: format!("{program} missing from object") })?
        .try_into()
        .map_err(program_error)?;
    prog.load(tracepoint, btf).map_err(program_error)?;
    prog.attach().map_err(program_error)?;
    Ok(())
}

/// What became of a program whose tracepoint the kernel may lack.
#[derive(Debug)]
enum Optional {
    Attached,
    /// The kernel has no such tracepoint (or cannot attach it): a property of the kernel,
    /// logged at debug level here; the caller says what goes unseen.
    Missing(SensorError),
    /// The verifier refused the program for a tracepoint the kernel has: a defect of shrike's
    /// kernel programs, already logged as an error.
    Refused,
}

/// Load and attach a program whose tracepoint may be absent (see [`Optional`]).
fn attach_optional(ebpf: &mut Ebpf, btf: &aya::Btf, program: &str) -> Optional {
    match attach(ebpf, btf, program, program) {
        Ok(()) => Optional::Attached,
        Err(e @ SensorError::Program { source: aya::programs::ProgramError::LoadError { .. }, .. }) => {
            tracing::error!(error = %e, "the kernel refused one of shrike's programs (a defect of this build, please report it): what it watches goes unseen");
            Optional::Refused
        }
        Err(e) => {
            tracing::debug!(error = %e, "optional tracepoint not attached");
            Optional::Missing(e)
        }
    }
}

/// Why the sensor could not start.
#[derive(Debug, thiserror::Error)]
pub enum SensorError {
    /// Kernel BTF missing or unreadable.
    #[error("kernel BTF: {0}")]
    Btf(#[from] btf::BtfError),
    /// aya could not read the kernel BTF.
    #[error("kernel BTF (aya): {0}")]
    AyaBtf(#[from] aya::BtfError),
    /// The object could not be loaded.
    #[error("loading eBPF object: {0}")]
    Load(#[from] aya::EbpfError),
    /// A program could not be loaded or attached.
    #[error("program {program} ({target}): {source}")]
    Program {
        /// Program name.
        program: String,
        /// Where it attaches.
        target: String,
        /// Cause.
        #[source]
        source: aya::programs::ProgramError,
    },
    /// A map the object must have is missing or of the wrong type.
    #[error("map {name}: {reason}")]
    Map {
        /// Map name.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The agent runs in a node's own pid namespace (e.g. kind) but the kernel cannot be asked
    /// for pids in that namespace.
    #[error("node scoping to pid namespace {node_pid_ns}: {reason}")]
    NodeScope {
        /// Inode of the agent's pid namespace.
        node_pid_ns: u32,
        /// What is missing.
        reason: String,
    },
    /// I/O on the ring buffer fd.
    #[error("ring buffer: {0}")]
    Io(#[from] std::io::Error),
}

/// Forward the kernel programs' aya-log records to the agent's log, from a task of the
/// current runtime.
fn read_kernel_log(ebpf: &mut Ebpf) -> Result<JoinHandle<()>, SensorError> {
    let logger = aya_log::EbpfLogger::init_with_logger(ebpf, KernelLog)
        .map_err(|e| SensorError::Map { name: "AYA_LOGS", reason: e.to_string() })?;
    // SAFETY: the logger owns the log map's fd and is moved into the AsyncFd, which drops it
    // (deregistering first); nothing else closes that fd.
    let mut logger = unsafe { AsyncFd::register_with_interest(logger, tokio::io::Interest::READABLE) }
        .map_err(|e| SensorError::Io(e.into()))?;
    Ok(tokio::spawn(async move {
        while let Ok(mut guard) = logger.readable_mut().await {
            guard.get_inner_mut().flush();
            guard.clear_ready();
        }
    }))
}

/// Sensor settings.
#[derive(Clone, Debug)]
pub struct SensorConfig {
    /// Ring buffer size in bytes (a power of two, multiple of the page size).
    pub ring_buffer_bytes: u32,
    /// tgid whose events are dropped in the kernel (the agent itself), as the agent's own pid
    /// namespace numbers it.
    pub agent_tgid: u32,
    /// Node scoping: `None` reports every process of the kernel with its pids in the initial
    /// pid namespace (a normal node). `Some(inode)` reports only processes with a pid in that
    /// pid namespace, with the pids they have there: on kind a node is a container with its own
    /// pid namespace and several nodes share one kernel. The default is the agent's own pid
    /// namespace when that is not the initial one ([`node_pid_namespace`]).
    pub node_pid_ns: Option<u32>,
    /// The kernel programs' own diagnostics (aya-log). The default follows the log filter:
    /// on when `shrike::kernel` is enabled at debug level (`SHRIKE_LOG=shrike::kernel=debug`).
    pub kernel_log: KernelLogLevel,
    /// Have the kernel count each program's runs and run time for as long as the sensor lives
    /// (`BPF_ENABLE_STATS`; two clock reads per program run). Without it the counts move only
    /// while `kernel.bpf_stats_enabled` is 1.
    pub program_stats: bool,
}

/// How often and how long one attached kernel program ran, as the kernel counts it while BPF
/// statistics are on (see [`SensorConfig::program_stats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramStats {
    /// Program (= tracepoint) name.
    pub program: &'static str,
    /// Runs counted.
    pub runs: u64,
    /// Total run time counted, in nanoseconds.
    pub run_time_ns: u64,
}

/// Target of the kernel programs' diagnostics in the agent's log.
pub const KERNEL_LOG_TARGET: &str = "shrike::kernel";

/// Which of the kernel programs' diagnostics are kept. The level is fixed before load; the
/// verifier drops the log statements of the levels left out, so off costs nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KernelLogLevel {
    /// None (the default).
    #[default]
    Off,
    /// Unexpected conditions: failed reads, truncations, missing map entries, lost records.
    Debug,
}

impl KernelLogLevel {
    /// What the agent's log filter lets through for [`KERNEL_LOG_TARGET`].
    pub fn from_log_filter() -> Self {
        if tracing::enabled!(target: "shrike::kernel", tracing::Level::DEBUG) {
            KernelLogLevel::Debug
        } else {
            KernelLogLevel::Off
        }
    }

    /// The value of aya-log's level global (0 off; 4 debug as `aya_log_common::Level`).
    fn global(self) -> u8 {
        match self {
            KernelLogLevel::Off => 0,
            KernelLogLevel::Debug => 4,
        }
    }
}

/// Forwards aya-log records (through the `log` facade) to the agent's log.
struct KernelLog;

impl log::Log for KernelLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, r: &log::Record<'_>) {
        let program = r.module_path().unwrap_or_default();
        match r.level() {
            log::Level::Error => tracing::error!(target: "shrike::kernel", program, "{}", r.args()),
            log::Level::Warn => tracing::warn!(target: "shrike::kernel", program, "{}", r.args()),
            log::Level::Info => tracing::info!(target: "shrike::kernel", program, "{}", r.args()),
            log::Level::Debug => tracing::debug!(target: "shrike::kernel", program, "{}", r.args()),
            log::Level::Trace => tracing::trace!(target: "shrike::kernel", program, "{}", r.args()),
        }
    }

    fn flush(&self) {}
}

impl Default for SensorConfig {
    fn default() -> Self {
        let node_pid_ns = node_pid_namespace().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the agent's pid namespace; reporting every process of the kernel");
            None
        });
        Self {
            ring_buffer_bytes: DEFAULT_RING_BUFFER_BYTES,
            agent_tgid: std::process::id(),
            node_pid_ns,
            kernel_log: KernelLogLevel::from_log_filter(),
            program_stats: false,
        }
    }
}

/// Whether the kernel has BPF ring buffers (the sensor's only way to hand over records); an
/// error when it cannot be asked (e.g. without privileges).
pub fn ring_buffer_supported() -> Result<bool, String> {
    aya::sys::is_map_supported(aya::maps::MapType::RingBuf).map_err(|e| e.to_string())
}

/// Counters kept by the kernel programs, summed over CPUs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct KernelCounters {
    /// Records submitted.
    pub submitted: u64,
    /// Records lost: ring buffer full.
    pub ringbuf_full: u64,
    /// Kernel reads that failed.
    pub read_errors: u64,
    /// Records about the agent itself dropped in the kernel.
    pub self_dropped: u64,
    /// Records about processes of other nodes dropped in the kernel (node scoping only).
    pub other_node_dropped: u64,
}

/// Counters kept by the userspace reader.
#[derive(Debug, Default)]
pub struct ReaderStats {
    /// Records decoded into events.
    pub decoded: AtomicU64,
    /// Records refused by the decoder.
    pub decode_errors: AtomicU64,
}

/// A loaded and attached sensor.
pub struct Sensor {
    _ebpf: Ebpf,
    ring: AsyncFd<RingBuf<MapData>>,
    counters: PerCpuArray<MapData, u64>,
    /// The kernel's copy of the reader's state (see [`Sensor::read_batch`]).
    state_map: Array<MapData, u32>,
    /// The reader's state (`agent_common::reader_state`).
    state: u32,
    stats: ReaderStats,
    offsets: KernelOffsets,
    node_pid_ns: Option<u32>,
    /// Reads the kernel programs' diagnostics into the log while they are on.
    kernel_log: Option<JoinHandle<()>>,
    /// The programs attached, for [`Sensor::program_stats`].
    attached: Vec<&'static str>,
    /// The counts last read: they do not move while statistics are off, so they are read again
    /// only while they are on.
    /// (counts, whether statistics were on when they were read)
    last_program_stats: std::sync::Mutex<(Vec<ProgramStats>, bool)>,
    /// Keeps the kernel's program statistics on while the sensor lives (closed on drop).
    _stats_on: Option<std::os::fd::OwnedFd>,
}

impl Drop for Sensor {
    fn drop(&mut self) {
        if let Some(t) = self.kernel_log.take() {
            t.abort();
        }
    }
}

impl Sensor {
    /// Load the embedded programs with this kernel's struct offsets and attach them all.
    pub fn start(cfg: &SensorConfig) -> Result<Sensor, SensorError> {
        if let Err(e) = raise_memlock_rlimit() {
            tracing::warn!(error = %e, "could not raise RLIMIT_MEMLOCK; kernels >= 5.11 account BPF memory to the cgroup instead");
        }
        // The kernel's BTF (5 MB here) is parsed here for struct offsets and for the type ids
        // the tracepoint programs attach by, and dropped at once. aya gets a BTF of those
        // typedefs only: each of its parses of the whole held some 15 MB, and two were alive at
        // once (the agent's memory peak).
        let (offsets, attach_btf) = {
            let kernel = btf::Btf::from_sys()?;
            let tracepoints: Vec<&str> =
                BTF_TRACEPOINTS.iter().chain(OPTIONAL_TRACEPOINTS).chain(SOCK_USE).chain([&SOCK_USE_FALLBACK]).copied().collect();
            (btf::resolve_kernel_offsets(&kernel)?, kernel.attach_btf(&tracepoints))
        };
        let node_pid_ns = match cfg.node_pid_ns {
            Some(0) => return Err(SensorError::NodeScope { node_pid_ns: 0, reason: "0 is no pid namespace".into() }),
            Some(ns) if !offsets.has_pid_numbers() => {
                return Err(SensorError::NodeScope {
                    node_pid_ns: ns,
                    reason: "this kernel's BTF lacks task_struct.thread_pid, pid.level/numbers or struct upid; \
                             run the agent in the host pid namespace (hostPID) of a real node"
                        .into(),
                })
            }
            Some(ns) => {
                tracing::info!(pid_ns = ns, "not in the initial pid namespace: reporting only this node's processes, with its pids");
                ns
            }
            None => 0,
        };
        let probe_config = ProbeConfig { agent_tgid: cfg.agent_tgid, node_pid_ns, offsets };
        // A loader parses the whole kernel BTF when it is made; it is dropped at once (the object
        // has no CO-RE relocations to resolve against it).
        let mut ebpf = EbpfLoader::new()
            .btf(None)
            .override_global("CONFIG", &probe_config, true)
            .override_global(aya_log::LEVEL, &cfg.kernel_log.global(), true)
            .map_max_entries("EVENTS", cfg.ring_buffer_bytes)
            .load(EBPF_OBJECT)?;
        let kernel_log = match cfg.kernel_log {
            KernelLogLevel::Off => None,
            _ => Some(read_kernel_log(&mut ebpf)?),
        };

        // Before the programs run, so that their counts cover the sensor's whole life.
        let stats_on = if cfg.program_stats {
            match aya::sys::enable_stats(aya::sys::Stats::RunTime) {
                Ok(fd) => Some(fd),
                Err(e) => {
                    tracing::warn!(error = %e, "program statistics not turned on: shrike_bpf_program_* metrics move only while kernel.bpf_stats_enabled is 1");
                    None
                }
            }
        } else {
            None
        };
        let kernel_btf = aya::Btf::parse(&attach_btf, aya::Endianness::default())?;
        drop(attach_btf);
        let mut attached = Vec::with_capacity(BTF_TRACEPOINTS.len() + OPTIONAL_TRACEPOINTS.len() + SOCK_USE.len() + 1);
        for &name in BTF_TRACEPOINTS {
            attach(&mut ebpf, &kernel_btf, name, name)?;
            attached.push(name);
        }
        match attach_optional(&mut ebpf, &kernel_btf, OPTIONAL_TRACEPOINTS[0]) {
            Optional::Attached => attached.push(OPTIONAL_TRACEPOINTS[0]),
            Optional::Missing(e) => tracing::warn!(error = %e, "cgroup_mkdir not attached: the container of a process that is gone, with its cgroup, before the agent looks stays unknown"),
            Optional::Refused => {}
        }
        let mut lacking = Vec::new();
        for &name in SOCK_USE {
            match attach_optional(&mut ebpf, &kernel_btf, name) {
                Optional::Attached => attached.push(name),
                Optional::Missing(_) => lacking.push(name),
                Optional::Refused => {}
            }
        }
        // The fallback stands in for a receive tracepoint the kernel lacks; a refused program
        // is a defect of this build, logged as such above.
        if lacking.contains(&"sock_recv_length") {
            match attach_optional(&mut ebpf, &kernel_btf, SOCK_USE_FALLBACK) {
                Optional::Attached => {
                    attached.push(SOCK_USE_FALLBACK);
                    tracing::warn!(
                        missing = ?lacking,
                        "this kernel lacks the socket send/receive tracepoints (Linux 6.3+): a socket put on a shell's stdin after it started is seen when the shell receives on it (tcp_rcv_space_adjust), not when it writes"
                    );
                }
                Optional::Missing(e) => tracing::warn!(
                    error = %e,
                    "this kernel lacks the socket send/receive tracepoints (Linux 6.3+) and tcp_rcv_space_adjust: a socket put on a shell's stdin after it started is seen only when the shell starts a program"
                ),
                Optional::Refused => {}
            }
        } else if !lacking.is_empty() {
            tracing::warn!(missing = ?lacking, "socket tracepoint missing: a socket on a standard fd is seen when the process receives on it");
        }
        drop(kernel_btf);

        let ring = RingBuf::try_from(
            ebpf.take_map("EVENTS").ok_or(SensorError::Map { name: "EVENTS", reason: "missing".into() })?,
        )
        .map_err(|e| SensorError::Map { name: "EVENTS", reason: e.to_string() })?;
        let counters = PerCpuArray::try_from(
            ebpf.take_map("COUNTERS").ok_or(SensorError::Map { name: "COUNTERS", reason: "missing".into() })?,
        )
        .map_err(|e| SensorError::Map { name: "COUNTERS", reason: e.to_string() })?;
        let state_map = Array::try_from(
            ebpf.take_map("READER_STATE").ok_or(SensorError::Map { name: "READER_STATE", reason: "missing".into() })?,
        )
        .map_err(|e| SensorError::Map { name: "READER_STATE", reason: e.to_string() })?;
        tracing::info!(ring_fd = ring.as_raw_fd(), "sensor attached");
        // SAFETY: the ring buffer owns its fd and is moved into the AsyncFd, which drops it
        // (deregistering first); nothing else closes that fd.
        let ring = unsafe { AsyncFd::register(ring) }.map_err(|e| SensorError::Io(e.into()))?;
        Ok(Sensor {
            _ebpf: ebpf,
            ring,
            counters,
            state_map,
            state: reader_state::POLLING,
            stats: ReaderStats::default(),
            offsets,
            node_pid_ns: cfg.node_pid_ns,
            kernel_log,
            attached,
            last_program_stats: std::sync::Mutex::new((Vec::new(), true)),
            _stats_on: stats_on,
        })
    }

    /// Runs and run time of each attached program so far (they move only while BPF statistics
    /// are on; see [`SensorConfig::program_stats`]). While they are on, one `bpf` call per
    /// program (for the once-a-second metrics snapshot, not for a hot path); while they are off,
    /// the counts last read.
    pub fn program_stats(&self) -> Vec<ProgramStats> {
        let mut last = self.last_program_stats.lock().unwrap_or_else(|e| e.into_inner());
        let counting = self._stats_on.is_some()
            || std::fs::read(BPF_STATS_SYSCTL).is_ok_and(|v| v.first() == Some(&b'1'));
        // Once more after they were turned off, for the runs counted since the last read.
        if counting || last.1 {
            last.1 = counting;
            last.0 = self
                .attached
                .iter()
                .filter_map(|&program| {
                    let info = self._ebpf.program(program)?.info().ok()?;
                    Some(ProgramStats { program, runs: info.run_count(), run_time_ns: info.run_time().as_nanos() as u64 })
                })
                .collect();
        }
        last.0.clone()
    }

    /// Size in bytes of a loaded program as the verifier left it (dead code removed).
    pub fn translated_size(&self, program: &str) -> Option<u32> {
        self._ebpf.program(program)?.info().ok()?.size_translated()
    }

    /// Struct offsets the programs run with.
    pub fn offsets(&self) -> &KernelOffsets {
        &self.offsets
    }

    /// The pid namespace the sensor is scoped to (`None`: every process of the kernel).
    pub fn node_pid_ns(&self) -> Option<u32> {
        self.node_pid_ns
    }

    /// Userspace reader counters.
    pub fn stats(&self) -> &ReaderStats {
        &self.stats
    }

    /// The kernel-side counters, summed over CPUs.
    pub fn kernel_counters(&self) -> KernelCounters {
        let sum = |index: u32| -> u64 {
            self.counters.get(&index, 0).map(|v| v.iter().copied().sum()).unwrap_or(0)
        };
        KernelCounters {
            submitted: sum(counter::SUBMITTED),
            ringbuf_full: sum(counter::RINGBUF_FULL),
            read_errors: sum(counter::READ_ERRORS),
            self_dropped: sum(counter::SELF_DROPPED),
            other_node_dropped: sum(counter::OTHER_NODE_DROPPED),
        }
    }

    /// Wait until records are available, then hand every decoded event to `sink`. Returns the
    /// number of records read (0 after a quiet poll). Records that do not decode are counted and
    /// skipped. Cancel-safe: dropping the future while it waits loses nothing.
    ///
    /// While records come, the reader looks every [`POLL_INTERVAL`] (the kernel does not wake
    /// it per record; it does for a burst of more than 1/16 of the ring, for execs in containers,
    /// and for records that can raise a finding on their own: an exec with a network socket on
    /// fd 0-2, a process sending or receiving on a TCP socket that is its fd 0-2). After a look
    /// that brought execs in containers it looks again after [`FAST_POLL_INTERVAL`] and tells
    /// the kernel, which then no longer wakes it for those; a short poll that brings none puts
    /// it back on the normal timer. After a poll that found nothing it tells the kernel it
    /// sleeps and waits for the next record to wake it (looking anyway every
    /// [`ASLEEP_POLL_INTERVAL`]). An idle agent costs one wakeup a second, a busy one a wakeup
    /// per poll.
    pub async fn read_batch(&mut self, mut sink: impl FnMut(Event)) -> Result<usize, SensorError> {
        let wait = match self.state {
            reader_state::ASLEEP => ASLEEP_POLL_INTERVAL,
            reader_state::POLLING_FAST => FAST_POLL_INTERVAL,
            _ => POLL_INTERVAL,
        };
        let node = self.node_pid_ns.unwrap_or(0);
        let mut read = Read::default();
        // A sleeping reader is woken by the next record; a record whose writer read the state
        // just before it was set wakes nobody, and the long timeout bounds how long it waits.
        if let Ok(guard) = tokio::time::timeout(wait, self.ring.readable_mut()).await {
            let mut guard = guard?;
            read += Self::drain(guard.get_inner_mut(), &self.stats, node, &mut sink);
            guard.clear_ready();
        }
        read += Self::drain(self.ring.get_mut(), &self.stats, node, &mut sink);
        if read.records > 0 && self.state == reader_state::ASLEEP {
            // The record that woke it set the kernel's copy to polling.
            self.state = reader_state::POLLING;
        }
        if read.container_execs > 0 {
            // Execs in containers are coming: look again soon instead of being woken by each.
            self.set_state(reader_state::POLLING_FAST);
        } else if self.state == reader_state::POLLING_FAST && self.set_state(reader_state::POLLING) {
            // A short poll brought none: back to the normal timer, then look once more for one
            // that came before the kernel could see it.
            let more = Self::drain(self.ring.get_mut(), &self.stats, node, &mut sink);
            if more.container_execs > 0 {
                self.set_state(reader_state::POLLING_FAST);
            }
            read += more;
        }
        if read.records == 0 && self.state == reader_state::POLLING && self.set_state(reader_state::ASLEEP) {
            // Quiet: asleep until the next record, after one more look for a record written
            // before the kernel could see the new state.
            read += Self::drain(self.ring.get_mut(), &self.stats, node, &mut sink);
            if read.records > 0 {
                // The kernel's copy stays asleep until the next record wakes the reader once
                // more: harmless.
                self.state = reader_state::POLLING;
            }
        }
        Ok(read.records)
    }

    /// Tell the kernel the reader's new state; false (state unchanged) when the map write
    /// failed.
    fn set_state(&mut self, state: u32) -> bool {
        if self.state == state {
            return true;
        }
        match self.state_map.set(0, state, 0) {
            Ok(()) => {
                self.state = state;
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, state, "cannot write the reader's state");
                false
            }
        }
    }

    /// Decode every record waiting in `ring` into `sink`.
    fn drain(ring: &mut RingBuf<MapData>, stats: &ReaderStats, node: u32, sink: &mut impl FnMut(Event)) -> Read {
        let mut read = Read::default();
        while let Some(item) = ring.next() {
            read.records += 1;
            match decode::decode(&item) {
                Ok(ev) => {
                    stats.decoded.fetch_add(1, Ordering::Relaxed);
                    if let EventBody::Exec(x) = &ev.body {
                        read.container_execs += usize::from(is_container_pid_ns(x.pid_ns, node));
                    }
                    sink(ev);
                }
                Err(e) => {
                    let errors = stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                    if errors.is_power_of_two() {
                        tracing::warn!(error = %e, total = errors + 1, "undecodable kernel record");
                    }
                }
            }
        }
        read
    }
}

/// What one look at the ring buffer brought.
#[derive(Clone, Copy, Debug, Default)]
struct Read {
    /// Records read (decoded or not).
    records: usize,
    /// Exec events of processes in containers among them.
    container_execs: usize,
}

impl std::ops::AddAssign for Read {
    fn add_assign(&mut self, other: Read) {
        self.records += other.records;
        self.container_execs += other.container_execs;
    }
}
