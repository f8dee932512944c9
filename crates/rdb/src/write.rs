//! Writing objects in Redis's RDB layout (see the crate docs for what is byte-identical).

use crate::{types, DumpOptions, RDB_VERSION, RDB_VERSION_HASH_TTL};
use vireo_store::hash::{FieldExpiry, Hash};
use vireo_store::list::{List, RdbNode};
use vireo_store::listpack::{Listpack, LpValue};
use vireo_store::lzf;
use vireo_store::num::parse_i64;
use vireo_store::set::Set;
use vireo_store::zset::ZSet;
use vireo_store::Value;

/// Quicklist node containers.
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;
/// The first byte of an encoded string: two high bits set, then the kind.
const ENC_INT8: u8 = 0xC0;
const ENC_INT16: u8 = 0xC1;
const ENC_INT32: u8 = 0xC2;
const ENC_LZF: u8 = 0xC3;

/// Appends `value`'s type byte and object to `out`; returns the RDB version the object
/// needs.
pub fn write_object(value: &Value, options: DumpOptions, out: &mut Vec<u8>) -> u16 {
    let type_at = out.len();
    out.push(0);
    let mut w = Writer {
        out,
        compress: options.compress,
    };
    let (ty, version) = match value {
        Value::Int { n, .. } => {
            w.string(itoa::Buffer::new().format(*n).as_bytes());
            (types::STRING, RDB_VERSION)
        }
        Value::Str { s, .. } => {
            w.string(s.as_slice());
            (types::STRING, RDB_VERSION)
        }
        Value::Raw { v, .. } => {
            w.string(v);
            (types::STRING, RDB_VERSION)
        }
        Value::List { l, .. } => (w.list(l), RDB_VERSION),
        Value::Hash { h, .. } => w.hash(h, options.now_ms),
        Value::Set { s, .. } => (w.set(s), RDB_VERSION),
        Value::ZSet { z, .. } => (w.zset(z), RDB_VERSION),
    };
    w.out[type_at] = ty;
    version
}

/// What DEBUG OBJECT reports as `serializedlength`: the object's bytes in an RDB file,
/// without its type byte (Redis's rdbSavedObjectLen).
pub fn serialized_length(value: &Value, options: DumpOptions) -> usize {
    let mut out = Vec::new();
    write_object(value, options, &mut out);
    out.len() - 1
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    compress: bool,
}

