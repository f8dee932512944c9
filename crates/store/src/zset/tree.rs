//! The score order of a big sorted set: an order-statistic B-tree of `(score, member)`
//! entries.
//!
//! **Layout.** Leaves hold up to [`LEAF_CAP`] entries of 16 bytes (the score, and a thin
//! pointer to the member block the member index owns), sorted by score and then by member
//! bytes, as Redis orders a sorted set. Inner nodes hold up to [`INNER_CAP`] children and,
//! for each child, the number of entries beneath it and its first entry (`lows`). The counts
//! give rank ↔ position in O(log n); the lows steer searches by key.
//!
//! **Fill.** A full node splits in half, except when the new entry goes to its very end or
//! start: then the full part stays whole and the new entry starts a node of its own, so
//! scores inserted in order (timestamps, counters) fill leaves completely. A node that
//! falls below a quarter full after a removal merges with a neighbour, or takes entries
//! from it when both do not fit in one node.
//!
//! **Soundness.** Entries point at member blocks owned elsewhere (`member.rs`); comparing
//! two entries with equal scores reads their bytes. `BigZSet` removes an entry here before
//! it frees the block, so every entry in the tree names a live block.

use super::member::RawMember;
use std::cmp::Ordering;
use std::mem;

/// Entries per leaf: 64 × 16 bytes, one 1 KB allocation.
const LEAF_CAP: usize = 64;
/// Children per inner node.
const INNER_CAP: usize = 64;
/// A non-root node with fewer slots than this is merged or refilled.
const MIN_FILL: usize = 16;

/// One element of the score order.
#[derive(Clone, Copy)]
pub(super) struct Entry {
    pub(super) score: f64,
    pub(super) member: RawMember,
}

impl Entry {
    pub(super) fn member<'a>(&self) -> &'a [u8] {
        // SAFETY: every entry in the tree names a live block (module documentation); the
        // callers hold a borrow of the set for as long as they use the bytes.
        unsafe { self.member.bytes() }
    }

    /// Orders this entry against `(score, member)` as Redis orders a sorted set. Scores are
    /// never NaN; -0 and 0 are equal scores, as C's comparisons make them.
    pub(super) fn cmp_key(&self, score: f64, member: &[u8]) -> Ordering {
        match self.score.partial_cmp(&score).unwrap_or(Ordering::Equal) {
            Ordering::Equal => self.member().cmp(member),
            unequal => unequal,
        }
    }

    fn before(&self, other: &Entry) -> bool {
        self.cmp_key(other.score, other.member()) == Ordering::Less
    }
}

enum Node {
    Leaf(Vec<Entry>),
    Inner(Box<Inner>),
}

struct Inner {
    children: Vec<Node>,
    /// Entries beneath each child.
    counts: Vec<usize>,
    /// The first entry of each child.
    lows: Vec<Entry>,
}

