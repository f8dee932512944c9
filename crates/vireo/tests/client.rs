//! CLIENT and RESET over TCP: the connection's own settings (ID, SETNAME, GETNAME, SETINFO,
//! REPLY, NO-EVICT, NO-TOUCH), the CLIENT LIST / INFO line (every Redis 7.2 field, in order,
//! with live values), CLIENT KILL closing real connections, and what RESET puts back.

mod common;

use common::reply::{bulk, err, int, ok};
use common::{RawClient, Reply, Server};
use std::time::{Duration, Instant};

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(
        reply
            .bytes()
            .unwrap_or_else(|| panic!("not a string: {reply}")),
    )
    .into_owned()
}

fn client_id(c: &mut RawClient) -> i64 {
    match c.cmd(&["CLIENT", "ID"]) {
        Reply::Integer(id) => id,
        other => panic!("CLIENT ID: {other}"),
    }
}

/// Redis 7.2's CLIENT LIST fields, in order.
const FIELDS: &[&str] = &[
    "id",
    "addr",
    "laddr",
    "fd",
    "name",
    "age",
    "idle",
    "flags",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "events",
    "cmd",
    "user",
    "redir",
    "resp",
    "lib-name",
    "lib-ver",
];

/// Fields whose value is a number (possibly negative).
const NUMERIC: &[&str] = &[
    "id",
    "fd",
    "age",
    "idle",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "redir",
    "resp",
];

/// Parses one CLIENT LIST line, checking its shape: exactly the 7.2 fields in order,
/// `name=value` with no spaces in values, numbers where numbers belong.
fn parse_line(line: &str) -> Vec<(String, String)> {
    let pairs: Vec<(String, String)> = line
        .split(' ')
        .map(|part| {
            let (k, v) = part
                .split_once('=')
                .unwrap_or_else(|| panic!("{part:?} is not name=value in {line:?}"));
            (k.to_string(), v.to_string())
        })
        .collect();
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, FIELDS, "fields of {line:?}");
    for (k, v) in &pairs {
        if NUMERIC.contains(&k.as_str()) {
            assert!(
                v.strip_prefix('-')
                    .unwrap_or(v)
                    .chars()
                    .all(|c| c.is_ascii_digit())
                    && !v.is_empty(),
                "{k}={v:?} is not a number in {line:?}"
            );
        }
    }
    let addr = &pairs[1].1;
    let (ip, port) = addr.rsplit_once(':').expect("addr is ip:port");
    assert!(ip.parse::<std::net::IpAddr>().is_ok(), "addr {addr}");
    assert!(port.parse::<u16>().is_ok(), "addr {addr}");
    let flags = &pairs[7].1;
    assert!(!flags.is_empty() && flags.chars().all(|c| c.is_ascii_alphabetic()));
    pairs
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    &pairs.iter().find(|(k, _)| k == name).expect(name).1
}

/// The CLIENT LIST lines, each parsed.
fn client_list(c: &mut RawClient, args: &[&str]) -> Vec<Vec<(String, String)>> {
    let mut cmd = vec!["CLIENT", "LIST"];
    cmd.extend_from_slice(args);
    let reply = c.cmd(&cmd);
    let body = text(&reply);
    assert!(body.is_empty() || body.ends_with('\n'), "{body:?}");
    body.lines().map(parse_line).collect()
}

fn client_info(c: &mut RawClient) -> Vec<(String, String)> {
    let body = text(&c.cmd(&["CLIENT", "INFO"]));
    assert!(body.ends_with('\n'), "{body:?}");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 1, "{body:?}");
    parse_line(lines[0])
}

