'use strict';
// The raw C ABI for the smoke tests: the Node package's own declarations
// (bindings/node/lib/native.js, loaded with koffi, every call on the JS
// thread, errors read from each call's error object), plus the queue rule
// spelled out. No binding objects: every call is the C function itself.
//
// APPOSE_LIB names the shared library (tests/run.sh sets it); by default the
// one `cargo build` makes in this checkout.

const { koffi, c, Event, ApposeError, call, get, getString, libPath } =
  require('../../bindings/node/lib/native');

const EVENT = { TASK: 0, CLOSED: 1 };
const RESPONSE = ['LAUNCH', 'UPDATE', 'COMPLETION', 'CANCELATION', 'FAILURE', 'CRASH'];

/**
 * Takes every waiting event of `queue` as plain JS objects, following the
 * queue's rule: take until a batch comes back empty.
 */
function takeAll(queue) {
  const events = [];
  for (;;) {
    const batch = get('appose_queue_take', queue, 0);
    try {
      const n = Number(c.appose_event_batch_len(batch));
      if (n === 0) return events;
      for (let i = 0; i < n; i++) {
        const ev = koffi.decode(c.appose_event_batch_get(batch, i), Event);
        if (Number(ev.size) < koffi.sizeof(Event)) {
          throw new Error(`the library's appose_event has ${ev.size} bytes, these tests know ${koffi.sizeof(Event)}`);
        }
        events.push(ev);
      }
    } finally {
      c.appose_event_batch_free(batch);
    }
  }
}

module.exports = { koffi, c, Event, EVENT, RESPONSE, ApposeError, call, get, getString, takeAll, libPath };
