//! Key extraction: which arguments of a command line are keys, and how each is
//! accessed.
//!
//! This is Redis's `getKeysFromCommandWithSpecs` (db.c): key specs are preferred when
//! the command has real (not `NOT_KEY`) specs and none has `VARIABLE_FLAGS`; if a spec
//! cannot be applied to these arguments (unknown begin search, bad numkeys, out of
//! range, or `INCOMPLETE`), the command's hand-written [`GetKeys`] callback decides.
//! The callbacks keep Redis's quirks (e.g. `atoi` for numkeys, SORT's last STORE
//! wins), because `COMMAND GETKEYS`, ACL key checks and cluster routing must agree
//! with Redis on every input.
//!
//! Nothing here allocates beyond growing the caller's reused `Vec`.

use crate::{flags, key_flags, lookup_argv, BeginSearch, CommandSpec, FindKeys, GetKeys};
use std::fmt;

/// One key argument: its index in argv (the command name is index 0) and the key spec
/// flags that say how the command accesses it (0 when Redis's callback gives none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    pub pos: usize,
    /// Bits from [`crate::key_flags`].
    pub flags: u32,
}

/// Why keys could not be extracted. `message()` is Redis's error text for
/// `COMMAND GETKEYS` (to be sent with the `ERR ` prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The command named in COMMAND GETKEYS does not exist.
    InvalidCommand,
    /// The command never takes keys.
    NoKeyArguments,
    /// The argument count does not match the arity.
    WrongArity,
    /// The command takes keys, but these arguments name none (e.g. numkeys 0).
    InvalidArguments,
}

impl KeyError {
    pub fn message(self) -> &'static str {
        match self {
            KeyError::InvalidCommand => "Invalid command specified",
            KeyError::NoKeyArguments => "The command has no key arguments",
            KeyError::WrongArity => "Invalid number of arguments specified for command",
            KeyError::InvalidArguments => "Invalid arguments specified for command",
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for KeyError {}

/// Options of [`keys_from_specs`] (Redis's `GET_KEYSPEC_*` search flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeySearch {
    /// Also return arguments of `NOT_KEY` specs (shard channels of SPUBLISH & co).
    pub include_not_keys: bool,
    /// Skip specs that cannot be applied instead of failing as a whole.
    pub return_partial: bool,
}

/// The keys of the command line `argv` (name first, then subcommand if any), written
/// to `out` (cleared first). Used on the hot path for locking, ACL key checks and
/// cluster slots; `spec` must be what [`lookup_argv`] returns for `argv`.
///
/// Every position is within `argv`, even when the arity has not been checked yet.
/// A command without key arguments gives `Ok` with no keys. A command that takes keys
/// but finds none in these arguments (and is not `NO_MANDATORY_KEYS`) gives
/// [`KeyError::InvalidArguments`]; the command itself will then reply with its own
/// syntax error.
pub fn key_positions<A: AsRef<[u8]>>(
    spec: &CommandSpec,
    argv: &[A],
    out: &mut Vec<KeyRef>,
) -> Result<(), KeyError> {
    out.clear();
    let any_real_spec = spec
        .key_specs
        .iter()
        .any(|ks| ks.flags & key_flags::NOT_KEY == 0);
    let variable_flags = spec
        .key_specs
        .iter()
        .any(|ks| ks.flags & key_flags::VARIABLE_FLAGS != 0);
    let mut done = false;
    if any_real_spec && !variable_flags {
        done = keys_from_specs(spec, argv, KeySearch::default(), out);
    }
    if !done {
        out.clear();
        get_keys_callback(spec.get_keys, argv, out);
        // Redis's callbacks trust the arity check; this function may run before it.
        out.retain(|key| key.pos < argv.len());
    }
    if out.is_empty() && spec.has_keys() && !spec.has(flags::NO_MANDATORY_KEYS) {
        return Err(KeyError::InvalidArguments);
    }
    Ok(())
}

/// `COMMAND GETKEYS` / `GETKEYSANDFLAGS`: `argv` is the command line after the
/// subcommand. Returns the command and fills `out`, or the error Redis replies with.
pub fn getkeys<A: AsRef<[u8]>>(
    argv: &[A],
    out: &mut Vec<KeyRef>,
) -> Result<&'static CommandSpec, KeyError> {
    out.clear();
    let spec = lookup_argv(argv).ok_or(KeyError::InvalidCommand)?;
    if !spec.has_keys() {
        return Err(KeyError::NoKeyArguments);
    }
    if !spec.arity_ok(argv.len()) {
        return Err(KeyError::WrongArity);
    }
    key_positions(spec, argv, out)?;
    Ok(spec)
}

