//! Server administration commands over TCP: CONFIG GET/SET/RESETSTAT/REWRITE (and that a
//! CONFIG SET is acted on, not just stored), INFO's sections and fields (checked against
//! redis-server's), DEBUG, TIME, LASTSAVE.

mod common;

use common::reply::{bulk, err, ok};
use common::{free_port, RawClient, Reply, Server};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(reply.bytes().expect("a string reply")).into_owned()
}

/// INFO's `field:value` lines as (field, value), section headers and blanks skipped.
fn fields(info: &str) -> Vec<(String, String)> {
    info.split("\r\n")
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once(':').expect("field:value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn field(info: &str, name: &str) -> String {
    fields(info)
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name} in\n{info}"))
        .1
}

fn info(c: &mut RawClient, args: &[&str]) -> String {
    let mut cmd = vec!["INFO"];
    cmd.extend_from_slice(args);
    text(&c.cmd(&cmd))
}

fn headers(info: &str) -> Vec<String> {
    info.split("\r\n")
        .filter(|l| l.starts_with("# "))
        .map(str::to_string)
        .collect()
}

#[test]
fn config_get_and_set_several() {
    let s = Server::vireo(&[]);
    let mut c = s.raw();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hz", "20", "maxclients", "100"]),
        ok()
    );
    let got = c.cmd(&["CONFIG", "GET", "hz", "maxclients", "h?"]).sorted();
    assert_eq!(
        got,
        Reply::Array(Some(vec![
            bulk("100"),
            bulk("20"),
            bulk("hz"),
            bulk("maxclients")
        ]))
        .sorted()
    );
    // All or nothing: a bad pair anywhere changes nothing.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hz", "30", "nosuch", "1"]),
        err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hz", "30", "maxclients", "0"]),
        err("ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "hz"]),
        Reply::Array(Some(vec![bulk("hz"), bulk("20")]))
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hz", "30", "maxclients"]),
        err("ERR syntax error")
    );
    let info = info(&mut c, &["server"]);
    assert_eq!(field(&info, "hz"), "20");
    let clients = self::info(&mut c, &["clients"]);
    assert_eq!(field(&clients, "maxclients"), "100");
}

