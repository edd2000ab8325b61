'use strict';
// libappose's C ABI from ffi-napi (the FFI users asked about), the way such
// a host must use it: tasks send their events into an event queue, the
// event loop watches the queue's file descriptor (a duplicate, through a
// net.Socket) and takes the events in batches on the JS thread. No
// ffi.Callback is ever made, so no library thread calls into JS (an
// ffi-napi callback from another thread costs a full GC each, and one that
// is collected kills the process).
//
// ffi-napi and ref-napi are installed with `npm install --ignore-scripts`:
// their source build fails on Node 20, their prebuilt binaries work. When
// they cannot be loaded, every test here reports itself skipped.
//
// APPOSE_LIB: the library (default: this checkout's target/debug build).
// APPOSE_TEST_PYTHON_ENV: a venv with the pinned appose package (default:
// target/tmp/python-env, made by tests/support/python-env.sh).

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const LIB = process.env.APPOSE_LIB || path.join(root, 'target', 'debug', 'libappose.so');
const ENV_DIR = process.env.APPOSE_TEST_PYTHON_ENV || path.join(root, 'target', 'tmp', 'python-env');

let ffi;
let unavailable;
try {
  ffi = require('ffi-napi');
  require('ref-napi');
} catch (e) {
  unavailable = `ffi-napi cannot be loaded here: ${e.message.split('\n')[0]}`;
}

const EVENT_TASK = 0;
const EVENT_CLOSED = 1;
const RESPONSE = ['LAUNCH', 'UPDATE', 'COMPLETION', 'CANCELATION', 'FAILURE', 'CRASH'];

/**
 * The C ABI as ffi-napi declares it (only what these tests use). Handles
 * and addresses travel as 64-bit integers, never as ref-napi pointers:
 * each pointer ref-napi makes is an external Buffer, and making one cost
 * about a millisecond here on Node 20 (taking and freeing a batch took
 * 7 ms that way, 70 µs this way). Memory the library hands out is read by copying
 * it into a Buffer of ours with libc's memcpy.
 */
function load() {
  const u64 = 'uint64';
  const buf = 'pointer';
  const lib = ffi.Library(LIB, {
    appose_status_str: ['string', ['int']],
    appose_string_free: ['void', [u64]],
    appose_error_message: ['string', [u64]],
    appose_error_free: ['int', [u64]],
    appose_env_wrap: ['int', ['string', buf, buf]],
    appose_env_python: ['int', [u64, buf, buf]],
    appose_env_free: ['int', [u64]],
    appose_service_start: ['int', [u64, buf]],
    appose_service_task: ['int', [u64, 'string', 'string', 'string', buf, buf]],
    appose_service_pid: ['int', [u64, buf, buf]],
    appose_service_close_async: ['int', [u64, 'int64', u64, u64, buf]],
    appose_service_free: ['int', [u64]],
    appose_task_listen_queue: ['int', [u64, u64, u64, buf]],
    appose_task_start: ['int', [u64, buf]],
    appose_task_result_json: ['int', [u64, buf, buf]],
    appose_task_free: ['int', [u64]],
    appose_queue_new: ['int', [buf, buf]],
    appose_queue_dup_fd: ['int', [u64, buf, buf]],
    appose_queue_take: ['int', [u64, 'size_t', buf, buf]],
    appose_queue_free: ['int', [u64]],
    appose_event_batch_len: ['size_t', [u64]],
    appose_event_batch_get: [u64, [u64, 'size_t']],
    appose_event_batch_free: ['int', [u64]],
  });
  const libc = ffi.Library(null, {
    memcpy: [u64, [buf, u64, 'size_t']],
    strlen: ['size_t', [u64]],
  });
  return { lib, libc };
}

