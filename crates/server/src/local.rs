//! A client without a connection: runs commands in-process through the same dispatcher
//! as a network client (checks, locking, propagation, notifications), and hands back
//! the raw reply bytes. Redis keeps such a client for loading an AOF; Vireo's tests use
//! it to watch what the server does from inside (the propagation stream).

use crate::client::{Client, NewClient};
use crate::exec::{execute, Scratch};
use crate::Server;
use bytes::Bytes;
use std::sync::Arc;
use vireo_resp::Reply;

pub struct LocalClient {
    server: Arc<Server>,
    pub client: Client,
    scratch: Scratch,
}

impl LocalClient {
    /// Registers a client (counted in CLIENT LIST and maxclients like any other), already
    /// authenticated, speaking RESP2.
    pub fn new(server: Arc<Server>) -> LocalClient {
        let conn = NewClient::without_socket("127.0.0.1:0");
        server.clients.try_reserve(usize::MAX);
        let handle = server.clients.register(conn, crate::unix_ms());
        LocalClient {
            client: Client::new(handle, true),
            server,
            scratch: Scratch::default(),
        }
    }

    /// Runs one command; its reply as the bytes a RESP2 client would read (empty if the
    /// command blocked).
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Bytes {
        let args: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_ref()))
            .collect();
        let mut reply = Reply::new();
        execute(
            &self.server,
            &mut self.client,
            &args,
            &mut reply,
            &mut self.scratch,
        );
        reply.buf.freeze()
    }
}

impl Drop for LocalClient {
    fn drop(&mut self) {
        self.server.clients.unregister(self.client.id());
    }
}
