//! Splitting a redis.conf line into arguments, and quoting arguments back.
//!
//! The rules are Redis's: arguments are separated by blanks; `"double quotes"` understand
//! `\n \r \t \b \a \\ \"` and `\xHH` escapes; `'single quotes'` only `\'`; a closing quote must
//! be followed by a blank or the end of the line. Lines are byte strings because a value
//! (a password, a file name) may hold any byte.

/// Splits `line` into arguments, or `None` when quotes are unbalanced (or a closing quote is
/// glued to the next word).
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_blank(line[i]) {
            i += 1;
        }
        if i == line.len() {
            return Some(args);
        }
        let mut current = Vec::new();
        match line[i] {
            b'"' => i = read_double_quoted(line, i + 1, &mut current)?,
            b'\'' => i = read_single_quoted(line, i + 1, &mut current)?,
            _ => {
                while i < line.len() && !is_blank(line[i]) {
                    current.push(line[i]);
                    i += 1;
                }
            }
        }
        args.push(current);
    }
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

/// Reads up to the closing `"`; returns the index after it.
fn read_double_quoted(line: &[u8], mut i: usize, out: &mut Vec<u8>) -> Option<usize> {
    loop {
        match *line.get(i)? {
            b'\\'
                if i + 3 < line.len()
                    && line[i + 1] == b'x'
                    && line[i + 2].is_ascii_hexdigit()
                    && line[i + 3].is_ascii_hexdigit() =>
            {
                out.push(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3]));
                i += 4;
            }
            b'\\' if i + 1 < line.len() => {
                out.push(match line[i + 1] {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'b' => 0x08,
                    b'a' => 0x07,
                    other => other,
                });
                i += 2;
            }
            b'"' => return after_closing_quote(line, i + 1),
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
}

/// Reads up to the closing `'`; returns the index after it.
fn read_single_quoted(line: &[u8], mut i: usize, out: &mut Vec<u8>) -> Option<usize> {
    loop {
        match *line.get(i)? {
            b'\\' if line.get(i + 1) == Some(&b'\'') => {
                out.push(b'\'');
                i += 2;
            }
            b'\'' => return after_closing_quote(line, i + 1),
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
}

fn after_closing_quote(line: &[u8], i: usize) -> Option<usize> {
    match line.get(i) {
        None => Some(i),
        Some(&b) if is_blank(b) => Some(i),
        Some(_) => None,
    }
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

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
