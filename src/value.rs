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

use indexmap::IndexMap;

use crate::error::{Error, ErrorKind, Result};
use crate::ndarray::{DType, NDArray, Order};
use crate::shm::SharedMemory;
use crate::worker_object::WorkerObject;

/// Deepest nesting the parser accepts. Every walk over a value (parse, write,
/// clone, compare, drop, decode) keeps its own stack on the heap, so depth
/// costs no thread stack; the bound caps what one line may make us allocate,
/// as a level costs a few hundred bytes of heap for one byte of input (a
/// 256 MiB line of `[` would ask for tens of GiB; this bound, tens of MiB).
/// It is far beyond what a worker sends: Python's `json` stops at its
/// recursion limit, 1,000 by default.
pub const MAX_DEPTH: usize = 100_000;

/// The parse error for input nested deeper than [`MAX_DEPTH`].
const TOO_DEEP: &str = "nesting deeper than 100000 levels";

/// A JSON value, extended with non-finite numbers.
///
/// Values may be nested to any depth without risk to the stack: `Clone`,
/// `PartialEq`, `Debug`, dropping, writing and decoding walk them with a
/// heap stack. Because `Value` implements `Drop`, a field cannot be moved out
/// of it by a pattern: match on a reference, or use [`Value::into_array`],
/// [`Value::into_object`], [`Value::into_string`] or `std::mem::take`.
#[derive(Default)]
pub enum Value {
    #[default]
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
    WorkerObject(WorkerObject),
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
///
/// Lookup and insertion take constant time (amortised), so a worker's
/// object with a million keys parses in linear time; [`Map::remove`] is
/// linear, as it keeps the order of the other keys. Two maps are equal when
/// they hold the same entries in the same order.
///
/// The index is boxed so that a [`Value`] stays small (48 bytes): values
/// are moved around a lot, and most objects are few.
#[derive(Clone, Default)]
pub struct Map(Box<IndexMap<String, Value>>);

impl Map {
    pub fn new() -> Self {
        Map(Box::default())
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Map(Box::new(IndexMap::with_capacity(n)))
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.0.get_mut(key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Sets `key`. An existing key keeps its position and takes the new
    /// value; the old value is returned.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        self.0.insert(key.into(), value)
    }

    /// Removes `key`, keeping the order of the others (linear time).
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.0.shift_remove(key)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Entry `i` in insertion order.
    pub fn get_index(&self, i: usize) -> Option<(&str, &Value)> {
        self.0.get_index(i).map(|(k, v)| (k.as_str(), v))
    }

    /// The position of `key` in insertion order.
    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.0.get_index_of(key)
    }

    /// The entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The values in insertion order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.0.values()
    }

    /// Compact JSON text of the object (see [`Value::to_json`]).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// Appends the object's JSON text to `out` (see [`Value::to_json`]).
    pub fn write_json(&self, out: &mut String) {
        walk_map(self, &mut |step| write_step(step, out));
    }
}

/// The entries of a [`Map`], by value, in insertion order.
pub struct IntoIter(indexmap::map::IntoIter<String, Value>);

impl Iterator for IntoIter {
    type Item = (String, Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = IntoIter;

    fn into_iter(self) -> IntoIter {
        IntoIter((*self.0).into_iter())
    }
}

impl<K: Into<String>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(entries: I) -> Self {
        let mut m = Map::new();
        for (k, v) in entries {
            m.insert(k, v);
        }
        m
    }
}

impl PartialEq for Map {
    fn eq(&self, other: &Self) -> bool {
        let mut pairs = Vec::new();
        map_pairs(self, other, &mut pairs) && all_equal(pairs)
    }
}

