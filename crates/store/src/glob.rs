//! Glob-style pattern matching with the semantics of Redis's `stringmatchlen`, used by KEYS,
//! SCAN MATCH, CONFIG GET, PSUBSCRIBE and ACL key patterns.
//!
//! Supported: `*` (any run), `?` (one byte), `[abc]`, `[^abc]`, `[a-z]` (ranges may be given
//! backwards), and `\x` to match `x` literally, inside or outside a class. Matching is on bytes.
//! A trailing lone `\` matches a literal backslash, and an unterminated `[` class ends at the
//! end of the pattern, as in Redis. Redis's quirks are kept, because users' patterns rely on
//! whatever Redis does: inside a class any `x-y` with three bytes left is a range (so `[a-]`
//! is the range `]`..`a` and the class runs on), an escaped byte in a class is compared
//! case-sensitively even with `nocase`, and a backwards range is swapped before folding.
//!
//! Work is bounded without a step budget: when the rest of a pattern after `*` fails at
//! every position of the remaining string, no earlier `*` can help by matching more, so
//! the whole match fails at once (Redis's "skip longer matches").

/// Does `string` match `pattern`? `nocase` folds ASCII case on both sides.
///
/// As in Redis, an empty string matches only the empty pattern — not even `*`. (KEYS and SCAN
/// find the empty key through their own "every key" shortcut for a lone `*`.)
pub fn string_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    if string.is_empty() {
        return pattern.is_empty();
    }
    matches(pattern, string, nocase) == Match::Yes
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Match {
    Yes,
    No,
    /// The rest of the string can never match: every shorter suffix fails too.
    Never,
}

fn fold(b: u8, nocase: bool) -> u8 {
    if nocase {
        b.to_ascii_lowercase()
    } else {
        b
    }
}

fn matches(mut p: &[u8], mut s: &[u8], nocase: bool) -> Match {
    while let Some(&pc) = p.first() {
        match pc {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return Match::Yes;
                }
                // Like Redis, the rest of the pattern is tried against non-empty suffixes
                // only; a consumed string is handled below by the trailing-star rule.
                for start in 0..s.len() {
                    match matches(&p[1..], &s[start..], nocase) {
                        Match::Yes => return Match::Yes,
                        Match::Never => return Match::Never,
                        Match::No => {}
                    }
                }
                return Match::Never;
            }
            b'?' => {
                if s.is_empty() {
                    return Match::No;
                }
                s = &s[1..];
                p = &p[1..];
            }
            b'[' => {
                let Some(&c) = s.first() else {
                    return Match::No;
                };
                let (hit, rest) = match_class(&p[1..], c, nocase);
                if !hit {
                    return Match::No;
                }
                p = rest;
                s = &s[1..];
            }
            b'\\' if p.len() >= 2 => {
                if s.first().map(|&c| fold(c, nocase)) != Some(fold(p[1], nocase)) {
                    return Match::No;
                }
                p = &p[2..];
                s = &s[1..];
            }
            _ => {
                if s.first().map(|&c| fold(c, nocase)) != Some(fold(pc, nocase)) {
                    return Match::No;
                }
                p = &p[1..];
                s = &s[1..];
            }
        }
    }
    if s.is_empty() {
        Match::Yes
    } else {
        Match::No
    }
}

/// Matches byte `c` against the class starting just after `[`; returns whether it matched
/// and the pattern after the closing `]` (or the empty rest if the class is unterminated).
fn match_class(mut p: &[u8], c: u8, nocase: bool) -> (bool, &[u8]) {
    let negate = p.first() == Some(&b'^');
    if negate {
        p = &p[1..];
    }
    let raw = c;
    let c = fold(c, nocase);
    let mut hit = false;
    loop {
        match p {
            [] => break,
            [b']', rest @ ..] => {
                p = rest;
                break;
            }
            [b'\\', x, rest @ ..] => {
                hit |= *x == raw;
                p = rest;
            }
            [lo, b'-', hi, rest @ ..] => {
                let (lo, hi) = if lo <= hi { (*lo, *hi) } else { (*hi, *lo) };
                hit |= (fold(lo, nocase)..=fold(hi, nocase)).contains(&c);
                p = rest;
            }
            [x, rest @ ..] => {
                hit |= fold(*x, nocase) == c;
                p = rest;
            }
        }
    }
    (hit != negate, p)
}

#[cfg(test)]
mod tests {
    use super::string_match;

    fn m(p: &str, s: &str) -> bool {
        string_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        assert!(m("*", "x"));
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hbllo"));
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("user:*:name", "user:42:name"));
        assert!(!m("abc", "abcd"));
        assert!(m("[\\]]", "]"));
        assert!(!m("a[", "a"));
    }

    #[test]
    fn redis_quirks() {
        // `a-]` is a range from `]` to `a`, and the class runs to the end of the pattern.
        assert!(m("[a-]", "]"));
        assert!(m("[a-]x", "]"));
        assert!(m("[a-]", "_"));
        // An escaped byte inside a class is compared case-sensitively, even with nocase.
        assert!(!string_match(b"[\\M]axmemory", b"maxmemory", true));
        // A backwards range is swapped, then folded: [l-N] is N..l, i.e. n..l folded: empty.
        assert!(!string_match(b"[l-N]axmemory", b"maxmemory", true));
    }

    #[test]
    fn empty_string_matches_only_the_empty_pattern() {
        assert!(m("", ""));
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(!m("a*b", "a"));
    }

    #[test]
    fn long_strings_match() {
        let mut key = vec![b'a'; 1_500_000];
        key.push(b'b');
        assert!(string_match(b"*b", &key, false));
        assert!(!string_match(b"*c", &key, false));
    }

    #[test]
    fn nocase() {
        assert!(string_match(b"MAXMEM*", b"maxmemory", true));
        assert!(string_match(b"[A-C]x", b"bX", true));
    }

    #[test]
    fn pathological_pattern_terminates() {
        let s = "a".repeat(10_000);
        assert!(!m("a*a*a*a*a*a*a*a*a*a*b", &s));
    }
}
