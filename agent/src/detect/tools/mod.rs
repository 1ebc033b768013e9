//! What tool is this? Pure identification of an exec from its real executable path and argv,
//! plus a byte fingerprint for renamed or copied network tools.
//!
//! The real executable decides, not the name typed: `exe` is the file the kernel executed
//! (symlinks resolved, so `nc` via alternatives is `/usr/bin/nc.traditional`). argv\[0\] is
//! attacker-controlled and is only trusted where the executable itself trusts it: busybox picks
//! its applet from argv\[0\] (or argv\[1\] after `busybox`), and the dynamic loader
//! (`ld-linux-*.so ./prog args`) runs the program named in its arguments.
//!
//! No I/O: the caller reads binaries and passes bytes to [`fingerprint`]. The common path (an
//! exec of something that is none of these tools) is a handful of short byte comparisons and
//! never allocates.

use crate::event::{RawStr, SocketProto};

pub mod netcat;
pub mod program;
pub mod socat;

/// Name lists, from the rules data (loaded elsewhere from `rules/default.toml`).
///
/// Entries may end in `*` for a prefix match (`"python3.*"`, `"python*"`); otherwise an entry
/// matches the name exactly.
/// The lists are read once, when rules are loaded; the first classification builds an index of
/// them (exact names hashed, prefix entries apart), so an exec costs one hash lookup and a few
/// prefix comparisons however long the lists are. Change no list after the first use.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToolLists {
    /// Shells (`sh`, `bash`, ...).
    pub shells: Vec<String>,
    /// Script interpreters (`python3.*`, `perl`, `node`, `awk`, ...).
    pub interpreters: Vec<String>,
    /// Netcat names (`nc`, `netcat`, `ncat`, `nc.traditional`, ...).
    pub netcat: Vec<String>,
    /// Socat names.
    pub socat: Vec<String>,
    /// Compilers, matched after stripping a cross-compiler target prefix and a `-N` version
    /// suffix (`x86_64-linux-gnu-gcc-12` matches `gcc`).
    pub compilers: Vec<String>,
    /// Everyday commands (`ls`, `cat`, `id`, ...).
    pub common_commands: Vec<String>,
    #[serde(skip)]
    index: IndexCell,
}

/// Which lists a name is on, one bit per list, in the order [`classify`] gives them precedence.
const ON_NETCAT: u8 = 1;
const ON_SOCAT: u8 = 1 << 1;
const ON_SHELLS: u8 = 1 << 2;
const ON_INTERPRETERS: u8 = 1 << 3;
const ON_COMPILERS: u8 = 1 << 4;
const ON_COMMON: u8 = 1 << 5;

/// [`ToolLists`] as a lookup: exact entries in a hash map, prefix entries (`python3.*`) in a
/// short list.
#[derive(Debug, Default)]
struct NameIndex {
    exact: std::collections::HashMap<Box<[u8]>, u8, foldhash::fast::FixedState>,
    prefixes: Vec<(Box<[u8]>, u8)>,
}

impl NameIndex {
    fn new(lists: &ToolLists) -> Self {
        let mut index = NameIndex::default();
        for (list, bit) in [
            (&lists.netcat, ON_NETCAT),
            (&lists.socat, ON_SOCAT),
            (&lists.shells, ON_SHELLS),
            (&lists.interpreters, ON_INTERPRETERS),
            (&lists.compilers, ON_COMPILERS),
            (&lists.common_commands, ON_COMMON),
        ] {
            for entry in list {
                match entry.as_bytes().split_last() {
                    Some((b'*', prefix)) => match index.prefixes.iter_mut().find(|(p, _)| **p == *prefix) {
                        Some((_, bits)) => *bits |= bit,
                        None => index.prefixes.push((prefix.into(), bit)),
                    },
                    _ => *index.exact.entry(entry.as_bytes().into()).or_default() |= bit,
                }
            }
        }
        index
    }

    /// The lists `name` is on.
    fn lists_of(&self, name: &[u8]) -> u8 {
        let mut bits = self.exact.get(name).copied().unwrap_or(0);
        for (prefix, on) in &self.prefixes {
            if name.starts_with(prefix) {
                bits |= on;
            }
        }
        bits
    }
}

/// The index of a [`ToolLists`], built on first use; not part of its value.
#[derive(Debug, Default)]
struct IndexCell(std::sync::OnceLock<NameIndex>);

impl Clone for IndexCell {
    fn clone(&self) -> Self {
        IndexCell::default()
    }
}

impl PartialEq for IndexCell {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for IndexCell {}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

impl ToolLists {
    /// The obvious defaults; used by tests (production lists come from the rules file).
    #[rustfmt::skip]
    pub fn defaults_for_tests() -> ToolLists {
        ToolLists {
            shells: strings(&[
                "sh", "bash", "rbash", "dash", "ash", "hush", "zsh", "ksh", "ksh93", "mksh", "pdksh",
                "oksh", "lksh", "yash", "posh", "csh", "tcsh", "fish",
            ]),
            interpreters: strings(&[
                "python", "python2", "python3", "python2.*", "python3.*", "pypy", "pypy3", "perl",
                "perl5.*", "ruby", "ruby3.*", "ruby2.*", "php", "php5", "php7",
                "php8", "php5.*", "php7.*", "php8.*", "lua", "lua5.*", "luajit", "node", "nodejs",
                "awk", "gawk", "mawk", "nawk", "tclsh", "tclsh8.*", "expect",
            ]),
            netcat: strings(&[
                "nc", "netcat", "ncat", "nc.traditional", "nc.openbsd", "netcat.traditional",
                "netcat.openbsd", "netcat-traditional", "netcat-openbsd",
            ]),
            socat: strings(&["socat", "socat1", "socat2"]),
            compilers: strings(&[
                "gcc", "g++", "cc", "c++", "clang", "clang++", "cc1", "cc1plus", "tcc", "rustc",
                "javac", "nasm", "yasm", "go", "gccgo",
            ]),
            common_commands: strings(&[
                "ls", "cat", "echo", "id", "whoami", "uname", "ps", "grep", "sed", "head", "tail",
                "env", "sleep", "true", "false", "date", "mkdir", "rm", "cp", "mv", "chmod",
                "chown", "touch", "find", "sort", "uniq", "wc", "cut", "tr", "xargs", "test", "[",
                "basename", "dirname", "readlink", "stat", "hostname", "tee", "printf", "pwd",
            ]),
            index: IndexCell::default(),
        }
    }
}

/// True when `name` matches an entry of `list` (exact, or prefix for entries ending in `*`).
pub fn name_matches(list: &[String], name: &[u8]) -> bool {
    list.iter().any(|entry| {
        let e = entry.as_bytes();
        match e.split_last() {
            Some((b'*', prefix)) => name.starts_with(prefix),
            _ => e == name,
        }
    })
}

/// Which netcat implementation; each has its own option grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetcatFlavor {
    /// Hobbit's netcat 1.10 (Debian `netcat-traditional`): `-e prog`, `-c cmd`.
    Traditional,
    /// OpenBSD netcat: no exec option at all.
    OpenBsd,
    /// Nmap's ncat: `-e`, `-c`, `--exec`, `--sh-exec`, `--lua-exec`.
    Ncat,
    /// The busybox `nc` applet: `-e PROG [ARGS...]` (everything after `-e`).
    Busybox,
    /// A plain `nc`/`netcat` whose implementation is not known from its name.
    Unknown,
}

