//! Minimal reader for the kernel's BTF type information.
//!
//! The kernel programs read struct members at byte offsets that depend on the running kernel's
//! build. At start the agent parses the raw BTF the kernel exposes at [`VMLINUX_BTF_PATH`]
//! (little-endian, no ELF wrapper; format in the kernel's `Documentation/bpf/btf.rst`) and
//! resolves those offsets into [`KernelOffsets`] with [`resolve_kernel_offsets`].
//!
//! Every read of the input is bounds-checked: malformed data gives a [`BtfError`], never a panic.
//! Only what offset resolution needs is kept (structs, unions and their members, modifiers,
//! pointers, arrays, sized scalars); every other kind is checked for length and skipped.

use std::path::{Path, PathBuf};

use agent_common::{KernelOffsets, OFFSET_UNKNOWN};

/// Where the running kernel exposes its own BTF.
pub const VMLINUX_BTF_PATH: &str = "/sys/kernel/btf/vmlinux";

const BTF_MAGIC: u16 = 0xeb9f;
const HEADER_LEN: usize = 24;
const TYPE_LEN: usize = 12;
/// Bound on modifier chains and anonymous nesting, against cyclic type graphs in bad input.
const MAX_DEPTH: usize = 64;
/// Bound on members visited by one member search, against exponential anonymous nesting.
const SEARCH_BUDGET: usize = 1 << 16;

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FWD: u32 = 7;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

/// Errors from reading BTF or resolving members in it. Member paths in messages are written
/// `struct.member.member`.
#[derive(Debug, thiserror::Error)]
pub enum BtfError {
    /// The BTF file could not be read.
    #[error("cannot read BTF from {}: {source}", path.display())]
    Io {
        /// The file that was read.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The data does not start with the BTF magic (big-endian BTF is not supported either).
    #[error("not little-endian BTF: magic {magic:#06x}, expected {BTF_MAGIC:#06x}")]
    BadMagic {
        /// The first two bytes, read little-endian.
        magic: u16,
    },
    /// The BTF version is not 1.
    #[error("unsupported BTF version {version}, expected 1")]
    UnsupportedVersion {
        /// The version byte found.
        version: u8,
    },
    /// The data is truncated or inconsistent.
    #[error("malformed BTF at byte {offset}: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
        /// Byte position in the BTF data where it was found; 0 when not tied to one position.
        offset: usize,
    },
    /// No struct or union with this name.
    #[error("struct/union `{name}` not found in BTF")]
    StructNotFound {
        /// The name looked up.
        name: String,
    },
    /// A path element names no member, not even inside anonymous members.
    #[error("no member `{member}` in `{struct_name}`")]
    MemberNotFound {
        /// The struct or union searched (`<anonymous>` for an unnamed one).
        struct_name: String,
        /// The member name looked for.
        member: String,
    },
    /// A member that is not a bitfield does not start on a byte boundary.
    #[error("`{path}` starts at bit {bit_offset}, not on a byte boundary")]
    NotByteAligned {
        /// The member path.
        path: String,
        /// Bit offset from the start of the outermost struct.
        bit_offset: u64,
    },
    /// A member in the middle of a path is a pointer; paths only descend into embedded structs.
    #[error("`{path}` is a pointer; a path can only descend into embedded structs")]
    PointerInPath {
        /// The path up to and including the pointer member.
        path: String,
    },
    /// A member in the middle of a path is neither a struct nor a union.
    #[error("`{path}` is not an embedded struct or union")]
    NotAStruct {
        /// The path up to and including the offending member.
        path: String,
    },
    /// A member that must be read at a byte offset is a bitfield.
    #[error("`{path}` is a {bits}-bit bitfield, not a byte-addressable member")]
    Bitfield {
        /// The member path.
        path: String,
        /// Width of the bitfield.
        bits: u32,
    },
    /// An empty member path was given.
    #[error("empty member path for `{struct_name}`")]
    EmptyPath {
        /// The struct the path was for.
        struct_name: String,
    },
}

type Result<T> = std::result::Result<T, BtfError>;

fn malformed(reason: impl Into<String>, offset: usize) -> BtfError {
    BtfError::Malformed { reason: reason.into(), offset }
}

/// Where a member lies inside its outermost struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberOffset {
    /// Byte offset from the start of the outermost struct (for a bitfield: of the byte holding
    /// its first bit).
    pub byte_offset: u32,
    /// Width in bits when the member is a bitfield, 0 otherwise.
    pub bitfield_bits: u32,
    /// Byte size of the member's type after peeling typedefs and qualifiers; 0 when unknown
    /// (void, functions, flexible arrays). Pointers count as the agent's own pointer size.
    pub size: u32,
    /// Exact bit offset from the start of the outermost struct (`byte_offset * 8` unless the
    /// member is a bitfield).
    pub bit_offset: u64,
}

struct Member {
    name_off: u32,
    type_id: u32,
    bit_offset: u32,
    bitfield_bits: u32,
}

struct Composite {
    name_off: u32,
    size: u32,
    members: Vec<Member>,
}

enum Ty {
    Void,
    Int {
        size: u32,
        bits: u32,
        bit_offset: u32,
    },
    Ptr,
    Array {
        elem: u32,
        nelems: u32,
    },
    Composite(Composite),
    /// typedef, const, volatile, restrict, type_tag: the target type id.
    Modifier(u32),
    /// enum, enum64, float: the byte size.
    Sized(u32),
    /// Kinds not needed for member offsets.
    Other,
}

/// Parsed kernel BTF: the struct, union and modifier types needed to resolve member offsets.
pub struct Btf {
    /// Indexed by type id; id 0 is void.
    types: Vec<Ty>,
    strings: Vec<u8>,
    /// The `btf_trace_<tracepoint>` typedefs: (type id, name offset). A BTF tracepoint program
    /// is loaded against the id of its tracepoint's typedef.
    trace_typedefs: Vec<(u32, u32)>,
}

/// Prefix of the typedef the kernel declares for each BTF tracepoint.
const TRACE_TYPEDEF_PREFIX: &[u8] = b"btf_trace_";

impl std::fmt::Debug for Btf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Btf").field("types", &self.type_count()).finish_non_exhaustive()
    }
}

fn read_u32(data: &[u8], off: usize) -> Result<u32> {
    off.checked_add(4)
        .and_then(|end| data.get(off..end))
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| malformed("truncated: 4 bytes needed", off))
}

