//! SORT and SORT_RO: the elements of a list, set or sorted set, ordered numerically or
//! lexicographically, by themselves or by the values of other keys (`BY weight_*`,
//! `BY obj_*->field`), optionally projected through `GET` patterns, limited, and returned or
//! stored as a list.
//!
//! The rules follow Redis's sort implementation:
//! - `BY` a pattern without `*` means "don't sort"; lists and sorted sets then keep their
//!   order (reversed by DESC, LIMIT taken as a range), while a set is sorted
//!   lexicographically anyway when the result is stored, so that it is deterministic.
//! - Numeric sorting reads each value with C's `strtod` (leading blanks allowed, trailing
//!   garbage not); a value that does not convert fails the whole command. Equal scores are
//!   ordered by the elements' bytes. A missing `BY` key counts as 0 (numeric) or as
//!   smaller than any value (ALPHA).
//! - `GET #` is the element itself; a `GET` key that is missing or of another type gives
//!   nil (an empty string when storing).
//!
//! The keys named by `BY`/`GET` patterns depend on the data, so they can't be locked from
//! the key specs: a SORT that dereferences patterns locks the whole database, like a
//! script; one that doesn't locks only its source and destination.

use super::{args, Cmd, CmdError, CmdResult, Ctx};
use crate::errors;
use crate::keyspace::Keyspace;
use crate::notify::class;
use std::cmp::Ordering;
use vireo_store::list::{End, List, ListConfig};
use vireo_store::Value;

pub const COMMANDS: &[Cmd] = &[Cmd::manual("sort", sort), Cmd::manual("sort_ro", sort_ro)];

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

fn sort(ctx: &mut Ctx) -> CmdResult {
    sort_generic(ctx, false)
}

fn sort_ro(ctx: &mut Ctx) -> CmdResult {
    sort_generic(ctx, true)
}

/// The parsed options of one SORT.
struct Options<'a> {
    by: Option<&'a [u8]>,
    dont_sort: bool,
    limit: Option<(i64, i64)>,
    gets: Vec<&'a [u8]>,
    desc: bool,
    alpha: bool,
    store: Option<&'a [u8]>,
}

impl<'a> Options<'a> {
    fn parse(args: &'a [bytes::Bytes], readonly: bool) -> Result<Self, CmdError> {
        let mut o = Options {
            by: None,
            dont_sort: false,
            limit: None,
            gets: Vec::new(),
            desc: false,
            alpha: false,
            store: None,
        };
        let mut j = 2;
        while j < args.len() {
            let arg = &args[j][..];
            let left = args.len() - j - 1;
            if args::is(arg, "asc") {
                o.desc = false;
            } else if args::is(arg, "desc") {
                o.desc = true;
            } else if args::is(arg, "alpha") {
                o.alpha = true;
            } else if args::is(arg, "limit") && left >= 2 {
                let offset = args::int(&args[j + 1])?;
                let count = args::int(&args[j + 2])?;
                o.limit = Some((offset, count));
                j += 2;
            } else if args::is(arg, "store") && left >= 1 && !readonly {
                o.store = Some(&args[j + 1]);
                j += 1;
            } else if args::is(arg, "by") && left >= 1 {
                let pattern = &args[j + 1][..];
                // A pattern without `*` can't name a key per element: don't sort. (C
                // string functions stop at a NUL, so a `*` after one doesn't count.)
                if !c_str(pattern).contains(&b'*') {
                    o.dont_sort = true;
                }
                o.by = Some(pattern);
                j += 1;
            } else if args::is(arg, "get") && left >= 1 {
                o.gets.push(&args[j + 1]);
                j += 1;
            } else {
                return Err(errors::SYNTAX.into());
            }
            j += 1;
        }
        Ok(o)
    }

    /// Whether running this SORT reads keys other than the source.
    fn dereferences(&self) -> bool {
        let by = self.by.is_some_and(|p| !self.dont_sort && p != b"#");
        by || self
            .gets
            .iter()
            .any(|p| !is_hash_sign(p) && c_str(p).contains(&b'*'))
    }
}

