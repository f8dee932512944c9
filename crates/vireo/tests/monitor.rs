//! MONITOR over TCP: the same commands are run on redis-server 7.0 and on vireo with a
//! monitor attached, and what the monitors receive is compared line by line, with the
//! timestamps checked for their format and the client addresses replaced by the name of
//! the test connection that ran the command. Then what only vireo can be asked here:
//! unix socket clients, RESP3 monitors, monitors and the timeout.

mod common;

use common::reply::{err, ok};
use common::{RawClient, Reply, Server};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

const END: &str = "end-of-script";

/// One frame a monitor received, its timestamp checked and its address named.
fn describe(frame: &Reply, names: &[(String, &str)]) -> String {
    let Reply::Simple(bytes) = frame else {
        // A reply to the monitor's own command.
        return format!("reply {frame}");
    };
    let line = String::from_utf8_lossy(bytes).into_owned();
    let Some((stamp, rest)) = line.split_once(" [") else {
        // A status reply to the monitor's own command (PONG).
        return format!("reply {frame}");
    };
    let rest = format!("[{rest}");
    let (secs, usecs) = stamp.split_once('.').expect("secs.usecs");
    assert!(secs.parse::<u64>().is_ok(), "{line}");
    assert!(usecs.len() == 6 && usecs.parse::<u32>().is_ok(), "{line}");
    let rest = rest.strip_prefix('[').expect("[db addr]");
    let (db, rest) = rest.split_once(' ').expect("db");
    let (addr, args) = rest.split_once("] ").expect("addr]");
    let name = names
        .iter()
        .find(|(a, _)| a == addr)
        .map_or(addr, |(_, n)| n);
    format!("[{db} {name}] {args}")
}

fn addr_of(c: &mut RawClient) -> String {
    let Reply::Bulk(Some(info)) = c.cmd(&["CLIENT", "INFO"]) else {
        panic!("CLIENT INFO");
    };
    let info = String::from_utf8(info).unwrap();
    let addr = info
        .split(' ')
        .find_map(|f| f.strip_prefix("addr="))
        .expect("addr=");
    addr.to_string()
}

/// Reads what the monitor receives into `seen` until a line containing `marker`.
fn read_until(m: &mut RawClient, names: &[(String, &str)], seen: &mut Vec<String>, marker: &str) {
    loop {
        let frame = m.read_reply().expect("monitor output");
        let line = describe(&frame, names);
        let done = line.contains(marker);
        seen.push(line);
        if done {
            return;
        }
    }
}