#[test]
fn config_set_maxclients_refuses_extra_connections() {
    let s = Server::vireo(&[]);
    let mut c = s.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxclients", "1"]), ok());
    let mut second = s.raw();
    assert_eq!(
        second.read_reply().unwrap(),
        err("ERR max number of clients reached")
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxclients", "10"]), ok());
    let mut third = s.raw();
    assert_eq!(third.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    let stats = info(&mut c, &["stats"]);
    assert_eq!(field(&stats, "rejected_connections"), "1");
}

#[test]
fn config_set_requirepass_keeps_existing_clients_authenticated() {
    let s = Server::vireo(&[]);
    let mut c = s.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "requirepass", "pw"]), ok());
    assert_eq!(c.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    let mut other = s.raw();
    assert_eq!(other.cmd(&["PING"]), err("NOAUTH Authentication required."));
    assert_eq!(other.cmd(&["AUTH", "pw"]), ok());
    assert_eq!(other.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    assert_eq!(c.cmd(&["CONFIG", "SET", "requirepass", ""]), ok());
    assert_eq!(s.raw().cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
}

#[test]
fn config_set_timeout_closes_idle_clients() {
    let s = Server::vireo(&[]);
    let mut c = s.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "timeout", "1"]), ok());
    let mut idle = s.raw();
    assert_eq!(idle.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    let start = Instant::now();
    assert!(idle.is_closed());
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn config_set_proto_max_bulk_len_is_enforced() {
    let s = Server::vireo(&[]);
    let mut c = s.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"]), ok());
    let mut big = s.raw();
    big.send(b"*2\r\n$3\r\nGET\r\n$2000000\r\n").unwrap();
    assert_eq!(
        big.read_reply().unwrap(),
        err("ERR Protocol error: invalid bulk length")
    );
}

#[test]
fn config_set_port_rebinds() {
    let s = Server::vireo(&[]);
    let mut c = s.raw();
    let new_port = free_port();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "port", &new_port.to_string()]),
        ok()
    );
    let new_addr = format!("127.0.0.1:{new_port}");
    let mut moved = RawClient::connect(&new_addr).expect("the new port accepts");
    assert_eq!(moved.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    // The established connection stays; the old port no longer accepts.
    assert_eq!(c.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    assert!(RawClient::connect(&s.addr()).is_err());
    let server_info = info(&mut moved, &["server"]);
    assert_eq!(field(&server_info, "tcp_port"), new_port.to_string());

    // Same port, other address list: the old listener is closed first, then the new bound.
    assert_eq!(
        moved.cmd(&["CONFIG", "SET", "bind", "127.0.0.1 -::1"]),
        ok()
    );
    let mut again = RawClient::connect(&new_addr).unwrap();
    assert_eq!(again.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));

    // An address that cannot be bound: Redis's error, and the old listeners come back.
    assert_eq!(
        again.cmd(&["CONFIG", "SET", "bind", "192.0.2.1"]),
        err("ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.")
    );
    assert_eq!(
        again.cmd(&["CONFIG", "GET", "bind"]),
        Reply::Array(Some(vec![bulk("bind"), bulk("127.0.0.1 -::1")]))
    );
    let mut after = RawClient::connect(&new_addr).expect("old listeners restored");
    assert_eq!(after.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
}

#[test]
fn config_set_loglevel_and_dir() {
    let s = Server::vireo(&["--enable-protected-configs", "yes"]);
    let mut c = s.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "loglevel", "warning"]), ok());
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "loglevel", "loud"]),
        err("ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning, nothing")
    );
    let sub = s.dir().join("sub");
    std::fs::create_dir(&sub).unwrap();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dir", sub.to_str().unwrap()]),
        ok()
    );
    let got = c.cmd(&["CONFIG", "GET", "dir"]);
    assert_eq!(got.elements().unwrap()[1], bulk(sub.to_str().unwrap()));
}

#[test]
fn config_resetstat_clears_counters() {
    let s = Server::vireo(&[]);
    let mut c = s.raw();
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["GET", "k"]);
    c.cmd(&["GET", "missing"]);
    c.cmd(&["NOSUCHCOMMAND"]);
    c.cmd(&["CONFIG", "SET", "hz", "abc"]);
    let stats = info(&mut c, &["commandstats", "errorstats", "stats"]);
    assert!(stats.contains("cmdstat_get:calls=2,usec="));
    assert!(stats.contains("cmdstat_config|set:calls=1,"), "{stats}");
    assert!(
        stats.contains(",rejected_calls=0,failed_calls=1\r\n"),
        "{stats}"
    );
    assert_eq!(field(&stats, "errorstat_ERR"), "count=2");
    assert_eq!(field(&stats, "keyspace_hits"), "1");
    assert_eq!(field(&stats, "keyspace_misses"), "1");
    assert_eq!(field(&stats, "total_error_replies"), "2");
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    let stats = info(&mut c, &["commandstats", "errorstats", "stats"]);
    assert!(!stats.contains("cmdstat_get"), "{stats}");
    assert!(!stats.contains("errorstat_"), "{stats}");
    assert_eq!(field(&stats, "keyspace_hits"), "0");
    assert_eq!(field(&stats, "total_error_replies"), "0");
    // The CONFIG RESETSTAT call itself is counted once it returns, as in Redis.
    assert!(
        stats.contains("cmdstat_config|resetstat:calls=1,"),
        "{stats}"
    );
}

#[test]
fn config_rewrite() {
    let s = Server::vireo(&[]);
    let mut c = s.raw();
    assert_eq!(
        c.cmd(&["CONFIG", "REWRITE"]),
        err("ERR The server is running without a config file")
    );
    drop(s);
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("vireo.conf");
    std::fs::write(&conf, "# mine\nhz 10\n").unwrap();
    let s = Server::vireo(&[conf.to_str().unwrap()]);
    let mut c = s.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "hz", "42"]), ok());
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), ok());
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.starts_with("# mine\nhz 42\n"), "{text}");
}