/// The part of `s` a C string function sees.
fn c_str(s: &[u8]) -> &[u8] {
    memchr::memchr(0, s).map_or(s, |nul| &s[..nul])
}

/// `#` (as C compares it): the element itself.
fn is_hash_sign(pattern: &[u8]) -> bool {
    c_str(pattern) == b"#"
}

/// One element being sorted, with what it is compared by.
struct Item {
    element: Vec<u8>,
    /// Numeric sort: the score (0 when the BY key is missing).
    score: f64,
    /// ALPHA sort by pattern: the BY value (None when missing).
    by: Option<Vec<u8>>,
}

fn sort_generic(ctx: &mut Ctx, readonly: bool) -> CmdResult {
    let mut opts = Options::parse(ctx.args, readonly)?;
    let key = ctx.arg(1);
    let touch = ctx.db.touches();
    let mut db = if opts.dereferences() {
        Keyspace::lock_all(ctx.server, ctx.client.db, ctx.now_ms)
    } else {
        let keys = std::iter::once(key).chain(opts.store);
        Keyspace::lock(ctx.server, ctx.client.db, ctx.now_ms, keys)
    };
    db.set_touch(touch);

    let Some(value) = db.get(key) else {
        return finish(ctx, &mut db, &opts, Vec::new());
    };
    let is_set = match value {
        Value::List { .. } => false,
        Value::ZSet { .. } => {
            // Redis converts a sorted set it sorts to the skiplist encoding, even for
            // SORT_RO, and OBJECT ENCODING shows it afterwards.
            if let Some(Value::ZSet { z, .. }) = db.get_mut(key) {
                z.convert_to_skiplist();
            }
            false
        }
        Value::Set { .. } => true,
        _ => return Err(errors::WRONGTYPE.into()),
    };
    let value = db.peek(key).expect("the key was just read");
    // A set has no order of its own: when the result is stored, sort it anyway so the
    // stored list does not depend on the set's internal layout.
    if opts.dont_sort && is_set && opts.store.is_some() {
        opts.dont_sort = false;
        opts.alpha = true;
        opts.by = None;
    }

    let len = value.element_count() as i64;
    let (mut start, mut end) = limit_range(opts.limit, len);
    let items: Vec<Item> = if opts.dont_sort && !is_set {
        // Lists and sorted sets keep their own order; LIMIT is just a range of it.
        let elements = if end >= start {
            ordered_range(value, start as usize, (end - start + 1) as usize, opts.desc)
        } else {
            Vec::new()
        };
        end -= start;
        start = 0;
        elements.into_iter().map(Item::new).collect()
    } else {
        all_elements(value).into_iter().map(Item::new).collect()
    };

    let mut items = items;
    if !opts.dont_sort {
        score_items(ctx, &mut db, &opts, &mut items)?;
        sort_items(&opts, &mut items);
    }
    let range = if end >= start && start >= 0 {
        items
            .into_iter()
            .skip(start as usize)
            .take((end - start + 1) as usize)
            .collect()
    } else {
        Vec::new()
    };
    finish(ctx, &mut db, &opts, range)
}

impl Item {
    fn new(element: Vec<u8>) -> Item {
        Item {
            element,
            score: 0.0,
            by: None,
        }
    }
}

