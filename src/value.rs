//! Values exchanged with workers, and their JSON text.
//!
//! This module owns [`Value`], the JSON parser and writer, and the
//! `appose_type` codec: JSON objects tagged `shm`, `ndarray` or
//! `worker_object` become [`Value::Shm`], [`Value::NDArray`] and
//! [`Value::WorkerObject`] ([`decode`]) and are written back in the same form.
//! No threads; decoding attaches shared memory blocks.
//!
//! Why not `serde_json`: the Python worker writes non-finite floats as bare
//! `NaN`, `Infinity` and `-Infinity`, and integers wider than 64 bits. serde_json
//! refuses the former and (without its `arbitrary_precision` mode) rounds the
//! latter, and its `Value` cannot hold a NaN at all. Values cross our C ABI as
//! JSON text, so they must survive a round trip byte for byte. A number is
//! therefore kept as its validated source text ([`Number`]), and the parser
//! accepts exactly JSON plus the three non-finite literals. The parser also
//! reports where a value ends, which the protocol reader needs to split lines
//! on which the worker glued several responses together.

use std::fmt::Write as _;

use crate::error::{Error, ErrorKind, Result};
use crate::ndarray::{DType, NDArray, Order};
use crate::shm::SharedMemory;

/// Deepest nesting the parser accepts; deeper input is refused rather than
/// risking the reader thread's stack.
pub(crate) const MAX_DEPTH: usize = 512;

/// A JSON value, extended with non-finite numbers.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Map),
    /// A shared memory block (`{"appose_type":"shm","name":..,"rsize":..}`).
    Shm(SharedMemory),
    /// An array over shared memory (`{"appose_type":"ndarray",..}`).
    NDArray(NDArray),
    /// A worker-side object exported under a variable name
    /// (`{"appose_type":"worker_object","var_name":..}`).
    WorkerObject(String),
}

/// A number, kept as the text that denotes it (JSON grammar, or `NaN`,
/// `Infinity`, `-Infinity`), so that neither precision nor width is lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Number(String);

impl Number {
    /// The number's text, exactly as it will be written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as an `i64`, when it is an integer that fits (`5.0` counts).
    pub fn as_i64(&self) -> Option<i64> {
        if let Ok(i) = self.0.parse::<i64>() {
            return Some(i);
        }
        let f = self.as_f64();
        if f.is_finite() && f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
            Some(f as i64)
        } else {
            None
        }
    }

    /// The value as an `f64` (wide integers are rounded).
    pub fn as_f64(&self) -> f64 {
        match self.0.as_str() {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            s => s.parse().unwrap_or(f64::NAN),
        }
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        Number(v.to_string())
    }
}

impl From<f64> for Number {
    fn from(v: f64) -> Self {
        if v.is_nan() {
            Number("NaN".into())
        } else if v.is_infinite() {
            Number(if v > 0.0 { "Infinity" } else { "-Infinity" }.into())
        } else {
            // `{:?}` is the shortest text that reads back as the same f64 and
            // always has a '.' or an exponent, so a float stays a float.
            Number(format!("{v:?}"))
        }
    }
}

/// A JSON object: keys in insertion order. On parse, a repeated key keeps its
/// first position and takes the last value, as Python's `json` does.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map(Vec<(String, Value)>);

