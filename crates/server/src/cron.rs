//! The periodic task (`serverCron` in Redis), `hz` times a second: the active expiry cycle,
//! incremental rehashing, an eviction pass while memory is over `maxmemory`, and a count
//! of the clients' memory while `maxmemory-clients` is set.
//!
//! Active expiry samples keys that have a TTL in each shard and deletes the expired ones,
//! repeating on a shard while more than a quarter of its sample was expired, within a time
//! budget per tick — so memory held by expired keys nobody reads is reclaimed without
//! pausing the server. `active-expire-effort` (1–10) raises the sample size and budget.
//! Hash fields with a TTL (HEXPIRE) are expired the same way, from each shard's index of
//! hashes that have such fields (`vireo_store::hash::expire_fields`).

use crate::commands::server::ACTIVE_EXPIRE_ENABLED;
use crate::Server;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vireo_store::{hash, SHARDS};

pub async fn run(server: Arc<Server>) {
    loop {
        let hz = effective_hz(&server);
        tokio::time::sleep(Duration::from_millis(1000 / hz as u64)).await;
        crate::info::sample_ops(&server);
        // No key expires while a CLIENT PAUSE lasts (the dataset must not change).
        let paused = server.pause.is_paused(crate::unix_ms());
        if ACTIVE_EXPIRE_ENABLED.load(Ordering::Relaxed) && !paused {
            active_expire_cycle(&server, hz);
        }
        let activerehashing = server.settings.read().activerehashing;
        rehash_tick(&server, activerehashing);
        // maxmemory: evict if memory is over the limit (Redis does it before commands
        // only; an idle server over its limit sheds keys here too).
        if server.eviction.limited() {
            crate::evict::perform(&server, 0);
        }
        // maxmemory-clients: idle clients and output piling up for a client that does not
        // read are counted here.
        server.client_memory.update_all(&server);
        server
            .client_memory
            .track_peaks(&server, crate::unix_ms() as u64 / 1000);
        // BCAST invalidations of keys that expired, or that no connection sent yet.
        server.tracking.send_broadcasts(&server);
    }
}

/// Clients one tick is meant to look after, as in Redis (MAX_CLIENTS_PER_CLOCK_TICK).
const CLIENTS_PER_TICK: usize = 200;
const MAX_HZ: u32 = 500;

/// The cron frequency: `hz`, doubled while there are more than 200 clients per tick when
/// `dynamic-hz` is on, up to 500 — so busy servers expire keys and check clients often
/// enough, and idle ones stay cheap.
pub fn effective_hz(server: &Server) -> u32 {
    let settings = server.settings.read();
    let mut hz = settings.hz.clamp(1, MAX_HZ);
    if settings.dynamic_hz {
        let clients = server.clients.count();
        while clients / hz as usize > CLIENTS_PER_TICK && hz < MAX_HZ {
            hz = (hz * 2).min(MAX_HZ);
        }
    }
    hz
}

/// Buckets the cron moves per table and tick of a rehash under way.
const REHASH_BUCKETS: usize = 100;