impl std::fmt::Debug for Map {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut res = Ok(());
        walk_map(self, &mut |step| {
            if res.is_ok() {
                res = debug_step(step, f);
            }
        });
        res
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

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The items, when this is an array (`Drop` forbids moving them out by a
    /// pattern).
    pub fn into_array(mut self) -> Option<Vec<Value>> {
        match &mut self {
            Value::Array(items) => Some(std::mem::take(items)),
            _ => None,
        }
    }

    /// The map, when this is an object.
    pub fn into_object(mut self) -> Option<Map> {
        match &mut self {
            Value::Object(m) => Some(std::mem::take(m)),
            _ => None,
        }
    }

    /// The text, when this is a string.
    pub fn into_string(mut self) -> Option<String> {
        match &mut self {
            Value::String(s) => Some(std::mem::take(s)),
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
        walk(self, &mut |step| write_step(step, out));
    }

    /// Calls `f` on every shared memory block this value refers to.
    pub fn for_each_shm(&self, f: &mut impl FnMut(&SharedMemory)) {
        walk(self, &mut |step| match step {
            Step::Leaf(Value::Shm(s)) => f(s),
            Step::Leaf(Value::NDArray(a)) => f(a.shm()),
            _ => {}
        });
    }

    /// Calls `f` with every worker object in the value, at any depth.
    pub fn for_each_worker_object(&self, f: &mut impl FnMut(&WorkerObject)) {
        walk(self, &mut |step| {
            if let Step::Leaf(Value::WorkerObject(w)) = step {
                f(w)
            }
        });
    }
}

// Walking a value.
//
// Everything that visits a whole value goes through `walk` (or, building
// one, `Builder`), which keep their stacks on the heap: a worker may send
// nesting far deeper than any thread stack could recurse through.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Array,
    Object,
}

/// One event of a depth-first walk, in document order.
enum Step<'a> {
    /// A value that is not an array or an object.
    Leaf(&'a Value),
    Open(Kind),
    /// The key of the object member whose value comes next.
    Key(&'a str),
    /// Between two items or members of the innermost container.
    Next,
    Close(Kind),
}

enum Frame<'a> {
    Array(std::slice::Iter<'a, Value>),
    Object(indexmap::map::Iter<'a, String, Value>),
}

/// Walks `root` depth-first, calling `f` on each step.
fn walk<'a>(root: &'a Value, f: &mut impl FnMut(Step<'a>)) {
    let mut stack = Vec::new();
    enter(root, &mut stack, f);
    walk_stack(stack, f);
}

/// Walks an object given as its map.
fn walk_map<'a>(root: &'a Map, f: &mut impl FnMut(Step<'a>)) {
    f(Step::Open(Kind::Object));
    walk_stack(vec![(Frame::Object(root.0.iter()), true)], f);
}

fn enter<'a>(v: &'a Value, stack: &mut Vec<(Frame<'a>, bool)>, f: &mut impl FnMut(Step<'a>)) {
    match v {
        Value::Array(items) => {
            f(Step::Open(Kind::Array));
            stack.push((Frame::Array(items.iter()), true));
        }
        Value::Object(m) => {
            f(Step::Open(Kind::Object));
            stack.push((Frame::Object(m.0.iter()), true));
        }
        leaf => f(Step::Leaf(leaf)),
    }
}

/// Runs a walk to its end; each frame is an open container and whether its
/// next item is its first.
fn walk_stack<'a>(mut stack: Vec<(Frame<'a>, bool)>, f: &mut impl FnMut(Step<'a>)) {
    while let Some((frame, first)) = stack.last_mut() {
        let (kind, next) = match frame {
            Frame::Array(it) => (Kind::Array, it.next().map(|v| (None, v))),
            Frame::Object(it) => (Kind::Object, it.next().map(|(k, v)| (Some(k.as_str()), v))),
        };
        let Some((key, v)) = next else {
            stack.pop();
            f(Step::Close(kind));
            continue;
        };
        if !std::mem::replace(first, false) {
            f(Step::Next);
        }
        if let Some(k) = key {
            f(Step::Key(k));
        }
        enter(v, &mut stack, f);
    }
}

fn write_step(step: Step<'_>, out: &mut String) {
    match step {
        Step::Leaf(v) => write_leaf(v, out),
        Step::Open(Kind::Array) => out.push('['),
        Step::Open(Kind::Object) => out.push('{'),
        Step::Key(k) => {
            write_json_string(k, out);
            out.push(':');
        }
        Step::Next => out.push(','),
        Step::Close(Kind::Array) => out.push(']'),
        Step::Close(Kind::Object) => out.push('}'),
    }
}

fn write_leaf(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(n.as_str()),
        Value::String(s) => write_json_string(s, out),
        Value::Shm(shm) => write_shm(shm, out),
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
            write_shm(a.shm(), out);
            out.push('}');
        }
        Value::WorkerObject(w) => {
            out.push_str("{\"appose_type\":\"worker_object\",\"var_name\":");
            write_json_string(w.name(), out);
            out.push('}');
        }
        Value::Array(_) | Value::Object(_) => unreachable!("walks open containers"),
    }
}

