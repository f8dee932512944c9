//! `vireo-loadgen`: drives the workloads redis-benchmark has no test for, against any
//! server speaking RESP on 127.0.0.1, and prints one JSON line of results.
//!
//! - `multi`: each client runs `MULTI`, `INCR key`, `EXEC` as one pipelined round trip
//!   (as client libraries send a transaction), keys drawn from `--keyspace`. Throughput is
//!   transactions per second; latency is per transaction.
//! - `publish`: `--subscribers` connections SUBSCRIBE to one channel; `--clients`
//!   publishers PUBLISH to it, one request in flight each. Each message carries the time
//!   its PUBLISH was written, so the subscribers measure fan-out latency (publish sent →
//!   message read: `p50_ms`, `p99_ms`). Throughput is publishes per second, measured by the
//!   publishers. With `--rate R` the publishers together send R publishes per second on a
//!   fixed schedule (open loop): this compares fan-out latency of two servers at the same
//!   load, which the closed loop cannot (there the faster server also gets more load).
//!   Each message then also carries the time it was due, and `due_p50_ms`/`due_p99_ms`
//!   count from there: they add the publisher's lateness (a PUBLISH reply that came late,
//!   or a publisher thread that woke late on a busy client CPU), so a server that falls
//!   behind shows its backlog. `--realtime-subscribers` puts the subscriber threads in the
//!   real-time scheduling class (`SCHED_FIFO`), so that the latency one subscriber measures
//!   is the server's and not its wait behind fifty publisher threads on the client's CPU;
//!   `subscribers_fifo` in the output says whether they got it. (With many subscribers
//!   reading, real-time subscribers would starve the publishers instead.)
//!
//! Threads and blocking sockets only: the tool must not be the bottleneck it measures,
//! and needs nothing but std. Used by `scripts/bench --loadgen`.
//!
//!     vireo-loadgen --port 6379 multi --clients 50 --requests 100000
//!     vireo-loadgen --port 6379 publish --clients 50 --subscribers 50 --requests 100000

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

struct Options {
    port: u16,
    mode: String,
    clients: usize,
    requests: usize,
    subscribers: usize,
    keyspace: u64,
    /// Publishes per second over all publishers (`publish --rate`); 0 = as fast as replies come.
    rate: u64,
    /// Subscriber threads in SCHED_FIFO (`publish --realtime-subscribers`).
    realtime_subscribers: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: vireo-loadgen [--port P] (multi|publish) [--clients N] [--requests N] \
         [--subscribers N] [--keyspace N] [--rate PUBLISHES_PER_SEC] [--realtime-subscribers]"
    );
    std::process::exit(2)
}

fn parse_options() -> Options {
    let mut o = Options {
        port: 6379,
        mode: String::new(),
        clients: 50,
        requests: 100_000,
        subscribers: 1,
        keyspace: 100_000,
        rate: 0,
        realtime_subscribers: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || -> u64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage())
        };
        match arg.as_str() {
            "--port" => o.port = value() as u16,
            "--clients" => o.clients = value() as usize,
            "--requests" => o.requests = value() as usize,
            "--subscribers" => o.subscribers = value() as usize,
            "--keyspace" => o.keyspace = value().max(1),
            "--rate" => o.rate = value(),
            "--realtime-subscribers" => o.realtime_subscribers = true,
            "multi" | "publish" => o.mode = arg,
            _ => usage(),
        }
    }
    if o.mode.is_empty() || o.clients == 0 || o.requests < o.clients {
        usage();
    }
    o
}

fn main() {
    let o = parse_options();
    let result = match o.mode.as_str() {
        "multi" => run_multi(&o),
        _ => run_publish(&o),
    };
    match result {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("vireo-loadgen: {e}");
            std::process::exit(1);
        }
    }
}

fn connect(port: u16) -> io::Result<TcpStream> {
    let s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    Ok(s)
}

