//! Differential check: the defaults CONFIG GET * prints, against a real Redis 7.0.15
//! (`redis-cli CONFIG GET '*'` on a fresh `redis-server --port 0 --save ''`, recorded in
//! redis-7.0-config-get.tsv minus the values that run set: dir, port, unixsocket, save, bind).

use vireo_config::Config;

/// Where Redis 7.2 differs from the 7.0 recording.
const CHANGED_IN_7_2: &[&str] = &[];

#[test]
fn defaults_match_redis() {
    let ours: std::collections::HashMap<String, String> =
        Config::default().get(&[b"*"]).into_iter().collect();
    let recorded = include_str!("redis-7.0-config-get.tsv");
    let mut mismatches = Vec::new();
    for line in recorded.lines() {
        let (name, value) = line.split_once('\t').unwrap_or((line, ""));
        if CHANGED_IN_7_2.contains(&name) {
            continue;
        }
        match ours.get(name) {
            Some(v) if v == value => {}
            other => mismatches.push(format!("{name}: redis {value:?}, vireo {other:?}")),
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    assert_eq!(ours["save"], "3600 1 300 100 60 10000");
    assert_eq!(ours["port"], "6379");
    assert_eq!(ours["bind"], "* -::*");
}
