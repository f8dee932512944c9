//! Glob-style pattern matching with the semantics of Redis's `stringmatchlen`, used by KEYS,
//! SCAN MATCH, CONFIG GET, PSUBSCRIBE and ACL key patterns.
//!
//! Supported: `*` (any run), `?` (one byte), `[abc]`, `[^abc]`, `[a-z]` (ranges may be given
//! backwards), and `\x` to match `x` literally, inside or outside a class. Matching is on bytes.
//! A trailing lone `\` matches a literal backslash, and an unterminated `[` class ends at the
//! end of the pattern, as in Redis.

/// Does `string` match `pattern`? `nocase` folds ASCII case on both sides.
pub fn string_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    // Nested `*` runs are bounded by a budget, so pathological patterns such as "a*a*a*a*b"
    // against long strings cannot make matching exponential.
    let mut budget: u32 = 1_000_000;
    matches(pattern, string, nocase, &mut budget) == Match::Yes
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

fn matches(mut p: &[u8], mut s: &[u8], nocase: bool, budget: &mut u32) -> Match {
    while let Some(&pc) = p.first() {
        match pc {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return Match::Yes;
                }
                for start in 0..=s.len() {
                    if *budget == 0 {
                        return Match::Never;
                    }
                    *budget -= 1;
                    match matches(&p[1..], &s[start..], nocase, budget) {
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
                hit |= fold(*x, nocase) == c;
                p = rest;
            }
            [lo, b'-', hi, rest @ ..] if *hi != b']' => {
                let (mut lo, mut hi) = (fold(*lo, nocase), fold(*hi, nocase));
                if lo > hi {
                    std::mem::swap(&mut lo, &mut hi);
                }
                hit |= (lo..=hi).contains(&c);
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
        assert!(m("*", ""));
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
        assert!(m("a[", "a") == false);
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