/// Table upkeep each tick, as Redis's databasesCron does it: a table left sparse by
/// deletions starts shrinking, and with `activerehashing` (the default) the cron moves
/// `REHASH_BUCKETS` buckets of every rehash under way, so a table that no longer receives
/// writes still finishes its rehash and frees its old bucket array. Without it, a rehash
/// moves only as commands touch the table.
pub fn rehash_tick(server: &Server, activerehashing: bool) {
    let buckets = if activerehashing { REHASH_BUCKETS } else { 0 };
    for db in &server.dbs {
        for shard_index in 0..SHARDS {
            let mut shard = db.lock(shard_index);
            shard.keys.rehash_step(buckets);
            shard.expires.rehash_step(buckets);
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
    // For INFO: keys sampled and found expired, and whether the budget ran out.
    let (mut total_sampled, mut total_expired, mut capped) = (0u64, 0u64, false);
    'dbs: for (db_index, db) in server.dbs.iter().enumerate() {
        for shard_index in 0..SHARDS {
            // Like a command, the cycle passes the exclusive gate shared before it locks:
            // a command that runs exclusively (MOVE, SWAPDB, FLUSHDB, an exclusive
            // transaction) has released its locks before its writes reach the propagation
            // stream, and an expiry's DEL must not come between them there.
            let _gate = server.gate.shared(shard_index as u64);
            // Hash fields past their TTL (hashes of the shard's `hexpires` index only).
            hash::expire_fields(
                &mut db.lock(shard_index),
                now,
                hash::ACTIVE_EXPIRE_KEYS,
                |key, fields, emptied| {
                    crate::commands::hash::fields_expired(server, db_index, key, fields, emptied)
                },
            );
            loop {
                let mut shard = db.lock(shard_index);
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
                    let value = shard.remove(key);
                    server.key_expired(db_index, key, value);
                    if !server.tracking.idle() {
                        server.tracking.key_changed(server, key, 0);
                    }
                }
                drop(shard);
                total_sampled += sampled as u64;
                total_expired += expired.len() as u64;
                if start.elapsed() > budget {
                    capped = true;
                    break 'dbs;
                }
                // Stop on this shard once few of its keys turned out expired.
                if sampled == 0 || expired.len() * 100 / sampled <= 25 - effort {
                    break;
                }
            }
        }
    }
    let micros = start.elapsed().as_micros() as u64;
    server
        .stats
        .record_expire_cycle(total_sampled, total_expired, micros, capped);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::NewClient;
    use vireo_store::db::shard_index;
    use vireo_store::value::Value;

    #[test]
    fn activerehashing_finishes_a_rehash_commands_left_unfinished() {
        let server = Server::new(vireo_config::Config::default());
        // Keys of one shard (one hash tag) until its table starts growing.
        let shard = shard_index(b"{t}");
        let mut n = 0;
        loop {
            let mut s = server.dbs[0].lock(shard);
            if s.keys.is_rehashing() {
                break;
            }
            s.insert(format!("{{t}}{n}").as_bytes(), Value::string(b"v"));
            n += 1;
        }
        let rehashing = || server.dbs[0].lock(shard).keys.is_rehashing();
        for _ in 0..100 {
            rehash_tick(&server, false);
        }
        assert!(
            rehashing(),
            "the cron moved buckets with activerehashing off"
        );
        let mut ticks = 0;
        while rehashing() {
            rehash_tick(&server, true);
            ticks += 1;
            assert!(ticks < 1000, "the rehash of {n} keys never finished");
        }
        assert_eq!(server.dbs[0].lock(shard).keys.len(), n);
    }

    #[test]
    fn active_expiry_waits_for_an_exclusive_command() {
        let server = Arc::new(Server::new(vireo_config::Config::default()));
        let key = b"gone";
        {
            let mut shard = server.dbs[0].lock(shard_index(key));
            shard.insert(key, Value::string(b"v"));
            shard.set_expire(key, crate::unix_ms() - 1);
        }
        let exists = |server: &Server| {
            server.dbs[0]
                .lock(shard_index(key))
                .keys
                .contains_key(&key[..])
        };
        let exclusive = server.gate.exclusive();
        let cycle = {
            let server = server.clone();
            std::thread::spawn(move || active_expire_cycle(&server, 10))
        };
        std::thread::sleep(Duration::from_millis(100));
        // The cycle is held at the gate: the key is still there.
        assert!(exists(&server));
        drop(exclusive);
        cycle.join().unwrap();
        assert!(!exists(&server));
    }

    fn server_with(dynamic: bool, clients: usize) -> Server {
        let mut config = vireo_config::Config::default();
        let dynamic = if dynamic { &b"yes"[..] } else { b"no" };
        config.set(&[(b"dynamic-hz", dynamic)]).unwrap();
        let server = Server::new(config);
        for _ in 0..clients {
            assert!(server.clients.try_reserve(usize::MAX));
            let conn = NewClient::without_socket("127.0.0.1:1");
            server.clients.register(conn, 0);
        }
        server
    }

    #[test]
    fn dynamic_hz_follows_the_client_count() {
        assert_eq!(effective_hz(&server_with(true, 0)), 10);
        // 2000 clients are exactly 200 per tick at 10 Hz: not more, so no change.
        assert_eq!(effective_hz(&server_with(true, 2000)), 10);
        assert_eq!(effective_hz(&server_with(true, 2010)), 20);
        assert_eq!(effective_hz(&server_with(true, 4020)), 40);
        assert_eq!(effective_hz(&server_with(false, 4020)), 10);
    }
}
