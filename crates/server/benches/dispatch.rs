//! The command path without the network: parse a pipelined batch, dispatch every command
//! and encode its reply, as a connection does after each read. What a command costs the
//! server beyond the kernel's share, measured on one thread.
//!
//! `cargo bench -p vireo-server --bench dispatch`

mod workload;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use workload::{batch_len, Workload, COMMANDS};

fn dispatch(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch");
    for name in COMMANDS {
        group.throughput(Throughput::Elements(batch_len(name) as u64));
        let mut w = Workload::new(name);
        group.bench_function(*name, |b| b.iter(|| w.run_batch()));
    }
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
