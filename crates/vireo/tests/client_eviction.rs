//! maxmemory-clients over TCP: every scenario runs against vireo-server and redis-server
//! alike and checks the same outcome on both. Which clients are closed, which survive,
//! what the survivors can still do, and INFO's `evicted_clients`. The limits leave wide
//! margins, because the two servers size their buffers differently.

mod common;

use common::reply::{bulk, int, ok};
use common::{encode_command, RawClient, Reply, Server};
use std::time::{Duration, Instant};

const MB: usize = 1024 * 1024;

fn both() -> [Server; 2] {
    [Server::vireo(&[]), Server::redis(&[])]
}

fn info_field(c: &mut RawClient, section: &str, field: &str) -> u64 {
    c.info_number(section, field)
}

/// A client that is never evicted, to configure the server and look at it.
fn controller(s: &Server) -> RawClient {
    let mut c = s.raw();
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "on"]), ok());
    c
}

fn named(s: &Server, name: &str) -> RawClient {
    let mut c = s.raw();
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", name]), ok());
    c
}

/// The header and all but the last `missing` bytes of `SET key <len bytes>`: the
/// server holds them in the client's query buffer, waiting for the rest.
fn partial_set(key: &str, len: usize, missing: usize) -> Vec<u8> {
    let mut bytes =
        format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${len}\r\n", key.len()).into_bytes();
    bytes.resize(bytes.len() + len - missing, b'x');
    bytes
}

/// Waits until the server holds at least `bytes` in the query buffer of client `name`.
fn wait_for_qbuf(c: &mut RawClient, name: &str, bytes: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = match c.cmd(&["CLIENT", "LIST"]) {
            Reply::Bulk(Some(text)) => String::from_utf8(text).unwrap(),
            other => panic!("CLIENT LIST answered {other:?}"),
        };
        let qbuf = list
            .lines()
            .find(|l| l.contains(&format!(" name={name} ")))
            .and_then(|l| l.split(' ').find_map(|f| f.strip_prefix("qbuf=")))
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        if qbuf >= bytes {
            return;
        }
        assert!(Instant::now() < deadline, "{name} never held {bytes} bytes");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_client_whose_query_buffer_passes_the_limit_is_closed_like_redis() {
    for s in both() {
        let kind = s.kind();
        let mut c = controller(&s);
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-clients", "3mb"]), ok());
        let mut big = named(&s, "big");
        // The server may close the connection before it has taken every byte.
        let _ = big.send(&encode_command(&[&b"SET"[..], b"k", &vec![b'v'; 5 * MB]]));
        assert!(big.is_closed(), "{kind:?}: the client was not closed");
        assert_eq!(c.cmd(&["EXISTS", "k"]), int(0), "{kind:?}");
        assert_eq!(
            info_field(&mut c, "stats", "evicted_clients"),
            1,
            "{kind:?}"
        );
        // A small command from a new client still works.
        let mut small = s.raw();
        assert_eq!(small.cmd(&["SET", "k", "v"]), ok(), "{kind:?}");
    }
}

#[test]
fn a_client_with_no_evict_on_is_spared_like_redis() {
    for s in both() {
        let kind = s.kind();
        let mut c = controller(&s);
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-clients", "3mb"]), ok());
        let mut spared = controller(&s);
        let value = vec![b'v'; 5 * MB];
        let reply = spared.command(&[&b"SET"[..], b"k", &value]).unwrap();
        assert_eq!(reply, ok(), "{kind:?}");
        assert_eq!(c.cmd(&["STRLEN", "k"]), int(5 * MB as i64), "{kind:?}");
        assert_eq!(
            info_field(&mut c, "stats", "evicted_clients"),
            0,
            "{kind:?}"
        );
    }
}

#[test]
fn a_client_whose_reply_passes_the_limit_gets_no_reply_like_redis() {
    for s in both() {
        let kind = s.kind();
        let mut c = controller(&s);
        let value = vec![b'v'; 5 * MB];
        assert_eq!(c.command(&[&b"SET"[..], b"big", &value]).unwrap(), ok());
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-clients", "3mb"]), ok());
        let mut reader = s.raw();
        assert_eq!(reader.cmd(&["GET", "small"]), Reply::Bulk(None), "{kind:?}");
        reader.send(&encode_command(&["GET", "big"])).unwrap();
        assert!(reader.is_closed(), "{kind:?}: the reader was not closed");
        assert_eq!(
            info_field(&mut c, "stats", "evicted_clients"),
            1,
            "{kind:?}"
        );
    }
}

#[test]
fn lowering_the_limit_evicts_the_largest_clients_only_like_redis() {
    for s in both() {
        let kind = s.kind();
        let mut c = controller(&s);
        let mut large = named(&s, "large");
        let mut small = named(&s, "small");
        large.send(&partial_set("a", 3 * MB, 10)).unwrap();
        small.send(&partial_set("b", 100_000, 10)).unwrap();
        wait_for_qbuf(&mut c, "large", 3 * MB - 10);
        wait_for_qbuf(&mut c, "small", 100_000 - 10);
        // 1 MB: over it with the large client, under it without.
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-clients", "1mb"]), ok());
        assert!(
            large.is_closed(),
            "{kind:?}: the large client was not closed"
        );
        // The small client finishes its command.
        small.send(&[b'x'; 10]).unwrap();
        small.send(b"\r\n").unwrap();
        assert_eq!(small.read_reply().unwrap(), ok(), "{kind:?}");
        assert_eq!(c.cmd(&["STRLEN", "b"]), int(100_000), "{kind:?}");
        assert_eq!(
            info_field(&mut c, "stats", "evicted_clients"),
            1,
            "{kind:?}"
        );
        // CONFIG RESETSTAT clears the count.
        assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
        assert_eq!(
            info_field(&mut c, "stats", "evicted_clients"),
            0,
            "{kind:?}"
        );
    }
}

#[test]
fn a_percentage_is_a_share_of_maxmemory_like_redis() {
    for s in both() {
        let kind = s.kind();
        let mut c = controller(&s);
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "200mb"]), ok());
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-clients", "1%"]), ok());
        assert_eq!(
            c.cmd(&["CONFIG", "GET", "maxmemory-clients"]),
            Reply::Array(Some(vec![bulk("maxmemory-clients"), bulk("1%")])),
            "{kind:?}"
        );
        // 1% of 200 MB is 2 MB: a 1 MB argument passes, a 5 MB one does not.
        let mut client = s.raw();
        let reply = client
            .command(&[&b"SET"[..], b"k", &vec![b'v'; MB]])
            .unwrap();
        assert_eq!(reply, ok(), "{kind:?}");
        let _ = client.send(&encode_command(&[&b"SET"[..], b"k", &vec![b'v'; 5 * MB]]));
        assert!(client.is_closed(), "{kind:?}: the client was not closed");
        assert_eq!(c.cmd(&["STRLEN", "k"]), int(MB as i64), "{kind:?}");
        // Without maxmemory, a percentage means no limit.
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), ok());
        let mut client = s.raw();
        let reply = client
            .command(&[&b"SET"[..], b"k", &vec![b'v'; 5 * MB]])
            .unwrap();
        assert_eq!(reply, ok(), "{kind:?}");
    }
}

