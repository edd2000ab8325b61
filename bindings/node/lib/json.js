'use strict';
// JSON as the workers write it, read exactly: NaN, Infinity and -Infinity
// as numbers, integers beyond 2^53 as BigInt (JSON.parse would round them,
// and refuses the non-finite literals). And the way back: BigInt as its
// digits, the non-finite numbers as the literals Python reads.

/** Objects that travel in their own form (arrays, blocks, worker objects) give it under this key. */
const ENCODE = Symbol('appose.encode');

// Text JSON.parse reads exactly: no non-finite literal and no run of 16
// digits (every integer of 15 digits or fewer is a safe integer). Anything
// else, including such text inside a string, takes the exact reader.
const MAYBE_INEXACT = /NaN|Infinity|\d{16}/;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const LITERALS = [['true', true], ['false', false], ['null', null],
  ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]];

function parse(text) {
  if (!MAYBE_INEXACT.test(text)) return JSON.parse(text);
  let i = 0;
  const ws = () => {
    for (;;) {
      const ch = text.charCodeAt(i);
      if (ch === 32 || ch === 9 || ch === 10 || ch === 13) i++;
      else return;
    }
  };
  const fail = (what) => {
    throw new SyntaxError(`${what} at offset ${i} of the worker's JSON`);
  };
  const string = () => {
    // A JSON string from the opening quote to its closing one: JSON.parse
    // reads it (escapes included).
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('an unterminated string');
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = () => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      const obj = {};
      ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a key expected');
        const key = string();
        ws();
        if (text[i++] !== ':') fail("':' expected");
        obj[key] = value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return obj; }
        fail("',' or '}' expected");
      }
    }
    if (ch === '[') {
      i++;
      const arr = [];
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return arr; }
        fail("',' or ']' expected");
      }
    }
    if (ch === '"') return string();
    for (const [lit, v] of LITERALS) {
      if (text.startsWith(lit, i)) { i += lit.length; return v; }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail('a value expected');
    i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing text');
  return v;
}

function number(v) {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  // JSON.stringify writes -0 as 0, which Python reads as the integer 0.
  if (Object.is(v, -0)) return '-0.0';
  return JSON.stringify(v);
}

/**
 * JSON text of a value for the worker: BigInt as its digits, NaN and the
 * infinities as bare literals, typed arrays as lists, objects with an
 * [ENCODE] method (NDArray, SharedMemory, WorkerObject) in their
 * `appose_type` form. `found`, when given, receives each such object.
 */
function stringify(v, found) {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'bigint': return v.toString();
    case 'number': return number(v);
    case 'string':
    case 'boolean': return JSON.stringify(v);
    case 'object': break;
    // A worker object's proxy is a function.
    case 'function': if (typeof v[ENCODE] === 'function') break;
    // falls through
    default: throw new TypeError(`cannot send a ${typeof v} to a worker`);
  }
  if (typeof v[ENCODE] === 'function') {
    if (found) found.push(v);
    return v[ENCODE]();
  }
  if (Array.isArray(v)) return `[${v.map((x) => stringify(x, found)).join(',')}]`;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    // A copy, as a list: only an NDArray is shared.
    return `[${Array.from(v, (x) => (typeof x === 'bigint' ? x.toString() : number(x))).join(',')}]`;
  }
  if (typeof v.toJSON === 'function') return stringify(v.toJSON(), found);
  const members = [];
  for (const [k, x] of Object.entries(v)) {
    if (x !== undefined && typeof x !== 'function') members.push(`${JSON.stringify(k)}:${stringify(x, found)}`);
  }
  return `{${members.join(',')}}`;
}

module.exports = { parse, stringify, ENCODE };
