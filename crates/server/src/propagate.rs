//! Command propagation: the one serial stream of writes that the AOF and replicas
//! consume (DESIGN §3).
//!
//! A command's writes are collected while it runs (`Effects`, kept in its `Client`) and
//! fed to the stream as one unit while the command still holds its shard locks, so the
//! order of the stream is a valid serial order of the commands: two commands that touch
//! the same shard feed in the order they held it, and commands on disjoint shards commute.
//!
//! What a command propagates follows Redis:
//! - by default, a command that changed the dataset (`Ctx::dirty`) propagates itself, as
//!   the client sent it;
//! - a command whose effect depends on the time or on chance propagates a deterministic
//!   equivalent instead (`Ctx::rewrite_propagated`: EXPIRE → PEXPIREAT, SPOP → SREM, ...);
//! - a command may add commands (`Ctx::propagate`, Redis's alsoPropagate), which go before
//!   the command itself, or propagate nothing of its own (`Ctx::no_propagate`);
//! - a key found expired is deleted with a `DEL` of its own, fed at once;
//! - a unit of more than one command, and every transaction, is wrapped in MULTI/EXEC.
//!
//! Each consumer keeps its own selected database: ops carry theirs, and a consumer emits
//! a SELECT when it changes (`Encoder`). When nothing consumes the stream (no AOF, no
//! replica) commands collect nothing: the dispatcher checks one atomic.

use bytes::{BufMut, Bytes, BytesMut};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

/// Where an op goes: the AOF, replicas, or both (PUBLISH goes to replicas only).
pub mod target {
    pub const AOF: u8 = 1;
    pub const REPL: u8 = 2;
    pub const ALL: u8 = AOF | REPL;
}

/// One propagated command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// The database it runs in; `None` for MULTI and EXEC, which select nothing.
    pub db: Option<usize>,
    pub argv: Vec<Bytes>,
    pub targets: u8,
}

impl Op {
    pub fn new(db: usize, argv: Vec<Bytes>) -> Op {
        Op {
            db: Some(db),
            argv,
            targets: target::ALL,
        }
    }

    fn bare(name: &'static str) -> Op {
        Op {
            db: None,
            argv: vec![Bytes::from_static(name.as_bytes())],
            targets: target::ALL,
        }
    }
}

/// What a running command will propagate (Redis's also_propagate array and the
/// command-vector rewrite). Lives in the `Client` and is reused from command to command.
#[derive(Default, Debug)]
pub struct Effects {
    /// Changes the command made (`Ctx::dirty`).
    pub dirty: u64,
    /// Commands added by `Ctx::propagate`, in order.
    pub also: Vec<Op>,
    /// The command's own replacement (`Ctx::rewrite_propagated`).
    pub rewritten: Option<Vec<Bytes>>,
    /// Don't propagate the command itself (`Ctx::no_propagate`).
    pub prevented: bool,
}

impl Effects {
    pub fn reset(&mut self) {
        self.dirty = 0;
        self.also.clear();
        self.rewritten = None;
        self.prevented = false;
    }

    /// Moves what the command wants propagated into `unit`: the added commands, then the
    /// command itself (rewritten or as sent) if it changed anything.
    pub fn finish(&mut self, db: usize, args: &[Bytes], unit: &mut Vec<Op>) {
        unit.append(&mut self.also);
        // Empty `args`: work done on behalf of others (a served BLPOP) has no command
        // of its own; it propagates only what it added.
        if self.dirty > 0 && !self.prevented && !args.is_empty() {
            let argv = self.rewritten.take().unwrap_or_else(|| args.to_vec());
            unit.push(Op::new(db, argv));
        }
        self.reset();
    }
}

/// The stream and its consumers.
#[derive(Default)]
pub struct Propagation {
    /// Number of consumers; zero means commands collect nothing.
    consumers: AtomicUsize,
    sinks: Mutex<Vec<mpsc::Sender<Arc<[Op]>>>>,
}

impl Propagation {
    /// Whether anything consumes the stream (one relaxed load).
    pub fn active(&self) -> bool {
        self.consumers.load(Ordering::Relaxed) > 0
    }

    /// Adds a consumer: it receives every unit fed from now on, in stream order, each
    /// already wrapped in MULTI/EXEC when it must be.
    pub fn attach(&self) -> mpsc::Receiver<Arc<[Op]>> {
        let (tx, rx) = mpsc::channel();
        let mut sinks = self.sinks.lock();
        sinks.push(tx);
        self.consumers.store(sinks.len(), Ordering::Relaxed);
        rx
    }

    /// Feeds one unit (the ops of one command, or of one transaction when `transaction`).
    /// Must be called while the shard locks of the unit's keys are held.
    pub fn feed(&self, ops: Vec<Op>, transaction: bool) {
        if ops.is_empty() {
            return;
        }
        let wrap = transaction || ops.len() > 1;
        let unit: Arc<[Op]> = if wrap {
            let mut wrapped = Vec::with_capacity(ops.len() + 2);
            wrapped.push(Op::bare("MULTI"));
            wrapped.extend(ops);
            wrapped.push(Op::bare("EXEC"));
            wrapped.into()
        } else {
            ops.into()
        };
        let mut sinks = self.sinks.lock();
        sinks.retain(|tx| tx.send(unit.clone()).is_ok());
        self.consumers.store(sinks.len(), Ordering::Relaxed);
    }

