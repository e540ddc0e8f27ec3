//! The `phone` validator of the `pii-phone` rule: decides whether a
//! phone-shaped regex match on the normalised view is a phone number.
//!
//! Port of `phone_verdict()` / `has_context()` of the Python prototype
//! (`phone_proto.py`, spec `phone_spec.md`). The regex itself lives in
//! `rules/packs/pii-phone.toml`; it has no look-around, so everything that
//! needs the neighbours of the match (glued words, units, dates around it,
//! "Order 123456789") is checked here. The country comes from the digits:
//! E.164 country codes and national numbering plans (§4 of the spec).
//!
//! Character classes follow Python `str` semantics (the prototype's): a
//! "letter" is Unicode category L, "alphanumeric" is L or N, a "decimal
//! digit" is category Nd (what `\d` matches), so a run of non-ASCII decimal
//! digits is parsed like the prototype does (values via [`ND_ZEROS`]).
//! Every loop is bounded by the input length and no pattern backtracks on
//! more than a few digits: linear time.

use crate::util::{ceil_boundary, floor_boundary};
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::Regex;

/// What the phone validator decided about one regex match.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Verdict {
    /// Not a phone number.
    Reject,
    /// A phone number on its own, with this score (0..=1).
    Accept(f64),
    /// A phone number only if a context word is near (any context word).
    NeedContext(f64),
    /// A phone number only if a strong (non-weak) context word is near.
    NeedStrongContext(f64),
}

/// Bytes before the match searched for a negative word (N9).
const NEG_WINDOW: usize = 32;

// ------------------------------------------------------------ char classes --

/// First code point of every run of ten Unicode decimal digits (category
/// Nd, Unicode 15; runs are contiguous and ascending by definition).
const ND_ZEROS: &[u32] = &[
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50,
    0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40,
    0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066,
    0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950,
    0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC,
    0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950, 0x1FBF0,
];

/// Characters Python's `str.isdigit()` accepts besides Nd (superscripts,
/// circled digits, ...): inclusive ranges.
const OTHER_DIGITS: &[(u32, u32)] = &[
    (0xB2, 0xB3),
    (0xB9, 0xB9),
    (0x1369, 0x1371),
    (0x19DA, 0x19DA),
    (0x2070, 0x2070),
    (0x2074, 0x2079),
    (0x2080, 0x2089),
    (0x2460, 0x2468),
    (0x2474, 0x247C),
    (0x2488, 0x2490),
    (0x24EA, 0x24EA),
    (0x24F5, 0x24FD),
    (0x24FF, 0x24FF),
    (0x2776, 0x277E),
    (0x2780, 0x2788),
    (0x278A, 0x2792),
    (0x10A40, 0x10A43),
    (0x10E60, 0x10E68),
    (0x11052, 0x1105A),
    (0x1F100, 0x1F10A),
];

/// The value of a decimal digit (`\d`, Python `isdecimal`), any script.
fn dec_value(c: char) -> Option<u32> {
    if c.is_ascii() {
        return c.to_digit(10);
    }
    let cp = c as u32;
    let i = ND_ZEROS.partition_point(|&z| z <= cp);
    let zero = *ND_ZEROS.get(i.checked_sub(1)?)?;
    (cp < zero + 10).then_some(cp - zero)
}

fn is_dec(c: char) -> bool {
    dec_value(c).is_some()
}

/// Python `str.isdigit()`.
fn is_digit_py(c: char) -> bool {
    is_dec(c) || OTHER_DIGITS.iter().any(|&(a, b)| (a..=b).contains(&(c as u32)))
}

fn class_re(cell: &'static OnceLock<Regex>, src: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(src).expect("static character class"))
}

fn char_is(re: &Regex, c: char) -> bool {
    let mut buf = [0u8; 4];
    re.is_match(c.encode_utf8(&mut buf))
}

/// Python `str.isalpha()`: Unicode category L.
fn is_alpha_py(c: char) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    char_is(class_re(&RE, r"\A\p{L}\z"), c)
}

/// Python `str.isalnum()`: Unicode category L or N.
fn is_alnum_py(c: char) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    char_is(class_re(&RE, r"\A[\p{L}\p{N}]\z"), c)
}

/// Python `re` word character (`\w`): alphanumeric or underscore.
fn is_word_py(c: char) -> bool {
    c == '_' || is_alnum_py(c)
}

/// Python `re.IGNORECASE` equality of a text char with an ASCII lower-case
/// pattern char (including Python's extra folds ı/İ ~ i, ſ ~ s, K ~ k).
fn ci_eq(c: char, p: char) -> bool {
    c.to_ascii_lowercase() == p
        || (p == 'i' && matches!(c, '\u{131}' | '\u{130}'))
        || (p == 's' && c == '\u{17F}')
        || (p == 'k' && c == '\u{212A}')
}

/// If `s` starts with `pat` (ASCII, lower-case) case-insensitively, the
/// byte length of that prefix of `s`.
fn ci_prefix(s: &str, pat: &str) -> Option<usize> {
    let mut it = s.char_indices();
    for p in pat.chars() {
        let (_, c) = it.next()?;
        let ok = if p.is_ascii_alphabetic() { ci_eq(c, p) } else { c == p };
        if !ok {
            return None;
        }
    }
    Some(it.next().map_or(s.len(), |(i, _)| i))
}

/// Whether the text right after a word ends it (Python `\b` after a word
/// char): nothing follows, or a non-word char.
fn word_ends(rest: &str) -> bool {
    rest.chars().next().is_none_or(|c| !is_word_py(c))
}

// ------------------------------------------------------------ word lists ----
const NEGATIVE: &[&str] = &[
    "page",
    "pages",
    "seite",
    "seiten",
    "pagina",
    "paginas",
    "pagine",
    "pp",
    "sort code",
    "blz",
    "bankleitzahl",
    "routing",
    "aba",
    "swift",
    "ean",
    "gtin",
    "upc",
    "asin",
    "model",
    "modell",
    "modele",
    "card",
    "id",
    "ids",
    "ref",
    "reference",
    "referenz",
    "no",
    "nr",
    "n°",
    "nº",
    "num",
    "ticket",
    "issn",
    "sku",
    "iban",
    "bic",
    "build",
    "port",
    "pid",
    "zip",
    "plz",
    "ssn",
    "nir",
    "siret",
    "siren",
    "nif",
    "dni",
    "nie",
    "steuer",
    "steuernummer",
    "tax",
    "ust",
    "mwst",
    "codice",
    "bsn",
    "kvk",
    "uid",
    "package",
    "colis",
    "sendung",
    "auftrag",
    "case",
    "vin",
    "imei",
    "lot",
    "batch",
    "eur",
    "usd",
    "gbp",
    "chf",
    "invoice",
    "rechnung",
    "order",
    "bestellung",
    "commande",
    "pedido",
    "ordine",
    "bestelling",
    "cards",
    "karte",
    "kreditkarte",
    "bankkarte",
    "kartennummer",
    "kontonummer",
    "creditcard",
    "kreditkartennummer",
    "orders",
    "bestellnummer",
    "rechnungsnummer",
    "auftragsnummer",
    "kundennummer",
    "ordernummer",
    "factuurnummer",
    "bestelnummer",
    "licencia",
    "permis",
    "fuhrerschein",
    "carte",
    "tarjeta",
    "carta",
    "kaart",
    "license",
    "licence",
    "passport",
    "pasaporte",
    "passeport",
    "reisepass",
    "social security",
    "account",
    "konto",
    "compte",
    "cuenta",
    "conto",
    "rekening",
    "isbn",
    "serial",
    "version",
    "tracking",
    "bestell",
    "facture",
    "factura",
    "fattura",
    "factuur",
    "postcode",
    "zip code",
    "tax id",
    "vat",
];

