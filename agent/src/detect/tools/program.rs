//! Where a shell or interpreter takes the program it runs from: its command line (`sh -c`,
//! `perl -e`, `awk 'prog'`), a file, a module, or its standard input. Bytes that arrive on the
//! standard input of a process that reads its *program* there are run; bytes that arrive on the
//! standard input of `python3 -c 'json…'` are data.
//!
//! Options are read the way each family reads them, as far as needed to find the program; an
//! option this does not know is skipped as a flag (at worst a value taken for the program
//! makes it `File`, the quiet answer).

use crate::event::RawStr;

/// Where the program comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramSource {
    /// From the command line (`-c`, `-e`, `-r`, awk's program text).
    Inline,
    /// From standard input (no program named: `sh`, `sh -i`, `sh -s`, `python3 -`, `perl`).
    Stdin,
    /// From a file named on the command line.
    File,
    /// A module or library of the interpreter (`python3 -m http.server`).
    Module,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Shell,
    Python,
    Perl,
    Ruby,
    Php,
    Lua,
    Node,
    Awk,
    Tcl,
    Expect,
}

fn family(name: &[u8], shell: bool) -> Option<Family> {
    if shell {
        return Some(Family::Shell);
    }
    let f = if name.starts_with(b"python") || name.starts_with(b"pypy") {
        Family::Python
    } else if name.starts_with(b"perl") {
        Family::Perl
    } else if name.starts_with(b"ruby") {
        Family::Ruby
    } else if name.starts_with(b"php") {
        Family::Php
    } else if name.starts_with(b"lua") {
        Family::Lua
    } else if name == b"node" || name == b"nodejs" {
        Family::Node
    } else if name.ends_with(b"awk") {
        Family::Awk
    } else if name.starts_with(b"tclsh") || name == b"wish" {
        Family::Tcl
    } else if name == b"expect" {
        Family::Expect
    } else {
        return None;
    };
    Some(f)
}

/// Options of each family that take the next argument as their value (when not attached).
fn takes_value(f: Family, opt: &[u8]) -> bool {
    let list: &[&[u8]] = match f {
        Family::Shell => &[b"-o", b"+o", b"-O", b"+O", b"--rcfile", b"--init-file"],
        Family::Python => &[b"-W", b"-X", b"-Q", b"--check-hash-based-pycs"],
        Family::Perl => &[b"-I"],
        Family::Ruby => &[b"-r", b"-I", b"-C", b"-E", b"--encoding", b"--external-encoding", b"--internal-encoding"],
        Family::Php => &[b"-c", b"-d", b"-z", b"-t", b"-B", b"-E", b"-R", b"-F"],
        Family::Lua => &[b"-l", b"-W"],
        Family::Node => &[b"-r", b"--require", b"--import", b"--loader", b"--experimental-loader", b"--input-type", b"--conditions", b"-C", b"--title"],
        Family::Awk => &[b"-v", b"-F", b"--assign", b"--field-separator", b"-W"],
        Family::Tcl => &[b"-encoding"],
        Family::Expect => &[b"-D"],
    };
    list.contains(&opt)
}

/// Where the program of shell or interpreter `name` (its effective name, e.g. `bash`,
/// `python3.11`, `gawk`), run with arguments `args` (argv after the program), comes from.
/// `shell` tells that `name` is a shell. `None` for a name of no family known here.
pub fn program_source(name: &[u8], shell: bool, args: &[RawStr]) -> Option<ProgramSource> {
    let f = family(name, shell)?;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let a = a.as_bytes();
        i += 1;
        if a == b"--" {
            return Some(match (f, args.get(i)) {
                (Family::Awk, Some(_)) => ProgramSource::Inline,
                (_, Some(_)) => ProgramSource::File,
                (_, None) => ProgramSource::Stdin,
            });
        }
        if a == b"-" {
            return Some(ProgramSource::Stdin);
        }
        let is_opt = a.first() == Some(&b'-') || (f == Family::Shell && a.first() == Some(&b'+'));
        if !is_opt {
            return Some(if f == Family::Awk { ProgramSource::Inline } else { ProgramSource::File });
        }
        if let Some(s) = inline_or_file(f, a) {
            return Some(s);
        }
        if takes_value(f, a) {
            i += 1;
        }
    }
    Some(match f {
        // awk with no program text does not run.
        Family::Awk => ProgramSource::File,
        _ => ProgramSource::Stdin,
    })
}

