//! One connection's life: read what has arrived, run every complete command in it, write
//! all their replies with one write. A pipeline of N commands costs one read and one write.
//!
//! The read buffer grows only with bytes that actually arrived (plus one read's worth), so
//! a client announcing a huge bulk length cannot make the server allocate it up front; the
//! query buffer as a whole is capped by `client-query-buffer-limit`.

use crate::blocking;
use crate::client::{flag, Client, ClientHandle, NewClient};
use crate::exec::{execute, Scratch};
use crate::settings::OutputLimits;
use crate::stats::Stats;
use crate::{log_verbose, log_warning, Server};
use bytes::{Bytes, BytesMut};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use vireo_resp::{Limits, Reply, RequestParser};

/// Bytes asked of the socket per read when nothing bigger is known to be coming.
const READ_CHUNK: usize = 16 * 1024;
/// The most a single read may add beyond what has arrived, for large arguments.
const READ_MAX: usize = 1024 * 1024;

pub async fn serve<S>(server: Arc<Server>, mut stream: S, conn: NewClient)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let now = crate::unix_ms();
    let handle = server.clients.register(conn, now);
    let mut client = Client::new(handle.clone(), server.settings.read().requirepass.is_none());
    let mut parser = RequestParser::new();
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut reply = Reply::new();
    let mut scratch = Scratch::default();

    // The wake-ups the read loop waits for live across iterations: registering a waiter
    // with a `Notify` takes its lock, which a request should not pay twice.
    let outbox_wake = handle.outbox.notify.notified();
    let kill_wake = handle.kill_notify.notified();
    tokio::pin!(outbox_wake, kill_wake);

    let mut settings = ConnSettings::load(&server);
    'conn: loop {
        settings.refresh(&server);
        let (timeout, qbuf_limit, max_bulk) = (
            settings.timeout,
            settings.client_query_buffer_limit,
            settings.proto_max_bulk_len,
        );
        let want = parser.bytes_wanted(rbuf.len()).clamp(READ_CHUNK, READ_MAX);
        rbuf.reserve(want);
        // Subscribers and monitors are never closed for being idle, as in Redis.
        let timeout = if client.subs.any() || client.monitor {
            0
        } else {
            timeout
        };
        let read = tokio::select! {
            // In order, no random draw: the read is what usually completes, and what it
            // brings is followed by the outbox and a kill check anyway.
            biased;
            r = stream.read_buf(&mut rbuf) => r,
            _ = &mut outbox_wake => {
                outbox_wake.set(handle.outbox.notify.notified());
                // Pub/sub messages: written as soon as they come, after letting the
                // tasks already runnable (publishers, often) go first, so that one write
                // carries what they publish meanwhile, as Redis's one write per client per
                // event-loop turn does.
                tokio::task::yield_now().await;
                handle.outbox.drain_into(&mut reply.buf);
                if server.client_memory.limited() && count_replies(&server, &handle, &reply) {
                    break 'conn;
                }
                settings.refresh(&server);
                let limits = settings.output_limits;
                if !write_replies(&server, &handle, &mut stream, &mut reply, limits).await {
                    break 'conn;
                }
                continue 'conn;
            }
            _ = &mut kill_wake => break 'conn,
            _ = idle(timeout) => {
                log_verbose!("Closing idle client");
                break 'conn;
            }
        };
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                Stats::add(&server.stats.net_input_bytes, n as u64);
                Stats::add(&server.stats.total_reads_processed, 1);
            }
        }
        // maxmemory-clients: a query buffer filling with a large argument counts now.
        if server.client_memory.limited() {
            handle.buffers.record_query(rbuf.len(), rbuf.capacity());
            server.client_memory.update(&server, &handle);
        }
        if handle.is_killed() {
            break;
        }
        if rbuf.len() > qbuf_limit {
            Stats::add(&server.stats.client_qbuf_limit_disconnections, 1);
            log_warning!(
                "Closing client that reached max query buffer length: id={} addr={} (qbuf initial bytes: {:?})",
                handle.id,
                handle.addr,
                String::from_utf8_lossy(&rbuf[..rbuf.len().min(64)])
            );
            break;
        }
        let mut processed = 0u64;
        loop {
            let limits = Limits {
                max_bulk_len: max_bulk,
                authenticated: client.authenticated,
            };
            match parser.parse(&mut rbuf, limits) {
                Ok(Some(args)) => {
                    processed += 1;
                    // Messages (and MONITOR lines) that came before this command go
                    // before its reply.
                    if client.subs.any() || client.monitor {
                        handle.outbox.drain_into(&mut reply.buf);
                    }
                    execute(&server, &mut client, &args, &mut reply, &mut scratch);
                    while client.postponed {
                        client.postponed = false;
                        if !wait_for_pause(
                            &server,
                            &client,
                            &args,
                            &mut stream,
                            &mut rbuf,
                            &mut reply,
                        )
                        .await
                        {
                            break 'conn;
                        }
                        execute(&server, &mut client, &args, &mut reply, &mut scratch);
                    }
                    if client.blocked.is_some() {
                        // BCAST invalidations of the batch so far do not wait for it.
                        server.tracking.send_broadcasts(&server);
                        // (`blocking::block` published the arguments it waits in.)
                        let served = blocking::wait(
                            &server,
                            &mut client,
                            &mut stream,
                            &mut rbuf,
                            &mut reply,
                        )
                        .await;
                        handle.hold_args(None);
                        if !served {
                            break 'conn;
                        }
                    }
                    parser.recycle(args);
                    if client.close_after_reply || handle.is_killed() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    server.stats.record_error(&format!("ERR {e}"));
                    reply.error_bytes(&e.reply_text());
                    log_verbose!(
                        "Protocol error ({e}) from client: id={} addr={}",
                        handle.id,
                        handle.addr
                    );
                    client.close_after_reply = true;
                    break;
                }
            }
        }
        // The batch's BCAST invalidations go out as one message per prefix (Redis sends
        // them once per event-loop iteration).
        server.tracking.send_broadcasts(&server);
        Stats::add(&server.stats.total_commands_processed, processed);
        handle.touch(crate::unix_ms());
        handle.buffers.record(
            rbuf.len(),
            rbuf.capacity(),
            reply.len(),
            reply.buf.capacity(),
        );
        handle.outbox.drain_into(&mut reply.buf);
        // maxmemory-clients: the replies count before they are written; an evicted client
        // gets none of them.
        if server.client_memory.limited() && count_replies(&server, &handle, &reply) {
            break;
        }
        // The batch may have changed them (CONFIG SET client-output-buffer-limit).
        settings.refresh(&server);
        let limits = settings.output_limits;
        if !write_replies(&server, &handle, &mut stream, &mut reply, limits).await {
            break;
        }
        if client.close_after_reply || handle.is_killed() {
            break;
        }
        // Give back memory after a large request or reply (as Redis hands a large argument's
        // buffer over and starts a new one), and show it given back: CLIENT LIST, INFO and
        // maxmemory-clients count what a connection holds.
        let mut shrunk = false;
        if rbuf.is_empty() && rbuf.capacity() > READ_MAX {
            rbuf = BytesMut::with_capacity(READ_CHUNK);
            shrunk = true;
        }
        if reply.buf.capacity() > READ_MAX {
            reply.buf = BytesMut::with_capacity(READ_CHUNK);
            shrunk = true;
        }
        if shrunk {
            handle.buffers.record_query(rbuf.len(), rbuf.capacity());
            handle
                .buffers
                .reply_size
                .store(reply.buf.capacity(), Ordering::Relaxed);
            server.client_memory.update(&server, &handle);
        }
    }
    server.pubsub.unsubscribe_all(&mut client);
    if client.monitor {
        server.monitors.remove(handle.id);
    }
    server.tracking.disable(&handle);
    let _ = stream.shutdown().await;
    crate::commands::multi::unwatch_all(&server, &mut client);
    server.client_memory.forget(&handle);
    server.clients.unregister(handle.id);
}