const WEAK_CONTEXT: &[&str] = &[
    "contact", "contacto", "contato", "contatto", "desk", "message", "number", "numero", "nummer", "office",
];

const STRONG_CONTEXT: &[&str] = &[
    "angerufen",
    "anruf",
    "answer",
    "appel",
    "bel",
    "bellen",
    "call",
    "cell",
    "cellulare",
    "celular",
    "chiama",
    "chiamare",
    "dial",
    "durchwahl",
    "erreichbar",
    "fax",
    "give us a ring",
    "gsm",
    "handy",
    "hotline",
    "joignable",
    "joindre",
    "landline",
    "ligar",
    "ligue",
    "llama",
    "llamar",
    "mobiel",
    "mobil",
    "mobile",
    "movil",
    "phone",
    "portable",
    "rappel",
    "reach",
    "recapito",
    "ring her",
    "ring him",
    "ring me",
    "ring mig",
    "ring til",
    "ring us",
    "ringa",
    "ruckruf",
    "ruf an",
    "rufe",
    "rufen",
    "rufnummer",
    "ruft",
    "sms",
    "tel",
    "telefon",
    "telefone",
    "telefono",
    "telefoon",
    "telephone",
    "text me",
    "text us",
    "whatsapp",
    "zadzwon",
    "zuruckruf",
    "手机",
    "手機",
    "携帯",
    "电话",
    "番号",
    "联系",
    "連絡",
    "電話",
];

const QUANTITY: &[&str] = &[
    "times",
    "retries",
    "attempts",
    "items",
    "users",
    "people",
    "persons",
    "rows",
    "records",
    "bytes",
    "tokens",
    "requests",
    "calls",
    "messages",
    "units",
    "pieces",
    "points",
    "votes",
    "views",
    "downloads",
    "followers",
    "copies",
    "words",
    "lines",
    "steps",
    "miles",
    "km",
    "kg",
    "tonnes",
    "tons",
    "dollars",
    "euros",
    "pounds",
    "euro",
    "yen",
    "rupees",
    "reais",
    "mal",
    "fois",
    "veces",
    "volte",
    "keer",
    "stuck",
    "personen",
    "personnes",
    "personas",
    "persone",
    "mensen",
    "einwohner",
    "habitants",
    "habitantes",
    "abitanti",
    "inwoners",
];

const ASSIGNED: &[&str] = &[
    "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47",
    "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
    "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98", "211", "212", "213", "216", "218",
    "220", "221", "222", "223", "224", "225", "226", "227", "228", "229", "230", "231", "232", "233", "234",
    "235", "236", "237", "238", "239", "240", "241", "242", "243", "244", "245", "246", "247", "248", "249",
    "250", "251", "252", "253", "254", "255", "256", "257", "258", "260", "261", "262", "263", "264", "265",
    "266", "267", "268", "269", "290", "291", "297", "298", "299", "350", "351", "352", "353", "354", "355",
    "356", "357", "358", "359", "370", "371", "372", "373", "374", "375", "376", "377", "378", "380", "381",
    "382", "383", "385", "386", "387", "389", "420", "421", "423", "500", "501", "502", "503", "504", "505",
    "506", "507", "508", "509", "590", "591", "592", "593", "594", "595", "596", "597", "598", "599", "670",
    "672", "673", "674", "675", "676", "677", "678", "679", "680", "681", "682", "683", "685", "686", "687",
    "688", "689", "690", "691", "692", "850", "852", "853", "855", "856", "880", "886", "960", "961", "962",
    "963", "964", "965", "966", "967", "968", "970", "971", "972", "973", "974", "975", "976", "977", "992",
    "993", "994", "995", "996", "998",
];

const PLANS: &[(&str, &[&str])] = &[
    ("1", &[r"[2-9]\d{2}[2-9]\d{6}"]),
    ("44", &[r"[12]\d{9}", r"1\d{8}", r"3\d{9}", r"7\d{9}", r"8\d{9}", r"800\d{6}", r"9\d{9}", r"5\d{9}"]),
    ("49", &[r"1[5-7]\d{8,9}", r"[2-9]\d{5,10}", r"1(?:80|37|38|90)\d{4,8}", r"800\d{7,9}"]),
    ("33", &[r"[1-9]\d{8}"]),
    ("34", &[r"[6-9]\d{8}", r"5[1-9]\d{7}"]),
    ("39", &[r"3\d{8,9}", r"0\d{5,10}", r"80[03]\d{3,6}", r"89\d{4,7}"]),
    ("31", &[r"[1-9]\d{8}", r"(?:800|900)\d{4,7}"]),
    ("91", &[r"[6-9]\d{9}", r"[1-5]\d{9}", r"1800\d{6,7}"]),
    ("55", &[r"[1-9][1-9]9\d{8}", r"[1-9][1-9][2-5]\d{7}", r"[1-9][1-9][6-9]\d{7}", r"[3458]00\d{6,7}"]),
    ("61", &[r"[2378]\d{8}", r"4\d{8}", r"1[38]00\d{6}", r"13\d{4}"]),
    ("81", &[r"[1-9]\d{8}", r"[5789]0\d{8}", r"120\d{6}"]),
    ("86", &[r"1[3-9]\d{9}", r"10\d{8}", r"2\d{9}", r"[3-9]\d{9,10}", r"[3-9]\d{8}"]),
    ("41", &[r"[1-9]\d{8}"]),
    ("43", &[r"[1-9]\d{3,12}"]),
    ("32", &[r"4\d{8}", r"[1-9]\d{7}"]),
    ("46", &[r"[1-9]\d{6,9}"]),
    ("47", &[r"[2-9]\d{7}"]),
    ("45", &[r"[2-9]\d{7}"]),
    ("48", &[r"[1-9]\d{8}"]),
    ("351", &[r"[289]\d{8}"]),
    ("353", &[r"[1-9]\d{6,9}"]),
    ("358", &[r"[1-9]\d{4,11}"]),
    ("7", &[r"[3-9]\d{9}"]),
    ("52", &[r"[1-9]\d{9}", r"1[1-9]\d{9}"]),
    ("54", &[r"9?[1-9]\d{9}"]),
    ("27", &[r"[1-9]\d{8}"]),
    ("30", &[r"[2-9]\d{9}"]),
    ("36", &[r"[1-9]\d{7,8}"]),
    ("420", &[r"[2-9]\d{8}"]),
    ("64", &[r"[2-9]\d{7,9}"]),
    ("65", &[r"[3689]\d{7}"]),
    ("852", &[r"[2-9]\d{7}"]),
    ("82", &[r"[1-9]\d{7,9}"]),
    ("90", &[r"[2-589]\d{9}"]),
    ("971", &[r"[2-9]\d{7,8}"]),
    ("966", &[r"[1-9]\d{7,8}"]),
    ("62", &[r"[1-9]\d{7,11}"]),
    ("63", &[r"[2-9]\d{7,9}"]),
    ("234", &[r"[1-9]\d{7,9}"]),
    ("20", &[r"[1-9]\d{7,9}"]),
];
const NATIONAL: &[(&str, &str)] = &[
    (r"1?[2-9]\d{2}[2-9]\d{6}", "US/CA"),
    (r"0[1-3578]\d{8,9}", "UK"),
    (r"0[1-9]\d{8}", "FR/NL/AU/CH/JP/IN(0+9)"),
    (r"0[2-9]\d{5,10}", "DE/IT landline"),
    (r"01[5-7]\d{8,9}", "DE mobile"),
    (r"[6-9]\d{8}", "ES"),
    (r"3\d{8,9}", "IT mobile"),
    (r"[6-9]\d{9}", "IN mobile"),
    (r"0[5789]0\d{8}", "JP mobile"),
    (r"1[3-9]\d{9}", "CN mobile"),
    (r"0?[1-9][1-9](?:9\d{8}|[2-5]\d{7})", "BR"),
    (r"1[38]00\d{6}", "AU"),
    (r"9[1236]\d{7}|2\d{8}", "PT"),
    (r"0[1-9]\d{8,12}", "AT"),
];

