//! What the seeded random differential tests (`random_*.rs`) share: the generator and the
//! environment variables that replay or lengthen a run.
//!
//! - `VIREO_RANDOM_SEEDS`: seeds and ranges separated by commas (`7`, `1-200`, `3,9-12`);
//! - `VIREO_RANDOM_STEPS`: steps per seed;
//! - `VIREO_RANDOM_HISTORY`: steps shown when a difference is found.

use super::{RawClient, Reply, Server};
use std::collections::{BTreeSet, VecDeque};

/// splitmix64: a few lines, deterministic, good enough to pick commands.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` percent.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// 0..=max distinct items of `items`, in random order.
    pub fn some<'a>(&mut self, items: &[&'a str], max: usize) -> Vec<&'a str> {
        let n = self.below(max + 1);
        let mut pool = items.to_vec();
        (0..n.min(pool.len()))
            .map(|_| pool.remove(self.below(pool.len())))
            .collect()
    }
}

/// `VIREO_RANDOM_SEEDS`, or `default`.
pub fn seeds(default: &[u64]) -> Vec<u64> {
    let Ok(spec) = std::env::var("VIREO_RANDOM_SEEDS") else {
        return default.to_vec();
    };
    let number = |n: &str| -> u64 {
        n.trim()
            .parse()
            .unwrap_or_else(|_| panic!("VIREO_RANDOM_SEEDS: {n:?} is not a seed"))
    };
    let mut seeds = Vec::new();
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        match part.split_once('-') {
            Some((from, to)) => seeds.extend(number(from)..=number(to)),
            None => seeds.push(number(part)),
        }
    }
    seeds
}

/// `VIREO_RANDOM_STEPS`, or `default`.
pub fn steps(default: usize) -> usize {
    number_from_env("VIREO_RANDOM_STEPS").unwrap_or(default)
}

/// `VIREO_RANDOM_HISTORY`, or `default`.
pub fn history(default: usize) -> usize {
    number_from_env("VIREO_RANDOM_HISTORY").unwrap_or(default)
}

fn number_from_env(name: &str) -> Option<usize> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}: {value:?} is not a number")),
    )
}

/// Owned arguments.
pub fn to_strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// A flat array sorted two elements at a time (field/value, member/score), for replies
/// whose order Redis leaves unspecified; RESP3 pairs (two-element arrays) and anything
/// else sort as they are.
pub fn sort_pairs(reply: &Reply) -> Reply {
    match reply {
        Reply::Array(Some(items))
            if items.len() % 2 == 0 && !matches!(items.first(), Some(Reply::Array(_))) =>
        {
            let mut pairs: Vec<(Reply, Reply)> = items
                .chunks(2)
                .map(|c| (c[0].clone(), c[1].clone()))
                .collect();
            pairs.sort();
            Reply::Array(Some(pairs.into_iter().flat_map(|(a, b)| [a, b]).collect()))
        }
        other => other.sorted(),
    }
}

