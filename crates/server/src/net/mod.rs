//! Listeners: TCP on every `bind` address (a leading `-` marks an address whose failure to
//! bind is not fatal, as in Redis's `bind * -::*`) and the optional unix socket. Accepted
//! connections are admitted here (maxclients, protected mode) and handed to `conn`.

pub mod conn;

use crate::client::NewClient;
use crate::settings::Settings;
use crate::stats::Stats;
use crate::{errors, log_verbose, log_warning, Server};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, UnixListener};

pub struct Listeners {
    tcp: Vec<TcpListener>,
    unix: Option<(UnixListener, String)>,
}

impl Listeners {
    pub fn bind(settings: &Settings) -> Result<Listeners, String> {
        let mut tcp = Vec::new();
        if settings.port != 0 {
            for spec in &settings.bind {
                let (optional, addr) = match spec.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, spec.as_str()),
                };
                match bind_tcp(addr, settings.port, settings.tcp_backlog) {
                    Ok(l) => tcp.push(l),
                    Err(e) if optional => {
                        log_verbose!("Skipping optional bind address {addr}: {e}")
                    }
                    Err(e) => {
                        return Err(format!(
                            "Warning: Could not create server TCP listening socket {addr}:{}: {e}",
                            settings.port
                        ))
                    }
                }
            }
        }
        let unix = match &settings.unixsocket {
            Some(path) => Some((bind_unix(path, settings.unixsocketperm)?, path.clone())),
            None => None,
        };
        if tcp.is_empty() && unix.is_none() {
            return Err("Configured to not listen anywhere, exiting.".into());
        }
        Ok(Listeners { tcp, unix })
    }

    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .tcp
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .map(|a| format!("tcp {a}"))
            .collect();
        if let Some((_, path)) = &self.unix {
            parts.push(format!("unix {path}"));
        }
        parts.join(", ")
    }

    pub async fn accept_loop(self, server: Arc<Server>) {
        let mut tasks = tokio::task::JoinSet::new();
        for listener in self.tcp {
            tasks.spawn(accept_tcp(listener, server.clone()));
        }
        if let Some((listener, path)) = self.unix {
            tasks.spawn(accept_unix(listener, path, server.clone()));
        }
        while tasks.join_next().await.is_some() {}
    }
}

fn bind_tcp(addr: &str, port: u16, backlog: i32) -> std::io::Result<TcpListener> {
    let ip: IpAddr = match addr {
        "*" => Ipv4Addr::UNSPECIFIED.into(),
        "::*" => Ipv6Addr::UNSPECIFIED.into(),
        other => other
            .parse()
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad address"))?,
    };
    let addr = SocketAddr::new(ip, port);
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    if addr.is_ipv6() {
        // The IPv4 wildcard is bound separately, as Redis does.
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    TcpListener::from_std(socket.into())
}

fn bind_unix(path: &str, perm: u32) -> Result<UnixListener, String> {
    let _ = std::fs::remove_file(path);
    let listener =
        UnixListener::bind(path).map_err(|e| format!("Failed opening Unix socket: {e}"))?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))
            .map_err(|e| format!("Failed to set permissions on Unix socket: {e}"))?;
    }
    Ok(listener)
}

async fn accept_tcp(listener: TcpListener, server: Arc<Server>) {
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(pair) => pair,
            Err(e) => {
                log_warning!("Accepting client connection: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let keepalive = server.settings.read().tcp_keepalive;
        if keepalive > 0 {
            let sock = socket2::SockRef::from(&stream);
            let ka =
                socket2::TcpKeepalive::new().with_time(std::time::Duration::from_secs(keepalive));
            let _ = sock.set_tcp_keepalive(&ka);
        }
        let laddr = stream.local_addr().unwrap_or(addr);
        let conn = NewClient {
            addr,
            laddr,
            fd: stream.as_raw_fd() as i64,
            unix_path: None,
        };
        let server = server.clone();
        tokio::spawn(async move {
            let mut stream = stream;
            if let Some(msg) = refuse(&server, Some(addr.ip())) {
                let _ = stream.write_all(format!("-{msg}\r\n").as_bytes()).await;
                return;
            }
            conn::serve(server, stream, conn).await;
        });
    }
}

async fn accept_unix(listener: UnixListener, path: String, server: Arc<Server>) {
    let placeholder: SocketAddr = (Ipv4Addr::UNSPECIFIED, 0).into();
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(pair) => pair,
            Err(e) => {
                log_warning!("Accepting client connection: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let conn = NewClient {
            addr: placeholder,
            laddr: placeholder,
            fd: stream.as_raw_fd() as i64,
            unix_path: Some(path.clone()),
        };
        let server = server.clone();
        tokio::spawn(async move {
            let mut stream = stream;
            if let Some(msg) = refuse(&server, None) {
                let _ = stream.write_all(format!("-{msg}\r\n").as_bytes()).await;
                return;
            }
            conn::serve(server, stream, conn).await;
        });
    }
}

/// Why a new connection must be turned away, if it must: too many clients, or protected
/// mode (no password, and the peer is not on the loopback interface).
fn refuse(server: &Server, peer: Option<IpAddr>) -> Option<&'static str> {
    Stats::add(&server.stats.total_connections_received, 1);
    let settings = server.settings.read();
    if !server.clients.try_reserve(settings.maxclients) {
        Stats::add(&server.stats.rejected_connections, 1);
        return Some(errors::MAX_CLIENTS);
    }
    let local = peer.is_none_or(|ip| ip.is_loopback());
    if settings.protected_mode && settings.requirepass.is_none() && !local {
        server.clients.release();
        return Some(errors::PROTECTED_MODE);
    }
    // The slot reserved here is the one `conn::serve` registers into.
    None
}