impl Node {
    /// Slots used: entries of a leaf, children of an inner node.
    fn slots(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(inner) => inner.children.len(),
        }
    }

    fn capacity(&self) -> usize {
        match self {
            Node::Leaf(_) => LEAF_CAP,
            Node::Inner(_) => INNER_CAP,
        }
    }

    /// Entries beneath this node.
    fn count(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(inner) => inner.counts.iter().sum(),
        }
    }

    /// The first entry; the node is not empty.
    fn first(&self) -> Entry {
        let mut node = self;
        loop {
            match node {
                Node::Leaf(v) => return v[0],
                Node::Inner(inner) => node = &inner.children[0],
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.slots() == 0
    }
}

impl Inner {
    fn with_children(children: Vec<Node>) -> Inner {
        let mut inner = Inner {
            counts: children.iter().map(Node::count).collect(),
            lows: children.iter().map(Node::first).collect(),
            children,
        };
        inner
            .children
            .reserve_exact(INNER_CAP + 1 - inner.children.len());
        inner
    }

    /// The child whose key range holds `(score, member)`: the last whose first entry is not
    /// after it (the first child for a key below everything).
    fn child_for(&self, score: f64, member: &[u8]) -> usize {
        let after = self
            .lows
            .partition_point(|low| low.cmp_key(score, member) != Ordering::Greater);
        after.saturating_sub(1)
    }

    /// Child `i` just split, `right` being its upper half: records both.
    fn absorb_split(&mut self, i: usize, right: Node) {
        self.counts[i] = self.children[i].count();
        self.lows[i] = self.children[i].first();
        self.counts.insert(i + 1, right.count());
        self.lows.insert(i + 1, right.first());
        self.children.insert(i + 1, right);
    }

    /// Splits an overfull node; `grown` is the child that just split. Returns the upper part.
    fn split(&mut self, grown: usize) -> Inner {
        let at = if grown + 2 == self.children.len() {
            // Growth at the end: keep this node full, start the next with the new child.
            self.children.len() - 1
        } else {
            self.children.len() / 2
        };
        let children: Vec<Node> = self.children.drain(at..).collect();
        self.counts.truncate(at);
        self.lows.truncate(at);
        Inner::with_children(children)
    }

    /// Child `i` fell below [`MIN_FILL`]: merge it with a neighbour, or even the two out.
    fn rebalance(&mut self, i: usize) {
        if self.children.len() < 2 {
            return;
        }
        let l = if i + 1 < self.children.len() {
            i
        } else {
            i - 1
        };
        let r = l + 1;
        let total = self.children[l].slots() + self.children[r].slots();
        if total <= self.children[l].capacity() {
            let right = self.children.remove(r);
            self.counts.remove(r);
            self.lows.remove(r);
            merge(&mut self.children[l], right);
        } else {
            let (left, right) = self.children.split_at_mut(r);
            shift(&mut left[l], &mut right[0], total / 2);
            self.counts[r] = self.children[r].count();
            self.lows[r] = self.children[r].first();
        }
        self.counts[l] = self.children[l].count();
        self.lows[l] = self.children[l].first();
    }
}

/// Appends `right`'s slots to `left` (same kind, and they fit).
fn merge(left: &mut Node, right: Node) {
    match (left, right) {
        (Node::Leaf(l), Node::Leaf(r)) => l.extend(r),
        (Node::Inner(l), Node::Inner(r)) => {
            let r = *r;
            l.children.extend(r.children);
            l.counts.extend(r.counts);
            l.lows.extend(r.lows);
        }
        _ => unreachable!("siblings are at the same depth"),
    }
}

/// Moves slots between two neighbours so that `left` ends up with `want_left` of them.
fn shift(left: &mut Node, right: &mut Node, want_left: usize) {
    match (left, right) {
        (Node::Leaf(l), Node::Leaf(r)) => shift_vec(l, r, want_left),
        (Node::Inner(l), Node::Inner(r)) => {
            let have = l.children.len();
            shift_vec(&mut l.children, &mut r.children, want_left);
            shift_vec(&mut l.counts, &mut r.counts, want_left);
            shift_vec(&mut l.lows, &mut r.lows, want_left);
            debug_assert_ne!(have, l.children.len());
        }
        _ => unreachable!("siblings are at the same depth"),
    }
}

fn shift_vec<T>(left: &mut Vec<T>, right: &mut Vec<T>, want_left: usize) {
    if left.len() < want_left {
        let take = want_left - left.len();
        left.extend(right.drain(..take));
    } else {
        let moved: Vec<T> = left.drain(want_left..).collect();
        right.splice(0..0, moved);
    }
}

/// Inserts into the subtree; returns the new right sibling when the node split.
fn insert_into(node: &mut Node, e: Entry) -> Option<Node> {
    match node {
        Node::Leaf(v) => {
            let pos = v.partition_point(|x| x.before(&e));
            if v.len() < LEAF_CAP {
                v.insert(pos, e);
                return None;
            }
            let mut right = Vec::with_capacity(LEAF_CAP);
            if pos == v.len() {
                right.push(e);
            } else if pos == 0 {
                right.append(v);
                v.push(e);
            } else {
                let mid = LEAF_CAP / 2;
                right.extend(v.drain(mid..));
                if pos <= mid {
                    v.insert(pos, e);
                } else {
                    right.insert(pos - mid, e);
                }
            }
            Some(Node::Leaf(right))
        }
        Node::Inner(inner) => {
            let i = inner.child_for(e.score, e.member());
            if e.before(&inner.lows[i]) {
                inner.lows[i] = e;
            }
            inner.counts[i] += 1;
            let right = insert_into(&mut inner.children[i], e)?;
            inner.absorb_split(i, right);
            if inner.children.len() <= INNER_CAP {
                return None;
            }
            Some(Node::Inner(Box::new(inner.split(i))))
        }
    }
}

/// Removes `(score, member)` from the subtree; false when it is not there.
fn remove_from(node: &mut Node, score: f64, member: &[u8]) -> bool {
    match node {
        Node::Leaf(v) => {
            let pos = v.partition_point(|x| x.cmp_key(score, member) == Ordering::Less);
            if pos == v.len() || v[pos].cmp_key(score, member) != Ordering::Equal {
                return false;
            }
            v.remove(pos);
            true
        }
        Node::Inner(inner) => {
            let i = inner.child_for(score, member);
            if !remove_from(&mut inner.children[i], score, member) {
                return false;
            }
            inner.counts[i] -= 1;
            if inner.children[i].is_empty() {
                // Only a node left small by a split can empty out; drop it.
                inner.children.remove(i);
                inner.counts.remove(i);
                inner.lows.remove(i);
            } else if inner.children[i].slots() < MIN_FILL && inner.children.len() > 1 {
                inner.rebalance(i);
            } else {
                inner.lows[i] = inner.children[i].first();
            }
            true
        }
    }
}

/// The order-statistic tree itself.
pub(super) struct Tree {
    root: Node,
    len: usize,
}

impl Tree {
    pub(super) fn new() -> Tree {
        Tree {
            root: Node::Leaf(Vec::new()),
            len: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Inserts an entry whose member is not in the tree.
    pub(super) fn insert(&mut self, e: Entry) {
        if let Some(right) = insert_into(&mut self.root, e) {
            let left = mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            self.root = Node::Inner(Box::new(Inner::with_children(vec![left, right])));
        }
        self.len += 1;
    }

    /// Removes the entry `(score, member)`; false when absent.
    pub(super) fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        if !remove_from(&mut self.root, score, member) {
            return false;
        }
        self.len -= 1;
        while let Node::Inner(inner) = &mut self.root {
            if inner.children.len() != 1 {
                break;
            }
            self.root = inner.children.pop().expect("one child");
        }
        true
    }

    /// How many entries come before the first one for which `before` is false; `before`
    /// must hold for a prefix of the order (a lower bound).
    pub(super) fn partition_point(&self, before: impl Fn(&Entry) -> bool) -> usize {
        let mut node = &self.root;
        let mut base = 0;
        loop {
            match node {
                Node::Leaf(v) => return base + v.partition_point(&before),
                Node::Inner(inner) => {
                    let i = inner.lows.partition_point(&before);
                    if i == 0 {
                        return base;
                    }
                    base += inner.counts[..i - 1].iter().sum::<usize>();
                    node = &inner.children[i - 1];
                }
            }
        }
    }

    /// The 0-based rank of `(score, member)` in ascending order, if present.
    pub(super) fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let rank = self.partition_point(|e| e.cmp_key(score, member) == Ordering::Less);
        let found = self.get(rank)?;
        (found.cmp_key(score, member) == Ordering::Equal).then_some(rank)
    }

    /// The entry at ascending rank `rank`.
    pub(super) fn get(&self, rank: usize) -> Option<Entry> {
        if rank >= self.len {
            return None;
        }
        let mut node = &self.root;
        let mut rank = rank;
        loop {
            match node {
                Node::Leaf(v) => return v.get(rank).copied(),
                Node::Inner(inner) => {
                    let mut i = 0;
                    while rank >= inner.counts[i] {
                        rank -= inner.counts[i];
                        i += 1;
                    }
                    node = &inner.children[i];
                }
            }
        }
    }

    /// Entries from ascending rank `rank` on, upwards or (with `reverse`) downwards.
    pub(super) fn iter_from(&self, rank: usize, reverse: bool) -> Iter<'_> {
        let mut iter = Iter {
            stack: Vec::new(),
            leaf: &[],
            pos: 0,
            reverse,
        };
        if rank >= self.len {
            return iter;
        }
        let mut node = &self.root;
        let mut rank = rank;
        loop {
            match node {
                Node::Leaf(v) => {
                    iter.leaf = v;
                    iter.pos = if reverse { rank + 1 } else { rank };
                    return iter;
                }
                Node::Inner(inner) => {
                    let mut i = 0;
                    while rank >= inner.counts[i] {
                        rank -= inner.counts[i];
                        i += 1;
                    }
                    iter.stack.push((&**inner, i));
                    node = &inner.children[i];
                }
            }
        }
    }

    /// Heap bytes of the nodes (walks them: for MEMORY USAGE, not for hot paths).
    pub(super) fn heap_size(&self) -> usize {
        fn walk(node: &Node) -> usize {
            match node {
                Node::Leaf(v) => v.capacity() * mem::size_of::<Entry>(),
                Node::Inner(inner) => {
                    mem::size_of::<Inner>()
                        + inner.children.capacity() * mem::size_of::<Node>()
                        + inner.counts.capacity() * mem::size_of::<usize>()
                        + inner.lows.capacity() * mem::size_of::<Entry>()
                        + inner.children.iter().map(walk).sum::<usize>()
                }
            }
        }
        walk(&self.root)
    }

    /// Checks the structure's invariants (tests).
    #[cfg(test)]
    pub(super) fn check(&self) {
        fn walk(node: &Node, is_root: bool, depth: usize, leaf_depth: &mut Option<usize>) -> usize {
            match node {
                Node::Leaf(v) => {
                    assert!(v.len() <= LEAF_CAP);
                    assert!(v.windows(2).all(|w| w[0].before(&w[1])), "leaf order");
                    assert_eq!(*leaf_depth.get_or_insert(depth), depth, "balanced");
                    assert!(is_root || !v.is_empty());
                    v.len()
                }
                Node::Inner(inner) => {
                    assert!(inner.children.len() <= INNER_CAP);
                    assert!(!is_root || inner.children.len() >= 2);
                    let mut total = 0;
                    for (i, child) in inner.children.iter().enumerate() {
                        let n = walk(child, false, depth + 1, leaf_depth);
                        assert_eq!(inner.counts[i], n, "count");
                        let first = child.first();
                        assert_eq!(first.member(), inner.lows[i].member(), "low");
                        assert_eq!(first.score, inner.lows[i].score, "low score");
                        total += n;
                    }
                    total
                }
            }
        }
        let n = walk(&self.root, true, 0, &mut None);
        assert_eq!(n, self.len);
        let mut previous: Option<Entry> = None;
        for e in self.iter_from(0, false) {
            if let Some(p) = previous {
                assert!(p.before(&e), "order across leaves");
            }
            previous = Some(e);
        }
    }
}

