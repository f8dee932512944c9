//! Seeded random differential test of hash-field expiration (Redis 7.4's HEXPIRE family)
//! against Valkey 9, the 7.4+ reference on this machine (redis-server here is 7.0). A
//! splitmix64 stream of hash commands over three hash keys and one string key (for
//! WRONGTYPE) goes to vireo-server and to Valkey; replies are compared byte for byte except
//! where noted below, and every `DUMP_EVERY` steps each key is dumped on both sides (type,
//! encoding, sorted field/value pairs, each field's HPEXPIRETIME). Hash listpacks hold at
//! most 4 entries on both, so listpack <-> hashtable conversions happen often. A `DUMP src dst`
//! step restores each server's own DUMP of src into dst, so field TTLs also go through
//! each side's serialization (vireo writes Redis 7.4's hash-with-metadata RDB types). On the first
//! difference the test fails with the seed, the step and the last commands.
//!
//! Defaults fit the CI budget; run longer with e.g.
//! `VIREO_RANDOM_SEEDS=1-200 VIREO_RANDOM_STEPS=20000 cargo test -p vireo --test random_hash_expire`
//! (`VIREO_RANDOM_HISTORY=n` shows more commands on failure). Without the Valkey binary the
//! test prints that it is skipped and passes.
//!
//! The keyspace notifications of every command are compared as well (a subscriber on each
//! server, `notify-keyspace-events` flags per seed).
//!
//! Time never makes a step flaky: every time is either in the past (0, 1, years ago: the
//! field is deleted at once, reply 2) or at least 1000 s ahead. Absolute times come from a
//! clock read once at the start and shared by both servers. Relative future times are all
//! distinct multiples of 1000 s and absolute ones sit 500 s off that grid, so NX/XX/GT/LT
//! outcomes never hinge on the few milliseconds between the two servers' clocks; after a
//! relative HEXPIRE/HPEXPIRE, the fields it set are re-anchored on both servers to vireo's
//! absolute time (HPEXPIREAT), so expiry times can then be compared exactly.
//!
//! Where Valkey departs from Redis 7.4's documented behaviour, vireo follows Redis 7.4 and
//! this test normalises (the exact Redis 7.4 replies are asserted in tests/hash_expire.rs):
//! - errors of the HEXPIRE family: Valkey words them differently and checks the arguments
//!   before the key's type; both must refuse, and vireo's text must be one of Redis 7.4's.
//!   Redis's lookup comes first, so it may publish a `keymiss` Valkey does not: the
//!   notifications of a refused HEXPIRE-family command are not compared;
//! - HEXPIRETIME: Redis rounds the millisecond time up to the next second, Valkey rounds it
//!   to the nearest;
//! - HTTL/HPTTL: compared within a tolerance (they move with the clock; HTTL also rounds up
//!   in Redis and truncates in Valkey);
//! - OBJECT ENCODING: Redis reports `listpackex` for a small hash the HEXPIRE family
//!   touched, where Valkey shows `listpack` (nothing set) or `hashtable` (a TTL set);
//! - two options: Redis reads one and then wants FIELDS, Valkey takes `XX GT`, `XX LT` and
//!   one option repeated (as EXPIRE does), so only pairs both refuse are generated;
//! - OBJECT ENCODING of the string key: Valkey 8+ keeps longer strings `embstr`;
//! - times from 2^46 ms on: Redis refuses them, Valkey takes them, so HPEXPIREAT and
//!   HEXPIREAT get only times both refuse (they overflow) or both accept.

mod common;

use common::random::{self, same_shape, scan_all, sort_pairs, to_strings, Notifications, Rng};
use common::{RawClient, Reply, Server};
use std::time::{SystemTime, UNIX_EPOCH};

const DEFAULT_SEEDS: &[u64] = &[1, 2, 3, 4];
const DEFAULT_STEPS: usize = 2000;
const DUMP_EVERY: usize = 200;
const HISTORY: usize = 25;

const HASHES: &[&str] = &["h0", "h1", "h2"];
const STRING: &str = "s";
const KEYS: &[&str] = &["h0", "h1", "h2", "h3", "s"];

