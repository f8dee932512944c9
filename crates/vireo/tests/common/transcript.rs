//! Transcripts: a scenario runs its commands against one server, checking each frame it
//! can predict and recording every frame it sees; run against vireo and the reference
//! servers, the transcripts must be equal, so a frame the test cannot predict (a count,
//! a random member) is still compared between the servers.

use super::{Reply, Server};

/// The frames a scenario saw, in order.
#[derive(Default)]
pub struct Log(pub Vec<String>);

impl Log {
    /// Records `reply`, which must be `expected`.
    pub fn check(&mut self, what: &str, reply: Reply, expected: &Reply) {
        assert_eq!(&reply, expected, "{what}");
        self.0.push(format!("{what} -> {reply}"));
    }

    /// Checks a frame that carries something differing by design between servers (a
    /// client id), recording only that it was right.
    pub fn check_id(&mut self, what: &str, reply: Reply, expected: &Reply) {
        assert_eq!(&reply, expected, "{what}");
        self.0.push(format!("{what} -> as expected"));
    }

    /// Records a frame whose value only the other servers' transcripts decide.
    pub fn note(&mut self, what: &str, reply: Reply) {
        self.0.push(format!("{what} -> {reply}"));
    }
}

pub type Scenario = fn(&Server) -> Log;

/// Runs `scenario` against vireo and redis-server; the transcripts must match.
pub fn same_as_redis(scenario: Scenario) {
    let vireo = scenario(&Server::vireo(&[]));
    let redis = scenario(&Server::redis(&[]));
    assert_eq!(
        vireo.0, redis.0,
        "vireo (left) and redis-server (right) differ"
    );
}

/// As `same_as_redis`, and against Valkey 9 too when it is installed (for behaviour
/// Redis 7.2 changed since the 7.0 reference).
pub fn same_as_redis_and_valkey(scenario: Scenario) {
    let vireo = scenario(&Server::vireo(&[]));
    let redis = scenario(&Server::redis(&[]));
    assert_eq!(
        vireo.0, redis.0,
        "vireo (left) and redis-server (right) differ"
    );
    if let Some(valkey) = super::valkey::server(&[]) {
        let valkey = scenario(&valkey);
        assert_eq!(vireo.0, valkey.0, "vireo (left) and valkey (right) differ");
    }
}

/// Runs `scenario` against vireo and Valkey 9, for behaviour Redis 7.2 changed since the
/// 7.0 reference; without Valkey only the scenario's own checks run.
pub fn same_as_valkey(scenario: Scenario) {
    let vireo = scenario(&Server::vireo(&[]));
    if let Some(valkey) = super::valkey::server(&[]) {
        let valkey = scenario(&valkey);
        assert_eq!(vireo.0, valkey.0, "vireo (left) and valkey (right) differ");
    }
}
