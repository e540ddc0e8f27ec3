//! Checksum and structure validators that pattern rules can name with
//! `validate = "…"`. Each takes the matched text (separators included) and
//! says whether it is a plausible value of its kind.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

fn digits(s: &str) -> Vec<u32> {
    s.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// The Luhn (mod 10) check used by payment card numbers. Non-digits are
/// ignored; fewer than 12 digits never validate.
pub(crate) fn luhn(s: &str) -> bool {
    let digits = digits(s);
    if digits.len() < 12 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

/// A payment card number: Luhn, a length of 12 to 19 digits, consistent
/// separators, and an issuer range (Visa, Mastercard incl. 2-series, Amex,
/// Discover, Diners, JCB, UnionPay, Maestro, Mir) whose lengths fit.
pub(crate) fn card(s: &str) -> bool {
    let d = digits(s);
    let n = d.len();
    if !(12..=19).contains(&n) || !luhn(s) {
        return false;
    }
    // Mixed separators ("4111-1111 1111.1111") are not how cards are written.
    let seps: Vec<char> = s.chars().filter(|c| !c.is_ascii_digit()).collect();
    if seps.windows(2).any(|w| w[0] != w[1]) {
        return false;
    }
    let prefix = |k: usize| d.iter().take(k).fold(0u32, |a, &x| a * 10 + x);
    let (p1, p2, p3, p4, p6) = (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6));
    match p1 {
        4 => matches!(n, 13 | 16 | 19),
        5 => (51..=55).contains(&p2) && n == 16 || matches!(p2, 50 | 56..=58) && (12..=19).contains(&n),
        2 => {
            // Mastercard 2-series, Mir, and the old 15-digit JCB.
            ((2221..=2720).contains(&p4) || (2200..=2204).contains(&p4)) && n == 16 || p4 == 2131 && n == 15
        }
        3 => {
            (matches!(p2, 34 | 37) && n == 15)
                || ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && (14..=19).contains(&n)
                // JCB (3528-3589 officially; issuers and test generators use all of 35xx).
                || p2 == 35 && (16..=19).contains(&n)
        }
        6 => {
            p4 == 6011
                || p2 == 65
                || (644..=649).contains(&p3)
                || (622126..=622925).contains(&p6)
                || p2 == 62
                || p2 == 60
                || p2 == 63
                || p2 == 67
        }
        1 => p4 == 1800 && n == 15,
        // Maestro UK (0604).
        0 => p4 == 604,
        _ => false,
    }
}

/// IBAN lengths by country (ISO 13616 registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// The IBAN check (ISO 13616): known country, its length, and mod 97 = 1.
/// Spaces and dashes are ignored.
pub(crate) fn iban(s: &str) -> bool {
    let chars: Vec<char> =
        s.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    if chars.len() < 15 || chars.len() > 34 || !chars[..2].iter().all(char::is_ascii_alphabetic) {
        return false;
    }
    let country: String = chars[..2].iter().collect();
    match IBAN_LENGTHS.iter().find(|(c, _)| *c == country) {
        Some(&(_, len)) if len == chars.len() => {}
        _ => return false,
    }
    let mut rem: u32 = 0;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        let v = if c.is_ascii_digit() { c as u32 - '0' as u32 } else { c as u32 - 'A' as u32 + 10 };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

/// A US social security number: area not 000, 666 or 9xx; group not 00;
/// serial not 0000; and not a well-known advertising number.
pub(crate) fn ssn(s: &str) -> bool {
    let d = digits(s);
    if d.len() != 9 {
        return false;
    }
    let num = |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |a, &x| a * 10 + x);
    let (area, group, serial) = (num(0..3), num(3..5), num(5..9));
    let all_same = d.iter().all(|&x| x == d[0]);
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !all_same
        && !matches!(num(0..9), 78_051_120 | 219_099_999 | 123_456_789)
}

/// A dotted-quad IPv4 address with no leading zeros.
pub(crate) fn ipv4(s: &str) -> bool {
    s.parse::<Ipv4Addr>().is_ok()
}

/// An IPv6 address, optionally with a `%zone` (`fe80::1%eth0`) or a
/// `/prefix` length up to 128 (`2001:db8::/32`), not the bare `::`.
/// "a::b" is valid IPv6 but far more often C++ or Rust scope syntax, so a
/// compressed address needs three groups, or two when the first is a full
/// four-digit group with a digit in it (`fe80::1`, `ff02::1`, `2001::`); the
/// loopback `::1` and IPv4-mapped forms (`::ffff:192.0.2.1`) always pass.
pub(crate) fn ipv6(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    if prefix.is_some_and(|p| !p.parse::<u8>().is_ok_and(|n| n <= 128) || p.starts_with('0') && p != "0") {
        return false;
    }
    let addr = addr.split('%').next().unwrap_or(addr);
    let Ok(ip) = addr.parse::<Ipv6Addr>() else { return false };
    let groups: Vec<&str> = addr.split(':').filter(|g| !g.is_empty()).collect();
    let full_first = groups
        .first()
        .is_some_and(|g| g.len() == 4 && g.bytes().any(|b| b.is_ascii_digit()) && !addr.starts_with(':'));
    (!ip.is_unspecified() || prefix.is_some())
        && (groups.len() >= 3 || addr == "::1" || addr.contains('.') || (groups.len() == 2 && full_first))
}

/// Shannon entropy (bits per character) of `s`.
pub(crate) fn shannon(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / f64::from(n);
            -p * p.log2()
        })
        .sum()
}

