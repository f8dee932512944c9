//! Typed directive values: parsing arguments by [`Kind`], and printing values back the way
//! CONFIG GET and CONFIG REWRITE do.
//!
//! Error texts are Redis's, byte for byte; they end up after `>>> 'line'` in a fatal config
//! error or after `CONFIG SET failed (possibly related to argument '...') - `.

use crate::args::quote;
use crate::table::Kind;

/// A parsed directive value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    /// Integers and signed memory sizes; for `maxmemory-clients` a negative number is a
    /// percentage (`-10` means `10%`).
    Int(i64),
    /// Unsigned memory sizes (`maxmemory`).
    U64(u64),
    /// Index into the directive's [`Kind::Enum`] words.
    Enum(usize),
    Str(Vec<u8>),
    /// Save points as `(seconds, changes)`.
    Save(Vec<(u64, u64)>),
    Bind(Vec<String>),
    /// Limits for the normal, replica and pubsub client classes, in that order.
    ClientOutputBufferLimit([BufferLimit; 3]),
    OomScoreAdjValues([i32; 3]),
    /// A set of [`notify`] flags.
    NotifyKeyspaceEvents(u32),
    Percentiles(Vec<f64>),
    /// `None` for `no one`.
    ReplicaOf(Option<(String, u16)>),
}

/// One class of `client-output-buffer-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: u64,
}

/// Client class names as CONFIG GET prints them and as CONFIG REWRITE writes them.
const CLASS_GET_NAMES: [&str; 3] = ["normal", "slave", "pubsub"];
const CLASS_FILE_NAMES: [&str; 3] = ["normal", "replica", "pubsub"];

/// Keyspace notification flags, with the letters users write.
pub mod notify {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const KEYEVENT: u32 = 1 << 1;
    pub const GENERIC: u32 = 1 << 2;
    pub const STRING: u32 = 1 << 3;
    pub const LIST: u32 = 1 << 4;
    pub const SET: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const ZSET: u32 = 1 << 7;
    pub const EXPIRED: u32 = 1 << 8;
    pub const EVICTED: u32 = 1 << 9;
    pub const STREAM: u32 = 1 << 10;
    pub const KEY_MISS: u32 = 1 << 11;
    pub const MODULE: u32 = 1 << 12;
    pub const NEW: u32 = 1 << 13;
    /// What `A` stands for: every class except key-miss and new-key events.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

    /// The type/event letters, in the order they are printed when `A` does not cover them.
    pub(crate) const CLASS_LETTERS: [(char, u32); 10] = [
        ('g', GENERIC),
        ('$', STRING),
        ('l', LIST),
        ('s', SET),
        ('h', HASH),
        ('z', ZSET),
        ('x', EXPIRED),
        ('e', EVICTED),
        ('t', STREAM),
        ('d', MODULE),
    ];
}

pub const ERR_BOOL: &str = "argument must be 'yes' or 'no'";
pub const ERR_INT: &str = "argument couldn't be parsed into an integer";
pub const ERR_MEMORY: &str = "argument must be a memory value";
pub const ERR_MEMORY_OR_PERCENT: &str = "argument must be a memory or percent value";
pub const ERR_OCTAL: &str = "argument couldn't be parsed as an octal number";
pub const ERR_ARGC: &str = "wrong number of arguments";
pub const ERR_SAVE: &str = "Invalid save parameters";
pub const ERR_HOSTNAME: &str =
    "Hostnames may only contain alphanumeric characters, hyphens or dots";
pub const ERR_COBL_ARGC: &str = "Wrong number of arguments in buffer limit configuration.";
pub const ERR_COBL_CLASS: &str = "Invalid client class specified in buffer limit configuration.";
pub const ERR_COBL_VALUE: &str =
    "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
pub const ERR_OOM_VALUES: &str =
    "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
pub const ERR_NOTIFY: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
pub const ERR_PERCENTILES: &str = "Invalid latency-tracking-info-percentiles parameters";
pub const ERR_PERCENTILES_RANGE: &str =
    "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
pub const ERR_MASTER_PORT: &str = "Invalid master port";

