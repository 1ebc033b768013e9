//! `tp_btf/inet_sock_set_state`: TCP state changes. A connection going out is remembered in the
//! connecting process's context (SYN_SENT) and reported when the handshake completes, with both
//! addresses (the local port is only chosen after SYN_SENT); an accepted one is remembered when it
//! is established and reported by [`super::sock_use`] when a process first uses it. Closed
//! sockets are forgotten.

use agent_common::{connect_direction, counter, ConnectRecord, EventHeader, EventKind, StdioRaw};
use aya_log_ebpf::debug;
use aya_ebpf::{
    helpers::{bpf_get_current_pid_tgid, bpf_get_current_task_btf, bpf_ktime_get_boot_ns},
    macros::btf_tracepoint,
    programs::BtfTracePointContext,
};

use crate::{
    kernel,
    maps::{agent_tgid, count, lost, submit_flags, Watched, EVENTS, WATCHED},
};

const TCP_ESTABLISHED: i32 = 1;
const TCP_SYN_SENT: i32 = 2;
const TCP_SYN_RECV: i32 = 3;
const TCP_CLOSE: i32 = 7;
const S_IFSOCK: u16 = 0o140000;

#[btf_tracepoint(function = "inet_sock_set_state")]
pub fn inet_sock_set_state(ctx: BtfTracePointContext) -> i32 {
    let sk: *const u8 = ctx.arg(0);
    let old: i32 = ctx.arg(1);
    let new: i32 = ctx.arg(2);
    match new {
        TCP_SYN_SENT => connecting(sk),
        TCP_ESTABLISHED if old == TCP_SYN_SENT => connected(sk),
        TCP_ESTABLISHED if old == TCP_SYN_RECV => {
            let w = Watched {
                file: 0,
                owner: 0,
                report: connect_direction::INBOUND,
                _pad: 0,
                header: EventHeader::default(),
            };
            let _ = WATCHED.insert(&(sk as u64), &w, 0);
        }
        TCP_CLOSE => {
            let _ = WATCHED.remove(&(sk as u64));
        }
        _ => {}
    }
    0
}

/// SYN_SENT runs in the connecting process: remember who it is. Sockets of the agent and of
/// other nodes are watched too (a socket can be handed to another process) but never reported.
#[inline(always)]
fn connecting(sk: *const u8) {
    let pid_tgid = bpf_get_current_pid_tgid();
    // SAFETY: plain helper call.
    let task = unsafe { bpf_get_current_task_btf() } as *const u8;
    let node = kernel::node_pid_ns();
    let mut report = 0;
    let mut header = EventHeader::default();
    if let Some((pid, tgid)) = kernel::node_ids(task, pid_tgid as u32, (pid_tgid >> 32) as u32, node) {
        if tgid == agent_tgid() {
            count(counter::SELF_DROPPED);
        } else {
            report = connect_direction::OUTBOUND;
            header = kernel::header(
                EventKind::Connect as u16,
                core::mem::size_of::<ConnectRecord>(),
                task,
                pid,
                tgid,
            );
        }
    }
    let w = Watched {
        file: kernel::sock_file(sk) as u64,
        owner: (pid_tgid >> 32) as u32,
        report,
        _pad: 0,
        header,
    };
    let _ = WATCHED.insert(&(sk as u64), &w, 0);
}

/// The handshake of an outgoing connection completed (softirq context): report it for the
/// process remembered at SYN_SENT.
#[inline(always)]
fn connected(sk: *const u8) {
    let key = sk as u64;
    let Some(w) = WATCHED.get_ptr_mut(&key) else {
        // Connected before the agent started, or evicted from the full map.
        // (No address in the message: the verifier refuses a kernel pointer as a value.)
        debug!(&(), "an outgoing connection completed with no connector remembered");
        return;
    };
    // SAFETY: a map value pointer, valid for this program run.
    let w = unsafe { &mut *w };
    if w.report != connect_direction::OUTBOUND {
        return;
    }
    w.report = 0;
    let mut header = w.header;
    // SAFETY: plain helper call.
    header.ts_boot_ns = unsafe { bpf_ktime_get_boot_ns() };
    emit(header, connect_direction::OUTBOUND, sk, w.file as *const u8);
}

/// Send a [`ConnectRecord`], written in place in the ring buffer: no copy of it on the stack,
/// whose 512 bytes the programs that inline this share with their own records.
#[inline(always)]
pub fn emit(header: EventHeader, direction: u16, sk: *const u8, file: *const u8) {
    let Some(mut entry) = EVENTS.reserve::<ConnectRecord>(0) else {
        lost(EventKind::Connect as u16);
        return;
    };
    let rec = entry.as_mut_ptr();
    // SAFETY: `rec` points at a reserved, exclusively owned ring-buffer slot of the right size;
    // every field is written before it is submitted.
    unsafe {
        (*rec).header = header;
        (*rec).direction = direction;
        (*rec)._pad = [0; 3];
        let socket = &mut (*rec).socket;
        if !file.is_null() {
            kernel::describe_file(file, socket);
        } else {
            *socket = StdioRaw::default();
            socket.mode = S_IFSOCK;
            kernel::describe_sock(sk, socket);
        }
    }
    entry.submit(submit_flags());
    count(counter::SUBMITTED);
}
