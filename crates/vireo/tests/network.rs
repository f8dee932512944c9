//! Listener and connection-limit behaviour compared with redis-server: maxclients, the idle
//! `timeout`, unix sockets and their permissions, `port 0`, several `bind` addresses and
//! optional (`-`) ones. Each test runs the same steps against both servers at once and
//! compares what a client observes.

mod common;

use common::{Kind, Server};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";

/// Runs `f` on both servers concurrently; returns (redis's result, vireo's result).
fn both<T: Send>(redis: &Server, vireo: &Server, f: impl Fn(&Server) -> T + Sync) -> (T, T) {
    std::thread::scope(|s| {
        let r = s.spawn(|| f(redis));
        let v = f(vireo);
        (r.join().unwrap(), v)
    })
}

/// Everything the peer sends until it closes (or `limit` passes), and whether it closed.
fn drain<S: Read>(stream: &mut S, limit: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if Instant::now() >= deadline {
            return (got, false);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (got, true),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    s
}

/// A connection the server admits (it answers PING), made as soon as a slot is free:
/// refused connections are retried until one is admitted or 10 s pass.
fn connect_admitted(addr: &str) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut s = connect(addr);
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut reply = [0u8; 7];
        if s.write_all(PING).is_ok() && s.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n" {
            s.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{addr} admitted no connection in 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ping(s: &mut TcpStream) -> Vec<u8> {
    s.write_all(PING).unwrap();
    let mut reply = [0u8; 7];
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.read_exact(&mut reply).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    reply.to_vec()
}

#[test]
fn maxclients_refuses_the_extra_connection() {
    let args = ["--maxclients", "2"];
    let redis = Server::redis(&args);
    let vireo = Server::vireo(&args);
    let (from_redis, from_vireo) = both(&redis, &vireo, |server| {
        // (The harness's readiness probe may still be counted for a moment.)
        let a = connect_admitted(&server.addr());
        let mut b = connect_admitted(&server.addr());
        let mut c = connect(&server.addr());
        let (refusal, closed) = drain(&mut c, Duration::from_secs(10));
        let mut steps = vec![refusal, vec![closed as u8]];
        // The two admitted clients still work.
        steps.push(ping(&mut b));
        // A freed slot is available again once the server has seen the close.
        drop(a);
        let mut d = connect_admitted(&server.addr());
        steps.push(ping(&mut d));
        steps
    });
    assert_eq!(
        from_redis[0],
        b"-ERR max number of clients reached\r\n".to_vec()
    );
    assert_eq!(from_redis, from_vireo);
}

#[test]
fn idle_timeout_closes_clients() {
    let args = ["--timeout", "1"];
    let redis = Server::redis(&args);
    let vireo = Server::vireo(&args);
    let (from_redis, from_vireo) = both(&redis, &vireo, |server| {
        let mut idle = connect(&server.addr());
        let mut busy = connect(&server.addr());
        ping(&mut idle);
        let start = Instant::now();
        // The busy client talks every 300 ms for 2.5 s and must survive.
        while start.elapsed() < Duration::from_millis(2500) {
            assert_eq!(ping(&mut busy), b"+PONG\r\n");
            std::thread::sleep(Duration::from_millis(300));
        }
        let (sent, closed) = drain(&mut idle, Duration::from_secs(5));
        (sent, closed, start.elapsed())
    });
    for (kind, (sent, closed, idle_for)) in [("redis", &from_redis), ("vireo", &from_vireo)] {
        assert!(sent.is_empty(), "{kind} sent {sent:?} to an idle client");
        assert!(*closed, "{kind} kept an idle client for {idle_for:?}");
    }
}

/// A server started by hand (for setups the harness cannot probe over TCP), killed on drop.
struct Manual {
    child: Child,
    _dir: tempfile::TempDir,
    socket: PathBuf,
}

impl Drop for Manual {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary(kind: Kind) -> PathBuf {
    match kind {
        Kind::Redis => PathBuf::from("redis-server"),
        Kind::Vireo => match std::env::var_os("VIREO_TEST_BIN") {
            Some(bin) if !bin.is_empty() => PathBuf::from(bin),
            _ => PathBuf::from(env!("CARGO_BIN_EXE_vireo-server")),
        },
    }
}

/// Starts a server listening on a unix socket in a fresh directory (plus whatever `args`
/// say), and waits until it answers PING there.
fn start_unix(kind: Kind, args: &[&str]) -> Manual {
    let dir = tempfile::Builder::new()
        .prefix("vireo-net-")
        .tempdir()
        .unwrap();
    let socket = dir.path().join("server.sock");
    let mut cmd = Command::new(binary(kind));
    cmd.args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(dir.path())
        .arg("--unixsocket")
        .arg(&socket)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = cmd.spawn().unwrap();
    let server = Manual {
        child,
        _dir: dir,
        socket,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut s) = UnixStream::connect(&server.socket) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut reply = [0u8; 7];
            if s.write_all(PING).is_ok() && s.read_exact(&mut reply).is_ok() {
                assert_eq!(&reply, b"+PONG\r\n");
                return server;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{kind:?} did not come up on its socket"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn unix_socket_permissions_match_redis() {
    for perm in ["700", "770", "755"] {
        let port = common::free_port().to_string();
        let redis = start_unix(Kind::Redis, &["--port", &port, "--unixsocketperm", perm]);
        let port = common::free_port().to_string();
        let vireo = start_unix(Kind::Vireo, &["--port", &port, "--unixsocketperm", perm]);
        assert_eq!(mode(&redis.socket), u32::from_str_radix(perm, 8).unwrap());
        assert_eq!(
            mode(&vireo.socket),
            mode(&redis.socket),
            "unixsocketperm {perm}"
        );
    }
    // Without unixsocketperm both leave the mode to the umask.
    let redis = start_unix(Kind::Redis, &["--port", "0"]);
    let vireo = start_unix(Kind::Vireo, &["--port", "0"]);
    assert_eq!(mode(&vireo.socket), mode(&redis.socket));
}

#[test]
fn port_zero_listens_on_the_unix_socket_only() {
    for kind in [Kind::Redis, Kind::Vireo] {
        let server = start_unix(kind, &["--port", "0"]);
        let mut s = UnixStream::connect(&server.socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n").unwrap();
        let mut reply = [0u8; 8];
        s.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b"$2\r\nhi\r\n", "{kind:?}");
        // No TCP listener: nothing of this process is bound to a port. The process's own
        // sockets are listed in /proc/<pid>/net/tcp only by inode; check via its fds.
        assert!(
            tcp_listen_ports(server.child.id()).is_empty(),
            "{kind:?} listens on TCP"
        );
    }
}

/// TCP ports the process `pid` listens on, from /proc: its socket inodes matched against
/// the LISTEN entries of /proc/net/tcp and tcp6.
fn tcp_listen_ports(pid: u32) -> Vec<u16> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address is HEX_IP:HEX_PORT, st 0A is LISTEN, the inode is field 9.
            if f.len() > 9 && f[3] == "0A" && inodes.iter().any(|i| i == f[9]) {
                let port = f[1].rsplit(':').next().unwrap();
                ports.push(u16::from_str_radix(port, 16).unwrap());
            }
        }
    }
    ports
}