const FIELDS: &[&str] = &[
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "1",
    "",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff-long",
];
const VALUES: &[&str] = &[
    "1",
    "0",
    "-3",
    "abc",
    "1.5",
    "",
    "9223372036854775807",
    "1e3",
    "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv-long",
];

/// Error texts Redis 7.4 gives for the HEXPIRE family (vireo must use one of them).
const REDIS_HFE_ERRORS: &[&str] = &[
    "WRONGTYPE Operation against a key holding the wrong kind of value",
    "ERR value is not an integer or out of range",
    "ERR invalid expire time, must be >= 0",
    "ERR invalid expire time in '",
    "ERR Mandatory argument FIELDS is missing or not at the right position",
    "ERR Parameter `numFields` should be greater than 0",
    "ERR Number of fields must be a positive integer",
    "ERR The `numfields` parameter must match the number of arguments",
    "ERR wrong number of arguments for '",
];

const HFE: &[&str] = &[
    "HEXPIRE",
    "HPEXPIRE",
    "HEXPIREAT",
    "HPEXPIREAT",
    "HTTL",
    "HPTTL",
    "HEXPIRETIME",
    "HPEXPIRETIME",
    "HPERSIST",
];

/// How a step's replies are compared.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cmp {
    Exact,
    Sorted,
    Pairs,
    /// A random pick that is not the whole hash: same shape only.
    Shape,
    /// HSCAN from cursor 0 iterated to the end, the union compared.
    Scan {
        pairs: bool,
    },
    Encoding,
    /// `DUMP src dst`: each server restores its own DUMP of src into dst (REPLACE), so
    /// field TTLs go through each side's serialization; the RESTORE replies are compared.
    DumpRestore,
    /// The HEXPIRE family (see the module comment); `relative` asks for re-anchoring.
    Hfe {
        relative: bool,
    },
}

struct Gen {
    args: Vec<String>,
    cmp: Cmp,
}

macro_rules! argv {
    ($($a:expr),* $(,)?) => { vec![$(String::from($a)),*] };
}

fn exact(args: Vec<String>) -> Gen {
    Gen {
        args,
        cmp: Cmp::Exact,
    }
}

struct Generator {
    rng: Rng,
    /// Seconds since the epoch at the start, shared by both servers.
    t0: i64,
    /// Relative future times not used yet (in units of 1000 s), so no two are equal.
    fresh: Vec<i64>,
}