/// Parses the arguments of a directive of kind `kind`. `args` is already split into words
/// for multi-argument kinds.
pub fn parse(kind: Kind, args: &[Vec<u8>]) -> Result<Value, String> {
    if !kind.is_multi_arg() && args.len() != 1 {
        return Err(ERR_ARGC.into());
    }
    let single = || args[0].as_slice();
    let value = match kind {
        Kind::Bool => Value::Bool(parse_bool(single())?),
        Kind::Int { min, max } => Value::Int(in_range(parse_int(single())?, min, max)?),
        Kind::IntClamped { min, max, lo, hi } => {
            Value::Int(in_range(parse_int(single())?, min, max)?.clamp(lo, hi))
        }
        Kind::Memory { min, max } => {
            let bytes = parse_memory(single()).ok_or(ERR_MEMORY)?;
            let bytes = i64::try_from(bytes).map_err(|_| range_error(min, max))?;
            Value::Int(in_range(bytes, min, max)?)
        }
        Kind::MemoryU64 => Value::U64(parse_memory(single()).ok_or(ERR_MEMORY)?),
        Kind::MemoryOrPercent => Value::Int(parse_memory_or_percent(single())?),
        Kind::Enum(words) => Value::Enum(parse_enum(words, single())?),
        Kind::Str => Value::Str(single().to_vec()),
        Kind::Hostname => Value::Str(parse_hostname(single())?),
        Kind::Octal => Value::Int(parse_octal(single())?),
        Kind::Dir => Value::Str(parse_dir(single())?),
        Kind::Save => Value::Save(parse_save(args)?),
        Kind::Bind => Value::Bind(args.iter().map(|a| lossy(a)).collect()),
        Kind::ClientOutputBufferLimit => unreachable!("needs the current value; see parse_cobl"),
        Kind::OomScoreAdjValues => Value::OomScoreAdjValues(parse_oom_values(args)?),
        Kind::NotifyKeyspaceEvents => Value::NotifyKeyspaceEvents(parse_notify(single())?),
        Kind::Percentiles => Value::Percentiles(parse_percentiles(args)?),
        Kind::ReplicaOf => Value::ReplicaOf(parse_replicaof(args)?),
    };
    Ok(value)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn parse_bool(arg: &[u8]) -> Result<bool, String> {
    if arg.eq_ignore_ascii_case(b"yes") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"no") {
        Ok(false)
    } else {
        Err(ERR_BOOL.into())
    }
}

/// A strict decimal integer: optional `-`, no `+`, no leading zeros, no blanks, no `-0`.
pub fn parse_int(arg: &[u8]) -> Result<i64, String> {
    let digits = arg.strip_prefix(b"-").unwrap_or(arg);
    let canonical = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || arg == b"0");
    let parsed = std::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse::<i64>().ok());
    match parsed {
        Some(n) if canonical => Ok(n),
        _ => Err(ERR_INT.into()),
    }
}

fn range_error(min: i64, max: i64) -> String {
    format!("argument must be between {min} and {max} inclusive")
}

fn in_range(n: i64, min: i64, max: i64) -> Result<i64, String> {
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(range_error(min, max))
    }
}

/// A byte count: decimal digits and an optional unit, `k`/`m`/`g` being powers of 1000 and
/// `kb`/`mb`/`gb` powers of 1024, case-insensitively.
pub fn parse_memory(arg: &[u8]) -> Option<u64> {
    let split = arg
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(arg.len());
    let (digits, unit) = arg.split_at(split);
    if digits.is_empty() {
        return None;
    }
    let multiplier: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    n.checked_mul(multiplier)
}

fn parse_memory_or_percent(arg: &[u8]) -> Result<i64, String> {
    if let Some(percent) = arg.strip_suffix(b"%") {
        let p = parse_int(percent).map_err(|_| ERR_MEMORY_OR_PERCENT)?;
        if p < 0 {
            return Err(ERR_MEMORY_OR_PERCENT.into());
        }
        return Ok(-p);
    }
    let bytes = parse_memory(arg).ok_or(ERR_MEMORY_OR_PERCENT)?;
    i64::try_from(bytes).map_err(|_| range_error(0, i64::MAX))
}

fn parse_enum(words: &[&str], arg: &[u8]) -> Result<usize, String> {
    words
        .iter()
        .position(|w| w.as_bytes().eq_ignore_ascii_case(arg))
        .ok_or_else(|| {
            format!(
                "argument(s) must be one of the following: {}",
                words.join(", ")
            )
        })
}

fn parse_hostname(arg: &[u8]) -> Result<Vec<u8>, String> {
    if arg
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')
    {
        Ok(arg.to_vec())
    } else {
        Err(ERR_HOSTNAME.into())
    }
}