/// Coarse kind of program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    /// A shell.
    Shell,
    /// A script interpreter.
    Interpreter,
    /// A netcat of the given flavor.
    Netcat(NetcatFlavor),
    /// socat.
    Socat,
    /// A compiler or assembler (see [`is_compiler_invocation`] for whether it compiles).
    Compiler,
    /// An everyday command.
    CommonCommand,
    /// Anything else.
    Other,
}

/// What was executed, as far as names tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity<'a> {
    /// The kind of program.
    pub kind: ToolKind,
    /// The effective program name: the busybox applet; the program run by the dynamic loader;
    /// else the basename of the executable.
    pub name: &'a [u8],
    /// Index in argv where the program's own arguments start: 1 normally, 2 for
    /// `busybox nc ...`, after the program path for `ld.so prog ...`. Never more than
    /// `argv.len()`, so `&argv[args_from..]` is always in bounds.
    pub args_from: usize,
}

fn is_busybox(name: &[u8]) -> bool {
    name.starts_with(b"busybox")
}

fn is_loader(name: &[u8]) -> bool {
    name.starts_with(b"ld-linux")
        || name.starts_with(b"ld-musl")
        || name.starts_with(b"ld64.so")
        || name == b"ld.so"
}

/// For an exec of the dynamic loader (`/lib64/ld-linux-x86-64.so.2 [opts] PROG args`), the argv
/// index of PROG, and of the `--argv0` value that replaces PROG's argv\[0\], if any. `None`
/// when the loader only lists or verifies (`--list`, `--verify`: PROG is not run) or no program
/// is given.
#[rustfmt::skip]
fn loader_target(argv: &[RawStr]) -> Option<(usize, Option<usize>)> {
    let mut i = 1;
    let mut argv0 = None;
    while let Some(a) = argv.get(i) {
        match a.as_bytes() {
            b"--list" | b"--verify" | b"--help" | b"--version" | b"--list-tunables"
            | b"--list-diagnostics" => return None,
            b"--inhibit-cache" => i += 1,
            b"--argv0" => {
                argv0 = Some(i + 1);
                i += 2;
            }
            b"--library-path" | b"--inhibit-rpath" | b"--audit" | b"--preload"
            | b"--glibc-hwcaps-prepend" | b"--glibc-hwcaps-mask" => i += 2,
            _ => return Some((i, argv0)),
        }
    }
    None
}

/// The path whose bytes should go to [`fingerprint`]: the executable, or for an exec of the
/// dynamic loader the program it loads (as given in argv, possibly relative to the process's
/// working directory).
pub fn program_path<'a>(exe: &'a RawStr, argv: &'a [RawStr]) -> &'a [u8] {
    if is_loader(exe.basename()) {
        if let Some(a) = loader_target(argv).and_then(|(k, _)| argv.get(k)) {
            return a.as_bytes();
        }
    }
    exe.as_bytes()
}

/// Flavor from a netcat name (not busybox).
fn flavor_of(name: &[u8]) -> NetcatFlavor {
    match name {
        b"nc.traditional" | b"netcat.traditional" | b"netcat-traditional" => {
            NetcatFlavor::Traditional
        }
        b"nc.openbsd" | b"netcat.openbsd" | b"netcat-openbsd" => NetcatFlavor::OpenBsd,
        b"ncat" => NetcatFlavor::Ncat,
        _ => NetcatFlavor::Unknown,
    }
}

#[rustfmt::skip]
const ARCH_PREFIXES: &[&[u8]] = &[
    b"x86_64", b"i386", b"i486", b"i586", b"i686", b"amd64", b"aarch64", b"arm", b"mips",
    b"powerpc", b"ppc", b"riscv", b"s390", b"sparc", b"loongarch", b"m68k", b"sh4", b"alpha",
    b"hppa", b"ia64", b"avr", b"msp430", b"xtensa", b"wasm", b"musl", b"or1k", b"csky", b"nios2",
    b"microblaze",
];

/// The compiler's base name: `x86_64-linux-gnu-gcc-12` → `gcc`, `clang++-15` → `clang++`,
/// `musl-gcc` → `gcc`. Only strips a prefix whose first component is a CPU architecture (or
/// `musl`), so `protoc-gen-go` stays `protoc-gen-go`.
pub fn compiler_base(name: &[u8]) -> &[u8] {
    let mut n = name;
    // Version suffix: -12, -12.2
    if let Some(d) = n.iter().rposition(|&b| b == b'-') {
        let tail = &n[d + 1..];
        if !tail.is_empty()
            && tail[0].is_ascii_digit()
            && tail.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        {
            n = &n[..d];
        }
    }
    // MinGW thread-model suffixes.
    for sfx in [&b"-posix"[..], &b"-win32"[..]] {
        if n.len() > sfx.len() && n.ends_with(sfx) {
            n = &n[..n.len() - sfx.len()];
        }
    }
    if let Some(first_dash) = n.iter().position(|&b| b == b'-') {
        let first = &n[..first_dash];
        if ARCH_PREFIXES.iter().any(|p| first.starts_with(p)) {
            if let Some(last_dash) = n.iter().rposition(|&b| b == b'-') {
                return &n[last_dash + 1..];
            }
        }
    }
    n
}

/// What a program is by its base name alone (`sh`, `python3`, `gcc-12`).
pub fn classify_name(name: &[u8], lists: &ToolLists) -> ToolKind {
    classify(name, lists, false)
}

/// The program of a command a tool runs (`/bin/sh`, `bash -i`, `busybox sh`): the base name of
/// its first word, or of the applet after `busybox`.
fn command_program(command: &str) -> Option<(String, bool)> {
    let mut words = command.split_whitespace();
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
    let first = words.next().map(base)?;
    if is_busybox(first.as_bytes()) {
        if let Some(applet) = words.next().map(base) {
            return Some((applet, true));
        }
    }
    Some((first, false))
}

/// What the program of a command a tool runs is.
pub fn command_kind(command: &str, lists: &ToolLists) -> ToolKind {
    command_program(command).map_or(ToolKind::Other, |(name, busybox)| classify(name.as_bytes(), lists, busybox))
}

/// Programs that only move or print data: a network tool serving one of them (an echo or time
/// service) gives its peer nothing to run.
const DATA_ONLY: &[&str] = &["cat", "date", "echo", "printf", "head", "tail", "tee", "wc", "uptime", "hostname", "true", "sleep", "od", "xxd", "base64"];

/// True when a command a tool runs is a program that only moves or prints data. A command with
/// shell syntax in it (`cat; sh`, `date && sh`, `$(…)`) is not: commands given to
/// `--sh-exec`, `-c` or socat's SYSTEM run through a shell.
pub fn command_moves_data_only(command: &str) -> bool {
    !command.contains([';', '&', '|', '`', '$', '<', '>', '(', ')', '\n'])
        && command_program(command).is_some_and(|(name, _)| DATA_ONLY.contains(&name.as_str()))
}

