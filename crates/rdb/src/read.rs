//! Reading objects in Redis's RDB layout into Vireo values.
//!
//! Every reader returns None for anything malformed. Counts read from the payload are
//! never trusted for allocation: each element takes at least one byte, so a count larger
//! than the bytes left is refused before anything is reserved.

use crate::types;
use crate::ziplist::{self, Entry};
use std::collections::HashSet;
use vireo_store::hash::{self, Hash};
use vireo_store::list::{End, List, ListConfig, RdbNode};
use vireo_store::listpack::{Listpack, LpValue};
use vireo_store::lzf;
use vireo_store::num::parse_i64;
use vireo_store::set::{Set, SetLimits};
use vireo_store::zset::{self, ZSet};
use vireo_store::{intset::Intset, Value};

/// The encoding thresholds a loaded value is converted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadConfig {
    pub list: ListConfig,
    pub hash: hash::Limits,
    pub set: SetLimits,
    pub zset: zset::Limits,
}

impl Default for LoadConfig {
    /// Redis's default thresholds.
    fn default() -> Self {
        LoadConfig {
            list: ListConfig::default(),
            hash: hash::Limits::default(),
            set: SetLimits::default(),
            zset: zset::Limits {
                max_entries: 128,
                max_value: 64,
            },
        }
    }
}

/// The most an LZF stream can expand: a 3-byte back-reference copies at most 264 bytes.
const LZF_MAX_RATIO: usize = 88;