fn command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Reads one line (without CRLF) into `line`; an error reply is an error.
fn read_line(r: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<()> {
    line.clear();
    r.read_until(b'\n', line)?;
    if line.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    line.truncate(line.len().saturating_sub(2));
    if line.first() == Some(&b'-') {
        let msg = String::from_utf8_lossy(line).into_owned();
        return Err(io::Error::other(format!("error reply: {msg}")));
    }
    Ok(())
}

/// xorshift64*: cheap, deterministic per thread.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// Median and 99th percentile, in milliseconds, of latencies in microseconds.
fn percentiles(mut us: Vec<u32>) -> (f64, f64) {
    if us.is_empty() {
        return (0.0, 0.0);
    }
    us.sort_unstable();
    let at = |p: f64| us[((us.len() as f64 * p) as usize).min(us.len() - 1)] as f64 / 1000.0;
    (at(0.50), at(0.99))
}

fn run_multi(o: &Options) -> io::Result<String> {
    let per_client = o.requests / o.clients;
    let barrier = Arc::new(Barrier::new(o.clients + 1));
    let mut threads = Vec::new();
    for id in 0..o.clients {
        let (port, keyspace, barrier) = (o.port, o.keyspace, barrier.clone());
        threads.push(thread::spawn(move || -> io::Result<Vec<u32>> {
            let stream = connect(port)?;
            let mut writer = stream.try_clone()?;
            let mut reader = BufReader::new(stream);
            let mut rng = 0x9e37_79b9_7f4a_7c15 ^ (id as u64 + 1);
            let mut latencies = Vec::with_capacity(per_client);
            let (mut out, mut line) = (Vec::new(), Vec::new());
            barrier.wait();
            for _ in 0..per_client {
                let key = format!("counter:{:012}", next_random(&mut rng) % keyspace);
                out.clear();
                command(&mut out, &[b"MULTI"]);
                command(&mut out, &[b"INCR", key.as_bytes()]);
                command(&mut out, &[b"EXEC"]);
                let start = Instant::now();
                writer.write_all(&out)?;
                // +OK, +QUEUED, *1, :n
                for _ in 0..4 {
                    read_line(&mut reader, &mut line)?;
                }
                latencies.push(start.elapsed().as_micros() as u32);
            }
            Ok(latencies)
        }));
    }
    barrier.wait();
    let start = Instant::now();
    let mut all = Vec::with_capacity(o.requests);
    for t in threads {
        all.extend(t.join().expect("a client thread")?);
    }
    let secs = start.elapsed().as_secs_f64();
    let done = all.len();
    let (p50, p99) = percentiles(all);
    Ok(format!(
        "{{\"test\":\"MULTI_INCR_EXEC\",\"requests\":{done},\"rps\":{:.1},\"p50_ms\":{p50:.3},\"p99_ms\":{p99:.3}}}",
        done as f64 / secs
    ))
}

/// Message payloads are two times in nanoseconds since `epoch`, each `STAMP_DIGITS`
/// digits: when the message was due (the send time in the closed loop), then when its
/// PUBLISH was written. Fixed width, so every message frame has the same length and a
/// subscriber reads frames by size.
const STAMP_DIGITS: usize = 16;
const STAMP_WIDTH: usize = 2 * STAMP_DIGITS;

fn stamp(due: u64, sent: u64) -> String {
    format!("{due:0w$}{sent:0w$}", w = STAMP_DIGITS)
}

/// The (due, sent) times of a message's payload.
fn parse_stamp(payload: &[u8]) -> Option<(u64, u64)> {
    let number = |digits: &[u8]| std::str::from_utf8(digits).ok()?.parse().ok();
    let (due, sent) = payload.split_at_checked(STAMP_DIGITS)?;
    Some((number(due)?, number(sent)?))
}

/// Puts the calling thread in the real-time class `SCHED_FIFO` at the lowest priority: it
/// then runs as soon as it wakes, ahead of every normal thread on its CPU. False if the
/// process may not (no CAP_SYS_NICE, or an RLIMIT_RTPRIO of 0).
fn realtime_thread() -> bool {
    let param = libc::sched_param { sched_priority: 1 };
    // SAFETY: sched_setscheduler reads `param` and changes only the calling thread (pid 0).
    unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) == 0 }
}