fn write_shm(shm: &SharedMemory, out: &mut String) {
    let _ = write!(
        out,
        "{{\"appose_type\":\"shm\",\"name\":\"{}\",\"rsize\":{}}}",
        shm.name(),
        shm.rsize()
    );
}

fn debug_step(step: Step<'_>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    match step {
        Step::Leaf(v) => match v {
            Value::Null => f.write_str("Null"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Number(n) => write!(f, "Number({})", n.as_str()),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::Shm(s) => write!(f, "Shm({s:?})"),
            Value::NDArray(a) => write!(f, "NDArray({a:?})"),
            Value::WorkerObject(w) => write!(f, "WorkerObject({:?})", w.name()),
            Value::Array(_) | Value::Object(_) => unreachable!("walks open containers"),
        },
        Step::Open(Kind::Array) => f.write_str("Array(["),
        Step::Open(Kind::Object) => f.write_str("Object({"),
        Step::Key(k) => write!(f, "{k:?}: "),
        Step::Next => f.write_str(", "),
        Step::Close(Kind::Array) => f.write_str("])"),
        Step::Close(Kind::Object) => f.write_str("})"),
    }
}

impl std::fmt::Debug for Value {
    /// Like a derived `Debug`, without recursion (`{:#?}` is not indented).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut res = Ok(());
        walk(self, &mut |step| {
            if res.is_ok() {
                res = debug_step(step, f);
            }
        });
        res
    }
}

/// Builds values bottom-up without recursion: each open container is a
/// frame on a heap stack, innermost last.
#[derive(Default)]
struct Builder {
    open: Vec<Open>,
}

enum Open {
    Array(Vec<Value>),
    /// The members so far and the key of the member whose value comes
    /// next. They become a map at the close, sized once: growing the map
    /// as members came rehashed it each time it doubled.
    Object(Vec<(String, Value)>, String),
}

impl Builder {
    fn depth(&self) -> usize {
        self.open.len()
    }

    fn innermost(&self) -> Option<Kind> {
        self.open.last().map(|o| match o {
            Open::Array(_) => Kind::Array,
            Open::Object(..) => Kind::Object,
        })
    }

    fn open(&mut self, kind: Kind) {
        self.open.push(match kind {
            Kind::Array => Open::Array(Vec::new()),
            Kind::Object => Open::Object(Vec::new(), String::new()),
        });
    }

    /// The key of the next item of the innermost (object) container.
    fn key(&mut self, key: String) {
        if let Some(Open::Object(_, next)) = self.open.last_mut() {
            *next = key;
        }
    }

    /// Adds a finished value to the innermost container; hands it back when
    /// there is none (it is the root).
    fn push(&mut self, v: Value) -> Option<Value> {
        match self.open.last_mut() {
            None => return Some(v),
            Some(Open::Array(items)) => items.push(v),
            Some(Open::Object(members, key)) => members.push((std::mem::take(key), v)),
        }
        None
    }