fn classify(name: &[u8], lists: &ToolLists, via_busybox: bool) -> ToolKind {
    if name.is_empty() {
        return ToolKind::Other;
    }
    let index = lists.index.0.get_or_init(|| NameIndex::new(lists));
    let on = index.lists_of(name);
    if on & ON_NETCAT != 0 || flavor_of(name) != NetcatFlavor::Unknown {
        let flavor = if via_busybox { NetcatFlavor::Busybox } else { flavor_of(name) };
        return ToolKind::Netcat(flavor);
    }
    if on & ON_SOCAT != 0 {
        return ToolKind::Socat;
    }
    if on & ON_SHELLS != 0 {
        return ToolKind::Shell;
    }
    if on & ON_INTERPRETERS != 0 {
        return ToolKind::Interpreter;
    }
    if on & ON_COMPILERS != 0 {
        return ToolKind::Compiler;
    }
    let base = compiler_base(name);
    if base != name && index.lists_of(base) & ON_COMPILERS != 0 {
        return ToolKind::Compiler;
    }
    if on & ON_COMMON != 0 {
        return ToolKind::CommonCommand;
    }
    ToolKind::Other
}

/// Busybox: the applet is basename(argv\[0\]) (a login shell's leading `-` removed), unless that
/// is itself `busybox*`, in which case it is basename(argv\[1\]) and arguments start at 2.
/// `argv0` is the program's argv\[0\] when it differs from `argv[0]` (loader `--argv0`).
fn busybox_identity<'a>(
    exe_base: &'a [u8],
    argv0: Option<&'a RawStr>,
    argv: &'a [RawStr],
    lists: &ToolLists,
) -> Identity<'a> {
    let a0 = argv0.or(argv.first()).map(|a| {
        let b = a.basename();
        b.strip_prefix(b"-").unwrap_or(b)
    });
    let (name, args_from) = match a0 {
        Some(n) if !n.is_empty() && !is_busybox(n) => (n, argv.len().min(1)),
        _ => match argv.get(1) {
            Some(a1) => (a1.basename(), 2),
            None => (exe_base, argv.len()),
        },
    };
    let kind = if is_busybox(name) { ToolKind::Other } else { classify(name, lists, true) };
    Identity { kind, name, args_from }
}

/// Index in argv of the program's own argv\[0\] (0, or for an exec of the dynamic loader the
/// index of the program it runs) and the loader's `--argv0` index. `None` when the loader runs
/// nothing.
fn program_start(exe_base: &[u8], argv: &[RawStr]) -> Option<(usize, Option<usize>)> {
    if is_loader(exe_base) {
        loader_target(argv)
    } else {
        Some((0, None))
    }
}

/// Identify an exec from its real executable path and argv.
///
/// * basename(exe) is matched against the lists; argv\[0\] alone never makes an exec a netcat,
///   socat or shell (it is attacker-controlled). If exe's name is unknown (`/tmp/x`), the caller
///   may [`fingerprint`] the bytes at [`program_path`] and use [`identify_fingerprinted`].
/// * busybox (`busybox`, `busybox.static`, ...) is identified by its applet.
/// * the dynamic loader (`ld-linux-x86-64.so.2 [--opts] PROG args`) is identified by PROG.
/// * an empty `exe` (not resolvable) falls back to basename(argv\[0\]), the only name there is.
///
/// Netcat flavors come from the name: `nc.traditional`, `netcat.traditional`,
/// `netcat-traditional` → Traditional; `nc.openbsd`, `netcat.openbsd` → OpenBsd; `ncat` → Ncat;
/// busybox applet `nc`/`netcat` → Busybox; plain `nc`/`netcat` → Unknown.
pub fn identify<'a>(exe: &'a RawStr, argv: &'a [RawStr], lists: &ToolLists) -> Identity<'a> {
    let exe_base = if exe.is_empty() {
        argv.first().map(|a| a.basename()).unwrap_or(b"")
    } else {
        exe.basename()
    };
    let Some((k, argv0)) = program_start(exe_base, argv) else {
        return Identity { kind: ToolKind::Other, name: exe_base, args_from: argv.len().min(1) };
    };
    // The program really run and its argv: the exe itself, or the loader's target file.
    let (base, sub) = match (k, argv.get(k)) {
        (0, _) | (_, None) => (exe_base, argv),
        (_, Some(prog)) => (prog.basename(), &argv[k..]),
    };
    let id = if is_busybox(base) {
        busybox_identity(base, argv0.and_then(|i| argv.get(i)), sub, lists)
    } else {
        Identity { kind: classify(base, lists, false), name: base, args_from: sub.len().min(1) }
    };
    Identity { args_from: id.args_from + (argv.len() - sub.len()), ..id }
}

/// Identity of an exec whose executable was recognised by [`fingerprint`] (a renamed or copied
/// tool, e.g. `/tmp/x`). A renamed busybox still runs the applet named by argv\[0\] (or
/// argv\[1\] after a `busybox*` argv\[0\]); the other tools ignore their name.
pub fn identify_fingerprinted<'a>(
    known: KnownBinary,
    exe: &'a RawStr,
    argv: &'a [RawStr],
    lists: &ToolLists,
) -> Identity<'a> {
    let id = identify(exe, argv, lists);
    let kind = match known {
        KnownBinary::Busybox => {
            let prog = program_path(exe, argv);
            let prog_base = prog.rsplit(|&b| b == b'/').next().unwrap_or(prog);
            if is_busybox(prog_base) {
                return id; // already identified by its applet
            }
            let k = id.args_from.saturating_sub(1);
            let argv0 = program_start(exe.basename(), argv).and_then(|(_, a)| a);
            let bb = busybox_identity(id.name, argv0.and_then(|i| argv.get(i)), &argv[k..], lists);
            return Identity { args_from: bb.args_from + k, ..bb };
        }
        KnownBinary::NetcatTraditional => ToolKind::Netcat(NetcatFlavor::Traditional),
        KnownBinary::NetcatOpenBsd => ToolKind::Netcat(NetcatFlavor::OpenBsd),
        KnownBinary::Ncat => ToolKind::Netcat(NetcatFlavor::Ncat),
        KnownBinary::Socat => ToolKind::Socat,
        other => match other.program() {
            Some((kind, name)) => return Identity { kind, name, ..id },
            None => return id,
        },
    };
    Identity { kind, ..id }
}

/// Whether a [`ToolKind::Compiler`] exec actually compiles.
///
/// * `go` compiles only for `build`, `run`, `install`, `test` (and `go tool compile|asm|link`);
///   `go version`, `go env`, `go mod` do not.
/// * A version or help probe is not compiling: any of `--version`, `-version`, `--help[=..]`,
///   `-help`, `--target-help`, `-dumpversion`, `-dumpfullversion`, `-dumpmachine`,
///   `-dumpspecs`, `-print-*`, `--print*` (clang, rustc), `-###`; or only `-v`/`-V`/`-vV`/`-h`
///   with no other argument (`gcc -v` alone, `nasm -v`; but `gcc -v x.c` compiles). Build
///   systems and IDEs run these probes constantly.
/// * Preprocess/check only (`-E`, `-M`, `-MM`, `-fsyntax-only`) produces no code: false.
/// * No arguments at all: false (the driver prints usage or "no input files").
pub fn is_compiler_invocation(id: &Identity, argv: &[RawStr]) -> bool {
    if id.kind != ToolKind::Compiler {
        return false;
    }
    let args = argv.get(id.args_from..).unwrap_or(&[]);
    if compiler_base(id.name) == b"go" {
        return go_compiles(args);
    }
    if args.is_empty() {
        return false;
    }
    let query_anywhere =
        |a: &[u8]| QUERY_FLAGS.contains(&a) || QUERY_PREFIXES.iter().any(|p| a.starts_with(p));
    if args.iter().any(|a| query_anywhere(a.as_bytes())) {
        return false;
    }
    let only_flag = |a: &[u8]| ONLY_ARG_QUERIES.contains(&a);
    !args.iter().all(|a| only_flag(a.as_bytes()))
}