fn answers_ping_at(addr: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reply = [0u8; 7];
    s.write_all(PING).is_ok() && s.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

#[test]
fn several_bind_addresses() {
    let ipv6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    let setups: &[&[&str]] = &[
        &["--bind", "127.0.0.1", "127.0.0.2"],
        &["--bind", "127.0.0.1", "-::1"],
        // An optional address that cannot be bound is skipped.
        &["--bind", "127.0.0.1", "-192.0.2.1"],
    ];
    for args in setups {
        let redis = Server::redis(args);
        let vireo = Server::vireo(args);
        let (from_redis, from_vireo) = both(&redis, &vireo, |server| {
            let port = server.port();
            [
                format!("127.0.0.1:{port}"),
                format!("127.0.0.2:{port}"),
                format!("[::1]:{port}"),
            ]
            .iter()
            .map(|addr| answers_ping_at(addr))
            .collect::<Vec<_>>()
        });
        assert_eq!(
            from_redis, from_vireo,
            "{args:?}: 127.0.0.1, 127.0.0.2, ::1"
        );
        if args[2] == "-::1" {
            assert_eq!(from_redis[2], ipv6);
        }
    }
}

#[test]
fn unbindable_required_address_stops_startup() {
    for kind in [Kind::Redis, Kind::Vireo] {
        let port = common::free_port().to_string();
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary(kind))
            .args(["--port", &port, "--bind", "127.0.0.1", "192.0.2.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let status = status.unwrap_or_else(|| panic!("{kind:?} kept running"));
        assert!(!status.success(), "{kind:?} exited with {status}");
    }
}

/// Admission is atomic: however many clients connect at the same moment, no more than
/// `maxclients` are served at once.
#[test]
fn maxclients_holds_under_simultaneous_connections() {
    let server = Server::vireo(&["--maxclients", "3"]);
    let addr = server.addr();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(40));
    let threads: Vec<_> = (0..40)
        .map(|_| {
            let (addr, barrier) = (addr.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let attempt = || -> Option<(TcpStream, bool)> {
                    let mut conn = TcpStream::connect(&addr).ok()?;
                    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
                    conn.write_all(b"PING\r\n").ok()?;
                    let mut buf = [0u8; 64];
                    let n = conn.read(&mut buf).ok()?;
                    Some((conn, buf[..n].starts_with(b"+PONG")))
                };
                let outcome = attempt();
                // Every thread holds its connection (if any) until all have their answer.
                barrier.wait();
                outcome.map(|(_, served)| served)
            })
        })
        .collect();
    let served = threads
        .into_iter()
        .filter_map(|t| t.join().unwrap())
        .filter(|&served| served)
        .count();
    assert!(
        (1..=3).contains(&served),
        "{served} clients served with maxclients 3"
    );
}

/// The harness tells its server's listener from another process's (a port taken between
/// `free_port` and the server's bind is retried, not used).
#[test]
fn the_harness_knows_whose_listener_answers() {
    let server = Server::vireo(&[]);
    assert_eq!(common::listener_of(server.port(), server.pid()), Some(true));
    assert_eq!(
        common::listener_of(server.port(), std::process::id()),
        Some(false)
    );
    assert_eq!(common::listener_of(common::free_port(), server.pid()), None);
}