fn run_publish(o: &Options) -> io::Result<String> {
    let channel = b"bench:fanout";
    let per_client = o.requests / o.clients;
    let total = per_client * o.clients;
    let epoch = Instant::now();
    let failed = Arc::new(AtomicBool::new(false));
    let fifo = Arc::new(AtomicBool::new(o.realtime_subscribers));
    // Subscribers first: each must be subscribed before the first publish.
    let ready = Arc::new(Barrier::new(o.subscribers + 1));
    let mut subscribers = Vec::new();
    for _ in 0..o.subscribers {
        let (port, ready, failed, fifo) = (o.port, ready.clone(), failed.clone(), fifo.clone());
        subscribers.push(thread::spawn(move || -> io::Result<Latencies> {
            let result = (|| {
                let mut stream = connect(port)?;
                let mut out = Vec::new();
                command(&mut out, &[b"SUBSCRIBE", channel]);
                stream.write_all(&out)?;
                let mut reader = BufReader::with_capacity(1 << 16, stream);
                let mut line = Vec::new();
                // *3, $9, subscribe, $N, channel, :1
                for _ in 0..6 {
                    read_line(&mut reader, &mut line)?;
                }
                if fifo.load(Ordering::Relaxed) && !realtime_thread() {
                    fifo.store(false, Ordering::Relaxed);
                }
                ready.wait();
                let frame_len = message_frame_len(channel.len());
                let mut frame = vec![0u8; frame_len];
                let mut latencies = Latencies::with_capacity(total);
                for _ in 0..total {
                    reader.read_exact(&mut frame)?;
                    let (due, sent) =
                        parse_stamp(&frame[frame_len - 2 - STAMP_WIDTH..frame_len - 2])
                            .ok_or_else(|| io::Error::other("a malformed message frame"))?;
                    let now = epoch.elapsed().as_nanos() as u64;
                    let us = |since: u64| (now.saturating_sub(since) / 1000) as u32;
                    latencies.from_sent.push(us(sent));
                    latencies.from_due.push(us(due));
                }
                Ok(latencies)
            })();
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
                ready.wait();
            }
            result
        }));
    }
    ready.wait();
    if failed.load(Ordering::Relaxed) {
        return Err(io::Error::other("a subscriber failed to subscribe"));
    }
    let start = Instant::now();
    let mut publishers = Vec::new();
    for i in 0..o.clients {
        let port = o.port;
        let schedule = Schedule::new(o.rate, o.clients, i, start);
        publishers.push(thread::spawn(move || -> io::Result<()> {
            let stream = connect(port)?;
            let mut writer = stream.try_clone()?;
            let mut reader = BufReader::new(stream);
            let (mut out, mut line) = (Vec::new(), Vec::new());
            for k in 0..per_client {
                let sent_at = match &schedule {
                    Some(s) => s.wait_for(k),
                    None => Instant::now(),
                };
                let stamp = stamp(
                    sent_at.duration_since(epoch).as_nanos() as u64,
                    epoch.elapsed().as_nanos() as u64,
                );
                out.clear();
                command(&mut out, &[b"PUBLISH", channel, stamp.as_bytes()]);
                writer.write_all(&out)?;
                read_line(&mut reader, &mut line)?;
            }
            Ok(())
        }));
    }
    for p in publishers {
        p.join().expect("a publisher thread")?;
    }
    let secs = start.elapsed().as_secs_f64();
    let mut all = Latencies::with_capacity(total * o.subscribers);
    for s in subscribers {
        let l = s.join().expect("a subscriber thread")?;
        all.from_sent.extend(l.from_sent);
        all.from_due.extend(l.from_due);
    }
    let delivered = all.from_sent.len();
    let (p50, p99) = percentiles(all.from_sent);
    let (due_p50, due_p99) = percentiles(all.from_due);
    Ok(format!(
        "{{\"test\":\"PUBLISH_{}\",\"requests\":{total},\"rps\":{:.1},\"delivered\":{delivered},\"p50_ms\":{p50:.3},\"p99_ms\":{p99:.3},\"due_p50_ms\":{due_p50:.3},\"due_p99_ms\":{due_p99:.3},\"subscribers_fifo\":{}}}",
        o.subscribers,
        total as f64 / secs,
        fifo.load(Ordering::Relaxed),
    ))
}

