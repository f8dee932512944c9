//! The command table as data.
//!
//! Every command Vireo knows is declared once, in `generated.rs`, produced by
//! `scripts/gen-cmdspec.py` from the Redis 7.2 command specs. Dispatch, arity checks,
//! ACL, `COMMAND INFO/DOCS/LIST/GETKEYS`, cluster slot checks and key locking all read
//! this one table.
//!
//! The one idea needed to read it: a [`CommandSpec`] is plain `'static` data, exactly
//! what Redis keeps in its `redisCommand` after `populateCommandTable` has run — the
//! implicit ACL categories derived from flags (`@write`, `@read`, `@slow`, …), the
//! legacy `(first key, last key, step)` triple and the `movablekeys` flag are already
//! computed by the generator. Subcommands live inside their container and are named
//! `"container|sub"`, as Redis names them.
//!
//! Typical dispatch:
//!
//! ```
//! use vireo_cmdspec::{key_positions, lookup_argv, KeyRef};
//!
//! let argv: [&[u8]; 3] = [b"SET", b"k", b"v"];
//! let spec = lookup_argv(&argv).expect("known command");
//! assert!(spec.arity_ok(argv.len()));
//! let mut keys: Vec<KeyRef> = Vec::new(); // reused across commands
//! key_positions(spec, &argv, &mut keys).unwrap();
//! assert_eq!(keys[0].pos, 1);
//! ```

mod keys;
mod reply;

#[rustfmt::skip]
#[allow(clippy::all)]
mod generated;

pub use keys::{getkeys, key_positions, keys_from_specs, KeyError, KeyRef, KeySearch};
pub use reply::{command_docs, command_info, docs_entry, Info};

/// Command flags (`CMD_*` in Redis, same bit positions).
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const MODULE: u32 = 1 << 3;
    pub const ADMIN: u32 = 1 << 4;
    pub const PUBSUB: u32 = 1 << 5;
    pub const NOSCRIPT: u32 = 1 << 6;
    pub const BLOCKING: u32 = 1 << 8;
    pub const LOADING: u32 = 1 << 9;
    pub const STALE: u32 = 1 << 10;
    pub const SKIP_MONITOR: u32 = 1 << 11;
    pub const SKIP_SLOWLOG: u32 = 1 << 12;
    pub const ASKING: u32 = 1 << 13;
    pub const FAST: u32 = 1 << 14;
    pub const NO_AUTH: u32 = 1 << 15;
    pub const MAY_REPLICATE: u32 = 1 << 16;
    pub const SENTINEL: u32 = 1 << 17;
    pub const ONLY_SENTINEL: u32 = 1 << 18;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 19;
    pub const PROTECTED: u32 = 1 << 20;
    pub const MODULE_GETKEYS: u32 = 1 << 21;
    pub const MODULE_NO_CLUSTER: u32 = 1 << 22;
    pub const NO_ASYNC_LOADING: u32 = 1 << 23;
    pub const NO_MULTI: u32 = 1 << 24;
    /// The legacy (first, last, step) triple does not cover every key: use the key specs.
    pub const MOVABLE_KEYS: u32 = 1 << 25;
    pub const ALLOW_BUSY: u32 = 1 << 26;
    pub const MODULE_GETCHANNELS: u32 = 1 << 27;
    pub const TOUCHES_ARBITRARY_KEYS: u32 = 1 << 28;

    /// The flags `COMMAND INFO` prints, in its order. MAY_REPLICATE, SENTINEL,
    /// ONLY_SENTINEL, PROTECTED and TOUCHES_ARBITRARY_KEYS are hidden on purpose, as in
    /// Redis.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (MODULE, "module"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories (`ACL_CATEGORY_*` in Redis, same bit positions).
pub mod acl {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const READ: u32 = 1 << 1;
    pub const WRITE: u32 = 1 << 2;
    pub const SET: u32 = 1 << 3;
    pub const SORTEDSET: u32 = 1 << 4;
    pub const LIST: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const STRING: u32 = 1 << 7;
    pub const BITMAP: u32 = 1 << 8;
    pub const HYPERLOGLOG: u32 = 1 << 9;
    pub const GEO: u32 = 1 << 10;
    pub const STREAM: u32 = 1 << 11;
    pub const PUBSUB: u32 = 1 << 12;
    pub const ADMIN: u32 = 1 << 13;
    pub const FAST: u32 = 1 << 14;
    pub const SLOW: u32 = 1 << 15;
    pub const BLOCKING: u32 = 1 << 16;
    pub const DANGEROUS: u32 = 1 << 17;
    pub const CONNECTION: u32 = 1 << 18;
    pub const TRANSACTION: u32 = 1 << 19;
    pub const SCRIPTING: u32 = 1 << 20;