impl Generator {
    fn new(seed: u64, t0: i64) -> Generator {
        let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x4846_4521);
        let mut fresh: Vec<i64> = (1..=30_000).collect();
        for i in (1..fresh.len()).rev() {
            fresh.swap(i, rng.below(i + 1));
        }
        Generator { rng, t0, fresh }
    }

    fn pick(&mut self, items: &[&str]) -> String {
        self.rng.pick(items).to_string()
    }

    fn key(&mut self) -> String {
        if self.rng.chance(88) {
            self.pick(HASHES)
        } else {
            self.pick(KEYS)
        }
    }

    fn field(&mut self) -> String {
        self.pick(FIELDS)
    }

    fn value(&mut self) -> String {
        if self.rng.chance(20) {
            self.field()
        } else {
            self.pick(VALUES)
        }
    }

    fn fields(&mut self, max: usize) -> Vec<String> {
        let n = 1 + self.rng.below(max);
        (0..n).map(|_| self.field()).collect()
    }

    fn fresh_thousands(&mut self) -> i64 {
        self.fresh.pop().expect("relative times left")
    }

    /// A time argument for `cmd`, and whether it is relative and in the future.
    fn time(&mut self, cmd: &str) -> (String, bool) {
        let ms = cmd.starts_with("HP");
        let at = cmd.ends_with("AT");
        let roll = self.rng.below(100);
        if roll < 4 {
            let bad = self.pick(&["-1", "-1000", "abc", "", "1.5", "99999999999999999999"]);
            return (bad, false);
        }
        if roll < 6 {
            // Too large on both (the conversion to milliseconds or the addition of the
            // current time overflows).
            let huge = match (ms, at) {
                (false, false) => self.pick(&["9223372036854775", "9223372036854775807"]),
                (true, false) | (false, true) => "9223372036854775807".to_string(),
                (true, true) => "0".to_string(),
            };
            return (huge, false);
        }
        if roll < 27 {
            let past = if at && self.rng.chance(50) {
                let years_ago = self.t0 - 3 * 365 * 86_400;
                if ms {
                    years_ago * 1000 + 17
                } else {
                    years_ago
                }
            } else if at {
                self.rng.below(2) as i64
            } else {
                0
            };
            return (past.to_string(), false);
        }
        let jitter = if ms {
            self.pick(&["0", "1", "499", "999"]).parse().unwrap()
        } else {
            0
        };
        if at {
            let k = if self.rng.chance(50) {
                1 + self.rng.below(40) as i64
            } else {
                1 + self.rng.below(30_000) as i64
            };
            let secs = self.t0 + 1000 * k + 500;
            let t = if ms { secs * 1000 + jitter } else { secs };
            (t.to_string(), false)
        } else {
            let secs = 1000 * self.fresh_thousands();
            let t = if ms { secs * 1000 + jitter } else { secs };
            (t.to_string(), true)
        }
    }

    /// `FIELDS n f...`, now and then with a wrong count or keyword.
    fn fields_clause(&mut self, args: &mut Vec<String>) {
        let fields = self.fields(4);
        let roll = self.rng.below(100);
        if roll < 3 {
            args.push(self.pick(&["FIELD", "fieldz", "NX"]));
        } else {
            args.push(self.pick(&["FIELDS", "fields"]));
        }
        if (3..10).contains(&roll) {
            args.push(self.pick(&["0", "-1", "x", "5", "2", "1"]));
        } else {
            args.push(fields.len().to_string());
        }
        args.extend(fields);
    }

    fn next(&mut self) -> Gen {
        let mut gen = match self.rng.below(100) {
            0..=39 => self.hfe(),
            40..=84 => self.hash(),
            _ => self.generic(),
        };
        if self.rng.chance(2) && gen.args.len() > 1 {
            gen.args.pop();
        } else if self.rng.chance(2) {
            gen.args.push(self.pick(&["junk", "1", "NX", "FIELDS"]));
        }
        // HRANDFIELD over the whole hash may have lost its count or WITHVALUES above.
        if gen.args[0] == "HRANDFIELD" && gen.args.get(2).is_some_and(|c| c == "100") {
            gen.cmp = match gen.args.get(3).map(String::as_str) {
                None => Cmp::Sorted,
                Some("WITHVALUES") => Cmp::Pairs,
                Some(_) => Cmp::Exact,
            };
        } else if gen.args[0] == "HRANDFIELD" {
            gen.cmp = Cmp::Shape;
        }
        gen
    }

    fn hfe(&mut self) -> Gen {
        let k = self.key();
        let cmd = self.pick(HFE);
        let mut args = argv![cmd.as_str(), k];
        let mut relative = false;
        if cmd.contains("EXPIRE") && !cmd.ends_with("TIME") {
            let (t, rel) = self.time(&cmd);
            relative = rel;
            args.push(t);
            if self.rng.chance(40) {
                let opts: &[&str] = if self.rng.chance(5) {
                    &["YY", "nxx", ""]
                } else {
                    &["NX", "XX", "GT", "LT", "nx", "gt"]
                };
                let first = self.pick(opts);
                args.push(first.clone());
                // Two options: Redis 7.4 reads one and then wants FIELDS; Valkey takes
                // XX with GT or LT, and one option repeated, as EXPIRE does. So only pairs
                // both refuse.
                if self.rng.chance(3) {
                    let second = self.pick(&["NX", "XX", "GT", "LT"]);
                    let pair = [first.to_ascii_uppercase(), second.clone()];
                    let nx = pair.iter().any(|o| o == "NX");
                    let gt_lt = pair.iter().any(|o| o == "GT") && pair.iter().any(|o| o == "LT");
                    let known = ["NX", "XX", "GT", "LT"].contains(&pair[0].as_str());
                    if pair[0] != pair[1] && (nx || gt_lt || !known) {
                        args.push(second);
                    }
                }
            }
        }
        self.fields_clause(&mut args);
        Gen {
            args,
            cmp: Cmp::Hfe { relative },
        }
    }

    fn hash(&mut self) -> Gen {
        let k = self.key();
        // The first three slots also land on HSET, so hashes hold more fields to expire.
        match self.rng.below(33).saturating_sub(3) {
            0..=5 => {
                let mut a = argv![self.pick(&["HSET", "HSET", "HMSET"]), k];
                for _ in 0..1 + self.rng.below(3) {
                    a.push(self.field());
                    a.push(self.value());
                }
                exact(a)
            }
            6 => exact(argv!["HSETNX", k, self.field(), self.value()]),
            7..=8 => exact(argv!["HGET", k, self.field()]),
            9 => {
                let mut a = argv!["HMGET", k];
                a.extend(self.fields(4));
                exact(a)
            }
            10..=12 => {
                let mut a = argv!["HDEL", k];
                a.extend(self.fields(3));
                exact(a)
            }
            13 => exact(argv!["HLEN", k]),
            14 => exact(argv!["HEXISTS", k, self.field()]),
            15 => exact(argv!["HSTRLEN", k, self.field()]),
            16 => {
                let by = self.pick(&["1", "-2", "100", "x", "9223372036854775807"]);
                exact(argv!["HINCRBY", k, self.field(), by])
            }
            17 => {
                let by = self.pick(&["1.5", "-2", "0.25", "x", "inf"]);
                exact(argv!["HINCRBYFLOAT", k, self.field(), by])
            }
            18 => Gen {
                args: argv!["HGETALL", k],
                cmp: Cmp::Pairs,
            },
            19..=20 => Gen {
                args: argv![self.pick(&["HKEYS", "HVALS"]), k],
                cmp: Cmp::Sorted,
            },
            21..=23 => {
                if self.rng.chance(20) {
                    let count = self.pick(&["-3", "1", "2"]);
                    return Gen {
                        args: argv!["HRANDFIELD", k, count],
                        cmp: Cmp::Shape,
                    };
                }
                let mut a = argv!["HRANDFIELD", k];
                if self.rng.chance(15) {
                    return Gen {
                        args: a,
                        cmp: Cmp::Shape,
                    };
                }
                a.push("100".into());
                let pairs = self.rng.chance(50);
                if pairs {
                    a.push("WITHVALUES".into());
                }
                Gen {
                    args: a,
                    cmp: if pairs { Cmp::Pairs } else { Cmp::Sorted },
                }
            }
            24..=26 => {
                let mut a = argv!["HSCAN", k, "0"];
                if self.rng.chance(30) {
                    a.push("MATCH".into());
                    a.push(self.pick(&["*", "a*", "[a-c]", "?"]));
                }
                if self.rng.chance(30) {
                    a.push("COUNT".into());
                    a.push(self.pick(&["1", "2", "10"]));
                }
                let novalues = self.rng.chance(40);
                if novalues {
                    a.push("NOVALUES".into());
                }
                Gen {
                    args: a,
                    cmp: Cmp::Scan { pairs: !novalues },
                }
            }
            _ => Gen {
                args: argv!["OBJECT", "ENCODING", k],
                cmp: Cmp::Encoding,
            },
        }
    }

    fn generic(&mut self) -> Gen {
        let any = |g: &mut Generator| g.pick(KEYS);
        match self.rng.below(9) {
            0 => exact(argv!["DEL", any(self)]),
            1 => exact(argv!["EXISTS", any(self), any(self)]),
            2 => exact(argv!["TYPE", any(self)]),
            3..=4 => {
                let mut a = argv!["COPY", any(self), any(self)];
                if self.rng.chance(50) {
                    a.push("REPLACE".into());
                }
                exact(a)
            }
            5 => exact(argv!["RENAME", any(self), any(self)]),
            6 => exact(argv!["SET", STRING, self.value()]),
            7 => Gen {
                args: argv!["DUMP", any(self), any(self)],
                cmp: Cmp::DumpRestore,
            },
            _ => Gen {
                args: argv!["OBJECT", "ENCODING", any(self)],
                cmp: Cmp::Encoding,
            },
        }
    }
}