/// Walks entries from a rank, up or down.
pub(super) struct Iter<'a> {
    /// The inner nodes on the path to `leaf`, with the child taken in each.
    stack: Vec<(&'a Inner, usize)>,
    leaf: &'a [Entry],
    /// Upwards: the next index in `leaf`; downwards: one past it.
    pos: usize,
    reverse: bool,
}

impl<'a> Iter<'a> {
    /// Moves to the neighbouring leaf; false at the end of the tree.
    fn next_leaf(&mut self) -> bool {
        loop {
            let Some(&(inner, i)) = self.stack.last() else {
                return false;
            };
            let next = if self.reverse {
                i.checked_sub(1)
            } else {
                Some(i + 1).filter(|&n| n < inner.children.len())
            };
            let Some(next) = next else {
                self.stack.pop();
                continue;
            };
            if let Some(top) = self.stack.last_mut() {
                top.1 = next;
            }
            let mut node: &'a Node = &inner.children[next];
            loop {
                match node {
                    Node::Leaf(v) => {
                        self.leaf = v;
                        self.pos = if self.reverse { v.len() } else { 0 };
                        return true;
                    }
                    Node::Inner(child) => {
                        let i = if self.reverse {
                            child.children.len() - 1
                        } else {
                            0
                        };
                        self.stack.push((&**child, i));
                        node = &child.children[i];
                    }
                }
            }
        }
    }
}

impl Iterator for Iter<'_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            if self.reverse {
                if self.pos > 0 {
                    self.pos -= 1;
                    return Some(self.leaf[self.pos]);
                }
            } else if self.pos < self.leaf.len() {
                self.pos += 1;
                return Some(self.leaf[self.pos - 1]);
            }
            if !self.next_leaf() {
                return None;
            }
        }
    }
}
