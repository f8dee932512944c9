//! The scripts of the differential runners that play command sequences rather than
//! compare replies (`tests/propagation/*.txt`, `tests/notify/*.txt`): one command a line in
//! redis-cli quoting, `#` comments, and these directives:
//!
//! | directive | effect |
//! |---|---|
//! | `@sleep MS` | sleep MS milliseconds (to let a short TTL pass) |
//! | `@client NAME` | the following commands are sent by client NAME (created on first use; the first client is `main`) |
//! | `@nowait` | the next command's reply is not waited for (a blocking command; its reply is read at the end) |
//! | `@reference valkey` | compare with Valkey 9 instead of redis-server 7.0 (behaviour of Redis 7.2 and later; skipped if Valkey is absent) |

use super::valkey::Reference;
use super::{encode_command, RawClient, Reply, Server};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub enum Step {
    Command {
        client: String,
        args: Vec<Vec<u8>>,
        wait: bool,
        /// Where it is written: `file:line`, for messages.
        at: String,
    },
    Sleep(u64),
}

pub struct Script {
    pub steps: Vec<Step>,
    pub reference: Reference,
}

impl Script {
    pub fn load(path: &Path) -> Script {
        let text = std::fs::read_to_string(path).expect("read a script");
        let mut steps = Vec::new();
        let mut client = "main".to_string();
        let mut wait = true;
        let mut reference = Reference::Redis;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = format!("{}:{}", path.display(), n + 1);
            if let Some(directive) = line.strip_prefix('@') {
                let mut words = directive.split_whitespace();
                match (words.next(), words.next()) {
                    (Some("sleep"), Some(ms)) => {
                        steps.push(Step::Sleep(ms.parse().expect("@sleep MS")))
                    }
                    (Some("client"), Some(name)) => client = name.to_string(),
                    (Some("nowait"), None) => wait = false,
                    (Some("reference"), Some(name)) => {
                        reference = Reference::parse(name)
                            .unwrap_or_else(|| panic!("{at}: unknown reference"))
                    }
                    _ => panic!("{at}: unknown directive"),
                }
                continue;
            }
            let args = vireo_config::split_args(line.as_bytes())
                .unwrap_or_else(|| panic!("{at}: unbalanced quotes"));
            steps.push(Step::Command {
                client: client.clone(),
                args,
                wait,
                at,
            });
            wait = true;
        }
        Script { steps, reference }
    }

    /// Plays the script on `server`, one connection per script client. `check` sees each
    /// command with its reply (`at`, arguments, reply); the replies of `@nowait` commands
    /// are read at the end, in order. Returns the clients, to send more.
    pub fn play(
        &self,
        server: &Server,
        mut check: impl FnMut(&str, &[Vec<u8>], &Reply),
    ) -> BTreeMap<String, RawClient> {
        let mut clients: BTreeMap<String, RawClient> = BTreeMap::new();
        let mut unread = Vec::new();
        for step in &self.steps {
            match step {
                Step::Sleep(ms) => std::thread::sleep(Duration::from_millis(*ms)),
                Step::Command {
                    client,
                    args,
                    wait,
                    at,
                } => {
                    let c = clients
                        .entry(client.clone())
                        .or_insert_with(|| RawClient::connect(&server.addr()).expect("connect"));
                    if *wait {
                        let reply = c.command(args).expect("a reply");
                        check(at, args, &reply);
                    } else {
                        c.send(&encode_command(args)).expect("send");
                        unread.push((client, at, args));
                        // Let the server register the blocked client before the next step.
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        }
        for (client, at, args) in unread {
            let reply = clients
                .get_mut(client)
                .expect("the client exists")
                .read_reply()
                .expect("the blocked command's reply");
            check(at, args, &reply);
        }
        clients
    }
}

/// The `*.txt` scripts in `dir` (relative to the workspace root), sorted.
pub fn scripts(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the workspace root")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}
