//! The command path without the network: parse a pipelined batch, dispatch every command
//! and encode its reply, as a connection does after each read. What a command costs the
//! server beyond the kernel's share, measured on one thread.
//!
//! `cargo bench -p vireo-server --bench dispatch`

mod workload;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use workload::{Workload, COMMANDS, PIPELINE};

fn dispatch(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch");
    group.throughput(Throughput::Elements(PIPELINE as u64));
    for name in COMMANDS {
        let mut w = Workload::new(name);
        group.bench_function(*name, |b| b.iter(|| w.run_batch()));
    }
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
