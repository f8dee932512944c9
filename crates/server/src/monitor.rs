//! MONITOR: every command any client runs, streamed to the connections that asked.
//!
//! After a command has run (whether it succeeded or answered an error), the dispatcher
//! describes it in one line — `+<unix secs>.<usec> [<db> <addr>] "arg" "arg"...`, the
//! database being the client's after the command, each argument quoted with non-printable
//! bytes escaped — and the line, encoded once, is queued on every monitor's `Outbox` (the
//! pub/sub delivery path), so the monitors' connections write it as they write messages,
//! under the output buffer limit of their class (normal; pubsub if subscribed). Commands
//! refused before running (unknown, wrong arity, not authenticated...) and those queued by
//! MULTI are not shown; queued commands show when EXEC runs them, before EXEC itself.
//! Administrative commands (`admin` flag) and those flagged `skip-monitor` are never shown,
//! and passwords are: AUTH's arguments and HELLO's AUTH pair read `(redacted)`.
//!
//! With nobody monitoring, the dispatcher pays one relaxed load per command.

use crate::client::ClientHandle;
use crate::Server;
use bytes::{BufMut, Bytes, BytesMut};
use parking_lot::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const REDACTED: &[u8] = b"(redacted)";

#[derive(Default)]
pub struct Monitors {
    /// How many connections monitor (the dispatcher's cheap check).
    count: AtomicUsize,
    list: RwLock<Vec<Arc<ClientHandle>>>,
}

impl Monitors {
    /// Does anybody monitor?
    #[inline]
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Relaxed) != 0
    }

    pub fn add(&self, handle: Arc<ClientHandle>) {
        let mut list = self.list.write();
        list.push(handle);
        self.count.store(list.len(), Ordering::Relaxed);
    }

    pub fn remove(&self, id: u64) {
        let mut list = self.list.write();
        list.retain(|h| h.id != id);
        self.count.store(list.len(), Ordering::Relaxed);
    }

    /// Shows the command `args`, run by `client` (now in database `db`), to every monitor.
    pub fn feed(&self, server: &Server, client: &ClientHandle, db: usize, args: &[bytes::Bytes]) {
        let line = describe(crate::unix_us(), db, &client.monitor_addr(), args);
        let list = self.list.read();
        crate::pubsub::queue_frame(server, &list, line);
    }
}

/// The MONITOR line for a command: a status reply.
pub fn describe(unix_us: i64, db: usize, addr: &str, args: &[Bytes]) -> Bytes {
    let size = 48 + addr.len() + args.iter().map(|a| a.len() + 3).sum::<usize>();
    let mut out = BytesMut::with_capacity(size);
    let (secs, usecs) = (unix_us.div_euclid(1_000_000), unix_us.rem_euclid(1_000_000));
    out.put_slice(format!("+{secs}.{usecs:06} [{db} {addr}]").as_bytes());
    let redacted = Redaction::of(args);
    for (i, arg) in args.iter().enumerate() {
        out.put_u8(b' ');
        let arg: &[u8] = if redacted.covers(i) { REDACTED } else { arg };
        quote(&mut out, arg);
    }
    out.put_slice(b"\r\n");
    out.freeze()
}

/// Appends `arg` in double quotes: `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b` for those
/// bytes, `\xNN` (lower-case hex) for other bytes outside printable ASCII.
fn quote(out: &mut BytesMut, arg: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.put_u8(b'"');
    for &b in arg {
        match b {
            b'\\' => out.put_slice(b"\\\\"),
            b'"' => out.put_slice(b"\\\""),
            b'\n' => out.put_slice(b"\\n"),
            b'\r' => out.put_slice(b"\\r"),
            b'\t' => out.put_slice(b"\\t"),
            0x07 => out.put_slice(b"\\a"),
            0x08 => out.put_slice(b"\\b"),
            0x20..=0x7e => out.put_u8(b),
            _ => out.put_slice(&[b'\\', b'x', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]),
        }
    }
    out.put_u8(b'"');
}

/// Which arguments of a command hold secrets.
enum Redaction {
    None,
    /// Every argument from this index on.
    From(usize),
    /// These pairs' starting indexes (HELLO's AUTH username password).
    Pairs(smallvec::SmallVec<[usize; 2]>),
}

impl Redaction {
    fn of(args: &[Bytes]) -> Redaction {
        let name = &args[0];
        if name.eq_ignore_ascii_case(b"auth") {
            return Redaction::From(1);
        }
        if !name.eq_ignore_ascii_case(b"hello") {
            return Redaction::None;
        }
        // HELLO protover [AUTH username password] [SETNAME name], options read as HELLO
        // reads them.
        let mut pairs = smallvec::SmallVec::new();
        let mut i = 2;
        while i < args.len() {
            let more = args.len() - i - 1;
            if args[i].eq_ignore_ascii_case(b"auth") && more >= 2 {
                pairs.push(i + 1);
                i += 3;
            } else if args[i].eq_ignore_ascii_case(b"setname") && more >= 1 {
                i += 2;
            } else {
                break;
            }
        }
        Redaction::Pairs(pairs)
    }

    fn covers(&self, i: usize) -> bool {
        match self {
            Redaction::None => false,
            Redaction::From(from) => i >= *from,
            Redaction::Pairs(pairs) => pairs.iter().any(|&p| i == p || i == p + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(args: &[&[u8]]) -> String {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        String::from_utf8(describe(1_700_000_000_000_042, 3, "127.0.0.1:5000", &args).to_vec())
            .unwrap()
    }

    #[test]
    fn quotes_and_escapes_like_redis() {
        assert_eq!(
            line(&[b"set", b"a", b"x y\"z\\ \n\t\x01\r\x07\x08\xc3\xa9~"]),
            "+1700000000.000042 [3 127.0.0.1:5000] \"set\" \"a\" \
             \"x y\\\"z\\\\ \\n\\t\\x01\\r\\a\\b\\xc3\\xa9~\"\r\n"
        );
        assert_eq!(
            line(&[b"PING"]),
            "+1700000000.000042 [3 127.0.0.1:5000] \"PING\"\r\n"
        );
        assert_eq!(
            line(&[b"get", b""]),
            "+1700000000.000042 [3 127.0.0.1:5000] \"get\" \"\"\r\n"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert!(line(&[b"AUTH", b"pw"]).ends_with("\"AUTH\" \"(redacted)\"\r\n"));
        assert!(
            line(&[b"auth", b"u", b"pw"]).ends_with("\"auth\" \"(redacted)\" \"(redacted)\"\r\n")
        );
        assert!(
            line(&[b"hello", b"3", b"setname", b"n", b"AUTH", b"u", b"p"]).ends_with(
                "\"hello\" \"3\" \"setname\" \"n\" \"AUTH\" \"(redacted)\" \"(redacted)\"\r\n"
            )
        );
        assert!(line(&[b"hello", b"3", b"setname", b"auth"])
            .ends_with("\"hello\" \"3\" \"setname\" \"auth\"\r\n"));
    }
}
