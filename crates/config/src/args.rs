//! Splitting a redis.conf line into arguments, and quoting arguments back.
//!
//! The rules are Redis's: arguments are separated by blanks; `"double quotes"` understand
//! `\n \r \t \b \a \\ \"` and `\xHH` escapes; `'single quotes'` only `\'`; a closing quote must
//! be followed by a blank or the end of the line. Lines are byte strings because a value
//! (a password, a file name) may hold any byte.

/// Splits `line` into arguments, or `None` when quotes are unbalanced (or a closing quote is
/// glued to the next word). The same splitter reads inline commands on the wire.
pub use vireo_resp::split_args;

/// Quotes `arg` in double quotes the way Redis writes strings back (CONFIG REWRITE, error
/// lines for command-line options): printable bytes as is, the usual escapes, `\xHH` otherwise.
pub fn quote(arg: &[u8]) -> String {
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('"');
    for &b in arg {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(s: &str) -> Option<Vec<String>> {
        split_args(s.as_bytes()).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8(a).unwrap())
                .collect()
        })
    }

    #[test]
    fn plain_words() {
        assert_eq!(split("  save 900   1 ").unwrap(), ["save", "900", "1"]);
        assert_eq!(split("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn double_quotes_and_escapes() {
        assert_eq!(
            split(r#"a "b c" "\x41\n\"""#).unwrap(),
            ["a", "b c", "A\n\""]
        );
        assert_eq!(split(r#""""#).unwrap(), [""]);
        // An incomplete \x escape is taken literally.
        assert_eq!(split(r#""\x4""#).unwrap(), ["x4"]);
    }

    #[test]
    fn single_quotes() {
        assert_eq!(
            split(r"'a b' 'it\'s' '\n'").unwrap(),
            ["a b", "it's", "\\n"]
        );
    }

    #[test]
    fn unbalanced_quotes() {
        assert_eq!(split(r#""unterminated"#), None);
        assert_eq!(split("'x"), None);
        assert_eq!(split(r#""a\x41b" 'c'd"#), None);
        assert_eq!(split(r#""a"b"#), None);
    }

    #[test]
    fn quote_escapes() {
        assert_eq!(quote(b"p w\""), r#""p w\"""#);
        assert_eq!(quote(b"\x01\xff\n"), r#""\x01\xff\n""#);
    }

    proptest! {
        #[test]
        fn quote_then_split_round_trips(args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 0..6)) {
            let line = args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ");
            prop_assert_eq!(split_args(line.as_bytes()), Some(args));
        }

        #[test]
        fn split_never_panics(line in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = split_args(&line);
        }
    }
}