#[test]
fn config_help_matches_redis() {
    let v = Server::vireo(&[]);
    let r = Server::redis(&[]);
    assert_eq!(
        v.raw().cmd(&["CONFIG", "HELP"]),
        r.raw().cmd(&["CONFIG", "HELP"])
    );
}

/// Every field Vireo prints in INFO is one Redis prints (7.0 here, plus the ones 7.2
/// added), in the same section, and the sections come in Redis's order.
#[test]
fn info_fields_are_redis_fields() {
    const ADDED_IN_7_2: &[&str] = &[
        "listener0",
        "listener1",
        "pubsub_clients",
        "watching_clients",
        "total_watched_keys",
        "total_blocking_keys",
        "total_blocking_keys_on_nokey",
        "client_query_buffer_limit_disconnections",
        "client_output_buffer_limit_disconnections",
    ];
    let v = Server::vireo(&[]);
    let r = Server::redis(&[]);
    let (mut vc, mut rc) = (v.raw(), r.raw());
    for c in [&mut vc, &mut rc] {
        c.cmd(&["SET", "a", "1"]);
        c.cmd(&["SET", "b", "1", "EX", "100"]);
        c.cmd(&["GETX"]);
    }
    let vi = info(&mut vc, &["everything"]);
    let ri = info(&mut rc, &["everything"]);
    let mut redis_headers = headers(&ri);
    redis_headers.retain(|h| h != "# Latencystats");
    assert_eq!(headers(&vi), redis_headers);
    for section in vi.split("\r\n\r\n") {
        let redis_fields: BTreeSet<String> = fields(section_of(&ri, section))
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        for (name, _) in fields(section) {
            assert!(
                redis_fields.contains(&name)
                    || ADDED_IN_7_2.contains(&name.as_str())
                    || name == "vireo_version",
                "{name} is not a Redis field of {:?}",
                section.lines().next()
            );
        }
    }
    assert_eq!(field(&vi, "redis_version"), "7.2.4");
    let keyspace = |i: &str| {
        field(i, "db0")
            .split(",avg_ttl=")
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(keyspace(&vi), keyspace(&ri));
}

/// The section of `info` that has the same header as `section`.
fn section_of<'a>(info: &'a str, section: &str) -> &'a str {
    let header = section.lines().next().unwrap();
    info.split("\r\n\r\n")
        .find(|s| s.lines().next() == Some(header))
        .unwrap_or("")
}

#[test]
fn info_sections_and_formats() {
    let v = Server::vireo(&[]);
    let r = Server::redis(&[]);
    let (mut vc, mut rc) = (v.raw(), r.raw());
    for args in [
        &[][..],
        &["default"][..],
        &["all"][..],
        &["SERVER", "cpu"][..],
        &["keyspace", "server", "keyspace"][..],
        &["modules"][..],
        &["cluster"][..],
    ] {
        let (vi, ri) = (info(&mut vc, args), info(&mut rc, args));
        let mut rh = headers(&ri);
        rh.retain(|h| h != "# Latencystats");
        assert_eq!(headers(&vi), rh, "INFO {args:?}");
    }
    assert_eq!(info(&mut vc, &["nosuch"]), "");
    assert_eq!(info(&mut vc, &["modules"]), "# Modules\r\n");
    assert_eq!(info(&mut vc, &["cluster"]), info(&mut rc, &["cluster"]));
    assert_eq!(info(&mut vc, &["keyspace"]), info(&mut rc, &["keyspace"]));
    // The only client, once the test harness's readiness probe has gone.
    let deadline = Instant::now() + Duration::from_secs(10);
    while field(&info(&mut vc, &["clients"]), "connected_clients") != "1" {
        assert!(Instant::now() < deadline, "the readiness probe never went");
        std::thread::sleep(Duration::from_millis(10));
    }
    let all = info(&mut vc, &["all"]);
    assert!(all.ends_with("\r\n"));
    assert!(all.contains("\r\n\r\n# Clients\r\n"));
    assert_eq!(field(&all, "tcp_port"), v.port().to_string());
    assert_eq!(field(&all, "process_id"), v.pid().to_string());
    assert_eq!(field(&all, "role"), "master");
    assert_eq!(field(&all, "connected_clients"), "1");
    assert_eq!(
        field(&all, "listener0"),
        format!("name=tcp,bind=127.0.0.1,port={}", v.port())
    );
    assert!(field(&all, "mem_allocator").starts_with("jemalloc-5."));
    assert!(field(&all, "used_memory").parse::<u64>().unwrap() > 0);
    assert!(field(&all, "used_memory_rss").parse::<u64>().unwrap() > 0);
    assert!(field(&all, "used_cpu_user").contains('.'));
    assert_eq!(field(&all, "master_replid").len(), 40);
    // RESP3: a verbatim string.
    vc.cmd(&["HELLO", "3"]);
    let reply = vc.cmd(&["INFO", "cluster"]);
    assert_eq!(
        reply,
        Reply::Verbatim(b"txt:# Cluster\r\ncluster_enabled:0\r\n".to_vec())
    );
}

