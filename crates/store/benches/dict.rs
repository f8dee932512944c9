//! Dict against std's HashMap (hashbrown) on 1M short string keys: inserting them into an
//! empty table (so every resize and incremental rehash is paid for), then looking them up.
//! Run with `cargo bench -p vireo-store --bench dict`.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use vireo_store::dict::Dict;

const N: usize = 1_000_000;

fn keys() -> Vec<String> {
    (0..N).map(|i| format!("key:{i:010}")).collect()
}

fn insert(c: &mut Criterion) {
    let keys = keys();
    let mut group = c.benchmark_group("insert_1m");
    group.sample_size(10);
    // The filled table is dropped outside the timing: this measures inserting only.
    group.bench_function("dict", |b| {
        b.iter_with_large_drop(|| {
            let mut d = Dict::new();
            for (i, k) in keys.iter().enumerate() {
                d.insert(k.as_str(), i);
            }
            d
        })
    });
    group.bench_function("std_hashmap", |b| {
        b.iter_with_large_drop(|| {
            let mut m = HashMap::new();
            for (i, k) in keys.iter().enumerate() {
                m.insert(k.as_str(), i);
            }
            m
        })
    });
    group.finish();
}

fn get(c: &mut Criterion) {
    let keys = keys();
    let mut d = Dict::new();
    let mut m = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        d.insert(k.as_str(), i);
        m.insert(k.as_str(), i);
    }
    while d.rehash_step(1 << 16) {}
    let mut group = c.benchmark_group("get_1m");
    group.sample_size(10);
    group.bench_function("dict", |b| {
        b.iter(|| {
            keys.iter()
                .filter_map(|k| d.get(black_box(k.as_str())))
                .sum::<usize>()
        })
    });
    group.bench_function("std_hashmap", |b| {
        b.iter(|| {
            keys.iter()
                .filter_map(|k| m.get(black_box(k.as_str())))
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, insert, get);
criterion_main!(benches);