/// Arguments that make any compiler invocation a query (or preprocess/check only).
#[rustfmt::skip]
const QUERY_FLAGS: &[&[u8]] = &[
    b"--version", b"-version", b"-fullversion", b"--help", b"-help", b"--help-extra",
    b"--target-help", b"-dumpversion", b"-dumpfullversion", b"-dumpmachine", b"-dumpspecs",
    b"-###", b"-E", b"-M", b"-MM", b"-fsyntax-only",
];
const QUERY_PREFIXES: &[&[u8]] = &[b"--help=", b"-print-", b"--print"];
/// Arguments that are a query when they are all there is (`gcc -v`, but `gcc -v x.c` compiles).
#[rustfmt::skip]
const ONLY_ARG_QUERIES: &[&[u8]] = &[
    b"-v", b"-V", b"-vV", b"-Vv", b"--verbose", b"-h", b"-hh", b"-hf", b"-X",
];

fn go_compiles(args: &[RawStr]) -> bool {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let a = a.as_bytes();
        match a {
            b"-C" | b"--C" => i += 2,
            _ if a.starts_with(b"-") => i += 1,
            b"build" | b"run" | b"install" | b"test" => return true,
            b"tool" => {
                let t = args.get(i + 1).map(|t| t.as_bytes());
                return matches!(t, Some(b"compile" | b"asm" | b"link" | b"cgo"));
            }
            _ => return false,
        }
    }
    false
}

/// A well-known tool recognised from its bytes, whatever its file is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KnownBinary {
    /// Hobbit's netcat 1.10.
    NetcatTraditional,
    /// OpenBSD netcat.
    NetcatOpenBsd,
    /// Nmap's ncat.
    Ncat,
    /// socat.
    Socat,
    /// busybox (any applet set).
    Busybox,
    /// GNU bash.
    Bash,
    /// The Debian Almquist shell.
    Dash,
    /// CPython (the interpreter program, static or linked to libpython).
    Python,
    /// Perl.
    Perl,
    /// mawk.
    Mawk,
    /// A Tcl shell (tclsh, and expect, which is built on it).
    Tcl,
}

impl KnownBinary {
    /// The kind of program, and the name it is known by, for the shells and interpreters
    /// (`None` for the network tools and busybox, whose identity depends on their arguments).
    pub fn program(self) -> Option<(ToolKind, &'static [u8])> {
        Some(match self {
            KnownBinary::Bash => (ToolKind::Shell, b"bash"),
            KnownBinary::Dash => (ToolKind::Shell, b"dash"),
            KnownBinary::Python => (ToolKind::Interpreter, b"python3"),
            KnownBinary::Perl => (ToolKind::Interpreter, b"perl"),
            KnownBinary::Mawk => (ToolKind::Interpreter, b"mawk"),
            KnownBinary::Tcl => (ToolKind::Interpreter, b"tclsh"),
            _ => return None,
        })
    }

    /// The name findings give the recognised program.
    pub fn name(self) -> &'static str {
        match self {
            KnownBinary::NetcatTraditional => "nc.traditional",
            KnownBinary::NetcatOpenBsd => "nc.openbsd",
            KnownBinary::Ncat => "ncat",
            KnownBinary::Socat => "socat",
            KnownBinary::Busybox => "busybox",
            KnownBinary::Bash => "bash",
            KnownBinary::Dash => "dash",
            KnownBinary::Python => "python3",
            KnownBinary::Perl => "perl",
            KnownBinary::Mawk => "mawk",
            KnownBinary::Tcl => "tclsh",
        }
    }
}

/// A binary is recognised when its `primary` string is present and then every `also` string.
struct Signature {
    known: KnownBinary,
    primary: &'static [u8],
    also: &'static [&'static [u8]],
}

/// Constant strings taken from the real binaries (Debian 12: busybox-static 1.35, ncat 7.93,
/// socat 1.7.4, netcat-openbsd 1.219, netcat-traditional 1.10-47) and checked absent from every
/// other binary and library on the build machine. Each is a message of the tool's own code, not
/// of a library it links, so a libc or an unrelated program cannot match two of them. Busybox
/// comes first because its `nc` applet shares ancestry with netcat 1.10.
const SIGNATURES: &[Signature] = &[
    Signature {
        known: KnownBinary::Busybox,
        primary: b"BusyBox is copyrighted by many authors",
        also: &[b"BusyBox is a multi-call binary"],
    },
    Signature {
        known: KnownBinary::Ncat,
        primary: b"NCAT_REMOTE_ADDR",
        also: &[b"NCAT_LOCAL_PORT", b"nmap.org/ncat"],
    },
    Signature {
        known: KnownBinary::Socat,
        primary: b"socat by Gerhard Rieger",
        also: &[b"dest-unreach.org"],
    },
    Signature {
        known: KnownBinary::NetcatOpenBsd,
        primary: b"Proxy protocol: \"4\", \"5\" (SOCKS) or \"connect\"",
        also: &[b"Client program and identd report different user-ids"],
    },
    Signature {
        known: KnownBinary::NetcatTraditional,
        primary: b"gethostpoop fuxored",
        also: &[b"invalid connection to [%s] from %s [%s] %d"],
    },
    // Shells and interpreters (Debian 12: bash 5.2, dash 0.5.12, python3.11, perl 5.36, mawk
    // 1.3.4, tcl 8.6). CPython's, Perl's and Tcl's programs are thin mains over their library, so
    // they are known by the entry points they call (names in the dynamic symbol table, present
    // whether the library is linked in or not); embedders of those libraries call other ones.
    Signature {
        known: KnownBinary::Bash,
        primary: b"GNU bash, version %s (%s)",
        also: &[b"BASH_ENV"],
    },
    Signature {
        known: KnownBinary::Dash,
        primary: b"job %s not created under job control",
        also: &[b"Maximum function recursion depth (%d) reached"],
    },
    Signature {
        known: KnownBinary::Python,
        primary: b"Py_BytesMain",
        also: &[],
    },
    Signature {
        known: KnownBinary::Perl,
        primary: b"perl_parse",
        // perf embeds Perl for its scripts; perl's own main alone calls Perl_sys_init3.
        also: &[b"perl_construct", b"perl_run", b"Perl_sys_init3"],
    },
    Signature {
        known: KnownBinary::Mawk,
        primary: b"Usage: mawk [Options] [Program] [file ...]",
        also: &[],
    },
    Signature {
        known: KnownBinary::Tcl,
        primary: b"Tcl_MainEx",
        also: &[],
    },
];