fn ints(reply: &Reply) -> Option<Vec<i64>> {
    reply
        .elements()?
        .iter()
        .map(|r| match r {
            Reply::Integer(n) => Some(*n),
            _ => None,
        })
        .collect()
}

/// OBJECT ENCODING: `listpackex` (Redis 7.4's small hash touched by the HEXPIRE family)
/// stands for Valkey's `listpack` or `hashtable`; string encodings only need to be string
/// encodings (Valkey 8+ embeds longer strings than Redis's 44 bytes); the rest must match.
fn same_encoding(vireo: &Reply, valkey: &Reply) -> bool {
    let string = |r: &Reply| matches!(r.bytes(), Some(b"raw" | b"embstr" | b"int"));
    vireo == valkey
        || (string(vireo) && string(valkey))
        || (vireo.bytes() == Some(b"listpackex")
            && matches!(valkey.bytes(), Some(b"listpack" | b"hashtable")))
}

/// notify-keyspace-events, by seed (hash events are class `h`, `hexpired` included).
const NOTIFY_FLAGS: &[&str] = &["KEA", "KEAmn", "Kh", "Ehg$x"];

struct Run {
    seed: u64,
    vireo: RawClient,
    valkey: RawClient,
    events: Notifications,
    history: random::History,
    _servers: Vec<Server>,
}

