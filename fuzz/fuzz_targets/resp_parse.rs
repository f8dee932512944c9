//! Arbitrary bytes, cut into arbitrary reads, through `RequestParser` with arbitrary limits.
//!
//! Besides "never panics, never loops", it checks what the connection loop relies on:
//! commands are never empty, arguments come out of consumed bytes only, a parser waiting for
//! more bytes holds no more than the limits allow and stays put when asked again, and the way
//! the input was cut into reads changes nothing (inputs here are far below the 64 KB limit,
//! the one place where Redis's outcome, too, depends on read boundaries).
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use vireo_resp::parse::INLINE_MAX_SIZE;
use vireo_resp::{Limits, ProtocolError, RequestParser};

#[derive(Arbitrary, Debug)]
struct Input {
    /// `proto-max-bulk-len`: small values reach the limit checks, 0 means the default.
    max_bulk_len: u8,
    authenticated: bool,
    /// Sizes of the successive reads (cycled); empty means one read.
    reads: Vec<u8>,
    data: Vec<u8>,
}

#[derive(Debug, PartialEq)]
struct Outcome {
    commands: Vec<Vec<Vec<u8>>>,
    error: Option<ProtocolError>,
    left: usize,
}

fn feed(input: &[u8], reads: &[u8], limits: Limits) -> Outcome {
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut out = Outcome {
        commands: Vec::new(),
        error: None,
        left: 0,
    };
    let mut rest = input;
    let mut arg_bytes = 0usize;
    let mut sizes = reads.iter().map(|&n| n as usize).cycle();
    'read: while !rest.is_empty() {
        let n = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        loop {
            match parser.parse(&mut buf, limits) {
                Ok(Some(args)) => {
                    assert!(!args.is_empty(), "a command without arguments");
                    arg_bytes += args.iter().map(|a| a.len()).sum::<usize>();
                    let consumed = input.len() - rest.len() - buf.len();
                    assert!(arg_bytes < consumed, "arguments from bytes not consumed");
                    out.commands.push(args.iter().map(|a| a.to_vec()).collect());
                    parser.recycle(args);
                }
                Ok(None) => {
                    let wanted = parser.bytes_wanted(buf.len());
                    if wanted == 0 {
                        assert!(
                            buf.len() <= INLINE_MAX_SIZE || buf.last() == Some(&b'\r'),
                            "waiting on {} bytes without a bulk",
                            buf.len()
                        );
                    } else {
                        assert!((buf.len() + wanted) as i64 <= limits.max_bulk_len + 2);
                    }
                    let len = buf.len();
                    assert_eq!(parser.parse(&mut buf, limits), Ok(None));
                    assert_eq!(buf.len(), len);
                    break;
                }
                Err(e) => {
                    // Every error renders as one reply line.
                    let text = e.reply_text();
                    assert!(text.starts_with(b"ERR Protocol error: "));
                    out.error = Some(e);
                    break 'read;
                }
            }
        }
    }
    out.left = buf.len() + rest.len();
    out
}

fuzz_target!(|input: Input| {
    let limits = Limits {
        max_bulk_len: match input.max_bulk_len {
            0 => 512 * 1024 * 1024,
            n => n as i64 - 1,
        },
        authenticated: input.authenticated,
    };
    let whole = feed(&input.data, &[], limits);
    let chunked = feed(&input.data, &input.reads, limits);
    if input.data.len() <= INLINE_MAX_SIZE {
        assert_eq!(whole, chunked);
    }
});