/// Recognise netcat (traditional, OpenBSD), ncat, socat or busybox from the bytes of an
/// executable (the caller reads at most a few MiB of the file). Works on renamed and copied
/// files, since only bytes are seen. Requires the ELF magic, then a combination of the tool's
/// own constant strings (see the `SIGNATURES` table). One pass finds every tool's primary
/// string at once (aho-corasick, SIMD-packed for so few patterns); only the tools whose primary
/// is there have their other strings looked for.
pub fn fingerprint(bytes: &[u8]) -> Option<KnownBinary> {
    static PRIMARIES: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(SIGNATURES.iter().map(|s| s.primary))
            .expect("a searcher for a dozen fixed strings")
    });
    const _: () = assert!(SIGNATURES.len() <= 64, "one bit per signature");
    if !bytes.starts_with(b"\x7fELF") {
        return None;
    }
    let all = u64::MAX >> (64 - SIGNATURES.len());
    let mut found = 0u64;
    for m in PRIMARIES.find_iter(bytes) {
        found |= 1 << m.pattern().as_usize();
        if found == all {
            break;
        }
    }
    SIGNATURES
        .iter()
        .enumerate()
        .find(|(i, s)| found & (1 << i) != 0 && s.also.iter().all(|n| contains(bytes, n)))
        .map(|(_, s)| s.known)
}

/// Substring search with a vectorisable filter (the "packed pair" idea of SIMD string search,
/// in portable std code): for each block of 64 candidate start positions, one branch-free pass
/// checks whether any position has the needle's first byte there and its last byte `len - 1`
/// further on; only such rare blocks are compared in full. The compiler turns the pass into
/// SIMD compares, so a 4 MiB scan costs a fraction of a millisecond per needle when optimised.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    const BLOCK: usize = 64;
    let n = needle.len();
    let (Some(&first), Some(&last)) = (needle.first(), needle.last()) else { return true };
    if hay.len() < n {
        return false;
    }
    let positions = hay.len() - n + 1;
    let starts = &hay[..positions];
    let ends = &hay[n - 1..];
    let verify = |from: usize, to: usize| {
        (from..to).any(|i| hay[i] == first && hay[i + n - 1] == last && &hay[i..i + n] == needle)
    };
    let mut base = 0;
    for (s, e) in starts.chunks_exact(BLOCK).zip(ends.chunks_exact(BLOCK)) {
        let hit = s.iter().zip(e).fold(false, |acc, (&a, &b)| acc | ((a == first) & (b == last)));
        if hit && verify(base, base + BLOCK) {
            return true;
        }
        base += BLOCK;
    }
    verify(base, positions)
}

/// A network peer named on a command line (netcat's host and port, a socat network address):
/// evidence of where a tool connects (or listens) before, or without, a socket to show it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Peer {
    /// Host as written: an IP address or a name (never resolved). Empty when not given.
    pub host: String,
    /// Port, when given as a number.
    pub port: Option<u16>,
    /// Transport.
    pub proto: SocketProto,
    /// The tool waits for the peer: `host`/`port` are the local end.
    pub listen: bool,
}

impl Peer {
    /// A peer from what a command line gave; `None` when it gave neither host nor port.
    pub fn new(host: String, port: Option<u16>, proto: SocketProto, listen: bool) -> Option<Peer> {
        (!host.is_empty() || port.is_some()).then_some(Peer { host, port, proto, listen })
    }

    /// `host:port`, `[v6]:port`, `host` or `:port` as written on a command line; `None` when
    /// nothing is left.
    pub fn parse_host_port(text: &str, proto: SocketProto, listen: bool) -> Option<Peer> {
        let text = text.trim();
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (h, after) = rest.split_once(']')?;
            (h.to_string(), after.strip_prefix(':').and_then(|p| p.parse().ok()))
        } else if text.matches(':').count() > 1 {
            (text.to_string(), None) // a bare IPv6 address
        } else {
            match text.split_once(':') {
                Some((h, p)) => (h.to_string(), p.parse().ok()),
                None if text.parse::<u16>().is_ok() => (String::new(), text.parse().ok()),
                None => (text.to_string(), None),
            }
        };
        Peer::new(host, port, proto, listen)
    }
}

#[cfg(test)]
#[rustfmt::skip]
mod tests {
    use super::*;

    #[test]
    fn what_a_tool_runs_is_judged_by_its_program() {
        let l = ToolLists::defaults_for_tests();
        assert_eq!(command_kind("/bin/sh", &l), ToolKind::Shell);
        assert_eq!(command_kind("bash -i", &l), ToolKind::Shell);
        assert_eq!(command_kind("/bin/busybox sh", &l), ToolKind::Shell);
        assert_eq!(command_kind("python3 -c 'import pty'", &l), ToolKind::Interpreter);
        assert_eq!(command_kind("/bin/cat", &l), ToolKind::CommonCommand);
        assert_eq!(command_kind("date", &l), ToolKind::CommonCommand);
        assert_eq!(command_kind("/tmp/implant", &l), ToolKind::Other);
        assert_eq!(command_kind("", &l), ToolKind::Other);
        assert!(command_moves_data_only("/bin/cat") && command_moves_data_only("date -u") && command_moves_data_only("busybox cat"));
        assert!(!command_moves_data_only("/bin/sh") && !command_moves_data_only("su") && !command_moves_data_only("busybox sh"));
        assert!(!command_moves_data_only("cat; sh") && !command_moves_data_only("date && sh -i") && !command_moves_data_only("cat $(sh)"));
    }

    #[test]
    fn command_line_peers() {
        let p = |t| Peer::parse_host_port(t, SocketProto::Tcp, false).map(|p| (p.host, p.port));
        assert_eq!(p("127.0.0.1:4444"), Some(("127.0.0.1".into(), Some(4444))));
        assert_eq!(p("[::1]:80"), Some(("::1".into(), Some(80))));
        assert_eq!(p("::1"), Some(("::1".into(), None)));
        assert_eq!(p("evil.example"), Some(("evil.example".into(), None)));
        assert_eq!(p("4444"), Some((String::new(), Some(4444))));
        assert_eq!(p(""), None);
    }

    fn v(args: &[&str]) -> Vec<RawStr> {
        args.iter().map(|a| RawStr::from(*a)).collect()
    }

    fn id_of(exe: &str, argv: &[&str]) -> (ToolKind, String, usize) {
        let lists = ToolLists::defaults_for_tests();
        let exe = RawStr::from(exe);
        let argv = v(argv);
        let id = identify(&exe, &argv, &lists);
        (id.kind, String::from_utf8_lossy(id.name).into_owned(), id.args_from)
    }

    use NetcatFlavor as F;
    use ToolKind as K;