    /// Every category in the order of `ACL CAT` and `COMMAND INFO`.
    pub const NAMES: &[(u32, &str)] = &[
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];

    /// The same names with the `@` that `COMMAND INFO` prints.
    pub(crate) const AT_NAMES: [&str; 21] = [
        "@keyspace",
        "@read",
        "@write",
        "@set",
        "@sortedset",
        "@list",
        "@hash",
        "@string",
        "@bitmap",
        "@hyperloglog",
        "@geo",
        "@stream",
        "@pubsub",
        "@admin",
        "@fast",
        "@slow",
        "@blocking",
        "@dangerous",
        "@connection",
        "@transaction",
        "@scripting",
    ];

    /// The category bit for a name such as `"string"` (case-insensitive, without `@`).
    pub fn by_name(name: &[u8]) -> Option<u32> {
        NAMES
            .iter()
            .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|&(bit, _)| bit)
    }
}

/// Key spec flags (`CMD_KEY_*` in Redis, same bit positions).
pub mod key_flags {
    pub const RO: u32 = 1 << 0;
    pub const RW: u32 = 1 << 1;
    pub const OW: u32 = 1 << 2;
    pub const RM: u32 = 1 << 3;
    pub const ACCESS: u32 = 1 << 4;
    pub const UPDATE: u32 = 1 << 5;
    pub const INSERT: u32 = 1 << 6;
    pub const DELETE: u32 = 1 << 7;
    pub const NOT_KEY: u32 = 1 << 8;
    pub const INCOMPLETE: u32 = 1 << 9;
    pub const VARIABLE_FLAGS: u32 = 1 << 10;

    /// Names in the order `COMMAND INFO` and `COMMAND GETKEYSANDFLAGS` print them.
    pub const NAMES: &[(u32, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Documentation flags of a command (`COMMAND DOCS` `doc_flags`).
pub mod doc_flags {
    pub const DEPRECATED: u32 = 1 << 0;
    pub const SYSCMD: u32 = 1 << 1;

    pub const NAMES: &[(u32, &str)] = &[(DEPRECATED, "deprecated"), (SYSCMD, "syscmd")];
}

/// Flags of one argument in the `COMMAND DOCS` argument tree.
pub mod arg_flags {
    pub const OPTIONAL: u32 = 1 << 0;
    pub const MULTIPLE: u32 = 1 << 1;
    pub const MULTIPLE_TOKEN: u32 = 1 << 2;

    pub const NAMES: &[(u32, &str)] = &[
        (OPTIONAL, "optional"),
        (MULTIPLE, "multiple"),
        (MULTIPLE_TOKEN, "multiple_token"),
    ];
}

/// One declared command (or subcommand), as Redis 7.2 describes it.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lowercase full name: `"get"`, or `"config|get"` for a subcommand.
    pub name: &'static str,
    /// The lowercase container name of a subcommand (`"config"`).
    pub container: Option<&'static str>,
    /// Redis arity: `n` means exactly n arguments (name included), `-n` at least n.
    pub arity: i32,
    /// Bits from [`flags`], including MOVABLE_KEYS where Redis derives it.
    pub flags: u32,
    /// Bits from [`acl`], including the implicit categories Redis adds from flags.
    pub acl_categories: u32,
    /// The legacy key triple of `COMMAND INFO` (0, 0, 0 when there is none).
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    pub key_specs: &'static [KeySpec],
    /// The special key extraction Redis falls back to when the key specs cannot say.
    pub get_keys: GetKeys,
    /// `COMMAND DOCS` group name: `"string"`, `"sorted-set"`, `"server"`, …
    pub group: &'static str,
    pub since: &'static str,
    pub complexity: Option<&'static str>,
    /// Vireo's own one-line description.
    pub summary: &'static str,
    /// Bits from [`doc_flags`].
    pub doc_flags: u32,
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    /// `(version, change)` pairs.
    pub history: &'static [(&'static str, &'static str)],
    /// Lowercase command tips, e.g. `"nondeterministic_output"`.
    pub tips: &'static [&'static str],
    pub arguments: &'static [Arg],
    /// Sorted by name.
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// A blank spec that generated entries fill in with struct update syntax.
    pub const EMPTY: CommandSpec = CommandSpec {
        name: "",
        container: None,
        arity: 0,
        flags: 0,
        acl_categories: 0,
        first_key: 0,
        last_key: 0,
        key_step: 0,
        key_specs: &[],
        get_keys: GetKeys::None,
        group: "",
        since: "",
        complexity: None,
        summary: "",
        doc_flags: 0,
        deprecated_since: None,
        replaced_by: None,
        history: &[],
        tips: &[],
        arguments: &[],
        subcommands: &[],
    };

    /// True when every bit of `flag` (from [`flags`]) is set.
    #[inline]
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag == flag
    }

