'use strict';
// N-dimensional arrays over shared memory, seen as typed arrays without
// copying (the dtype table is in README.md).

const { inspect } = require('node:util');
const { c, get, getAsync } = require('./native');
const { own, disown, view } = require('./handles');
const { ENCODE } = require('./json');
const { SharedMemory } = require('./shm');

/** The dtypes, by their number in the C ABI (appose_dtype). */
const DTYPES = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
  'float16', 'float32', 'float64', 'complex64', 'complex128', 'bool'];
DTYPES.forEach((name, i) => {
  if (c.appose_dtype_name(i) !== name) {
    throw new Error(`libappose names dtype ${i} ${c.appose_dtype_name(i)}, this package ${name}`);
  }
});

/**
 * The view of each dtype: its own TypedArray where JS has one; float16 as
 * its raw bits (Uint16Array), complex numbers as interleaved real and
 * imaginary parts, bool as bytes (0 or 1).
 */
const VIEWS = {
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  float16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
  complex64: Float32Array,
  complex128: Float64Array,
  bool: Uint8Array,
};

const ORDERS = { C: 0, F: 1 };

function orderOf(order = 'C') {
  const o = ORDERS[order];
  if (o === undefined) throw new TypeError(`order must be 'C' or 'F', not ${order}`);
  return o;
}

function dtypeOf(dtype) {
  const d = DTYPES.indexOf(dtype);
  if (d < 0) throw new TypeError(`unknown dtype ${dtype} (one of ${DTYPES.join(', ')})`);
  return d;
}

/** The number a float16's bits stand for. */
function float16ToNumber(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function roundHalfEven(v) {
  const f = Math.floor(v);
  const r = v - f;
  if (r !== 0.5) return r < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** The float16 bits nearest to `x` (ties to even, as numpy rounds). */
function numberToFloat16(x) {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // Below 2^-14 (subnormal): units of 2^-24; a rounding up to 1024 units
  // is the smallest normal number, whose bits these are.
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  else if (2 ** (e + 1) <= a) e += 1;
  // Exact in float64 (a power-of-two scale, Sterbenz), so it rounds once.
  let m = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e += 1;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

/**
 * An n-dimensional array: a dtype and a shape over a shared memory block.
 * `data` is a typed array over the block itself (see the dtype table):
 * what a worker writes into the array shows there, and the other way
 * round. Put it in a task's inputs and the worker sees an `NDArray` over
 * the same memory; arrays a worker returns arrive as NDArrays.
 */
class NDArray {
  constructor(handle) {
    this.handle = handle;
    own(this, 'appose_ndarray_free', handle);
    /** The dtype's numpy name ('float32', ...). */
    this.dtype = DTYPES[get('appose_ndarray_dtype', handle)];
    const ndim = Number(get('appose_ndarray_ndim', handle));
    const shape = new BigUint64Array(ndim);
    get('appose_ndarray_shape', handle, ORDERS.C, ndim ? shape : null, ndim);
    /** The extents in C order (slowest axis first, numpy's order); [] for a 0-d array. */
    this.shape = Array.from(shape, Number);
    /** The number of elements. */
    this.length = this.shape.reduce((a, b) => a * b, 1);
    /** The bytes the elements take. */
    this.byteLength = Number(get('appose_ndarray_byte_length', handle));
    this.bytes = null;
    this.typed = null;
    this.encoded = null;
  }

  /**
   * A new array of `dtype` and `shape` (listed in `options.order`, 'C' or
   * 'F') in a new block. Its pages are reserved on libuv's thread pool,
   * so the event loop never waits for them.
   */
  static async create(dtype, shape, options = {}) {
    const d = dtypeOf(dtype);
    const o = orderOf(options.order);
    return new NDArray(await getAsync('appose_ndarray_new', d, shape.length ? shape : null, shape.length, o));
  }

  /** An array over an existing block (refused if it needs more bytes than the block has). */
  static wrap(shm, dtype, shape, options = {}) {
    return new NDArray(get('appose_ndarray_wrap', shm.live(), dtypeOf(dtype),
      shape.length ? shape : null, shape.length, orderOf(options.order)));
  }

  /** The shape listed in F order (fastest axis first, as Java imaging libraries list it). */
  get shapeF() {
    return this.shape.slice().reverse();
  }

  /** The elements as a typed array over the block (the same one every time). */
  get data() {
    this.live();
    if (this.typed === null) {
      const View = VIEWS[this.dtype];
      const perItem = this.dtype.startsWith('complex') ? 2 : 1;
      this.typed = new View(this.arrayBuffer(), 0, this.length * perItem);
    }
    return this.typed;
  }

  /** The elements' bytes as a Buffer over the block. */
  get buffer() {
    this.live();
    return Buffer.from(this.arrayBuffer());
  }

  arrayBuffer() {
    if (this.bytes === null) {
      const handle = this.live();
      const keeper = get('appose_ndarray_shm', handle);
      let ptr;
      try {
        ptr = get('appose_ndarray_data', handle);
      } catch (e) {
        c.appose_shm_free(keeper);
        throw e;
      }
      this.bytes = view(ptr, this.byteLength, 'appose_shm_free', keeper);
    }
    return this.bytes;
  }

  /**
   * Element `i` (flat, C order) as a JS value: a number, a BigInt for
   * (u)int64, a boolean, {re, im} for complex numbers, a number for float16.
   */
  get(i) {
    const d = this.data;
    switch (this.dtype) {
      case 'bool': return d[i] !== 0;
      case 'float16': return float16ToNumber(d[i]);
      case 'complex64':
      case 'complex128': return { re: d[2 * i], im: d[2 * i + 1] };
      default: return d[i];
    }
  }

  /** Sets element `i` (flat, C order) from a JS value as `get` gives it. */
  set(i, value) {
    const d = this.data;
    switch (this.dtype) {
      case 'bool': d[i] = value ? 1 : 0; break;
      case 'float16': d[i] = numberToFloat16(value); break;
      case 'complex64':
      case 'complex128':
        d[2 * i] = typeof value === 'number' ? value : value.re;
        d[2 * i + 1] = typeof value === 'number' ? 0 : value.im;
        break;
      case 'int64':
      case 'uint64': d[i] = BigInt(value); break;
      default: d[i] = value;
    }
  }

  /** A new handle to the array's block. */
  get shm() {
    return new SharedMemory(get('appose_ndarray_shm', this.live()));
  }

  /** Drops this handle (views given out keep the memory mapped until they are collected). */
  close() {
    if (this.handle === null) return;
    disown(this);
    c.appose_ndarray_free(this.handle);
    this.handle = null;
    // Views given out hold the block on their own.
    this.bytes = null;
    this.typed = null;
  }

  [Symbol.dispose]() {
    this.close();
  }

  live() {
    if (this.handle === null) throw new Error('the array is closed');
    return this.handle;
  }

  [inspect.custom]() {
    return `NDArray(${this.dtype}, [${this.shape.join(', ')}]${this.handle === null ? ', closed' : ''})`;
  }

  [ENCODE]() {
    if (this.encoded === null) {
      const shm = this.shm;
      try {
        this.encoded = `{"appose_type":"ndarray","dtype":"${this.dtype}","shape":[${this.shape.join(',')}],`
          + `"shm":${shm[ENCODE]()}}`;
      } finally {
        shm.close();
      }
    }
    return this.encoded;
  }
}

module.exports = { NDArray, DTYPES, float16ToNumber, numberToFloat16 };