    /// Closes the innermost container and returns it, for [`Builder::push`].
    fn close(&mut self) -> Value {
        match self.open.pop() {
            Some(Open::Array(mut items)) => {
                // A large array gives back its slack (up to half, from
                // doubling); for a small one a realloc would cost more than
                // it saves.
                if items.len() >= 1024 {
                    items.shrink_to_fit();
                }
                Value::Array(items)
            }
            Some(Open::Object(members, _)) => {
                let mut m = Map::with_capacity(members.len());
                // IndexMap's insert keeps a repeated key's first position and
                // takes its last value, as Python's json does.
                for (k, v) in members {
                    m.0.insert(k, v);
                }
                Value::Object(m)
            }
            None => unreachable!("close without open"),
        }
    }
}

impl Clone for Value {
    fn clone(&self) -> Self {
        if !matches!(self, Value::Array(_) | Value::Object(_)) {
            return clone_leaf(self);
        }
        let mut b = Builder::default();
        let mut root = None;
        walk(self, &mut |step| {
            let done = match step {
                Step::Leaf(v) => b.push(clone_leaf(v)),
                Step::Open(kind) => {
                    b.open(kind);
                    None
                }
                Step::Key(k) => {
                    b.key(k.to_owned());
                    None
                }
                Step::Next => None,
                Step::Close(_) => {
                    let v = b.close();
                    b.push(v)
                }
            };
            if done.is_some() {
                root = done;
            }
        });
        root.unwrap_or_else(|| unreachable!("a walk ends by closing its root"))
    }
}

fn clone_leaf(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::Bool(b) => Value::Bool(*b),
        Value::Number(n) => Value::Number(n.clone()),
        Value::String(s) => Value::String(s.clone()),
        Value::Shm(s) => Value::Shm(s.clone()),
        Value::NDArray(a) => Value::NDArray(a.clone()),
        Value::WorkerObject(w) => Value::WorkerObject(w.clone()),
        Value::Array(_) | Value::Object(_) => unreachable!("walks open containers"),
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        all_equal(vec![(self, other)])
    }
}

/// Queues the value pairs of two maps whose keys agree in order; false when
/// they do not.
fn map_pairs<'a>(a: &'a Map, b: &'a Map, pairs: &mut Vec<(&'a Value, &'a Value)>) -> bool {
    if a.len() != b.len() {
        return false;
    }
    for ((ka, va), (kb, vb)) in a.0.iter().zip(b.0.iter()) {
        if ka != kb {
            return false;
        }
        pairs.push((va, vb));
    }
    true
}

fn all_equal<'a>(mut pairs: Vec<(&'a Value, &'a Value)>) -> bool {
    while let Some(pair) = pairs.pop() {
        let same = match pair {
            (Value::Array(a), Value::Array(b)) => {
                if a.len() != b.len() {
                    return false;
                }
                pairs.extend(a.iter().zip(b));
                true
            }
            (Value::Object(a), Value::Object(b)) => map_pairs(a, b, &mut pairs),
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Shm(a), Value::Shm(b)) => a == b,
            (Value::NDArray(a), Value::NDArray(b)) => a == b,
            (Value::WorkerObject(a), Value::WorkerObject(b)) => a.name() == b.name(),
            _ => false,
        };
        if !same {
            return false;
        }
    }
    true
}

/// True for an array or object with something in it.
fn has_children(v: &Value) -> bool {
    match v {
        Value::Array(items) => !items.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => false,
    }
}

/// Moves the children of `v` onto `stack` when one of them has children of
/// its own; otherwise `v` drops with one level of recursion at most.
fn take_nested(v: &mut Value, stack: &mut Vec<Value>) {
    match v {
        Value::Array(items) if items.iter().any(has_children) => stack.append(items),
        Value::Object(m) if m.0.values().any(has_children) => {
            stack.extend(m.0.drain(..).map(|(_, v)| v));
        }
        _ => {}
    }
}

