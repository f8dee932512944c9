//! The periodic task (`serverCron` in Redis), `hz` times a second: the active expiry cycle
//! and incremental rehashing.
//!
//! Active expiry samples keys that have a TTL in each shard and deletes the expired ones,
//! repeating on a shard while more than a quarter of its sample was expired, within a time
//! budget per tick — so memory held by expired keys nobody reads is reclaimed without
//! pausing the server. `active-expire-effort` (1–10) raises the sample size and budget.

use crate::commands::server::ACTIVE_EXPIRE_ENABLED;
use crate::Server;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vireo_store::SHARDS;

pub async fn run(server: Arc<Server>) {
    loop {
        let hz = server.settings.read().hz.clamp(1, 500);
        tokio::time::sleep(Duration::from_millis(1000 / hz as u64)).await;
        crate::info::sample_ops(&server);
        if ACTIVE_EXPIRE_ENABLED.load(Ordering::Relaxed) {
            active_expire_cycle(&server, hz);
        }
    }
}

/// One tick of active expiry over every database.
pub fn active_expire_cycle(server: &Server, hz: u32) {
    let effort = server.settings.read().active_expire_effort.clamp(1, 10) as usize - 1;
    let per_loop = 20 + 20 / 4 * effort;
    // Redis spends up to 25% of CPU time on this (plus 2% per effort step).
    let budget = Duration::from_micros(1_000_000 * (25 + 2 * effort as u64) / 100 / hz as u64);
    let start = Instant::now();
    let now = crate::unix_ms();
    for (db_index, db) in server.dbs.iter().enumerate() {
        for shard_index in 0..SHARDS {
            loop {
                let mut shard = db.lock(shard_index);
                shard.keys.rehash_step(1);
                shard.expires.rehash_step(1);
                if shard.expires.is_empty() {
                    break;
                }
                let mut expired = Vec::new();
                let mut sampled = 0;
                shard.expires.sample(per_loop, |key, &at| {
                    sampled += 1;
                    if at <= now {
                        expired.push(key.clone());
                    }
                });
                for key in &expired {
                    shard.remove(key);
                    server.key_expired(db_index, key);
                }
                drop(shard);
                if start.elapsed() > budget {
                    return;
                }
                // Stop on this shard once few of its keys turned out expired.
                if sampled == 0 || expired.len() * 100 / sampled <= 25 - effort {
                    break;
                }
            }
        }
    }
}
