//! Details of any text and length: always a JSON object within the cap, whole when it fits,
//! texts cut as prefixes and fields dropped only from the end when it does not.

use super::*;

/// A small seeded generator (xorshift64*), so a failure names its case and repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Text of up to `max` characters that JSON must escape or that spans several bytes.
    fn text(&mut self, max: usize) -> String {
        const SPECIAL: [char; 16] = [
            '"', '\\', '\0', '\n', '\r', '\t', '\u{1f}', '\u{7f}', 'é', '€', '𝄞', '中', '\u{2028}',
            '\u{feff}', '/', '…',
        ];
        let len = self.below(max + 1);
        (0..len)
            .map(|_| match self.below(4) {
                0 => SPECIAL[self.below(SPECIAL.len())],
                _ => char::from(b' ' + self.below(95) as u8),
            })
            .collect()
    }
}

/// What one field was given, kept to compare with what was written.
enum Want {
    Text(String),
    Num(f64),
    Int(i64),
    Bool(bool),
}

/// The object written without any cap, as serde_json writes each part.
fn uncapped(fields: &[(String, Want)]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Want::Text(t) => serde_json::to_string(t),
                Want::Num(n) => serde_json::to_string(n),
                Want::Int(i) => serde_json::to_string(i),
                Want::Bool(b) => serde_json::to_string(b),
            };
            format!("{}:{}", serde_json::to_string(k).unwrap(), v.unwrap())
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

#[test]
fn any_text_and_length_gives_a_json_object_within_the_cap() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut whole, mut cut) = (0, 0);
    for case in 0..3000 {
        let n = rng.below(7);
        let fields: Vec<(String, Want)> = (0..n)
            .map(|i| {
                let key = format!("{}{i}", rng.text(8));
                let max = [4, 40, 200, 600][rng.below(4)];
                let want = match rng.below(6) {
                    0..=2 => Want::Text(rng.text(max)),
                    3 => Want::Num(match rng.below(5) {
                        0 => f64::NAN,
                        1 => f64::INFINITY,
                        2 => 1e300,
                        _ => rng.next() as f64 / 1e6,
                    }),
                    4 => Want::Int(rng.next() as i64),
                    _ => Want::Bool(rng.below(2) == 1),
                };
                (key, want)
            })
            .collect();
        // Texts go in both ways: as `&str` and as an error's `Display`.
        let errors: Vec<std::io::Error> = fields
            .iter()
            .map(|(_, w)| match w {
                Want::Text(t) => std::io::Error::other(t.clone()),
                _ => std::io::Error::other(""),
            })
            .collect();
        let values: Vec<(&str, Value<'_>)> = fields
            .iter()
            .zip(&errors)
            .enumerate()
            .map(|(i, ((k, w), e))| {
                let v = match w {
                    Want::Text(t) if i % 2 == 0 => Value::Str(t),
                    Want::Text(_) => Value::Text(e),
                    Want::Num(x) => Value::F64(*x),
                    Want::Int(x) => Value::I64(*x),
                    Want::Bool(b) => Value::Bool(*b),
                };
                (k.as_str(), v)
            })
            .collect();

        let d = Detail::new(&values);
        assert!(d.len() <= DETAIL_CAP, "case {case}: {} bytes", d.len());
        let full = uncapped(&fields);
        if full.len() <= DETAIL_CAP {
            assert_eq!(d.as_str(), full, "case {case}: it fits, so it is whole");
            whole += 1;
            continue;
        }
        cut += 1;
        let got: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&d)
            .unwrap_or_else(|e| panic!("case {case}: not a JSON object ({e}): {d}"));
        let kept = got.len();
        for (i, (key, want)) in fields.iter().enumerate() {
            let Some(v) = got.get(key) else {
                assert!(
                    i >= kept,
                    "case {case}: field {i} dropped before a later one: {d}"
                );
                continue;
            };
            match want {
                Want::Text(t) => {
                    let s = v.as_str().unwrap();
                    let shortened = s
                        .strip_suffix(CUT)
                        .is_some_and(|p| t.starts_with(p) && t.len() > p.len());
                    assert!(s == t || shortened, "case {case}: {s:?} from {t:?}");
                }
                // serde_json reads floats to within an ulp or so (no `float_roundtrip`).
                Want::Num(x) if x.is_finite() => {
                    let got = v.as_f64().unwrap();
                    assert!(
                        (got - x).abs() <= x.abs() * 1e-15,
                        "case {case}: {got} for {x}"
                    );
                }
                Want::Num(_) => assert!(v.is_null(), "case {case}"),
                Want::Int(x) => assert_eq!(v.as_i64(), Some(*x), "case {case}"),
                Want::Bool(b) => assert_eq!(v.as_bool(), Some(*b), "case {case}"),
            }
        }
    }
    assert!(whole > 300 && cut > 300, "{whole} whole, {cut} cut");
}

#[test]
fn an_error_with_quotes_is_escaped_and_a_long_one_is_cut_with_a_mark() {
    let e = std::io::Error::other(r#"open "/dev/video0": no such \ device"#);
    let d = Detail::new(&[("why", Value::Text(&e))]);
    assert_eq!(
        d.as_str(),
        r#"{"why":"open \"/dev/video0\": no such \\ device"}"#
    );
    let long = "é".repeat(200); // 400 bytes
    let d = Detail::new(&[("rule", "door".into()), ("why", Value::Str(&long))]);
    assert!(
        d.len() <= DETAIL_CAP && d.len() > DETAIL_CAP - 4,
        "{}",
        d.len()
    );
    let v: serde_json::Value = serde_json::from_str(&d).unwrap();
    assert_eq!(v["rule"], "door", "the short text is whole");
    let why = v["why"].as_str().unwrap();
    assert!(why.ends_with('…') && why.trim_end_matches('…').chars().all(|c| c == 'é'));
}

#[test]
fn numbers_print_as_the_rules_always_printed_them() {
    let d = Detail::new(&[
        ("rule", "gate".into()),
        ("count_ltr", 3u64.into()),
        ("dwell_s", rounded(8.0, 1).into()),
        ("turn_rate", rounded(1.234_567, 2).into()),
        ("active", true.into()),
    ]);
    assert_eq!(
        d.as_str(),
        r#"{"rule":"gate","count_ltr":3,"dwell_s":8.0,"turn_rate":1.23,"active":true}"#
    );
    assert_eq!(rounded(0.25, 1), 0.2, "as `{{:.1}}` rounds a tie");
    assert_eq!(rounded(f64::MAX, 2), f64::MAX);
    assert_eq!(Detail::new(&[]).as_str(), "{}");
}

#[test]
fn building_a_detail_does_not_allocate() {
    let long = "x".repeat(500);
    let ((), n) = crate::alloc_count::count(|| {
        for _ in 0..100 {
            let d = Detail::new(&[
                ("rule", Value::Str(&long)),
                ("people", 3u64.into()),
                ("dwell_s", rounded(2.25, 1).into()),
            ]);
            assert!(d.len() <= DETAIL_CAP);
        }
    });
    assert_eq!(n, 0);
}
