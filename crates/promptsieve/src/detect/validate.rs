//! Checksum and structure validators that pattern rules can name with
//! `validate = "…"`. Each takes the matched text (separators included) and
//! says whether it is a plausible value of its kind.

use std::net::{Ipv4Addr, Ipv6Addr};

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

/// An IPv6 address (optionally with a `%zone`), not a bare `::`.
pub(crate) fn ipv6(s: &str) -> bool {
    let addr = s.split('%').next().unwrap_or(s);
    // "a::b" is valid IPv6 but far more often C++ or Rust scope syntax:
    // require three groups, except for the loopback address.
    let groups = addr.split(':').filter(|g| !g.is_empty()).count();
    addr.parse::<Ipv6Addr>().is_ok_and(|a| !a.is_unspecified()) && (groups >= 3 || addr == "::1")
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

/// A secret-looking token: at least 16 characters, at least 3.0 bits of
/// entropy per character, and more than one character class (so words,
/// repeated characters and plain numbers do not pass).
pub(crate) fn entropy(s: &str) -> bool {
    let t = s.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
    let classes = [
        t.bytes().any(|b| b.is_ascii_lowercase()),
        t.bytes().any(|b| b.is_ascii_uppercase()),
        t.bytes().any(|b| b.is_ascii_digit()),
    ]
    .iter()
    .filter(|&&x| x)
    .count();
    t.len() >= 16 && classes >= 2 && shannon(t) >= 3.0
}

/// A JSON Web Token: three base64url segments whose first decodes to a JSON
/// object naming an `alg`.
pub(crate) fn jwt(s: &str) -> bool {
    let mut parts = s.split('.');
    let Some(head) = parts.next() else { return false };
    if parts.clone().count() != 2 {
        return false;
    }
    crate::detect::encoded::decode_base64(head.as_bytes())
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|h| h.trim_start().starts_with('{') && h.contains("\"alg\""))
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
    }

    #[test]
    fn entropy_and_jwt() {
        assert!(entropy("\"9f8A7s6D5f4G3h2J1k\""));
        assert!(!entropy("passwordpassword"));
        assert!(!entropy("1234567890123456"));
        assert!(jwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl"));
        assert!(!jwt("eyJub3RoaW5nIjoxfQ.eyJzdWIiOiIxIn0.c2ln"));
    }
}