/// LIMIT offset/count as Redis clamps them to `0..len`: (start, end) inclusive, with
/// end < start for an empty result.
fn limit_range(limit: Option<(i64, i64)>, len: i64) -> (i64, i64) {
    let (offset, count) = limit.unwrap_or((0, -1));
    let mut start = offset.max(0);
    let mut end = if count < 0 {
        len - 1
    } else {
        start.saturating_add(count) - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    (start, end)
}

/// Reads the BY value of every item (or the item itself) as the comparison needs it.
fn score_items(ctx: &Ctx, db: &mut Keyspace, opts: &Options, items: &mut [Item]) -> CmdResult {
    let mut not_double = false;
    for item in items.iter_mut() {
        let by_value = match opts.by {
            Some(pattern) => match lookup_by_pattern(db, pattern, &item.element, ctx.now_ms) {
                Some(v) => Some(v),
                None => continue,
            },
            None => None,
        };
        if opts.alpha {
            if opts.by.is_some() {
                item.by = by_value;
            }
            continue;
        }
        let bytes = by_value.as_deref().unwrap_or(&item.element);
        match args::strtod(c_str(bytes)) {
            Some(parsed)
                if parsed.consumed == c_str(bytes).len()
                    && !parsed.erange
                    && !parsed.value.is_nan() =>
            {
                item.score = parsed.value;
            }
            _ => not_double = true,
        }
    }
    if not_double {
        return Err(NOT_DOUBLE.into());
    }
    Ok(())
}

fn sort_items(opts: &Options, items: &mut [Item]) {
    let by_pattern = opts.by.is_some();
    let storing = opts.store.is_some();
    let compare = |a: &Item, b: &Item| -> Ordering {
        let cmp = if !opts.alpha {
            a.score
                .partial_cmp(&b.score)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.element.cmp(&b.element))
        } else if by_pattern {
            match (&a.by, &b.by) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => compare_alpha(x, y, storing),
            }
        } else {
            compare_alpha(&a.element, &b.element, storing)
        };
        if opts.desc {
            cmp.reverse()
        } else {
            cmp
        }
    };
    items.sort_by(compare);
}

/// ALPHA comparison: byte order when storing (binary-safe); otherwise as `strcoll` in
/// the C locale, which stops at the first NUL byte.
fn compare_alpha(a: &[u8], b: &[u8], storing: bool) -> Ordering {
    if storing {
        a.cmp(b)
    } else {
        c_str(a).cmp(c_str(b))
    }
}