/// Waits until the server shows exactly `ids` (sorted) in CLIENT LIST.
fn wait_for_ids(c: &mut RawClient, mut ids: Vec<i64>) {
    ids.sort();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut seen: Vec<i64> = client_list(c, &[])
            .iter()
            .map(|l| field(l, "id").parse().unwrap())
            .collect();
        seen.sort();
        if seen == ids {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "clients {seen:?}, expected {ids:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn id_is_unique_and_increasing() {
    let server = Server::vireo(&[]);
    let mut a = server.raw();
    let ida = client_id(&mut a);
    let mut b = server.raw();
    let idb = client_id(&mut b);
    assert!(ida > 0 && idb > ida, "{ida} {idb}");
    assert_eq!(client_id(&mut a), ida);
    assert_eq!(
        a.cmd(&["CLIENT", "ID", "x"]),
        err("ERR wrong number of arguments for 'client|id' command")
    );
}

#[test]
fn setname_getname() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::Bulk(None));
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "worker-1"]), ok());
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), bulk("worker-1"));
    let bad = err("ERR Client names cannot contain spaces, newlines or special characters.");
    for name in ["a b", "a\nb", "caf\u{e9}", "\x7f"] {
        assert_eq!(c.cmd(&["CLIENT", "SETNAME", name]), bad, "{name:?}");
    }
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), bulk("worker-1"));
    assert_eq!(field(&client_info(&mut c), "name"), "worker-1");
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", ""]), ok());
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::Bulk(None));
    assert_eq!(field(&client_info(&mut c), "name"), "");
    assert_eq!(
        c.cmd(&["CLIENT", "SETNAME"]),
        err("ERR wrong number of arguments for 'client|setname' command")
    );
}

#[test]
fn setinfo_lib_name_and_version() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "LIB-NAME", "redis-py(om_v1.0)"]),
        ok()
    );
    assert_eq!(c.cmd(&["CLIENT", "SETINFO", "lib-ver", "5.0.1"]), ok());
    let line = client_info(&mut c);
    assert_eq!(field(&line, "lib-name"), "redis-py(om_v1.0)");
    assert_eq!(field(&line, "lib-ver"), "5.0.1");
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "Lib-Name", "a b"]),
        err("ERR Lib-Name cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-ver", "1\n2"]),
        err("ERR lib-ver cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-other", "x"]),
        err("ERR Unrecognized option 'lib-other'")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-name"]),
        err("ERR wrong number of arguments for 'client|setinfo' command")
    );
    // An empty value clears; RESET keeps both.
    assert_eq!(c.cmd(&["CLIENT", "SETINFO", "lib-ver", ""]), ok());
    assert_eq!(c.cmd(&["RESET"]), Reply::Simple(b"RESET".to_vec()));
    let line = client_info(&mut c);
    assert_eq!(field(&line, "lib-name"), "redis-py(om_v1.0)");
    assert_eq!(field(&line, "lib-ver"), "");
}

#[test]
fn client_list_line_has_every_field_with_live_values() {
    let server = Server::vireo(&[]);
    let mut a = server.raw();
    let mut b = server.raw();
    let (ida, idb) = (client_id(&mut a), client_id(&mut b));
    b.cmd(&["SELECT", "5"]);
    b.cmd(&["CLIENT", "SETNAME", "bee"]);
    b.cmd(&["GET", "somekey"]);
    // (The test harness's readiness probe has gone.)
    wait_for_ids(&mut a, vec![ida, idb]);

    let lines = client_list(&mut a, &[]);
    assert_eq!(lines.len(), 2);
    let me = lines
        .iter()
        .find(|l| field(l, "id") == ida.to_string())
        .unwrap();
    let other = lines
        .iter()
        .find(|l| field(l, "id") == idb.to_string())
        .unwrap();

    assert_eq!(field(me, "cmd"), "client|list");
    assert_eq!(field(me, "db"), "0");
    assert_eq!(field(me, "name"), "");
    assert_eq!(field(me, "flags"), "N");
    assert_eq!(field(me, "idle"), "0");
    assert_eq!(field(me, "user"), "default");
    assert_eq!(field(me, "resp"), "2");
    assert_eq!(field(me, "multi"), "-1");
    assert_eq!(field(me, "events"), "r");
    // The caller's arguments: "CLIENT" + "LIST".
    assert_eq!(field(me, "argv-mem"), "10");
    assert!(field(me, "rbs").parse::<u64>().unwrap() > 0);
    assert!(field(me, "tot-mem").parse::<u64>().unwrap() > 0);
    let port = field(me, "addr").rsplit_once(':').unwrap().1.to_string();
    assert_ne!(port, server.port().to_string());
    assert_eq!(field(me, "laddr"), server.addr());

    assert_eq!(field(other, "cmd"), "get");
    assert_eq!(field(other, "db"), "5");
    assert_eq!(field(other, "name"), "bee");
    assert_eq!(field(other, "argv-mem"), "0");
    assert_eq!(field(other, "obl"), "0");

    // CLIENT INFO is the caller's own line.
    let info = client_info(&mut b);
    assert_eq!(field(&info, "id"), idb.to_string());
    assert_eq!(field(&info, "cmd"), "client|info");
    assert_eq!(field(&info, "db"), "5");
}