impl Drop for Value {
    /// Drops nested values from a heap stack rather than by recursion.
    fn drop(&mut self) {
        let mut stack = Vec::new();
        take_nested(self, &mut stack);
        while let Some(mut v) = stack.pop() {
            take_nested(&mut v, &mut stack);
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
/// not exist, a malformed field) are reported in `errors`, in document order,
/// and left as they were.
pub fn decode(mut v: Value, owner: BlockOwner, errors: &mut Vec<Error>) -> Value {
    // In place, from a heap stack: any depth is safe.
    let mut stack = vec![&mut v];
    while let Some(v) = stack.pop() {
        let typed = match &*v {
            Value::Object(m) => match m.get("appose_type").and_then(Value::as_str) {
                Some(tag) => decode_tagged(tag, m, owner).transpose(),
                None => None,
            },
            _ => None,
        };
        match typed {
            Some(Ok(typed)) => *v = typed,
            // Left as it was, contents included.
            Some(Err(e)) => errors.push(e),
            // Reversed, so that items are visited in document order.
            None => match v {
                Value::Array(items) => stack.extend(items.iter_mut().rev()),
                Value::Object(m) => stack.extend(m.0.values_mut().rev()),
                _ => {}
            },
        }
    }
    v
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
            format!("{tag} value without \"{key}\": {}", m.to_json()),
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
            let shm = match &decode_strict(field(m, tag, "shm")?.clone(), owner)? {
                Value::Shm(s) => s.clone(),
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
            Ok(Some(Value::WorkerObject(WorkerObject::unbound(name))))
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
    let v = p.value()?;
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

    /// One whole value, containers built on a heap stack ([`Builder`]).
    fn value(&mut self) -> Result<Value, ParseError> {
        let mut b = Builder::default();
        loop {
            // Here a value starts.
            self.skip_ws();
            let mut done = match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    if b.depth() == MAX_DEPTH {
                        return self.err(TOO_DEEP);
                    }
                    self.pos += 1;
                    self.skip_ws();
                    let (kind, close) = match open {
                        b'{' => (Kind::Object, b'}'),
                        _ => (Kind::Array, b']'),
                    };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        match kind {
                            Kind::Object => Value::Object(Map::new()),
                            Kind::Array => Value::Array(Vec::new()),
                        }
                    } else {
                        b.open(kind);
                        if kind == Kind::Object {
                            self.key(&mut b)?;
                        }
                        continue;
                    }
                }
                _ => self.scalar()?,
            };
            // Here a value ended: add it to its container, closing every
            // container that ends after it.
            loop {
                let Some(kind) = b.innermost() else {
                    return Ok(done);
                };
                b.push(done);
                self.skip_ws();
                match (kind, self.peek()) {
                    (_, Some(b',')) => {
                        self.pos += 1;
                        if kind == Kind::Object {
                            self.key(&mut b)?;
                        }
                        break;
                    }
                    (Kind::Array, Some(b']')) | (Kind::Object, Some(b'}')) => {
                        self.pos += 1;
                        done = b.close();
                    }
                    (Kind::Array, _) => return self.err("expected ',' or ']'"),
                    (Kind::Object, _) => return self.err("expected ',' or '}'"),
                }
            }
        }
    }

    /// An object member's key and its ':'.
    fn key(&mut self, b: &mut Builder) -> Result<(), ParseError> {
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
        b.key(key);
        Ok(())
    }

    /// A value that is not an array or an object.
    fn scalar(&mut self) -> Result<Value, ParseError> {
        match self.peek() {
            None => self.err("unexpected end of text"),
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
    fn depth_is_bounded_generously() {
        assert_eq!(TOO_DEEP, format!("nesting deeper than {MAX_DEPTH} levels"));
        let at_limit = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&at_limit).is_ok());
        let over = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        let e = parse(&over).unwrap_err();
        assert_eq!((e.reason, e.offset), (TOO_DEEP, MAX_DEPTH));
        let e = parse(&"{\"k\":".repeat(MAX_DEPTH + 1)).unwrap_err();
        assert_eq!((e.reason, e.offset), (TOO_DEEP, 5 * MAX_DEPTH));
    }

    // Nesting as deep as the parser accepts, handled on a thread whose stack
    // holds a few thousand frames at most: recursion through such a value
    // overflows it and aborts the test binary.

    /// `[{"k":[{"k":...leaf...}]}]`, lists and objects alternating.
    fn deep_text(leaf: &str) -> String {
        let mut s = String::new();
        for i in 0..MAX_DEPTH {
            s.push_str(if i % 2 == 0 { "[" } else { "{\"k\":" });
        }
        s.push_str(leaf);
        for i in (0..MAX_DEPTH).rev() {
            s.push(if i % 2 == 0 { ']' } else { '}' });
        }
        s
    }

    /// The value of `deep_text`, built from the inside out.
    fn deep_value(leaf: Value) -> Value {
        let mut v = leaf;
        for i in (0..MAX_DEPTH).rev() {
            v = if i % 2 == 0 {
                Value::Array(vec![v])
            } else {
                let mut m = Map::new();
                m.insert("k", v);
                Value::Object(m)
            };
        }
        v
    }

    /// The innermost value of a `deep_value`.
    fn innermost(v: &Value) -> &Value {
        let mut v = v;
        for i in 0..MAX_DEPTH {
            v = match v {
                Value::Array(items) if i % 2 == 0 => &items[0],
                Value::Object(m) if i % 2 == 1 => m.get("k").unwrap(),
                other => panic!("level {i} is not as built: {:?}", other.to_json().get(..40)),
            };
        }
        v
    }

    fn on_small_stack(f: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn deep_values_parse_on_a_small_stack() {
        let text = deep_text("1");
        on_small_stack(move || {
            let v = parse(&text).unwrap();
            assert_eq!(innermost(&v), &Value::from(1i64));
            let (v, end) = parse_prefix(text.as_bytes(), 0).unwrap();
            assert_eq!(end, text.len());
            drop(v);
        });
    }

    #[test]
    fn deep_values_are_written_on_a_small_stack() {
        let v = deep_value(Value::from(1i64));
        let text = deep_text("1");
        on_small_stack(move || {
            assert_eq!(v.to_json(), text);
            let mut m = Map::new();
            m.insert("r", v);
            assert_eq!(m.to_json(), format!("{{\"r\":{text}}}"));
        });
    }

    #[test]
    fn deep_values_drop_on_a_small_stack() {
        let v = deep_value(Value::from("x"));
        let mut m = Map::new();
        m.insert("a", deep_value(Value::Null));
        on_small_stack(move || {
            drop(v);
            drop(m);
        });
    }

    #[test]
    fn deep_values_clone_and_compare_on_a_small_stack() {
        let v = deep_value(Value::from(1i64));
        let other = deep_value(Value::from(2i64));
        on_small_stack(move || {
            let copy = v.clone();
            assert_eq!(innermost(&copy), &Value::from(1i64));
            assert!(copy == v);
            // Only the innermost values differ: the comparison reaches them.
            assert!(copy != other);
            let mut m = Map::new();
            m.insert("r", v);
            assert!(m.clone() == m);
        });
    }

    #[test]
    fn deep_values_debug_on_a_small_stack() {
        let v = deep_value(Value::from("x"));
        on_small_stack(move || {
            let text = format!("{v:?}");
            assert!(text.starts_with("Array([Object({\"k\": Array(["));
            assert!(text.contains("String(\"x\")"));
            assert!(text.ends_with("])})])"));
        });
    }

    #[test]
    fn deep_values_shm_walk_on_a_small_stack() {
        let shm = SharedMemory::create(64).unwrap();
        let name = shm.name().to_owned();
        let v = deep_value(Value::Shm(shm));
        on_small_stack(move || {
            let mut seen = Vec::new();
            v.for_each_shm(&mut |s| seen.push(s.name().to_owned()));
            assert_eq!(seen, [name]);
        });
    }

    #[test]
    fn deep_values_decode_on_a_small_stack() {
        let leaf = parse(r#"{"appose_type":"worker_object","var_name":"w"}"#).unwrap();
        let v = deep_value(leaf);
        on_small_stack(move || {
            let mut errors = Vec::new();
            let v = decode(v, BlockOwner::Others, &mut errors);
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(
                innermost(&v),
                &Value::WorkerObject(WorkerObject::unbound("w"))
            );
        });
    }

    #[test]
    fn decode_reports_errors_in_document_order_and_keeps_the_objects() {
        let text = r#"[{"appose_type":"shm","name":"a"},{"x":{"appose_type":"ndarray"}},{"appose_type":"worker_object","var_name":"w"}]"#;
        let mut errors = Vec::new();
        let v = decode(parse(text).unwrap(), BlockOwner::Others, &mut errors);
        let messages: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("without \"rsize\""), "{messages:?}");
        assert!(messages[1].contains("without \"dtype\""), "{messages:?}");
        assert_eq!(
            v.to_json(),
            r#"[{"appose_type":"shm","name":"a"},{"x":{"appose_type":"ndarray"}},{"appose_type":"worker_object","var_name":"w"}]"#
        );
        assert_eq!(
            v.as_array().unwrap()[2],
            Value::WorkerObject(WorkerObject::unbound("w"))
        );
    }

    #[test]
    fn big_objects_keep_order_and_find_every_key() {
        let n = 200_000;
        let mut text = String::from("{");
        for i in 0..n {
            text.push_str(&format!("\"label_{i}\":{i},"));
        }
        // A repeated key keeps its first position and takes the last value.
        text.push_str("\"label_7\":-7}");
        let mut m = parse(&text).unwrap().into_object().unwrap();
        assert_eq!(m.len(), n);
        for i in 0..n {
            let want = if i == 7 { -7 } else { i as i64 };
            assert_eq!(
                m.get(&format!("label_{i}")).and_then(Value::as_i64),
                Some(want)
            );
        }
        assert!(m.keys().enumerate().all(|(i, k)| k == format!("label_{i}")));
        assert!(!m.contains_key("label_200000"));
        // Removing keeps the others' order; inserting an existing key keeps
        // its place.
        assert_eq!(m.remove("label_1").and_then(|v| v.as_i64()), Some(1));
        assert_eq!(m.insert("label_0", Value::Null), Some(Value::from(0i64)));
        m.insert("new", Value::Null);
        let keys: Vec<&str> = m.keys().take(3).collect();
        assert_eq!(keys, ["label_0", "label_2", "label_3"]);
        assert_eq!(m.keys().last(), Some("new"));
        assert_eq!(m.len(), n);
    }

    #[test]
    fn values_stay_small() {
        // The map's index is boxed for this (see `Map`).
        assert!(std::mem::size_of::<Value>() <= 48);
    }

    #[test]
    fn maps_are_equal_only_in_the_same_order() {
        let a = parse(r#"{"a":1,"b":[2]}"#).unwrap();
        assert_eq!(a, parse(r#"{"a":1,"b":[2]}"#).unwrap());
        assert_ne!(a, parse(r#"{"b":[2],"a":1}"#).unwrap());
        assert_ne!(a, parse(r#"{"a":1,"b":[3]}"#).unwrap());
        assert_ne!(a, parse(r#"{"a":1}"#).unwrap());
        assert_ne!(parse("[1]").unwrap(), parse("[1,1]").unwrap());
        assert_ne!(Value::from(1i64), Value::from(1.0));
        assert_eq!(
            format!("{a:?}"),
            r#"Object({"a": Number(1), "b": Array([Number(2)])})"#
        );
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