/// Words that mark a value as a stand-in (`rules/dict/placeholder-words.txt`),
/// lower-case.
fn placeholder_words() -> &'static [String] {
    static WORDS: OnceLock<Vec<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        include_str!("../../../../rules/dict/placeholder-words.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_ascii_lowercase)
            .collect()
    })
}

/// Template and elision marks: `<YOUR_TOKEN>`, `${API_KEY}`, `{{ vault }}`,
/// `%(TOKEN)s`, `MIIE...`, `********`. A generated key holds none of them.
const TEMPLATE_MARKS: &[&str] = &["<", ">", "{", "}", "${", "$(", "%(", "...", "…", "***"];

/// A placeholder for a credential rather than a credential: a value that
/// names itself one (`your-api-key-here`, `AKIAIOSFODNN7EXAMPLE`), a template
/// or elision (`<YOUR_TOKEN>`, `${API_KEY}`, `MIIE...`), or a body no key
/// generator produces: a run of five identical characters
/// (`ghp_xxxx…`, `AKIAXXXX…`, `T00000000`) or of six consecutive ones
/// (`1234567890abcdef`, `abcdefgh`), or hex digits in both cases (see
/// [`mixed_case_hex`]). Random keys hit the runs with odds of about 1 in
/// 10^3 (hex) to 10^6 (base62) per key.
pub(crate) fn placeholder(s: &str) -> bool {
    if TEMPLATE_MARKS.iter().any(|m| s.contains(m)) || mixed_case_hex(s) {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if placeholder_words().iter().any(|w| lower.contains(w.as_str())) {
        return true;
    }
    let (mut same, mut up, mut down) = (1, 1, 1);
    let mut prev: Option<u8> = None;
    for b in s.bytes() {
        match prev.filter(|_| b.is_ascii_alphanumeric()) {
            Some(p) => {
                same = if b == p { same + 1 } else { 1 };
                up = if b == p.wrapping_add(1) { up + 1 } else { 1 };
                down = if b == p.wrapping_sub(1) { down + 1 } else { 1 };
            }
            None => (same, up, down) = (1, 1, 1),
        }
        if same >= 5 || up >= 6 || down >= 6 {
            return true;
        }
        prev = Some(b).filter(u8::is_ascii_alphanumeric);
    }
    false
}

/// Whether a part of `s` between `_`, `-` and `.` is 16 or more hex digits
/// with upper- and lower-case letters, like GitHub's documentation token
/// `ghp_16C7e42F292c6912E7710c838347Ae178B4a`. Hex that a program writes
/// (digests, keys) keeps one case, and a base62 or base64 body of that
/// length holds a letter past `f` with odds of 1 - (22/62)^16, above
/// 0.99999995: such a body was typed to look like a key.
fn mixed_case_hex(s: &str) -> bool {
    s.split(['_', '-', '.']).any(|p| {
        p.len() >= 16
            && p.bytes().all(|b| b.is_ascii_hexdigit())
            && p.bytes().any(|b| b.is_ascii_uppercase())
            && p.bytes().any(|b| b.is_ascii_lowercase())
    })
}

/// The words of an identifier-shaped value, by part: the parts are split
/// at `_`, `-` and `.`, a part into words where a capital starts one
/// (`getApiKey`; `HTTPPassword` is `HTTP`, `Password`). `None` when a part
/// is not ASCII letters with an optional number at its end (`9f8A7s`,
/// `sha256Sum`, `AKIABKV4YKADEJNOBBUN`, `Tr0ub4dor&3`): random keys put
/// digits anywhere, names seldom between words.
fn words(s: &str) -> Option<Vec<Vec<&str>>> {
    let mut parts = Vec::new();
    for part in s.split(['_', '-', '.']).filter(|p| !p.is_empty()) {
        let letters = part.trim_end_matches(|c: char| c.is_ascii_digit());
        let b = letters.as_bytes();
        if b.is_empty() || !b.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let start = i;
            while i < b.len() && b[i].is_ascii_uppercase() {
                i += 1;
            }
            if i - start > 1 && i < b.len() {
                i -= 1; // a lower-case letter follows: the last capital starts the next word
            } else {
                while i < b.len() && b[i].is_ascii_lowercase() {
                    i += 1;
                }
            }
            out.push(&letters[start..i]);
        }
        parts.push(out);
    }
    Some(parts)
}