#[test]
fn client_list_age_and_idle_come_from_the_clock() {
    let server = Server::vireo(&[]);
    let mut a = server.raw();
    let mut b = server.raw();
    let idb = client_id(&mut b);
    std::thread::sleep(Duration::from_millis(2100));
    let lines = client_list(&mut a, &["ID", &idb.to_string()]);
    assert_eq!(lines.len(), 1);
    assert!(field(&lines[0], "age").parse::<u64>().unwrap() >= 2);
    assert!(field(&lines[0], "idle").parse::<u64>().unwrap() >= 2);
    b.cmd(&["PING"]);
    let lines = client_list(&mut a, &["ID", &idb.to_string()]);
    assert_eq!(field(&lines[0], "idle"), "0");
    assert!(field(&lines[0], "age").parse::<u64>().unwrap() >= 2);
}

#[test]
fn client_list_filters() {
    let server = Server::vireo(&[]);
    let mut a = server.raw();
    let mut b = server.raw();
    let (ida, idb) = (client_id(&mut a), client_id(&mut b));
    let ids = |lines: Vec<Vec<(String, String)>>| -> Vec<i64> {
        lines
            .iter()
            .map(|l| field(l, "id").parse().unwrap())
            .collect()
    };
    // In the order asked, repeats kept, unknown ids skipped.
    let (sa, sb) = (ida.to_string(), idb.to_string());
    assert_eq!(
        ids(client_list(&mut a, &["ID", &sb, &sa, "999999", &sb])),
        vec![idb, ida, idb]
    );
    assert_eq!(
        ids(client_list(&mut a, &["id", "0", "-3"])),
        Vec::<i64>::new()
    );
    assert_eq!(
        a.cmd(&["CLIENT", "LIST", "ID", "abc"]),
        err("ERR Invalid client ID")
    );
    // (The test harness's readiness probe has gone.)
    wait_for_ids(&mut a, vec![ida, idb]);
    let mut normal = ids(client_list(&mut a, &["TYPE", "normal"]));
    normal.sort();
    assert_eq!(normal, vec![ida.min(idb), ida.max(idb)]);
    for kind in ["master", "replica", "slave", "pubsub", "PUBSUB"] {
        assert_eq!(a.cmd(&["CLIENT", "LIST", "TYPE", kind]), bulk(""), "{kind}");
    }
    assert_eq!(
        a.cmd(&["CLIENT", "LIST", "TYPE", "foo"]),
        err("ERR Unknown client type 'foo'")
    );
    for bad in [
        &["CLIENT", "LIST", "foo"][..],
        &["CLIENT", "LIST", "ID"],
        &["CLIENT", "LIST", "TYPE"],
        &["CLIENT", "LIST", "TYPE", "normal", "ID", "1"],
    ] {
        assert_eq!(a.cmd(bad), err("ERR syntax error"), "{bad:?}");
    }
}

#[test]
fn client_list_in_resp3_is_a_verbatim_string() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    c.cmd(&["HELLO", "3"]);
    let reply = c.cmd(&["CLIENT", "INFO"]);
    let Reply::Verbatim(bytes) = &reply else {
        panic!("{reply}");
    };
    let body = String::from_utf8_lossy(bytes);
    let line = body.strip_prefix("txt:").expect("txt format").trim_end();
    assert_eq!(field(&parse_line(line), "resp"), "3");
}

#[test]
fn kill_by_address_old_form() {
    let server = Server::vireo(&[]);
    let mut killer = server.raw();
    let mut victim = server.raw();
    let idv = client_id(&mut victim);
    let line = client_list(&mut killer, &["ID", &idv.to_string()]).remove(0);
    let addr = field(&line, "addr").to_string();
    assert_eq!(killer.cmd(&["CLIENT", "KILL", &addr]), ok());
    assert!(victim.is_closed(), "the victim's connection is closed");
    let idk = client_id(&mut killer);
    wait_for_ids(&mut killer, vec![idk]);
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", &addr]),
        err("ERR No such client")
    );
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", "addr"]),
        err("ERR No such client")
    );
}