    /// True when the command belongs to the ACL category `category` (from [`acl`]).
    #[inline]
    pub fn in_category(&self, category: u32) -> bool {
        self.acl_categories & category != 0
    }

    /// The name without its container: `"get"` for `"config|get"`.
    pub fn declared_name(&self) -> &'static str {
        match self.name.split_once('|') {
            Some((_, sub)) => sub,
            None => self.name,
        }
    }

    /// Does `argc` (the command name included) satisfy the arity?
    #[inline]
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = self.arity as i64;
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// Is this a container such as CONFIG, whose real work is in subcommands?
    #[inline]
    pub fn is_container(&self) -> bool {
        !self.subcommands.is_empty()
    }

    /// The argument index of the command's only key when its key specs make it always
    /// that one argument: a single spec, at a fixed index, a range of one key, and neither
    /// `NOT_KEY` nor `INCOMPLETE` (`VARIABLE_FLAGS`, as on SET and BITFIELD, varies the
    /// key's flags with the arguments, not its position). For any argument vector longer
    /// than that index, [`keys::key_positions`] finds exactly this one key; the request
    /// path uses this to lock without interpreting the specs (GET, SET, INCR, LPUSH, ...).
    pub fn single_key_index(&self) -> Option<usize> {
        const IRREGULAR: u32 = key_flags::NOT_KEY | key_flags::INCOMPLETE;
        match self.key_specs {
            [KeySpec {
                flags,
                begin_search: BeginSearch::Index(index),
                find_keys:
                    FindKeys::Range {
                        lastkey: 0,
                        step: 1,
                        limit: 0,
                    },
                ..
            }] if flags & IRREGULAR == 0 && *index > 0 => Some(*index as usize),
            _ => None,
        }
    }

    /// Does this command take key arguments at all (Redis's `doesCommandHaveKeys`)?
    pub fn has_keys(&self) -> bool {
        self.get_keys != GetKeys::None
            || self
                .key_specs
                .iter()
                .any(|ks| ks.flags & key_flags::NOT_KEY == 0)
    }

    /// Is this command part of the server in `mode`?
    #[inline]
    pub fn available_in(&self, mode: Mode) -> bool {
        match mode {
            Mode::Server => self.flags & flags::ONLY_SENTINEL == 0,
            Mode::Sentinel => self.flags & (flags::SENTINEL | flags::ONLY_SENTINEL) != 0,
        }
    }

    /// Finds a subcommand by its declared name (`b"GET"` under CONFIG), ignoring case.
    pub fn subcommand(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        let subcommands: &'static [CommandSpec] = self.subcommands;
        find_sorted(subcommands, name, |spec| spec.declared_name())
    }

    /// The subcommands available in `mode`.
    pub fn subcommands_in(&self, mode: Mode) -> impl Iterator<Item = &'static CommandSpec> {
        let subcommands: &'static [CommandSpec] = self.subcommands;
        subcommands
            .iter()
            .filter(move |spec| spec.available_in(mode))
    }
}

/// Whether the process runs as a data server or as Sentinel: each has its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Server,
    Sentinel,
}

/// Where a key spec starts looking for keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At a fixed argument index.
    Index(i32),
    /// After the first `keyword`, searching from `startfrom` (negative: from the end,
    /// backwards).
    Keyword {
        keyword: &'static str,
        startfrom: i32,
    },
    /// Cannot be said from the arguments; the command's [`GetKeys`] knows.
    Unknown,
}

/// How a key spec finds keys once it knows where to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys from the start to `lastkey` (relative to the start, or from the end when
    /// negative), every `step`; with `limit` > 1 only `1/limit` of what remains.
    Range {
        lastkey: i32,
        step: i32,
        limit: i32,
    },
    /// The argument at start + `keynumidx` counts the keys, the first of which is at
    /// start + `firstkey`.
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        step: i32,
    },
    Unknown,
}

/// One key spec: where some of a command's keys are and how they are accessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// Bits from [`key_flags`].
    pub flags: u32,
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
    pub notes: Option<&'static str>,
}