/// Same RESP kind and, for arrays and sets, the same length (errors exactly): for random
/// picks, which only their shape can be compared by.
pub fn same_shape(a: &Reply, b: &Reply) -> bool {
    match (a, b) {
        (Reply::Array(Some(x)), Reply::Array(Some(y))) | (Reply::Set(x), Reply::Set(y)) => {
            x.len() == y.len()
        }
        (Reply::Bulk(x), Reply::Bulk(y)) => x.is_some() == y.is_some(),
        _ if a.is_error() || b.is_error() => a == b,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// Iterates a SCAN-family command (its cursor at `args[cursor]`, 0 to start) to the end;
/// the set of everything returned, pairs kept together when `pairs`. A reply that is not a
/// cursor and a page (an error) is returned as it is.
pub fn scan_all(client: &mut RawClient, args: &[String], cursor: usize, pairs: bool) -> Reply {
    let mut args = args.to_vec();
    let mut seen = BTreeSet::new();
    for _ in 0..10_000 {
        let reply = client.command(&args).expect("scan reply");
        let Reply::Array(Some(parts)) = &reply else {
            return reply;
        };
        let (Some(Reply::Bulk(Some(next))), Some(Reply::Array(Some(items)))) =
            (parts.first(), parts.get(1))
        else {
            return reply;
        };
        if pairs {
            for c in items.chunks(2) {
                seen.insert(c.to_vec());
            }
        } else {
            for item in items {
                seen.insert(vec![item.clone()]);
            }
        }
        if next == b"0" {
            return Reply::Array(Some(seen.into_iter().flatten().collect()));
        }
        args[cursor] = String::from_utf8(next.clone()).expect("cursor");
    }
    panic!("{args:?} did not finish");
}

/// The last steps of a run, shown when it fails: `VIREO_RANDOM_HISTORY` of them, or
/// `default`.
pub struct History {
    steps: VecDeque<String>,
    keep: usize,
}

impl History {
    pub fn new(default: usize) -> History {
        History {
            steps: VecDeque::new(),
            keep: history(default),
        }
    }

    /// Step `step`, the command `args` and each side's reply, labelled.
    pub fn note(&mut self, step: usize, args: &[String], replies: [(&str, &Reply); 2]) {
        let quoted: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
        let mut line = format!("#{step}: {}", quoted.join(" "));
        for (label, reply) in replies {
            line.push_str(&format!("\n        {label}: {reply}"));
        }
        self.push(line);
    }

    /// A line of its own (e.g. what a keyspace comparison saw).
    pub fn push(&mut self, line: String) {
        if self.steps.len() >= self.keep {
            self.steps.pop_front();
        }
        self.steps.push_back(line);
    }

    /// Fails the test: `title` at `step` of `seed`, how to replay it, the history.
    pub fn fail(&self, title: &str, seed: u64, step: usize, what: &str) -> ! {
        let steps: Vec<&str> = self.steps.iter().map(String::as_str).collect();
        panic!(
            "{title}: seed {seed} step {step}: {what}\n\
             replay: VIREO_RANDOM_SEEDS={seed} VIREO_RANDOM_STEPS={}\n\
             last commands (oldest first):\n  {}",
            step + 1,
            steps.join("\n  ")
        );
    }
}

/// A notification as a subscriber saw it: (channel, message).
pub type Event = (Vec<u8>, Vec<u8>);

/// A subscriber to every keyspace and keyevent channel on vireo and on the reference
/// server, so that the random tests can compare the notifications each command publishes.
pub struct Notifications {
    vireo: RawClient,
    reference: RawClient,
}

impl Notifications {
    pub fn start(vireo: &Server, reference: &Server) -> Notifications {
        let subscribe = |server: &Server| {
            let mut c = RawClient::connect(&server.addr()).expect("connect the subscriber");
            let r = c
                .command(&["PSUBSCRIBE", "__key*__:*"])
                .expect("psubscribe");
            assert!(!r.is_error(), "PSUBSCRIBE: {r}");
            c
        };
        Notifications {
            vireo: subscribe(vireo),
            reference: subscribe(reference),
        }
    }

    /// Every notification a subscriber received, up to the reply to a PING sent now (a
    /// server queues a command's notifications before its reply, and a subscriber's pending
    /// messages go out before the reply to its PING).
    fn received(c: &mut RawClient) -> Vec<Event> {
        c.send(&super::encode_command(&["PING"])).expect("PING");
        let mut seen = Vec::new();
        loop {
            let frame = c.read_reply().expect("a notification or the PING reply");
            let parts = frame.elements().unwrap_or_else(|| panic!("frame {frame}"));
            match parts.first().and_then(Reply::bytes) {
                Some(b"pong") => return seen,
                Some(b"pmessage") => seen.push((
                    parts[2].bytes().expect("channel").to_vec(),
                    parts[3].bytes().expect("message").to_vec(),
                )),
                _ => panic!("unexpected frame on the subscriber: {frame}"),
            }
        }
    }

    /// [vireo's, the reference's] notifications since the last call.
    pub fn both(&mut self) -> [Vec<Event>; 2] {
        [
            Notifications::received(&mut self.vireo),
            Notifications::received(&mut self.reference),
        ]
    }
}

/// The notifications since the last call, or `None` when both sides sent the same. With
/// `unordered`, only which events came counts, not their order. `Some` holds both sides'
/// events as a line for the failure history.
pub fn events_differ(
    events: &mut Notifications,
    args: &[String],
    reference: &str,
    unordered: bool,
) -> Option<String> {
    let [mut v, mut r] = events.both();
    if unordered {
        v.sort();
        r.sort();
    }
    (v != r).then(|| {
        format!(
            "notifications of {args:?}:\n    vireo: {}\n    {reference}: {}",
            show_events(&v),
            show_events(&r)
        )
    })
}

/// Plays one seeded run of a random differential test: `steps` steps that `next`
/// generates, each given to `step`, with `check_keyspace` (the whole keyspace compared)
/// every `every` steps and at the end.
pub fn play<R, G>(
    run: &mut R,
    steps: usize,
    every: usize,
    mut next: impl FnMut() -> G,
    step: fn(&mut R, usize, &G),
    check_keyspace: fn(&mut R, usize),
) {
    for n in 0..steps {
        let gen = next();
        step(run, n, &gen);
        if (n + 1) % every == 0 {
            check_keyspace(run, n);
        }
    }
    check_keyspace(run, steps);
}

/// `[channel message, ...]` for a failure report.
fn show_events(events: &[Event]) -> String {
    let each: Vec<String> = events
        .iter()
        .map(|(c, m)| {
            format!(
                "{} {}",
                String::from_utf8_lossy(c),
                String::from_utf8_lossy(m)
            )
        })
        .collect();
    format!("[{}]", each.join(", "))
}