/** An address or handle from 8 bytes: a number when exact, else its digits (ffi-napi takes both). */
function word(b, offset = 0) {
  const v = b.readBigUInt64LE(offset);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

const isNull = (address) => address === 0 || address === '0';

/** The NUL-terminated UTF-8 string at `address` (null for NULL), copied. */
function cString(libc, address) {
  if (isNull(address)) return null;
  const n = Number(libc.strlen(address));
  const b = Buffer.alloc(n);
  if (n > 0) libc.memcpy(b, address, n);
  return b.toString('utf8');
}

/** Calls `fn(...args, &out, &error)` (`out` only when `withOut`), throwing the call's own error. */
function callWith({ lib }, fn, args, withOut = true) {
  const error = Buffer.alloc(8);
  const result = withOut ? Buffer.alloc(8) : null;
  const status = lib[fn](...args, ...(result ? [result] : []), error);
  if (status !== 0) {
    const e = word(error);
    const message = isNull(e) ? '' : lib.appose_error_message(e);
    if (!isNull(e)) lib.appose_error_free(e);
    throw new Error(`${fn}: ${lib.appose_status_str(status)}: ${message}`);
  }
  return result && result;
}

/** As `callWith`, giving the out-parameter as an address or handle. */
function getWord(api, fn, args) {
  return word(callWith(api, fn, args));
}

// struct appose_event (appose.h): size, then eight int32 fields, tag,
// current, maximum (64-bit), then six pointers.
const OFF = {
  size: 0, kind: 8, response_type: 12, task_status: 16, status: 20, has_current: 24, has_maximum: 28,
  exit_code: 32, tag: 40, current: 48, maximum: 56, task_id: 64, message: 72, info_json: 80, info: 88,
  error: 96, env: 104,
};
const EVENT_SIZE = 112;

/** One event as a plain object, copied while its batch lives. */
function decode({ libc }, address, scratch) {
  libc.memcpy(scratch, address, EVENT_SIZE);
  const size = Number(scratch.readBigUInt64LE(OFF.size));
  if (size < EVENT_SIZE) throw new Error(`the library's appose_event has ${size} bytes, this test reads ${EVENT_SIZE}`);
  return {
    kind: scratch.readInt32LE(OFF.kind),
    type: RESPONSE[scratch.readInt32LE(OFF.response_type)],
    status: scratch.readInt32LE(OFF.status),
    exitCode: scratch.readInt32LE(OFF.exit_code),
    tag: Number(scratch.readBigUInt64LE(OFF.tag)),
    current: scratch.readInt32LE(OFF.has_current) ? Number(scratch.readBigInt64LE(OFF.current)) : undefined,
    message: cString(libc, word(scratch, OFF.message)),
    error: cString(libc, word(scratch, OFF.error)),
  };
}

/**
 * A queue watched by the event loop: `on(tag, fn)` routes events; each
 * time the fd turns readable, events are taken until a batch is empty.
 */
function watchedQueue(api) {
  const { lib } = api;
  const queue = getWord(api, 'appose_queue_new', []);
  const fd = callWith(api, 'appose_queue_dup_fd', [queue]).readInt32LE(0);
  const routes = new Map();
  const scratch = Buffer.alloc(EVENT_SIZE);
  const drain = () => {
    for (;;) {
      const batch = getWord(api, 'appose_queue_take', [queue, 0]);
      try {
        const n = Number(lib.appose_event_batch_len(batch));
        if (n === 0) return;
        for (let i = 0; i < n; i++) {
          const ev = decode(api, lib.appose_event_batch_get(batch, i), scratch);
          const route = routes.get(ev.tag);
          if (route) route(ev);
        }
      } finally {
        lib.appose_event_batch_free(batch);
      }
    }
  };
  // The socket reads the pipe's wake-up byte; the events are in the queue.
  const socket = new net.Socket({ fd, readable: true, writable: false });
  socket.on('data', drain);
  socket.unref();
  let nextTag = 1;
  return {
    queue,
    tag(onEvent) {
      const tag = nextTag++;
      routes.set(tag, onEvent);
      if (routes.size === 1) socket.ref();
      return tag;
    },
    done(tag) {
      routes.delete(tag);
      if (routes.size === 0) socket.unref();
    },
    close() {
      socket.destroy();
      lib.appose_queue_free(queue);
    },
  };
}

/** A started Python service; ffi-napi's async call keeps the spawn off the JS thread. */
async function startPython(api) {
  const { lib } = api;
  const env = getWord(api, 'appose_env_wrap', [ENV_DIR]);
  let service;
  try {
    service = getWord(api, 'appose_env_python', [env]);
  } finally {
    lib.appose_env_free(env);
  }
  const status = await new Promise((resolve, reject) => {
    lib.appose_service_start.async(service, Buffer.alloc(8), (e, st) => (e ? reject(e) : resolve(st)));
  });
  assert.equal(status, 0, 'the service starts');
  return service;
}

/** Runs `script` as a task whose events come through `q`; resolves with {events, result}. */
function runTask(api, q, service, script, inputs = null) {
  const { lib, libc } = api;
  const task = getWord(api, 'appose_service_task', [service, script, inputs, null]);
  return new Promise((resolve, reject) => {
    const events = [];
    const tag = q.tag((ev) => {
      events.push(ev);
      if (ev.type === 'LAUNCH' || ev.type === 'UPDATE') return;
      q.done(tag);
      try {
        const text = getWord(api, 'appose_task_result_json', [task]);
        const result = JSON.parse(cString(libc, text));
        lib.appose_string_free(text);
        resolve({ events, result });
      } catch (e) {
        reject(e);
      } finally {
        lib.appose_task_free(task);
      }
    });
    try {
      callWith(api, 'appose_task_listen_queue', [task, q.queue, tag], false);
      callWith(api, 'appose_task_start', [task], false);
    } catch (e) {
      q.done(tag);
      lib.appose_task_free(task);
      reject(e);
    }
  });
}

/** Closes through the queue (APPOSE_EVENT_CLOSED); resolves with the exit code. */
function closeService(api, q, service) {
  return new Promise((resolve, reject) => {
    const tag = q.tag((ev) => {
      if (ev.kind !== EVENT_CLOSED) return;
      q.done(tag);
      api.lib.appose_service_free(service);
      if (ev.status === 0) resolve(ev.exitCode);
      else reject(new Error(`close: ${ev.error}`));
    });
    callWith(api, 'appose_service_close_async', [service, 10000, q.queue, tag], false);
  });
}

function running(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const COLLATZ = `
time = 0
v = 9999
while v != 1:
    v = v//2 if v%2==0 else 3*v+1
    task.update(f"[{time}] -> {v}", current=time)
    time += 1
task.outputs["result"] = time
`;

test('tasks with events through the event queue, from ffi-napi, the loop never blocked', async (t) => {
  if (unavailable) {
    t.skip(unavailable);
    return;
  }
  const api = load();
  const q = watchedQueue(api);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    const service = await startPython(api);
    const pid = Number(callWith(api, 'appose_service_pid', [service]).readBigInt64LE(0));
    try {
      // The Collatz sequence: LAUNCH, 91 UPDATEs in order, COMPLETION.
      const { events, result } = await runTask(api, q, service, COLLATZ);
      assert.equal(result, 91);
      assert.equal(events.length, 93);
      assert.ok(events.every((e) => e.kind === EVENT_TASK));
      assert.equal(events[0].type, 'LAUNCH');
      assert.equal(events[92].type, 'COMPLETION');
      for (let i = 1; i <= 91; i++) assert.equal(events[i].current, i - 1);
      assert.equal(events[1].message, '[0] -> 29998');

      // Many at once, on one queue.
      const many = await Promise.all(Array.from({ length: 100 }, (_, i) => runTask(api, q, service,
        `task.update('half', current=${i})\ntask.outputs['result'] = ${i} * 2`)));
      many.forEach((one, i) => {
        assert.equal(one.result, i * 2);
        assert.deepEqual(one.events.map((e) => e.type), ['LAUNCH', 'UPDATE', 'COMPLETION']);
      });

      // A failure carries the worker's traceback.
      const failed = await runTask(api, q, service, 'no_such_name');
      assert.equal(failed.events.at(-1).type, 'FAILURE');
      assert.match(failed.events.at(-1).error, /NameError/);

      // A stream of UPDATEs, for the figure.
      const n = 20000;
      const t0 = performance.now();
      const stream = await runTask(api, q, service, 'for i in range(n):\n    task.update(current=i)', `{"n": ${n}}`);
      const seconds = (performance.now() - t0) / 1000;
      assert.equal(stream.events.length, n + 2);
      t.diagnostic(`${Math.round(n / seconds)} UPDATE events/s through the queue from ffi-napi`);
    } finally {
      assert.equal(await closeService(api, q, service), 0);
    }
    assert.ok(!running(pid), `worker ${pid} gone after close`);
    assert.ok(ticks > 0, 'the interval kept ticking');
  } finally {
    clearInterval(timer);
    q.close();
  }
});