fn parse_octal(arg: &[u8]) -> Result<i64, String> {
    let s = std::str::from_utf8(arg).map_err(|_| ERR_OCTAL)?;
    if s.is_empty() || !s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(ERR_OCTAL.into());
    }
    i64::from_str_radix(s, 8).map_err(|_| ERR_OCTAL.into())
}

/// `dir` must name an existing directory; the value kept is its absolute path, as CONFIG
/// GET reports it. The message on failure is the OS's, as Redis prints `strerror`.
fn parse_dir(arg: &[u8]) -> Result<Vec<u8>, String> {
    let path = std::path::Path::new(std::str::from_utf8(arg).map_err(|_| "Invalid argument")?);
    let absolute = std::fs::canonicalize(path).map_err(|e| crate::error::os_message(&e))?;
    if !absolute.is_dir() {
        return Err("Not a directory".into());
    }
    Ok(absolute.to_string_lossy().into_owned().into_bytes())
}

fn parse_save(args: &[Vec<u8>]) -> Result<Vec<(u64, u64)>, String> {
    if args.len() == 1 && args[0].is_empty() {
        return Ok(Vec::new());
    }
    if !args.len().is_multiple_of(2) {
        return Err(ERR_SAVE.into());
    }
    args.chunks(2)
        .map(|pair| {
            let seconds = parse_int(&pair[0]).map_err(|_| ERR_SAVE)?;
            let changes = parse_int(&pair[1]).map_err(|_| ERR_SAVE)?;
            if seconds < 1 || changes < 0 {
                return Err(ERR_SAVE.to_string());
            }
            Ok((seconds as u64, changes as u64))
        })
        .collect()
}

/// Applies `client-output-buffer-limit` arguments on top of the current limits: only the
/// classes named change.
pub fn parse_cobl(current: &Value, args: &[Vec<u8>]) -> Result<Value, String> {
    let Value::ClientOutputBufferLimit(mut limits) = current.clone() else {
        unreachable!("client-output-buffer-limit holds buffer limits")
    };
    if args.is_empty() || !args.len().is_multiple_of(4) {
        return Err(ERR_COBL_ARGC.into());
    }
    for group in args.chunks(4) {
        let class = match group[0].to_ascii_lowercase().as_slice() {
            b"normal" => 0,
            b"replica" | b"slave" => 1,
            b"pubsub" => 2,
            _ => return Err(ERR_COBL_CLASS.into()),
        };
        let hard = parse_memory(&group[1]);
        let soft = parse_memory(&group[2]);
        let seconds = parse_int(&group[3]).ok().filter(|s| *s >= 0);
        let (Some(hard_bytes), Some(soft_bytes), Some(seconds)) = (hard, soft, seconds) else {
            return Err(ERR_COBL_VALUE.into());
        };
        limits[class] = BufferLimit {
            hard_bytes,
            soft_bytes,
            soft_seconds: seconds as u64,
        };
    }
    Ok(Value::ClientOutputBufferLimit(limits))
}

fn parse_oom_values(args: &[Vec<u8>]) -> Result<[i32; 3], String> {
    if args.len() != 3 {
        return Err(ERR_ARGC.into());
    }
    let mut values = [0; 3];
    for (slot, arg) in values.iter_mut().zip(args) {
        let n = parse_int(arg).map_err(|_| ERR_OOM_VALUES)?;
        if !(-2000..=2000).contains(&n) {
            return Err(ERR_OOM_VALUES.into());
        }
        *slot = n as i32;
    }
    Ok(values)
}

pub fn parse_notify(arg: &[u8]) -> Result<u32, String> {
    let mut flags = 0;
    for &c in arg {
        flags |= match c {
            b'A' => notify::ALL,
            b'K' => notify::KEYSPACE,
            b'E' => notify::KEYEVENT,
            b'm' => notify::KEY_MISS,
            b'n' => notify::NEW,
            _ => notify::CLASS_LETTERS
                .iter()
                .find(|(letter, _)| *letter as u8 == c)
                .map(|(_, flag)| *flag)
                .ok_or(ERR_NOTIFY)?,
        };
    }
    Ok(flags)
}

fn parse_percentiles(args: &[Vec<u8>]) -> Result<Vec<f64>, String> {
    if args.len() == 1 && args[0].is_empty() {
        return Ok(Vec::new());
    }
    args.iter()
        .map(|arg| {
            let p: f64 = std::str::from_utf8(arg)
                .ok()
                .and_then(|s| s.parse().ok())
                .filter(|p: &f64| p.is_finite())
                .ok_or(ERR_PERCENTILES)?;
            if (0.0..=100.0).contains(&p) {
                Ok(p)
            } else {
                Err(ERR_PERCENTILES_RANGE.to_string())
            }
        })
        .collect()
}