/// The value a BY/GET pattern names for `element`: `#` is the element; otherwise the first
/// `*` is replaced by the element and the resulting key is read — a string key, or with
/// `->field` at the end, a field of a hash key. None when missing or of another type.
fn lookup_by_pattern(
    db: &mut Keyspace,
    pattern: &[u8],
    element: &[u8],
    now_ms: i64,
) -> Option<Vec<u8>> {
    if is_hash_sign(pattern) {
        return Some(element.to_vec());
    }
    let pattern_c = c_str(pattern);
    let star = memchr::memchr(b'*', pattern_c)?;
    // `->` after the star, followed by at least one byte, names a hash field.
    let field = memchr::memmem::find(&pattern_c[star + 1..], b"->")
        .map(|at| star + 1 + at)
        .filter(|&arrow| arrow + 2 < pattern_c.len());
    // The field name is what follows `->` in the whole pattern (binary-safe), and the key
    // ends where the field part starts.
    let key_end = field.map_or(pattern.len(), |arrow| arrow);
    let mut key = Vec::with_capacity(key_end - 1 + element.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(&pattern[star + 1..key_end]);

    let value = db.get(&key)?;
    let mut digits = itoa::Buffer::new();
    match field {
        None => value.as_bytes(&mut digits).map(<[u8]>::to_vec),
        Some(arrow) => hash_field(value, &pattern[arrow + 2..], now_ms),
    }
}

/// Replies with (or stores) the selected items, projected through the GET patterns.
fn finish(ctx: &mut Ctx, db: &mut Keyspace, opts: &Options, items: Vec<Item>) -> CmdResult {
    let per_item = opts.gets.len().max(1);
    let Some(dest) = opts.store else {
        ctx.reply.array(items.len() * per_item);
        for item in &items {
            if opts.gets.is_empty() {
                ctx.reply.bulk(&item.element);
                continue;
            }
            for pattern in &opts.gets {
                match lookup_by_pattern(db, pattern, &item.element, ctx.now_ms) {
                    Some(v) => ctx.reply.bulk(&v),
                    None => ctx.reply.null(),
                }
            }
        }
        return Ok(());
    };
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(items.len() * per_item);
    for item in items {
        if opts.gets.is_empty() {
            out.push(item.element);
            continue;
        }
        for pattern in &opts.gets {
            out.push(lookup_by_pattern(db, pattern, &item.element, ctx.now_ms).unwrap_or_default());
        }
    }
    // The destination is in SORT's own view (`db`), not `ctx.db`: it is signalled there.
    let stored = out.len();
    if stored > 0 {
        let encodings = ctx.server.settings.read().encodings.clone();
        db.set(dest, list_from(out, &encodings));
        db.signal_modified(dest);
        ctx.notify(class::LIST, "sortstore", dest);
        ctx.dirty(stored as u64);
    } else if let Some(old) = db.remove(dest) {
        db.free_deleted(old);
        db.signal_modified(dest);
        ctx.notify(class::GENERIC, "del", dest);
        ctx.dirty(1);
    }
    ctx.reply.int(stored as i64);
    Ok(())
}

// The collection types, as SORT reads and writes them.

/// Every element of a list, set or sorted set (a set in its iteration order, a sorted set
/// in score order).
fn all_elements(value: &Value) -> Vec<Vec<u8>> {
    match value {
        Value::List { l, .. } => l.to_vec(),
        Value::Set { s, .. } => s.iter().map(|m| m.to_vec()).collect(),
        Value::ZSet { z, .. } => z.iter().map(|(m, _)| m.to_vec()).collect(),
        _ => Vec::new(),
    }
}

/// `count` elements from `start` of a list or sorted set in its own order, or counted
/// from the end (and reversed) when `desc`.
fn ordered_range(value: &Value, start: usize, count: usize, desc: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(count.min(value.element_count()));
    match value {
        Value::List { l, .. } => {
            let first = if desc { l.len() - 1 - start } else { start };
            l.for_each_in(first, count, desc, |v| out.push(v.to_vec()));
        }
        Value::ZSet { z, .. } => {
            let first = if desc { z.len() - 1 - start } else { start };
            out.extend(
                z.iter_from(first, desc)
                    .take(count)
                    .map(|(m, _)| m.to_vec()),
            );
        }
        _ => {}
    }
    out
}

/// A field of a hash value (None for another type, a missing or an expired field).
fn hash_field(value: &Value, field: &[u8], now_ms: i64) -> Option<Vec<u8>> {
    match value {
        Value::Hash { h, .. } => h.get(field, now_ms).map(|v| v.to_vec()),
        _ => None,
    }
}

/// The stored result: a list in the encoding its size calls for.
fn list_from(elements: Vec<Vec<u8>>, encodings: &crate::settings::Encodings) -> Value {
    let config = ListConfig {
        fill: encodings.list_max_listpack_size,
        compress_depth: encodings.list_compress_depth,
    };
    let mut list = List::new();
    let bytes = elements.iter().map(Vec::len).sum();
    list.reserve_for(&config, bytes, elements.len());
    for e in &elements {
        list.push(End::Tail, e);
    }
    Value::list(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_clamped_like_redis() {
        assert_eq!(limit_range(None, 5), (0, 4));
        assert_eq!(limit_range(Some((1, 2)), 5), (1, 2));
        assert_eq!(limit_range(Some((-3, 2)), 5), (0, 1));
        assert_eq!(limit_range(Some((2, -1)), 5), (2, 4));
        assert_eq!(limit_range(Some((7, 2)), 5), (4, 3));
        assert_eq!(limit_range(Some((0, 0)), 5), (0, -1));
        assert_eq!(limit_range(None, 0), (-1, -2));
        assert_eq!(limit_range(Some((0, i64::MAX)), 3), (0, 2));
    }

    #[test]
    fn c_strings_stop_at_nul() {
        assert_eq!(c_str(b"ab\0cd"), b"ab");
        assert!(is_hash_sign(b"#\0x"));
        assert!(!is_hash_sign(b"##"));
    }
}