/// The section described by the header fields at `field` (offset after the header, length).
fn section(data: &[u8], hdr_len: usize, field: usize, what: &str) -> Result<(usize, usize)> {
    let (off, len) = (read_u32(data, field)?, read_u32(data, field + 4)?);
    let start = hdr_len.checked_add(off as usize);
    match start.and_then(|s| Some((s, s.checked_add(len as usize)?))) {
        Some((start, end)) if end <= data.len() => Ok((start, end)),
        _ => Err(malformed(
            format!("{what} section at {off}+{len} runs past the data ({} bytes)", data.len()),
            field,
        )),
    }
}

impl Btf {
    /// Reads and parses the running kernel's BTF from [`VMLINUX_BTF_PATH`].
    pub fn from_sys() -> Result<Btf> {
        Self::from_file(Path::new(VMLINUX_BTF_PATH))
    }

    /// Reads and parses a raw BTF file.
    pub fn from_file(path: &Path) -> Result<Btf> {
        let data =
            std::fs::read(path).map_err(|source| BtfError::Io { path: path.to_owned(), source })?;
        Self::parse(&data)
    }

    /// Parses raw little-endian BTF (header, type section, string section).
    pub fn parse(data: &[u8]) -> Result<Btf> {
        let Some(&[m0, m1, version, _flags]) = data.get(..4) else {
            return Err(malformed(format!("{} bytes, shorter than a BTF header", data.len()), 0));
        };
        let magic = u16::from_le_bytes([m0, m1]);
        if magic != BTF_MAGIC {
            return Err(BtfError::BadMagic { magic });
        }
        if version != 1 {
            return Err(BtfError::UnsupportedVersion { version });
        }
        let hdr_len = read_u32(data, 4)? as usize;
        if hdr_len < HEADER_LEN || hdr_len > data.len() {
            return Err(malformed(format!("header length {hdr_len} invalid"), 4));
        }
        let (ts, te) = section(data, hdr_len, 8, "type")?;
        let (ss, se) = section(data, hdr_len, 16, "string")?;
        if !(ts - hdr_len).is_multiple_of(4) {
            return Err(malformed("type section offset not 4-aligned", 8));
        }
        let strings = data.get(ss..se).unwrap_or(&[]).to_vec();
        if strings.first() != Some(&0) || strings.last() != Some(&0) {
            return Err(malformed("string section must start and end with a NUL byte", ss));
        }
        let check_name = |name_off: u32, at: usize| {
            if (name_off as usize) < strings.len() {
                return Ok(());
            }
            Err(malformed(format!("name offset {name_off} outside string section"), at))
        };
        // Reads are limited to the type section; positions stay absolute for error messages.
        let tsec = data.get(..te).unwrap_or(&[]);
        let mut types = vec![Ty::Void];
        let mut trace_typedefs = Vec::new();
        // Largest referenced type id and where: checked once all types are known.
        let mut max_ref: (u32, usize) = (0, 0);
        let mut note_ref = |id: u32, at: usize| {
            if id > max_ref.0 {
                max_ref = (id, at);
            }
        };
        let mut at = ts;
        while at < te {
            if te - at < TYPE_LEN {
                return Err(malformed(format!("truncated type ({} bytes left)", te - at), at));
            }
            let name_off = read_u32(tsec, at)?;
            let info = read_u32(tsec, at + 4)?;
            let size_or_type = read_u32(tsec, at + 8)?;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let body = at + TYPE_LEN;
            let extra = match kind {
                KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
                KIND_ARRAY => 12,
                KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => vlen * 12,
                KIND_ENUM | KIND_FUNC_PROTO => vlen * 8,
                KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
                | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => 0,
                k => {
                    let id = types.len();
                    return Err(malformed(format!("unknown BTF kind {k} (type id {id})"), at));
                }
            };
            let end = body + extra;
            if end > te {
                let reason =
                    format!("kind {kind} with {extra} bytes of data runs past the section");
                return Err(malformed(reason, at));
            }
            let ty = match kind {
                KIND_INT => {
                    let enc = read_u32(tsec, body)?;
                    Ty::Int { size: size_or_type, bits: enc & 0xff, bit_offset: (enc >> 16) & 0xff }
                }
                KIND_PTR => {
                    note_ref(size_or_type, at);
                    Ty::Ptr
                }
                KIND_ARRAY => {
                    let elem = read_u32(tsec, body)?;
                    note_ref(elem, body);
                    Ty::Array { elem, nelems: read_u32(tsec, body + 8)? }
                }
                KIND_STRUCT | KIND_UNION => {
                    check_name(name_off, at)?;
                    let kind_flag = info >> 31 == 1;
                    let mut members = Vec::with_capacity(vlen);
                    for m in (body..end).step_by(12) {
                        let (name_off, type_id) = (read_u32(tsec, m)?, read_u32(tsec, m + 4)?);
                        let off = read_u32(tsec, m + 8)?;
                        check_name(name_off, m)?;
                        note_ref(type_id, m);
                        // With kind_flag: bitfield size in the top 8 bits, bit offset below.
                        let (bit_offset, bitfield_bits) =
                            if kind_flag { (off & 0xff_ffff, off >> 24) } else { (off, 0) };
                        members.push(Member { name_off, type_id, bit_offset, bitfield_bits });
                    }
                    Ty::Composite(Composite { name_off, size: size_or_type, members })
                }
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    note_ref(size_or_type, at);
                    if kind == KIND_TYPEDEF && strings.get(name_off as usize..).is_some_and(|n| n.starts_with(TRACE_TYPEDEF_PREFIX)) {
                        trace_typedefs.push((types.len() as u32, name_off));
                    }
                    Ty::Modifier(size_or_type)
                }
                KIND_ENUM | KIND_ENUM64 | KIND_FLOAT => Ty::Sized(size_or_type),
                _ => Ty::Other,
            };
            types.push(ty);
            at = end;
        }
        if max_ref.0 as usize >= types.len() {
            let reason =
                format!("type id {} referenced, only {} exist", max_ref.0, types.len() - 1);
            return Err(malformed(reason, max_ref.1));
        }
        Ok(Btf { types, strings, trace_typedefs })
    }

    /// The type id of the typedef `btf_trace_<tracepoint>`, if the kernel has that tracepoint.
    pub fn tracepoint_type_id(&self, tracepoint: &str) -> Option<u32> {
        self.trace_typedefs.iter().find_map(|&(id, name_off)| {
            let name = self.name(name_off);
            (name.strip_prefix(TRACE_TYPEDEF_PREFIX) == Some(tracepoint.as_bytes())).then_some(id)
        })
    }

    /// A BTF blob for loading BTF tracepoint programs of `tracepoints` with aya, which looks the
    /// typedef `btf_trace_<name>` up by name and hands its id to the kernel: the kernel's
    /// typedefs of those tracepoints at their own type ids, every other id up to the last of them
    /// a nameless pointer. About 12 bytes per type instead of the whole of the kernel's BTF,
    /// whose parse by aya peaked at some 30 MB of the agent's memory. Tracepoints the kernel
    /// lacks are left out (loading them fails as it would against the full BTF).
    pub fn attach_btf(&self, tracepoints: &[&str]) -> Vec<u8> {
        let mut names = vec![0u8];
        let mut wanted: Vec<(u32, u32)> = tracepoints
            .iter()
            .filter_map(|tp| {
                let id = self.tracepoint_type_id(tp)?;
                let off = names.len() as u32;
                names.extend_from_slice(TRACE_TYPEDEF_PREFIX);
                names.extend_from_slice(tp.as_bytes());
                names.push(0);
                Some((id, off))
            })
            .collect();
        wanted.sort_unstable();
        let last = wanted.last().map_or(0, |&(id, _)| id);
        let mut type_section = Vec::with_capacity(last as usize * TYPE_LEN);
        let mut next = wanted.iter().peekable();
        for id in 1..=last {
            let (name_off, kind) = match next.peek() {
                Some(&&(want, off)) if want == id => {
                    next.next();
                    (off, KIND_TYPEDEF)
                }
                _ => (0, KIND_PTR),
            };
            // name offset, info (kind in bits 24-28), type: void.
            for word in [name_off, kind << 24, 0] {
                type_section.extend_from_slice(&word.to_le_bytes());
            }
        }
        let mut blob = Vec::with_capacity(HEADER_LEN + type_section.len() + names.len());
        blob.extend_from_slice(&BTF_MAGIC.to_le_bytes());
        blob.extend_from_slice(&[1, 0]); // version, flags
        for word in [HEADER_LEN as u32, 0, type_section.len() as u32, type_section.len() as u32, names.len() as u32] {
            blob.extend_from_slice(&word.to_le_bytes());
        }
        blob.extend_from_slice(&type_section);
        blob.extend_from_slice(&names);
        blob
    }

    /// Number of types, not counting void.
    pub fn type_count(&self) -> usize {
        self.types.len().saturating_sub(1)
    }

    /// The type with this id (ids were validated by `parse`).
    fn ty(&self, id: u32) -> &Ty {
        self.types.get(id as usize).unwrap_or(&Ty::Void)
    }

    /// The NUL-terminated string at `off` (offsets were validated by `parse`).
    fn name(&self, off: u32) -> &[u8] {
        let rest = self.strings.get(off as usize..).unwrap_or(&[]);
        rest.split(|&b| b == 0).next().unwrap_or(&[])
    }

    /// Follows typedef/const/volatile/restrict/type_tag to the underlying type.
    fn peel(&self, mut id: u32) -> Result<&Ty> {
        for _ in 0..MAX_DEPTH {
            match self.ty(id) {
                Ty::Modifier(target) => id = *target,
                t => return Ok(t),
            }
        }
        Err(malformed(format!("modifier chain at type id {id} too long or cyclic"), 0))
    }

    /// Byte size of a type, through modifiers and arrays; `None` when unknown.
    fn type_size(&self, mut id: u32) -> Option<u64> {
        let mut count: u64 = 1;
        for _ in 0..MAX_DEPTH {
            let size = match self.ty(id) {
                Ty::Modifier(target) => {
                    id = *target;
                    continue;
                }
                Ty::Array { elem, nelems } => {
                    count = count.checked_mul(u64::from(*nelems))?;
                    id = *elem;
                    continue;
                }
                Ty::Int { size, .. } | Ty::Sized(size) => u64::from(*size),
                Ty::Composite(c) => u64::from(c.size),
                Ty::Ptr => std::mem::size_of::<usize>() as u64,
                Ty::Void | Ty::Other => return None,
            };
            return count.checked_mul(size);
        }
        None
    }

    /// The struct or union named `name`, preferring the first one that has members.
    fn find_struct(&self, name: &str) -> Result<&Composite> {
        let mut fallback = None;
        for ty in &self.types {
            match ty {
                Ty::Composite(c)
                    if !name.is_empty() && self.name(c.name_off) == name.as_bytes() =>
                {
                    if !c.members.is_empty() {
                        return Ok(c);
                    }
                    fallback.get_or_insert(c);
                }
                _ => {}
            }
        }
        fallback.ok_or_else(|| BtfError::StructNotFound { name: name.to_owned() })
    }

    /// Byte size of the struct or union named `name`.
    pub fn struct_size(&self, name: &str) -> Result<u32> {
        self.find_struct(name).map(|c| c.size)
    }

    /// Finds member `name` in `c`, also inside anonymous struct/union members. Returns its bit
    /// offset relative to `c` and the member.
    fn find_member<'a>(
        &'a self,
        c: &'a Composite,
        name: &[u8],
        depth: usize,
        budget: &mut usize,
    ) -> Result<Option<(u64, &'a Member)>> {
        for m in &c.members {
            *budget = budget.checked_sub(1).ok_or_else(|| {
                malformed("member search too long (cyclic anonymous members?)", 0)
            })?;
            let mname = self.name(m.name_off);
            if mname == name {
                return Ok(Some((u64::from(m.bit_offset), m)));
            }
            if !mname.is_empty() {
                continue;
            }
            if let Ty::Composite(inner) = self.peel(m.type_id)? {
                if depth >= MAX_DEPTH {
                    return Err(malformed("anonymous members nested too deep (cyclic?)", 0));
                }
                if let Some((off, found)) = self.find_member(inner, name, depth + 1, budget)? {
                    return Ok(Some((u64::from(m.bit_offset) + off, found)));
                }
            }
        }
        Ok(None)
    }

    /// Offset of the member reached by `path` from the struct (or union) `struct_name`.
    ///
    /// Each path element names a member of the previous one's type, which must be an embedded
    /// struct or union (through typedefs and qualifiers, never through a pointer). Members of
    /// anonymous structs and unions are found as if they were direct members, as in C.
    pub fn member_offset(&self, struct_name: &str, path: &[&str]) -> Result<MemberOffset> {
        let mut comp = self.find_struct(struct_name)?;
        let mut comp_name = struct_name.to_owned();
        let mut bits: u64 = 0;
        let full = |upto: usize| format!("{struct_name}.{}", path[..=upto].join("."));
        for (i, &elem) in path.iter().enumerate() {
            let not_found = || BtfError::MemberNotFound {
                struct_name: comp_name.clone(),
                member: elem.to_owned(),
            };
            if elem.is_empty() {
                return Err(not_found());
            }
            let mut budget = SEARCH_BUDGET;
            let found = self.find_member(comp, elem.as_bytes(), 0, &mut budget)?;
            let (off, m) = found.ok_or_else(not_found)?;
            bits = bits.saturating_add(off);
            let ty = self.peel(m.type_id)?;
            if i + 1 < path.len() {
                match ty {
                    Ty::Composite(c) if m.bitfield_bits == 0 => {
                        comp = c;
                        comp_name = String::from_utf8_lossy(self.name(c.name_off)).into_owned();
                        if comp_name.is_empty() {
                            comp_name = "<anonymous>".to_owned();
                        }
                    }
                    Ty::Ptr => return Err(BtfError::PointerInPath { path: full(i) }),
                    _ => return Err(BtfError::NotAStruct { path: full(i) }),
                }
                continue;
            }
            let mut bitfield_bits = m.bitfield_bits;
            // Without kind_flag, a bitfield is a member whose int type is narrower than its
            // storage; the int's own bit offset adds to the member's.
            if let (0, Ty::Int { size, bits: width, bit_offset }) = (bitfield_bits, ty) {
                if *bit_offset != 0 || (*width != 0 && u64::from(*width) != u64::from(*size) * 8) {
                    bitfield_bits = *width;
                    bits = bits.saturating_add(u64::from(*bit_offset));
                }
            }
            if bitfield_bits == 0 && !bits.is_multiple_of(8) {
                return Err(BtfError::NotByteAligned { path: full(i), bit_offset: bits });
            }
            let byte_offset = u32::try_from(bits / 8)
                .map_err(|_| malformed(format!("offset of {} overflows", full(i)), 0))?;
            let size = self.type_size(m.type_id).and_then(|s| u32::try_from(s).ok()).unwrap_or(0);
            return Ok(MemberOffset { byte_offset, bitfield_bits, size, bit_offset: bits });
        }
        Err(BtfError::EmptyPath { struct_name: struct_name.to_owned() })
    }
}

