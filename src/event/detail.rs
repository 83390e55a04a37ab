//! An event's `detail`: a small JSON object, built in this one place with `serde_json`, so it
//! is valid JSON whatever text goes in (config names, error messages) and never longer than
//! [`DETAIL_CAP`] bytes.
//!
//! When the fields would not fit, the longest text values are shortened first, each to the same
//! budget, cut on a character boundary and marked with `…`; only if the object still does not
//! fit with every text at nothing are the last fields left out. Numbers and keys are never cut,
//! so a reader sees either a field whole or not at all, and a string that ends in `…` may be a
//! prefix.
//!
//! Building one does not allocate: `serde_json` writes into a fixed buffer (and counts, to find
//! the budget, into nothing), so rule events stay off the heap on the hot thread.

use super::DETAIL_CAP;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::fmt::{self, Write as _};
use std::io;

/// The mark a shortened text ends with.
const CUT: &str = "…";

/// One value of a detail field.
#[derive(Clone, Copy)]
pub enum Value<'a> {
    /// A text, escaped as JSON; shortened if the object would be over the cap.
    Str(&'a str),
    /// The `Display` text of a value (an error, a status), as [`Value::Str`].
    Text(&'a dyn fmt::Display),
    /// A number; one that is not finite is written as `null`.
    F64(f64),
    I64(i64),
    U64(u64),
    Bool(bool),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Str(s)
    }
}

/// `From` for the plain values: each becomes its variant.
macro_rules! value_from {
    ($($t:ty => $variant:ident),*) => {$(
        impl From<$t> for Value<'_> {
            fn from(v: $t) -> Self {
                Value::$variant(v.into())
            }
        }
    )*};
}

value_from!(f64 => F64, i64 => I64, u64 => U64, u32 => U64, bool => Bool);

/// `v` as `format!("{v:.decimals$}")` would print it, as a number again: `8.0` stays `8.0` in
/// the JSON, `1.25` with one decimal is `1.2`. At most 6 decimals.
pub fn rounded(v: f64, decimals: usize) -> f64 {
    let mut s = heapless::String::<48>::new();
    match write!(s, "{v:.0$}", decimals.min(6)) {
        Ok(()) => s.parse().unwrap_or(v),
        Err(_) => v, // beyond 48 characters: so large that rounding changes nothing
    }
}

/// A `detail` JSON object of at most [`DETAIL_CAP`] bytes; empty means no detail. Only
/// [`Detail::new`] makes one, so it is always valid JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail(heapless::String<DETAIL_CAP>);

impl Detail {
    /// The object of `fields`, in order, shortened to the cap as the module docs say.
    pub fn new(fields: &[(&str, Value<'_>)]) -> Detail {
        let fit = |fields: &[(&str, Value<'_>)], budget| measure(fields, budget) <= DETAIL_CAP;
        if fit(fields, None) {
            return Detail::write(fields, None);
        }
        // Keep as many fields as fit with every text at nothing ("{}" always fits).
        let mut n = fields.len();
        while n > 0 && !fit(&fields[..n], Some(0)) {
            n -= 1;
        }
        let fields = &fields[..n];
        if fit(fields, None) {
            return Detail::write(fields, None);
        }
        // A large budget per text that fits: `lo` fits, `hi` does not. (The length is not quite
        // monotonic in the budget, since a cut text gains its mark, so this is close to the
        // largest rather than always it; what it returns always fits.)
        let longest = fields.iter().map(|(_, v)| text_len(v)).max().unwrap_or(0);
        let (mut lo, mut hi) = (0, longest);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fit(fields, Some(mid)) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Detail::write(fields, Some(lo))
    }

    fn write(fields: &[(&str, Value<'_>)], budget: Option<usize>) -> Detail {
        let mut out = Fixed(heapless::Vec::new());
        if serialize(&mut out, fields, budget).is_err() {
            return Detail::default(); // only if a value's `Display` fails
        }
        // serde_json writes UTF-8 and texts are cut on character boundaries.
        heapless::String::from_utf8(out.0).map_or_else(|_| Detail::default(), Detail)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Detail {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The bytes `fields` take as JSON, with texts cut to `budget`.
fn measure(fields: &[(&str, Value<'_>)], budget: Option<usize>) -> usize {
    let mut n = Count(0);
    match serialize(&mut n, fields, budget) {
        Ok(()) => n.0,
        Err(_) => usize::MAX,
    }
}

fn serialize<W: io::Write>(
    out: &mut W,
    fields: &[(&str, Value<'_>)],
    budget: Option<usize>,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::new(out);
    let mut map = ser.serialize_map(Some(fields.len()))?;
    for (key, value) in fields {
        map.serialize_entry(key, &Field { value, budget })?;
    }
    map.end()
}

/// The length in bytes of a text value, before escaping; 0 for the others.
fn text_len(v: &Value<'_>) -> usize {
    let mut n = Count(0);
    let _ = match v {
        Value::Str(s) => return s.len(),
        Value::Text(t) => write!(n, "{t}"),
        _ => Ok(()),
    };
    n.0
}

/// One value as serde sees it, its text cut to `budget` bytes.
struct Field<'v, 'a> {
    value: &'v Value<'a>,
    budget: Option<usize>,
}

impl Serialize for Field<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self.value {
            Value::Str(t) => s.collect_str(&Cut(&t, self.budget)),
            Value::Text(t) => s.collect_str(&Cut(t, self.budget)),
            Value::F64(v) => s.serialize_f64(v),
            Value::I64(v) => s.serialize_i64(v),
            Value::U64(v) => s.serialize_u64(v),
            Value::Bool(v) => s.serialize_bool(v),
        }
    }
}

/// A text cut to at most `budget` bytes on a character boundary, then marked with [`CUT`].
struct Cut<'a>(&'a dyn fmt::Display, Option<usize>);

impl fmt::Display for Cut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(budget) = self.1 else {
            return write!(f, "{}", self.0);
        };
        let mut limit = Limit {
            out: f,
            left: budget,
            cut: false,
        };
        write!(limit, "{}", self.0)?;
        if limit.cut {
            f.write_str(CUT)?;
        }
        Ok(())
    }
}

/// Passes text on until `left` bytes are used, then drops the rest and notes it.
struct Limit<'f, 'g> {
    out: &'f mut fmt::Formatter<'g>,
    left: usize,
    cut: bool,
}

impl fmt::Write for Limit<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.cut || s.is_empty() {
            return Ok(());
        }
        if s.len() <= self.left {
            self.left -= s.len();
            return self.out.write_str(s);
        }
        let mut end = self.left;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.left = 0;
        self.cut = true;
        self.out.write_str(&s[..end])
    }
}

/// Counts bytes, as `io::Write` for serde_json and as `fmt::Write` for texts.
struct Count(usize);

impl io::Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl fmt::Write for Count {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// The fixed buffer a detail is written into; [`Detail::new`] measured that it fits.
struct Fixed(heapless::Vec<u8, DETAIL_CAP>);

impl io::Write for Fixed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .extend_from_slice(buf)
            .map_err(|()| io::ErrorKind::WriteZero)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
