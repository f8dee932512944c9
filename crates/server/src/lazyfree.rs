//! Lazy freeing: values and whole keyspaces dropped on a background thread, so that
//! UNLINK, FLUSHDB ASYNC and FLUSHALL ASYNC answer in O(1) under their shard locks
//! however much they free (Redis's lazyfree.c and its bio thread).
//!
//! **When to defer.** Handing an object to another thread costs a channel send and a
//! wake-up, more than freeing a small object in place. As Redis does, the decision rests on
//! the *free effort*: roughly the number of allocations a drop releases. Up to
//! [`LAZYFREE_THRESHOLD`] the caller drops it at once; beyond, the thread does. A string is
//! always one allocation (or none, when int-encoded or inline), so strings are freed in place
//! even when large: releasing one big block is a single call to the allocator, the same
//! reasoning that makes Redis free strings synchronously. Aggregate types will report their
//! node counts here as they arrive. A flushed keyspace costs at least one allocation per key,
//! so its effort is its key count.
//!
//! **Accounting.** `lazyfree_pending_objects` (INFO memory) counts objects handed over and
//! not yet freed; `lazyfreed_objects` (INFO stats, reset by CONFIG RESETSTAT) counts those
//! the thread has freed. For a flushed keyspace the objects are its keys.
//!
//! There is one freeing thread per process, as Redis has one lazyfree bio thread; it is
//! started on first use.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::OnceLock;
use vireo_store::Value;

/// Objects whose free effort is at most this are freed by the caller (Redis's
/// LAZYFREE_THRESHOLD).
pub const LAZYFREE_THRESHOLD: usize = 64;

/// Something to drop, and how many objects it counts for.
struct Job {
    garbage: Box<dyn Any + Send>,
    objects: u64,
    /// What freeing it returns to the allocator, when the caller knows (eviction).
    bytes: u64,
}

struct Lazyfree {
    jobs: Sender<Job>,
    pending: AtomicU64,
    freed: AtomicU64,
    /// Bytes of the jobs queued with a size, not freed yet.
    pending_bytes: AtomicU64,
}

static LAZYFREE: OnceLock<Lazyfree> = OnceLock::new();

fn lazyfree() -> &'static Lazyfree {
    LAZYFREE.get_or_init(|| {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("vireo-lazyfree".into())
            .spawn(move || {
                for job in queue {
                    drop(job.garbage);
                    let lf = LAZYFREE.get().expect("initialised before the first job");
                    lf.pending_bytes.fetch_sub(job.bytes, Ordering::Relaxed);
                    lf.pending.fetch_sub(job.objects, Ordering::Relaxed);
                    lf.freed.fetch_add(job.objects, Ordering::Relaxed);
                }
            })
            .expect("cannot start the lazyfree thread");
        Lazyfree {
            jobs,
            pending: AtomicU64::new(0),
            freed: AtomicU64::new(0),
            pending_bytes: AtomicU64::new(0),
        }
    })
}

/// About how many allocations dropping `value` releases: one for a string or a compact
/// collection (a listpack or intset is one block), one per element otherwise.
pub fn free_effort(value: &Value) -> usize {
    match value.encoding() {
        "listpack" | "intset" => 1,
        _ => value.element_count(),
    }
}

/// Frees a deleted value: in place when that is cheap, else on the lazyfree thread.
pub fn free_value(value: Value) {
    if free_effort(&value) > LAZYFREE_THRESHOLD {
        free_later(value, 1);
    }
}

/// Frees a value the server deleted by itself (an expired key under
/// `lazyfree-lazy-expire`, a key a command overwrote or deleted under
/// `lazyfree-lazy-server-del`): on the lazyfree thread when it is big and `lazy()` says so,
/// else in place. The setting is read only for a big value.
pub fn free_deleted(value: Value, lazy: impl FnOnce() -> bool) {
    // Strings first: the common overwrite, always one allocation at most.
    if !value.is_string() && free_effort(&value) > LAZYFREE_THRESHOLD && lazy() {
        free_later(value, 1);
    }
}

/// Frees an evicted value of about `bytes` like `free_value`; while it waits for the
/// thread its bytes count in [`pending_bytes`], which eviction leaves out of the memory
/// it compares with `maxmemory` (they are as good as freed).
pub fn free_value_sized(value: Value, bytes: u64) {
    if free_effort(&value) > LAZYFREE_THRESHOLD {
        send(value, 1, bytes);
    }
}

/// Frees a detached structure of `effort` allocations counting as `objects` objects
/// (a flushed keyspace: its shards, `objects` = keys): in place when cheap, else on the
/// lazyfree thread.
pub fn free_structure<T: Send + 'static>(garbage: T, effort: usize, objects: u64) {
    if effort > LAZYFREE_THRESHOLD {
        free_later(garbage, objects);
    }
}

/// Hands `garbage` to the lazyfree thread unconditionally.
pub fn free_later<T: Send + 'static>(garbage: T, objects: u64) {
    send(garbage, objects, 0);
}

fn send<T: Send + 'static>(garbage: T, objects: u64, bytes: u64) {
    let lf = lazyfree();
    lf.pending.fetch_add(objects, Ordering::Relaxed);
    lf.pending_bytes.fetch_add(bytes, Ordering::Relaxed);
    let job = Job {
        garbage: Box::new(garbage),
        objects,
        bytes,
    };
    if let Err(mpsc::SendError(job)) = lf.jobs.send(job) {
        // The thread is gone (only if it panicked): free here rather than leak.
        lf.pending.fetch_sub(job.objects, Ordering::Relaxed);
        lf.pending_bytes.fetch_sub(job.bytes, Ordering::Relaxed);
        drop(job.garbage);
    }
}

/// Bytes of evicted values waiting for the thread.
pub fn pending_bytes() -> u64 {
    LAZYFREE
        .get()
        .map_or(0, |lf| lf.pending_bytes.load(Ordering::Relaxed))
}

/// `lazyfree_pending_objects` for INFO memory.
pub fn pending_objects() -> u64 {
    LAZYFREE
        .get()
        .map_or(0, |lf| lf.pending.load(Ordering::Relaxed))
}

/// `lazyfreed_objects` for INFO stats.
pub fn freed_objects() -> u64 {
    LAZYFREE
        .get()
        .map_or(0, |lf| lf.freed.load(Ordering::Relaxed))
}

/// CONFIG RESETSTAT.
pub fn reset_stats() {
    if let Some(lf) = LAZYFREE.get() {
        lf.freed.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn big_structures_are_freed_on_the_thread() {
        let before = freed_objects();
        let garbage: Vec<Value> = (0..1000).map(Value::int).collect();
        free_structure(garbage, 1000, 1000);
        let deadline = Instant::now() + Duration::from_secs(5);
        while freed_objects() < before + 1000 {
            assert!(Instant::now() < deadline, "lazyfree thread did not free");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn strings_are_freed_in_place() {
        assert_eq!(free_effort(&Value::raw(vec![0; 1 << 20])), 1);
        assert_eq!(free_effort(&Value::int(5)), 1);
    }
}
