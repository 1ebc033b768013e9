//! Host preparation the loader needs: tracefs mounted, memlock limit raised where allowed.

use std::{ffi::CString, path::Path};

/// Where tracefs is looked for, in order (the second is the legacy debugfs location).
pub const TRACEFS_PATHS: &[&str] = &["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// True when `dir` looks like a mounted tracefs (it has the `events` directory).
fn is_tracefs(dir: &str) -> bool {
    Path::new(dir).join("events").is_dir()
}

/// Make sure tracefs is mounted (tracepoint attachment needs it for the event ids). Mounts it
/// at `/sys/kernel/tracing` when it is missing.
pub fn ensure_tracefs() -> Result<(), String> {
    if TRACEFS_PATHS.iter().any(|p| is_tracefs(p)) {
        return Ok(());
    }
    let target = TRACEFS_PATHS[0];
    let (src, dst, fstype) = (
        CString::new("tracefs").map_err(|e| e.to_string())?,
        CString::new(target).map_err(|e| e.to_string())?,
        CString::new("tracefs").map_err(|e| e.to_string())?,
    );
    // SAFETY: all pointers are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe { libc::mount(src.as_ptr(), dst.as_ptr(), fstype.as_ptr(), 0, std::ptr::null()) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        return Err(format!(
            "not mounted and mounting it at {target} failed ({err}; mounting needs CAP_SYS_ADMIN): mount it on the host (`mount -t tracefs tracefs {target}`, or systemd's sys-kernel-tracing.mount) and, in a container, mount the host's /sys"
        ));
    }
    if is_tracefs(target) {
        tracing::info!(path = target, "mounted tracefs");
        Ok(())
    } else {
        Err(format!("mounted at {target} but it has no events directory"))
    }
}

/// Raise RLIMIT_MEMLOCK to infinity (needed for BPF maps on kernels before 5.11).
pub fn raise_memlock_rlimit() -> std::io::Result<()> {
    let limit = libc::rlimit { rlim_cur: libc::RLIM_INFINITY, rlim_max: libc::RLIM_INFINITY };
    // SAFETY: valid pointer to an initialized rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