/// Whether a lower-case word reads as one: it has a vowel and no run of
/// five consonants (`startswith` has four).
fn reads_as_word(w: &str) -> bool {
    let vowel = |b: &u8| b"aeiouy".contains(&b.to_ascii_lowercase());
    w.as_bytes().iter().any(vowel) && !w.as_bytes().split(vowel).any(|run| run.len() >= 5)
}

/// A name rather than a value: two or more words, three letters long on
/// average, of which at most a quarter are weak (`get_api_key`,
/// `CamelCaseClass`, `process.env.OPENAI_API_KEY`, `urllib.request.HTTPPasswordMgr`).
/// A word is weak when it does not [read as one](reads_as_word), when it is
/// one letter in a part of several words, or when it is a second upper-case
/// run, or one of five letters or more, in a part that also has lower case
/// (`HTTP` in `HTTPPassword` is an acronym; `cRsIEPcFsOebZu…` is not a
/// name). Random mixed-case letters fall into short pieces and capital runs
/// like those, so few random keys pass for names: about 1 in 800 Hugging
/// Face tokens (34 letters), 1 in 150 behind `api_org_` (whose two words
/// read as words), 1 in 70 values of 20 letters, fewer with digits (see
/// `random_keys_are_seldom_rejected`), while about 19 in 20 of the dotted
/// and compound identifiers of Python's standard library are names.
fn name_shaped(s: &str) -> bool {
    let Some(parts) = words(s) else { return false };
    let (mut n, mut weak, mut letters) = (0, 0, 0);
    for part in &parts {
        let has = |f: fn(&u8) -> bool| part.iter().any(|w| w.as_bytes().iter().any(f));
        let mixed = has(u8::is_ascii_lowercase) && has(u8::is_ascii_uppercase);
        let mut acronyms = 0;
        for &l in part {
            n += 1;
            letters += l.len();
            let is_weak = if l.len() == 1 {
                part.len() > 1
            } else if mixed && l.bytes().all(|b| b.is_ascii_uppercase()) {
                acronyms += 1;
                acronyms > 1 || l.len() > 4
            } else {
                !reads_as_word(l)
            };
            weak += usize::from(is_weak);
        }
    }
    n >= 2 && weak * 4 <= n && letters >= 3 * n
}

/// A file path or URL: `/etc/ssl/private/server.key`, `./config/x.yaml`,
/// `projects/p/secrets/db/versions/latest`, `https://…`: every `/`-part is
/// a name or a number (a base64 value's parts are not). Also the rest of a
/// URL after its user information (`ghp_…@github.com/org/repo.git` after
/// `https://x-access-token:`): the value ran on over the host, and the
/// token before the `@` is a value of its own (for its provider's rule and
/// `pii-url-credentials`).
fn path_shaped(s: &str) -> bool {
    if s.contains("://") || host_tail(s) {
        return true;
    }
    s.contains('/')
        && s.split('/')
            .filter(|p| !matches!(*p, "" | "." | ".." | "~"))
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()) || plain_name(p))
}

