'use strict';
// Native handles owned by JS objects. Each is freed by an explicit close
// or release, or else when its owner is garbage-collected, exactly once.
// Views over shared memory hold a handle of their own to the block, freed
// only when the view itself is collected: a view never outlives its block.

const { koffi, c } = require('./native');

const registry = new FinalizationRegistry(({ free, handle }) => {
  c[free](handle);
});

/** Frees `handle` with `free` when `owner` is collected (unless `disown`ed first). */
function own(owner, free, handle) {
  registry.register(owner, { free, handle }, owner);
}

/** Takes the handle back from the registry, for an explicit free. */
function disown(owner) {
  registry.unregister(owner);
}

/**
 * An ArrayBuffer over `length` bytes at `ptr`, without copying; `keeper`
 * (a handle freed with `free`) keeps the memory mapped until the buffer
 * (and so every typed array over it) is collected.
 */
function view(ptr, length, free, keeper) {
  let ab;
  try {
    ab = koffi.view(ptr, length);
  } catch (e) {
    c[free](keeper);
    throw e;
  }
  registry.register(ab, { free, handle: keeper });
  return ab;
}

module.exports = { own, disown, view };