    #[test]
    fn identify_table() {
        let cases: &[(&str, &[&str], ToolKind, &str, usize)] = &[
            ("/usr/bin/nc.traditional", &["nc", "-e", "/bin/sh"], K::Netcat(F::Traditional), "nc.traditional", 1),
            ("/usr/bin/nc.openbsd", &["nc", "h", "1"], K::Netcat(F::OpenBsd), "nc.openbsd", 1),
            ("/bin/netcat.traditional", &["netcat"], K::Netcat(F::Traditional), "netcat.traditional", 1),
            ("/usr/bin/ncat", &["ncat"], K::Netcat(F::Ncat), "ncat", 1),
            ("/usr/bin/nc", &["nc"], K::Netcat(F::Unknown), "nc", 1),
            ("/usr/bin/netcat", &["netcat"], K::Netcat(F::Unknown), "netcat", 1),
            ("/bin/busybox", &["nc", "h", "1"], K::Netcat(F::Busybox), "nc", 1),
            ("/bin/busybox", &["/usr/bin/nc", "h", "1"], K::Netcat(F::Busybox), "nc", 1),
            ("/bin/busybox", &["busybox", "nc", "h", "1"], K::Netcat(F::Busybox), "nc", 2),
            ("/usr/bin/busybox.static", &["busybox.static", "netcat"], K::Netcat(F::Busybox), "netcat", 2),
            ("/bin/busybox", &["/bin/busybox", "/bin/sh", "-c", "x"], K::Shell, "sh", 2),
            ("/bin/busybox", &["-sh"], K::Shell, "sh", 1),
            ("/bin/busybox", &["ash"], K::Shell, "ash", 1),
            ("/bin/busybox", &["awk", "{print}"], K::Interpreter, "awk", 1),
            ("/bin/busybox", &["busybox"], K::Other, "busybox", 1),
            ("/bin/busybox", &[], K::Other, "busybox", 0),
            ("/bin/busybox", &["ls"], K::CommonCommand, "ls", 1),
            ("/usr/bin/socat", &["socat", "-", "-"], K::Socat, "socat", 1),
            ("/usr/bin/socat1", &["socat"], K::Socat, "socat1", 1),
            ("/usr/bin/dash", &["sh", "-c", "x"], K::Shell, "dash", 1),
            ("/usr/bin/bash", &["-bash"], K::Shell, "bash", 1),
            ("/usr/bin/python3.11", &["python3", "x.py"], K::Interpreter, "python3.11", 1),
            ("/usr/bin/perl5.36.0", &["perl"], K::Interpreter, "perl5.36.0", 1),
            ("/usr/bin/php8.2", &["php"], K::Interpreter, "php8.2", 1),
            ("/usr/bin/mawk", &["awk"], K::Interpreter, "mawk", 1),
            ("/usr/bin/lua5.4", &["lua"], K::Interpreter, "lua5.4", 1),
            ("/usr/bin/gcc-12", &["gcc"], K::Compiler, "gcc-12", 1),
            ("/usr/bin/x86_64-linux-gnu-gcc-12", &["cc"], K::Compiler, "x86_64-linux-gnu-gcc-12", 1),
            ("/usr/bin/aarch64-linux-gnu-g++", &["c++"], K::Compiler, "aarch64-linux-gnu-g++", 1),
            ("/usr/lib/llvm-15/bin/clang-15", &["clang"], K::Compiler, "clang-15", 1),
            ("/usr/bin/clang++-15", &["clang++"], K::Compiler, "clang++-15", 1),
            ("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", &["cc1"], K::Compiler, "cc1", 1),
            ("/usr/bin/musl-gcc", &["musl-gcc"], K::Compiler, "musl-gcc", 1),
            ("/usr/local/go/bin/go", &["go", "build"], K::Compiler, "go", 1),
            ("/usr/bin/protoc-gen-go", &["protoc-gen-go"], K::Other, "protoc-gen-go", 1),
            ("/usr/bin/clang-format-15", &["clang-format"], K::Other, "clang-format-15", 1),
            ("/usr/bin/x86_64-linux-gnu-gcc-ar-12", &["ar"], K::Other, "x86_64-linux-gnu-gcc-ar-12", 1),
            ("/usr/bin/ls", &["ls"], K::CommonCommand, "ls", 1),
            // argv[0] is attacker-controlled: not enough to be a tool.
            ("/tmp/x", &["nc", "-e", "/bin/sh", "h", "1"], K::Other, "x", 1),
            ("/usr/bin/sleep", &["socat"], K::CommonCommand, "sleep", 1),
            ("/opt/app/server", &["bash"], K::Other, "server", 1),
            // A copied busybox keeps its name only if it contains "busybox".
            ("/tmp/busybox-x86_64", &["nc"], K::Netcat(F::Busybox), "nc", 1),
            // Unresolvable exe: argv[0] is all there is.
            ("", &["/usr/bin/nc.traditional", "-e"], K::Netcat(F::Traditional), "nc.traditional", 1),
            // The dynamic loader runs the program named in its arguments.
            ("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
             &["/lib64/ld-linux-x86-64.so.2", "/usr/bin/nc.traditional", "-e", "/bin/sh"],
             K::Netcat(F::Traditional), "nc.traditional", 2),
            ("/lib/ld-musl-x86_64.so.1",
             &["ld", "--library-path", "/tmp", "--preload", "x", "/bin/busybox", "nc", "h"],
             K::Netcat(F::Busybox), "nc", 7),
            // --argv0 sets the program's argv[0], which is what busybox looks at.
            ("/lib/ld-musl-x86_64.so.1",
             &["ld", "--argv0", "nc", "/bin/busybox", "h", "1"],
             K::Netcat(F::Busybox), "nc", 4),
            ("/lib/ld-musl-x86_64.so.1", &["ld", "--list", "/usr/bin/ncat"], K::Other, "ld-musl-x86_64.so.1", 1),
            ("/lib/ld-musl-x86_64.so.1", &["ld"], K::Other, "ld-musl-x86_64.so.1", 1),
        ];
        for (exe, argv, kind, name, args_from) in cases {
            let got = id_of(exe, argv);
            assert_eq!(got, (*kind, name.to_string(), *args_from), "exe={exe} argv={argv:?}");
        }
    }