/// A path component that is a name: [`words`] (`server.key`,
/// `db-password`, `v2`; not a base64 run like `K7MDENG`) and, where upper
/// and lower case mix, [name-shaped](name_shaped) (`MyProject`, not
/// `bPxRfiCYzQ`).
fn plain_name(p: &str) -> bool {
    let Some(parts) = words(p) else { return false };
    let mixed = p.bytes().any(|b| b.is_ascii_lowercase()) && p.bytes().any(|b| b.is_ascii_uppercase());
    !mixed || parts.iter().all(|ws| ws.len() == 1) || name_shaped(p)
}

/// Whether `s` ends in `@` and a host name (two or more dot-separated
/// labels, the last of letters only) with an optional `:port` or `/path`.
fn host_tail(s: &str) -> bool {
    let Some((_, rest)) = s.rsplit_once('@') else { return false };
    let host = rest.split([':', '/']).next().unwrap_or(rest);
    let labels: Vec<&str> = host.split('.').collect();
    let label = |l: &&str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    labels.len() >= 2
        && labels.iter().all(label)
        && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
}

/// The base64 body of a PEM block (armour lines and `Name: value` headers
/// removed, whitespace dropped), or `None` when `s` is not one.
fn pem_body(s: &str) -> Option<String> {
    let rest = s.strip_prefix("-----BEGIN ")?;
    let body = &rest[rest.find("-----")? + 5..];
    let body = &body[..body.rfind("-----END ")?];
    // The view turns line breaks into spaces: a header ends at its value.
    let mut out = String::new();
    let mut tokens = body.split_whitespace().peekable();
    while let Some(t) = tokens.next() {
        if t.ends_with(':') {
            tokens.next();
        } else {
            out.push_str(t);
        }
    }
    Some(out)
}

/// A secret-looking value: at least 16 characters of at least two classes
/// (lower case, upper case, digits; or upper case alone from 20 characters
/// on with 3.2 bits, as in AWS key ids that drew no digit, of which one in
/// ten has less than 3.5) and 3.0 bits of entropy per character, and not a
/// [`placeholder`], a name (`get_api_key`, `CamelCaseClass`) or a path or
/// URL. For a PEM block, its body must be at least 32 characters of 4.0 bits
/// (real keys carry 5.5–6) with no placeholder marks.
pub(crate) fn entropy(s: &str) -> bool {
    let t = s.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
    if let Some(body) = pem_body(t) {
        // Runs are not judged here: DER encodes zero bytes as `AAAA…`.
        let lower = body.to_ascii_lowercase();
        return body.len() >= 32
            && shannon(&body) >= 4.0
            && !TEMPLATE_MARKS.iter().any(|m| body.contains(m))
            && !placeholder_words().iter().any(|w| lower.contains(w.as_str()));
    }
    let has = |f: fn(&u8) -> bool| t.as_bytes().iter().any(f);
    let (lower, upper, digit) =
        (has(u8::is_ascii_lowercase), has(u8::is_ascii_uppercase), has(u8::is_ascii_digit));
    let classes = [lower, upper, digit].iter().filter(|&&x| x).count();
    let bits = shannon(t);
    let varied = classes >= 2 || (upper && t.len() >= 20 && bits >= 3.2);
    t.len() >= 16 && varied && bits >= 3.0 && !placeholder(t) && !name_shaped(t) && !path_shaped(t)
}

/// A JSON Web Token: three base64url segments whose first decodes to a JSON
/// object naming an `alg`, and whose signature is not a [`placeholder`].
pub(crate) fn jwt(s: &str) -> bool {
    let mut parts = s.split('.');
    let Some(head) = parts.next() else { return false };
    if parts.clone().count() != 2 {
        return false;
    }
    crate::detect::encoded::decode_base64(head.as_bytes())
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|h| h.trim_start().starts_with('{') && h.contains("\"alg\""))
        && !parts.next_back().is_some_and(placeholder)
}