/// Applies the key specs alone (Redis's `getKeysUsingKeySpecs`), appending to `out`.
/// Returns false when a spec cannot be applied to these arguments (unknown, invalid
/// numkeys, out of range, or `INCOMPLETE`) and `return_partial` is off; `out` then
/// holds what was found before.
pub fn keys_from_specs<A: AsRef<[u8]>>(
    spec: &CommandSpec,
    argv: &[A],
    search: KeySearch,
    out: &mut Vec<KeyRef>,
) -> bool {
    let argc = argv.len() as i64;
    for ks in spec.key_specs {
        if ks.flags & key_flags::NOT_KEY != 0 && !search.include_not_keys {
            continue;
        }
        let applied = match begin_search(ks.begin_search, argv) {
            Begin::NotFound => continue,
            Begin::Invalid => false,
            Begin::At(first) => match key_range(ks.find_keys, first, argv) {
                Some((first, last, step)) => {
                    push_range(first, last, step, argc, ks.flags, out);
                    ks.flags & key_flags::INCOMPLETE == 0
                }
                None => false,
            },
        };
        if !applied && !search.return_partial {
            return false;
        }
    }
    true
}

enum Begin {
    At(i64),
    NotFound,
    Invalid,
}

fn begin_search<A: AsRef<[u8]>>(begin: BeginSearch, argv: &[A]) -> Begin {
    let argc = argv.len() as i64;
    match begin {
        BeginSearch::Index(pos) => Begin::At(pos as i64),
        BeginSearch::Keyword { keyword, startfrom } => {
            let startfrom = startfrom as i64;
            let (start, end) = if startfrom > 0 {
                (startfrom, argc - 1)
            } else {
                (argc + startfrom, 1)
            };
            let forward = start <= end;
            // As in Redis, `end` itself is not examined: a keyword there has no key after it.
            let mut i = start;
            while i != end {
                if i >= argc || i < 1 {
                    break;
                }
                if argv[i as usize]
                    .as_ref()
                    .eq_ignore_ascii_case(keyword.as_bytes())
                {
                    return Begin::At(i + 1);
                }
                i += if forward { 1 } else { -1 };
            }
            Begin::NotFound
        }
        BeginSearch::Unknown => Begin::Invalid,
    }
}

/// The first and last key index and the step, or `None` if the spec does not fit.
fn key_range<A: AsRef<[u8]>>(find: FindKeys, first: i64, argv: &[A]) -> Option<(i64, i64, i64)> {
    let argc = argv.len() as i64;
    let (first, last, step) = match find {
        FindKeys::Range {
            lastkey,
            step,
            limit,
        } => {
            let (lastkey, limit) = (lastkey as i64, limit as i64);
            let last = if lastkey >= 0 {
                first + lastkey
            } else if limit == 0 {
                argc + lastkey
            } else {
                first + ((argc - first) / limit + lastkey)
            };
            (first, last, step as i64)
        }
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            step,
        } => {
            let numkeys_at = first + keynumidx as i64;
            if numkeys_at < 0 || numkeys_at >= argc {
                return None;
            }
            let numkeys = string2ll(argv[numkeys_at as usize].as_ref()).filter(|&n| n >= 0)?;
            let first = first + firstkey as i64;
            // Redis truncates numkeys to a C int here.
            (first, first + (numkeys as i32) as i64 - 1, step as i64)
        }
        FindKeys::Unknown => return None,
    };
    if last >= argc || last < first || first >= argc || step <= 0 {
        return None;
    }
    Some((first, last, step))
}

fn push_range(first: i64, last: i64, step: i64, argc: i64, flags: u32, out: &mut Vec<KeyRef>) {
    let mut i = first;
    while i <= last && i < argc {
        out.push(KeyRef {
            pos: i as usize,
            flags,
        });
        i += step;
    }
}