    #[test]
    fn program_path_follows_the_loader() {
        let exe = RawStr::from("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
        let argv = v(&["ld.so", "--inhibit-cache", "/tmp/x", "-e", "sh"]);
        assert_eq!(program_path(&exe, &argv), b"/tmp/x");
        let exe = RawStr::from("/tmp/x");
        assert_eq!(program_path(&exe, &argv), b"/tmp/x");
    }

    #[test]
    fn fingerprinted_identity() {
        let lists = ToolLists::defaults_for_tests();
        let exe = RawStr::from("/tmp/.x");
        let argv = v(&["kworker", "-e", "/bin/sh", "h", "1"]);
        let id = identify_fingerprinted(KnownBinary::NetcatTraditional, &exe, &argv, &lists);
        assert_eq!((id.kind, id.name, id.args_from), (K::Netcat(F::Traditional), &b".x"[..], 1));
        // A renamed busybox run as `exec -a nc /tmp/.x ...` runs its nc applet.
        let argv = v(&["nc", "h", "1", "-e", "sh"]);
        let id = identify_fingerprinted(KnownBinary::Busybox, &exe, &argv, &lists);
        assert_eq!((id.kind, id.name, id.args_from), (K::Netcat(F::Busybox), &b"nc"[..], 1));
        let argv = v(&[".x", "nc", "h", "1"]);
        let id = identify_fingerprinted(KnownBinary::Busybox, &exe, &argv, &lists);
        assert_eq!((id.kind, id.name, id.args_from), (K::Other, &b".x"[..], 1));
        let argv = v(&["busybox", "nc", "h", "1"]);
        let id = identify_fingerprinted(KnownBinary::Busybox, &exe, &argv, &lists);
        assert_eq!((id.kind, id.name, id.args_from), (K::Netcat(F::Busybox), &b"nc"[..], 2));
        let exe = RawStr::from("/bin/busybox");
        let id = identify_fingerprinted(KnownBinary::Busybox, &exe, &argv, &lists);
        assert_eq!((id.kind, id.name, id.args_from), (K::Netcat(F::Busybox), &b"nc"[..], 2));
        let exe = RawStr::from("/tmp/s");
        let id = identify_fingerprinted(KnownBinary::Socat, &exe, &argv, &lists);
        assert_eq!(id.kind, K::Socat);
        // A copied shell or interpreter is known by what it is, whatever it is called.
        let argv = v(&["kworker", "-i"]);
        let id = identify_fingerprinted(KnownBinary::Bash, &exe, &argv, &lists);
        assert_eq!((id.kind, id.name, id.args_from), (K::Shell, &b"bash"[..], 1));
        let id = identify_fingerprinted(KnownBinary::Python, &exe, &argv, &lists);
        assert_eq!((id.kind, id.name), (K::Interpreter, &b"python3"[..]));
    }

    /// The index gives every name the kind a scan of the lists in precedence order gives, for
    /// the shipped rules' lists and for lists whose entries are on several lists at once.
    #[test]
    fn indexed_lists_classify_like_a_scan_in_precedence_order() {
        fn scan(name: &[u8], l: &ToolLists) -> ToolKind {
            if name.is_empty() {
                ToolKind::Other
            } else if name_matches(&l.netcat, name) || flavor_of(name) != NetcatFlavor::Unknown {
                ToolKind::Netcat(flavor_of(name))
            } else if name_matches(&l.socat, name) {
                ToolKind::Socat
            } else if name_matches(&l.shells, name) {
                ToolKind::Shell
            } else if name_matches(&l.interpreters, name) {
                ToolKind::Interpreter
            } else if name_matches(&l.compilers, name) || name_matches(&l.compilers, compiler_base(name)) {
                ToolKind::Compiler
            } else if name_matches(&l.common_commands, name) {
                ToolKind::CommonCommand
            } else {
                ToolKind::Other
            }
        }
        let shipped = crate::detect::rules::Rules::defaults().lists;
        let mut overlapping = ToolLists::defaults_for_tests();
        overlapping.common_commands.extend(strings(&["sh", "gcc", "python3.11", "py*", "x86_64-linux-gnu-cc", "go*"]));
        overlapping.shells.extend(strings(&["python3.1*", "ncx*"]));
        overlapping.compilers.extend(strings(&["nc*", "tcc*"]));
        for lists in [&shipped, &overlapping, &ToolLists::default()] {
            let mut names: Vec<Vec<u8>> = Vec::new();
            for entry in [&lists.netcat, &lists.socat, &lists.shells, &lists.interpreters, &lists.compilers, &lists.common_commands]
                .into_iter()
                .flatten()
            {
                let stem = entry.trim_end_matches('*');
                for n in [stem.to_string(), format!("{stem}1"), format!("{stem}.12"), format!("x86_64-linux-gnu-{stem}-12"), format!("{stem}-posix")] {
                    names.push(n.into_bytes());
                }
                names.push(stem.as_bytes()[..stem.len().saturating_sub(1)].to_vec());
            }
            names.extend([&b"noop"[..], b"", b"-", b"ncat", b"nc.openbsd", b"busybox", b"gcc-12.2", b"i686-w64-mingw32-gcc-win32"].map(<[u8]>::to_vec));
            for name in &names {
                assert_eq!(classify(name, lists, false), scan(name, lists), "{}", String::from_utf8_lossy(name));
            }
        }
    }

    #[test]
    fn list_patterns() {
        let l = strings(&["python3.*", "perl"]);
        assert!(name_matches(&l, b"python3.12"));
        assert!(name_matches(&l, b"python3."));
        assert!(!name_matches(&l, b"python3"));
        assert!(name_matches(&l, b"perl"));
        assert!(!name_matches(&l, b"perl5"));
        assert!(!name_matches(&[], b"x"));
        assert_eq!(compiler_base(b"x86_64-linux-gnu-gcc-12"), b"gcc");
        assert_eq!(compiler_base(b"x86_64-w64-mingw32-g++-posix"), b"g++");
        assert_eq!(compiler_base(b"gcc-12.2"), b"gcc");
        assert_eq!(compiler_base(b"g++"), b"g++");
        assert_eq!(compiler_base(b"-12"), b"");
    }

    #[test]
    fn compiler_invocations() {
        let lists = ToolLists::defaults_for_tests();
        let cases: &[(&str, &[&str], bool)] = &[
            ("/usr/bin/gcc-12", &["gcc", "-o", "x", "x.c"], true),
            ("/usr/bin/gcc-12", &["gcc", "-v", "x.c"], true),
            ("/usr/bin/gcc-12", &["gcc", "-c", "-O2", "x.c"], true),
            ("/usr/bin/gcc-12", &["gcc", "-v"], false),
            ("/usr/bin/gcc-12", &["cc", "--version"], false),
            ("/usr/bin/gcc-12", &["gcc", "-dumpversion"], false),
            ("/usr/bin/gcc-12", &["gcc", "-dumpmachine"], false),
            ("/usr/bin/gcc-12", &["gcc", "-print-file-name=libgcc.a"], false),
            ("/usr/bin/gcc-12", &["gcc", "-print-prog-name=cc1"], false),
            ("/usr/bin/gcc-12", &["gcc", "--help=optimizers"], false),
            ("/usr/bin/gcc-12", &["gcc", "-E", "-dM", "-"], false),
            ("/usr/bin/gcc-12", &["gcc", "-###", "x.c"], false),
            ("/usr/bin/gcc-12", &["gcc"], false),
            ("/usr/bin/clang-15", &["clang", "--print-resource-dir"], false),
            ("/usr/bin/clang-15", &["clang", "x.c"], true),
            ("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", &["cc1", "-quiet", "x.c"], true),
            ("/root/.cargo/bin/rustc", &["rustc", "-vV"], false),
            ("/root/.cargo/bin/rustc", &["rustc", "-", "--crate-name", "___", "--print=file-names"], false),
            ("/root/.cargo/bin/rustc", &["rustc", "main.rs"], true),
            ("/usr/bin/javac", &["javac", "-version"], false),
            ("/usr/bin/javac", &["javac", "A.java"], true),
            ("/usr/bin/nasm", &["nasm", "-v"], false),
            ("/usr/bin/nasm", &["nasm", "-f", "elf64", "x.asm"], true),
            ("/usr/local/go/bin/go", &["go", "build", "./..."], true),
            ("/usr/local/go/bin/go", &["go", "-C", "/src", "run", "."], true),
            ("/usr/local/go/bin/go", &["go", "test", "./..."], true),
            ("/usr/local/go/bin/go", &["go", "install", "x@latest"], true),
            ("/usr/local/go/bin/go", &["go", "tool", "compile", "x.go"], true),
            ("/usr/local/go/bin/go", &["go", "tool", "pprof"], false),
            ("/usr/local/go/bin/go", &["go", "version"], false),
            ("/usr/local/go/bin/go", &["go", "env", "GOPATH"], false),
            ("/usr/local/go/bin/go", &["go", "mod", "download"], false),
            ("/usr/local/go/bin/go", &["go"], false),
            ("/bin/busybox", &["busybox", "ls"], false),
            ("/usr/bin/python3", &["python3", "x.c"], false),
        ];
        for (exe, argv, want) in cases {
            let e = RawStr::from(*exe);
            let a = v(argv);
            let id = identify(&e, &a, &lists);
            assert_eq!(is_compiler_invocation(&id, &a), *want, "{exe} {argv:?}");
        }
    }

    #[test]
    fn substring_search() {
        assert!(contains(b"hello world", b"world"));
        assert!(contains(b"hello world", b"hello world"));
        assert!(contains(b"hello world", b"o w"));
        assert!(!contains(b"hello world", b"worlds"));
        assert!(!contains(b"abc", b"abcd"));
        assert!(contains(b"abc", b""));
        assert!(contains(b"aaaaab", b"aab"));
        assert!(!contains(b"", b"a"));
        // Every position and length around the 64-byte blocks, against a naive search.
        let hay = random(300, 7);
        for start in 0..hay.len() {
            for len in [1, 2, 3, 16, 63, 64, 65, 100] {
                if let Some(needle) = hay.get(start..start + len) {
                    assert!(contains(&hay, needle), "start={start} len={len}");
                    let mut other = needle.to_vec();
                    other[len / 2] ^= 0x5a;
                    let naive = hay.windows(len).any(|w| w == &other[..]);
                    assert_eq!(contains(&hay, &other), naive, "start={start} len={len}");
                }
            }
        }
    }

    fn read(paths: &[&str]) -> Option<(String, Vec<u8>)> {
        paths.iter().find_map(|p| {
            std::fs::read(p).ok().map(|mut b| {
                b.truncate(4 << 20); // the caller reads at most 4 MiB
                (p.to_string(), b)
            })
        })
    }

    #[test]
    fn fingerprints_real_binaries() {
        // The function only sees bytes, so a copy renamed to /tmp/.x is recognised the same way.
        let cases: &[(&[&str], Option<KnownBinary>)] = &[
            (&["/usr/bin/nc.traditional", "/bin/nc.traditional"], Some(KnownBinary::NetcatTraditional)),
            (&["/usr/bin/nc.openbsd", "/bin/nc.openbsd"], Some(KnownBinary::NetcatOpenBsd)),
            (&["/usr/bin/ncat", "/bin/ncat"], Some(KnownBinary::Ncat)),
            (&["/usr/bin/socat1", "/usr/bin/socat"], Some(KnownBinary::Socat)),
            (&["/usr/bin/busybox", "/bin/busybox"], Some(KnownBinary::Busybox)),
            (&["/bin/ls", "/usr/bin/ls"], None),
            (&["/bin/bash", "/usr/bin/bash"], Some(KnownBinary::Bash)),
            (&["/bin/dash", "/usr/bin/dash"], Some(KnownBinary::Dash)),
            (&["/usr/bin/python3.11", "/usr/bin/python3"], Some(KnownBinary::Python)),
            (&["/usr/bin/perl"], Some(KnownBinary::Perl)),
            (&["/usr/bin/mawk"], Some(KnownBinary::Mawk)),
            (&["/usr/bin/tclsh8.6"], Some(KnownBinary::Tcl)),
            (&["/usr/bin/perf"], None), // embeds Perl, is not perl
            (&["/usr/bin/gdb"], None),  // embeds Python, is not python
            (&["/usr/bin/cat", "/bin/cat"], None),
            (&["/usr/bin/filan"], None), // socat's sibling: shares the web address only
            (&["/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6",
               "/lib/aarch64-linux-gnu/libc.so.6", "/lib/libc.so.6"], None),
        ];
        for (paths, want) in cases {
            let Some((path, bytes)) = read(paths) else {
                println!("skipping {paths:?}: not present on this machine");
                continue;
            };
            assert_eq!(fingerprint(&bytes), *want, "{path}");
        }
    }

    fn random(len: usize, mut seed: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            out.extend_from_slice(&seed.to_le_bytes());
        }
        out.truncate(len);
        out
    }