/// Byte offset of a member that must exist and be byte-addressable.
fn required(btf: &Btf, struct_name: &str, path: &[&str]) -> Result<u32> {
    match btf.member_offset(struct_name, path)? {
        MemberOffset { byte_offset, bitfield_bits: 0, .. } => Ok(byte_offset),
        MemberOffset { bitfield_bits: bits, .. } => {
            Err(BtfError::Bitfield { path: format!("{struct_name}.{}", path.join(".")), bits })
        }
    }
}

/// Byte offset of a member the programs can do without: [`OFFSET_UNKNOWN`] when it is missing,
/// is a bitfield or cannot be reached. Malformed BTF is still an error.
fn optional(btf: &Btf, struct_name: &str, path: &[&str]) -> Result<u32> {
    match btf.member_offset(struct_name, path) {
        Ok(MemberOffset { byte_offset, bitfield_bits: 0, .. }) => Ok(byte_offset),
        Err(e @ BtfError::Malformed { .. }) => Err(e),
        Ok(_) | Err(_) => Ok(OFFSET_UNKNOWN),
    }
}

/// Resolves every member offset the kernel programs use.
///
/// Fails when a required member is missing or is a bitfield; optional ones (exit code, fs root,
/// pid namespace, rdev, IPv6 addresses, socket type, the pid numbers of node scoping, where an
/// executable lives, cgroup paths) become [`OFFSET_UNKNOWN`] instead.
pub fn resolve_kernel_offsets(btf: &Btf) -> Result<KernelOffsets> {
    let (r, o) = (required, optional);
    Ok(KernelOffsets {
        task_pid: r(btf, "task_struct", &["pid"])?,
        task_tgid: r(btf, "task_struct", &["tgid"])?,
        task_real_parent: r(btf, "task_struct", &["real_parent"])?,
        task_group_leader: r(btf, "task_struct", &["group_leader"])?,
        task_start_boottime: r(btf, "task_struct", &["start_boottime"])?,
        task_exit_code: o(btf, "task_struct", &["exit_code"])?,
        task_files: r(btf, "task_struct", &["files"])?,
        task_fs: o(btf, "task_struct", &["fs"])?,
        task_mm: r(btf, "task_struct", &["mm"])?,
        task_nsproxy: o(btf, "task_struct", &["nsproxy"])?,
        nsproxy_pid_ns: o(btf, "nsproxy", &["pid_ns_for_children"])?,
        pid_ns_inum: o(btf, "pid_namespace", &["ns", "inum"])?,
        mm_arg_start: r(btf, "mm_struct", &["arg_start"])?,
        mm_arg_end: r(btf, "mm_struct", &["arg_end"])?,
        files_fdt: r(btf, "files_struct", &["fdt"])?,
        fdt_max_fds: r(btf, "fdtable", &["max_fds"])?,
        fdt_fd: r(btf, "fdtable", &["fd"])?,
        file_path: r(btf, "file", &["f_path"])?,
        file_inode: r(btf, "file", &["f_inode"])?,
        file_private_data: r(btf, "file", &["private_data"])?,
        inode_mode: r(btf, "inode", &["i_mode"])?,
        inode_ino: r(btf, "inode", &["i_ino"])?,
        inode_rdev: o(btf, "inode", &["i_rdev"])?,
        path_mnt: r(btf, "path", &["mnt"])?,
        path_dentry: r(btf, "path", &["dentry"])?,
        fs_root: o(btf, "fs_struct", &["root"])?,
        dentry_parent: r(btf, "dentry", &["d_parent"])?,
        dentry_name: r(btf, "dentry", &["d_name", "name"])?,
        vfsmount_root: r(btf, "vfsmount", &["mnt_root"])?,
        mount_mnt: r(btf, "mount", &["mnt"])?,
        mount_parent: r(btf, "mount", &["mnt_parent"])?,
        mount_mountpoint: r(btf, "mount", &["mnt_mountpoint"])?,
        bprm_file: r(btf, "linux_binprm", &["file"])?,
        bprm_filename: r(btf, "linux_binprm", &["filename"])?,
        socket_sk: r(btf, "socket", &["sk"])?,
        sk_family: r(btf, "sock_common", &["skc_family"])?,
        sk_daddr: r(btf, "sock_common", &["skc_daddr"])?,
        sk_rcv_saddr: r(btf, "sock_common", &["skc_rcv_saddr"])?,
        sk_dport: r(btf, "sock_common", &["skc_dport"])?,
        sk_num: r(btf, "sock_common", &["skc_num"])?,
        sk_v6_daddr: o(btf, "sock_common", &["skc_v6_daddr"])?,
        sk_v6_rcv_saddr: o(btf, "sock_common", &["skc_v6_rcv_saddr"])?,
        sk_type: o(btf, "sock", &["sk_type"])?,
        inode_sb: o(btf, "inode", &["i_sb"])?,
        sb_magic: o(btf, "super_block", &["s_magic"])?,
        task_thread_pid: OFFSET_UNKNOWN,
        pid_level: OFFSET_UNKNOWN,
        pid_numbers: OFFSET_UNKNOWN,
        upid_size: OFFSET_UNKNOWN,
        upid_nr: OFFSET_UNKNOWN,
        upid_ns: OFFSET_UNKNOWN,
        sk_socket: o(btf, "sock", &["sk_socket"])?,
        socket_file: o(btf, "socket", &["file"])?,
        inode_nlink: o(btf, "inode", &["i_nlink"])?,
        cgroup_kn: o(btf, "cgroup", &["kn"])?,
        kernfs_id: o(btf, "kernfs_node", &["id"])?,
        cgroup_root: o(btf, "cgroup", &["root"])?,
        root_hierarchy_id: o(btf, "cgroup_root", &["hierarchy_id"])?,
    })
    .and_then(|mut offsets| {
        resolve_pid_numbers(btf, &mut offsets)?;
        Ok(offsets)
    })
}