impl Run {
    fn start(seed: u64) -> Option<Run> {
        let valkey = common::valkey::server(&[])?;
        let vireo = Server::vireo(&[]);
        let mut run = Run {
            seed,
            vireo: vireo.raw(),
            valkey: valkey.raw(),
            events: Notifications::start(&vireo, &valkey),
            history: random::History::new(HISTORY),
            _servers: vec![vireo, valkey],
        };
        let (v, k) = run.both(&to_strings(&[
            "CONFIG",
            "SET",
            "hash-max-listpack-entries",
            "4",
        ]));
        assert!(v == common::reply::ok() && k == v, "{v} / {k}");
        let flags = NOTIFY_FLAGS[(seed % NOTIFY_FLAGS.len() as u64) as usize];
        let (v, k) = run.both(&to_strings(&[
            "CONFIG",
            "SET",
            "notify-keyspace-events",
            flags,
        ]));
        assert!(v == common::reply::ok() && k == v, "{v} / {k}");
        if seed.is_multiple_of(3) {
            let (v, k) = run.both(&to_strings(&["HELLO", "3"]));
            assert!(!v.is_error() && !k.is_error(), "HELLO 3: {v} / {k}");
        }
        Some(run)
    }

    fn both(&mut self, args: &[String]) -> (Reply, Reply) {
        let frame = common::encode_command(args);
        self.vireo.send(&frame).expect("send to vireo");
        self.valkey.send(&frame).expect("send to valkey");
        let v = self.vireo.read_reply().expect("vireo reply");
        let k = self.valkey.read_reply().expect("valkey reply");
        (v, k)
    }

    fn note(&mut self, step: usize, args: &[String], v: &Reply, k: &Reply) {
        self.history.note(step, args, [("vireo", v), ("valkey", k)]);
    }

    fn fail(&self, step: usize, what: &str) -> ! {
        self.history
            .fail("random hash-expire failure", self.seed, step, what)
    }

    /// Sends to both, notes it, fails unless `ok(vireo, valkey)`.
    fn check(&mut self, step: usize, args: &[String], ok: impl Fn(&Reply, &Reply) -> bool) {
        let (v, k) = self.both(args);
        self.note(step, args, &v, &k);
        if !ok(&v, &k) {
            self.fail(step, "replies differ");
        }
    }

    /// The keyspace notifications since the last call must be the same on both sides.
    fn compare_events(&mut self, step: usize, args: &[String]) {
        if let Some(report) = random::events_differ(&mut self.events, args, "valkey", false) {
            self.history.push(report);
            self.fail(step, "keyspace notifications differ");
        }
    }

