//! The model file format (little-endian):
//!
//! ```text
//! header (24 bytes)
//!   0  magic            8 bytes  "SHRKPYML"
//!   8  format version   u32      FORMAT_VERSION
//!  12  body length      u32      bytes after the header
//!  16  body checksum    u64      FNV-1a 64 of the body
//! body
//!      feature version  u32      FEATURE_VERSION the weights were trained with
//!      hash bits        u8       HASH_BITS
//!      version length   u8, then the version string (ASCII)
//!      threshold        f32
//!      bias             f32
//!      weight scale     f32      weight = q * scale
//!      weight count     u32
//!      weights          count x (LEB128 delta of the bucket index from the previous one
//!                                (first: from 0, then strictly increasing), i16 q != 0)
//! ```

use crate::features::{FEATURE_VERSION, HASH_BITS, LEXICAL_FEATURE_VERSION, N_BUCKETS};
use crate::ModelError;

/// Magic bytes at the start of every model file.
pub const MAGIC: &[u8; 8] = b"SHRKPYML";
/// Version of the file layout.
pub const FORMAT_VERSION: u32 = 1;
const HEADER: usize = 24;

/// FNV-1a 64-bit hash (the body checksum).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_of(bytes.iter().copied())
}

/// FNV-1a 64-bit hash of a byte sequence produced on the fly (e.g. a normalised line).
pub fn fnv1a64_of(bytes: impl IntoIterator<Item = u8>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub(crate) struct Decoded {
    pub feature_version: u32,
    pub version: String,
    pub threshold: f32,
    pub bias: f32,
    pub weights: Vec<(u32, f32)>,
}

/// Serialises a model. `weights` are (bucket, weight) pairs in any order; weights that quantise
/// to zero are dropped. The version string is `<version_prefix>-<8 hex digits of the hash of
/// threshold, bias and the quantised weights>`.
pub fn encode_model(feature_version: u32, version_prefix: &str, threshold: f32, bias: f32, weights: &[(u32, f32)]) -> Vec<u8> {
    let mut w: Vec<(u32, f32)> =
        weights.iter().copied().filter(|&(i, x)| (i as usize) < N_BUCKETS && x != 0.0 && x.is_finite()).collect();
    w.sort_by_key(|&(i, _)| i);
    w.dedup_by_key(|&mut (i, _)| i);
    let max = w.iter().fold(0f32, |m, &(_, x)| m.max(x.abs()));
    let scale = if max > 0.0 { max / 32767.0 } else { 1.0 };

    let mut tail = Vec::new();
    tail.extend_from_slice(&threshold.to_le_bytes());
    tail.extend_from_slice(&bias.to_le_bytes());
    tail.extend_from_slice(&scale.to_le_bytes());
    let count_at = tail.len();
    tail.extend_from_slice(&0u32.to_le_bytes());
    let mut prev = 0u32;
    let mut count = 0u32;
    for &(i, x) in &w {
        let q = (x / scale).round().clamp(-32767.0, 32767.0) as i16;
        if q == 0 {
            continue;
        }
        let mut delta = i - prev;
        prev = i;
        loop {
            let byte = (delta & 0x7f) as u8;
            delta >>= 7;
            if delta == 0 {
                tail.push(byte);
                break;
            }
            tail.push(byte | 0x80);
        }
        tail.extend_from_slice(&q.to_le_bytes());
        count += 1;
    }
    tail[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());

    let version = format!("{version_prefix}-{:08x}", fnv1a64(&tail) as u32);
    assert!(version.len() <= 255 && version.is_ascii(), "version string must be short ASCII");

    let mut body = Vec::with_capacity(tail.len() + 64);
    body.extend_from_slice(&feature_version.to_le_bytes());
    body.push(HASH_BITS as u8);
    body.push(version.len() as u8);
    body.extend_from_slice(version.as_bytes());
    body.extend_from_slice(&tail);

    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&fnv1a64(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ModelError> {
        if self.b.len() - self.i < n {
            return Err(ModelError::Malformed(what));
        }
        let s = &self.b[self.i..self.i + n];
        self.i += n;
        Ok(s)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, ModelError> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap()))
    }
    fn f32(&mut self, what: &'static str) -> Result<f32, ModelError> {
        let x = f32::from_le_bytes(self.take(4, what)?.try_into().unwrap());
        if !x.is_finite() {
            return Err(ModelError::Malformed(what));
        }
        Ok(x)
    }
    fn varint(&mut self) -> Result<u32, ModelError> {
        let mut v: u64 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.u8("truncated weight index")?;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return u32::try_from(v).map_err(|_| ModelError::Malformed("weight index out of range"));
            }
        }
        Err(ModelError::Malformed("weight index varint too long"))
    }
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded, ModelError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(ModelError::BadMagic);
    }
    if bytes.len() < HEADER {
        return Err(ModelError::TooShort(bytes.len(), HEADER));
    }
    let format = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    if format != FORMAT_VERSION {
        return Err(ModelError::UnsupportedFormat(format, FORMAT_VERSION));
    }
    let declared = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let body = &bytes[HEADER..];
    if declared != body.len() {
        return Err(ModelError::LengthMismatch { declared, actual: body.len() });
    }
    let expected = u64::from_le_bytes(bytes[16..24].try_into().unwrap());
    let actual = fnv1a64(body);
    if expected != actual {
        return Err(ModelError::ChecksumMismatch { expected, actual });
    }

    let mut r = Reader { b: body, i: 0 };
    let fv = r.u32("truncated feature version")?;
    if fv != LEXICAL_FEATURE_VERSION && fv != FEATURE_VERSION {
        return Err(ModelError::FeatureVersion { model: fv, build: FEATURE_VERSION });
    }
    let bits = r.u8("truncated hash bits")? as u32;
    if bits != HASH_BITS {
        return Err(ModelError::HashBits { model: bits, build: HASH_BITS });
    }
    let vlen = r.u8("truncated version length")? as usize;
    let version = std::str::from_utf8(r.take(vlen, "truncated version string")?)
        .map_err(|_| ModelError::Malformed("version string is not UTF-8"))?
        .to_string();
    let threshold = r.f32("threshold missing or not finite")?;
    if !(0.0..=1.0).contains(&threshold) {
        return Err(ModelError::Malformed("threshold outside [0, 1]"));
    }
    let bias = r.f32("bias missing or not finite")?;
    let scale = r.f32("weight scale missing or not finite")?;
    let count = r.u32("truncated weight count")? as usize;
    if count > N_BUCKETS {
        return Err(ModelError::Malformed("more weights than hash buckets"));
    }
    let mut weights = Vec::with_capacity(count);
    let mut idx: u64 = 0;
    for k in 0..count {
        let delta = r.varint()? as u64;
        if k > 0 && delta == 0 {
            return Err(ModelError::Malformed("weight indices not strictly increasing"));
        }
        idx += delta;
        if idx >= N_BUCKETS as u64 {
            return Err(ModelError::Malformed("weight index out of range"));
        }
        let q = i16::from_le_bytes(r.take(2, "truncated weight")?.try_into().unwrap());
        if q == 0 {
            return Err(ModelError::Malformed("zero weight stored"));
        }
        weights.push((idx as u32, q as f32 * scale));
    }
    if r.i != body.len() {
        return Err(ModelError::Malformed("trailing bytes after the weights"));
    }
    Ok(Decoded { feature_version: fv, version, threshold, bias, weights })
}