/// Runs the script on `server` with a monitor attached; what the monitor received.
fn monitored(server: &Server) -> Vec<String> {
    let mut m = server.raw();
    let mut c1 = server.raw();
    let mut c2 = server.raw();
    let mut sub = server.raw();
    let names = vec![
        (addr_of(&mut c1), "c1"),
        (addr_of(&mut c2), "c2"),
        (addr_of(&mut sub), "sub"),
        (addr_of(&mut m), "monitor"),
    ];
    assert_eq!(m.cmd(&["MONITOR"]), ok());
    let cmd = |c: &mut RawClient, args: &[&[u8]]| {
        c.command(args).unwrap();
    };
    cmd(
        &mut c1,
        &[b"SET", b"a", b"x y\"z\\ \n\t\x01\r\x07\x08\xc3\xa9~"],
    );
    cmd(&mut c1, &[b"set", b"", b""]);
    // Passwords never show; failed AUTHs still show.
    cmd(&mut c1, &[b"AUTH", b"secret"]);
    cmd(&mut c1, &[b"auth", b"someone", b"secret"]);
    cmd(&mut c2, &[b"HELLO", b"3", b"AUTH", b"default", b"pw"]);
    cmd(&mut c2, &[b"HELLO", b"2", b"SETNAME", b"named"]);
    // Administrative commands and refused commands do not show.
    cmd(&mut c1, &[b"CONFIG", b"GET", b"maxmemory"]);
    cmd(&mut c1, &[b"CLIENT", b"LIST"]);
    cmd(&mut c1, &[b"CLIENT", b"KILL", b"ID", b"999999"]);
    cmd(&mut c1, &[b"CLIENT", b"PAUSE", b"0"]);
    cmd(&mut c1, &[b"NOSUCHCOMMAND", b"x"]);
    cmd(&mut c1, &[b"GET"]);
    cmd(&mut c1, &[b"CLIENT", b"SETNAME", b"x"]);
    cmd(&mut c1, &[b"CLIENT", b"ID"]);
    cmd(&mut c1, &[b"INFO", b"server"]);
    // Failed commands show.
    cmd(&mut c1, &[b"INCR", b"a"]);
    // The database is the one after the command.
    cmd(&mut c1, &[b"SELECT", b"3"]);
    cmd(&mut c1, &[b"SET", b"k", b"in-3"]);
    cmd(&mut c1, &[b"SELECT", b"0"]);
    // Transactions: the queued commands show when EXEC runs them, before EXEC.
    cmd(&mut c1, &[b"MULTI"]);
    cmd(&mut c1, &[b"SET", b"k", b"1"]);
    cmd(&mut c1, &[b"INCR", b"k"]);
    cmd(&mut c1, &[b"GET", b"k"]);
    cmd(&mut c1, &[b"EXEC"]);
    cmd(&mut c1, &[b"SELECT", b"2"]);
    cmd(&mut c1, &[b"MULTI"]);
    cmd(&mut c1, &[b"SELECT", b"4"]);
    cmd(&mut c1, &[b"SET", b"k", b"v"]);
    cmd(&mut c1, &[b"EXEC"]);
    cmd(&mut c1, &[b"GET", b"k"]);
    cmd(&mut c1, &[b"SELECT", b"0"]);
    cmd(&mut c1, &[b"MULTI"]);
    cmd(&mut c1, &[b"GET"]);
    cmd(&mut c1, &[b"SET", b"k", b"queued"]);
    cmd(&mut c1, &[b"EXEC"]);
    // Pub/sub and blocking commands.
    cmd(&mut sub, &[b"SUBSCRIBE", b"ch"]);
    cmd(&mut c1, &[b"PUBLISH", b"ch", b"hello"]);
    sub.read_reply().unwrap();
    cmd(&mut sub, &[b"UNSUBSCRIBE"]);
    cmd(&mut c1, &[b"BLPOP", b"nothing", b"0.01"]);
    cmd(&mut c1, &[b"RPUSH", b"l", b"1", b"2"]);
    cmd(&mut c1, &[b"LRANGE", b"l", b"0", b"-1"]);
    // The monitor's own commands: those that touch no key run, and show to it too.
    m.send(&common::encode_command(&["PING"])).unwrap();
    m.send(&common::encode_command(&["GET", "a"])).unwrap();
    m.send(&common::encode_command(&["SET", "a", "b"])).unwrap();
    m.send(&common::encode_command(&["MONITOR"])).unwrap();
    m.send(&common::encode_command(&["CLIENT", "GETNAME"]))
        .unwrap();
    let mut seen = Vec::new();
    read_until(&mut m, &names, &mut seen, r#""CLIENT" "GETNAME""#);
    cmd(&mut c2, &[b"DEL", b"a", b"k", b"l"]);
    cmd(&mut c2, &[b"ECHO", END.as_bytes()]);
    read_until(&mut m, &names, &mut seen, END);
    // RESET leaves monitor mode: nothing more comes.
    assert_eq!(m.cmd(&["RESET"]), Reply::Simple(b"RESET".to_vec()));
    c1.cmd(&["SET", "after", "reset"]);
    assert_eq!(m.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    assert_eq!(
        m.cmd(&["GET", "after"]),
        Reply::Bulk(Some(b"reset".to_vec()))
    );
    seen
}

#[test]
fn monitor_lines_match_redis() {
    let redis = monitored(&Server::redis(&[]));
    let vireo = monitored(&Server::vireo(&[]));
    for (i, (r, v)) in redis.iter().zip(&vireo).enumerate() {
        assert_eq!(r, v, "line {i}\nredis: {redis:#?}\nvireo: {vireo:#?}");
    }
    assert_eq!(
        redis.len(),
        vireo.len(),
        "redis: {redis:#?}\nvireo: {vireo:#?}"
    );
    // The script did show what it meant to: spot checks of the shared result.
    let expect = [
        r#"[0 c1] "SET" "a" "x y\"z\\ \n\t\x01\r\a\b\xc3\xa9~""#,
        r#"[0 c1] "AUTH" "(redacted)""#,
        r#"[0 c2] "HELLO" "3" "AUTH" "(redacted)" "(redacted)""#,
        r#"[3 c1] "SELECT" "3""#,
        r#"[0 monitor] "PING""#,
    ];
    for line in expect {
        assert!(vireo.iter().any(|l| l == line), "{line} in {vireo:#?}");
    }
    assert!(!vireo
        .iter()
        .any(|l| l.contains("CONFIG") || l.contains("LIST")));
}

fn unix_command(stream: &mut UnixStream, args: &[&str]) -> Vec<u8> {
    stream.write_all(&common::encode_command(args)).unwrap();
    let mut buf = vec![0u8; 1024];
    let n = stream.read(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn unix_socket_clients_show_as_unix_path() {
    let path = std::env::temp_dir().join(format!("vireo-monitor-{}.sock", std::process::id()));
    let path = path.to_str().unwrap().to_string();
    let server = Server::vireo(&["--unixsocket", &path]);
    let mut m = server.raw();
    assert_eq!(m.cmd(&["MONITOR"]), ok());
    let mut unix = UnixStream::connect(&path).unwrap();
    unix.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(unix_command(&mut unix, &["SELECT", "5"]), b"+OK\r\n");
    assert_eq!(unix_command(&mut unix, &["PING"]), b"+PONG\r\n");
    let line = m.read_reply().unwrap();
    let Reply::Simple(line) = line else {
        panic!("{line}")
    };
    let line = String::from_utf8(line).unwrap();
    assert!(
        line.ends_with(&format!(" [5 unix:{path}] \"SELECT\" \"5\"")),
        "{line}"
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn resp3_monitors_get_status_lines_and_resp3_replies() {
    let server = Server::vireo(&[]);
    let mut m = server.raw();
    m.cmd(&["HELLO", "3"]);
    assert_eq!(m.cmd(&["MONITOR"]), ok());
    let mut c = server.raw();
    c.cmd(&["SET", "k", "v"]);
    let Reply::Simple(line) = m.read_reply().unwrap() else {
        panic!("a status line")
    };
    assert!(String::from_utf8(line)
        .unwrap()
        .ends_with(r#""SET" "k" "v""#));
    // The monitor shows as `O` in CLIENT LIST, and as a normal client for TYPE.
    let list = c.cmd(&["CLIENT", "LIST", "TYPE", "normal"]);
    let list = String::from_utf8_lossy(list.bytes().unwrap()).into_owned();
    assert!(list.contains("flags=O "), "{list}");
    let list = c.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]);
    assert_eq!(list.bytes().unwrap(), b"");
}

#[test]
fn monitor_inside_exec_is_refused() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    c.cmd(&["MULTI"]);
    assert_eq!(c.cmd(&["MONITOR"]), Reply::Simple(b"QUEUED".to_vec()));
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(Some(vec![err(
            "ERR MONITOR isn't allowed for DENY BLOCKING client"
        )]))
    );
    // Not a monitor: it may still read keys.
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Bulk(None));
}

#[test]
fn monitors_are_not_closed_for_idleness() {
    let server = Server::vireo(&["--timeout", "1"]);
    let mut m = server.raw();
    assert_eq!(m.cmd(&["MONITOR"]), ok());
    let mut idle = server.raw();
    assert_eq!(idle.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(idle.is_closed(), "an idle normal client is closed");
    let mut c = server.raw();
    c.cmd(&["SET", "k", "v"]);
    // The idle client's PING came first.
    let ping = m.read_reply().unwrap();
    assert!(ping.bytes().unwrap().ends_with(br#""PING""#), "{ping}");
    let set = m.read_reply().unwrap();
    assert!(set.bytes().unwrap().ends_with(br#""SET" "k" "v""#), "{set}");
}

#[test]
fn a_monitor_that_does_not_read_is_closed_at_the_normal_limit() {
    let server = Server::vireo(&["--client-output-buffer-limit", "normal 64kb 0 0"]);
    let mut m = server.raw();
    assert_eq!(m.cmd(&["MONITOR"]), ok());
    // The monitor never reads; a large argument fills its output fast.
    let mut c = server.raw();
    // More than the socket buffers on both sides can hold.
    let big = "x".repeat(256 * 1024);
    for _ in 0..128 {
        if c.command(&["SET", "k", &big]).is_err() {
            break;
        }
    }
    let mut watcher = server.raw();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let list = watcher.cmd(&["CLIENT", "LIST"]);
        let list = String::from_utf8_lossy(list.bytes().unwrap()).into_owned();
        if !list.contains("flags=O") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "monitor still there: {list}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let info = watcher.cmd(&["INFO", "stats"]);
    let info = String::from_utf8_lossy(info.bytes().unwrap()).into_owned();
    assert!(
        info.contains("client_output_buffer_limit_disconnections:1"),
        "{info}"
    );
}
