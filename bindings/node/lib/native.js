'use strict';
// The C ABI through koffi: the library, its declarations, and calls that
// turn a failure's error object into a thrown ApposeError. Every call is
// made on the JS thread; no library thread ever calls into JS.

const path = require('node:path');
const fs = require('node:fs');
const koffi = require('koffi');

/** Where libappose is: APPOSE_LIB, the package's own copy, or this checkout's cargo build. */
function libraryPath() {
  if (process.env.APPOSE_LIB) return process.env.APPOSE_LIB;
  const candidates = [
    path.join(__dirname, '..', 'native', 'libappose.so'),
    path.resolve(__dirname, '..', '..', '..', 'target', 'release', 'libappose.so'),
    path.resolve(__dirname, '..', '..', '..', 'target', 'debug', 'libappose.so'),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(`libappose.so not found (looked in ${candidates.join(', ')}): set APPOSE_LIB to its path`);
  }
  return found;
}

const lib = koffi.load(libraryPath());
for (const name of ['appose_env', 'appose_service', 'appose_task', 'appose_queue',
  'appose_event_batch', 'appose_error', 'appose_builder']) {
  koffi.opaque(name);
}

// struct appose_event, field by field as in appose.h (no padding).
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

const declarations = [
  'const char *appose_version(void)',
  'const char *appose_status_str(int status)',
  'const char *appose_task_status_str(int status)',
  'void appose_string_free(void *s)',
  'int appose_error_status(const appose_error *error)',
  'const char *appose_error_message(const appose_error *error)',
  'int appose_error_free(appose_error *error)',
  'int appose_env_wrap(const char *dir, _Out_ appose_env **env_out, _Out_ appose_error **error_out)',
  'int appose_env_system(_Out_ appose_env **env_out, _Out_ appose_error **error_out)',
  'int appose_env_python(const appose_env *env, _Out_ appose_service **service_out, _Out_ appose_error **error_out)',
  'int appose_env_free(appose_env *env)',
  'int appose_env_clone(const void *env, _Out_ appose_env **env_out, _Out_ appose_error **error_out)',
  'int appose_env_base(const appose_env *env, _Out_ void **base_out, _Out_ appose_error **error_out)',
  'int appose_builder_new(const char *kind, _Out_ appose_builder **builder_out, _Out_ appose_error **error_out)',
  'int appose_builder_name(appose_builder *builder, const char *name, _Out_ appose_error **error_out)',
  'int appose_builder_base(appose_builder *builder, const char *dir, _Out_ appose_error **error_out)',
  'int appose_builder_envs_root(appose_builder *builder, const char *dir, _Out_ appose_error **error_out)',
  'int appose_builder_content(appose_builder *builder, const char *content, _Out_ appose_error **error_out)',
  'int appose_builder_scheme(appose_builder *builder, const char *scheme, _Out_ appose_error **error_out)',
  'int appose_builder_package(appose_builder *builder, const char *spec, _Out_ appose_error **error_out)',
  'int appose_builder_bin_path(appose_builder *builder, const char *dir, _Out_ appose_error **error_out)',
  'int appose_builder_build_async(appose_builder *builder, const appose_queue *queue, uint64_t tag, _Out_ appose_error **error_out)',
  'int appose_builder_rebuild_async(appose_builder *builder, const appose_queue *queue, uint64_t tag, _Out_ appose_error **error_out)',
  'int appose_builder_free(appose_builder *builder)',
  'int appose_service_task(appose_service *service, const char *script, const char *inputs_json, const char *queue, _Out_ appose_task **task_out, _Out_ appose_error **error_out)',
  'int appose_service_listen_queue(appose_service *service, const appose_queue *queue, uint64_t tag, _Out_ appose_error **error_out)',
  'int appose_service_close_async(appose_service *service, int64_t timeout_ms, const appose_queue *queue, uint64_t tag, _Out_ appose_error **error_out)',
  'int appose_service_kill(appose_service *service, _Out_ appose_error **error_out)',
  'int appose_service_pid(const appose_service *service, _Out_ int64_t *pid_out, _Out_ appose_error **error_out)',
  'int appose_service_free(appose_service *service)',
  'int appose_task_listen_queue(appose_task *task, const appose_queue *queue, uint64_t tag, _Out_ appose_error **error_out)',
  'int appose_task_start(appose_task *task, _Out_ appose_error **error_out)',
  'int appose_task_cancel(appose_task *task, _Out_ appose_error **error_out)',
  'int appose_task_id(const appose_task *task, _Out_ void **id_out, _Out_ appose_error **error_out)',
  'int appose_task_outputs_json(const appose_task *task, _Out_ void **json_out, _Out_ appose_error **error_out)',
  'int appose_task_result_json(const appose_task *task, _Out_ void **json_out, _Out_ appose_error **error_out)',
  'int appose_task_get_status(const appose_task *task, _Out_ int *status_out, _Out_ appose_error **error_out)',
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

/** A failed library call: `status` (a number), `statusName`, and the library's message. */
class ApposeError extends Error {
  constructor(status, message) {
    const name = c.appose_status_str(status);
    super(`${name}: ${message}`);
    this.name = 'ApposeError';
    this.status = status;
    this.statusName = name;
    this.detail = message;
  }
}

/** Calls `name(...args, &error)`: returns on success, throws the call's own error otherwise. */
function call(name, ...args) {
  const error = [null];
  const status = c[name](...args, error);
  if (status === 0) return;
  let message = '';
  if (error[0] !== null) {
    message = c.appose_error_message(error[0]);
    c.appose_error_free(error[0]);
  }
  throw new ApposeError(status, message);
}

/** Calls a function whose last argument before error_out is an out-parameter; returns it. */
function get(name, ...args) {
  const out = [null];
  call(name, ...args, out);
  return out[0];
}

/** As `get`, for a string the caller frees. */
function getString(name, ...args) {
  const p = get(name, ...args);
  if (p === null) return null;
  try {
    return koffi.decode(p, 'char', -1);
  } finally {
    c.appose_string_free(p);
  }
}

module.exports = { koffi, c, Event, ApposeError, call, get, getString, libraryPath, libPath: libraryPath() };
