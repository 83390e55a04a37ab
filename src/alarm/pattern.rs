//! Output patterns: the level an output should have a given time after its activation began.
//!
//! Patterns are pure functions of elapsed time, so the output thread can tick at any rate and
//! tests can evaluate them on simulated time.

use std::time::Duration;

/// How an active output is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// On for the whole activation.
    Steady,
    /// On for `on`, off for `off`, repeating.
    Pulse { on: Duration, off: Duration },
    /// The temporal-three cadence of ISO 8201 evacuation signals: three 0.5 s beeps with 0.5 s
    /// gaps, then 1.5 s of silence (a 4 s cycle). Recognisable, and it rests a relay-driven siren.
    Siren,
}

/// Why a pattern string was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pattern `{0}`: expected `steady`, `siren` or `pulse:ON_MS/OFF_MS` (each 1..=60000)")]
pub struct PatternError(pub String);

const SIREN: [(bool, u64); 6] = [
    (true, 500),
    (false, 500),
    (true, 500),
    (false, 500),
    (true, 500),
    (false, 1500),
];

impl Pattern {
    /// Parses `steady`, `siren` or `pulse:200/800`.
    pub fn parse(s: &str) -> Result<Pattern, PatternError> {
        let err = || PatternError(s.to_owned());
        match s {
            "steady" => Ok(Pattern::Steady),
            "siren" => Ok(Pattern::Siren),
            _ => {
                let spec = s.strip_prefix("pulse:").ok_or_else(err)?;
                let (on, off) = spec.split_once('/').ok_or_else(err)?;
                let ms = |v: &str| match v.trim().parse::<u64>() {
                    Ok(n) if (1..=60_000).contains(&n) => Ok(Duration::from_millis(n)),
                    _ => Err(err()),
                };
                Ok(Pattern::Pulse {
                    on: ms(on)?,
                    off: ms(off)?,
                })
            }
        }
    }

    /// Whether the output is on `elapsed` after the activation began.
    pub fn level(&self, elapsed: Duration) -> bool {
        match *self {
            Pattern::Steady => true,
            Pattern::Pulse { on, off } => {
                let period = (on + off).as_millis().max(1);
                elapsed.as_millis() % period < on.as_millis()
            }
            Pattern::Siren => {
                let mut t = (elapsed.as_millis() % 4000) as u64;
                for (level, len) in SIREN {
                    if t < len {
                        return level;
                    }
                    t -= len;
                }
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(p: Pattern, ms: u64) -> bool {
        p.level(Duration::from_millis(ms))
    }

    #[test]
    fn patterns_parse_and_keep_time() {
        assert_eq!(Pattern::parse("steady"), Ok(Pattern::Steady));
        let p = Pattern::parse("pulse:200/800").unwrap();
        assert!(at(p, 0) && at(p, 199));
        assert!(!at(p, 200) && !at(p, 999));
        assert!(at(p, 1000) && at(p, 5150));
        let s = Pattern::Siren;
        let on: Vec<bool> = (0..8).map(|i| at(s, i * 500 + 250)).collect();
        assert_eq!(on, [true, false, true, false, true, false, false, false]);
        assert!(at(s, 4000), "the cycle repeats");
        for bad in ["pulse", "pulse:0/10", "pulse:10", "blink", "pulse:a/b"] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }
}