impl Map {
    pub fn new() -> Self {
        Map(Vec::new())
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key`, replacing an existing entry in place.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The value as an `f64`, when it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(n.as_f64()),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Looks `key` up when this is an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|m| m.get(key))
    }

    /// Compact JSON text, ASCII only (non-ASCII escaped as `\uXXXX`), with
    /// non-finite numbers as bare literals. ASCII keeps the worker independent
    /// of its locale's encoding; Python's `json` reads the literals.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// Appends this value's JSON text to `out` (see [`Value::to_json`]).
    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(n.as_str()),
            Value::String(s) => write_json_string(s, out),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Object(map) => {
                out.push('{');
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(k, out);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
            Value::Shm(shm) => {
                let _ = write!(
                    out,
                    "{{\"appose_type\":\"shm\",\"name\":\"{}\",\"rsize\":{}}}",
                    shm.name(),
                    shm.rsize()
                );
            }
            Value::NDArray(a) => {
                let _ = write!(
                    out,
                    "{{\"appose_type\":\"ndarray\",\"dtype\":\"{}\",\"shape\":[",
                    a.dtype().name()
                );
                for (i, d) in a.shape().iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{d}");
                }
                out.push_str("],\"shm\":");
                Value::Shm(a.shm().clone()).write_json(out);
                out.push('}');
            }
            Value::WorkerObject(name) => {
                out.push_str("{\"appose_type\":\"worker_object\",\"var_name\":");
                write_json_string(name, out);
                out.push('}');
            }
        }
    }

    /// Calls `f` on every shared memory block this value refers to.
    pub fn for_each_shm(&self, f: &mut impl FnMut(&SharedMemory)) {
        match self {
            Value::Shm(s) => f(s),
            Value::NDArray(a) => f(a.shm()),
            Value::Array(items) => items.iter().for_each(|v| v.for_each_shm(f)),
            Value::Object(m) => m.iter().for_each(|(_, v)| v.for_each_shm(f)),
            _ => {}
        }
    }
}

/// Who owns the blocks that decoding attaches to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockOwner {
    /// Someone else (the caller's own JSON named them): only unmapped.
    Others,
    /// We do (a worker created them for us): unlinked with the last handle.
    Us,
}

/// Turns `appose_type` objects anywhere in `v` into typed values, attaching
/// to the blocks they name. Objects that cannot be decoded (a block that does
/// not exist, a malformed field) are reported in `errors` and left as they
/// were.
pub fn decode(v: Value, owner: BlockOwner, errors: &mut Vec<Error>) -> Value {
    match v {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|x| decode(x, owner, errors))
                .collect(),
        ),
        Value::Object(m) => {
            let tag = m
                .get("appose_type")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(tag) = tag {
                match decode_tagged(&tag, &m, owner) {
                    Ok(Some(typed)) => return typed,
                    Ok(None) => {}
                    Err(e) => {
                        errors.push(e);
                        return Value::Object(m);
                    }
                }
            }
            let mut out = Map::new();
            for (k, x) in m.0 {
                out.0.push((k, decode(x, owner, errors)));
            }
            Value::Object(out)
        }
        other => other,
    }
}

/// [`decode`], failing on the first object that cannot be decoded.
pub fn decode_strict(v: Value, owner: BlockOwner) -> Result<Value> {
    let mut errors = Vec::new();
    let v = decode(v, owner, &mut errors);
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(v),
    }
}

fn field<'a>(m: &'a Map, tag: &str, key: &str) -> Result<&'a Value> {
    m.get(key).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{tag} value without \"{key}\": {}",
                Value::Object(m.clone()).to_json()
            ),
        )
    })
}

fn usize_field(v: &Value, what: &str) -> Result<usize> {
    v.as_i64()
        .and_then(|i| usize::try_from(i).ok())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{what} must be a non-negative integer, not {}", v.to_json()),
            )
        })
}

fn decode_tagged(tag: &str, m: &Map, owner: BlockOwner) -> Result<Option<Value>> {
    match tag {
        "shm" => {
            let name = field(m, tag, "name")?.as_str().ok_or_else(|| {
                Error::new(ErrorKind::InvalidArgument, "shm name must be a string")
            })?;
            let rsize = usize_field(field(m, tag, "rsize")?, "shm rsize")?;
            let (shm, fresh) = SharedMemory::attach_or_share(name, Some(rsize))?;
            // A block mapped here already keeps the ownership it has.
            if fresh && owner == BlockOwner::Us {
                shm.set_unlink_on_drop(true);
            }
            Ok(Some(Value::Shm(shm)))
        }
        "ndarray" => {
            let dtype = field(m, tag, "dtype")?.as_str().ok_or_else(|| {
                Error::new(ErrorKind::InvalidArgument, "ndarray dtype must be a string")
            })?;
            let dtype = DType::from_name(dtype)?;
            let shape = match field(m, tag, "shape")? {
                Value::Array(dims) => dims
                    .iter()
                    .map(|d| usize_field(d, "ndarray shape entry"))
                    .collect::<Result<Vec<usize>>>()?,
                other => {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!("ndarray shape must be a list, not {}", other.to_json()),
                    ))
                }
            };
            let shm = match decode_strict(field(m, tag, "shm")?.clone(), owner)? {
                Value::Shm(s) => s,
                other => {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!("ndarray shm must be an shm value, not {}", other.to_json()),
                    ))
                }
            };
            Ok(Some(Value::NDArray(NDArray::wrap(
                shm,
                dtype,
                &shape,
                Order::C,
            )?)))
        }
        "worker_object" => {
            let name = field(m, tag, "var_name")?.as_str().ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    "worker_object var_name must be a string",
                )
            })?;
            Ok(Some(Value::WorkerObject(name.to_owned())))
        }
        _ => Ok(None),
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Number(v.into())
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Number(v.into())
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Object(m)
    }
}

/// Writes `s` as a JSON string literal, ASCII only.
pub fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Why a text is not a value, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the problem.
    pub offset: usize,
    pub reason: &'static str,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.offset)
    }
}

/// Parses a text holding exactly one value (surrounding whitespace allowed).
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let bytes = text.as_bytes();
    let (value, end) = parse_prefix(bytes, 0)?;
    let end = skip_ws(bytes, end);
    if end != bytes.len() {
        return Err(ParseError {
            offset: end,
            reason: "unexpected text after the value",
        });
    }
    Ok(value)
}

/// Parses one value starting at `start` (leading whitespace skipped) and
/// returns it with the offset just past it.
pub fn parse_prefix(bytes: &[u8], start: usize) -> Result<(Value, usize), ParseError> {
    let mut p = Parser { bytes, pos: start };
    p.skip_ws();
    let v = p.value(0)?;
    Ok((v, p.pos))
}

/// Offset of the first non-whitespace byte at or after `pos`.
pub fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b'\n' | b'\r') {
        pos += 1;
    }
    pos
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err<T>(&self, reason: &'static str) -> Result<T, ParseError> {
        Err(ParseError {
            offset: self.pos,
            reason,
        })
    }

    fn skip_ws(&mut self) {
        self.pos = skip_ws(self.bytes, self.pos);
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat_literal(&mut self, lit: &str) -> bool {
        if self.bytes[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return self.err("nesting too deep");
        }
        match self.peek() {
            None => self.err("unexpected end of text"),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') if self.eat_literal("true") => Ok(Value::Bool(true)),
            Some(b'f') if self.eat_literal("false") => Ok(Value::Bool(false)),
            Some(b'n') if self.eat_literal("null") => Ok(Value::Null),
            Some(b'N') if self.eat_literal("NaN") => Ok(Value::Number(Number("NaN".into()))),
            Some(b'I') if self.eat_literal("Infinity") => {
                Ok(Value::Number(Number("Infinity".into())))
            }
            Some(b'-') if self.eat_literal("-Infinity") => {
                Ok(Value::Number(Number("-Infinity".into())))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err("unexpected character"),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.pos += 1; // '{'
        let mut map = Map::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return self.err("expected a string key");
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return self.err("expected ':'");
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            map.insert(key, value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                _ => return self.err("expected ',' or '}'"),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return self.err("expected ',' or ']'"),
            }
        }
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        let b = self.bytes;
        let digits = |p: &mut usize| {
            let s = *p;
            while *p < b.len() && b[*p].is_ascii_digit() {
                *p += 1;
            }
            *p - s
        };
        let mut p = self.pos;
        if b[p] == b'-' {
            p += 1;
        }
        match b.get(p) {
            Some(b'0') => p += 1,
            Some(b'1'..=b'9') => {
                digits(&mut p);
            }
            _ => {
                self.pos = p;
                return self.err("invalid number");
            }
        }
        if b.get(p) == Some(&b'.') {
            p += 1;
            if digits(&mut p) == 0 {
                self.pos = p;
                return self.err("invalid number");
            }
        }
        if matches!(b.get(p), Some(b'e' | b'E')) {
            p += 1;
            if matches!(b.get(p), Some(b'+' | b'-')) {
                p += 1;
            }
            if digits(&mut p) == 0 {
                self.pos = p;
                return self.err("invalid number");
            }
        }
        self.pos = p;
        // The grammar above admits ASCII only, so this cannot fail.
        let text = std::str::from_utf8(&b[start..p]).unwrap_or("0");
        Ok(Value::Number(Number(text.to_owned())))
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let Some(chunk) = self.bytes.get(self.pos..self.pos + 4) else {
            return self.err("truncated \\u escape");
        };
        let mut v = 0u32;
        for &c in chunk {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return self.err("invalid \\u escape"),
            };
            v = v * 16 + u32::from(d);
        }
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            // Copy the run of plain bytes in one go.
            let run_start = self.pos;
            while self.pos < self.bytes.len() {
                let c = self.bytes[self.pos];
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            if self.pos > run_start {
                out.push_str(&String::from_utf8_lossy(&self.bytes[run_start..self.pos]));
            }
            match self.peek() {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(esc) = self.peek() else {
                        return self.err("unterminated string");
                    };
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{08}'),
                        b'f' => out.push('\u{0c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi)
                                && self.bytes[self.pos..].starts_with(b"\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                } else {
                                    self.pos = save;
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            // Lone surrogates (Python can emit them) become U+FFFD.
                            out.push(c.unwrap_or('\u{FFFD}'));
                        }
                        _ => {
                            self.pos -= 1;
                            return self.err("invalid escape");
                        }
                    }
                }
                Some(_) => return self.err("control character in string"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_python_output() {
        let text = r#"{"a":NaN,"b":[Infinity,-Infinity,1180591620717411303424,-0.5e-3],"c":"\u00e9\ud83d\ude00","d":null,"e":true}"#;
        let v = parse(text).unwrap();
        assert_eq!(v.to_json(), text);
        assert!(v.get("a").unwrap().as_i64().is_none());
        assert_eq!(v.get("c").unwrap().as_str().unwrap(), "é😀");
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            "", "{", "{\"a\"}", "[1,]", "01", "1.", "-", "nul", "\"abc", "{'a':1}", "[1] x",
            "\"\\x\"",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn prefix_parse_reports_the_end() {
        let b = br#"{"x":1}{"y":2}"#;
        let (v, end) = parse_prefix(b, 0).unwrap();
        assert_eq!(v.get("x").unwrap().as_i64(), Some(1));
        assert_eq!(end, 7);
        let (v, _) = parse_prefix(b, end).unwrap();
        assert_eq!(v.get("y").unwrap().as_i64(), Some(2));
    }

    #[test]
    fn lone_surrogate_becomes_replacement() {
        assert_eq!(parse(r#""\ud800x""#).unwrap(), Value::from("\u{FFFD}x"));
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 2);
        assert_eq!(parse(&deep).unwrap_err().reason, "nesting too deep");
    }

    #[test]
    fn repeated_key_keeps_last_value() {
        let v = parse(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(v.to_json(), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn floats_stay_floats() {
        assert_eq!(Value::from(1.0).to_json(), "1.0");
        assert_eq!(Value::from(f64::NAN).to_json(), "NaN");
        assert_eq!(Value::from(-f64::INFINITY).to_json(), "-Infinity");
    }
}