// ------------------------------------------------------ digit patterns ----
//
// The numbering-plan patterns above are written in the prototype's regex
// syntax and matched by this small matcher, which knows exactly that subset:
// digit literals, `[..]` classes of ASCII digits and ranges, `\d` (any
// decimal digit, as in Python), `(?:a|b)` groups, top-level `|`, and the
// quantifiers `?`, `{m}`, `{m,n}`. Full matches only. Inputs are at most a
// few tens of digits, so the backtracking is bounded.

#[derive(Debug)]
enum Atom {
    /// A set of ASCII digit values (bit i = digit i).
    Set(u16),
    /// `\d`: any decimal digit.
    AnyDigit,
    /// `(?:a|b|..)`.
    Group(Vec<Vec<Item>>),
}

#[derive(Debug)]
struct Item {
    atom: Atom,
    min: usize,
    max: usize,
}

fn parse_alts(p: &[u8], i: &mut usize) -> Vec<Vec<Item>> {
    let mut alts = vec![parse_seq(p, i)];
    while p.get(*i) == Some(&b'|') {
        *i += 1;
        alts.push(parse_seq(p, i));
    }
    alts
}

fn parse_seq(p: &[u8], i: &mut usize) -> Vec<Item> {
    let mut seq = Vec::new();
    while let Some(&c) = p.get(*i) {
        let atom = match c {
            b'|' | b')' => break,
            b'\\' => {
                assert_eq!(p.get(*i + 1), Some(&b'd'), "only \\d is supported");
                *i += 2;
                Atom::AnyDigit
            }
            b'[' => {
                *i += 1;
                let mut set = 0u16;
                while let Some(&c) = p.get(*i) {
                    *i += 1;
                    match c {
                        b']' => break,
                        b'0'..=b'9' if p.get(*i) == Some(&b'-') => {
                            let hi = p[*i + 1];
                            *i += 2;
                            for d in c..=hi {
                                set |= 1 << (d - b'0');
                            }
                        }
                        b'0'..=b'9' => set |= 1 << (c - b'0'),
                        _ => panic!("bad class in digit pattern"),
                    }
                }
                Atom::Set(set)
            }
            b'(' => {
                assert_eq!(&p[*i..*i + 3], b"(?:", "only (?: groups are supported");
                *i += 3;
                let alts = parse_alts(p, i);
                assert_eq!(p.get(*i), Some(&b')'), "unclosed group");
                *i += 1;
                Atom::Group(alts)
            }
            b'0'..=b'9' => {
                *i += 1;
                Atom::Set(1 << (c - b'0'))
            }
            _ => panic!("unsupported digit-pattern syntax"),
        };
        let (mut min, mut max) = (1, 1);
        match p.get(*i) {
            Some(b'?') => {
                *i += 1;
                min = 0;
            }
            Some(b'{') => {
                let close = *i + p[*i..].iter().position(|&b| b == b'}').expect("unclosed {");
                let body = std::str::from_utf8(&p[*i + 1..close]).expect("ascii");
                let num = |s: &str| s.parse::<usize>().expect("repeat count");
                match body.split_once(',') {
                    Some((a, b)) => (min, max) = (num(a), num(b)),
                    None => (min, max) = (num(body), num(body)),
                }
                *i = close + 1;
            }
            _ => {}
        }
        seq.push(Item { atom, min, max });
    }
    seq
}

/// A compiled pattern: its alternatives.
type Pattern = Vec<Vec<Item>>;

fn compile(src: &str) -> Pattern {
    let mut i = 0;
    let alts = parse_alts(src.as_bytes(), &mut i);
    assert_eq!(i, src.len(), "trailing digit-pattern syntax");
    alts
}

fn match_alts(alts: &[Vec<Item>], s: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    alts.iter().any(|seq| match_seq(seq, s, i, k))
}

fn match_seq(seq: &[Item], s: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    match seq.split_first() {
        None => k(i),
        Some((it, rest)) => match_rep(it, 0, rest, s, i, k),
    }
}

/// Greedy repetition of `it` (already `count` times), then `rest`.
fn match_rep(
    it: &Item,
    count: usize,
    rest: &[Item],
    s: &[char],
    i: usize,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    if count < it.max && match_atom(&it.atom, s, i, &mut |j| match_rep(it, count + 1, rest, s, j, k)) {
        return true;
    }
    count >= it.min && match_seq(rest, s, i, k)
}

fn match_atom(a: &Atom, s: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    match a {
        Atom::Set(set) => {
            s.get(i)
                .and_then(|c| if c.is_ascii_digit() { c.to_digit(10) } else { None })
                .is_some_and(|v| set & (1 << v) != 0)
                && k(i + 1)
        }
        Atom::AnyDigit => s.get(i).is_some_and(|&c| is_dec(c)) && k(i + 1),
        Atom::Group(alts) => match_alts(alts, s, i, k),
    }
}

fn full_match(p: &Pattern, s: &[char]) -> bool {
    match_alts(p, s, 0, &mut |j| j == s.len())
}

struct Plans {
    /// (country code, NSN patterns)
    plans: Vec<(&'static str, Vec<Pattern>)>,
    /// (pattern, label)
    national: Vec<(Pattern, &'static str)>,
}

fn plans() -> &'static Plans {
    static P: OnceLock<Plans> = OnceLock::new();
    P.get_or_init(|| Plans {
        plans: PLANS.iter().map(|&(cc, ps)| (cc, ps.iter().map(|p| compile(p)).collect())).collect(),
        national: NATIONAL.iter().map(|&(p, lab)| (compile(p), lab)).collect(),
    })
}

/// NSN check against the plan of `cc`: `None` when there is no table.
fn nsn_valid(cc: &[char], nsn: &[char]) -> Option<bool> {
    let (_, pats) = plans().plans.iter().find(|(c, _)| c.chars().eq(cc.iter().copied()))?;
    Some(pats.iter().any(|p| full_match(p, nsn)))
}

/// Labels of the national patterns (§4.4) that `d` matches exactly.
fn national_valid(d: &[char]) -> Vec<&'static str> {
    plans().national.iter().filter(|(p, _)| full_match(p, d)).map(|&(_, lab)| lab).collect()
}

fn is_assigned(cc: &[char]) -> bool {
    ASSIGNED.iter().any(|a| a.chars().eq(cc.iter().copied()))
}

/// Whether the digits equal the ASCII string `lit`.
fn eq_lit(d: &[char], lit: &str) -> bool {
    d.iter().copied().eq(lit.chars())
}

fn starts_lit(d: &[char], lit: &str) -> bool {
    d.len() >= lit.chars().count() && eq_lit(&d[..lit.chars().count()], lit)
}

fn value(d: &[char]) -> u64 {
    d.iter().fold(0u64, |a, &c| a.saturating_mul(10).saturating_add(u64::from(dec_value(c).unwrap_or(0))))
}

// --------------------------------------------------------------- parsing ----

const EXT_WORDS: &[&str] = &["x", "ext", "extn", "extension", "poste", "durchwahl"];