/// What a subscriber measured per message, in microseconds: since its PUBLISH was written,
/// and since it was due (the same in the closed loop).
struct Latencies {
    from_sent: Vec<u32>,
    from_due: Vec<u32>,
}

impl Latencies {
    fn with_capacity(n: usize) -> Latencies {
        Latencies {
            from_sent: Vec::with_capacity(n),
            from_due: Vec::with_capacity(n),
        }
    }
}

/// When one publisher of an open-loop run sends its messages: `clients` publishers share
/// `rate` publishes per second, each at `rate / clients` per second, their phases spread
/// evenly over one interval so that the server sees a steady stream rather than bursts.
struct Schedule {
    first: Instant,
    interval: Duration,
}

impl Schedule {
    fn new(rate: u64, clients: usize, index: usize, start: Instant) -> Option<Schedule> {
        if rate == 0 {
            return None;
        }
        let interval = Duration::from_secs_f64(clients as f64 / rate as f64);
        let phase = interval.mul_f64(index as f64 / clients as f64);
        Some(Schedule {
            first: start + phase,
            interval,
        })
    }

    /// Sleeps until message `k` is due and returns when it was due (not when the sleep
    /// ended: a late sender's delay counts against the latency, not for it).
    fn wait_for(&self, k: usize) -> Instant {
        let due = self.first + self.interval.mul_f64(k as f64);
        let now = Instant::now();
        if due > now {
            thread::sleep(due - now);
        }
        due
    }
}

/// `*3\r\n$7\r\nmessage\r\n$<n>\r\n<channel>\r\n$32\r\n<stamp>\r\n`
fn message_frame_len(channel_len: usize) -> usize {
    let bulk = |n: usize| 1 + n.to_string().len() + 2 + n + 2;
    4 + bulk(7) + bulk(channel_len) + bulk(STAMP_WIDTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_length_matches_the_encoding() {
        let mut frame = Vec::new();
        command(
            &mut frame,
            &[b"message", b"bench:fanout", &[b'0'; STAMP_WIDTH]],
        );
        assert_eq!(frame.len(), message_frame_len(12));
    }

    #[test]
    fn stamps_round_trip() {
        let s = stamp(12, 9_876_543_210);
        assert_eq!(s.len(), STAMP_WIDTH);
        assert_eq!(parse_stamp(s.as_bytes()), Some((12, 9_876_543_210)));
        assert_eq!(parse_stamp(b"12"), None);
        assert_eq!(parse_stamp(&[b'x'; STAMP_WIDTH]), None);
    }

    #[test]
    fn percentiles_of_known_values() {
        let us: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentiles(us), (51.0, 100.0));
    }

    #[test]
    fn schedule_spreads_publishers_over_one_interval() {
        let start = Instant::now();
        assert!(Schedule::new(0, 4, 0, start).is_none());
        // 4 publishers sharing 1000/s: each sends every 4 ms, 1 ms apart from the next.
        let s1 = Schedule::new(1000, 4, 1, start).unwrap();
        let s3 = Schedule::new(1000, 4, 3, start).unwrap();
        assert_eq!(s1.interval, Duration::from_millis(4));
        assert_eq!(s1.first - start, Duration::from_millis(1));
        assert_eq!(s3.first - start, Duration::from_millis(3));
        // A message already due is not waited for, and its due time is what it reports.
        let late = Schedule::new(1000, 4, 0, start - Duration::from_secs(1)).unwrap();
        assert_eq!(
            late.wait_for(2),
            start - Duration::from_secs(1) + Duration::from_millis(8)
        );
    }
}