/// Reads one object (type byte and value) from `bytes`.
pub fn load_object(bytes: &[u8], config: &LoadConfig) -> Option<Value> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let ty = r.byte()?;
    let value = match ty {
        types::STRING => Value::string(&r.string()?),
        types::LIST => build_list(config, r.strings()?)?,
        types::LIST_ZIPLIST => {
            let blob = r.string()?;
            build_list(config, entries_to_vecs(ziplist::ziplist_entries(&blob)?))?
        }
        types::LIST_QUICKLIST => {
            let count = r.count()?;
            let mut elements = Vec::new();
            for _ in 0..count {
                let blob = r.string()?;
                elements.extend(entries_to_vecs(ziplist::ziplist_entries(&blob)?));
            }
            build_list(config, elements)?
        }
        types::LIST_QUICKLIST_2 => r.quicklist(config)?,
        types::SET => build_set(&config.set, r.strings()?)?,
        types::SET_INTSET => {
            let is = Intset::from_blob(&r.string()?).ok()?;
            if is.is_empty() {
                return None;
            }
            let over = is.len() > config.set.intset_entries;
            let mut s = Set::from_intset(is);
            if over {
                s.convert_to_hashtable(s.len());
            }
            Value::set(s)
        }
        types::SET_LISTPACK => {
            let lp = Listpack::from_bytes(r.string()?).ok()?;
            if lp.is_empty() || !distinct(lp.iter()) {
                return None;
            }
            if !canonical(&lp) {
                return build_set(&config.set, lp.iter().map(|v| v.to_vec()).collect());
            }
            let over = lp.len() > config.set.listpack_entries;
            let mut s = Set::from_listpack(lp);
            if over {
                s.convert_to_hashtable(s.len());
            }
            Value::set(s)
        }
        types::ZSET | types::ZSET_2 => {
            let count = r.count()?;
            let mut pairs = Vec::with_capacity(count);
            for _ in 0..count {
                let member = r.string()?;
                let score = if ty == types::ZSET {
                    r.text_double()?
                } else {
                    f64::from_le_bytes(r.take(8)?.try_into().ok()?)
                };
                pairs.push((member, score));
            }
            build_zset(&config.zset, pairs)?
        }
        types::ZSET_ZIPLIST => {
            let blob = r.string()?;
            let entries = ziplist::ziplist_entries(&blob)?;
            build_zset(
                &config.zset,
                zset_pairs(entries.into_iter().map(ZEntry::Zl))?,
            )?
        }
        types::ZSET_LISTPACK => r.zset_listpack(&config.zset)?,
        types::HASH => {
            let count = r.count()?;
            let mut pairs = Vec::with_capacity(count);
            for _ in 0..count {
                pairs.push((r.string()?, r.string()?, None));
            }
            build_hash(&config.hash, pairs)?
        }
        types::HASH_ZIPMAP => {
            let blob = r.string()?;
            let pairs = ziplist::zipmap_pairs(&blob)?;
            build_hash(
                &config.hash,
                pairs
                    .into_iter()
                    .map(|(f, v)| (f.to_vec(), v.to_vec(), None))
                    .collect(),
            )?
        }
        types::HASH_ZIPLIST => {
            let blob = r.string()?;
            let entries = entries_to_vecs(ziplist::ziplist_entries(&blob)?);
            build_hash(&config.hash, in_pairs(entries)?)?
        }
        types::HASH_LISTPACK => r.hash_listpack(&config.hash)?,
        types::HASH_METADATA => {
            let min = r.ms_time()?;
            let count = r.count()?;
            let mut pairs = Vec::with_capacity(count);
            for _ in 0..count {
                let ttl = r.len()?;
                let at = match ttl {
                    0 => None,
                    t => Some(field_expiry(min.checked_add(i64::try_from(t - 1).ok()?)?)?),
                };
                pairs.push((r.string()?, r.string()?, at));
            }
            build_hash(&config.hash, pairs)?
        }
        types::HASH_LISTPACK_EX => {
            r.ms_time()?;
            let lp = Listpack::from_bytes(r.string()?).ok()?;
            let items: Vec<LpValue<'_>> = lp.iter().collect();
            if !items.len().is_multiple_of(3) {
                return None;
            }
            let mut pairs = Vec::with_capacity(items.len() / 3);
            for t in items.chunks_exact(3) {
                let at = match t[2] {
                    LpValue::Int(0) => None,
                    LpValue::Int(at) => Some(field_expiry(at)?),
                    _ => return None,
                };
                pairs.push((t[0].to_vec(), t[1].to_vec(), at));
            }
            build_hash(&config.hash, pairs)?
        }
        _ => return None,
    };
    Some(value)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let bytes = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(bytes)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    /// A length, or (as `Err`) the kind of a specially encoded string.
    fn len_or_encoding(&mut self) -> Option<Result<u64, u8>> {
        let first = self.byte()?;
        Some(Ok(match first >> 6 {
            0 => (first & 0x3F) as u64,
            1 => ((first & 0x3F) as u64) << 8 | self.byte()? as u64,
            2 => match first {
                0x80 => u32::from_be_bytes(self.take(4)?.try_into().ok()?) as u64,
                0x81 => u64::from_be_bytes(self.take(8)?.try_into().ok()?),
                _ => return None,
            },
            _ => return Some(Err(first & 0x3F)),
        }))
    }

    fn len(&mut self) -> Option<u64> {
        self.len_or_encoding()?.ok()
    }

    /// A length as a byte count: no larger than what is left.
    fn size(&mut self) -> Option<usize> {
        let n = usize::try_from(self.len()?).ok()?;
        (n <= self.remaining()).then_some(n)
    }

    /// A count of elements that follow, each taking at least one byte.
    fn count(&mut self) -> Option<usize> {
        self.size()
    }

    fn string(&mut self) -> Option<Vec<u8>> {
        let kind = match self.len_or_encoding()? {
            Ok(len) => {
                let len = usize::try_from(len).ok()?;
                return Some(self.take(len)?.to_vec());
            }
            Err(kind) => kind,
        };
        let n = match kind {
            0 => self.take(1)?[0] as i8 as i64,
            1 => i16::from_le_bytes(self.take(2)?.try_into().ok()?) as i64,
            2 => i32::from_le_bytes(self.take(4)?.try_into().ok()?) as i64,
            3 => {
                let packed_len = self.size()?;
                let len = usize::try_from(self.len()?).ok()?;
                if len > packed_len.saturating_mul(LZF_MAX_RATIO) {
                    return None;
                }
                let packed = self.take(packed_len)?;
                return lzf::decompress(packed, len);
            }
            _ => return None,
        };
        Some(itoa::Buffer::new().format(n).as_bytes().to_vec())
    }

    fn strings(&mut self) -> Option<Vec<Vec<u8>>> {
        let count = self.count()?;
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            out.push(self.string()?);
        }
        Some(out)
    }

    /// A score in the old text form: a length byte (253 NaN, 254 +inf, 255 -inf) and
    /// the decimal digits.
    fn text_double(&mut self) -> Option<f64> {
        match self.byte()? {
            253 => None,
            254 => Some(f64::INFINITY),
            255 => Some(f64::NEG_INFINITY),
            len => parse_score(self.take(len as usize)?),
        }
    }

    fn ms_time(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn quicklist(&mut self, config: &LoadConfig) -> Option<Value> {
        let count = self.count()?;
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            let container = self.len()?;
            let blob = self.string()?;
            nodes.push(match container {
                1 if !blob.is_empty() => RdbNode::Plain(blob.into()),
                2 => RdbNode::Packed(std::borrow::Cow::Owned(Listpack::from_bytes(blob).ok()?)),
                _ => return None,
            });
        }
        List::from_nodes(&config.list, nodes).map(Value::list)
    }

    fn hash_listpack(&mut self, limits: &hash::Limits) -> Option<Value> {
        let lp = Listpack::from_bytes(self.string()?).ok()?;
        let n = lp.len();
        if n == 0 || !n.is_multiple_of(2) || !distinct(lp.iter().step_by(2)) {
            return None;
        }
        let longest = lp.iter().map(|v| v.to_vec().len()).max().unwrap_or(0);
        if n / 2 <= limits.max_listpack_entries
            && longest <= limits.max_listpack_value
            && canonical(&lp)
        {
            return Some(Value::hash(Hash::from_listpack(lp)));
        }
        let entries: Vec<Vec<u8>> = lp.iter().map(|v| v.to_vec()).collect();
        build_hash(limits, in_pairs(entries)?)
    }

    fn zset_listpack(&mut self, limits: &zset::Limits) -> Option<Value> {
        let lp = Listpack::from_bytes(self.string()?).ok()?;
        let n = lp.len();
        if n == 0 || !n.is_multiple_of(2) {
            return None;
        }
        let pairs = zset_pairs(lp.iter().map(ZEntry::Lp))?;
        let ordered = pairs
            .windows(2)
            .all(|w| (w[0].1, &w[0].0) < (w[1].1, &w[1].0));
        let longest = pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        if ordered
            && pairs.len() <= limits.max_entries
            && longest <= limits.max_value
            && canonical(&lp)
        {
            return Some(Value::zset(ZSet::from_listpack(lp)));
        }
        build_zset(limits, pairs)
    }
}