#[test]
fn info_reports_the_memory_of_clients() {
    let s = Server::vireo(&[]);
    let mut c = s.raw();
    let idle = info_field(&mut c, "memory", "mem_clients_normal");
    assert!(idle > 0);
    let mut holder = s.raw();
    holder.send(&partial_set("a", 2 * MB, 10)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_field(&mut c, "memory", "mem_clients_normal") < idle + (2 * MB) as u64 - 10 {
        assert!(Instant::now() < deadline, "the query buffer never showed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A subscriber that does not read, with the output buffer limits off: its messages pile
/// up until maxmemory-clients closes it (the cron counts clients that send nothing).
#[test]
fn an_unread_subscriber_is_evicted_like_redis() {
    for s in [
        Server::vireo(&["--client-output-buffer-limit", "pubsub 0 0 0"]),
        Server::redis(&["--client-output-buffer-limit", "pubsub 0 0 0"]),
    ] {
        let kind = s.kind();
        let mut c = controller(&s);
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-clients", "4mb"]), ok());
        let mut sub = s.raw();
        assert!(!sub.cmd(&["SUBSCRIBE", "slow"]).is_error());
        let payload = "x".repeat(16 * 1024);
        let one = encode_command(&["PUBLISH", "slow", &payload]);
        let mut sent = 0;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            c.send(&one).unwrap();
            match c.read_reply().unwrap() {
                Reply::Integer(0) => break,
                Reply::Integer(1) => sent += payload.len(),
                other => panic!("{kind:?}: PUBLISH answered {other:?}"),
            }
            assert!(
                Instant::now() < deadline,
                "{kind:?}: still subscribed after {sent} bytes"
            );
            // Give the cron its tick now and then instead of racing it.
            if sent % (4 * MB) == 0 {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        assert!(sent < 256 * MB, "{kind:?}: evicted only after {sent} bytes");
        assert!(sub.is_closed(), "{kind:?}");
        assert_eq!(
            info_field(&mut c, "stats", "evicted_clients"),
            1,
            "{kind:?}"
        );
    }
}

/// Waits until a numeric INFO field reaches `at_least`; fails after 10 s.
fn wait_info(c: &mut RawClient, section: &str, field: &str, at_least: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_field(c, section, field) < at_least {
        assert!(
            Instant::now() < deadline,
            "{field} never reached {at_least}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// INFO clients shows the largest recent input and output buffers: a half-sent 2 MB
/// argument, and 4 MB of messages waiting for a subscriber that does not read.
#[test]
fn info_shows_recent_buffer_peaks_like_redis() {
    for s in [
        Server::vireo(&["--client-output-buffer-limit", "pubsub 0 0 0"]),
        Server::redis(&["--client-output-buffer-limit", "pubsub 0 0 0"]),
    ] {
        let kind = s.kind();
        let mut c = s.raw();
        let mut holder = named(&s, "holder");
        holder.send(&partial_set("a", 2 * MB, 10)).unwrap();
        wait_info(
            &mut c,
            "clients",
            "client_recent_max_input_buffer",
            2 * MB as u64 - 10,
        );
        let mut sub = s.raw();
        assert!(!sub.cmd(&["SUBSCRIBE", "slow"]).is_error());
        let payload = "x".repeat(64 * 1024);
        // 16 MB published: more than the sockets take, so some waits in the server.
        for _ in 0..256 {
            assert_eq!(c.cmd(&["PUBLISH", "slow", &payload]), int(1), "{kind:?}");
        }
        wait_info(
            &mut c,
            "clients",
            "client_recent_max_output_buffer",
            MB as u64,
        );
    }
}