/// The user information of a URL (`user:password`) with a password that is
/// a value, not a template or variable (`${CI_JOB_TOKEN}`, `$TOKEN`,
/// `<password>`, `%(pw)s`), an elision (`****`, `xxxx`) or a stand-in that
/// names itself one (`your-password`). A weak password is still one, so
/// the password needs no entropy.
pub(crate) fn credentials(s: &str) -> bool {
    let Some((_, pw)) = s.split_once(':') else { return false };
    let lower = pw.to_ascii_lowercase();
    let first = pw.chars().next();
    first.is_some()
        && first != Some('$')
        && !pw.chars().all(|c| Some(c) == first)
        && !TEMPLATE_MARKS.iter().any(|m| pw.contains(m))
        && !placeholder_words().iter().any(|w| lower.contains(w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_cards() {
        assert!(luhn("4111 1111 1111 1111"));
        assert!(!luhn("4111 1111 1111 1112"));
        assert!(!luhn("0"));
        for ok in [
            "4111 1111 1111 1111",
            "5555-5555-5555-4444",
            "378282246310005",
            "6011111111111117",
            "30569309025904",
            "3530111333300000",
            "2223003122003222",
        ] {
            assert!(card(ok), "{ok}");
        }
        for bad in ["4111 1111 1111 1112", "4111-1111 1111.1111", "1234567812345670", "9111111111111111"] {
            assert!(!card(bad), "{bad}");
        }
    }

    #[test]
    fn iban_cases() {
        assert!(iban("GB82 WEST 1234 5698 7654 32"));
        assert!(iban("DE89370400440532013000"));
        assert!(iban("FR1969125177852892268018242"));
        assert!(!iban("DE89370400440532013001"));
        assert!(!iban("DE8937040044053201300")); // wrong length for DE
        assert!(!iban("XX89370400440532013000")); // unknown country
    }

    #[test]
    fn ssn_cases() {
        assert!(ssn("330-65-6303"));
        assert!(!ssn("000-12-3456"));
        assert!(!ssn("666-12-3456"));
        assert!(!ssn("912-12-3456"));
        assert!(!ssn("123-00-4567"));
        assert!(!ssn("123-45-0000"));
        assert!(!ssn("078-05-1120"));
    }

    #[test]
    fn ip_cases() {
        assert!(ipv4("192.168.0.1"));
        assert!(!ipv4("256.1.1.1"));
        assert!(!ipv4("01.2.3.4"));
        assert!(ipv6("2001:db8::1"));
        assert!(ipv6("c8d5:7717:9055:a36f:4aa5:f9d4:335f:2f59"));
        assert!(!ipv6("::"));
        assert!(!ipv6("12:30"));
        for ok in
            ["fe80::1", "ff02::1", "::ffff:192.0.2.1", "fe80::1%eth0", "2001:db8::/32", "::1", "2001:db8::1"]
        {
            assert!(ipv6(ok), "{ok}");
        }
        for bad in ["a::b", "dead::beef", "1::2", "2001:db8::/129", "2001:db8::/032", "ab:cd::"] {
            assert!(!ipv6(bad), "{bad}");
        }
    }

    #[test]
    fn placeholders() {
        for p in [
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "AKIAXXXXXXXXXXXXXXXX",
            "AKIAIOSFODNN7EXAMPLE",
            "sk-1234567890abcdef1234567890abcdef",
            "your-api-key-here",
            "<YOUR_TOKEN>",
            "${API_KEY}",
            "MIIE...",
            "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "zyxwvuTSRQ",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        ] {
            assert!(placeholder(p), "{p}");
        }
        for key in [
            "ghp_HS64k2k59yE6752aJg8r9HE60DlgkCplTXJU",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc0000",
            "AKIABKV4YKADEJNOBBUN",
            "86eeb521d3f52fcefcf9e5494f16f6d589e85bcfaef4ef64c257e9acbd0187e2",
            "A881D782969D56514FE253520D3E061D",
        ] {
            assert!(!placeholder(key), "{key}");
        }
        let pem = |body: &str| format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----");
        assert!(!entropy(&pem("...")));
        assert!(!entropy(&pem("")));
        assert!(!entropy(&pem("MIIEpAIBAAKCAQEAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")));
        assert!(entropy(&pem(
            "MIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEAq7BFUpkGp3+LQmlQ\nYx2eqzDV+xeG8kx/sQFV18S5JhzGeIJNA72wSeukEPojtqUyX2J0CciPBh7eqclQ"
        )));
    }

    /// SplitMix64: a fixed stream of pseudo-random numbers for the test.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn string(&mut self, alphabet: &str, n: usize) -> String {
            let a = alphabet.as_bytes();
            (0..n).map(|_| char::from(a[(self.next() % a.len() as u64) as usize])).collect()
        }
    }

    /// Random keys in their providers' shapes pass `entropy` but for a
    /// rejection rate printed here and bounded by what the placeholder runs
    /// and the name test cost (see [`placeholder`] and [`name_shaped`]).
    #[test]
    fn random_keys_are_seldom_rejected() {
        const UP: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        const LO: &str = "abcdefghijklmnopqrstuvwxyz";
        let letters = format!("{UP}{LO}");
        let alnum = format!("{UP}{LO}0123456789");
        let cases: [(&str, &str, String, usize, f64); 9] = [
            ("aws key id", "AKIA", format!("{UP}234567"), 16, 0.001),
            ("hf", "hf_", letters.clone(), 34, 0.002),
            ("api_org", "api_org_", letters.clone(), 34, 0.015),
            ("ghp", "ghp_", alnum.clone(), 36, 0.001),
            ("aws secret", "", format!("{alnum}/+"), 40, 0.002),
            ("hex", "", "0123456789abcdef".into(), 64, 0.005),
            ("alnum 24", "", alnum.clone(), 24, 0.005),
            ("password 18", "", format!("{alnum}!#%&*"), 18, 0.01),
            ("letters 20", "", letters, 20, 0.05),
        ];
        let mut rng = Rng(20_261_207);
        for (name, prefix, alphabet, n, bound) in cases {
            const N: usize = 20_000;
            let rejected =
                (0..N).filter(|_| !entropy(&format!("{prefix}{}", rng.string(&alphabet, n)))).count();
            let rate = rejected as f64 / N as f64;
            println!("{name}: {rate:.4} rejected");
            assert!(rate <= bound, "{name}: {rate:.4} of random keys rejected (bound {bound})");
        }
    }

    #[test]
    fn url_credentials() {
        for ok in [
            "alice:s3cr3t",
            "app:pa55w0rd",
            "u:123456",
            "x-access-token:ghp_OccXkR1ViwC7c6qnjYmS4H7HsE4VG2v76A1p",
        ] {
            assert!(credentials(ok), "{ok}");
        }
        for bad in [
            "token:${CI_JOB_TOKEN}",
            "ci:$TOKEN",
            "user:<password>",
            "user:****",
            "admin:xxxx",
            "me:your_password",
            "nopass:",
        ] {
            assert!(!credentials(bad), "{bad}");
        }
    }

    #[test]
    fn entropy_and_jwt() {
        assert!(entropy("\"9f8A7s6D5f4G3h2J1k\""));
        assert!(entropy("AKIABKVYKADEJNOBBUNQ"));
        assert!(!entropy("passwordpassword"));
        assert!(!entropy("1234567890123456"));
        for name in [
            "get_api_key_from_env",
            "CamelCaseSecretManager",
            "process.env.OPENAI_API_KEY",
            "X-Api-Key-Header-Name",
        ] {
            assert!(!entropy(name), "{name}");
        }
        for path in [
            "/etc/ssl/private/server.key",
            "./config/secrets.prod.yaml",
            "projects/p1/secrets/db-password/versions/2",
            "ghp_OccXkR1ViwC7c6qnjYmS4H7HsE4VG2v76A1p@github.com/org/repo.git",
            "Zk3Jq9Lr0Xv8Bn2Mw6Ty4Hp1@gitlab.example.com:8443",
        ] {
            assert!(!entropy(path), "{path}");
        }
        assert!(entropy("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8kLmP3xRt"));
        // An `@` in a password is no URL.
        assert!(entropy("q7R#mZ2@pL9xW4vK8nT3s"));
        assert!(jwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl"));
        assert!(!jwt("eyJub3RoaW5nIjoxfQ.eyJzdWIiOiIxIn0.c2ln"));
    }
}