#[test]
fn kill_old_form_can_kill_the_caller() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let addr = field(&client_info(&mut c), "addr").to_string();
    assert_eq!(c.cmd(&["CLIENT", "KILL", &addr]), ok());
    assert!(c.is_closed());
}

#[test]
fn kill_filters() {
    let server = Server::vireo(&[]);
    let mut killer = server.raw();
    let mut v1 = server.raw();
    let mut v2 = server.raw();
    let (idk, id1, id2) = (
        client_id(&mut killer),
        client_id(&mut v1),
        client_id(&mut v2),
    );

    // No match: 0, nothing closed.
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "ID", "999999"]), int(0));
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "ADDR", "1.2.3.4:5"]), int(0));
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "TYPE", "pubsub"]), int(0));
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "TYPE", "master"]), int(0));
    // The caller is spared by default...
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", "ID", &idk.to_string()]),
        int(0)
    );
    // ...and filters combine with AND.
    let v1_addr = field(&client_info(&mut v1), "addr").to_string();
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", "ID", &id2.to_string(), "ADDR", &v1_addr]),
        int(0)
    );
    assert_eq!(
        killer.cmd(&[
            "CLIENT",
            "KILL",
            "id",
            &id1.to_string(),
            "addr",
            &v1_addr,
            "laddr",
            &server.addr(),
            "user",
            "default",
            "type",
            "normal"
        ]),
        int(1)
    );
    assert!(v1.is_closed());
    wait_for_ids(&mut killer, vec![idk, id2]);

    // TYPE normal with SKIPME yes closes everyone else.
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]),
        int(1)
    );
    assert!(v2.is_closed());
    wait_for_ids(&mut killer, vec![idk]);
    assert_eq!(killer.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
}

#[test]
fn kill_skipme_no_closes_the_caller_after_the_reply() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let laddr = field(&client_info(&mut c), "laddr").to_string();
    // (The test harness's readiness probe has gone.)
    let id = client_id(&mut c);
    wait_for_ids(&mut c, vec![id]);
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "LADDR", &laddr, "SKIPME", "no"]),
        int(1)
    );
    assert!(c.is_closed());
}

#[test]
fn kill_errors() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let cases: &[(&[&str], &str)] = &[
        (
            &["CLIENT", "KILL", "ID", "abc"],
            "ERR client-id should be greater than 0",
        ),
        (
            &["CLIENT", "KILL", "ID", "0"],
            "ERR client-id should be greater than 0",
        ),
        (
            &["CLIENT", "KILL", "ID", "-1"],
            "ERR client-id should be greater than 0",
        ),
        (
            &["CLIENT", "KILL", "TYPE", "foo"],
            "ERR Unknown client type 'foo'",
        ),
        (
            &["CLIENT", "KILL", "USER", "nobody"],
            "ERR No such user 'nobody'",
        ),
        (&["CLIENT", "KILL", "SKIPME", "maybe"], "ERR syntax error"),
        (&["CLIENT", "KILL", "foo", "bar"], "ERR syntax error"),
        (&["CLIENT", "KILL", "ID", "1", "TYPE"], "ERR syntax error"),
        (
            &["CLIENT", "KILL"],
            "ERR wrong number of arguments for 'client|kill' command",
        ),
    ];
    for (args, error) in cases {
        assert_eq!(c.cmd(args), err(error), "{args:?}");
    }
    // A bad option anywhere means nobody is killed.
    let mut other = server.raw();
    let id = client_id(&mut other).to_string();
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "ID", &id, "foo", "bar"]),
        err("ERR syntax error")
    );
    assert_eq!(other.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
}