/// A field expiry time as Redis 7.4 accepts it: positive and within 48 bits.
fn field_expiry(at: i64) -> Option<i64> {
    (1..=(1 << 48) - 1).contains(&at).then_some(at)
}

fn entries_to_vecs(entries: Vec<Entry<'_>>) -> Vec<Vec<u8>> {
    entries.into_iter().map(Entry::to_vec).collect()
}

fn in_pairs(entries: Vec<Vec<u8>>) -> Option<Vec<HashPair>> {
    if !entries.len().is_multiple_of(2) {
        return None;
    }
    let mut it = entries.into_iter();
    let mut pairs = Vec::with_capacity(it.len() / 2);
    while let (Some(f), Some(v)) = (it.next(), it.next()) {
        pairs.push((f, v, None));
    }
    Some(pairs)
}

/// Whether no two entries are equal (compared as bytes, integers as their digits).
fn distinct<'a>(entries: impl Iterator<Item = LpValue<'a>>) -> bool {
    let mut seen = HashSet::new();
    entries.into_iter().all(|v| seen.insert(v.to_vec()))
}

/// Whether every string entry that is a canonical integer is stored as an integer, as
/// Vireo's listpacks always store them (lookups rely on it).
fn canonical(lp: &Listpack) -> bool {
    lp.iter().all(|v| match v {
        LpValue::Str(s) => s.len() > 20 || parse_i64(s).is_none(),
        LpValue::Int(_) => true,
    })
}

