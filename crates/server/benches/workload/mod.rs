//! The workloads of the command-path benchmarks (`benches/dispatch.rs`, and
//! `examples/dispatch_count.rs` for instruction counts): pipelined batches of one
//! redis-benchmark-like command, run through parse → dispatch → reply in-process.

use bytes::BytesMut;
use std::sync::Arc;
use vireo_resp::{Limits, Reply, RequestParser};
use vireo_server::exec::{execute, Scratch};
use vireo_server::local::LocalClient;
use vireo_server::Server;

/// Commands per batch: redis-benchmark's `-P 16`.
pub const PIPELINE: usize = 16;

pub const COMMANDS: &[&str] = &[
    "set",
    "get",
    "incr",
    "mset10",
    "lpush",
    "lpush_rpop",
    "sadd",
    "hset",
    "zadd",
    "lrange100",
    "multi_incr_exec",
];

fn key(i: usize) -> Vec<u8> {
    format!("key:{:012}", i * 7919 % 100_000).into_bytes()
}

/// Commands in a batch of `name`: `PIPELINE`, or the whole transactions that fit.
pub fn batch_len(name: &str) -> usize {
    if name == "multi_incr_exec" {
        PIPELINE / 3 * 3
    } else {
        PIPELINE
    }
}

/// The `i`th command of a batch of `name`.
fn command(name: &str, i: usize) -> Vec<Vec<u8>> {
    let v = |s: &str| s.as_bytes().to_vec();
    match name {
        "set" => vec![v("SET"), key(i), v("xxx")],
        "get" => vec![v("GET"), key(i)],
        "incr" => vec![v("INCR"), key(i)],
        "mset10" => {
            let mut m = vec![v("MSET")];
            for k in 0..10 {
                m.push(key(i * 10 + k));
                m.push(v("xxx"));
            }
            m
        }
        "lpush" => vec![v("LPUSH"), v("mylist"), v("xxx")],
        // Alternating, so the list keeps its length: RPOP's cost is twice this one's
        // minus LPUSH's.
        "lpush_rpop" if i.is_multiple_of(2) => vec![v("LPUSH"), v("mylist"), v("xxx")],
        "lpush_rpop" => vec![v("RPOP"), v("mylist")],
        "sadd" => vec![v("SADD"), v("myset"), format!("element:{i}").into_bytes()],
        "hset" => vec![v("HSET"), v("myhash"), key(i), v("xxx")],
        "zadd" => vec![v("ZADD"), v("myzset"), format!("{i}").into_bytes(), key(i)],
        "lrange100" => vec![v("LRANGE"), v("mylist"), v("0"), v("99")],
        // Five whole transactions per batch (`batch_len`).
        "multi_incr_exec" => match i % 3 {
            0 => vec![v("MULTI")],
            1 => vec![v("INCR"), key(i / 3)],
            _ => vec![v("EXEC")],
        },
        other => panic!("unknown workload {other}"),
    }
}

fn encode(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A server with the data the reads and pops need (the batch's keys, a list of 600
/// elements), a client, and the encoded batch of `name`.
pub struct Workload {
    server: Arc<Server>,
    local: LocalClient,
    input: Vec<u8>,
    parser: RequestParser,
    scratch: Scratch,
    rbuf: BytesMut,
    reply: Reply,
}

impl Workload {
    pub fn new(name: &str) -> Workload {
        let server = Arc::new(Server::new(vireo_config::Config::default()));
        let mut local = LocalClient::new(server.clone());
        // INCR needs integers (as redis-benchmark's fresh counters are); the reads, values.
        let value: &[u8] = if name.contains("incr") { b"0" } else { b"xxx" };
        for i in 0..PIPELINE {
            local.call(&[b"SET".to_vec(), key(i), value.to_vec()]);
        }
        for _ in 0..600 {
            local.call(&["LPUSH", "mylist", "xxx"]);
        }
        Workload {
            server,
            local,
            input: (0..batch_len(name))
                .flat_map(|i| encode(&command(name, i)))
                .collect(),
            parser: RequestParser::new(),
            scratch: Scratch::default(),
            rbuf: BytesMut::with_capacity(16 * 1024),
            reply: Reply::new(),
        }
    }

    /// Runs one batch as a connection does after a read; the bytes of its replies.
    pub fn run_batch(&mut self) -> usize {
        let limits = Limits {
            max_bulk_len: 512 * 1024 * 1024,
            authenticated: true,
        };
        self.rbuf.extend_from_slice(&self.input);
        while let Ok(Some(args)) = self.parser.parse(&mut self.rbuf, limits) {
            let client = &mut self.local.client;
            execute(
                &self.server,
                client,
                &args,
                &mut self.reply,
                &mut self.scratch,
            );
            self.parser.recycle(args);
        }
        let n = self.reply.buf.len();
        // A workload measures its command, not the error path: an error reply (a line
        // starting with `-`) means the set-up does not fit the command.
        debug_assert!(
            !self.reply.buf.starts_with(b"-") && !self.reply.buf.windows(3).any(|w| w == b"\n-E"),
            "error reply in a workload batch: {:?}",
            String::from_utf8_lossy(&self.reply.buf[..self.reply.buf.len().min(200)])
        );
        self.reply.buf.clear();
        n
    }
}