/// Counts the replies about to be written toward `maxmemory-clients` (the reply buffer's
/// size, as CLIENT LIST's `rbs`); true if the client was evicted and must close.
fn count_replies(server: &Server, handle: &ClientHandle, reply: &Reply) -> bool {
    handle
        .buffers
        .reply_size
        .store(reply.buf.capacity(), Ordering::Relaxed);
    server.client_memory.update(server, handle)
}

/// Writes what `reply` holds and empties it; false if the connection must close (the
/// socket failed, or the client was killed meanwhile: a client that does not read is
/// not waited for).
async fn write_replies<S>(
    server: &Server,
    handle: &ClientHandle,
    stream: &mut S,
    reply: &mut Reply,
    limits: OutputLimits,
) -> bool
where
    S: AsyncWrite + Unpin,
{
    if reply.is_empty() {
        return true;
    }
    // client-output-buffer-limit: the class of a client with subscriptions is pubsub.
    let limit = if handle.outbox.subscribed() {
        limits.pubsub
    } else {
        limits.normal
    };
    let len = reply.len() as u64;
    if limit.hard_bytes > 0 && len >= limit.hard_bytes {
        crate::pubsub::close_for_output_limit(server, handle);
        return false;
    }
    // Above the soft limit, the write may take up to the soft seconds.
    let soft = limit.soft_bytes > 0 && len >= limit.soft_bytes;
    let grace = async {
        if !soft {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(Duration::from_secs(limit.soft_seconds) + Duration::from_millis(999))
            .await;
    };
    Stats::add(&server.stats.net_output_bytes, reply.len() as u64);
    Stats::add(&server.stats.total_writes_processed, 1);
    let mut write = std::pin::pin!(stream.write_all(&reply.buf));
    // On a socket with room the write completes at once: that output never waited, and
    // CLIENT LIST must not show it as waiting (the client may have read it before the
    // count could be reset), so the count is published only when the socket is full.
    let first = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
    let written = match first {
        Poll::Ready(r) => r.is_ok(),
        Poll::Pending => {
            // Seen by CLIENT LIST while the socket has not taken it all.
            handle
                .buffers
                .unwritten
                .store(reply.len(), Ordering::Relaxed);
            let written = tokio::select! {
                biased;
                r = &mut write => r.is_ok(),
                _ = handle.kill_notify.notified() => false,
                _ = grace => {
                    crate::pubsub::close_for_output_limit(server, handle);
                    false
                }
            };
            handle.buffers.unwritten.store(0, Ordering::Relaxed);
            written
        }
    };
    reply.buf.clear();
    written
}

/// The settings a connection consults on every read and write, kept between requests and
/// re-read only after a CONFIG SET changed the server's settings (`Server::settings_epoch`):
/// reading them through the shared lock each time costs two atomic writes to a cache line
/// every connection shares.
struct ConnSettings {
    epoch: u64,
    timeout: u64,
    client_query_buffer_limit: usize,
    proto_max_bulk_len: i64,
    output_limits: OutputLimits,
}

impl ConnSettings {
    fn load(server: &Server) -> ConnSettings {
        // The epoch first: a change after it is seen by the next `refresh`.
        let epoch = server.settings_epoch.load(Ordering::Acquire);
        let s = server.settings.read();
        ConnSettings {
            epoch,
            timeout: s.timeout,
            client_query_buffer_limit: s.client_query_buffer_limit,
            proto_max_bulk_len: s.proto_max_bulk_len,
            output_limits: s.output_limits,
        }
    }

    fn refresh(&mut self, server: &Server) {
        if server.settings_epoch.load(Ordering::Acquire) != self.epoch {
            *self = ConnSettings::load(server);
        }
    }
}

/// Waits, holding no lock, until the CLIENT PAUSE that held the command `args` back has
/// ended, been lifted or changed (the caller then runs it again, and waits again if it
/// is still held). The replies of the commands before it are written first. Meanwhile
/// the client shows as blocked; what it sends is kept for later. False if the connection
/// must close (it went away, was killed, or overflowed its query buffer).
async fn wait_for_pause<S>(
    server: &Server,
    client: &Client,
    args: &[Bytes],
    stream: &mut S,
    rbuf: &mut BytesMut,
    reply: &mut Reply,
) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let handle = &client.handle;
    let (limits, qbuf_limit) = {
        let s = server.settings.read();
        (s.output_limits, s.client_query_buffer_limit)
    };
    if !write_replies(server, handle, stream, reply, limits).await {
        return false;
    }
    let _waiting = server.pause.enter();
    // The arguments first: a client shown blocked (`b`) holds them.
    handle.hold_args(Some(args));
    handle.set_flag(flag::PAUSED, true);
    let ended = loop {
        // `true`: a pause only strengthens until it ends, so waiting for the end of what
        // holds writes back covers a command held by a pause of everything.
        tokio::select! {
            _ = server.pause.changed_or_ended(true) => break true,
            _ = handle.kill_notify.notified() => break false,
            read = stream.read_buf(rbuf) => match read {
                Ok(n) if n > 0 && rbuf.len() <= qbuf_limit => {
                    Stats::add(&server.stats.net_input_bytes, n as u64);
                }
                _ => break false,
            }
        }
    };
    handle.set_flag(flag::PAUSED, false);
    handle.hold_args(None);
    ended && !handle.is_killed()
}

/// Resolves when a client has been idle for `timeout` seconds; never when it is 0.
async fn idle(timeout: u64) {
    if timeout == 0 {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(Duration::from_secs(timeout)).await;
}
