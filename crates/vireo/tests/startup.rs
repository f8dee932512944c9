//! How `vireo-server` starts and stops as a process: configuration errors, config from
//! stdin and `include`, unix-socket-only serving, Debian's stock redis.conf, running under
//! the name `redis-server`, `daemonize`, pid files, SIGTERM and SHUTDOWN, `--version`.
//! Where the expected behaviour is Redis's, the same check runs against redis-server.

mod common;

use common::{free_port, RawClient, Reply};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn vireo_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_vireo-server"))
}

/// Runs a server that is expected to exit by itself (bad configuration, `--version`).
fn run_to_exit(bin: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{} {args:?} did not exit", bin.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A server process started by a test, killed (SIGKILL, by PID) if still running at drop.
struct Proc {
    child: Child,
    dir: tempfile::TempDir,
}

impl Proc {
    fn start(bin: &Path, args: &[&str], dir: tempfile::TempDir) -> Proc {
        let log = std::fs::File::create(dir.path().join("out.log")).unwrap();
        let child = Command::new(bin)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn");
        Proc { child, dir }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("out.log")).unwrap_or_default()
    }

    /// Waits for the process to exit and returns its exit code.
    fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "no exit; output:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill() on our own child's PID.
        unsafe { libc_kill(self.child.id() as i32, sig) };
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

use libc::{kill as libc_kill, SIGINT, SIGTERM};

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("vireo-startup-")
        .tempdir()
        .unwrap()
}

