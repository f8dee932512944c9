//! The command path without the network: parse a pipelined batch, dispatch every command
//! and encode its reply, as a connection does after each read. What a command costs the
//! server beyond the kernel's share, measured on one thread.
//!
//! `cargo bench -p vireo-server --bench dispatch`

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::sync::Arc;
use vireo_resp::{Limits, Reply, RequestParser};
use vireo_server::exec::{execute, Scratch};
use vireo_server::local::LocalClient;
use vireo_server::Server;

/// Commands per batch: redis-benchmark's `-P 16`.
const PIPELINE: usize = 16;

fn encode(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A batch of `PIPELINE` commands made by `make(i)`, the way redis-benchmark varies keys.
fn batch(make: impl Fn(usize) -> Vec<Vec<u8>>) -> Vec<u8> {
    (0..PIPELINE).flat_map(|i| encode(&make(i))).collect()
}

fn bench_batch(c: &mut Criterion, name: &str, setup: &[&[&str]], input: Vec<u8>) {
    let server = Arc::new(Server::new(vireo_config::Config::default()));
    let mut local = LocalClient::new(server.clone());
    for cmd in setup {
        local.call(cmd);
    }
    let mut parser = RequestParser::new();
    let mut scratch = Scratch::default();
    let mut rbuf = BytesMut::with_capacity(16 * 1024);
    let mut reply = Reply::new();
    let limits = Limits {
        max_bulk_len: 512 * 1024 * 1024,
        authenticated: true,
    };
    let mut group = c.benchmark_group("dispatch");
    group.throughput(Throughput::Elements(PIPELINE as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            rbuf.extend_from_slice(&input);
            while let Ok(Some(args)) = parser.parse(&mut rbuf, limits) {
                execute(&server, &mut local.client, &args, &mut reply, &mut scratch);
            }
            reply.buf.clear();
        })
    });
    group.finish();
}

fn key(i: usize) -> Vec<u8> {
    format!("key:{:012}", i * 7919 % 100_000).into_bytes()
}

fn dispatch(c: &mut Criterion) {
    let set = |i| vec![b"SET".to_vec(), key(i), b"xxx".to_vec()];
    let keys: Vec<Vec<u8>> = (0..PIPELINE).map(key).collect();
    let mut preload: Vec<Vec<&str>> = Vec::new();
    let key_strs: Vec<String> = keys
        .iter()
        .map(|k| String::from_utf8(k.clone()).unwrap())
        .collect();
    for k in &key_strs {
        preload.push(vec!["SET", k, "xxx"]);
    }
    let preload: Vec<&[&str]> = preload.iter().map(|v| v.as_slice()).collect();
    bench_batch(c, "set", &[], batch(set));
    bench_batch(c, "get", &preload, batch(|i| vec![b"GET".to_vec(), key(i)]));
    bench_batch(c, "incr", &[], batch(|i| vec![b"INCR".to_vec(), key(i)]));
    bench_batch(
        c,
        "lpush",
        &[],
        batch(|_| vec![b"LPUSH".to_vec(), b"mylist".to_vec(), b"xxx".to_vec()]),
    );
    bench_batch(
        c,
        "lpush_rpop",
        &[],
        batch(|i| {
            let cmd: &[u8] = if i % 2 == 0 { b"LPUSH" } else { b"RPOP" };
            let mut v = vec![cmd.to_vec(), b"mylist".to_vec()];
            if i % 2 == 0 {
                v.push(b"xxx".to_vec());
            }
            v
        }),
    );
    bench_batch(
        c,
        "sadd",
        &[],
        batch(|i| {
            vec![
                b"SADD".to_vec(),
                b"myset".to_vec(),
                format!("element:{}", i * 7919 % 100_000).into_bytes(),
            ]
        }),
    );
    bench_batch(
        c,
        "hset",
        &[],
        batch(|i| {
            vec![
                b"HSET".to_vec(),
                b"myhash".to_vec(),
                key(i),
                b"xxx".to_vec(),
            ]
        }),
    );
    let mut mset = vec![b"MSET".to_vec()];
    for i in 0..10 {
        mset.push(key(i));
        mset.push(b"xxx".to_vec());
    }
    bench_batch(c, "mset10", &[], batch(|_| mset.clone()));
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