/// Redis's `*GetKeys` callbacks (db.c).
fn get_keys_callback<A: AsRef<[u8]>>(get_keys: GetKeys, argv: &[A], out: &mut Vec<KeyRef>) {
    use key_flags::{ACCESS, DELETE, OW, RO, RW, UPDATE};
    let arg = |i: usize| argv.get(i).map_or(&b""[..], |a| a.as_ref());
    let argc = argv.len();
    match get_keys {
        GetKeys::None => {}
        GetKeys::NumKeys {
            store,
            count,
            first,
        } => {
            let (store, first) = (store as usize, first as usize);
            let num = atoi(arg(count as usize)) as i64;
            // No keys when the command is going to reply with a syntax error.
            if num < 1 || num > (argc as i64 - first as i64) {
                return;
            }
            out.extend((0..num as usize).map(|i| KeyRef {
                pos: first + i,
                flags: 0,
            }));
            if store != 0 {
                out.push(KeyRef {
                    pos: store,
                    flags: 0,
                });
            }
        }
        GetKeys::SortRo => out.push(KeyRef {
            pos: 1,
            flags: RO | ACCESS,
        }),
        GetKeys::Sort => {
            out.push(KeyRef {
                pos: 1,
                flags: RO | ACCESS,
            });
            let mut store = None;
            let mut i = 2;
            while i < argc {
                let a = arg(i);
                if a.eq_ignore_ascii_case(b"limit") {
                    i += 2;
                } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
                    i += 1;
                } else if a.eq_ignore_ascii_case(b"store") && i + 1 < argc {
                    // The last STORE wins, as in SORT itself; its key is then scanned as
                    // an option too, as Redis does.
                    store = Some(i + 1);
                }
                i += 1;
            }
            if let Some(pos) = store {
                out.push(KeyRef {
                    pos,
                    flags: OW | UPDATE,
                });
            }
        }
        GetKeys::Migrate => {
            let (mut first, mut num) = (3, 1);
            if argc > 6 {
                let mut i = 6;
                while i < argc {
                    let a = arg(i);
                    if a.eq_ignore_ascii_case(b"keys") {
                        if !arg(3).is_empty() {
                            // A syntax error MIGRATE itself reports.
                            num = 0;
                        } else {
                            first = i + 1;
                            num = argc - first;
                        }
                        break;
                    }
                    if a.eq_ignore_ascii_case(b"auth") {
                        i += 1;
                    } else if a.eq_ignore_ascii_case(b"auth2") {
                        i += 2;
                    }
                    i += 1;
                }
            }
            out.extend((first..first + num).map(|pos| KeyRef {
                pos,
                flags: RW | ACCESS | DELETE,
            }));
        }
        GetKeys::Georadius => {
            let mut stored = None;
            let mut i = 5;
            while i < argc {
                let a = arg(i);
                if (a.eq_ignore_ascii_case(b"store") || a.eq_ignore_ascii_case(b"storedist"))
                    && i + 1 < argc
                {
                    stored = Some(i + 1);
                    i += 1;
                }
                i += 1;
            }
            out.push(KeyRef { pos: 1, flags: 0 });
            if let Some(pos) = stored {
                out.push(KeyRef { pos, flags: 0 });
            }
        }
        GetKeys::Xread => {
            let mut streams = None;
            let mut i = 1;
            while i < argc {
                let a = arg(i);
                if a.eq_ignore_ascii_case(b"block") || a.eq_ignore_ascii_case(b"count") {
                    i += 1;
                } else if a.eq_ignore_ascii_case(b"group") {
                    i += 2;
                } else if a.eq_ignore_ascii_case(b"noack") {
                } else if a.eq_ignore_ascii_case(b"streams") {
                    streams = Some(i);
                    break;
                } else {
                    break;
                }
                i += 1;
            }
            let Some(streams) = streams else { return };
            let num = argc - streams - 1;
            if num == 0 || num % 2 != 0 {
                return;
            }
            out.extend((streams + 1..streams + 1 + num / 2).map(|pos| KeyRef { pos, flags: 0 }));
        }
        GetKeys::Set => {
            let get = (3..argc).any(|i| arg(i).eq_ignore_ascii_case(b"get"));
            let flags = if get {
                RW | ACCESS | UPDATE
            } else {
                OW | UPDATE
            };
            out.push(KeyRef { pos: 1, flags });
        }
        GetKeys::Bitfield => {
            let mut readonly = true;
            let mut i = 2;
            while i < argc {
                let remaining = argc - i - 1;
                let a = arg(i);
                if a.eq_ignore_ascii_case(b"get") && remaining >= 2 {
                    i += 2;
                } else if (a.eq_ignore_ascii_case(b"set") || a.eq_ignore_ascii_case(b"incrby"))
                    && remaining >= 3
                {
                    readonly = false;
                    break;
                } else if a.eq_ignore_ascii_case(b"overflow") && remaining >= 1 {
                    i += 1;
                } else {
                    // A syntax error: safer to assume the command writes.
                    readonly = false;
                    break;
                }
                i += 1;
            }
            let flags = if readonly {
                RO | ACCESS
            } else {
                RW | ACCESS | UPDATE
            };
            out.push(KeyRef { pos: 1, flags });
        }
    }
}

/// Redis's `string2ll`: a strict decimal i64 (optional `-`, no `+`, no spaces, no
/// leading zeros).
fn string2ll(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    match digits {
        [] => return None,
        [b'0'] if !negative => return Some(0),
        [b'0', ..] => return None,
        _ => {}
    }
    let mut value: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let digit = (d - b'0') as i64;
        value = value.checked_mul(10)?;
        value = if negative {
            value.checked_sub(digit)?
        } else {
            value.checked_add(digit)?
        };
    }
    Some(value)
}

/// C's `atoi` as glibc implements it (`(int)strtol(s, NULL, 10)`): leading
/// whitespace, an optional sign, then digits up to the first non-digit; saturates at
/// the `long` limits before the truncation to `int`.
fn atoi(s: &[u8]) -> i32 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut value: i64 = 0;
    while let Some(d) = s.get(i).filter(|d| d.is_ascii_digit()) {
        let digit = (d - b'0') as i64;
        value = if negative {
            value.saturating_mul(10).saturating_sub(digit)
        } else {
            value.saturating_mul(10).saturating_add(digit)
        };
        i += 1;
    }
    value as i32
}

#[cfg(test)]
mod tests;