/// Whether `t` is entirely an extension suffix:
/// ` ?(?:x|ext\.?|extn\.?|extension|poste|durchwahl) ?(\d{1,6})` (case-insensitive).
fn is_ext_tail(t: &str) -> bool {
    let t = t.strip_prefix(' ').unwrap_or(t);
    EXT_WORDS.iter().any(|w| {
        let Some(n) = ci_prefix(t, w) else { return false };
        let mut r = &t[n..];
        if matches!(*w, "ext" | "extn") {
            r = r.strip_prefix('.').unwrap_or(r);
        }
        r = r.strip_prefix(' ').unwrap_or(r);
        let k = r.chars().count();
        (1..=6).contains(&k) && r.chars().all(is_dec)
    })
}

/// The longest extension suffix possible: ' ' + "durchwahl" + '.'? + ' ' + 6 digits.
const EXT_MAX_CHARS: usize = 18;

/// Byte offset where an extension suffix starts (the leftmost one), if any.
fn ext_start(s: &str) -> Option<usize> {
    let total = s.chars().count();
    s.char_indices()
        .enumerate()
        .filter(|&(ci, _)| total - ci <= EXT_MAX_CHARS)
        .map(|(_, (bi, _))| bi)
        .find(|&bi| is_ext_tail(&s[bi..]))
}

#[derive(Clone, Copy)]
struct Group {
    /// Range of the group in `Parsed::d`.
    start: usize,
    len: usize,
    paren: bool,
}

/// The match taken apart (§2 of the spec).
struct Parsed {
    plus: bool,
    ext: bool,
    /// All digits of the groups (not the extension).
    d: Vec<char>,
    groups: Vec<Group>,
    /// The separator before each group but the first: `-./ ` or `'\0'` (glued).
    seps: Vec<char>,
    has_paren: bool,
}

impl Parsed {
    fn g(&self, i: usize) -> &[char] {
        let g = self.groups[i];
        &self.d[g.start..g.start + g.len]
    }
}

fn parse(s: &str) -> Parsed {
    let (s, ext) = match ext_start(s) {
        Some(i) => (&s[..i], true),
        None => (s, false),
    };
    let mut p = Parsed {
        plus: s.contains('+'),
        ext,
        d: Vec::new(),
        groups: Vec::new(),
        seps: Vec::new(),
        has_paren: s.contains('('),
    };
    let mut in_paren = false;
    let mut pending = '\0';
    let mut in_digits = false;
    for c in s.chars() {
        if is_dec(c) {
            if !in_digits {
                if !p.groups.is_empty() {
                    p.seps.push(pending);
                }
                p.groups.push(Group { start: p.d.len(), len: 0, paren: in_paren });
                pending = '\0';
                in_digits = true;
            }
            p.d.push(c);
            if let Some(g) = p.groups.last_mut() {
                g.len += 1;
            }
            continue;
        }
        in_digits = false;
        match c {
            '(' => in_paren = true,
            ')' => in_paren = false,
            '-' | '.' | '/' => pending = c,
            ' ' if pending == '\0' => pending = ' ',
            _ => {}
        }
    }
    p
}

fn looks_like_date(p: &Parsed) -> bool {
    if p.groups.len() != 3 || p.seps[1] != p.seps[0] || !matches!(p.seps[0], '-' | '.' | '/' | ' ' | '\0') {
        return false;
    }
    let (la, lb, lc) = (p.groups[0].len, p.groups[1].len, p.groups[2].len);
    if la == 4 && lb <= 2 && lc <= 2 {
        let (b, c) = (value(p.g(1)), value(p.g(2)));
        return (1..=12).contains(&b) && (1..=31).contains(&c)
            || (1..=12).contains(&c) && (1..=31).contains(&b);
    }
    if la <= 2 && lb <= 2 && (lc == 2 || lc == 4) {
        let (a, b) = (value(p.g(0)), value(p.g(1)));
        return (1..=31).contains(&a) && (1..=31).contains(&b) && (a <= 12 || b <= 12);
    }
    false
}

fn luhn(d: &[char]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &c)| {
            let v = dec_value(c).unwrap_or(0);
            if i % 2 == 1 { if v > 4 { v * 2 - 9 } else { v * 2 } } else { v }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn isbn_ok(d: &[char]) -> bool {
    d.len() == 13
        && (starts_lit(d, "978") || starts_lit(d, "979"))
        && d.iter()
            .enumerate()
            .map(|(i, &c)| dec_value(c).unwrap_or(0) * if i % 2 == 0 { 1 } else { 3 })
            .sum::<u32>()
            % 10
            == 0
}

// ------------------------------------------------------------- context ----

/// Byte positions where `word` occurs in `w` at a word start (see
/// [`has_context`]); with `whole`, it must also end a word. `w` is already
/// ASCII-lower-cased. Overlapping occurrences are all seen.
fn word_starts<'a>(w: &'a str, word: &'a str, whole: bool) -> impl Iterator<Item = usize> + 'a {
    let ascii_led = word.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let mut from = 0;
    std::iter::from_fn(move || {
        if word.is_empty() {
            return None;
        }
        while from <= w.len() {
            let i = from + w.get(from..)?.find(word)?;
            from = i + w[i..].chars().next().map_or(1, char::len_utf8);
            if starts_word(w, i, word, ascii_led, whole) {
                return Some(i);
            }
        }
        None
    })
}

/// Whether the occurrence of `word` at byte `i` of `w` counts for
/// [`word_starts`]; `ascii_led` says whether `word` starts with an ASCII letter.
fn starts_word(w: &str, i: usize, word: &str, ascii_led: bool, whole: bool) -> bool {
    let mut back = w[..i].chars().rev();
    let (b1, b2) = (back.next(), back.next());
    let ok = !ascii_led
        || b1.is_none_or(|c| !is_alpha_py(c))
        || (matches!(b1, Some('n' | 'r' | 't')) && b2 == Some('\\'));
    ok && !(whole && w[i + word.len()..].chars().next().is_some_and(is_alpha_py))
}

/// End (in `hay[lo..start]`, bytes) of the latest word of `words` in the
/// `window` bytes before `start`, or `None`.
/// `words` come with an automaton over them (see [`WordList`]): one pass
/// finds every occurrence of every word, as `word_starts` per word would.
fn nearest_before(hay: &str, start: usize, words: &WordList, window: usize, whole: bool) -> Option<usize> {
    let lo = floor_boundary(hay, start.saturating_sub(window));
    let w = hay[lo..start].to_ascii_lowercase();
    let (list, ac) = (words.0, words.automaton());
    ac.find_overlapping_iter(&w)
        .filter(|m| {
            let word = list[m.pattern().as_usize()];
            starts_word(
                &w,
                m.start(),
                word,
                word.chars().next().is_some_and(|c| c.is_ascii_alphabetic()),
                whole,
            )
        })
        .map(|m| m.end())
        .max()
}

/// A word list and, built on first use, an automaton over its words.
struct WordList(&'static [&'static str], OnceLock<AhoCorasick>);

impl WordList {
    const fn new(words: &'static [&'static str]) -> WordList {
        WordList(words, OnceLock::new())
    }

    fn automaton(&self) -> &AhoCorasick {
        self.1.get_or_init(|| {
            // The lists are constants of this module and never empty words.
            AhoCorasick::new(self.0).unwrap_or_else(|e| panic!("phone word list: {e}"))
        })
    }
}

static NEGATIVE_WORDS: WordList = WordList::new(NEGATIVE);
static STRONG_WORDS: WordList = WordList::new(STRONG_CONTEXT);

