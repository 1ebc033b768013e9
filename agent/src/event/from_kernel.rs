//! How the kernel's raw values become event values: argv buffers cut to the kernel side's
//! limits, and file modes classified as stdio kinds. The sensor's decoder and the reading of
//! `/proc` share these, so that a process seen either way looks the same.

use super::{Argv, RawStr, Stdio};

/// Bytes of argv kept per process (the kernel side's limit; longer command lines are cut).
pub const ARGV_MAX_BYTES: usize = 4096;
/// Arguments kept per process (the kernel side's limit).
pub const ARGV_MAX_ARGS: usize = 32;

const S_IFMT: u16 = 0o170_000;
const S_IFSOCK: u16 = 0o140_000;
const S_IFREG: u16 = 0o100_000;
const S_IFCHR: u16 = 0o020_000;
const S_IFIFO: u16 = 0o010_000;

/// Split a NUL-separated argv buffer with the kernel side's limits ([`ARGV_MAX_BYTES`],
/// [`ARGV_MAX_ARGS`]). The flag is set when anything was cut (or `truncated` was already set).
/// One allocation for the list and one per argument: the arguments are counted first, so the
/// shared slice is built at its final size.
pub fn split_argv(buf: &[u8], truncated: bool) -> (Argv, bool) {
    let mut truncated = truncated;
    let mut buf = buf;
    if buf.len() > ARGV_MAX_BYTES {
        buf = &buf[..ARGV_MAX_BYTES];
        truncated = true;
    }
    let buf = buf.strip_suffix(&[0]).unwrap_or(buf);
    if buf.is_empty() {
        return (Argv::from([]), truncated);
    }
    let parts = buf.iter().filter(|&&b| b == 0).count() + 1;
    if parts > ARGV_MAX_ARGS {
        truncated = true;
    }
    let mut args = buf.split(|&b| b == 0);
    // A mapped range has an exact length, which lets the Arc be allocated once.
    let argv = (0..parts.min(ARGV_MAX_ARGS)).map(|_| RawStr::from(args.next().unwrap_or_default())).collect();
    (argv, truncated)
}

/// Classify a file by its `i_mode`: the single place deciding pipe / tty / regular file /
/// other. `None` for sockets, whose details the caller fills in. `rdev_kernel` is in kernel
/// encoding (`major << 20 | minor`).
pub fn classify(mode: u16, ino: u64, rdev_kernel: u32) -> Option<Stdio> {
    Some(match mode & S_IFMT {
        S_IFSOCK => return None,
        S_IFIFO => Stdio::Pipe { ino, named: false },
        S_IFCHR if is_tty_rdev(rdev_kernel) => Stdio::Tty { rdev: rdev_kernel },
        S_IFREG => Stdio::File { ino },
        _ => Stdio::Other { mode, rdev: rdev_kernel },
    })
}

/// True for terminal devices: major 4 (virtual consoles, serial), 5:0 (`/dev/tty`), 5:1
/// (`/dev/console`) and 136-143 (pseudo-terminals). `rdev_kernel` is `major << 20 | minor`.
pub fn is_tty_rdev(rdev_kernel: u32) -> bool {
    let (major, minor) = (rdev_kernel >> 20, rdev_kernel & 0xf_ffff);
    match major {
        4 | 136..=143 => true,
        5 => minor <= 1,
        _ => false,
    }
}

/// Convert a userspace `dev_t` (as in `stat.st_rdev`) to the kernel's `major << 20 | minor`.
pub fn kernel_rdev(dev: u64) -> u32 {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    ((major << 20) | (minor & 0xf_ffff)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_limits() {
        let (a, t) = split_argv(b"sh\0-c\0\0echo hi\0", false);
        assert_eq!(&a[..], &["sh".into(), "-c".into(), "".into(), RawStr::from("echo hi")]);
        assert!(!t);
        assert_eq!(split_argv(b"", false), (Argv::from([]), false));
        let many: Vec<u8> = (0..40).flat_map(|i| format!("a{i}\0").into_bytes()).collect();
        let (a, t) = split_argv(&many, false);
        assert_eq!((a.len(), t, a[31].as_bytes()), (ARGV_MAX_ARGS, true, &b"a31"[..]));
        let mut long = vec![b'x'; 5000];
        long.push(0);
        let (a, t) = split_argv(&long, false);
        assert_eq!((a.len(), a[0].as_bytes().len(), t), (1, ARGV_MAX_BYTES, true));
        // Exactly at the limit, terminator included: nothing cut.
        let mut exact = vec![b'y'; ARGV_MAX_BYTES - 1];
        exact.push(0);
        assert!(!split_argv(&exact, false).1);
        assert!(split_argv(b"a\0", true).1);
    }

    #[test]
    fn classify_modes() {
        assert_eq!(classify(0o010_600, 9, 0), Some(Stdio::Pipe { ino: 9, named: false }));
        assert_eq!(classify(0o140_777, 9, 0), None);
        assert_eq!(classify(0o100_644, 3, 0), Some(Stdio::File { ino: 3 }));
        let pts = (136 << 20) | 4;
        assert_eq!(classify(0o020_620, 1, pts), Some(Stdio::Tty { rdev: pts }));
        let null = (1 << 20) | 3;
        assert_eq!(
            classify(0o020_666, 1, null),
            Some(Stdio::Other { mode: 0o020_666, rdev: null })
        );
        assert_eq!(classify(0o040_755, 1, 0), Some(Stdio::Other { mode: 0o040_755, rdev: 0 }));
        assert!(is_tty_rdev(4 << 20) && is_tty_rdev(5 << 20) && is_tty_rdev((5 << 20) | 1));
        assert!(!is_tty_rdev((5 << 20) | 2) && !is_tty_rdev(null) && is_tty_rdev(143 << 20));
        // glibc dev_t: makedev(136, 4) and a minor above 255.
        assert_eq!(kernel_rdev(0x8804), pts);
        assert_eq!(kernel_rdev(0x0010_0803), (8 << 20) | 259);
    }
}
