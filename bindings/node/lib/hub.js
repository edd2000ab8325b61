'use strict';
// The one event queue of this process and its watcher. Tasks, closes and
// builds send their events here; the event loop takes them when the
// queue's fd turns readable. No library thread ever calls into JS.

const { koffi, c, EventRaw, get } = require('./native');

const hub = {
  queue: null,
  handle: null,
  nextTag: 1,
  waiting: new Map(),

  start() {
    if (this.queue !== null) return;
    this.queue = get('appose_queue_new');
    const fd = get('appose_queue_fd', this.queue);
    // koffi's libuv poll on the queue's own fd (it never reads nor closes
    // it). Level-triggered: each wake-up takes until the queue is empty.
    this.handle = koffi.node.poll(fd, { readable: true }, () => {
      // koffi drops what a poll callback throws: hand it to the event
      // loop, so that a bug here is an uncaught exception, not silence.
      try {
        this.drain();
      } catch (e) {
        setImmediate(() => {
          throw e;
        });
      }
    });
    // The watcher holds the event loop only while something waits for an
    // event (a task not yet ended, a close or a build not yet done), so a
    // process with nothing pending exits.
    this.handle.unref();
  },

  /** Registers `onEvent` for a new tag; the loop is held until `done(tag)`. */
  register(onEvent) {
    this.start();
    const tag = this.nextTag++;
    this.waiting.set(tag, onEvent);
    if (this.waiting.size === 1) this.handle.ref();
    return tag;
  },

  done(tag) {
    if (this.waiting.delete(tag) && this.waiting.size === 0) this.handle.unref();
  },

  /**
   * Takes every waiting event and hands each to its tag's handler. One
   * take of all (max 0) empties the queue and its pipe, and an event that
   * arrives afterwards makes the fd readable again, so one take per
   * wake-up is enough (and lets the loop run between batches).
   */
  drain() {
    const batch = get('appose_queue_take', this.queue, 0);
    try {
      const n = Number(c.appose_event_batch_len(batch));
      // Handled before the batch is freed: what an event points to (its
      // strings, its info map, a built environment) lives until then.
      for (let i = 0; i < n; i++) {
        const ev = koffi.decode(c.appose_event_batch_get(batch, i), EventRaw);
        const onEvent = this.waiting.get(Number(ev.tag));
        if (onEvent) onEvent(ev);
      }
    } finally {
      c.appose_event_batch_free(batch);
    }
  },
};

/** The string an event field points to (undefined for NULL), valid while its batch lives. */
function text(ptr) {
  return ptr === null ? undefined : koffi.decode(ptr, 'char', -1);
}

/** Emits `name` on `emitter`; a listener that throws is reported as a process warning and the rest goes on. */
function emitSafely(emitter, name, payload, what) {
  try {
    emitter.emit(name, payload);
  } catch (e) {
    process.emitWarning(`a listener of ${what} event ${name} threw: ${e && e.stack ? e.stack : e}`,
      { code: 'APPOSE_LISTENER' });
  }
}

module.exports = { hub, emitSafely, text };
