//! shrike's kernel programs: process lifecycle, TCP connections, and standard fds that are sockets.
//!
//! One hook per file under `probes/`; maps in `maps.rs`; kernel struct readers in `kernel.rs`.
//! Struct member offsets are not compiled in: userspace resolves them from the running kernel's
//! BTF and hands them over in the `CONFIG` global before load.
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