    #[test]
    fn fingerprint_random_and_non_elf() {
        let mut buf = random(1 << 20, 0x9e37_79b9_7f4a_7c15);
        assert_eq!(fingerprint(&buf), None);
        buf[..4].copy_from_slice(b"\x7fELF");
        assert_eq!(fingerprint(&buf), None);
        // Strings alone are not enough without the ELF magic (a script or text file quoting them).
        let text = b"BusyBox is copyrighted by many authors BusyBox is a multi-call binary";
        assert_eq!(fingerprint(text), None);
        let mut elf = b"\x7fELF".to_vec();
        elf.extend_from_slice(text);
        assert_eq!(fingerprint(&elf), Some(KnownBinary::Busybox));
        // One string of a pair is not enough.
        let mut elf = b"\x7fELF".to_vec();
        elf.extend_from_slice(b"socat by Gerhard Rieger");
        assert_eq!(fingerprint(&elf), None);
        assert_eq!(fingerprint(b""), None);
    }

    fn thread_cpu_time() -> std::time::Duration {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes one timespec through a valid pointer.
        let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(r, 0);
        std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    #[test]
    fn fingerprint_speed_4mib() {
        let mut buf = random(4 << 20, 42);
        buf[..4].copy_from_slice(b"\x7fELF");
        // Timing is only meaningful (and asserted) in optimised builds; once is enough in debug.
        // The first call also builds the lazily made tables. The other tests run beside this
        // one on the same cores, so what counts is this thread's CPU time (not wall time) of
        // the fastest round.
        assert_eq!(fingerprint(std::hint::black_box(&buf)), None);
        let rounds = if cfg!(debug_assertions) { 1 } else { 7 };
        let per = (0..rounds)
            .map(|_| {
                let start = thread_cpu_time();
                assert_eq!(fingerprint(std::hint::black_box(&buf)), None);
                thread_cpu_time().saturating_sub(start)
            })
            .min()
            .unwrap_or_default();
        println!("fingerprint of 4 MiB random (no match), fastest of {rounds}, thread CPU time: {per:?}");
        if cfg!(debug_assertions) {
            return;
        }
        for path in ["/usr/bin/python3", "/lib/x86_64-linux-gnu/libc.so.6", "/usr/bin/bash"] {
            if let Some((_, bytes)) = read(&[path]) {
                let start = std::time::Instant::now();
                std::hint::black_box(fingerprint(std::hint::black_box(&bytes)));
                println!("fingerprint of {path} ({} bytes): {:?}", bytes.len(), start.elapsed());
            }
        }
        if !cfg!(debug_assertions) {
            assert!(per < std::time::Duration::from_millis(5), "{per:?}");
        }
    }
}