/// Whether a context word from `words` occurs within `window` bytes before
/// or after `hay[start..end]`, matched at the start of a word (a literal
/// backslash-n counts as a word break; CJK words match anywhere). With
/// `strong_only`, the spec's weak words do not count.
///
/// The window is widened to char boundaries and includes the match itself;
/// its first char counts as a word start (as in the prototype).
pub(crate) fn has_context(
    hay: &str,
    start: usize,
    end: usize,
    words: &[String],
    window: usize,
    strong_only: bool,
) -> bool {
    let start = floor_boundary(hay, start);
    let end = ceil_boundary(hay, end.max(start));
    let lo = floor_boundary(hay, start.saturating_sub(window));
    let hi = ceil_boundary(hay, end.saturating_add(window));
    let w = hay[lo..hi].to_ascii_lowercase();
    words
        .iter()
        .filter(|c| !(strong_only && WEAK_CONTEXT.contains(&c.as_str())))
        .any(|c| word_starts(&w, c, false).next().is_some())
}

// ------------------------------------------------------------ neighbours ----

/// ` ?(?:%|€|eur|euro|usd|\$|gbp|£|chf|kg|km|mb|gb|ms|sec|min|h\b)` on the
/// six chars after the match (case-insensitive).
fn unit_after(after: &str) -> bool {
    let six = &after[..after.char_indices().nth(6).map_or(after.len(), |(i, _)| i)];
    let t = six.strip_prefix(' ').unwrap_or(six);
    const UNITS: &[&str] =
        &["%", "€", "eur", "usd", "$", "gbp", "£", "chf", "kg", "km", "mb", "gb", "ms", "sec", "min"];
    UNITS.iter().any(|u| ci_prefix(t, u).is_some()) || ci_prefix(t, "h").is_some_and(|n| word_ends(&t[n..]))
}

/// `" " + quantity word` as a whole word right after the match.
fn quantity_after(after: &str) -> bool {
    let Some(t) = after.strip_prefix(' ') else { return false };
    QUANTITY.iter().any(|q| ci_prefix(t, q).is_some_and(|n| word_ends(&t[n..])))
}

const STREET_TYPES: &[&str] = &[
    "St",
    "Street",
    "Rd",
    "Road",
    "Ave",
    "Avenue",
    "Lane",
    "Ln",
    "Dr",
    "Drive",
    "Blvd",
    "Boulevard",
    "Way",
    "Crescent",
    "Court",
    "Ct",
    "Place",
    "Pl",
    "Square",
    "Sq",
    "Hill",
    "Hills",
    "Park",
    "Terrace",
    "Row",
    "Close",
    "Parkway",
    "Pkwy",
    "Highway",
    "Hwy",
];
const STREET_WORDS_FIRST: &[&str] = &[
    "Chemin",
    "Rue",
    "Avenue",
    "Boulevard",
    "Via",
    "Viale",
    "Piazza",
    "Calle",
    "Avenida",
    "Plaza",
    "Rua",
    "Strasse",
    "Straße",
];

/// The maximal run of word chars at the start of `t`.
fn word_run(t: &str) -> &str {
    &t[..t.char_indices().find(|&(_, c)| !is_word_py(c)).map_or(t.len(), |(i, _)| i)]
}

/// ` (?:[A-Z][A-Za-z'-]+ ){1,3}<street type>\b | (?:Chemin|Rue|...)\b` right
/// after the match (case-sensitive).
fn street_after(after: &str) -> bool {
    let Some(mut t) = after.strip_prefix(' ') else { return false };
    if STREET_WORDS_FIRST.contains(&word_run(t)) {
        return true;
    }
    for _ in 0..3 {
        // one word `[A-Z][A-Za-z'-]+` and a space
        let b = t.as_bytes();
        let n =
            b.iter().position(|&c| !(c.is_ascii_alphabetic() || c == b'\'' || c == b'-')).unwrap_or(b.len());
        if n < 2 || !b[0].is_ascii_uppercase() || b.get(n) != Some(&b' ') {
            return false;
        }
        t = &t[n + 1..];
        if STREET_TYPES.contains(&word_run(t)) {
            return true;
        }
    }
    false
}

// ------------------------------------------------------------- verdict ----