/// Redis's hand-written key extraction callbacks (`*GetKeys` in db.c), used when key
/// specs are unknown, incomplete, invalid for the arguments, or have variable flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetKeys {
    None,
    /// `genericGetKeys`: `argv[count]` keys from `argv[first]`, plus `argv[store]` when
    /// `store` is not 0 (ZUNIONSTORE, EVAL, LMPOP, …).
    NumKeys {
        store: u8,
        count: u8,
        first: u8,
    },
    Sort,
    SortRo,
    Migrate,
    Georadius,
    Xread,
    Set,
    Bitfield,
}

/// The type of an argument in the `COMMAND DOCS` tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgType {
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    OneOf,
    Block,
}

impl ArgType {
    /// The name `COMMAND DOCS` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::OneOf => "oneof",
            ArgType::Block => "block",
        }
    }
}

/// One node of a command's argument tree.
#[derive(Debug)]
pub struct Arg {
    pub name: &'static str,
    pub kind: ArgType,
    /// Shown instead of `name` in syntax help (`"ip:port"`).
    pub display_text: Option<&'static str>,
    /// Index into the command's key specs when this argument is a key, else -1.
    pub key_spec_index: i32,
    pub token: Option<&'static str>,
    pub summary: Option<&'static str>,
    pub since: Option<&'static str>,
    pub deprecated_since: Option<&'static str>,
    /// Bits from [`arg_flags`].
    pub flags: u32,
    /// Children of a `OneOf` or `Block`.
    pub arguments: &'static [Arg],
}

impl Arg {
    pub const EMPTY: Arg = Arg {
        name: "",
        kind: ArgType::String,
        display_text: None,
        key_spec_index: -1,
        token: None,
        summary: None,
        since: None,
        deprecated_since: None,
        flags: 0,
        arguments: &[],
    };
}

/// Every command, sentinel-only ones included, sorted by name.
pub fn table() -> &'static [CommandSpec] {
    generated::COMMANDS
}

/// The top-level commands of a data server (what `COMMAND COUNT` counts).
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    all_in(Mode::Server)
}

/// The top-level commands available in `mode`.
pub fn all_in(mode: Mode) -> impl Iterator<Item = &'static CommandSpec> {
    generated::COMMANDS
        .iter()
        .filter(move |spec| spec.available_in(mode))
}

/// Finds a top-level command of a data server by name, ignoring ASCII case.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    lookup_in(Mode::Server, name)
}

/// Finds a top-level command available in `mode` by name, ignoring ASCII case.
pub fn lookup_in(mode: Mode, name: &[u8]) -> Option<&'static CommandSpec> {
    find_sorted(generated::COMMANDS, name, |spec| spec.name).filter(|spec| spec.available_in(mode))
}

/// Finds the command an argument vector runs, as Redis's `lookupCommand` does: for a
/// container with at least one more argument, the subcommand named by `argv[1]`
/// (`None` if there is no such subcommand); otherwise the top-level command.
pub fn lookup_argv<A: AsRef<[u8]>>(argv: &[A]) -> Option<&'static CommandSpec> {
    let base = lookup(argv.first()?.as_ref())?;
    match argv.get(1) {
        Some(sub) if base.is_container() => base.subcommand(sub.as_ref()),
        _ => Some(base),
    }
}

/// Finds a command by full name as `COMMAND INFO` / `COMMAND DOCS` accept it:
/// `"get"` or `"config|get"`, ignoring ASCII case.
pub fn lookup_fullname(name: &[u8]) -> Option<&'static CommandSpec> {
    match name.iter().position(|&b| b == b'|') {
        None => lookup(name),
        Some(bar) => lookup(&name[..bar])?.subcommand(&name[bar + 1..]),
    }
}

/// The number of top-level commands and of subcommands in `mode`.
pub fn counts(mode: Mode) -> (usize, usize) {
    all_in(mode).fold((0, 0), |(top, subs), spec| {
        (top + 1, subs + spec.subcommands_in(mode).count())
    })
}

/// Command names are short ASCII; longer input cannot match and is rejected early.
const MAX_NAME: usize = 32;

/// Binary search of a table sorted by lowercase name, lowercasing `name` on the stack.
fn find_sorted(
    table: &'static [CommandSpec],
    name: &[u8],
    key: impl Fn(&CommandSpec) -> &str,
) -> Option<&'static CommandSpec> {
    if name.len() > MAX_NAME {
        return None;
    }
    let mut buf = [0u8; MAX_NAME];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let lower: &[u8] = lower;
    table
        .binary_search_by(|spec| key(spec).as_bytes().cmp(lower))
        .ok()
        .map(|i| &table[i])
}

#[cfg(test)]
mod tests;