/// Connects to `addr` once it accepts, and PINGs.
fn wait_ping(addr: &str) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut c) = RawClient::connect(addr) {
            if let Ok(reply) = c.command(&["PING"]) {
                return reply;
            }
        }
        assert!(Instant::now() < deadline, "{addr} never answered");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ping_unix(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut s) = std::os::unix::net::UnixStream::connect(path) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(b"PING\r\n").unwrap();
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).unwrap();
            return buf[..n].to_vec();
        }
        assert!(Instant::now() < deadline, "unix socket never answered");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_gone(path: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while path.exists() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// stderr with the version in the banner blanked out, for comparing with redis-server.
fn config_error(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stderr).into_owned();
    text.lines()
        .map(|l| {
            // The banner names the server and its version: `(Redis 7.0.15)`.
            if l.starts_with("*** FATAL CONFIG FILE ERROR (") {
                "*** FATAL CONFIG FILE ERROR (...) ***".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn unknown_directive_is_fatal_like_redis() {
    let dir = tempdir();
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, "port 0\nno-such-directive yes\n").unwrap();
    let conf = conf.to_str().unwrap();
    let vireo = run_to_exit(&vireo_bin(), &[conf], "");
    let redis = run_to_exit(Path::new("redis-server"), &[conf], "");
    assert_eq!(vireo.status.code(), Some(1));
    assert_eq!(redis.status.code(), Some(1));
    let text = config_error(&vireo);
    assert!(text.contains(">>> 'no-such-directive yes'"), "{text}");
    assert_eq!(text, config_error(&redis));
    assert!(
        text.contains("\n*** FATAL CONFIG FILE ERROR (...) ***\n"),
        "{text}"
    );

    let vireo = run_to_exit(&vireo_bin(), &["--port", "0", "--nosuch", "1"], "");
    let redis = run_to_exit(
        Path::new("redis-server"),
        &["--port", "0", "--nosuch", "1"],
        "",
    );
    assert_eq!(vireo.status.code(), Some(1));
    assert_eq!(config_error(&vireo), config_error(&redis));
}

#[test]
fn version_has_redis_shape() {
    let out = run_to_exit(&vireo_bin(), &["--version"], "");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(&fields[..2], ["Redis", "server"], "{text}");
    assert_eq!(fields[2], "v=7.2.4");
    assert!(fields[3].starts_with("sha="));
    assert!(fields[4].starts_with("malloc=jemalloc-5."), "{text}");
    assert_eq!(fields[5], "bits=64");
    assert!(fields[6].starts_with("build="));
    let redis = run_to_exit(Path::new("redis-server"), &["--version"], "");
    let redis = String::from_utf8_lossy(&redis.stdout);
    let keys = |t: &str| -> Vec<String> {
        t.split_whitespace()
            .map(|f| f.split('=').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys(&text), keys(&redis));
}

#[test]
fn config_from_stdin_and_include() {
    let dir = tempdir();
    let port = free_port();
    let included = dir.path().join("included.conf");
    std::fs::write(&included, "maxclients 123\n").unwrap();
    let conf = dir.path().join("main.conf");
    std::fs::write(
        &conf,
        format!("include {}\nbind 127.0.0.1\n", included.display()),
    )
    .unwrap();
    let conf_arg = conf.to_str().unwrap().to_string();
    let dir_arg = dir.path().to_str().unwrap().to_string();
    let mut child = Command::new(vireo_bin())
        // `-` is read as a config from stdin when it is the first or the last argument.
        .args([&conf_arg, "--save", "", "--dir", &dir_arg, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("port {port}\ntimeout 77\n").as_bytes())
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let result = std::panic::catch_unwind(|| {
        assert_eq!(wait_ping(&addr), Reply::Simple(b"PONG".to_vec()));
        let mut c = RawClient::connect(&addr).unwrap();
        let got = c.cmd(&["CONFIG", "GET", "maxclients"]);
        assert_eq!(
            got.elements().unwrap()[1],
            Reply::Bulk(Some(b"123".to_vec()))
        );
        let got = c.cmd(&["CONFIG", "GET", "timeout"]);
        assert_eq!(
            got.elements().unwrap()[1],
            Reply::Bulk(Some(b"77".to_vec()))
        );
    });
    let _ = child.kill();
    let _ = child.wait();
    result.unwrap();
}

#[test]
fn unix_socket_only() {
    let dir = tempdir();
    let sock = dir.path().join("vireo.sock");
    let sock_arg = sock.to_str().unwrap().to_string();
    let mut server = Proc::start(
        &vireo_bin(),
        &["--port", "0", "--unixsocket", &sock_arg, "--save", ""],
        dir,
    );
    assert_eq!(ping_unix(&sock), b"+PONG\r\n");
    server.signal(SIGTERM);
    assert_eq!(server.wait_exit(), 0);
    assert!(!sock.exists(), "the unix socket file is removed at exit");
}

/// Debian's stock /etc/redis/redis.conf, with only the paths and the port changed.
fn debian_conf(dir: &Path, port: u16) -> PathBuf {
    let stock = std::fs::read_to_string("/etc/redis/redis.conf")
        .expect("Debian's redis-server package provides /etc/redis/redis.conf");
    let conf = dir.join("redis.conf");
    let extra = format!(
        "\nport {port}\ndir {}\npidfile {}\nlogfile {}\ndaemonize no\nsave \"\"\n",
        dir.display(),
        dir.join("redis.pid").display(),
        dir.join("redis.log").display()
    );
    std::fs::write(&conf, stock + &extra).unwrap();
    conf
}

#[test]
fn debian_redis_conf_starts_and_writes_pidfile() {
    let dir = tempdir();
    let port = free_port();
    let conf = debian_conf(dir.path(), port);
    let pidfile = dir.path().join("redis.pid");
    let log = dir.path().join("redis.log");
    let conf_arg = conf.to_str().unwrap().to_string();
    let mut server = Proc::start(&vireo_bin(), &[&conf_arg], tempdir());
    let addr = format!("127.0.0.1:{port}");
    assert_eq!(wait_ping(&addr), Reply::Simple(b"PONG".to_vec()));
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    assert_eq!(pid.trim(), server.child.id().to_string());
    let mut c = RawClient::connect(&addr).unwrap();
    let info = c.cmd(&["INFO", "server"]);
    let info = String::from_utf8_lossy(info.bytes().unwrap()).into_owned();
    assert!(
        info.contains(&format!("config_file:{}", conf.display())),
        "{info}"
    );
    server.signal(SIGTERM);
    assert_eq!(server.wait_exit(), 0);
    assert!(!pidfile.exists(), "pid file removed at exit");
    let log = std::fs::read_to_string(&log).unwrap();
    for line in [
        "# Received SIGTERM scheduling shutdown...",
        "* Removing the pid file.",
        "is now ready to exit, bye bye...",
    ] {
        assert!(log.contains(line), "missing {line:?} in log:\n{log}");
    }
}

#[test]
fn sigint_shuts_down_cleanly() {
    let dir = tempdir();
    let port = free_port();
    let port_arg = port.to_string();
    let mut server = Proc::start(
        &vireo_bin(),
        &["--port", &port_arg, "--bind", "127.0.0.1", "--save", ""],
        dir,
    );
    wait_ping(&format!("127.0.0.1:{port}"));
    server.signal(SIGINT);
    assert_eq!(server.wait_exit(), 0);
    assert!(server
        .output()
        .contains("Received SIGINT scheduling shutdown..."));
}

#[test]
fn works_when_named_redis_server() {
    let dir = tempdir();
    let link = dir.path().join("redis-server");
    std::os::unix::fs::symlink(vireo_bin(), &link).unwrap();
    let out = run_to_exit(&link, &["--version"], "");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Redis server v=7.2.4"));
    let port = free_port();
    let conf = debian_conf(dir.path(), port);
    let conf_arg = conf.to_str().unwrap().to_string();
    let _server = Proc::start(&link, &[&conf_arg], tempdir());
    assert_eq!(
        wait_ping(&format!("127.0.0.1:{port}")),
        Reply::Simple(b"PONG".to_vec())
    );
}

#[test]
fn daemonize_detaches_and_writes_pidfile() {
    let dir = tempdir();
    let port = free_port();
    let pidfile = dir.path().join("daemon.pid");
    let log = dir.path().join("daemon.log");
    let args = [
        "--port".to_string(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--save".into(),
        "".into(),
        "--daemonize".into(),
        "yes".into(),
        "--pidfile".into(),
        pidfile.display().to_string(),
        "--logfile".into(),
        log.display().to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The launching process returns at once with success; the daemon keeps serving.
    let out = run_to_exit(&vireo_bin(), &args, "");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "nothing printed by the launcher");
    assert_eq!(
        wait_ping(&format!("127.0.0.1:{port}")),
        Reply::Simple(b"PONG".to_vec())
    );
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut c = RawClient::connect(&format!("127.0.0.1:{port}")).unwrap();
    let info = c.cmd(&["INFO", "server"]);
    let info = String::from_utf8_lossy(info.bytes().unwrap()).into_owned();
    assert!(info.contains(&format!("process_id:{pid}\r\n")), "{info}");
    // SAFETY: kill() on the daemon this test started (its PID from the pid file).
    unsafe { libc_kill(pid, SIGTERM) };
    assert!(
        wait_gone(&pidfile),
        "the daemon removes its pid file on SIGTERM"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("Ready to accept connections"), "{log}");
}

#[test]
fn shutdown_command() {
    let dir = tempdir();
    let port = free_port();
    let pidfile = dir.path().join("s.pid");
    let args = [
        "--port".to_string(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--pidfile".into(),
        pidfile.display().to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The default save points are on and Vireo cannot save yet: a plain SHUTDOWN fails
    // as a failed save does in Redis, and the server keeps serving.
    let mut server = Proc::start(&vireo_bin(), &args, dir);
    let addr = format!("127.0.0.1:{port}");
    wait_ping(&addr);
    let mut c = RawClient::connect(&addr).unwrap();
    let failed = Reply::Error(b"ERR Errors trying to SHUTDOWN. Check logs.".to_vec());
    assert_eq!(c.cmd(&["SHUTDOWN"]), failed);
    assert_eq!(c.cmd(&["SHUTDOWN", "SAVE"]), failed);
    assert_eq!(
        c.cmd(&["SHUTDOWN", "ABORT"]),
        Reply::Error(b"ERR No shutdown in progress.".to_vec())
    );
    let syntax = Reply::Error(b"ERR syntax error".to_vec());
    assert_eq!(c.cmd(&["SHUTDOWN", "SAVE", "NOSAVE"]), syntax);
    assert_eq!(c.cmd(&["SHUTDOWN", "NOW", "ABORT"]), syntax);
    assert_eq!(c.cmd(&["SHUTDOWN", "LATER"]), syntax);
    assert_eq!(c.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    assert!(server
        .output()
        .contains("Error trying to save the DB, can't exit"));
    // NOSAVE exits without a reply.
    c.send(b"SHUTDOWN NOSAVE NOW\r\n").unwrap();
    assert!(c.is_closed());
    assert_eq!(server.wait_exit(), 0);
    assert!(!pidfile.exists());

    // FORCE exits even though the save failed.
    let port = free_port();
    let port_arg = port.to_string();
    let mut server = Proc::start(
        &vireo_bin(),
        &["--port", &port_arg, "--bind", "127.0.0.1"],
        tempdir(),
    );
    let addr = format!("127.0.0.1:{port}");
    wait_ping(&addr);
    let mut c = RawClient::connect(&addr).unwrap();
    c.send(b"SHUTDOWN SAVE FORCE\r\n").unwrap();
    assert!(c.is_closed());
    assert_eq!(server.wait_exit(), 0);
}

/// Midaz's docker-compose runs `redis-server --appendonly yes --requirepass PW` and checks
/// health with `redis-cli -a PW ping`.
#[test]
fn midaz_compose_command() {
    let port = free_port();
    let port_arg = port.to_string();
    let server = Proc::start(
        &vireo_bin(),
        &[
            "--port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            "--appendonly",
            "yes",
            "--requirepass",
            "s3cret",
        ],
        tempdir(),
    );
    let addr = format!("127.0.0.1:{port}");
    assert_eq!(
        wait_ping(&addr),
        Reply::Error(b"NOAUTH Authentication required.".to_vec())
    );
    let cli = |args: &[&str]| -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &port_arg])
            .args(args)
            .output()
            .expect("redis-cli");
        let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_string();
        format!("{}|{}", text(&out.stdout), text(&out.stderr))
    };
    assert_eq!(cli(&["--no-auth-warning", "-a", "s3cret", "ping"]), "PONG|");
    assert_eq!(cli(&["ping"]), "NOAUTH Authentication required.|");
    assert_eq!(
        cli(&["--no-auth-warning", "-a", "wrong", "ping"]),
        "NOAUTH Authentication required.|AUTH failed: WRONGPASS invalid username-password pair or user is disabled."
    );
    // appendonly is accepted, and the server says plainly that no AOF is written.
    let info = cli(&["--no-auth-warning", "-a", "s3cret", "info", "persistence"]);
    let info = info.trim_end_matches('|');
    assert!(info.contains("aof_enabled:1"), "{info}");
    assert!(info.contains("aof_last_write_status:err"), "{info}");
    assert!(server.output().contains("does not write an AOF yet"));
}

/// `THP_enabled` of a process, from /proc (Linux 5.0 and later).
fn thp_enabled(pid: u32) -> Option<bool> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let value = status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))?;
    Some(value.trim() == "1")
}

/// `disable-thp yes`, the default, turns transparent huge pages off for the process;
/// `no` leaves them to the system's setting.
#[test]
fn disable_thp_turns_huge_pages_off_for_the_process() {
    if thp_enabled(std::process::id()).is_none() {
        eprintln!("no THP_enabled in /proc/self/status on this kernel: skipped");
        return;
    }
    let default = common::Server::vireo(&[]);
    assert_eq!(thp_enabled(default.pid()), Some(false));
    let kept = common::Server::vireo(&["--disable-thp", "no"]);
    assert_eq!(thp_enabled(kept.pid()), thp_enabled(std::process::id()));
}