    fn step(&mut self, step: usize, gen: &Gen) {
        let args = &gen.args;
        // What the checks sent before (dumps, re-anchoring, one side's HPEXPIRETIME) is not
        // compared: only the notifications of each step's own command.
        self.events.both();
        match gen.cmp {
            Cmp::Exact => self.check(step, args, |v, k| v == k),
            Cmp::Sorted => self.check(step, args, |v, k| v.sorted() == k.sorted()),
            Cmp::Pairs => self.check(step, args, |v, k| sort_pairs(v) == sort_pairs(k)),
            Cmp::Shape => self.check(step, args, same_shape),
            Cmp::Encoding => self.check(step, args, same_encoding),
            Cmp::Scan { pairs } => {
                let v = scan_all(&mut self.vireo, args, 2, pairs);
                let k = scan_all(&mut self.valkey, args, 2, pairs);
                self.note(step, args, &v, &k);
                if v != k {
                    self.fail(step, "HSCAN results differ");
                }
            }
            Cmp::Hfe { relative } => self.hfe(step, args, relative),
            Cmp::DumpRestore => self.dump_restore(step, args),
        }
        // HSCAN publishes nothing; the HEXPIRE family compares before its own follow-ups.
        if !matches!(gen.cmp, Cmp::Hfe { .. } | Cmp::Scan { .. }) {
            self.compare_events(step, args);
        }
    }

    fn hfe(&mut self, step: usize, args: &[String], relative: bool) {
        let (v, k) = self.both(args);
        self.note(step, args, &v, &k);
        // A refusal publishes nothing, except that Redis 7.4 looks the key up (a possible
        // `keymiss`) before checking the arguments and Valkey after (see the top).
        if v.is_error() && k.is_error() {
            self.events.both();
        } else {
            self.compare_events(step, args);
        }
        if v.is_error() || k.is_error() {
            let text = String::from_utf8_lossy(v.bytes().unwrap_or_default()).into_owned();
            if !(v.is_error() && k.is_error()) {
                self.fail(step, "only one side refused");
            }
            if !REDIS_HFE_ERRORS.iter().any(|e| text.starts_with(e)) {
                self.fail(step, "vireo's error is not one of Redis 7.4's");
            }
            return;
        }
        let name = args[0].to_ascii_uppercase();
        let ok = match name.as_str() {
            "HTTL" => within(&v, &k, 2),
            "HPTTL" => within(&v, &k, 2000),
            "HEXPIRETIME" => self.expiretime_rounding(args, &v, &k),
            _ => v == k,
        };
        if !ok {
            self.fail(step, "replies differ");
        }
        if relative {
            self.anchor(step, args, &v);
        }
    }

    /// HEXPIRETIME: vireo rounds each field's millisecond time up (Redis 7.4), Valkey
    /// rounds it to the nearest second; both checked against Valkey's HPEXPIRETIME of the same fields.
    fn expiretime_rounding(&mut self, args: &[String], v: &Reply, k: &Reply) -> bool {
        let mut ms_args = args.to_vec();
        ms_args[0] = "HPEXPIRETIME".into();
        let ms = self.valkey.command(&ms_args).expect("HPEXPIRETIME");
        let (Some(v), Some(k), Some(ms)) = (ints(v), ints(k), ints(&ms)) else {
            return false;
        };
        v.len() == ms.len()
            && k.len() == ms.len()
            && v.iter().zip(&k).zip(&ms).all(|((&v, &k), &ms)| {
                if ms < 0 {
                    v == ms && k == ms
                } else {
                    v == (ms + 999) / 1000 && k == (ms + 500) / 1000
                }
            })
    }

