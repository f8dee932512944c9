//! The exclusive gate: how a transaction that cannot name its shards up front (it holds
//! a command that locks for itself, such as KEYS, FLUSHDB or MOVE, or a SELECT) still
//! runs with no other command in between, as DESIGN §3's exclusive mode.
//!
//! Every command passes the gate shared, before it locks any shard; an exclusive
//! transaction passes it exclusively, which waits for the commands in flight to finish
//! and holds new ones back until it is done. The gate is split into slots, one picked
//! by client id, each on its own cache line: a command takes one uncontended reader lock
//! near its own core, and only the rare exclusive holder takes them all (in order, so two
//! of them serialize instead of deadlocking).
//!
//! Commands that lock for themselves and write (FLUSHDB, FLUSHALL, SWAPDB, MOVE, COPY,
//! SORT ... STORE) also run exclusively: they release their locks before the dispatcher
//! feeds their writes to the propagation stream, which must still see them in the order
//! they ran.
//!
//! Rule: a thread holding the gate shared must not ask for it exclusively (EXEC passes
//! the dispatcher without it, see `exec::run`).

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

const SLOTS: usize = 32;

#[repr(align(64))]
#[derive(Default)]
struct Slot(RwLock<()>);

pub struct Gate {
    slots: [Slot; SLOTS],
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            slots: std::array::from_fn(|_| Slot::default()),
        }
    }
}

/// The gate held shared by one command.
pub struct Shared<'a>(#[allow(dead_code)] RwLockReadGuard<'a, ()>);

/// The gate held exclusively.
pub struct Exclusive<'a>(#[allow(dead_code)] Vec<RwLockWriteGuard<'a, ()>>);

/// The gate as one command holds it.
pub enum Held<'a> {
    Shared(Shared<'a>),
    Exclusive(Exclusive<'a>),
}

impl Gate {
    /// Passes the gate for one command of client `id`, exclusively if asked.
    pub fn enter(&self, id: u64, exclusive: bool) -> Held<'_> {
        if exclusive {
            Held::Exclusive(self.exclusive())
        } else {
            Held::Shared(self.shared(id))
        }
    }

    /// Passes the gate for one command of client `id`.
    pub fn shared(&self, id: u64) -> Shared<'_> {
        Shared(self.slots[id as usize % SLOTS].0.read())
    }

    /// Holds every other command back until the returned guard is dropped.
    pub fn exclusive(&self) -> Exclusive<'_> {
        Exclusive(self.slots.iter().map(|s| s.0.write()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn exclusive_waits_for_shared_and_holds_new_ones_back() {
        let gate = Arc::new(Gate::default());
        let shared = gate.shared(7);
        let done = Arc::new(AtomicBool::new(false));
        let t = {
            let (gate, done) = (gate.clone(), done.clone());
            std::thread::spawn(move || {
                let _x = gate.exclusive();
                done.store(true, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(50));
                done.store(false, Ordering::SeqCst);
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        // The exclusive holder is still waiting for the command in flight.
        assert!(!done.load(Ordering::SeqCst));
        drop(shared);
        while !done.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        // A new command waits until the exclusive holder is done.
        let _again = gate.shared(8);
        assert!(!done.load(Ordering::SeqCst));
        t.join().unwrap();
    }
}
