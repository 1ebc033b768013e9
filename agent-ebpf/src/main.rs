//! shrike's kernel programs: process lifecycle, TCP connections, and standard fds that are sockets.
//!
//! One hook per file under `probes/`; maps in `maps.rs`; kernel struct readers in `kernel.rs`.
//! Struct member offsets are not compiled in: userspace resolves them from the running kernel's
//! BTF and hands them over in the `CONFIG` global before load.
//!
//! Unexpected conditions (a failed read, a truncation, a missing map entry, a full ring buffer)
//! are counted always and logged through aya-log at debug level. The log level is a read-only
//! global userspace sets before load; at its default (off) the verifier sees every log
//! statement's branch as dead and removes it, so logging costs nothing when off.
#![no_std]
#![no_main]

mod kernel;
mod maps;
mod probes;

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[link_section = "license"]
#[no_mangle]
static LICENSE: [u8; 4] = *b"GPL\0";
