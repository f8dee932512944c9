//! Real clients against vireo-server, configured the way operators configure them: a
//! `redis://:password@host:port/db` URL for redis-py, the Rust `redis` crate and redis-cli,
//! RESP2 by default and RESP3 when asked for.

mod common;

use common::Server;
use std::process::Command;

const PASSWORD: &str = "s3cret";

fn server_with_password() -> Server {
    Server::vireo(&["--requirepass", PASSWORD])
}

fn url(server: &Server, db: u32) -> String {
    format!("redis://:{PASSWORD}@127.0.0.1:{}/{db}", server.port())
}

#[test]
fn rust_redis_crate_url_with_password_and_db() {
    let server = server_with_password();
    let client = redis::Client::open(url(&server, 3)).unwrap();
    let mut con = client.get_connection().unwrap();
    redis::cmd("SET")
        .arg("greeting")
        .arg("hello")
        .query::<()>(&mut con)
        .unwrap();
    let got: String = redis::cmd("GET").arg("greeting").query(&mut con).unwrap();
    assert_eq!(got, "hello");

    // The key went to database 3, not 0.
    let mut db0 = redis::Client::open(url(&server, 0))
        .unwrap()
        .get_connection()
        .unwrap();
    let missing: Option<String> = redis::cmd("GET").arg("greeting").query(&mut db0).unwrap();
    assert_eq!(missing, None);
}

#[test]
fn rust_redis_crate_resp3() {
    let server = server_with_password();
    let client = redis::Client::open(format!("{}?protocol=resp3", url(&server, 0))).unwrap();
    let mut con = client.get_connection().unwrap();
    let hello: redis::Value = redis::cmd("HELLO").arg(3).query(&mut con).unwrap();
    let redis::Value::Map(fields) = hello else {
        panic!("HELLO 3 must reply with a RESP3 map, got {hello:?}");
    };
    let proto = fields
        .iter()
        .find(|(k, _)| matches!(k, redis::Value::BulkString(b) if b == b"proto"))
        .map(|(_, v)| v.clone());
    assert_eq!(proto, Some(redis::Value::Int(3)));
}

#[test]
fn wrong_password_is_refused() {
    let server = server_with_password();
    let bad = format!("redis://:wrong@127.0.0.1:{}/0", server.port());
    let err = redis::Client::open(bad)
        .unwrap()
        .get_connection()
        .err()
        .expect("a wrong password must fail the connection");
    assert_eq!(err.kind(), redis::ErrorKind::AuthenticationFailed, "{err}");
}

/// redis-cli invocations as operators write them, run against vireo and against a real
/// redis-server with the same password; the printed output must be the same. (Note that
/// `redis://:pw@` makes redis-cli send `AUTH "" pw`, which Redis refuses too.)
#[test]
fn redis_cli_behaves_the_same_against_both() {
    let vireo = server_with_password();
    let redis = Server::redis(&["--requirepass", PASSWORD]);
    let run = |server: &Server, args: &[String]| {
        let out = Command::new("redis-cli")
            .args(args)
            .output()
            .expect("redis-cli must be installed (scripts/test installs it)");
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        stdout.replace(&server.port().to_string(), "PORT")
    };
    let cases: Vec<Box<CliArgs>> = vec![
        // The health check: `redis-cli -a PASSWORD ping`.
        Box::new(|s| {
            args(&[
                "-p",
                &s.port().to_string(),
                "-a",
                PASSWORD,
                "--no-auth-warning",
                "ping",
            ])
        }),
        Box::new(|s| args(&["-p", &s.port().to_string(), "ping"])),
        Box::new(|s| {
            args(&[
                "-p",
                &s.port().to_string(),
                "-a",
                "wrong",
                "--no-auth-warning",
                "ping",
            ])
        }),
        Box::new(|s| args(&["--no-auth-warning", "-u", &user_url(s, 5), "set", "k", "v"])),
        Box::new(|s| args(&["--no-auth-warning", "-u", &user_url(s, 5), "get", "k"])),
        Box::new(|s| args(&["--no-auth-warning", "-u", &user_url(s, 0), "get", "k"])),
        Box::new(|s| args(&["--no-auth-warning", "-u", &url(s, 5), "get", "k"])),
        Box::new(|s| {
            args(&[
                "-p",
                &s.port().to_string(),
                "-a",
                PASSWORD,
                "--no-auth-warning",
                "-n",
                "5",
                "get",
                "k",
            ])
        }),
    ];
    for case in &cases {
        let (v, r) = (run(&vireo, &case(&vireo)), run(&redis, &case(&redis)));
        assert_eq!(v, r, "redis-cli {:?}", case(&vireo));
    }
}

/// Builds one redis-cli argument list for a given server.
type CliArgs = dyn Fn(&Server) -> Vec<String>;

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// The URL form with the user named, which redis-cli needs: `redis://default:pw@host:port/db`.
fn user_url(server: &Server, db: u32) -> String {
    format!(
        "redis://default:{PASSWORD}@127.0.0.1:{}/{db}",
        server.port()
    )
}

#[test]
fn redis_py_with_url() {
    let server = server_with_password();
    let script = r#"
import sys, redis
r = redis.Redis.from_url(sys.argv[1])
assert r.ping() is True
r.set("counter", "41")
assert r.get("counter") == b"41"
assert r.connection_pool.connection_kwargs["db"] == 2
r3 = redis.Redis.from_url(sys.argv[1], protocol=3)
assert r3.get("counter") == b"41"
try:
    redis.Redis.from_url(sys.argv[2]).ping()
    raise SystemExit("a wrong password must be refused")
except redis.exceptions.AuthenticationError:
    pass
print("ok")
"#;
    let bad = format!("redis://:nope@127.0.0.1:{}/0", server.port());
    let out = Command::new("python3")
        .args(["-c", script, &url(&server, 2), &bad])
        .output()
        .expect("python3 must be installed");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
        "redis-py failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