fn parse_score(text: &[u8]) -> Option<f64> {
    let score: f64 = std::str::from_utf8(text).ok()?.trim().parse().ok()?;
    (!score.is_nan()).then_some(score)
}

/// A sorted-set entry from a ziplist or a listpack.
enum ZEntry<'a> {
    Zl(Entry<'a>),
    Lp(LpValue<'a>),
}

impl ZEntry<'_> {
    fn to_vec(&self) -> Vec<u8> {
        match self {
            ZEntry::Zl(e) => e.to_vec(),
            ZEntry::Lp(v) => v.to_vec(),
        }
    }

    fn score(&self) -> Option<f64> {
        match self {
            ZEntry::Zl(Entry::Int(n)) | ZEntry::Lp(LpValue::Int(n)) => Some(*n as f64),
            ZEntry::Zl(Entry::Str(s)) | ZEntry::Lp(LpValue::Str(s)) => parse_score(s),
        }
    }
}

fn zset_pairs<'a>(mut entries: impl Iterator<Item = ZEntry<'a>>) -> Option<Vec<(Vec<u8>, f64)>> {
    let mut pairs = Vec::new();
    while let Some(member) = entries.next() {
        let score = entries.next()?.score()?;
        pairs.push((member.to_vec(), score));
    }
    Some(pairs)
}

fn build_list(config: &LoadConfig, elements: Vec<Vec<u8>>) -> Option<Value> {
    if elements.is_empty() {
        return None;
    }
    let mut l = List::new();
    for e in elements {
        l.reserve_for(&config.list, e.len(), 1);
        l.push(End::Tail, &e);
    }
    Some(Value::list(l))
}

fn build_set(limits: &SetLimits, members: Vec<Vec<u8>>) -> Option<Value> {
    let first = members.first()?;
    let mut s = Set::for_members(first, members.len(), limits);
    for m in &members {
        if !s.add(m, limits) {
            return None;
        }
    }
    Some(Value::set(s))
}

fn build_zset(limits: &zset::Limits, pairs: Vec<(Vec<u8>, f64)>) -> Option<Value> {
    if pairs.is_empty() {
        return None;
    }
    let longest = pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
    let mut z = ZSet::with_hint(pairs.len(), longest, *limits);
    for (member, score) in &pairs {
        if score.is_nan() || !z.insert(member, *score, *limits) {
            return None;
        }
    }
    Some(Value::zset(z))
}

type HashPair = (Vec<u8>, Vec<u8>, Option<i64>);

fn build_hash(limits: &hash::Limits, pairs: Vec<HashPair>) -> Option<Value> {
    if pairs.is_empty() {
        return None;
    }
    let longest = pairs
        .iter()
        .map(|(f, v, _)| f.len().max(v.len()))
        .max()
        .unwrap_or(0);
    let bytes = pairs.iter().map(|(f, v, _)| f.len() + v.len()).sum();
    let mut h = Hash::new();
    h.prepare_write(pairs.len(), longest, bytes, *limits);
    for (field, value, at) in &pairs {
        if !h.set(field, value, *limits) {
            return None;
        }
        if let Some(at) = at {
            h.start_field_expiry();
            h.set_field_expiry(field, *at);
        }
    }
    Some(Value::hash(h))
}