fn parse_replicaof(args: &[Vec<u8>]) -> Result<Option<(String, u16)>, String> {
    if args.len() != 2 {
        return Err(ERR_ARGC.into());
    }
    if args[0].eq_ignore_ascii_case(b"no") && args[1].eq_ignore_ascii_case(b"one") {
        return Ok(None);
    }
    let port = parse_int(&args[1]).ok().and_then(|p| u16::try_from(p).ok());
    match port {
        Some(port) if port > 0 => Ok(Some((lossy(&args[0]), port))),
        _ => Err(ERR_MASTER_PORT.into()),
    }
}

/// The value as CONFIG GET prints it.
pub fn format_get(kind: Kind, value: &Value) -> String {
    match value {
        Value::Bool(b) => yes_no(*b).into(),
        Value::Int(n) if kind == Kind::Octal => format!("{n:o}"),
        Value::Int(n) if kind == Kind::MemoryOrPercent && *n < 0 => format!("{}%", -n),
        Value::Int(n) => n.to_string(),
        Value::U64(n) => n.to_string(),
        Value::Enum(i) => enum_word(kind, *i).into(),
        Value::Str(s) => lossy(s),
        Value::Save(points) => points
            .iter()
            .map(|(s, c)| format!("{s} {c}"))
            .collect::<Vec<_>>()
            .join(" "),
        Value::Bind(addrs) => addrs.join(" "),
        Value::ClientOutputBufferLimit(limits) => limits
            .iter()
            .zip(CLASS_GET_NAMES)
            .map(|(l, class)| {
                format!(
                    "{class} {} {} {}",
                    l.hard_bytes, l.soft_bytes, l.soft_seconds
                )
            })
            .collect::<Vec<_>>()
            .join(" "),
        Value::OomScoreAdjValues(v) => format!("{} {} {}", v[0], v[1], v[2]),
        Value::NotifyKeyspaceEvents(flags) => format_notify(*flags),
        Value::Percentiles(ps) => ps
            .iter()
            .map(|p| format!("{p}"))
            .collect::<Vec<_>>()
            .join(" "),
        Value::ReplicaOf(None) => String::new(),
        Value::ReplicaOf(Some((host, port))) => format!("{host} {port}"),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

pub(crate) fn enum_word(kind: Kind, index: usize) -> &'static str {
    match kind {
        Kind::Enum(words) => words[index],
        _ => unreachable!("enum value of a non-enum directive"),
    }
}

fn format_notify(flags: u32) -> String {
    let mut out = String::new();
    if flags & notify::ALL == notify::ALL {
        out.push('A');
    } else {
        for (letter, flag) in notify::CLASS_LETTERS {
            if flags & flag != 0 {
                out.push(letter);
            }
        }
    }
    for (letter, flag) in [
        ('K', notify::KEYSPACE),
        ('E', notify::KEYEVENT),
        ('m', notify::KEY_MISS),
        ('n', notify::NEW),
    ] {
        if flags & flag != 0 {
            out.push(letter);
        }
    }
    out
}

/// A byte count as CONFIG REWRITE writes it: in `gb`, `mb` or `kb` when exact.
fn human_bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "gb"), (1 << 20, "mb"), (1 << 10, "kb")];
    for (size, unit) in UNITS {
        if n != 0 && n.is_multiple_of(size) {
            return format!("{}{unit}", n / size);
        }
    }
    n.to_string()
}

/// The argument part of the line(s) CONFIG REWRITE writes for a value; one entry per line.
pub fn format_rewrite(kind: Kind, value: &Value) -> Vec<String> {
    match (kind, value) {
        (Kind::Memory { .. }, Value::Int(n)) => vec![human_bytes(*n as u64)],
        (Kind::MemoryOrPercent, Value::Int(n)) if *n >= 0 => vec![human_bytes(*n as u64)],
        (_, Value::U64(n)) => vec![human_bytes(*n)],
        (_, Value::Str(s)) => vec![quote(s)],
        (_, Value::NotifyKeyspaceEvents(flags)) => vec![quote(format_notify(*flags).as_bytes())],
        (_, Value::Save(points)) if points.is_empty() => vec!["\"\"".into()],
        (_, Value::Save(points)) => points.iter().map(|(s, c)| format!("{s} {c}")).collect(),
        (_, Value::ClientOutputBufferLimit(limits)) => limits
            .iter()
            .zip(CLASS_FILE_NAMES)
            .map(|(l, class)| {
                let (hard, soft) = (human_bytes(l.hard_bytes), human_bytes(l.soft_bytes));
                format!("{class} {hard} {soft} {}", l.soft_seconds)
            })
            .collect(),
        _ => vec![format_get(kind, value)],
    }
}