    /// Feeds a single command as its own unit (an expired key's DEL, the cron's writes).
    pub fn feed_one(&self, op: Op) {
        self.feed(vec![op], false);
    }
}

/// Turns ops into the RESP bytes of an AOF or a replication stream for one consumer,
/// inserting a SELECT whenever the database changes.
#[derive(Default)]
pub struct Encoder {
    selected: Option<usize>,
}

impl Encoder {
    /// Appends `op` (if it is meant for `target`) to `out`.
    pub fn encode(&mut self, op: &Op, target: u8, out: &mut BytesMut) {
        if op.targets & target == 0 {
            return;
        }
        if let Some(db) = op.db {
            if self.selected != Some(db) {
                let name = itoa::Buffer::new().format(db).as_bytes().to_vec();
                write_command(out, &[Bytes::from_static(b"SELECT"), Bytes::from(name)]);
                self.selected = Some(db);
            }
        }
        write_command(out, &op.argv);
    }
}

/// A command as a RESP array of bulk strings.
pub fn write_command(out: &mut BytesMut, argv: &[Bytes]) {
    let mut num = itoa::Buffer::new();
    out.put_u8(b'*');
    out.put_slice(num.format(argv.len()).as_bytes());
    out.put_slice(b"\r\n");
    for arg in argv {
        out.put_u8(b'$');
        out.put_slice(num.format(arg.len()).as_bytes());
        out.put_slice(b"\r\n");
        out.put_slice(arg);
        out.put_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::from(w.to_string())).collect()
    }

    #[test]
    fn nothing_collects_without_consumers() {
        let p = Propagation::default();
        assert!(!p.active());
        let rx = p.attach();
        assert!(p.active());
        drop(rx);
        // A consumer that went away is dropped at the next feed.
        p.feed_one(Op::new(0, argv(&["DEL", "k"])));
        assert!(!p.active());
    }

    #[test]
    fn units_of_several_commands_are_transactions() {
        let p = Propagation::default();
        let rx = p.attach();
        p.feed_one(Op::new(0, argv(&["SET", "a", "1"])));
        p.feed(
            vec![
                Op::new(0, argv(&["DEL", "a"])),
                Op::new(0, argv(&["SET", "a", "2"])),
            ],
            false,
        );
        p.feed(vec![Op::new(1, argv(&["INCR", "n"]))], true);
        p.feed(Vec::new(), true);
        let units: Vec<Arc<[Op]>> = rx.try_iter().collect();
        let names: Vec<Vec<&[u8]>> = units
            .iter()
            .map(|u| u.iter().map(|op| &op.argv[0][..]).collect())
            .collect();
        assert_eq!(
            names,
            vec![
                vec![&b"SET"[..]],
                vec![b"MULTI", b"DEL", b"SET", b"EXEC"],
                vec![b"MULTI", b"INCR", b"EXEC"],
            ]
        );
    }

    #[test]
    fn the_encoder_selects_databases_as_needed() {
        let mut enc = Encoder::default();
        let mut out = BytesMut::new();
        let ops = [
            Op::new(0, argv(&["SET", "a", "1"])),
            Op::new(0, argv(&["SET", "b", "2"])),
            Op::bare("MULTI"),
            Op::new(3, argv(&["DEL", "c"])),
            Op::bare("EXEC"),
            Op {
                targets: target::REPL,
                ..Op::new(5, argv(&["PUBLISH", "ch", "m"]))
            },
        ];
        for op in &ops {
            enc.encode(op, target::AOF, &mut out);
        }
        assert_eq!(
            &out[..],
            &b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n\
               *3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n*1\r\n$5\r\nMULTI\r\n\
               *2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$3\r\nDEL\r\n$1\r\nc\r\n*1\r\n$4\r\nEXEC\r\n"
                [..]
        );
    }

    #[test]
    fn effects_put_the_command_after_what_it_added() {
        let mut e = Effects::default();
        let mut unit = Vec::new();
        // Nothing changed: nothing propagates.
        e.finish(0, &argv(&["GET", "a"]), &mut unit);
        assert!(unit.is_empty());
        e.dirty = 1;
        e.also.push(Op::new(0, argv(&["DEL", "x"])));
        e.rewritten = Some(argv(&["PEXPIREAT", "a", "123"]));
        e.finish(0, &argv(&["EXPIRE", "a", "1"]), &mut unit);
        assert_eq!(
            unit,
            vec![
                Op::new(0, argv(&["DEL", "x"])),
                Op::new(0, argv(&["PEXPIREAT", "a", "123"]))
            ]
        );
        assert_eq!(e.dirty, 0);
        assert!(e.rewritten.is_none());
    }
}