#[test]
fn info_keyspace_and_persistence() {
    let s = Server::vireo(&[]);
    let mut c = s.raw();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SET", "b", "2", "EX", "100"]);
    c.cmd(&["SELECT", "3"]);
    c.cmd(&["SET", "c", "3"]);
    let ks = info(&mut c, &["keyspace"]);
    let dbs: Vec<(String, String)> = fields(&ks);
    assert_eq!(dbs[0].0, "db0");
    assert!(dbs[0].1.starts_with("keys=2,expires=1,avg_ttl="), "{ks}");
    let ttl: u64 = dbs[0].1.rsplit('=').next().unwrap().parse().unwrap();
    assert!(ttl > 90_000 && ttl <= 100_000, "{ttl}");
    assert_eq!(dbs[1], ("db3".into(), "keys=1,expires=0,avg_ttl=0".into()));
    let p = info(&mut c, &["persistence"]);
    assert_eq!(field(&p, "rdb_changes_since_last_save"), "3");
    assert_eq!(field(&p, "aof_enabled"), "0");
    assert_eq!(field(&p, "loading"), "0");
    let lastsave = c.cmd(&["LASTSAVE"]);
    assert_eq!(
        Reply::Integer(field(&p, "rdb_last_save_time").parse().unwrap()),
        lastsave
    );
}

#[test]
fn info_instantaneous_ops_per_sec() {
    let s = Server::vireo(&[]);
    let mut c = s.raw();
    let deadline = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < deadline {
        c.cmd(&["PING"]);
    }
    let stats = info(&mut c, &["stats"]);
    let ops: u64 = field(&stats, "instantaneous_ops_per_sec").parse().unwrap();
    assert!(ops > 0, "{stats}");
    assert!(
        field(&stats, "instantaneous_input_kbps")
            .parse::<f64>()
            .unwrap()
            > 0.0
    );
}

#[test]
fn time_and_lastsave() {
    let s = Server::vireo(&[]);
    let mut c = s.raw();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let t = c.cmd(&["TIME"]);
    let parts = t.elements().unwrap();
    assert_eq!(parts.len(), 2);
    let secs: i64 = text(&parts[0]).parse().unwrap();
    let micros: i64 = text(&parts[1]).parse().unwrap();
    assert!((secs - now).abs() <= 2);
    assert!((0..1_000_000).contains(&micros));
    let Reply::Integer(last) = c.cmd(&["LASTSAVE"]) else {
        panic!("LASTSAVE is an integer")
    };
    assert!(last <= now + 1 && last > now - 60);
}

#[test]
fn debug_needs_enable_debug_command() {
    let s = Server::vireo(&[]);
    let reply = s.raw().cmd(&["DEBUG", "SLEEP", "0"]);
    assert!(reply.is_error());
    assert!(text(&reply).starts_with("ERR DEBUG command not allowed."));
}

