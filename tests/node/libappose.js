'use strict';
// Loads libappose with koffi and declares the part of its C ABI that the
// smoke tests use. No binding: every call is the C function itself, made on
// the JS thread. Pointers (handles) are BigInts, as koffi 3 gives them.
//
// APPOSE_LIB names the shared library (tests/run.sh sets it); by default the
// one `cargo build` makes in this checkout.

const path = require('node:path');
const fs = require('node:fs');
const koffi = require('koffi');

const root = path.resolve(__dirname, '..', '..');
const libPath = process.env.APPOSE_LIB || path.join(root, 'target', 'debug', 'libappose.so');
if (!fs.existsSync(libPath)) {
  throw new Error(`${libPath} is missing: run \`cargo build\` first (or set APPOSE_LIB)`);
}
const lib = koffi.load(libPath);

for (const name of ['appose_env', 'appose_service', 'appose_task', 'appose_queue',
  'appose_event_batch', 'appose_error']) {
  koffi.opaque(name);
}

// struct appose_event: fixed-width fields only, laid out as in appose.h.
// The strings are decoded (copied) into JS strings when an event is decoded,
// so nothing of a batch is used after appose_event_batch_free.
const Event = koffi.struct('appose_event', {
  size: 'size_t',
  kind: 'int32_t',
  response_type: 'int32_t',
  task_status: 'int32_t',
  status: 'int32_t',
  has_current: 'int32_t',
  has_maximum: 'int32_t',
  exit_code: 'int32_t',
  reserved: 'int32_t',
  tag: 'uint64_t',
  current: 'int64_t',
  maximum: 'int64_t',
  task_id: 'const char *',
  message: 'const char *',
  info_json: 'const char *',
  info: 'const void *',
  error: 'const char *',
  env: 'const void *',
});

// Every fallible function ends with `appose_error **error_out`; strings
// the library hands out come back as `void *` so that they can be freed.
const declarations = [
  'const char *appose_version(void)',
  'const char *appose_status_str(int status)',
  'const char *appose_task_status_str(int status)',
  'void appose_string_free(void *s)',

  'int appose_error_status(const appose_error *error)',
  'const char *appose_error_message(const appose_error *error)',
  'int appose_error_free(appose_error *error)',

  'int appose_env_wrap(const char *dir, _Out_ appose_env **env_out, _Out_ appose_error **error_out)',
  'int appose_env_python(const appose_env *env, _Out_ appose_service **service_out, _Out_ appose_error **error_out)',
  'int appose_env_free(appose_env *env)',

  'int appose_service_task(appose_service *service, const char *script, const char *inputs_json, const char *queue, _Out_ appose_task **task_out, _Out_ appose_error **error_out)',
  'int appose_service_listen_queue(appose_service *service, const appose_queue *queue, uint64_t tag, _Out_ appose_error **error_out)',
  'int appose_service_close_async(appose_service *service, int64_t timeout_ms, const appose_queue *queue, uint64_t tag, _Out_ appose_error **error_out)',
  'int appose_service_free(appose_service *service)',

  'int appose_task_start(appose_task *task, _Out_ appose_error **error_out)',
  'int appose_task_id(appose_task *task, _Out_ void **id_out, _Out_ appose_error **error_out)',
  'int appose_task_result_json(appose_task *task, _Out_ void **json_out, _Out_ appose_error **error_out)',
  'int appose_task_outputs_json(appose_task *task, _Out_ void **json_out, _Out_ appose_error **error_out)',
  'int appose_task_get_status(appose_task *task, _Out_ int *status_out, _Out_ appose_error **error_out)',
  'int appose_task_listen_queue(appose_task *task, const appose_queue *queue, uint64_t tag, _Out_ appose_error **error_out)',
  'int appose_task_free(appose_task *task)',

  'int appose_queue_new(_Out_ appose_queue **queue_out, _Out_ appose_error **error_out)',
  'int appose_queue_fd(const appose_queue *queue, _Out_ int *fd_out, _Out_ appose_error **error_out)',
  'int appose_queue_dup_fd(const appose_queue *queue, _Out_ int *fd_out, _Out_ appose_error **error_out)',
  'int appose_queue_take(appose_queue *queue, size_t max, _Out_ appose_event_batch **batch_out, _Out_ appose_error **error_out)',
  'int appose_queue_free(appose_queue *queue)',

  'size_t appose_event_batch_len(const appose_event_batch *batch)',
  'const void *appose_event_batch_get(const appose_event_batch *batch, size_t index)',
  'int appose_event_batch_free(appose_event_batch *batch)',
];
const c = {};
for (const decl of declarations) {
  const fn = lib.func(decl);
  c[fn.info.name] = fn;
}

const STATUS_OK = 0;
const EVENT = { TASK: 0, CLOSED: 1 };
const RESPONSE = ['LAUNCH', 'UPDATE', 'COMPLETION', 'CANCELATION', 'FAILURE', 'CRASH'];

/** A failed call: its status (a number and its name) and the library's message. */
class ApposeError extends Error {
  constructor(call, status, message) {
    super(`${call}: ${c.appose_status_str(status)}: ${message}`);
    this.status = status;
  }
}

/**
 * Calls `name(...args, &error)`; returns on OK, else reads and frees the
 * error handle and throws it as an ApposeError.
 */
function call(name, ...args) {
  const error = [null];
  const status = c[name](...args, error);
  if (status === STATUS_OK) return;
  const message = c.appose_error_message(error[0]);
  const errorStatus = c.appose_error_status(error[0]);
  c.appose_error_free(error[0]);
  if (errorStatus !== status) {
    throw new Error(`${name} returned ${status} but its error says ${errorStatus}`);
  }
  throw new ApposeError(name, status, message);
}

/** Calls a function whose last argument before error_out is an out-parameter; returns it. */
function get(name, ...args) {
  const out = [null];
  call(name, ...args, out);
  return out[0];
}

/** As get, for an out-parameter that is a string the caller frees. */
function getString(name, ...args) {
  const p = get(name, ...args);
  if (p === null) return null;
  try {
    return koffi.decode(p, 'char', -1);
  } finally {
    c.appose_string_free(p);
  }
}

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