/// Parses a default from the table; the table is trusted, so failure is a bug.
pub fn parse_default(kind: Kind, default: &str) -> Value {
    let words: Vec<Vec<u8>> = if kind.is_multi_arg() {
        let split: Vec<Vec<u8>> = default.split(' ').map(|w| w.as_bytes().to_vec()).collect();
        split.into_iter().filter(|w| !w.is_empty()).collect()
    } else {
        vec![default.as_bytes().to_vec()]
    };
    match kind {
        Kind::ClientOutputBufferLimit => {
            let zero = BufferLimit {
                hard_bytes: 0,
                soft_bytes: 0,
                soft_seconds: 0,
            };
            parse_cobl(&Value::ClientOutputBufferLimit([zero; 3]), &words)
        }
        Kind::Save | Kind::Percentiles if words.is_empty() => parse(kind, &[Vec::new()]),
        Kind::ReplicaOf if words.is_empty() => Ok(Value::ReplicaOf(None)),
        // `dir` defaults to the working directory, filled in by the loader.
        Kind::Dir => Ok(Value::Str(Vec::new())),
        _ => parse(kind, &words),
    }
    .unwrap_or_else(|e| panic!("bad default {default:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<Vec<u8>> {
        s.split(' ').map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory(b"1b"), Some(1));
        assert_eq!(parse_memory(b"1k"), Some(1000));
        assert_eq!(parse_memory(b"1KB"), Some(1024));
        assert_eq!(parse_memory(b"1Mb"), Some(1 << 20));
        assert_eq!(parse_memory(b"1g"), Some(1_000_000_000));
        assert_eq!(parse_memory(b"1gb"), Some(1 << 30));
        assert_eq!(parse_memory(b"010"), Some(10));
        assert_eq!(parse_memory(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            " 5",
            "5 ",
            "1.5k",
            "0x10",
            "+5",
            "-1",
            "1t",
            "18446744073709551616",
            "20000000000gb",
        ] {
            assert_eq!(parse_memory(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_int(b"-5"), Ok(-5));
        assert_eq!(parse_int(b"0"), Ok(0));
        for bad in [
            "1k",
            " 1",
            "+1",
            "01",
            "1.0",
            "-0",
            "9223372036854775808",
            "",
            "-",
        ] {
            assert_eq!(parse_int(bad.as_bytes()), Err(ERR_INT.to_string()), "{bad}");
        }
    }

    #[test]
    fn kinds_report_redis_errors() {
        let int = Kind::Int {
            min: 1,
            max: 2147483647,
        };
        assert_eq!(
            parse(int, &words("0")).unwrap_err(),
            "argument must be between 1 and 2147483647 inclusive"
        );
        assert_eq!(parse(Kind::Bool, &words("maybe")).unwrap_err(), ERR_BOOL);
        assert_eq!(parse(Kind::Bool, &words("1 2")).unwrap_err(), ERR_ARGC);
        let mem = Kind::Memory {
            min: 1048576,
            max: i64::MAX,
        };
        assert_eq!(parse(mem, &words("10xb")).unwrap_err(), ERR_MEMORY);
        assert_eq!(
            parse(mem, &words("0")).unwrap_err(),
            "argument must be between 1048576 and 9223372036854775807 inclusive"
        );
        assert_eq!(
            parse(Kind::Enum(&["debug", "verbose"]), &words("loud")).unwrap_err(),
            "argument(s) must be one of the following: debug, verbose"
        );
        assert_eq!(parse(Kind::Octal, &words("8")).unwrap_err(), ERR_OCTAL);
        assert_eq!(parse(Kind::Save, &words("900")).unwrap_err(), ERR_SAVE);
        assert_eq!(parse(Kind::Save, &words("0 0")).unwrap_err(), ERR_SAVE);
        assert_eq!(
            parse(Kind::OomScoreAdjValues, &words("1 2")).unwrap_err(),
            ERR_ARGC
        );
        assert_eq!(
            parse(Kind::OomScoreAdjValues, &words("1 2 3000")).unwrap_err(),
            ERR_OOM_VALUES
        );
        assert_eq!(
            parse(Kind::NotifyKeyspaceEvents, &words("Z")).unwrap_err(),
            ERR_NOTIFY
        );
        assert_eq!(
            parse(Kind::Percentiles, &words("101")).unwrap_err(),
            ERR_PERCENTILES_RANGE
        );
        assert_eq!(
            parse(Kind::Percentiles, &words("1.5x")).unwrap_err(),
            ERR_PERCENTILES
        );
        assert_eq!(
            parse(Kind::ReplicaOf, &words("h x")).unwrap_err(),
            ERR_MASTER_PORT
        );
        assert_eq!(
            parse(Kind::Hostname, &words("abc!")).unwrap_err(),
            ERR_HOSTNAME
        );
        assert_eq!(
            parse(Kind::MemoryOrPercent, &words("abc")).unwrap_err(),
            ERR_MEMORY_OR_PERCENT
        );
        assert!(parse(Kind::Dir, &words("/nonexistent/x"))
            .unwrap_err()
            .contains("No such file"));
    }

    #[test]
    fn hz_is_clamped() {
        let hz = Kind::IntClamped {
            min: 0,
            max: i32::MAX as i64,
            lo: 1,
            hi: 500,
        };
        assert_eq!(parse(hz, &words("600")), Ok(Value::Int(500)));
        assert_eq!(parse(hz, &words("0")), Ok(Value::Int(1)));
    }

    #[test]
    fn client_output_buffer_limit_updates_named_classes() {
        let kind = Kind::ClientOutputBufferLimit;
        let default = parse_default(
            kind,
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        );
        let v = parse_cobl(&default, &words("NORMAL 1k 2kb 3 Replica 4 5 6")).unwrap();
        assert_eq!(
            format_get(kind, &v),
            "normal 1000 2048 3 slave 4 5 6 pubsub 33554432 8388608 60"
        );
        assert_eq!(format_rewrite(kind, &v)[0], "normal 1000 2kb 3");
        assert_eq!(format_rewrite(kind, &default)[1], "replica 256mb 64mb 60");
        assert_eq!(
            parse_cobl(&v, &words("foo 1 2 3")).unwrap_err(),
            ERR_COBL_CLASS
        );
        assert_eq!(
            parse_cobl(&v, &words("normal 1 2")).unwrap_err(),
            ERR_COBL_ARGC
        );
        assert_eq!(
            parse_cobl(&v, &words("normal abc 0 0")).unwrap_err(),
            ERR_COBL_VALUE
        );
        assert_eq!(
            parse_cobl(&v, &words("normal 1 0 -1")).unwrap_err(),
            ERR_COBL_VALUE
        );
    }

    #[test]
    fn notify_flags_print_like_redis() {
        let get = |s: &str| format_notify(parse_notify(s.as_bytes()).unwrap());
        assert_eq!(get("KEA"), "AKE");
        assert_eq!(get("gx"), "gx");
        assert_eq!(get("Kx"), "xK");
        assert_eq!(get("g$lshzxetd"), "A");
        assert_eq!(get("Em"), "Em");
        assert_eq!(get(""), "");
    }

    #[test]
    fn formats_match_config_get() {
        let save = parse_default(Kind::Save, "3600 1 300 100 60 10000");
        assert_eq!(format_get(Kind::Save, &save), "3600 1 300 100 60 10000");
        assert_eq!(
            format_rewrite(Kind::Save, &save),
            ["3600 1", "300 100", "60 10000"]
        );
        let p = parse(Kind::Percentiles, &words("50 99.99 100 0.5")).unwrap();
        assert_eq!(format_get(Kind::Percentiles, &p), "50 99.99 100 0.5");
        assert_eq!(
            format_get(Kind::Octal, &parse(Kind::Octal, &words("0755")).unwrap()),
            "755"
        );
        assert_eq!(format_get(Kind::MemoryOrPercent, &Value::Int(-10)), "10%");
        let mem = Kind::Memory {
            min: 0,
            max: i64::MAX,
        };
        assert_eq!(format_rewrite(mem, &Value::Int(1 << 20)), ["1mb"]);
        assert_eq!(format_rewrite(mem, &Value::Int(1000)), ["1000"]);
        assert_eq!(
            format_rewrite(Kind::Str, &Value::Str(b"p w\"".to_vec())),
            [r#""p w\"""#]
        );
    }
}