/// Resolves what node scoping reads to find a task's pid in a given pid namespace:
/// `task->thread_pid->numbers[i]` (`struct upid`: `nr`, `ns`) for `i` up to `pid->level`.
/// All optional: a kernel without them cannot scope to a node, and the sensor says so when it
/// must (see [`KernelOffsets::has_pid_numbers`]).
fn resolve_pid_numbers(btf: &Btf, o: &mut KernelOffsets) -> Result<()> {
    o.task_thread_pid = optional(btf, "task_struct", &["thread_pid"])?;
    o.pid_level = optional(btf, "pid", &["level"])?;
    o.pid_numbers = optional(btf, "pid", &["numbers"])?;
    o.upid_size = match btf.struct_size("upid") {
        Ok(0) | Err(_) => OFFSET_UNKNOWN,
        Ok(size) => size,
    };
    o.upid_nr = optional(btf, "upid", &["nr"])?;
    o.upid_ns = optional(btf, "upid", &["ns"])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds synthetic BTF blobs. Type ids are handed out in order of creation.
    struct Builder {
        types: Vec<u8>,
        strs: Vec<u8>,
        next: u32,
    }

    impl Builder {
        fn new() -> Self {
            Builder { types: Vec::new(), strs: vec![0], next: 1 }
        }
        fn s(&mut self, name: &str) -> u32 {
            if name.is_empty() {
                return 0;
            }
            self.strs.extend_from_slice(name.as_bytes());
            self.strs.push(0);
            (self.strs.len() - name.len() - 1) as u32
        }
        fn w(&mut self, words: &[u32]) {
            words.iter().for_each(|v| self.types.extend_from_slice(&v.to_le_bytes()));
        }
        fn ty(&mut self, name: &str, kind: u32, kflag: bool, vlen: u32, size_or_type: u32) -> u32 {
            let n = self.s(name);
            self.w(&[n, u32::from(kflag) << 31 | kind << 24 | vlen, size_or_type]);
            self.next += 1;
            self.next - 1
        }
        fn int_bits(&mut self, name: &str, size: u32, bits: u32, offset: u32) -> u32 {
            let id = self.ty(name, KIND_INT, false, 0, size);
            self.w(&[offset << 16 | bits]);
            id
        }
        fn int(&mut self, name: &str, size: u32) -> u32 {
            self.int_bits(name, size, size * 8, 0)
        }
        fn composite(
            &mut self,
            kind: u32,
            name: &str,
            size: u32,
            kflag: bool,
            members: &[(&str, u32, u32)],
        ) -> u32 {
            let id = self.ty(name, kind, kflag, members.len() as u32, size);
            for &(n, t, off) in members {
                let n = self.s(n);
                self.w(&[n, t, off]);
            }
            id
        }
        fn strukt(&mut self, name: &str, size: u32, members: &[(&str, u32, u32)]) -> u32 {
            self.composite(KIND_STRUCT, name, size, false, members)
        }
        /// One of each kind not otherwise used, so that a wrong skip size derails the parse.
        fn other_kinds(&mut self, int: u32) {
            let e = self.ty("color", KIND_ENUM, false, 2, 4);
            let (red, blue) = (self.s("RED"), self.s("BLUE"));
            self.w(&[red, 0, blue, 1]);
            self.ty("big", KIND_ENUM64, false, 1, 8);
            let huge = self.s("HUGE");
            self.w(&[huge, 1, 2]);
            let proto = self.ty("", KIND_FUNC_PROTO, false, 2, int);
            let (a, b) = (self.s("a"), self.s("b"));
            self.w(&[a, int, b, e]);
            let func = self.ty("f", KIND_FUNC, false, 1, proto);
            let var = self.ty("v", KIND_VAR, false, 0, int);
            self.w(&[1]);
            self.ty(".data", KIND_DATASEC, false, 1, 4);
            self.w(&[var, 0, 4]);
            self.ty("double", KIND_FLOAT, false, 0, 8);
            self.ty("tag", KIND_DECL_TAG, false, 0, func);
            self.w(&[u32::MAX]);
            self.ty("user", KIND_TYPE_TAG, false, 0, int);
            self.ty("fwd", KIND_FWD, false, 0, 0);
            self.ty("", KIND_VOLATILE, false, 0, int);
            self.ty("", KIND_RESTRICT, false, 0, int);
        }
        fn build(&self) -> Vec<u8> {
            let mut out = vec![0x9f, 0xeb, 1, 0];
            let tl = self.types.len() as u32;
            for v in [HEADER_LEN as u32, 0, tl, tl, self.strs.len() as u32] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&self.types);
            out.extend_from_slice(&self.strs);
            out
        }
    }

    fn sample() -> Vec<u8> {
        let mut b = Builder::new();
        let (u32_, u16_, ch) =
            (b.int("unsigned int", 4), b.int("unsigned short", 2), b.int("char", 1));
        b.other_kinds(u32_);
        let cptr = b.ty("", KIND_PTR, false, 0, ch);
        let qstr =
            b.strukt("qstr", 16, &[("hash", u32_, 0), ("len", u32_, 32), ("name", cptr, 64)]);
        let td = b.ty("qstr_t", KIND_TYPEDEF, false, 0, qstr);
        let cq = b.ty("", KIND_CONST, false, 0, td);
        let fwd_dentry = b.strukt("dentry", 0, &[]);
        let dptr = b.ty("", KIND_PTR, false, 0, fwd_dentry);
        let iname = b.ty("", KIND_ARRAY, false, 0, 0);
        b.w(&[ch, u32_, 32]);
        b.strukt(
            "dentry",
            56,
            &[("d_parent", dptr, 0), ("d_name", cq, 64), ("d_iname", iname, 192)],
        );
        let ports = b.strukt("", 4, &[("skc_dport", u16_, 0), ("skc_num", u16_, 16)]);
        let pair =
            b.composite(KIND_UNION, "", 4, false, &[("skc_portpair", u32_, 0), ("", ports, 0)]);
        let sk = [
            ("skc_daddr", u32_, 0),
            ("skc_rcv_saddr", u32_, 32),
            ("", pair, 64),
            ("skc_family", u16_, 96),
        ];
        b.strukt("sock_common", 16, &sk);
        let bf = [("a", u32_, 3 << 24), ("b", u32_, 5 << 24 | 3), ("c", u32_, 32)];
        b.composite(KIND_STRUCT, "bits", 8, true, &bf);
        let nibble = b.int_bits("unsigned int", 4, 4, 0);
        b.strukt("oldbits", 8, &[("x", nibble, 9), ("y", u32_, 32)]);
        b.strukt("odd", 4, &[("z", u16_, 3)]);
        b.build()
    }

    fn at(byte_offset: u32, bitfield_bits: u32, size: u32, bit_offset: u64) -> MemberOffset {
        MemberOffset { byte_offset, bitfield_bits, size, bit_offset }
    }

    #[test]
    fn anonymous_members_are_searched() {
        let btf = Btf::parse(&sample()).unwrap();
        assert_eq!(btf.member_offset("sock_common", &["skc_num"]).unwrap(), at(10, 0, 2, 80));
        assert_eq!(btf.member_offset("sock_common", &["skc_dport"]).unwrap(), at(8, 0, 2, 64));
        assert_eq!(btf.member_offset("sock_common", &["skc_portpair"]).unwrap(), at(8, 0, 4, 64));
        assert_eq!(btf.member_offset("sock_common", &["skc_family"]).unwrap().byte_offset, 12);
        let err = btf.member_offset("sock_common", &["nope"]).unwrap_err();
        assert_eq!(err.to_string(), "no member `nope` in `sock_common`");
        assert!(matches!(
            btf.member_offset("sock_common", &[""]),
            Err(BtfError::MemberNotFound { .. })
        ));
        assert!(matches!(
            btf.member_offset("nosuch", &["x"]),
            Err(BtfError::StructNotFound { .. })
        ));
        assert!(matches!(btf.member_offset("", &["x"]), Err(BtfError::StructNotFound { .. })));
        assert!(matches!(btf.member_offset("qstr", &[]), Err(BtfError::EmptyPath { .. })));
    }

    #[test]
    fn bitfields() {
        let btf = Btf::parse(&sample()).unwrap();
        assert_eq!(btf.member_offset("bits", &["b"]).unwrap(), at(0, 5, 4, 3));
        assert_eq!(btf.member_offset("bits", &["c"]).unwrap(), at(4, 0, 4, 32));
        assert_eq!(btf.member_offset("oldbits", &["x"]).unwrap(), at(1, 4, 4, 9));
        assert_eq!(btf.member_offset("oldbits", &["y"]).unwrap(), at(4, 0, 4, 32));
        let err = btf.member_offset("odd", &["z"]).unwrap_err();
        assert!(matches!(err, BtfError::NotByteAligned { bit_offset: 3, .. }), "{err}");
        let err = required(&btf, "bits", &["b"]).unwrap_err();
        assert!(matches!(&err, BtfError::Bitfield { bits: 5, path } if path == "bits.b"), "{err}");
        assert_eq!(required(&btf, "bits", &["c"]).unwrap(), 4);
        assert_eq!(optional(&btf, "bits", &["a"]).unwrap(), OFFSET_UNKNOWN);
        assert_eq!(optional(&btf, "bits", &["missing"]).unwrap(), OFFSET_UNKNOWN);
        assert_eq!(optional(&btf, "missing", &["a"]).unwrap(), OFFSET_UNKNOWN);
    }

    #[test]
    fn typedefd_embedded_struct_and_complete_duplicate() {
        let btf = Btf::parse(&sample()).unwrap();
        assert_eq!(btf.member_offset("dentry", &["d_name", "name"]).unwrap(), at(16, 0, 8, 128));
        assert_eq!(btf.member_offset("dentry", &["d_name", "len"]).unwrap(), at(12, 0, 4, 96));
        assert_eq!(btf.member_offset("dentry", &["d_iname"]).unwrap(), at(24, 0, 32, 192));
        assert_eq!(btf.member_offset("dentry", &["d_name"]).unwrap().size, 16);
        assert_eq!(
            (btf.struct_size("dentry").unwrap(), btf.struct_size("qstr").unwrap()),
            (56, 16)
        );
        let err = btf.member_offset("dentry", &["d_name", "bogus"]).unwrap_err();
        assert!(
            matches!(err, BtfError::MemberNotFound { struct_name, .. } if struct_name == "qstr")
        );
    }

    #[test]
    fn pointer_or_scalar_in_middle_of_path_is_an_error() {
        let btf = Btf::parse(&sample()).unwrap();
        let err = btf.member_offset("dentry", &["d_parent", "d_name"]).unwrap_err();
        assert!(
            matches!(&err, BtfError::PointerInPath { path } if path == "dentry.d_parent"),
            "{err}"
        );
        let err = btf.member_offset("dentry", &["d_name", "hash", "x"]).unwrap_err();
        assert!(
            matches!(&err, BtfError::NotAStruct { path } if path == "dentry.d_name.hash"),
            "{err}"
        );
    }

    #[test]
    fn bad_headers_and_sections() {
        let good = sample();
        assert!(Btf::parse(&good).is_ok());
        let patched = |at: usize, bytes: &[u8]| {
            let mut d = good.clone();
            d[at..at + bytes.len()].copy_from_slice(bytes);
            Btf::parse(&d)
        };
        let malformed = |at: usize, v: u32| {
            matches!(patched(at, &v.to_le_bytes()), Err(BtfError::Malformed { .. }))
        };
        assert!(matches!(patched(0, &[0x12, 0x34]), Err(BtfError::BadMagic { magic: 0x3412 })));
        assert!(matches!(patched(0, &[0xeb, 0x9f]), Err(BtfError::BadMagic { .. })));
        assert!(matches!(patched(2, &[2]), Err(BtfError::UnsupportedVersion { version: 2 })));
        let tl = u32::from_le_bytes(good[12..16].try_into().unwrap());
        // Header length, type offset/length, string offset/length.
        for (field, v) in [
            (4, 8),
            (4, u32::MAX),
            (8, 2),
            (12, 0x10_0000),
            (12, u32::MAX),
            (12, tl - 4),
            (12, tl - 1),
            (16, u32::MAX),
            (20, 0),
        ] {
            assert!(malformed(field, v), "header field {field} = {v} accepted");
        }
        assert!(matches!(patched(good.len() - 1, b"x"), Err(BtfError::Malformed { .. })));
        for len in 0..good.len() {
            assert!(Btf::parse(&good[..len]).is_err(), "prefix of {len} bytes parsed");
        }
    }

    #[test]
    fn unknown_kind_and_bad_references() {
        for kind in [0, 20, 31] {
            let mut b = Builder::new();
            b.int("int", 4);
            b.ty("weird", kind, false, 0, 0);
            let err = Btf::parse(&b.build()).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("malformed BTF at byte 40: unknown BTF kind {kind} (type id 2)")
            );
        }
        let mut b = Builder::new();
        let int = b.int("int", 4);
        b.strukt("s", 4, &[("m", int + 5, 0)]);
        assert!(matches!(Btf::parse(&b.build()), Err(BtfError::Malformed { .. })));
        let mut b = Builder::new();
        b.ty("", KIND_PTR, false, 0, 7);
        assert!(matches!(Btf::parse(&b.build()), Err(BtfError::Malformed { .. })));
        let mut b = Builder::new();
        let int = b.int("int", 4);
        b.strukt("s", 4, &[("m", int, 0)]);
        let mut d = b.build();
        let name_off = d.len() - b.strs.len() - 12; // of the member
        d[name_off..name_off + 4].copy_from_slice(&1000u32.to_le_bytes());
        assert!(matches!(Btf::parse(&d), Err(BtfError::Malformed { .. })));
        let mut b = Builder::new();
        b.ty("s", KIND_STRUCT, false, 0xffff, 4); // members run past the section
        assert!(matches!(Btf::parse(&b.build()), Err(BtfError::Malformed { .. })));
    }

    #[test]
    fn cycles_terminate() {
        let mut b = Builder::new();
        let td = b.ty("loop", KIND_TYPEDEF, false, 0, 1);
        let s = b.next;
        b.strukt("r", 4, &[("", s, 0), ("", s, 0), ("m", td, 0)]);
        let btf = Btf::parse(&b.build()).unwrap();
        assert!(matches!(btf.member_offset("r", &["x"]), Err(BtfError::Malformed { .. })));
        assert!(matches!(btf.member_offset("r", &["m"]), Err(BtfError::Malformed { .. })));
    }

    #[test]
    fn mutated_input_never_panics() {
        let good = sample();
        for i in 0..good.len() {
            for v in [0, 0xff, good[i] ^ 1, good[i] ^ 0x80, good[i].wrapping_add(12)] {
                let mut d = good.clone();
                d[i] = v;
                if let Ok(btf) = Btf::parse(&d) {
                    let _ = btf.member_offset("sock_common", &["skc_num"]);
                    let _ = btf.member_offset("dentry", &["d_name", "name"]);
                    let _ = (btf.member_offset("bits", &["b"]), btf.struct_size("dentry"));
                    let _ = resolve_kernel_offsets(&btf);
                }
            }
        }
    }

    #[test]
    fn pid_numbers_for_node_scoping() {
        let mut b = Builder::new();
        let (u32_, int) = (b.int("unsigned int", 4), b.int("int", 4));
        let fwd_ns = b.strukt("pid_namespace", 0, &[]);
        let ns_ptr = b.ty("", KIND_PTR, false, 0, fwd_ns);
        let upid = b.strukt("upid", 16, &[("nr", int, 0), ("ns", ns_ptr, 64)]);
        let numbers = b.ty("", KIND_ARRAY, false, 0, 0);
        b.w(&[upid, u32_, 0]); // a flexible array: `struct upid numbers[]`
        let count = b.strukt("", 4, &[("refs", u32_, 0)]);
        let pid = b.strukt(
            "pid",
            104,
            &[("count", count, 0), ("level", u32_, 32), ("numbers", numbers, 104 * 8)],
        );
        let pid_ptr = b.ty("", KIND_PTR, false, 0, pid);
        b.strukt("task_struct", 2048, &[("pid", int, 0), ("thread_pid", pid_ptr, 1000 * 8)]);
        let btf = Btf::parse(&b.build()).unwrap();
        let mut o = KernelOffsets::UNKNOWN;
        resolve_pid_numbers(&btf, &mut o).unwrap();
        assert_eq!(
            (o.task_thread_pid, o.pid_level, o.pid_numbers, o.upid_size, o.upid_nr, o.upid_ns),
            (1000, 4, 104, 16, 0, 8)
        );
        assert!(!o.has_pid_numbers(), "pid_namespace.ns.inum and the task links are still missing");
        o.pid_ns_inum = 24;
        o.task_group_leader = 8;
        o.task_real_parent = 16;
        assert!(o.has_pid_numbers());

        // A kernel without them: unknown, not an error; scoping is then impossible.
        let mut o = KernelOffsets::UNKNOWN;
        resolve_pid_numbers(&Btf::parse(&sample()).unwrap(), &mut o).unwrap();
        assert_eq!(o, KernelOffsets::UNKNOWN);
        assert!(!o.has_pid_numbers());
    }

    /// The small BTF handed to aya gives the same tracepoint type ids as the full one, and
    /// leaves out tracepoints the kernel lacks.
    #[test]
    fn attach_btf_keeps_the_tracepoint_typedef_ids() {
        let mut b = Builder::new();
        let int = b.int("int", 4);
        let proto = b.ty("", KIND_PTR, false, 0, int);
        let exec = b.ty("btf_trace_sched_process_exec", KIND_TYPEDEF, false, 0, proto);
        b.ty("not_a_trace", KIND_TYPEDEF, false, 0, int);
        b.strukt("task_struct", 8, &[("pid", int, 0)]);
        let fork = b.ty("btf_trace_sched_process_fork", KIND_TYPEDEF, false, 0, proto);
        let btf = Btf::parse(&b.build()).unwrap();
        assert_eq!(btf.tracepoint_type_id("sched_process_exec"), Some(exec));
        assert_eq!(btf.tracepoint_type_id("sched_process_fork"), Some(fork));
        assert_eq!(btf.tracepoint_type_id("sched_process"), None);
        assert_eq!(btf.tracepoint_type_id("not_a_trace"), None);
        let blob = btf.attach_btf(&["sched_process_fork", "sched_process_exec", "sock_recv_length"]);
        let small = aya::Btf::parse(&blob, aya::Endianness::default()).unwrap();
        let id = |name: &str| small.id_by_type_name_kind(name, aya_obj::btf::BtfKind::Typedef).ok();
        assert_eq!(id("btf_trace_sched_process_exec"), Some(exec));
        assert_eq!(id("btf_trace_sched_process_fork"), Some(fork));
        assert_eq!(id("btf_trace_sock_recv_length"), None);
        // Our own parser reads it too: the last id is the last typedef asked for.
        assert_eq!(Btf::parse(&blob).unwrap().type_count(), fork as usize);
    }

    #[test]
    fn running_kernel() {
        if !Path::new(VMLINUX_BTF_PATH).exists() {
            println!("skipping test - {VMLINUX_BTF_PATH} does not exist");
            return;
        }
        let btf = match Btf::from_sys() {
            Ok(btf) => btf,
            Err(e @ BtfError::Io { .. }) => return println!("skipping test - {e}"),
            Err(e) => panic!("parsing {VMLINUX_BTF_PATH}: {e}"),
        };
        let o = resolve_kernel_offsets(&btf).unwrap_or_else(|e| panic!("resolving offsets: {e}"));
        println!("{btf:?}\n{o:#?}");
        // The tracepoint type ids the agent hands to aya are the ones aya finds in the whole BTF.
        let full = aya::Btf::from_sys_fs().unwrap();
        let tracepoints = ["sched_process_exec", "sched_process_fork", "sched_process_exit", "inet_sock_set_state"];
        let small = aya::Btf::parse(&btf.attach_btf(&tracepoints), aya::Endianness::default()).unwrap();
        for tp in tracepoints {
            let name = format!("btf_trace_{tp}");
            let want = full.id_by_type_name_kind(&name, aya_obj::btf::BtfKind::Typedef).unwrap();
            assert_eq!(btf.tracepoint_type_id(tp), Some(want), "{tp}");
            assert_eq!(small.id_by_type_name_kind(&name, aya_obj::btf::BtfKind::Typedef).unwrap(), want, "{tp}");
        }
        #[rustfmt::skip]
        let required = [
            o.task_pid, o.task_tgid, o.task_real_parent, o.task_group_leader, o.task_start_boottime,
            o.task_files, o.task_mm, o.mm_arg_start, o.mm_arg_end, o.files_fdt, o.fdt_max_fds,
            o.fdt_fd, o.file_inode, o.file_path, o.file_private_data, o.inode_mode, o.inode_ino,
            o.path_mnt, o.path_dentry, o.dentry_parent, o.dentry_name, o.vfsmount_root, o.mount_mnt,
            o.mount_parent, o.mount_mountpoint, o.bprm_file, o.bprm_filename, o.socket_sk,
            o.sk_family, o.sk_daddr, o.sk_rcv_saddr, o.sk_dport, o.sk_num, o.sk_socket,
            o.socket_file,
        ];
        assert!(required.iter().all(|&v| v != OFFSET_UNKNOWN));
        // Optional, but every kernel this runs on has them.
        let facts = [o.inode_nlink, o.inode_sb, o.sb_magic, o.cgroup_kn, o.kernfs_id, o.cgroup_root, o.root_hierarchy_id];
        assert!(facts.iter().all(|&v| v != OFFSET_UNKNOWN), "{o:#?}");
        let size = |s| btf.struct_size(s).unwrap();
        println!("sizeof(task_struct) = {}", size("task_struct"));
        assert!(o.task_pid < size("task_struct") && o.task_start_boottime < size("task_struct"));
        assert_eq!(o.task_tgid, o.task_pid + 4);
        assert!(o.mm_arg_start < o.mm_arg_end && o.mm_arg_end < size("mm_struct"));
        assert!(o.sk_num < size("sock_common") && o.inode_ino < size("inode"));
        if cfg!(target_pointer_width = "64") {
            // Layouts that have not changed in many kernel releases.
            assert_eq!(
                (o.sk_daddr, o.sk_rcv_saddr, o.sk_dport, o.sk_num, o.sk_family),
                (0, 4, 12, 14, 16)
            );
            assert_eq!((o.path_mnt, o.path_dentry), (0, 8));
            let d_name = btf.member_offset("dentry", &["d_name"]).unwrap();
            assert_eq!((d_name.size, o.dentry_name), (16, d_name.byte_offset + 8));
        }
        // Node scoping: `struct upid { int nr; struct pid_namespace *ns; }` and `pid.numbers`
        // a flexible array at the end of `struct pid`.
        assert!(o.has_pid_numbers(), "{o:#?}");
        if cfg!(target_pointer_width = "64") {
            assert_eq!((o.upid_size, o.upid_nr, o.upid_ns, o.pid_level), (16, 0, 8, 4));
        }
        assert!(o.pid_numbers >= o.pid_level + 4 && o.pid_numbers <= size("pid"));
        assert!(o.task_thread_pid < size("task_struct"));
        for (s, m) in [("task_struct", "sched_reset_on_fork"), ("sock_common", "skc_reuse")] {
            println!("{s}.{m}: {:?}", btf.member_offset(s, &[m]));
        }
    }
}
