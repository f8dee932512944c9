//! Keyspace notifications (`notify-keyspace-events`): a command that changes a key
//! publishes the event on two Pub/Sub channels, as Redis does:
//! `__keyspace@<db>__:<key>` carries the event name, `__keyevent@<db>__:<event>` the key.
//!
//! Which events are published is a set of class flags (`vireo_config::value::notify`,
//! the letters of the directive). The flags are mirrored in an atomic so that a command
//! pays one relaxed load when notifications are off, which is the default.
//!
//! Notifications are published while the command still holds its shard locks, so a
//! subscriber sees the events of one key in the order of its changes. Publishing takes
//! only the Pub/Sub registry's read lock and queues frames; it never waits on a socket.

use crate::Server;
use std::sync::atomic::{AtomicU32, Ordering};
pub use vireo_config::value::notify as class;

/// The flags the server acts on: `notify-keyspace-events` as last set.
#[derive(Default)]
pub struct Notifications {
    flags: AtomicU32,
}

impl Notifications {
    pub fn set(&self, flags: u32) {
        self.flags.store(flags, Ordering::Relaxed);
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// Whether an event of `class` would be published (one load; lets a caller skip
    /// preparing an event nobody listens to).
    pub fn wants(&self, class: u32) -> bool {
        let flags = self.flags();
        flags & class != 0 && flags & (class::KEYSPACE | class::KEYEVENT) != 0
    }
}

impl Server {
    /// Publishes `event` about `key` in database `db` if `class` is enabled
    /// (Redis's notifyKeyspaceEvent).
    pub fn notify(&self, class: u32, event: &str, key: &[u8], db: usize) {
        let flags = self.notifications.flags();
        if flags & class == 0 {
            return;
        }
        let mut channel = Vec::with_capacity(24 + key.len().max(event.len()));
        if flags & class::KEYSPACE != 0 {
            channel_prefix(&mut channel, "__keyspace@", db);
            channel.extend_from_slice(key);
            self.pubsub.publish(self, &channel, event.as_bytes());
        }
        if flags & class::KEYEVENT != 0 {
            channel.clear();
            channel_prefix(&mut channel, "__keyevent@", db);
            channel.extend_from_slice(event.as_bytes());
            self.pubsub.publish(self, &channel, key);
        }
    }
}

/// `__keyspace@3__:` and the like.
fn channel_prefix(out: &mut Vec<u8>, kind: &str, db: usize) {
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(itoa::Buffer::new().format(db).as_bytes());
    out.extend_from_slice(b"__:");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_need_a_channel_kind() {
        let n = Notifications::default();
        assert!(!n.wants(class::STRING));
        n.set(class::STRING);
        // A class without K or E publishes nothing, as in Redis.
        assert!(!n.wants(class::STRING));
        n.set(class::STRING | class::KEYEVENT);
        assert!(n.wants(class::STRING));
        assert!(!n.wants(class::LIST));
    }

    #[test]
    fn channel_names_follow_redis() {
        let mut out = Vec::new();
        channel_prefix(&mut out, "__keyspace@", 12);
        assert_eq!(out, b"__keyspace@12__:");
    }
}
