'use strict';
// Shared memory blocks: a Buffer over the mapped block, no copy.

const { inspect } = require('node:util');
const { c, call, get, getString, getAsync } = require('./native');
const { own, disown, view } = require('./handles');
const { ENCODE } = require('./json');

const DTYPE_UINT8 = 4;
const ORDER_C = 0;

/**
 * A shared memory block. `buffer` is a Node Buffer over the mapped memory
 * itself: what you write there a worker sees, and the other way round.
 * Blocks this process creates are unlinked when their last handle goes
 * (this object, arrays over it, tasks holding it, and every `buffer`).
 */
class SharedMemory {
  constructor(handle) {
    this.handle = handle;
    own(this, 'appose_shm_free', handle);
    /** The block's name (`psm_...`), as workers attach it. */
    this.name = getString('appose_shm_name', handle);
    /** Its size in bytes. */
    this.size = Number(get('appose_shm_rsize', handle));
    this.bytes = null;
  }

  /**
   * Creates a block of `size` bytes (named `options.name`, else `psm_` and
   * random digits). Its pages are reserved on libuv's thread pool, so the
   * event loop never waits for them.
   */
  static async create(size, options = {}) {
    const handle = options.name === undefined
      ? await getAsync('appose_shm_create', size)
      : await getAsync('appose_shm_create_named', options.name, size);
    return new SharedMemory(handle);
  }

  /**
   * Attaches to an existing block by name; with `options.size`, refuses a
   * block smaller than that. Not owned: closing only unmaps it, unless
   * `unlinkOnClose` is set.
   */
  static attach(name, options = {}) {
    return new SharedMemory(options.size === undefined
      ? get('appose_shm_attach', name)
      : get('appose_shm_attach_sized', name, options.size));
  }

  /** A Buffer over the whole block (the same memory every time). */
  get buffer() {
    const handle = this.live();
    if (this.bytes === null) {
      const keeper = get('appose_ndarray_wrap', handle, DTYPE_UINT8, [this.size], 1, ORDER_C);
      let ptr;
      try {
        ptr = get('appose_ndarray_data', keeper);
      } catch (e) {
        c.appose_ndarray_free(keeper);
        throw e;
      }
      this.bytes = Buffer.from(view(ptr, this.size, 'appose_ndarray_free', keeper));
    }
    return this.bytes;
  }

  /** Whether the block is unlinked when its last handle goes. */
  get unlinkOnClose() {
    return get('appose_shm_unlink_on_free', this.live());
  }

  set unlinkOnClose(unlink) {
    call('appose_shm_set_unlink_on_free', this.live(), Boolean(unlink));
  }

  /** Removes the block's name now; every mapping stays usable until its last handle goes. */
  unlink() {
    call('appose_shm_unlink', this.live());
  }

  /** Drops this handle (a `buffer` given out keeps the memory mapped until it is collected). */
  close() {
    if (this.handle === null) return;
    disown(this);
    c.appose_shm_free(this.handle);
    this.handle = null;
    // Views given out hold the block on their own.
    this.bytes = null;
  }

  [Symbol.dispose]() {
    this.close();
  }

  live() {
    if (this.handle === null) throw new Error(`shared memory ${this.name} is closed`);
    return this.handle;
  }

  [inspect.custom]() {
    return `SharedMemory(${this.name}, ${this.size} bytes${this.handle === null ? ', closed' : ''})`;
  }

  [ENCODE]() {
    return `{"appose_type":"shm","name":${JSON.stringify(this.name)},"rsize":${this.size}}`;
  }
}

module.exports = { SharedMemory };