    fn dump_restore(&mut self, step: usize, args: &[String]) {
        let (Some(src), Some(dst)) = (args.get(1), args.get(2)) else {
            // The destination was dropped (see `next`): payloads differ, their kind not.
            return self.check(step, args, same_shape);
        };
        let dump = to_strings(&["DUMP", src]);
        let v = self.vireo.command(&dump).expect("DUMP");
        let k = self.valkey.command(&dump).expect("DUMP");
        self.note(step, &dump, &v, &k);
        let (Some(vp), Some(kp)) = (v.bytes(), k.bytes()) else {
            if std::mem::discriminant(&v) != std::mem::discriminant(&k) {
                self.fail(step, "DUMP: one side has no value");
            }
            return;
        };
        let restore = |payload: &[u8]| {
            let mut a: Vec<Vec<u8>> = vec![b"RESTORE".to_vec(), dst.clone().into_bytes()];
            a.push(b"0".to_vec());
            a.push(payload.to_vec());
            a.push(b"REPLACE".to_vec());
            a
        };
        let (vr, kr) = (restore(vp), restore(kp));
        let v = self.vireo.command(&vr).expect("RESTORE");
        let k = self.valkey.command(&kr).expect("RESTORE");
        self.note(
            step,
            &to_strings(&["RESTORE", dst, "0", "<payload>", "REPLACE"]),
            &v,
            &k,
        );
        if v != k {
            self.fail(step, "RESTORE of each side's own DUMP differs");
        }
    }

    /// After a relative HEXPIRE/HPEXPIRE: each field it set (reply 1) gets vireo's absolute
    /// time on both servers, so that later comparisons can be exact.
    fn anchor(&mut self, step: usize, args: &[String], reply: &Reply) {
        let Some(codes) = ints(reply) else { return };
        let fields = &args[args.len() - codes.len()..];
        for (field, code) in fields.iter().zip(codes) {
            if code != 1 {
                continue;
            }
            let read = argv![
                "HPEXPIRETIME",
                args[1].as_str(),
                "FIELDS",
                "1",
                field.as_str()
            ];
            let t = self.vireo.command(&read).expect("HPEXPIRETIME");
            let t = ints(&t).and_then(|t| t.first().copied()).expect("a time");
            let set = argv![
                "HPEXPIREAT",
                args[1].as_str(),
                t.to_string(),
                "FIELDS",
                "1",
                field.as_str()
            ];
            self.check(step, &set, |v, k| v == k);
        }
    }

    /// Each key on both sides: type, encoding, sorted pairs, every field's HPEXPIRETIME.
    fn dump(&mut self, step: usize) {
        for key in KEYS {
            let (v, k) = self.both(&to_strings(&["TYPE", key]));
            self.note(step, &to_strings(&["TYPE", key]), &v, &k);
            if v != k {
                self.fail(step, "dump: TYPE differs");
            }
            if v.bytes() != Some(b"hash") {
                continue;
            }
            self.check(
                step,
                &to_strings(&["OBJECT", "ENCODING", key]),
                same_encoding,
            );
            self.check(step, &to_strings(&["HLEN", key]), |v, k| v == k);
            self.check(step, &to_strings(&["HGETALL", key]), |v, k| {
                sort_pairs(v) == sort_pairs(k)
            });
            let fields = self.vireo.command(&["HKEYS", key]).expect("HKEYS").sorted();
            let mut read = argv!["HPEXPIRETIME", *key, "FIELDS"];
            let fields: Vec<String> = fields
                .elements()
                .unwrap_or_default()
                .iter()
                .map(|f| String::from_utf8_lossy(f.bytes().expect("field")).into_owned())
                .collect();
            read.push(fields.len().to_string());
            read.extend(fields);
            self.check(step, &read, |v, k| v == k);
        }
    }
}

/// Integer arrays equal, except positive entries may differ by up to `tolerance`.
fn within(v: &Reply, k: &Reply, tolerance: i64) -> bool {
    let (Some(v), Some(k)) = (ints(v), ints(k)) else {
        return v == k;
    };
    v.len() == k.len()
        && v.iter()
            .zip(&k)
            .all(|(&v, &k)| v == k || (v > 0 && k > 0 && (v - k).abs() <= tolerance))
}

#[test]
fn random_hash_field_expiration_matches_valkey() {
    let steps = random::steps(DEFAULT_STEPS);
    let t0 = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for seed in random::seeds(DEFAULT_SEEDS) {
        let Some(mut run) = Run::start(seed) else {
            return;
        };
        let mut generator = Generator::new(seed, t0);
        random::play(
            &mut run,
            steps,
            DUMP_EVERY,
            || generator.next(),
            Run::step,
            Run::dump,
        );
    }
}