#[test]
fn reply_off_on_skip() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    // OFF answers nothing and silences everything, errors included, until ON.
    let mut pipeline = Vec::new();
    for cmd in [
        &["CLIENT", "REPLY", "OFF"][..],
        &["SET", "k", "1"],
        &["NOSUCHCOMMAND"],
        &["GET", "k"],
        &["CLIENT", "REPLY", "ON"],
        &["GET", "k"],
    ] {
        pipeline.extend(common::encode_command(cmd));
    }
    c.send(&pipeline).unwrap();
    assert_eq!(c.read_reply().unwrap(), ok());
    assert_eq!(c.read_reply().unwrap(), bulk("1"));

    // SKIP drops the next reply only.
    let mut pipeline = Vec::new();
    for cmd in [
        &["CLIENT", "REPLY", "SKIP"][..],
        &["ECHO", "skipped"],
        &["ECHO", "shown"],
        // SKIP, then SKIP again (skipped itself, and skips the next), then shown.
        &["CLIENT", "REPLY", "SKIP"],
        &["CLIENT", "REPLY", "SKIP"],
        &["ECHO", "skipped"],
        &["ECHO", "shown2"],
        // SKIP while OFF does nothing; ON answers.
        &["CLIENT", "REPLY", "OFF"],
        &["CLIENT", "REPLY", "SKIP"],
        &["ECHO", "off"],
        &["CLIENT", "REPLY", "ON"],
        // ON right after SKIP is answered and cancels the skip.
        &["CLIENT", "REPLY", "SKIP"],
        &["CLIENT", "REPLY", "ON"],
        &["ECHO", "end"],
    ] {
        pipeline.extend(common::encode_command(cmd));
    }
    c.send(&pipeline).unwrap();
    for expected in [bulk("shown"), bulk("shown2"), ok(), ok(), bulk("end")] {
        assert_eq!(c.read_reply().unwrap(), expected);
    }
    assert_eq!(
        c.cmd(&["CLIENT", "REPLY", "maybe"]),
        err("ERR syntax error")
    );
}

#[test]
fn no_evict_and_no_touch_show_in_flags() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "on"]), ok());
    assert_eq!(field(&client_info(&mut c), "flags"), "e");
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "ON"]), ok());
    assert_eq!(field(&client_info(&mut c), "flags"), "eT");
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "OFF"]), ok());
    assert_eq!(field(&client_info(&mut c), "flags"), "T");
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "off"]), ok());
    assert_eq!(field(&client_info(&mut c), "flags"), "N");
    assert_eq!(
        c.cmd(&["CLIENT", "NO-EVICT", "maybe"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "NO-TOUCH", "yes"]),
        err("ERR syntax error")
    );
}

#[test]
fn no_touch_leaves_idle_time_alone() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    c.cmd(&["SET", "k", "v"]);
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "on"]), ok());
    c.cmd(&["GET", "k"]);
    let Reply::Integer(idle) = c.cmd(&["OBJECT", "IDLETIME", "k"]) else {
        panic!("OBJECT IDLETIME")
    };
    assert!(idle >= 2, "idle {idle}");
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "off"]), ok());
    c.cmd(&["GET", "k"]);
    assert_eq!(c.cmd(&["OBJECT", "IDLETIME", "k"]), int(0));
}

#[test]
fn help_lists_every_subcommand() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let reply = c.cmd(&["CLIENT", "HELP"]);
    let lines: Vec<String> = reply.elements().expect("array").iter().map(text).collect();
    assert!(lines[0].starts_with("CLIENT <subcommand>"), "{lines:?}");
    for sub in [
        "GETNAME", "ID", "INFO", "KILL", "LIST", "REPLY", "SETINFO", "SETNAME", "NO-EVICT",
        "NO-TOUCH", "HELP",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(sub)),
            "{sub} in {lines:?}"
        );
    }
    assert_eq!(
        c.cmd(&["CLIENT", "NOSUCH"]),
        err("ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.")
    );
}