#[test]
fn debug_subcommands() {
    let s = Server::vireo(&["--enable-debug-command", "yes"]);
    let r = Server::redis(&["--enable-debug-command", "yes"]);
    let (mut c, mut rc) = (s.raw(), r.raw());
    for c in [&mut c, &mut rc] {
        c.cmd(&["SET", "s", "bar"]);
        c.cmd(&["SET", "n", "12"]);
        c.cmd(&["SET", "long", &"x".repeat(50)]);
    }
    let object = text(&c.cmd(&["DEBUG", "OBJECT", "s"]));
    let words: Vec<&str> = object.split(' ').collect();
    assert_eq!(words[0], "Value");
    assert!(words[1].starts_with("at:0x"));
    assert_eq!(
        &words[2..5],
        ["refcount:1", "encoding:embstr", "serializedlength:4"]
    );
    assert!(words[5].starts_with("lru:"));
    assert!(words[6].starts_with("lru_seconds_idle:"));
    // The same fields as Redis, and the same encodings and lengths.
    for key in ["s", "n"] {
        let mine = text(&c.cmd(&["DEBUG", "OBJECT", key]));
        let theirs = text(&rc.cmd(&["DEBUG", "OBJECT", key]));
        let shape = |t: &str| -> Vec<String> {
            t.split(' ')
                .map(|w| match w.split_once(':') {
                    Some((k, v)) if k == "encoding" || k == "serializedlength" => {
                        format!("{k}:{v}")
                    }
                    Some((k, _)) if k != "refcount" => k.to_string(),
                    _ => w.split(':').next().unwrap().to_string(),
                })
                .collect()
        };
        assert_eq!(shape(&mine), shape(&theirs), "{mine} vs {theirs}");
    }
    for args in [
        &["DEBUG", "OBJECT", "missing"][..],
        &["DEBUG", "OBJECT"][..],
        &["DEBUG", "NOSUCH"][..],
        &["DEBUG", "sleep", "1", "2"][..],
        &["DEBUG"][..],
        &["DEBUG", "SLEEP", "0.05"][..],
        &["DEBUG", "SLEEP", "abc"][..],
        &["DEBUG", "SET-ACTIVE-EXPIRE", "2"][..],
        &["DEBUG", "ERROR", "MYERR something broke"][..],
        &["DEBUG", "LOG", "hello"][..],
        &["DEBUG", "CHANGE-REPL-ID"][..],
    ] {
        assert_eq!(c.cmd(args), rc.cmd(args), "{args:?}");
    }
    let help = c.cmd(&["DEBUG", "HELP"]);
    let lines = help.elements().unwrap();
    assert!(text(&lines[0]).starts_with("DEBUG <subcommand>"));
    assert!(lines.iter().all(|l| matches!(l, Reply::Simple(_))));
}

#[test]
fn debug_change_repl_id_changes_master_replid() {
    let s = Server::vireo(&["--enable-debug-command", "yes"]);
    let mut c = s.raw();
    let before = field(&info(&mut c, &["replication"]), "master_replid");
    assert_eq!(c.cmd(&["DEBUG", "CHANGE-REPL-ID"]), ok());
    let after = field(&info(&mut c, &["replication"]), "master_replid");
    assert_ne!(before, after);
}

#[test]
fn debug_set_active_expire_stops_background_expiry() {
    let s = Server::vireo(&["--enable-debug-command", "yes", "--hz", "100"]);
    let mut c = s.raw();
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    c.cmd(&["SET", "k", "v", "PX", "10"]);
    std::thread::sleep(Duration::from_millis(300));
    // Not reclaimed in the background: still counted until touched.
    let keyspace = |c: &mut RawClient| info(c, &["keyspace"]);
    assert!(keyspace(&mut c).contains("db0:keys=1,"));
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), ok());
    let deadline = Instant::now() + Duration::from_secs(5);
    while keyspace(&mut c) != "# Keyspace\r\n" {
        assert!(Instant::now() < deadline, "active expiry never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(field(&info(&mut c, &["stats"]), "expired_keys"), "1");
}