impl Writer<'_> {
    /// A length: 6 bits in one byte, 14 bits in two, else a marker and 32 or 64 bits,
    /// big-endian.
    fn len(&mut self, n: u64) {
        if n < 1 << 6 {
            self.out.push(n as u8);
        } else if n < 1 << 14 {
            self.out.push(0x40 | (n >> 8) as u8);
            self.out.push(n as u8);
        } else if n <= u32::MAX as u64 {
            self.out.push(0x80);
            self.out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            self.out.push(0x81);
            self.out.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// A string as Redis's rdbSaveRawString writes it: a canonical integer of up to 11
    /// characters that fits 32 bits as an integer, a string over 20 bytes LZF-compressed
    /// if it then saves at least 4 bytes, else length and bytes.
    fn string(&mut self, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(n) = parse_i64(s) {
                if self.small_int(n) {
                    return;
                }
            }
        }
        if self.compress && s.len() > 20 {
            if let Some(packed) = lzf::compress(s, s.len() - 4) {
                self.lzf_blob(&packed, s.len());
                return;
            }
        }
        self.len(s.len() as u64);
        self.out.extend_from_slice(s);
    }

    /// An LZF-compressed string of `len` bytes.
    fn lzf_blob(&mut self, packed: &[u8], len: usize) {
        self.out.push(ENC_LZF);
        self.len(packed.len() as u64);
        self.len(len as u64);
        self.out.extend_from_slice(packed);
    }

    /// An integer in 1, 2 or 4 bytes; false if it needs more.
    fn small_int(&mut self, n: i64) -> bool {
        if let Ok(b) = i8::try_from(n) {
            self.out.extend_from_slice(&[ENC_INT8, b as u8]);
        } else if let Ok(h) = i16::try_from(n) {
            self.out.push(ENC_INT16);
            self.out.extend_from_slice(&h.to_le_bytes());
        } else if let Ok(w) = i32::try_from(n) {
            self.out.push(ENC_INT32);
            self.out.extend_from_slice(&w.to_le_bytes());
        } else {
            return false;
        }
        true
    }

    fn entry(&mut self, v: LpValue<'_>) {
        let mut digits = itoa::Buffer::new();
        self.string(v.as_bytes(&mut digits));
    }

    /// Lists are quicklists of nodes in RDB 10, a listpack-encoded list one node.
    fn list(&mut self, l: &List) -> u8 {
        let mut body = Vec::new();
        let mut nodes = 0u64;
        let mut w = Writer {
            out: &mut body,
            compress: self.compress,
        };
        l.for_each_node(|node| {
            nodes += 1;
            match node {
                RdbNode::Packed(lp) => {
                    w.len(CONTAINER_PACKED);
                    w.string(lp.as_bytes());
                }
                RdbNode::Plain(element) => {
                    w.len(CONTAINER_PLAIN);
                    w.string(&element);
                }
                RdbNode::Compressed { lzf, sz } => {
                    w.len(CONTAINER_PACKED);
                    w.lzf_blob(lzf, sz);
                }
            }
        });
        self.len(nodes);
        self.out.extend_from_slice(&body);
        types::LIST_QUICKLIST_2
    }

    fn set(&mut self, s: &Set) -> u8 {
        if let Some(is) = s.as_intset() {
            self.string(&is.to_blob());
            return types::SET_INTSET;
        }
        self.len(s.len() as u64);
        for member in s.iter() {
            self.entry(member);
        }
        types::SET
    }

    fn zset(&mut self, z: &ZSet) -> u8 {
        if let Some(lp) = z.as_listpack() {
            self.string(lp.as_bytes());
            return types::ZSET_LISTPACK;
        }
        self.len(z.len() as u64);
        if let Some(last) = z.len().checked_sub(1) {
            for (member, score) in z.iter_from(last, true) {
                self.entry(member);
                self.out.extend_from_slice(&score.to_le_bytes());
            }
        }
        types::ZSET_2
    }

    /// A hash whose visible fields have TTLs is Redis 7.4's hash with metadata (version
    /// 12); otherwise its listpack as it is (when no field past its TTL lingers in it),
    /// or its visible pairs.
    fn hash(&mut self, h: &Hash, now: i64) -> (u8, u16) {
        let mut digits = itoa::Buffer::new();
        let expiry_of = |field: LpValue<'_>, digits: &mut itoa::Buffer| match h
            .field_expiry(field.as_bytes(digits), now)
        {
            FieldExpiry::At(at) => Some(at),
            _ => None,
        };
        let min_expire = if h.has_field_ttls() {
            h.iter(now)
                .filter_map(|(f, _)| expiry_of(f, &mut digits))
                .min()
        } else {
            None
        };
        if let Some(min) = min_expire {
            self.out.extend_from_slice(&min.to_le_bytes());
            self.len(h.live_len(now) as u64);
            for (field, value) in h.iter(now) {
                let ttl = expiry_of(field, &mut digits).map_or(0, |at| (at - min) as u64 + 1);
                self.len(ttl);
                self.entry(field);
                self.entry(value);
            }
            return (types::HASH_METADATA, RDB_VERSION_HASH_TTL);
        }
        if let Some(lp) = h.as_listpack() {
            if h.live_len(now) == h.len() {
                self.string(lp.as_bytes());
            } else {
                let mut visible = Listpack::new();
                for (field, value) in h.iter(now) {
                    visible.push_back(field.as_bytes(&mut itoa::Buffer::new()));
                    visible.push_back(value.as_bytes(&mut itoa::Buffer::new()));
                }
                self.string(visible.as_bytes());
            }
            return (types::HASH_LISTPACK, RDB_VERSION);
        }
        self.len(h.live_len(now) as u64);
        for (field, value) in h.iter(now) {
            self.entry(field);
            self.entry(value);
        }
        (types::HASH, RDB_VERSION)
    }
}