#[test]
fn reset_restores_a_fresh_connection() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    c.cmd(&["SELECT", "3"]);
    c.cmd(&["SET", "k", "in-db-3"]);
    c.cmd(&["CLIENT", "SETNAME", "named"]);
    c.cmd(&["CLIENT", "NO-EVICT", "on"]);
    c.cmd(&["CLIENT", "NO-TOUCH", "on"]);
    c.cmd(&["HELLO", "3"]);
    c.send(&common::encode_command(&["CLIENT", "REPLY", "OFF"]))
        .unwrap();
    assert_eq!(c.cmd(&["RESET"]), Reply::Simple(b"RESET".to_vec()));
    assert_eq!(
        c.cmd(&["CLIENT", "GETNAME"]),
        Reply::Bulk(None),
        "RESP2 null: back on RESP2"
    );
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Bulk(None), "database 0");
    let line = client_info(&mut c);
    assert_eq!(field(&line, "db"), "0");
    assert_eq!(field(&line, "resp"), "2");
    assert_eq!(field(&line, "flags"), "N");
    assert_eq!(field(&line, "name"), "");
    assert_eq!(c.cmd(&["SELECT", "3"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("in-db-3"));
}

#[test]
fn reset_while_a_reply_is_skipped_is_silent() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let mut pipeline = common::encode_command(&["CLIENT", "REPLY", "SKIP"]);
    pipeline.extend(common::encode_command(&["RESET"]));
    pipeline.extend(common::encode_command(&["ECHO", "after"]));
    c.send(&pipeline).unwrap();
    assert_eq!(c.read_reply().unwrap(), bulk("after"));
}

#[test]
fn reset_deauthenticates_when_a_password_is_set() {
    let server = Server::vireo(&["--requirepass", "secret"]);
    let mut c = server.raw();
    assert_eq!(
        c.cmd(&["RESET"]),
        Reply::Simple(b"RESET".to_vec()),
        "RESET works before AUTH"
    );
    assert_eq!(c.cmd(&["AUTH", "secret"]), ok());
    assert_eq!(c.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    assert_eq!(c.cmd(&["RESET"]), Reply::Simple(b"RESET".to_vec()));
    assert_eq!(c.cmd(&["PING"]), err("NOAUTH Authentication required."));
    assert_eq!(c.cmd(&["AUTH", "secret"]), ok());
    assert_eq!(c.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
}

#[test]
fn reset_without_password_stays_authenticated() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["RESET"]), Reply::Simple(b"RESET".to_vec()));
    assert_eq!(c.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    assert_eq!(
        c.cmd(&["RESET", "x"]),
        err("ERR wrong number of arguments for 'reset' command")
    );
}

#[test]
fn client_list_shows_queued_and_held_memory() {
    let server = Server::vireo(&[]);
    let mut a = server.raw();
    let mut b = server.raw();
    let idb = client_id(&mut b);
    let of_b = |a: &mut RawClient| client_list(a, &["ID", &idb.to_string()]).remove(0);
    assert_eq!(field(&of_b(&mut a), "multi-mem"), "0");
    // Queued commands hold their arguments until EXEC.
    b.cmd(&["MULTI"]);
    b.cmd(&["SET", "key", &"v".repeat(1000)]);
    let queued: u64 = field(&of_b(&mut a), "multi-mem").parse().unwrap();
    assert!(queued >= 1006, "multi-mem={queued}");
    b.cmd(&["SET", "key2", "v"]);
    let more: u64 = field(&of_b(&mut a), "multi-mem").parse().unwrap();
    assert!(more > queued, "multi-mem={more}");
    let line = of_b(&mut a);
    assert_eq!(field(&line, "multi"), "2");
    assert_eq!(field(&line, "flags"), "x");
    b.cmd(&["EXEC"]);
    assert_eq!(field(&of_b(&mut a), "multi-mem"), "0");
    // Watched keys count too.
    b.cmd(&["WATCH", "w1", "w2"]);
    assert!(field(&of_b(&mut a), "multi-mem").parse::<u64>().unwrap() > 0);
    b.cmd(&["UNWATCH"]);
    assert_eq!(field(&of_b(&mut a), "multi-mem"), "0");
    // A blocked client holds its command's arguments: "BLPOP" + "list" + "0".
    b.send(&common::encode_command(&["BLPOP", "list", "0"]))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let line = of_b(&mut a);
        if field(&line, "flags") == "b" {
            assert_eq!(field(&line, "argv-mem"), "10");
            break;
        }
        assert!(Instant::now() < deadline, "never blocked");
        std::thread::sleep(Duration::from_millis(10));
    }
    a.cmd(&["RPUSH", "list", "x"]);
    b.read_reply().unwrap();
    assert_eq!(field(&of_b(&mut a), "argv-mem"), "0");
}

