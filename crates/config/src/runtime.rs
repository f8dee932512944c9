//! CONFIG GET and CONFIG SET on a loaded [`Config`].
//!
//! CONFIG SET is atomic: every name is checked (known, mutable, not repeated), then every
//! value is parsed, and only when all are good is anything changed. Error texts are
//! Redis 7's, without the leading `ERR `.

use vireo_store::glob::string_match;

use crate::config::{parse_directive, Config, Permission, ENABLE_PROTECTED_CONFIGS};
use crate::table::{self, Flags, DIRECTIVES};
use crate::value::{self, Value};

fn set_failed(name: &[u8], reason: &str) -> String {
    format!(
        "CONFIG SET failed (possibly related to argument '{}') - {reason}",
        String::from_utf8_lossy(name)
    )
}

impl Config {
    /// CONFIG GET: `(name, value)` for every directive whose name or alias matches one of
    /// the glob `patterns` (case-insensitively). A name is listed once even if several
    /// patterns match it; an alias that matches is listed under the alias. Hidden debugging
    /// directives are listed only when asked for by their exact name.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, d) in DIRECTIVES.iter().enumerate() {
            let matches = |name: &str| {
                patterns.iter().any(|p| {
                    if d.is(Flags::HIDDEN) {
                        p.eq_ignore_ascii_case(name.as_bytes())
                    } else {
                        string_match(p, name.as_bytes(), true)
                    }
                })
            };
            for name in std::iter::once(&d.name).chain(d.aliases) {
                if matches(name) {
                    out.push((name.to_string(), value::format_get(d.kind, &self.values[i])));
                }
            }
        }
        out
    }

    /// CONFIG SET from a client that is not local; see [`Config::set_from`].
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        self.set_from(pairs, false)
    }

    /// CONFIG SET: applies all pairs or none. Returns the canonical names of the directives
    /// whose value changed, for the server to act on (rebind, resize, ...). If acting on
    /// them fails, the server restores a clone taken before the call.
    /// `client_is_local` matters for protected directives under
    /// `enable-protected-configs local`.
    pub fn set_from(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        client_is_local: bool,
    ) -> Result<Vec<&'static str>, String> {
        let indexes = self.check_names(pairs, client_is_local)?;
        let mut parsed = Vec::with_capacity(pairs.len());
        for (&index, (name, arg)) in indexes.iter().zip(pairs) {
            let directive = &DIRECTIVES[index];
            let args = [arg.to_vec()];
            let value = parse_directive(directive, &self.values[index], &args)
                .map_err(|reason| set_failed(name, &reason))?;
            parsed.push((index, value));
        }
        let mut changed = Vec::new();
        for (index, value) in parsed {
            if self.values[index] != value {
                self.values[index] = value;
                changed.push(DIRECTIVES[index].name);
            }
        }
        Ok(changed)
    }

    /// The first pass of CONFIG SET: every name known, settable and given once.
    fn check_names(
        &self,
        pairs: &[(&[u8], &[u8])],
        client_is_local: bool,
    ) -> Result<Vec<usize>, String> {
        let protected_allowed = match self.permission(ENABLE_PROTECTED_CONFIGS) {
            Permission::Yes => true,
            Permission::Local => client_is_local,
            Permission::No => false,
        };
        let mut indexes = Vec::with_capacity(pairs.len());
        for (name, _) in pairs {
            let Some(index) = table::lookup(name) else {
                return Err(format!(
                    "Unknown option or number of arguments for CONFIG SET - '{}'",
                    String::from_utf8_lossy(name)
                ));
            };
            let directive = &DIRECTIVES[index];
            if directive.is(Flags::IMMUTABLE) {
                return Err(set_failed(name, "can't set immutable config"));
            }
            if directive.is(Flags::PROTECTED) && !protected_allowed {
                return Err(set_failed(name, "can't set protected config"));
            }
            if indexes.contains(&index) {
                return Err(set_failed(name, "duplicate parameter"));
            }
            indexes.push(index);
        }
        Ok(indexes)
    }

    /// Whether a directive's value must not appear in logs (passwords).
    pub fn is_sensitive(name: &str) -> bool {
        table::lookup(name.as_bytes()).is_some_and(|i| DIRECTIVES[i].is(Flags::SENSITIVE))
    }

    /// The typed value of a directive by index, for the rewrite module.
    pub(crate) fn value_at(&self, index: usize) -> &Value {
        &self.values[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_from_str;

    fn get(c: &Config, pattern: &str) -> Vec<(String, String)> {
        c.get(&[pattern.as_bytes()])
    }

    fn set(c: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<&'static str>, String> {
        let pairs: Vec<(&[u8], &[u8])> = pairs
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        c.set(&pairs)
    }

    #[test]
    fn get_matches_names_and_aliases() {
        let c = Config::default();
        assert_eq!(get(&c, "PORT"), [("port".to_string(), "6379".to_string())]);
        assert_eq!(get(&c, "slaveof"), [("slaveof".to_string(), String::new())]);
        let names: Vec<String> = get(&c, "*slave-read*")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["slave-read-only"]);
        let names: Vec<String> = get(&c, "*read-only").into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["replica-read-only", "slave-read-only"]);
        assert_eq!(c.get(&[b"port", b"po*"]).len(), 1);
        assert_eq!(
            get(&c, "save"),
            [("save".to_string(), "3600 1 300 100 60 10000".to_string())]
        );
        assert_eq!(get(&c, "bind")[0].1, "* -::*");
        assert_eq!(get(&c, "maxmemory")[0].1, "0");
        assert_eq!(get(&c, "nothing-here"), []);
    }

    #[test]
    fn get_star_lists_every_visible_name() {
        let all = get(&Config::default(), "*");
        // 192 names in Redis 7.0's CONFIG GET *, plus four added by 7.2.
        assert_eq!(all.len(), 196);
        assert!(!all.iter().any(|(n, _)| n == "key-load-delay"));
        assert_eq!(get(&Config::default(), "key-load-delay").len(), 1);
    }

    #[test]
    fn set_changes_typed_values() {
        let mut c = Config::default();
        let changed = set(
            &mut c,
            &[
                ("maxmemory", "1K"),
                ("save", "900 1 60 5"),
                ("hz", "600"),
                ("slave-read-only", "no"),
            ],
        )
        .unwrap();
        assert_eq!(changed, ["maxmemory", "save", "hz", "replica-read-only"]);
        assert_eq!(get(&c, "maxmemory")[0].1, "1000");
        assert_eq!(c.save_points(), [(900, 1), (60, 5)]);
        assert_eq!(c.hz(), 500);
        assert_eq!(set(&mut c, &[("save", "")]).unwrap(), ["save"]);
        assert!(c.save_points().is_empty());
        assert_eq!(set(&mut c, &[("hz", "500")]).unwrap(), Vec::<&str>::new());
        set(
            &mut c,
            &[("client-output-buffer-limit", "NORMAL 1 2 3 Replica 4 5 6")],
        )
        .unwrap();
        assert_eq!(
            get(&c, "client-output-buffer-limit")[0].1,
            "normal 1 2 3 slave 4 5 6 pubsub 33554432 8388608 60"
        );
        set(
            &mut c,
            &[
                ("maxmemory-clients", "10%"),
                ("notify-keyspace-events", "KEA"),
            ],
        )
        .unwrap();
        assert_eq!(get(&c, "maxmemory-clients")[0].1, "10%");
        assert_eq!(get(&c, "notify-keyspace-events")[0].1, "AKE");
    }

    #[test]
    fn set_errors_match_redis_and_change_nothing() {
        let mut c = Config::default();
        let before = c.clone();
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("maxmemory", "abc")], "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"),
            (&[("foo", "bar")], "Unknown option or number of arguments for CONFIG SET - 'foo'"),
            (&[("daemonize", "yes")], "CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"),
            (&[("port", "1"), ("PORT", "2")], "CONFIG SET failed (possibly related to argument 'PORT') - duplicate parameter"),
            (&[("replica-read-only", "no"), ("slave-read-only", "no")], "CONFIG SET failed (possibly related to argument 'slave-read-only') - duplicate parameter"),
            (&[("hz", "abc"), ("foo", "2")], "Unknown option or number of arguments for CONFIG SET - 'foo'"),
            (&[("hz", "1"), ("daemonize", "yes")], "CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"),
            (&[("hz", "abc"), ("port", "99999")], "CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"),
            (&[("port", "1"), ("hz", "-1")], "CONFIG SET failed (possibly related to argument 'hz') - argument must be between 0 and 2147483647 inclusive"),
            (&[("dir", "/tmp")], "CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"),
            (&[("save", "900")], "CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
            (&[("oom-score-adj-values", "1 2")], "CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - wrong number of arguments"),
            (&[("slaveof", "1.2.3.4 5")], "CONFIG SET failed (possibly related to argument 'slaveof') - can't set immutable config"),
        ];
        for (pairs, message) in cases {
            assert_eq!(set(&mut c, pairs).unwrap_err(), *message, "{pairs:?}");
            assert_eq!(c, before);
        }
    }

    #[test]
    fn protected_configs_follow_enable_protected_configs() {
        let mut c = load_from_str("enable-protected-configs local\n").unwrap();
        assert!(c.set_from(&[(b"dbfilename", b"x.rdb")], false).is_err());
        assert_eq!(
            c.set_from(&[(b"dbfilename", b"x.rdb")], true).unwrap(),
            ["dbfilename"]
        );
        assert!(Config::is_sensitive("requirepass"));
        assert!(!Config::is_sensitive("port"));
    }
}
