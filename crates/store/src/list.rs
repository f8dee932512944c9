//! The list type, in Redis 7.2's two encodings.
//!
//! A small list is one listpack ("listpack"). A list that outgrows `list-max-listpack-size`
//! becomes a quicklist ("quicklist"): a sequence of listpack nodes, each bounded by the same
//! rule — a positive value caps the entries per node, -1..-5 cap a node's bytes at 4, 8, 16,
//! 32 or 64 KB. An element too large for any node lives alone in a "plain" node, which never
//! takes more elements and never merges. With `list-compress-depth` N > 0, every node more
//! than N nodes away from both ends is kept LZF-compressed (when it is at least 48 bytes and
//! compressing saves at least 8), and is decompressed while an operation works on it: the
//! ends, where pushes and pops happen, are always plain listpacks.
//!
//! The encoding changes when Redis changes it: before elements are added, a listpack that
//! would exceed the limit (its bytes plus the new elements' lengths, or its count plus the
//! new count) becomes a quicklist ([`List::reserve_for`]); after elements are removed or
//! replaced, a quicklist reduced to one node within *half* the limit becomes a listpack
//! again ([`List::shrink_encoding`]) — the margin keeps a list near the threshold from
//! converting back and forth. A quicklist keeps the node limit and depth it was created
//! with, as in Redis; the conversions read the current configuration.
//!
//! Node layout follows Redis's rules (push into the end node while it has room, else start
//! a new node; an insertion into a full node splits it and then merges neighbours that fit
//! together), so the encoding reported for a list matches Redis's after the same commands.
//!
//! Values are handed to callers as [`LpValue`]s borrowed from the listpack (integers stay
//! integers), through callbacks, so replies can be written without copying elements.

use crate::listpack::{Listpack, LpValue};
use crate::lzf;
use crate::num::parse_i64;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::ops::ControlFlow;

/// Node byte limits for `list-max-listpack-size` -1..-5.
const SIZE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// With a count limit, nodes still stay under this many bytes.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// What one more entry is assumed to add to a node beyond the element's length.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Listpack header and terminator: what merging two listpacks saves.
const LISTPACK_OVERHEAD: usize = 7;
/// Nodes smaller than this are not worth compressing.
const MIN_COMPRESS_BYTES: usize = 48;
/// Compression must save at least this many bytes to be kept.
const MIN_COMPRESS_IMPROVE: usize = 8;
/// A quicklist's entry limit and compress depth are clamped as Redis clamps them.
const FILL_MAX: i32 = (1 << 15) - 1;
const COMPRESS_MAX: usize = (1 << 16) - 1;

/// The configuration a list's encoding follows (`list-max-listpack-size`,
/// `list-compress-depth`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListConfig {
    pub fill: i32,
    pub compress_depth: usize,
}

impl Default for ListConfig {
    fn default() -> Self {
        ListConfig {
            fill: -2,
            compress_depth: 0,
        }
    }
}

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

/// A node (or small list) limit as `list-max-listpack-size` defines it.
#[derive(Clone, Copy, Debug)]
enum Limit {
    Bytes(usize),
    Count(usize),
}

impl Limit {
    fn of(fill: i32) -> Limit {
        if fill >= 0 {
            Limit::Count((fill as usize).max(1))
        } else {
            let level = (-(fill as i64) - 1).min(4) as usize;
            Limit::Bytes(SIZE_LEVELS[level])
        }
    }

    fn exceeded(self, bytes: usize, count: usize) -> bool {
        match self {
            Limit::Bytes(max) => bytes > max,
            Limit::Count(max) => bytes > SIZE_SAFETY_LIMIT || count > max,
        }
    }

    /// Whether a one-node quicklist is small enough to become a listpack again.
    fn within_half(self, bytes: usize, count: usize) -> bool {
        match self {
            Limit::Bytes(max) => bytes <= max / 2,
            Limit::Count(max) => count <= max / 2,
        }
    }

    /// An element that gets a plain node of its own.
    fn is_large(self, len: usize) -> bool {
        match self {
            Limit::Bytes(max) => len > max,
            Limit::Count(_) => len > SIZE_SAFETY_LIMIT,
        }
    }
}

/// An element to look for, compared as a listpack compares: integer entries with the
/// needle's integer value (if it is a canonical integer), string entries byte for byte.
struct Needle<'a> {
    bytes: &'a [u8],
    int: Option<i64>,
}

impl<'a> Needle<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let int = if bytes.len() <= 20 {
            parse_i64(bytes)
        } else {
            None
        };
        Needle { bytes, int }
    }

    fn matches(&self, v: LpValue<'_>) -> bool {
        match v {
            LpValue::Str(s) => s == self.bytes,
            LpValue::Int(n) => self.int == Some(n),
        }
    }
}