/// What one option says about the program, if anything.
fn inline_or_file(f: Family, a: &[u8]) -> Option<ProgramSource> {
    let short = a.len() >= 2 && a[1] != b'-';
    // Bundled single-letter flags (`-lc`, `-ne`, `-Sc`): does the bundle hold the letter?
    let bundle_has = |c: u8| short && a[1..].contains(&c);
    match f {
        Family::Shell => (bundle_has(b'c')).then_some(ProgramSource::Inline).or_else(|| bundle_has(b's').then_some(ProgramSource::Stdin)),
        // Letters before `c`/`m` are flags, after them the value (`-c'code'` is rare; `-cprint(1)`
        // still inline).
        Family::Python => {
            if !short {
                return None;
            }
            let c = a[1..].iter().position(|&b| b == b'c' || b == b'm' || b == b'W' || b == b'X')?;
            match a[1 + c] {
                b'c' => Some(ProgramSource::Inline),
                b'm' => Some(ProgramSource::Module),
                _ => None,
            }
        }
        // `-e`/`-E` in a bundle of flags (`-le`, `-ne`); a letter that takes a value ends the
        // bundle (`-MSocket`).
        Family::Perl => bundle_program(a, short, b"eE", b"IMmCxi0FdD"),
        Family::Ruby => bundle_program(a, short, b"e", b"rICEF0ix"),
        Family::Php => match a {
            b"-r" => Some(ProgramSource::Inline),
            b"-f" => Some(ProgramSource::File),
            b"-a" => Some(ProgramSource::Stdin),
            _ => None,
        },
        Family::Lua => (a == b"-e").then_some(ProgramSource::Inline).or_else(|| (a == b"-i").then_some(ProgramSource::Stdin)),
        Family::Node => match a {
            b"-e" | b"--eval" | b"-p" | b"--print" | b"-pe" => Some(ProgramSource::Inline),
            b"-i" | b"--interactive" => Some(ProgramSource::Stdin),
            _ if a.starts_with(b"--eval=") || a.starts_with(b"--print=") => Some(ProgramSource::Inline),
            _ => None,
        },
        Family::Awk => match a {
            b"-f" | b"--file" => Some(ProgramSource::File),
            b"-e" | b"--source" => Some(ProgramSource::Inline),
            _ if a.starts_with(b"--file=") => Some(ProgramSource::File),
            _ if a.starts_with(b"--source=") => Some(ProgramSource::Inline),
            _ => None,
        },
        Family::Tcl => None,
        Family::Expect => match a {
            b"-c" => Some(ProgramSource::Inline),
            b"-f" => Some(ProgramSource::File),
            b"-i" => Some(ProgramSource::Stdin),
            _ => None,
        },
    }
}

/// In a bundle of single-letter flags, a letter of `inline` before any letter of `valued`.
fn bundle_program(a: &[u8], short: bool, inline: &[u8], valued: &[u8]) -> Option<ProgramSource> {
    if !short {
        return None;
    }
    for b in &a[1..] {
        if inline.contains(b) {
            return Some(ProgramSource::Inline);
        }
        if valued.contains(b) {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{program_source, ProgramSource as S};
    use crate::event::RawStr;

    fn src(name: &str, shell: bool, args: &[&str]) -> Option<S> {
        let args: Vec<RawStr> = args.iter().map(|a| RawStr::from(*a)).collect();
        program_source(name.as_bytes(), shell, &args)
    }

    #[test]
    fn shells() {
        assert_eq!(src("sh", true, &[]), Some(S::Stdin));
        assert_eq!(src("sh", true, &["-i"]), Some(S::Stdin));
        assert_eq!(src("bash", true, &["-s", "x"]), Some(S::Stdin));
        assert_eq!(src("bash", true, &["-c", "id"]), Some(S::Inline));
        assert_eq!(src("bash", true, &["-lc", "id"]), Some(S::Inline));
        assert_eq!(src("bash", true, &["--norc", "-i"]), Some(S::Stdin));
        assert_eq!(src("bash", true, &["-o", "pipefail", "run.sh"]), Some(S::File));
        assert_eq!(src("sh", true, &["/entrypoint.sh", "-c"]), Some(S::File));
        assert_eq!(src("sh", true, &["+x", "-"]), Some(S::Stdin));
    }

    #[test]
    fn interpreters() {
        assert_eq!(src("python3.11", false, &["-c", "print(1)"]), Some(S::Inline));
        assert_eq!(src("python3", false, &["-Sc", "print(1)"]), Some(S::Inline));
        assert_eq!(src("python3", false, &["-m", "http.server"]), Some(S::Module));
        assert_eq!(src("python3", false, &["-W", "ignore", "app.py"]), Some(S::File));
        assert_eq!(src("python3", false, &["-"]), Some(S::Stdin));
        assert_eq!(src("python3", false, &["-u"]), Some(S::Stdin));
        assert_eq!(src("perl", false, &["-MSocket", "-e", "1"]), Some(S::Inline));
        assert_eq!(src("perl", false, &["-ne", "print"]), Some(S::Inline));
        assert_eq!(src("perl", false, &["-I", "lib", "x.pl"]), Some(S::File));
        assert_eq!(src("perl", false, &[]), Some(S::Stdin));
        assert_eq!(src("ruby", false, &["-rsocket", "-e", "1"]), Some(S::Inline));
        assert_eq!(src("ruby", false, &["-r", "socket", "x.rb"]), Some(S::File));
        assert_eq!(src("php", false, &["-r", "1;"]), Some(S::Inline));
        assert_eq!(src("lua5.4", false, &["-e", "x()"]), Some(S::Inline));
        assert_eq!(src("node", false, &["-e", "1"]), Some(S::Inline));
        assert_eq!(src("node", false, &["--require", "x", "server.js"]), Some(S::File));
        assert_eq!(src("node", false, &[]), Some(S::Stdin));
        assert_eq!(src("gawk", false, &["BEGIN{}"]), Some(S::Inline));
        assert_eq!(src("mawk", false, &["-F", ":", "{print $1}", "/etc/passwd"]), Some(S::Inline));
        assert_eq!(src("awk", false, &["-f", "prog.awk"]), Some(S::File));
        assert_eq!(src("tclsh", false, &[]), Some(S::Stdin));
        assert_eq!(src("tclsh", false, &["x.tcl"]), Some(S::File));
        assert_eq!(src("expect", false, &["-c", "spawn sh"]), Some(S::Inline));
        assert_eq!(src("gcc", false, &["-c"]), None);
    }
}