#[test]
fn client_list_shows_output_a_client_does_not_read() {
    let server = Server::vireo(&[]);
    let mut a = server.raw();
    let mut b = server.raw();
    let idb = client_id(&mut b);
    // b asks for far more than the socket buffers hold, and never reads.
    a.cmd(&["SET", "big", &"x".repeat(1024 * 1024)]);
    let mut pipeline = Vec::new();
    for _ in 0..64 {
        pipeline.extend(common::encode_command(&["GET", "big"]));
    }
    b.send(&pipeline).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let line = client_list(&mut a, &["ID", &idb.to_string()]).remove(0);
        if field(&line, "events") == "rw" {
            let obl: u64 = field(&line, "obl").parse().unwrap();
            let omem: u64 = field(&line, "omem").parse().unwrap();
            let oll: u64 = field(&line, "oll").parse().unwrap();
            assert_eq!(obl, 16 * 1024, "{line:?}");
            assert!(omem > 0 && oll > 0, "{line:?}");
            let tot: u64 = field(&line, "tot-mem").parse().unwrap();
            assert!(tot > omem, "{line:?}");
            break;
        }
        assert!(Instant::now() < deadline, "output never waited: {line:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn kill_maxage_closes_only_older_clients() {
    let server = Server::vireo(&[]);
    let mut old = server.raw();
    let id_old = client_id(&mut old);
    std::thread::sleep(Duration::from_millis(2100));
    let mut young = server.raw();
    let mut killer = server.raw();
    let (idy, idk) = (client_id(&mut young), client_id(&mut killer));
    // (The test harness's readiness probe has gone.)
    wait_for_ids(&mut killer, vec![id_old, idy, idk]);
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "MAXAGE", "1000"]), int(0));
    // Combined with other filters (AND).
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", "MAXAGE", "1", "ID", &idy.to_string()]),
        int(0)
    );
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "MAXAGE", "1"]), int(1));
    assert!(old.is_closed());
    wait_for_ids(&mut killer, vec![idy, idk]);
}

#[test]
fn kill_maxage_errors_match_valkey() {
    let mut pair = common::valkey::Pair::start();
    for args in [
        &["CLIENT", "KILL", "MAXAGE", "0"][..],
        &["CLIENT", "KILL", "MAXAGE", "-1"],
        &["CLIENT", "KILL", "MAXAGE", "x"],
        &["CLIENT", "KILL", "MAXAGE", "99999999999999999999"],
        &["CLIENT", "KILL", "MAXAGE", "100"],
        &["CLIENT", "KILL", "MAXAGE", "100", "SKIPME"],
        &["CLIENT", "KILL", "MAXAGE", "1", "MAXAGE", "100000"],
        &["CLIENT", "KILL", "MAXAGE", "100", "TYPE", "foo"],
    ] {
        pair.same(args);
    }
    assert_eq!(
        pair.vireo(&["CLIENT", "KILL", "MAXAGE", "0"]),
        err("ERR maxage should be greater than 0")
    );
}

#[test]
fn timeout_spares_subscribers_and_blocked_clients() {
    let server = Server::vireo(&["--timeout", "1"]);
    let mut idle = server.raw();
    let mut subscriber = server.raw();
    let mut blocked = server.raw();
    assert_eq!(idle.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    subscriber.cmd(&["SUBSCRIBE", "ch"]);
    blocked
        .send(&common::encode_command(&["BLPOP", "list", "0"]))
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(idle.is_closed(), "an idle client is closed");
    let mut pusher = server.raw();
    // The others are still there: the subscriber gets a message, the blocked client its
    // element.
    pusher.cmd(&["PUBLISH", "ch", "m"]);
    let message = subscriber.read_reply().unwrap();
    assert_eq!(
        message,
        Reply::Array(Some(vec![bulk("message"), bulk("ch"), bulk("m")]))
    );
    pusher.cmd(&["RPUSH", "list", "x"]);
    assert_eq!(
        blocked.read_reply().unwrap(),
        Reply::Array(Some(vec![bulk("list"), bulk("x")]))
    );
}