/// One quicklist node as RDB carries it.
#[derive(Clone, Debug)]
pub enum RdbNode<'a> {
    /// A listpack of elements.
    Packed(Cow<'a, Listpack>),
    /// A listpack kept LZF-compressed (`sz` bytes uncompressed); only handed out.
    Compressed { lzf: &'a [u8], sz: usize },
    /// One element too large to share a node.
    Plain(Cow<'a, [u8]>),
}

/// What DEBUG OBJECT shows of a quicklist (its `ql_*` fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuicklistInfo {
    pub nodes: usize,
    /// Elements in all nodes.
    pub count: usize,
    /// The node limit it was created with (`list-max-listpack-size`).
    pub fill: i32,
    pub compress_depth: usize,
    /// The nodes' sizes before compression: listpack bytes, or a plain node's element.
    pub uncompressed_size: usize,
}

/// A list value.
#[derive(Clone, Debug)]
pub struct List {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    Listpack(Listpack),
    Quicklist(Quicklist),
}

impl Default for List {
    fn default() -> Self {
        Self::new()
    }
}

impl List {
    /// An empty list (a listpack).
    pub fn new() -> Self {
        List {
            repr: Repr::Listpack(Listpack::new()),
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.len(),
            Repr::Quicklist(ql) => ql.count,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Quicklist(_) => "quicklist",
        }
    }

    /// Heap bytes owned beyond the struct itself.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.heap_size(),
            Repr::Quicklist(ql) => ql.heap_size(),
        }
    }

    /// The shape of a quicklist, as DEBUG OBJECT reports it; None for a listpack.
    pub fn quicklist_info(&self) -> Option<QuicklistInfo> {
        let Repr::Quicklist(ql) = &self.repr else {
            return None;
        };
        let uncompressed_size = ql
            .nodes
            .iter()
            .map(|node| {
                if node.plain {
                    // A plain node's size is its element's, as Redis keeps it.
                    let lp = node.lp();
                    let mut digits = itoa::Buffer::new();
                    lp.first()
                        .map_or(0, |p| lp.get(p).as_bytes(&mut digits).len())
                } else {
                    node.sz
                }
            })
            .sum();
        Some(QuicklistInfo {
            nodes: ql.nodes.len(),
            count: ql.count,
            fill: ql.fill,
            compress_depth: ql.depth,
            uncompressed_size,
        })
    }

    /// The list as RDB's quicklist carries it: each node's listpack (LZF-compressed as it
    /// is kept, for nodes beyond `list-compress-depth`), or the element of a plain node
    /// (a listpack-encoded list is one node).
    pub fn for_each_node(&self, mut visit: impl FnMut(RdbNode<'_>)) {
        match &self.repr {
            Repr::Listpack(lp) => visit(RdbNode::Packed(Cow::Borrowed(lp))),
            Repr::Quicklist(ql) => {
                for node in &ql.nodes {
                    match &node.data {
                        NodeData::Lzf(packed) if !node.plain => visit(RdbNode::Compressed {
                            lzf: packed,
                            sz: node.sz,
                        }),
                        _ if node.plain => {
                            let lp = node.lp();
                            let element = lp.first().map(|p| lp.get(p).to_vec());
                            visit(RdbNode::Plain(Cow::Owned(element.unwrap_or_default())));
                        }
                        _ => visit(RdbNode::Packed(node.lp())),
                    }
                }
            }
        }
    }

    /// Nodes as RDB's quicklist carries them (empty listpacks are skipped), kept as they
    /// are, then the encoding Redis 7.2 picks on load: a single packed node within the
    /// configured limit becomes a listpack. None when no element is left.
    pub fn from_nodes(config: &ListConfig, nodes: Vec<RdbNode<'static>>) -> Option<List> {
        let mut ql = Quicklist::new(config);
        for node in nodes {
            let node = match node {
                RdbNode::Packed(lp) if lp.is_empty() => continue,
                RdbNode::Packed(lp) => Node::packed(lp.into_owned()),
                RdbNode::Plain(element) => Node::single(&element, true),
                RdbNode::Compressed { lzf, sz } => {
                    let raw = lzf::decompress(lzf, sz)?;
                    Node::packed(Listpack::from_bytes(raw).ok()?)
                }
            };
            ql.count += node.count;
            ql.nodes.push_back(node);
        }
        if ql.count == 0 {
            return None;
        }
        if ql.nodes.len() == 1 {
            let node = &ql.nodes[0];
            if !node.plain && !Limit::of(config.fill).exceeded(node.sz, node.count) {
                let mut node = ql.nodes.pop_front().expect("one node");
                return Some(List {
                    repr: Repr::Listpack(std::mem::take(node.lp_mut())),
                });
            }
        }
        for i in 0..ql.nodes.len() {
            ql.settle(i);
        }
        Some(List {
            repr: Repr::Quicklist(ql),
        })
    }

    /// Before adding `count` elements of `bytes` total length: a listpack that would exceed
    /// the configured limit becomes a quicklist.
    pub fn reserve_for(&mut self, config: &ListConfig, bytes: usize, count: usize) {
        let Repr::Listpack(lp) = &mut self.repr else {
            return;
        };
        let total = lp.total_bytes().saturating_add(bytes);
        if !Limit::of(config.fill).exceeded(total, lp.len().saturating_add(count)) {
            return;
        }
        let lp = std::mem::take(lp);
        let mut ql = Quicklist::new(config);
        if !lp.is_empty() {
            ql.count = lp.len();
            ql.nodes.push_back(Node::packed(lp));
        }
        self.repr = Repr::Quicklist(ql);
    }

    /// After removing or replacing elements: a quicklist left with one node within half
    /// the configured limit becomes a listpack.
    pub fn shrink_encoding(&mut self, config: &ListConfig) {
        let Repr::Quicklist(ql) = &mut self.repr else {
            return;
        };
        if ql.nodes.len() != 1 {
            return;
        }
        let node = &ql.nodes[0];
        if node.plain || !Limit::of(config.fill).within_half(node.sz, node.count) {
            return;
        }
        let mut node = ql.nodes.pop_front().expect("one node");
        let lp = std::mem::take(node.lp_mut());
        self.repr = Repr::Listpack(lp);
    }

    /// Adds an element at one end (call [`List::reserve_for`] first).
    pub fn push(&mut self, end: End, v: &[u8]) {
        match &mut self.repr {
            Repr::Listpack(lp) => match end {
                End::Head => lp.push_front(v),
                End::Tail => lp.push_back(v),
            },
            Repr::Quicklist(ql) => ql.push(end, v),
        }
    }

    /// Removes the element at one end, handing it to `f` before it goes.
    pub fn pop_with<R>(&mut self, end: End, f: impl FnOnce(LpValue<'_>) -> R) -> Option<R> {
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let pos = match end {
                    End::Head => lp.first()?,
                    End::Tail => lp.last()?,
                };
                let r = f(lp.get(pos));
                lp.delete(pos);
                Some(r)
            }
            Repr::Quicklist(ql) => ql.pop_with(end, f),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        self.pop_with(end, |v| v.to_vec())
    }

    /// The element at `index` (negative counts from the tail), handed to `f`.
    pub fn get_with<R>(&self, index: i64, f: impl FnOnce(LpValue<'_>) -> R) -> Option<R> {
        let start = self.normalize(index)?;
        let mut f = Some(f);
        let mut out = None;
        self.for_each_from(start, false, |v| {
            out = f.take().map(|f| f(v));
            ControlFlow::Break(())
        });
        out
    }

    pub fn get(&self, index: i64) -> Option<Vec<u8>> {
        self.get_with(index, |v| v.to_vec())
    }

    /// A possibly negative index as a position in `0..len`.
    fn normalize(&self, index: i64) -> Option<usize> {
        let len = self.len() as i64;
        let i = if index < 0 { len + index } else { index };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// Visits elements from position `start` towards the tail (or, with `reverse`, towards
    /// the head) until `f` breaks or the list ends.
    pub fn for_each_from(
        &self,
        start: usize,
        reverse: bool,
        mut f: impl FnMut(LpValue<'_>) -> ControlFlow<()>,
    ) {
        match &self.repr {
            Repr::Listpack(lp) => {
                let _ = walk(lp, start, reverse, &mut f);
            }
            Repr::Quicklist(ql) => ql.for_each_from(start, reverse, &mut f),
        }
    }

    /// Visits `count` elements from position `start` (towards the head with `reverse`).
    pub fn for_each_in(
        &self,
        start: usize,
        count: usize,
        reverse: bool,
        mut f: impl FnMut(LpValue<'_>),
    ) {
        let mut left = count;
        if left == 0 {
            return;
        }
        self.for_each_from(start, reverse, |v| {
            f(v);
            left -= 1;
            if left == 0 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
    }

    /// Every element, head to tail (for SORT, tests and conversions).
    pub fn to_vec(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each_from(0, false, |v| {
            out.push(v.to_vec());
            ControlFlow::Continue(())
        });
        out
    }

    /// Replaces the element at `index` (negative from the tail); false if out of range.
    /// Call [`List::reserve_for`] before and [`List::shrink_encoding`] after.
    pub fn set(&mut self, index: i64, v: &[u8]) -> bool {
        let Some(i) = self.normalize(index) else {
            return false;
        };
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let pos = lp.seek(i as i64).expect("index in range");
                lp.replace(pos, v);
            }
            Repr::Quicklist(ql) => {
                let (ni, off) = ql.locate(i);
                ql.replace_at(ni, off, v);
            }
        }
        true
    }

    /// Inserts `v` before or after the first element equal to `pivot`; false if there is
    /// none. Call [`List::reserve_for`] first.
    pub fn insert(&mut self, pivot: &[u8], v: &[u8], after: bool) -> bool {
        let needle = Needle::new(pivot);
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let mut pos = lp.first();
                while let Some(p) = pos {
                    if needle.matches(lp.get(p)) {
                        let at = if after {
                            lp.next(p).unwrap_or(lp.total_bytes() - 1)
                        } else {
                            p
                        };
                        lp.insert(at, v);
                        return true;
                    }
                    pos = lp.next(p);
                }
                false
            }
            Repr::Quicklist(ql) => match ql.find_first(&needle) {
                Some((ni, off)) => {
                    ql.insert_at(ni, off, after, v);
                    true
                }
                None => false,
            },
        }
    }

    /// Removes elements equal to `v`, scanning from the head (or the tail), at most
    /// `limit` of them (0: all); returns how many went.
    pub fn remove(&mut self, v: &[u8], from_tail: bool, limit: usize) -> usize {
        let needle = Needle::new(v);
        let limit = if limit == 0 { usize::MAX } else { limit };
        match &mut self.repr {
            Repr::Listpack(lp) => remove_matching(lp, &needle, from_tail, limit),
            Repr::Quicklist(ql) => ql.remove_matching(&needle, from_tail, limit),
        }
    }

    /// Deletes `count` elements from position `start` (fewer if the list ends first).
    pub fn delete_range(&mut self, start: usize, count: usize) {
        let count = count.min(self.len().saturating_sub(start));
        if count == 0 {
            return;
        }
        match &mut self.repr {
            Repr::Listpack(lp) => lp.delete_range(start, count),
            Repr::Quicklist(ql) => ql.delete_range(start, count),
        }
    }

    /// LTRIM: keeps the elements from `start` to `end` inclusive (negative indexes count
    /// from the tail; an empty range empties the list). Returns how many were removed.
    pub fn trim(&mut self, start: i64, end: i64) -> usize {
        let len = self.len() as i64;
        let start = if start < 0 {
            (len + start).max(0)
        } else {
            start
        };
        let end = if end < 0 { len + end } else { end };
        let (left, right) = if start > end || start >= len {
            (len, 0)
        } else {
            (start, len - end.min(len - 1) - 1)
        };
        self.delete_range(0, left as usize);
        let rest = self.len();
        self.delete_range(rest - right as usize, right as usize);
        (left + right) as usize
    }

    /// Visits the positions of elements equal to `v`, in scan order from the head (or
    /// the tail), looking at no more than `maxlen` elements (0: all), until `f` breaks.
    pub fn positions(
        &self,
        v: &[u8],
        from_tail: bool,
        maxlen: usize,
        mut f: impl FnMut(usize) -> ControlFlow<()>,
    ) {
        let needle = Needle::new(v);
        let len = self.len();
        if len == 0 {
            return;
        }
        let maxlen = if maxlen == 0 { usize::MAX } else { maxlen };
        let mut scanned = 0;
        let start = if from_tail { len - 1 } else { 0 };
        self.for_each_from(start, from_tail, |value| {
            if scanned == maxlen {
                return ControlFlow::Break(());
            }
            let index = if from_tail {
                len - 1 - scanned
            } else {
                scanned
            };
            scanned += 1;
            if needle.matches(value) {
                f(index)?;
            }
            ControlFlow::Continue(())
        });
    }
}

/// Walks a listpack from entry `start` in either direction.
fn walk(
    lp: &Listpack,
    start: usize,
    reverse: bool,
    f: &mut impl FnMut(LpValue<'_>) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let mut pos = lp.seek(start as i64);
    while let Some(p) = pos {
        f(lp.get(p))?;
        pos = if reverse { lp.prev(p) } else { lp.next(p) };
    }
    ControlFlow::Continue(())
}

/// Deletes up to `limit` entries matching `needle` from a listpack, scanning from either
/// end; returns how many it deleted.
fn remove_matching(lp: &mut Listpack, needle: &Needle<'_>, from_tail: bool, limit: usize) -> usize {
    let mut removed = 0;
    if from_tail {
        let mut pos = lp.last();
        while let Some(p) = pos {
            if removed == limit {
                break;
            }
            // Entries before `p` keep their offsets when `p` is deleted.
            let prev = lp.prev(p);
            if needle.matches(lp.get(p)) {
                lp.delete(p);
                removed += 1;
            }
            pos = prev;
        }
    } else {
        let mut pos = lp.first();
        while let Some(p) = pos {
            if removed == limit {
                break;
            }
            if needle.matches(lp.get(p)) {
                pos = lp.delete(p);
                removed += 1;
            } else {
                pos = lp.next(p);
            }
        }
    }
    removed
}

/// A listpack made of already-encoded entries (a slice of another listpack's entries).
fn listpack_of_entries(entries: &[&[u8]], count: usize) -> Listpack {
    let body: usize = entries.iter().map(|e| e.len()).sum();
    let total = 6 + body + 1;
    let mut buf = Vec::with_capacity(total);
    buf.extend_from_slice(&(total as u32).to_le_bytes());
    buf.extend_from_slice(&(count.min(u16::MAX as usize) as u16).to_le_bytes());
    for e in entries {
        buf.extend_from_slice(e);
    }
    buf.push(0xFF);
    Listpack::from_bytes(buf).expect("entries of a valid listpack")
}

/// The encoded entries of a listpack, without header and terminator.
fn entries_of(lp: &Listpack) -> &[u8] {
    let b = lp.as_bytes();
    &b[6..b.len() - 1]
}

/// One quicklist node: a listpack, LZF-compressed while it is deep inside the list.
#[derive(Clone, Debug)]
struct Node {
    count: usize,
    /// The listpack's size in bytes uncompressed: what the limits measure.
    sz: usize,
    /// Holds one element too large for a shared node.
    plain: bool,
    data: NodeData,
}

#[derive(Clone, Debug)]
enum NodeData {
    Packed(Listpack),
    Lzf(Box<[u8]>),
}

impl Node {
    fn packed(lp: Listpack) -> Node {
        Node {
            count: lp.len(),
            sz: lp.total_bytes(),
            plain: false,
            data: NodeData::Packed(lp),
        }
    }

    fn single(v: &[u8], plain: bool) -> Node {
        let mut lp = Listpack::new();
        lp.push_back(v);
        Node {
            plain,
            ..Node::packed(lp)
        }
    }

    /// The node's listpack, decompressed into a temporary if it is compressed.
    fn lp(&self) -> Cow<'_, Listpack> {
        match &self.data {
            NodeData::Packed(lp) => Cow::Borrowed(lp),
            NodeData::Lzf(bytes) => Cow::Owned(Self::inflate(bytes, self.sz)),
        }
    }

    fn inflate(bytes: &[u8], sz: usize) -> Listpack {
        let raw = lzf::decompress(bytes, sz).expect("a node compressed by this module");
        Listpack::from_bytes(raw).expect("a node compressed by this module")
    }

    /// The node's listpack for editing (decompressed in place); call `refresh` after.
    fn lp_mut(&mut self) -> &mut Listpack {
        if let NodeData::Lzf(bytes) = &self.data {
            self.data = NodeData::Packed(Self::inflate(bytes, self.sz));
        }
        match &mut self.data {
            NodeData::Packed(lp) => lp,
            NodeData::Lzf(_) => unreachable!("just decompressed"),
        }
    }

    fn refresh(&mut self) {
        if let NodeData::Packed(lp) = &self.data {
            self.sz = lp.total_bytes();
        }
    }

    fn compress(&mut self) {
        let NodeData::Packed(lp) = &self.data else {
            return;
        };
        if self.sz < MIN_COMPRESS_BYTES {
            return;
        }
        // Redis's rule: compress into at most the node's size, keep it if that saved more
        // than MIN_COMPRESS_IMPROVE bytes.
        if let Some(packed) = lzf::compress(lp.as_bytes(), self.sz) {
            if packed.len() + MIN_COMPRESS_IMPROVE < self.sz {
                self.data = NodeData::Lzf(packed.into_boxed_slice());
            }
        }
    }

    fn decompress(&mut self) {
        self.lp_mut();
    }

    fn heap_size(&self) -> usize {
        match &self.data {
            NodeData::Packed(lp) => lp.heap_size(),
            NodeData::Lzf(bytes) => bytes.len(),
        }
    }
}

/// The large-list encoding: listpack nodes, each within the node limit.
#[derive(Clone, Debug)]
struct Quicklist {
    nodes: VecDeque<Node>,
    /// Elements in all nodes.
    count: usize,
    /// The node limit and compress depth, fixed at creation as in Redis.
    fill: i32,
    depth: usize,
}

impl Quicklist {
    fn new(config: &ListConfig) -> Self {
        Quicklist {
            nodes: VecDeque::new(),
            count: 0,
            fill: config.fill.clamp(-5, FILL_MAX),
            depth: config.compress_depth.min(COMPRESS_MAX),
        }
    }

    fn limit(&self) -> Limit {
        Limit::of(self.fill)
    }

    fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(Node::heap_size).sum::<usize>()
    }

    fn allow_insert(&self, node: &Node, len: usize) -> bool {
        let limit = self.limit();
        !node.plain
            && !limit.is_large(len)
            && !limit.exceeded(node.sz + len + SIZE_ESTIMATE_OVERHEAD, node.count + 1)
    }

    fn allow_merge(&self, a: usize, b: usize) -> bool {
        let (a, b) = (&self.nodes[a], &self.nodes[b]);
        !a.plain
            && !b.plain
            && !self
                .limit()
                .exceeded(a.sz + b.sz - LISTPACK_OVERHEAD, a.count + b.count)
    }

    /// Whether node `i` lies deeper than the compress depth from both ends.
    fn interior(&self, i: usize) -> bool {
        self.depth > 0 && i >= self.depth && i + self.depth < self.nodes.len()
    }

    /// Compresses node `i` if it is interior (after an operation worked on it).
    fn settle(&mut self, i: usize) {
        if i < self.nodes.len() && self.interior(i) {
            self.nodes[i].compress();
        }
    }

    /// After nodes were added or removed: the nodes within the depth of either end are
    /// decompressed, and the ones just past it (which may have moved inwards) compressed.
    fn fix_compression(&mut self) {
        if self.depth == 0 {
            return;
        }
        let len = self.nodes.len();
        let edge = self.depth.min(len);
        for i in (0..edge).chain(len - edge..len) {
            self.nodes[i].decompress();
        }
        if len > 2 * self.depth {
            self.nodes[self.depth].compress();
            self.nodes[len - 1 - self.depth].compress();
        }
    }

    /// The node and offset in it of element `index` (`index < count`).
    fn locate(&self, index: usize) -> (usize, usize) {
        debug_assert!(index < self.count);
        if index < self.count / 2 {
            let mut left = index;
            for (i, node) in self.nodes.iter().enumerate() {
                if left < node.count {
                    return (i, left);
                }
                left -= node.count;
            }
        } else {
            let mut left = self.count - 1 - index;
            for (i, node) in self.nodes.iter().enumerate().rev() {
                if left < node.count {
                    return (i, node.count - 1 - left);
                }
                left -= node.count;
            }
        }
        unreachable!("index {index} within count {}", self.count)
    }

    fn insert_node(&mut self, at: usize, node: Node) {
        self.nodes.insert(at, node);
    }

    fn push(&mut self, end: End, v: &[u8]) {
        self.count += 1;
        if self.limit().is_large(v.len()) {
            let at = if end == End::Head {
                0
            } else {
                self.nodes.len()
            };
            self.insert_node(at, Node::single(v, true));
            self.fix_compression();
            return;
        }
        let edge = match end {
            End::Head => 0,
            End::Tail => self.nodes.len().wrapping_sub(1),
        };
        if let Some(node) = self.nodes.get(edge) {
            if self.allow_insert(node, v.len()) {
                self.push_into(edge, end, v);
                return;
            }
        }
        let at = if end == End::Head {
            0
        } else {
            self.nodes.len()
        };
        self.insert_node(at, Node::single(v, false));
        self.fix_compression();
    }

    fn pop_with<R>(&mut self, end: End, f: impl FnOnce(LpValue<'_>) -> R) -> Option<R> {
        let edge = match end {
            End::Head => 0,
            End::Tail => self.nodes.len().checked_sub(1)?,
        };
        let node = self.nodes.get_mut(edge)?;
        let lp = node.lp_mut();
        let pos = match end {
            End::Head => lp.first()?,
            End::Tail => lp.last()?,
        };
        let r = f(lp.get(pos));
        lp.delete(pos);
        node.count -= 1;
        node.refresh();
        self.count -= 1;
        if node.count == 0 {
            self.nodes.remove(edge);
            self.fix_compression();
        }
        Some(r)
    }

    fn for_each_from(
        &self,
        start: usize,
        reverse: bool,
        f: &mut impl FnMut(LpValue<'_>) -> ControlFlow<()>,
    ) {
        if start >= self.count {
            return;
        }
        let (mut ni, mut off) = self.locate(start);
        loop {
            let node = &self.nodes[ni];
            if walk(&node.lp(), off, reverse, f).is_break() {
                return;
            }
            if reverse {
                if ni == 0 {
                    return;
                }
                ni -= 1;
                off = self.nodes[ni].count - 1;
            } else {
                ni += 1;
                if ni == self.nodes.len() {
                    return;
                }
                off = 0;
            }
        }
    }

    /// The node and offset of the first element matching `needle`.
    fn find_first(&self, needle: &Needle<'_>) -> Option<(usize, usize)> {
        for (ni, node) in self.nodes.iter().enumerate() {
            let mut off = 0;
            let found = walk(&node.lp(), 0, false, &mut |v| {
                if needle.matches(v) {
                    return ControlFlow::Break(());
                }
                off += 1;
                ControlFlow::Continue(())
            });
            if found.is_break() {
                return Some((ni, off));
            }
        }
        None
    }

    /// Splits node `ni` at `off`: with `after`, the node keeps entries `..=off` and the
    /// returned node has the rest; otherwise the returned node has the entries before
    /// `off` and the node keeps the rest. The returned node is not yet in the list.
    fn split_node(&mut self, ni: usize, off: usize, after: bool) -> Node {
        let node = &mut self.nodes[ni];
        let count = node.count;
        let lp = node.lp_mut();
        let cut = if after { off + 1 } else { off };
        let at = lp.seek(cut as i64).unwrap_or(lp.total_bytes() - 1);
        let entries = entries_of(lp);
        let (front, back) = entries.split_at(at - 6);
        let front_lp = listpack_of_entries(&[front], cut);
        let back_lp = listpack_of_entries(&[back], count - cut);
        let (keep, give) = if after {
            (front_lp, back_lp)
        } else {
            (back_lp, front_lp)
        };
        *node = Node::packed(keep);
        Node::packed(give)
    }

    /// Joins nodes `i` and `i + 1` into node `i`.
    fn merge(&mut self, i: usize) {
        let right = self.nodes.remove(i + 1).expect("a right node");
        let left = &mut self.nodes[i];
        let count = left.count + right.count;
        let joined = listpack_of_entries(&[entries_of(&left.lp()), entries_of(&right.lp())], count);
        *left = Node::packed(joined);
    }

    /// Merges the neighbours of node `center` where they fit together, as Redis does after
    /// splitting a node: the two nodes before it, the two after it, then the centre with
    /// its previous and next node. Returns the centre's index afterwards.
    fn merge_around(&mut self, mut center: usize) -> usize {
        if center >= 2 && self.allow_merge(center - 2, center - 1) {
            self.merge(center - 2);
            center -= 1;
        }
        if center + 2 < self.nodes.len() && self.allow_merge(center + 1, center + 2) {
            self.merge(center + 1);
        }
        let target = if center >= 1 && self.allow_merge(center - 1, center) {
            self.merge(center - 1);
            center - 1
        } else {
            center
        };
        if target + 1 < self.nodes.len() && self.allow_merge(target, target + 1) {
            self.merge(target);
        }
        target
    }

    /// After a structural change around node `i`: fix the ends, settle the neighbourhood.
    fn restructured(&mut self, i: usize) {
        self.fix_compression();
        for j in i.saturating_sub(2)..i + 3 {
            self.settle(j);
        }
    }

    /// Inserts `v` before or after the element at offset `off` of node `ni`.
    fn insert_at(&mut self, ni: usize, off: usize, after: bool, v: &[u8]) {
        self.count += 1;
        let limit = self.limit();
        let node = &self.nodes[ni];
        let full = !self.allow_insert(node, v.len());
        let at_tail = after && off + 1 == node.count;
        let at_head = !after && off == 0;
        let next_has_room =
            at_tail && ni + 1 < self.nodes.len() && self.allow_insert(&self.nodes[ni + 1], v.len());
        let prev_has_room = at_head && ni > 0 && self.allow_insert(&self.nodes[ni - 1], v.len());

        if limit.is_large(v.len()) {
            if node.plain || at_tail || at_head {
                let at = if after { ni + 1 } else { ni };
                self.insert_node(at, Node::single(v, true));
                self.restructured(at);
            } else {
                let rest = self.split_node(ni, off, after);
                if after {
                    self.insert_node(ni + 1, Node::single(v, true));
                    self.insert_node(ni + 2, rest);
                } else {
                    self.insert_node(ni, Node::single(v, true));
                    self.insert_node(ni, rest);
                }
                self.restructured(ni + 1);
            }
            return;
        }

        if !full {
            let node = &mut self.nodes[ni];
            let lp = node.lp_mut();
            let pos = lp.seek(off as i64).expect("offset within the node");
            let at = if after {
                lp.next(pos).unwrap_or(lp.total_bytes() - 1)
            } else {
                pos
            };
            lp.insert(at, v);
            node.count += 1;
            node.refresh();
            self.settle(ni);
        } else if at_tail && next_has_room {
            self.push_into(ni + 1, End::Head, v);
            self.settle(ni + 1);
        } else if at_head && prev_has_room {
            self.push_into(ni - 1, End::Tail, v);
            self.settle(ni - 1);
        } else if at_tail || at_head {
            let at = if after { ni + 1 } else { ni };
            self.insert_node(at, Node::single(v, false));
            self.restructured(at);
        } else {
            let mut rest = self.split_node(ni, off, after);
            let lp = rest.lp_mut();
            if after {
                lp.push_front(v);
            } else {
                lp.push_back(v);
            }
            rest.count += 1;
            rest.refresh();
            let center = if after {
                self.insert_node(ni + 1, rest);
                ni
            } else {
                self.insert_node(ni, rest);
                ni + 1
            };
            let center = self.merge_around(center);
            self.restructured(center);
        }
    }

    fn push_into(&mut self, ni: usize, end: End, v: &[u8]) {
        let node = &mut self.nodes[ni];
        let lp = node.lp_mut();
        match end {
            End::Head => lp.push_front(v),
            End::Tail => lp.push_back(v),
        }
        node.count += 1;
        node.refresh();
    }

    /// Replaces the element at offset `off` of node `ni`. In place when the node stays
    /// within its limit; otherwise the value gets a node of its own after the node's part
    /// up to it, and the neighbours are merged where they fit.
    fn replace_at(&mut self, ni: usize, off: usize, v: &[u8]) {
        let limit = self.limit();
        let large = limit.is_large(v.len());
        let node = &mut self.nodes[ni];
        if !node.plain && !large {
            let count = node.count;
            let sz = node.sz;
            let lp = node.lp_mut();
            let pos = lp.seek(off as i64).expect("offset within the node");
            let projected = sz - lp.entry_size(pos) + Listpack::encoded_size(v);
            if !limit.exceeded(projected, count) {
                lp.replace(pos, v);
                node.refresh();
                self.settle(ni);
                return;
            }
        }
        if node.plain {
            if large {
                *node = Node::single(v, true);
                self.settle(ni);
            } else {
                // The new value goes after the plain node, which then goes.
                self.insert_at(ni, 0, true, v);
                self.nodes.remove(ni);
                self.count -= 1;
                self.restructured(ni);
            }
            return;
        }
        let rest = (off + 1 != node.count).then(|| self.split_node(ni, off, true));
        self.insert_node(ni + 1, Node::single(v, large));
        if let Some(rest) = rest {
            self.insert_node(ni + 2, rest);
        }
        // The replaced element is now the last of node `ni`.
        if self.nodes[ni].count == 1 {
            self.nodes.remove(ni);
            self.restructured(ni);
            return;
        }
        let node = &mut self.nodes[ni];
        let lp = node.lp_mut();
        let last = lp.last().expect("node not empty");
        lp.delete(last);
        node.count -= 1;
        node.refresh();
        let center = self.merge_around(ni + 1);
        self.restructured(center);
    }

    fn remove_matching(&mut self, needle: &Needle<'_>, from_tail: bool, limit: usize) -> usize {
        let mut removed = 0;
        let mut emptied = false;
        let order: Vec<usize> = if from_tail {
            (0..self.nodes.len()).rev().collect()
        } else {
            (0..self.nodes.len()).collect()
        };
        for ni in order {
            if removed == limit {
                break;
            }
            let has_match = walk(&self.nodes[ni].lp(), 0, false, &mut |v| {
                if needle.matches(v) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
            if has_match.is_continue() {
                continue;
            }
            let node = &mut self.nodes[ni];
            let n = remove_matching(node.lp_mut(), needle, from_tail, limit - removed);
            node.count -= n;
            node.refresh();
            removed += n;
            if node.count == 0 {
                emptied = true;
            } else {
                self.settle(ni);
            }
        }
        self.count -= removed;
        if emptied {
            self.nodes.retain(|n| n.count > 0);
            self.fix_compression();
        }
        removed
    }

    /// Deletes `count` elements from `start` (the range lies within the list): whole nodes
    /// where the range covers them, part of a node otherwise.
    fn delete_range(&mut self, start: usize, count: usize) {
        let (mut ni, mut off) = self.locate(start);
        let mut left = count;
        let mut removed_nodes = false;
        while left > 0 {
            let node = &mut self.nodes[ni];
            let in_node = (node.count - off).min(left);
            if in_node == node.count || node.plain {
                self.nodes.remove(ni);
                removed_nodes = true;
            } else {
                node.lp_mut().delete_range(off, in_node);
                node.count -= in_node;
                node.refresh();
                self.settle(ni);
                ni += 1;
            }
            left -= in_node;
            self.count -= in_node;
            off = 0;
        }
        if removed_nodes {
            self.fix_compression();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    fn config(fill: i32, depth: usize) -> ListConfig {
        ListConfig {
            fill,
            compress_depth: depth,
        }
    }

    fn push_all(l: &mut List, c: &ListConfig, end: End, values: &[&[u8]]) {
        let bytes = values.iter().map(|v| v.len()).sum();
        l.reserve_for(c, bytes, values.len());
        for v in values {
            l.push(end, v);
        }
    }

    /// Node counts and compression flags, for checking layouts.
    fn layout(l: &List) -> Vec<(usize, bool)> {
        match &l.repr {
            Repr::Listpack(lp) => vec![(lp.len(), false)],
            Repr::Quicklist(ql) => ql
                .nodes
                .iter()
                .map(|n| (n.count, matches!(n.data, NodeData::Lzf(_))))
                .collect(),
        }
    }

    #[test]
    fn converts_at_the_count_limit_and_back_at_half() {
        let c = config(4, 0);
        let mut l = List::new();
        push_all(&mut l, &c, End::Tail, &[b"a", b"b", b"c", b"d"]);
        assert_eq!(l.encoding(), "listpack");
        push_all(&mut l, &c, End::Tail, &[b"e"]);
        assert_eq!(l.encoding(), "quicklist");
        assert_eq!(layout(&l), vec![(4, false), (1, false)]);
        l.pop(End::Head);
        l.shrink_encoding(&c);
        assert_eq!(l.encoding(), "quicklist", "two nodes remain");
        l.pop(End::Tail);
        l.shrink_encoding(&c);
        assert_eq!(
            l.encoding(),
            "quicklist",
            "3 entries are more than half of 4"
        );
        l.pop(End::Tail);
        l.shrink_encoding(&c);
        assert_eq!(l.encoding(), "listpack");
        assert_eq!(l.to_vec(), vec![b"b".to_vec(), b"c".to_vec()]);
    }

    #[test]
    fn converts_at_the_byte_limit() {
        let c = config(-1, 0);
        let mut l = List::new();
        let big = vec![b'x'; 1000];
        for _ in 0..4 {
            push_all(&mut l, &c, End::Tail, &[&big]);
        }
        assert_eq!(l.encoding(), "listpack");
        push_all(&mut l, &c, End::Tail, &[&big]);
        assert_eq!(l.encoding(), "quicklist");
        // A large element gets a plain node, which never converts back.
        let mut l = List::new();
        push_all(&mut l, &c, End::Tail, &[&[b'y'; 5000]]);
        assert_eq!(l.encoding(), "quicklist");
        assert!(matches!(&l.repr, Repr::Quicklist(q) if q.nodes[0].plain));
        l.shrink_encoding(&c);
        assert_eq!(l.encoding(), "quicklist");
    }

    #[test]
    fn interior_nodes_are_compressed_and_still_readable() {
        let c = config(3, 1);
        let mut l = List::new();
        let values: Vec<Vec<u8>> = (0..30)
            .map(|i| format!("element-number-{i:04}-padding-padding").into_bytes())
            .collect();
        for v in &values {
            push_all(&mut l, &c, End::Tail, &[v]);
        }
        let lay = layout(&l);
        assert_eq!(lay.len(), 10);
        assert!(!lay[0].1 && !lay[9].1);
        assert!(lay[1..9].iter().all(|&(_, z)| z), "{lay:?}");
        assert_eq!(l.to_vec(), values);
        assert_eq!(l.get(13), Some(values[13].clone()));
        assert!(l.set(13, b"changed"));
        assert_eq!(l.get(13), Some(b"changed".to_vec()));
        // Popping the head node brings the next one to the edge, decompressed.
        for _ in 0..3 {
            l.pop(End::Head);
        }
        let lay = layout(&l);
        assert!(!lay[0].1 && lay[1].1, "{lay:?}");
    }

    #[test]
    fn insert_splits_full_nodes_and_merges() {
        let c = config(4, 0);
        let mut l = List::new();
        let v: Vec<Vec<u8>> = (0..8).map(|i| format!("v{i}").into_bytes()).collect();
        for x in &v {
            push_all(&mut l, &c, End::Tail, &[x]);
        }
        assert_eq!(layout(&l), vec![(4, false), (4, false)]);
        l.reserve_for(&c, 1, 1);
        assert!(l.insert(b"v1", b"new", true));
        let mut want = v.clone();
        want.insert(2, b"new".to_vec());
        assert_eq!(l.to_vec(), want);
        assert_eq!(layout(&l).iter().map(|x| x.0).sum::<usize>(), 9);
        assert!(layout(&l).iter().all(|x| x.0 <= 4));
        assert!(!l.insert(b"missing", b"x", false));
    }

    #[test]
    fn trim_and_positions() {
        let c = config(2, 0);
        let mut l = List::new();
        for x in ["a", "b", "a", "c", "a", "d"] {
            push_all(&mut l, &c, End::Tail, &[x.as_bytes()]);
        }
        let mut found = vec![];
        l.positions(b"a", true, 0, |i| {
            found.push(i);
            ControlFlow::Continue(())
        });
        assert_eq!(found, vec![4, 2, 0]);
        let mut found = vec![];
        l.positions(b"a", false, 3, |i| {
            found.push(i);
            ControlFlow::Continue(())
        });
        assert_eq!(found, vec![0, 2]);
        assert_eq!(l.trim(1, -2), 2);
        assert_eq!(
            l.to_vec(),
            vec![b"b".to_vec(), b"a".to_vec(), b"c".to_vec(), b"a".to_vec()]
        );
        assert_eq!(l.trim(5, 10), 4);
        assert!(l.is_empty());
    }

    #[test]
    fn integers_compare_as_listpacks_do() {
        let c = ListConfig::default();
        let mut l = List::new();
        push_all(&mut l, &c, End::Tail, &[b"10", b"010", b"10"]);
        assert_eq!(l.remove(b"10", false, 0), 2);
        assert_eq!(l.to_vec(), vec![b"010".to_vec()]);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(bool, Vec<Vec<u8>>),
        Pop(bool, usize),
        Set(i64, Vec<u8>),
        Insert(usize, bool, Vec<u8>),
        Remove(Vec<u8>, bool, usize),
        Trim(i64, i64),
        Get(i64),
        Range(usize, usize, bool),
        Config(i32, usize),
    }

    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => (0u8..6).prop_map(|k| format!("v{k}").into_bytes()),
            2 => (-3i64..300).prop_map(|n| n.to_string().into_bytes()),
            2 => (0usize..120).prop_map(|n| b"abcdefgh".iter().copied().cycle().take(n).collect()),
            1 => (4000usize..9000).prop_map(|n| vec![b'L'; n]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<bool>(), proptest::collection::vec(value(), 1..6)).prop_map(|(h, v)| Op::Push(h, v)),
            3 => (any::<bool>(), 0usize..5).prop_map(|(h, n)| Op::Pop(h, n)),
            2 => (-40i64..40, value()).prop_map(|(i, v)| Op::Set(i, v)),
            2 => (0usize..40, any::<bool>(), value()).prop_map(|(i, a, v)| Op::Insert(i, a, v)),
            1 => (value(), any::<bool>(), 0usize..3).prop_map(|(v, t, n)| Op::Remove(v, t, n)),
            1 => (-30i64..30, -30i64..30).prop_map(|(a, b)| Op::Trim(a, b)),
            2 => (-40i64..40).prop_map(Op::Get),
            2 => (0usize..40, 0usize..40, any::<bool>()).prop_map(|(s, n, r)| Op::Range(s, n, r)),
            1 => (prop_oneof![-5i32..=-1, 1i32..6, Just(0)], 0usize..3).prop_map(|(f, d)| Op::Config(f, d)),
        ]
    }

    /// The shape every quicklist must keep: counts add up, nodes are non-empty, within
    /// their limit (or plain), the ends uncompressed.
    fn check_invariants(l: &List) {
        let Repr::Quicklist(ql) = &l.repr else {
            return;
        };
        assert_eq!(ql.nodes.iter().map(|n| n.count).sum::<usize>(), ql.count);
        for (i, n) in ql.nodes.iter().enumerate() {
            assert!(n.count > 0);
            let lp = n.lp();
            assert_eq!(lp.len(), n.count);
            assert_eq!(lp.total_bytes(), n.sz);
            if n.plain {
                assert_eq!(n.count, 1);
            }
            if !ql.interior(i) {
                assert!(
                    matches!(n.data, NodeData::Packed(_)),
                    "edge node {i} compressed"
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Random operations agree with a VecDeque model, with tiny limits so nodes split,
        /// merge, compress and the encoding converts both ways.
        #[test]
        fn behaves_like_a_deque(ops in proptest::collection::vec(op(), 1..80)) {
            let mut c = config(3, 1);
            let mut l = List::new();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for op in ops {
                match op {
                    Op::Push(head, vs) => {
                        let refs: Vec<&[u8]> = vs.iter().map(|v| &v[..]).collect();
                        let end = if head { End::Head } else { End::Tail };
                        push_all(&mut l, &c, end, &refs);
                        for v in vs {
                            if head { m.push_front(v) } else { m.push_back(v) }
                        }
                    }
                    Op::Pop(head, n) => {
                        let end = if head { End::Head } else { End::Tail };
                        for _ in 0..n {
                            let want = if head { m.pop_front() } else { m.pop_back() };
                            prop_assert_eq!(l.pop(end), want);
                        }
                        l.shrink_encoding(&c);
                    }
                    Op::Set(i, v) => {
                        l.reserve_for(&c, v.len(), 1);
                        let len = m.len() as i64;
                        let idx = if i < 0 { len + i } else { i };
                        let ok = l.set(i, &v);
                        prop_assert_eq!(ok, (0..len).contains(&idx));
                        if ok { m[idx as usize] = v; l.shrink_encoding(&c); }
                    }
                    Op::Insert(i, after, v) => {
                        l.reserve_for(&c, v.len(), 1);
                        if m.is_empty() { continue; }
                        let pivot = m[i % m.len()].clone();
                        let at = m.iter().position(|x| *x == pivot).unwrap();
                        prop_assert!(l.insert(&pivot, &v, after));
                        m.insert(if after { at + 1 } else { at }, v);
                    }
                    Op::Remove(v, from_tail, limit) => {
                        let mut removed = 0;
                        let max = if limit == 0 { usize::MAX } else { limit };
                        let mut kept: Vec<Vec<u8>> = Vec::new();
                        let items: Vec<Vec<u8>> = if from_tail { m.iter().rev().cloned().collect() } else { m.iter().cloned().collect() };
                        for x in items {
                            if x == v && removed < max { removed += 1 } else { kept.push(x) }
                        }
                        if from_tail { kept.reverse(); }
                        m = kept.into();
                        prop_assert_eq!(l.remove(&v, from_tail, limit), removed);
                        l.shrink_encoding(&c);
                    }
                    Op::Trim(a, b) => {
                        let len = m.len() as i64;
                        let s = if a < 0 { (len + a).max(0) } else { a };
                        let e = if b < 0 { len + b } else { b };
                        let kept: VecDeque<Vec<u8>> = if s > e || s >= len { VecDeque::new() } else {
                            m.iter().skip(s as usize).take((e.min(len - 1) - s + 1) as usize).cloned().collect()
                        };
                        prop_assert_eq!(l.trim(a, b), m.len() - kept.len());
                        m = kept;
                        l.shrink_encoding(&c);
                    }
                    Op::Get(i) => {
                        let len = m.len() as i64;
                        let idx = if i < 0 { len + i } else { i };
                        let want = (0..len).contains(&idx).then(|| m[idx as usize].clone());
                        prop_assert_eq!(l.get(i), want);
                    }
                    Op::Range(s, n, rev) => {
                        let mut got = Vec::new();
                        l.for_each_in(s, n, rev, |v| got.push(v.to_vec()));
                        let want: Vec<Vec<u8>> = if s >= m.len() { vec![] } else if rev {
                            m.iter().take(s + 1).rev().take(n).cloned().collect()
                        } else {
                            m.iter().skip(s).take(n).cloned().collect()
                        };
                        prop_assert_eq!(got, want);
                    }
                    Op::Config(fill, depth) => c = config(fill, depth),
                }
                prop_assert_eq!(l.len(), m.len());
                check_invariants(&l);
            }
            prop_assert_eq!(l.to_vec(), m.into_iter().collect::<Vec<_>>());
        }
    }
}