/// Decides on the match `hay[start..end]`. `hay` is the normalised view
/// the regex ran on (whitespace collapsed to single spaces, non-ASCII
/// lower-cased, accents stripped; ASCII keeps its case); the neighbours of
/// the match may be inspected.
pub(crate) fn validate(hay: &str, start: usize, end: usize) -> Verdict {
    use Verdict::{Accept, NeedContext, NeedStrongContext, Reject};
    let (Some(s), Some(pre), Some(post)) = (hay.get(start..end), hay.get(..start), hay.get(end..)) else {
        return Reject;
    };
    // Fewer than six digits is rejected below (`n < 6`) after checks that
    // can only reject too; deciding it first skips them for the many short
    // numbers of ordinary text.
    if s.chars().filter(|&c| is_dec(c)).nth(5).is_none() {
        return Reject;
    }

    // ---- neighbours (the regex cannot look around) --------------------------
    let mut back = pre.chars().rev();
    let (b1, b2) = (back.next(), back.next());
    let before = b1.unwrap_or(' ');
    let mut fwd = post.chars();
    let (a0, a1, a2) = (fwd.next(), fwd.next(), fwd.next());
    // Chinese and Japanese run words together: a Han or kana letter next to
    // a number does not make it part of a word ("请联系我13812345678或者").
    let glued = |c: char| is_alnum_py(c) && !crate::normalize::is_unspaced_script(c);
    if glued(before) && !(matches!(before, 'n' | 'r' | 't') && b2 == Some('\\')) {
        return Reject; // N1 glued to a word
    }
    if "_@#$€£¥%=&~^".contains(before) || matches!((b2, b1), (Some('v' | '=' | '#'), Some(' '))) {
        return Reject; // N2 prefix symbol
    }
    if ".,:/-".contains(before) && b2.is_some_and(is_digit_py) {
        return Reject; // N3 continues a number or time
    }
    if before == '-' && !s.starts_with('+') && !matches!(b2, Some(' ' | '(')) {
        return Reject; // N4 dash prefix
    }
    if a0.is_some_and(|c| glued(c) || "_@%€$£¥°".contains(c)) {
        return Reject; // N5 glued after
    }
    if a0.is_some_and(|c| ".,:/-".contains(c))
        && (a1.is_some_and(is_digit_py) || (a1.is_some_and(is_alpha_py) && !a2.is_some_and(is_alpha_py)))
    {
        return Reject; // N6 continues a number after
    }
    if unit_after(post) || quantity_after(post) {
        return Reject; // N7, N8
    }
    if let Some(neg) = nearest_before(hay, start, &NEGATIVE_WORDS, NEG_WINDOW, true)
        && nearest_before(hay, start, &STRONG_WORDS, NEG_WINDOW, false).is_none_or(|pos| pos < neg)
    {
        return Reject; // N9 a non-phone number word is closer
    }

    // ---- shapes that are something else -------------------------------------
    let p = parse(s);
    let d = &p.d[..];
    let n = d.len();
    if n < 6 {
        return Reject;
    }
    let ng = p.groups.len();
    let lens: Vec<usize> = p.groups.iter().map(|g| g.len).collect();
    let mut sepset: Vec<char> = p.seps.iter().copied().filter(|&c| c != '\0').collect();
    sepset.sort_unstable();
    sepset.dedup();
    let has_sep = |c: char| sepset.contains(&c);
    let formatted = !sepset.is_empty() || p.has_paren || p.plus;

    if looks_like_date(&p) {
        return Reject;
    }
    if (2..=3).contains(&ng)
        && lens[0] == 4
        && (starts_lit(p.g(0), "19") || starts_lit(p.g(0), "20"))
        && lens.iter().all(|&l| l == 4)
    {
        return Reject; // year range
    }
    if has_sep('.') {
        if ng == 4 && (0..4).all(|i| lens[i] <= 3 && value(p.g(i)) <= 255) {
            return Reject; // IPv4
        }
        if lens.contains(&1) && !p.plus {
            return Reject; // version
        }
        if ng == 2 && !p.has_paren && (lens[1] <= 2 || lens[0] <= 2) {
            return Reject; // decimal
        }
    }
    if !p.plus
        && !sepset.is_empty()
        && ng >= 3
        && (1..=3).contains(&lens[0])
        && p.g(0)[0] != '0'
        && lens[1..].iter().all(|&l| l == 3)
        && sepset.iter().all(|&c| c == '.' || c == ',')
    {
        return Reject; // thousands
    }
    if lens.iter().filter(|&&l| l == 4).count() >= 3 && !p.plus {
        return Reject; // card / IBAN 4-groups
    }
    if !p.plus && lens == [3, 2, 4] && sepset.iter().all(|&c| c == '-' || c == ' ') {
        return Reject; // US SSN shape
    }
    if ng > 1 && lens[ng - 1] == 1 && !p.ext {
        return Reject; // check digit
    }
    for (i, &len) in lens.iter().enumerate().take(ng.saturating_sub(1)).skip(1) {
        let after_cc_or_trunk =
            i == 1 && (p.plus || eq_lit(p.g(0), "0") || eq_lit(p.g(0), "1") || p.groups[0].paren);
        if len == 1 && !(after_cc_or_trunk || p.groups[i - 1].paren) {
            return Reject; // single-digit inner group
        }
    }
    if isbn_ok(d) && !p.plus {
        return Reject;
    }
    if sepset.len() > 2 {
        return Reject; // mixed separators
    }

    // ---- international -------------------------------------------------------
    let starts00 = starts_lit(d, "00");
    let mut intl = p.plus || (starts00 && !p.groups[0].paren && n >= 10);
    if intl {
        let dd = if !p.plus && starts00 { &d[2..] } else { d };
        match (1..=3).map(|k| k.min(dd.len())).find(|&k| k > 0 && is_assigned(&dd[..k])) {
            None if p.plus => return Reject, // unassigned country code
            None => intl = false,
            Some(k) => {
                let cc = &dd[..k];
                let mut rest = &dd[k..];
                let mut had_trunk = false;
                if starts_lit(rest, "0") && !eq_lit(cc, "39") {
                    rest = &rest[1..];
                    had_trunk = true;
                }
                if eq_lit(cc, "1") && starts_lit(rest, "1") {
                    rest = &rest[1..];
                }
                if !(4..=14).contains(&rest.len()) || cc.len() + rest.len() > 15 {
                    return Reject; // E.164 length
                }
                let v = nsn_valid(cc, rest);
                if !p.plus && sepset.is_empty() {
                    if v != Some(false) {
                        return NeedContext(0.6); // 00-prefixed bare digits
                    }
                    intl = false; // a national number starting 00
                }
                if intl {
                    return match v {
                        Some(true) => {
                            let written_0 =
                                s.chars().filter(|&c| c != ' ').collect::<String>().contains("(0)");
                            Accept(if !had_trunk || written_0 { 0.9 } else { 0.75 })
                        }
                        None => Accept(0.7),
                        Some(false) if (6..=12).contains(&rest.len()) => {
                            if p.plus {
                                Accept(0.6)
                            } else {
                                NeedContext(0.6)
                            }
                        }
                        Some(false) => Reject,
                    };
                }
            }
        }
    }
    debug_assert!(!intl);

    // ---- national -------------------------------------------------------------
    if n > 13 {
        return Reject;
    }
    if !formatted {
        if n < 7 {
            return Reject;
        }
        if n == 7 {
            return NeedStrongContext(0.5);
        }
        if n >= 13 && luhn(d) {
            return Reject; // card
        }
        return NeedContext(if national_valid(d).is_empty() { 0.5 } else { 0.7 });
    }
    if ng == 2 && lens[1] <= 2 {
        return Reject; // house number + flat
    }
    if n <= 9 && street_after(post) {
        return Reject; // street number
    }
    if n <= 6 && ng < 3 {
        return Reject; // range, code
    }
    if n <= 8 {
        return NeedContext(0.5);
    }
    let labs = national_valid(d);
    let first = p.g(0);
    if p.groups[0].paren && is_assigned(first) && !eq_lit(first, "1") && ng >= 2 {
        let v = nsn_valid(first, &d[first.len()..]);
        if v == Some(true) || (v.is_none() && (6..=12).contains(&(n - first.len()))) {
            return Accept(0.7); // country code in parentheses
        }
    }
    let has = |l: &str| labs.contains(&l);
    let phone_grouping = p.has_paren
        || starts_lit(first, "0")
        || ((has("ES") || has("PT")) && (lens == [3, 3, 3] || lens == [3, 2, 2, 2] || lens == [3, 6]))
        || (has("AU") && (eq_lit(first, "1300") || eq_lit(first, "1800")))
        || (has("BR") && lens[0] == 2 && lens[ng - 1] == 4 && (ng == 2 || ng == 3))
        || (has("US/CA") && ng >= 2 && lens[ng - 2..] == [3, 4])
        || (has("CN mobile") && ng >= 2);
    if !labs.is_empty() && phone_grouping {
        return Accept(0.8);
    }
    NeedContext(if labs.is_empty() { 0.5 } else { 0.6 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::{Accept, NeedContext, NeedStrongContext, Reject};

    /// The candidate regex of `rules/packs/pii-phone.toml`.
    const PHONE_RE: &str = r"(?:\+ ?)?(?:\( ?\+?\d{1,5} ?\)(?: ?[-./])? ?)?\d+(?:(?: ?[-./] ?| )(?:\( ?\d{1,5} ?\)(?: ?[-./])? ?)?\d+|(?: ?[-./])? ?\( ?\d{1,5} ?\)(?: ?[-./])? ?\d+)*(?: ?(?:x|ext\.?|extn\.?|extension|poste|durchwahl) ?\d{1,6})?";

    /// The rule's `context` list (strong + weak words).
    fn context() -> Vec<String> {
        STRONG_CONTEXT.iter().chain(WEAK_CONTEXT).map(|s| s.to_string()).collect()
    }

    /// What the engine would report on a view: (matched text, verdict, kept).
    fn detect(view: &str) -> Vec<(String, Verdict, bool)> {
        let re = regex::RegexBuilder::new(PHONE_RE).case_insensitive(true).build().unwrap();
        let ctx = context();
        re.find_iter(view)
            .map(|m| {
                let (s, e) = (m.start(), m.end());
                let v = validate(view, s, e);
                let kept = match v {
                    Reject => false,
                    Accept(_) => true,
                    NeedContext(_) => has_context(view, s, e, &ctx, 40, false),
                    NeedStrongContext(_) => has_context(view, s, e, &ctx, 40, true),
                };
                (m.as_str().to_string(), v, kept)
            })
            .collect()
    }

    fn kept(view: &str) -> Vec<String> {
        detect(view).into_iter().filter(|x| x.2).map(|x| x.0).collect()
    }

    /// `validate` on the first occurrence of `needle` in `view`.
    fn verdict_at(view: &str, needle: &str) -> Verdict {
        let s = view.find(needle).expect("needle in view");
        validate(view, s, s + needle.len())
    }

    #[test]
    fn toml_match_examples_are_found() {
        // View forms of the pack's `match` examples.
        let cases = [
            ("Call me on +1 (415) 555-2671 tomorrow.", "+1 (415) 555-2671"),
            ("Office: +44 20 7946 0958, mobile 07700 900123", "+44 20 7946 0958"),
            ("Ruckruf unter (0521) 1234567 bitte.", "(0521) 1234567"),
            ("Tel. +49 (0)30 1234 5678", "+49 (0)30 1234 5678"),
            ("Rappelle-moi au +33 (0)1 74 65 18 01 s'il te plait.", "+33 (0)1 74 65 18 01"),
            ("Mon portable : 06 12 34 56 78", "06 12 34 56 78"),
            ("Llamame al +34 612 34 56 78", "+34 612 34 56 78"),
            ("Contatto: Mario Rossi, tel. 382931746", "382931746"),
            ("Bel me op 020-123 4567 of +31 6 12345678.", "020-123 4567"),
            ("WhatsApp +91 98765 43210", "+91 98765 43210"),
            ("Ligue para +55 11 91234-5678", "+55 11 91234-5678"),
            ("Mobile 0412 345 678 (Sydney)", "0412 345 678"),
            ("電話番号は 090-1234-5678 てす。", "090-1234-5678"),
            ("我的手机号是 13800138000。", "13800138000"),
            ("UK desk line 01632 960123", "01632 960123"),
            ("Support: 1-800-555-0199 ext. 42", "1-800-555-0199 ext. 42"),
            ("Contact: 212.555.0100x123", "212.555.0100x123"),
        ];
        for (view, want) in cases {
            let found = detect(view);
            assert!(found.iter().any(|(t, _, k)| *k && t == want), "{view:?}: {found:?}");
            for (_, v, _) in &found {
                if *v != Reject {
                    assert!(matches!(v, Accept(_) | NeedContext(_) | NeedStrongContext(_)));
                }
            }
        }
        assert_eq!(
            kept("Office: +44 20 7946 0958, mobile 07700 900123"),
            ["+44 20 7946 0958", "07700 900123"]
        );
        assert_eq!(kept("Bel me op 020-123 4567 of +31 6 12345678."), ["020-123 4567", "+31 6 12345678"]);
        // the bare-digit examples hold only because of their context word
        assert_eq!(verdict_at("Contatto: Mario Rossi, tel. 382931746", "382931746"), NeedContext(0.7));
        assert_eq!(verdict_at("我的手机号是 13800138000。", "13800138000"), NeedContext(0.7));
        assert!(kept("Mario Rossi, 382931746").is_empty());
    }

    #[test]
    fn toml_no_match_examples_are_rejected() {
        let views = [
            "The release is on 2024-05-01 at 10:30, see 01/02/2024 and 12.03.2023.",
            "Upgrade from v2.10.3 to 1.2.3 and rerun; build 10.0.19041.1 is affected.",
            "Order #4821-7730-19 was shipped; invoice 2023-004512.",
            "The total was 1,234,567.89 USD (or 1.234.567,89 €).",
            "Set the timeout to 1607635102.00 -0.96 seconds.",
            "Session id 98234712340987123409 expired.",
            "ISBN 978-3-16-148410-0, ISBN-10 0-306-40615-2",
            "Server 192.168.100.200 answered the call.",
            "Card 4111 1111 1111 1111 was charged for the phone.",
            "IBAN DE89 3704 0044 0532 0130 00, GB82 WEST 1234 5698 7654 32",
            "My SSN is 123-45-6789.",
            "Call the function with 555 retries, then 12345678 times.",
            "Read pages 123-456 before the call.",
            "We'll meet at 3577 41 Terrick Rd.",
        ];
        for view in views {
            let found = detect(view);
            assert!(!found.is_empty(), "the regex finds candidates in {view:?}");
            assert!(found.iter().all(|x| !x.2), "{view:?}: {found:?}");
        }
    }

    /// Per-country numbers of the spec's tables, with the prototype's verdicts.
    #[test]
    fn country_plans() {
        let cases: &[(&str, Verdict)] = &[
            // US/CA
            ("+1 (415) 555-2671", Accept(0.9)),
            ("(415) 555-2671", Accept(0.8)),
            ("415-555-2671", Accept(0.8)),
            ("1-800-555-0199", Accept(0.8)),
            ("+1 416 555 0123", Accept(0.9)),
            ("+1 (415) 055-2671", Accept(0.6)), // plan-invalid exchange, still +-written
            ("123-456-7890", NeedContext(0.6)), // no NANP area code
            ("+1 23", Reject),
            // UK
            ("+44 20 7946 0958", Accept(0.9)),
            ("020 7946 0958", Accept(0.8)),
            ("07700 900123", Accept(0.8)),
            ("01632 960123", Accept(0.8)),
            ("+44 (0)20 7946 0958", Accept(0.9)),
            ("+44(0)1164960191", Accept(0.9)),
            ("+44 020 7946 0958", Accept(0.75)), // unwritten trunk 0
            ("+44 1234", Reject),
            // DE
            ("+49 30 12345678", Accept(0.9)),
            ("030 12345678", Accept(0.8)),
            ("(0521) 1234567", Accept(0.8)),
            ("0171 1234567", Accept(0.8)),
            ("+49 (0)30 1234 5678", Accept(0.9)),
            ("0049 30 12345678", Accept(0.9)),
            ("0049301234567", NeedContext(0.6)),
            ("+49 1234", Reject),
            // FR
            ("+33 1 74 65 18 01", Accept(0.9)),
            ("01 74 65 18 01", Accept(0.8)),
            ("06 12 34 56 78", Accept(0.8)),
            ("+33 (0)1 74 65 18 01", Accept(0.9)),
            ("+33 12 34", Reject),
            // ES
            ("+34 612 34 56 78", Accept(0.9)),
            ("612 34 56 78", Accept(0.8)),
            ("912 345 678", Accept(0.8)),
            ("412 34 56 78", NeedContext(0.5)), // no Spanish number starts with 4
            // IT
            ("+39 06 6982 0000", Accept(0.9)),
            ("06 6982 0000", Accept(0.8)),
            ("347 123 4567", NeedContext(0.6)),
            ("+39 347 123 4567", Accept(0.9)),
            ("+39 12 3", Reject),
            // NL
            ("+31 6 12345678", Accept(0.9)),
            ("020-123 4567", Accept(0.8)),
            ("06-12345678", Accept(0.8)),
            ("+31 0612", Reject),
            // IN
            ("+91 98765 43210", Accept(0.9)),
            ("98765 43210", NeedContext(0.6)),
            ("+91 22 2345 6789", Accept(0.9)),
            ("+91 1234", Reject),
            // BR
            ("+55 11 91234-5678", Accept(0.9)),
            ("(11) 91234-5678", Accept(0.8)),
            ("(21) 3456-7890", Accept(0.8)),
            ("+55 12 34", Reject),
            // AU
            ("+61 2 9876 5432", Accept(0.9)),
            ("(02) 9876 5432", Accept(0.8)),
            ("0412 345 678", Accept(0.8)),
            ("1300 123 456", Accept(0.8)),
            ("+61 12 34", Reject),
            // JP
            ("+81 3-1234-5678", Accept(0.9)),
            ("03-1234-5678", Accept(0.8)),
            ("090-1234-5678", Accept(0.8)),
            ("+81 12 34", Reject),
            // CN
            ("+86 138 0013 8000", Accept(0.9)),
            ("138 0013 8000", Accept(0.8)),
            ("010-12345678", Accept(0.8)),
            ("13800138000", NeedContext(0.7)),
            ("+86 12 34", Reject),
            // other codes
            ("+999 123 456 789", Reject), // unassigned country code
            ("+0049 30 1234567", Reject),
            ("+358 40 1234567", Accept(0.9)),
            ("+423 123 4567", Accept(0.7)), // assigned, no plan table
            ("(351) 962450090", Accept(0.7)),
            ("8 (495) 123-45-67", Accept(0.8)),
            // short and bare
            ("1234567", NeedStrongContext(0.5)),
            ("417 4336", NeedContext(0.5)),
            ("(029)2018978", Accept(0.8)), // fits UK 0 + 2x (the spec lists it as context-only)
            ("189.490.5807", NeedContext(0.5)),
            ("555 1234 x12", NeedContext(0.5)),
        ];
        for &(num, want) in cases {
            assert_eq!(validate(num, 0, num.len()), want, "{num}");
        }
    }

    #[test]
    fn other_numbers_are_rejected() {
        for num in [
            "2024-05-01",
            "01/02/2024",
            "12.03.2023",
            "12.03.23",
            "1990-2000",
            "2019 2020",
            "192.168.100.200",
            "10.0.19041.1",
            "1.234.567",
            "32.490476",
            "5064.32",
            "98234712340987123409",
            "4111 1111 1111 1111",
            "123-45-6789",
            "978-3-16-148410-0",
            "9783161484100",
            "123-456",
            "3577 41",
            "12345",
            "4539578763621486",
            "1234 5678 9012 3456",
        ] {
            assert_eq!(validate(num, 0, num.len()), Reject, "{num}");
        }
        // neighbours: times, amounts, units, glued words, prefixes
        for (view, num) in [
            ("at 10:30 0612345678", "30 0612345678"),
            ("costs 1,234 0612345678", "234 0612345678"),
            ("ID12345678", "12345678"),
            ("ORD-1234567", "1234567"),
            ("v2.10.3", "2.10.3"),
            ("= 0612345678", "0612345678"),
            ("#0612345678", "0612345678"),
            ("0612345678 kg", "0612345678"),
            ("0612345678 € due", "0612345678"),
            ("0612345678,89", "0612345678"),
            ("0612345678-X", "0612345678"),
            ("12345678 times", "12345678"),
            ("Order 123456789", "123456789"),
            ("license number is 217223320", "217223320"),
            ("Kreditkarte 576990139833", "576990139833"),
            ("see page 0612 345 678", "0612 345 678"),
            ("at 123 4567 Main Street", "123 4567"),
            ("at 123 4567 Rue de Paix", "123 4567"),
        ] {
            assert_eq!(verdict_at(view, num), Reject, "{view}");
        }
        // ... but a phone word nearer than the negative word keeps it
        assert_eq!(verdict_at("Contact card: phone 0612345678", "0612345678"), NeedContext(0.7));
        assert_eq!(verdict_at("0612345678-Fax", "0612345678"), NeedContext(0.7));
        assert_eq!(verdict_at("\\nPhone: 5551234567", "5551234567"), NeedContext(0.7));
    }

    #[test]
    fn context_words_match_at_word_start() {
        let ctx = context();
        let ctx_at = |view: &str, num: &str, strong: bool| {
            let s = view.find(num).unwrap();
            has_context(view, s, s + num.len(), &ctx, 40, strong)
        };
        assert!(!ctx_at("Hotel 0612345678", "0612345678", false));
        assert!(!ctx_at("Marcella 0612345678", "0612345678", false));
        assert!(ctx_at("Tel. 0612345678", "0612345678", false));
        assert!(ctx_at("telefonnummer: 0612345678", "0612345678", false));
        assert!(ctx_at("0612345678 (mobile)", "0612345678", false));
        assert!(ctx_at("\\nphone: 0612345678", "0612345678", false));
        assert!(ctx_at("我的手机号是 13800138000", "13800138000", false));
        // weak words count only without strong_only
        assert!(ctx_at("number 1234567", "1234567", false));
        assert!(!ctx_at("number 1234567", "1234567", true));
        assert!(ctx_at("phone 1234567", "1234567", true));
        // window: 40 bytes
        let far = format!("phone{}0612345678", " x".repeat(25));
        assert!(!ctx_at(&far, "0612345678", false));
        assert!(ctx_at(&format!("phone{}0612345678", " x".repeat(10)), "0612345678", false));
        // words as given: an empty word never matches
        assert!(!has_context("0612345678", 0, 10, &[String::new()], 40, false));
        assert_eq!(verdict_at("at 123 4567 main street", "123 4567"), NeedContext(0.5)); // street words are case-sensitive
        assert_eq!(kept("Hotel 0612345678"), Vec::<String>::new());
        assert_eq!(kept("Tel 1234567"), ["1234567"]);
        assert_eq!(kept("Number 1234567"), Vec::<String>::new());
    }

    #[test]
    fn non_ascii_digits_parse_like_the_prototype() {
        assert_eq!(verdict_at("telefon ٠٦١٢٣٤٥٦٧٨", "٠٦١٢٣٤٥٦٧٨"), NeedContext(0.5));
        assert_eq!(verdict_at("telefon ०६१२३४५६७८ ok", "०६१२३४५६७८"), NeedContext(0.5));
        assert_eq!(verdict_at("tel 06١2345678", "06١2345678"), NeedContext(0.7));
        assert_eq!(dec_value('٧'), Some(7));
        assert_eq!(dec_value('²'), None);
        assert!(is_digit_py('²'));
    }

    #[test]
    fn digit_patterns_compile_and_match() {
        let p = plans();
        assert_eq!(p.plans.len(), PLANS.len());
        let d = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(nsn_valid(&d("1"), &d("4155552671")), Some(true));
        assert_eq!(nsn_valid(&d("1"), &d("4150552671")), Some(false));
        assert_eq!(nsn_valid(&d("423"), &d("1234567")), None);
        assert_eq!(nsn_valid(&d("54"), &d("91123456789")), Some(true)); // 9?[1-9]\d{9}
        assert_eq!(nsn_valid(&d("49"), &d("1371234")), Some(true)); // 1(?:80|37|38|90)\d{4,8}
        assert_eq!(national_valid(&d("011912345678")), ["BR", "AT"]);
    }

    #[test]
    fn never_panics_on_hostile_input() {
        let hostile = [
            "+(+ (( ))) --..// 00 (0)(0) x ext. 12 +44(0)20 7946 0958 durchwahl 123456",
            "Tél : 06 12 34 56 78 ☎ ٠٦١٢٣٤٥٦٧٨ 電話 090-1234-5678 ﬀ 𝟘𝟙𝟚 ²³ ① ı İ ſ K",
            "\\n\\t\\r12\\n34 ¥12 €34 °56 n° 123456789 № 987654321 🙂0612345678🙂 é0612345678é",
            "0",
            "",
            "((((((((((1234567890)))))))))) 1-2-3-4-5-6-7-8-9 1.1.1.1.1 0000000000000000000000000000",
        ];
        let ctx = context();
        for h in hostile {
            let bounds: Vec<usize> = (0..=h.len()).collect();
            for &s in &bounds {
                for &e in bounds.iter().filter(|&&e| e >= s && e <= s + 48) {
                    let _ = validate(h, s, e); // Reject when off a char boundary
                    let _ = has_context(h, s, e, &ctx, 40, false);
                    let _ = has_context(h, s, e, &ctx, 7, true);
                }
            }
            let _ = validate(h, h.len() + 3, h.len() + 9);
            let _ = validate(h, 5, 2);
            let _ = has_context(h, h.len() + 3, 1, &ctx, usize::MAX, false);
            let _ = detect(h);
        }
        assert_eq!(validate("é0612345678", 1, 11), Reject); // inside "é"
    }
}
