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
    path.join(__dirname, '..', 'native', `${process.platform}-${process.arch}`, 'libappose.so'),
    path.resolve(__dirname, '..', '..', '..', 'target', 'release', 'libappose.so'),
    path.resolve(__dirname, '..', '..', '..', 'target', 'debug', 'libappose.so'),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(`libappose.so not found (looked in ${candidates.join(', ')}): set APPOSE_LIB to its path`);
  }
  return found;
}

const libPath = libraryPath();
const lib = koffi.load(libPath);
for (const name of ['appose_env', 'appose_service', 'appose_task', 'appose_queue',
  'appose_event_batch', 'appose_error', 'appose_builder', 'appose_shm', 'appose_ndarray',
  'appose_map', 'appose_value', 'appose_worker_object']) {
  koffi.opaque(name);
}

// struct appose_event, field by field as in appose.h (no padding).
const EVENT_FIELDS = {
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
};
const Event = koffi.struct('appose_event', EVENT_FIELDS);

// The same struct with its strings left as pointers, for readers that
// decode only the strings they use (task_id, always set, is never needed
// by the package: it routes by tag).
const EventRaw = koffi.struct('appose_event_raw', Object.fromEntries(
  Object.entries(EVENT_FIELDS).map(([k, t]) => [k, t === 'const char *' ? 'const void *' : t])));

const declarations = [
  // library
  'const char *appose_version(void)',
  'const char *appose_status_str(int status)',
  'const char *appose_task_status_str(int status)',
  'void appose_string_free(void *s)',
  'int appose_error_status(const appose_error *error)',
  'const char *appose_error_message(const appose_error *error)',
  'int appose_error_free(appose_error *error)',
  // environments
  'int appose_env_wrap(const char *dir, _Out_ appose_env **env_out, _Out_ appose_error **error_out)',
  'int appose_env_dir_type(const char *dir, _Out_ const char **type_out, _Out_ appose_error **error_out)',
  'int appose_env_system(_Out_ appose_env **env_out, _Out_ appose_error **error_out)',
  'int appose_env_python(const appose_env *env, _Out_ appose_service **service_out, _Out_ appose_error **error_out)',
  'int appose_env_free(appose_env *env)',
  'int appose_env_clone(const void *env, _Out_ appose_env **env_out, _Out_ appose_error **error_out)',
  'int appose_env_base(const appose_env *env, _Out_ void **base_out, _Out_ appose_error **error_out)',
  // builders
  'int appose_builder_new(const char *kind, _Out_ appose_builder **builder_out, _Out_ appose_error **error_out)',
  'int appose_builder_name(appose_builder *builder, const char *name, _Out_ appose_error **error_out)',
  'int appose_builder_base(appose_builder *builder, const char *dir, _Out_ appose_error **error_out)',
  'int appose_builder_envs_root(appose_builder *builder, const char *dir, _Out_ appose_error **error_out)',
  'int appose_builder_content(appose_builder *builder, const char *content, _Out_ appose_error **error_out)',
  'int appose_builder_file(appose_builder *builder, const char *path, _Out_ appose_error **error_out)',
  'int appose_builder_url(appose_builder *builder, const char *url, _Out_ appose_error **error_out)',
  'int appose_builder_scheme(appose_builder *builder, const char *scheme, _Out_ appose_error **error_out)',
  'int appose_builder_channel(appose_builder *builder, const char *channel, _Out_ appose_error **error_out)',
  'int appose_builder_flag(appose_builder *builder, const char *flag, _Out_ appose_error **error_out)',
  'int appose_builder_python_version(appose_builder *builder, const char *version, _Out_ appose_error **error_out)',
  'int appose_builder_package(appose_builder *builder, const char *spec, _Out_ appose_error **error_out)',
  'int appose_builder_conda(appose_builder *builder, const char *spec, _Out_ appose_error **error_out)',
  'int appose_builder_pypi(appose_builder *builder, const char *spec, _Out_ appose_error **error_out)',
  'int appose_builder_pixi_environment(appose_builder *builder, const char *name, _Out_ appose_error **error_out)',
  'int appose_builder_bin_path(appose_builder *builder, const char *dir, _Out_ appose_error **error_out)',
  'int appose_builder_tool_mirror(appose_builder *builder, const char *base_url, _Out_ appose_error **error_out)',
  'int appose_builder_tool_sha256(appose_builder *builder, const char *hex, _Out_ appose_error **error_out)',
  'int appose_builder_env_var(appose_builder *builder, const char *key, const char *value, _Out_ appose_error **error_out)',
  'int appose_builder_append_system_path(appose_builder *builder, _Out_ appose_error **error_out)',
  'int appose_builder_install_tool(appose_builder *builder, _Out_ void **path_out, _Out_ appose_error **error_out)',
  'int appose_builder_delete(appose_builder *builder, _Out_ appose_error **error_out)',
  'int appose_builder_build_async(appose_builder *builder, const appose_queue *queue, uint64_t tag, _Out_ appose_error **error_out)',
  'int appose_builder_rebuild_async(appose_builder *builder, const appose_queue *queue, uint64_t tag, _Out_ appose_error **error_out)',
  'int appose_builder_free(appose_builder *builder)',
  // services
  'int appose_service_start(appose_service *service, _Out_ appose_error **error_out)',
  'int appose_service_task(appose_service *service, const char *script, const char *inputs_json, const char *queue, _Out_ appose_task **task_out, _Out_ appose_error **error_out)',
  'int appose_service_task_map(appose_service *service, const char *script, const appose_map *inputs, const char *queue, _Out_ appose_task **task_out, _Out_ appose_error **error_out)',
  'int appose_service_listen_queue(appose_service *service, const appose_queue *queue, uint64_t tag, _Out_ appose_error **error_out)',
  'int appose_service_close_async(appose_service *service, int64_t timeout_ms, const appose_queue *queue, uint64_t tag, _Out_ appose_error **error_out)',
  'int appose_service_kill(appose_service *service, _Out_ appose_error **error_out)',
  'int appose_service_pid(const appose_service *service, _Out_ int64_t *pid_out, _Out_ appose_error **error_out)',
  'int appose_service_free(appose_service *service)',
  'int appose_service_get_var_task(appose_service *service, const char *name, const char *queue, _Out_ appose_task **task_out, _Out_ appose_error **error_out)',
  'int appose_service_put_var_task(appose_service *service, const char *name, const appose_value *value, const char *queue, _Out_ appose_task **task_out, _Out_ appose_error **error_out)',
  'int appose_service_call_task(appose_service *service, const char *function, const appose_value **args, size_t nargs, const char *queue, _Out_ appose_task **task_out, _Out_ appose_error **error_out)',
  'int appose_service_proxy(appose_service *service, const char *var, const char *queue, _Out_ appose_worker_object **object_out, _Out_ appose_error **error_out)',
  // tasks
  'int appose_task_listen_queue(appose_task *task, const appose_queue *queue, uint64_t tag, _Out_ appose_error **error_out)',
  'int appose_task_start(appose_task *task, _Out_ appose_error **error_out)',
  'int appose_task_cancel(appose_task *task, _Out_ appose_error **error_out)',
  'int appose_task_id(const appose_task *task, _Out_ void **id_out, _Out_ appose_error **error_out)',
  'int appose_task_outputs(const appose_task *task, _Out_ appose_map **map_out, _Out_ appose_error **error_out)',
  'int appose_task_outputs_json(const appose_task *task, _Out_ void **json_out, _Out_ appose_error **error_out)',
  'int appose_task_result_json(const appose_task *task, _Out_ void **json_out, _Out_ appose_error **error_out)',
  'int appose_task_get_status(const appose_task *task, _Out_ int *status_out, _Out_ appose_error **error_out)',
  'int appose_task_free(appose_task *task)',
  // event queues
  'int appose_queue_new(_Out_ appose_queue **queue_out, _Out_ appose_error **error_out)',
  'int appose_queue_fd(const appose_queue *queue, _Out_ int *fd_out, _Out_ appose_error **error_out)',
  'int appose_queue_dup_fd(const appose_queue *queue, _Out_ int *fd_out, _Out_ appose_error **error_out)',
  'int appose_queue_take(appose_queue *queue, size_t max, _Out_ appose_event_batch **batch_out, _Out_ appose_error **error_out)',
  'int appose_queue_free(appose_queue *queue)',
  'size_t appose_event_batch_len(const appose_event_batch *batch)',
  'const void *appose_event_batch_get(const appose_event_batch *batch, size_t index)',
  'int appose_event_batch_free(appose_event_batch *batch)',
  // shared memory blocks
  'int appose_shm_create(size_t rsize, _Out_ appose_shm **shm_out, _Out_ appose_error **error_out)',
  'int appose_shm_create_named(const char *name, size_t rsize, _Out_ appose_shm **shm_out, _Out_ appose_error **error_out)',
  'int appose_shm_attach(const char *name, _Out_ appose_shm **shm_out, _Out_ appose_error **error_out)',
  'int appose_shm_attach_sized(const char *name, size_t rsize, _Out_ appose_shm **shm_out, _Out_ appose_error **error_out)',
  'int appose_shm_name(const appose_shm *shm, _Out_ void **name_out, _Out_ appose_error **error_out)',
  'int appose_shm_rsize(const appose_shm *shm, _Out_ size_t *rsize_out, _Out_ appose_error **error_out)',
  'int appose_shm_data(const appose_shm *shm, _Out_ void **data_out, _Out_ appose_error **error_out)',
  'int appose_shm_unlink_on_free(const appose_shm *shm, _Out_ bool *unlink_out, _Out_ appose_error **error_out)',
  'int appose_shm_set_unlink_on_free(appose_shm *shm, bool unlink, _Out_ appose_error **error_out)',
  'int appose_shm_unlink(const appose_shm *shm, _Out_ appose_error **error_out)',
  'int appose_shm_free(appose_shm *shm)',
  // arrays
  'const char *appose_dtype_name(int dtype)',
  'size_t appose_dtype_size(int dtype)',
  'int appose_ndarray_new(int dtype, const size_t *shape, size_t ndim, int order, _Out_ appose_ndarray **ndarray_out, _Out_ appose_error **error_out)',
  'int appose_ndarray_wrap(const appose_shm *shm, int dtype, const size_t *shape, size_t ndim, int order, _Out_ appose_ndarray **ndarray_out, _Out_ appose_error **error_out)',
  'int appose_ndarray_dtype(const appose_ndarray *ndarray, _Out_ int *dtype_out, _Out_ appose_error **error_out)',
  'int appose_ndarray_ndim(const appose_ndarray *ndarray, _Out_ size_t *ndim_out, _Out_ appose_error **error_out)',
  // shape_out: a BigUint64Array the library fills.
  'int appose_ndarray_shape(const appose_ndarray *ndarray, int order, void *shape_out, size_t capacity, _Out_ appose_error **error_out)',
  'int appose_ndarray_data(const appose_ndarray *ndarray, _Out_ void **data_out, _Out_ appose_error **error_out)',
  'int appose_ndarray_byte_length(const appose_ndarray *ndarray, _Out_ size_t *length_out, _Out_ appose_error **error_out)',
  'int appose_ndarray_shm(const appose_ndarray *ndarray, _Out_ appose_shm **shm_out, _Out_ appose_error **error_out)',
  'int appose_ndarray_free(appose_ndarray *ndarray)',
  // maps and values
  'int appose_map_new(_Out_ appose_map **map_out, _Out_ appose_error **error_out)',
  'int appose_map_put_json(appose_map *map, const char *key, const char *json, _Out_ appose_error **error_out)',
  'int appose_map_put_ndarray(appose_map *map, const char *key, const appose_ndarray *ndarray, _Out_ appose_error **error_out)',
  'int appose_map_put_shm(appose_map *map, const char *key, const appose_shm *shm, _Out_ appose_error **error_out)',
  'int appose_map_get_value(const appose_map *map, const char *key, _Out_ appose_value **value_out, _Out_ appose_error **error_out)',
  'int appose_map_free(appose_map *map)',
  'int appose_value_from_json(const char *json, _Out_ appose_value **value_out, _Out_ appose_error **error_out)',
  'int appose_value_from_ndarray(const appose_ndarray *ndarray, _Out_ appose_value **value_out, _Out_ appose_error **error_out)',
  'int appose_value_from_worker_object(const appose_worker_object *object, _Out_ appose_value **value_out, _Out_ appose_error **error_out)',
  'int appose_value_get_kind(const appose_value *value, _Out_ int32_t *kind_out, _Out_ appose_error **error_out)',
  'int appose_value_at(const appose_value *value, size_t index, _Out_ appose_value **item_out, _Out_ appose_error **error_out)',
  'int appose_value_get(const appose_value *value, const char *key, _Out_ appose_value **member_out, _Out_ appose_error **error_out)',
  'int appose_value_ndarray(const appose_value *value, _Out_ appose_ndarray **ndarray_out, _Out_ appose_error **error_out)',
  'int appose_value_shm(const appose_value *value, _Out_ appose_shm **shm_out, _Out_ appose_error **error_out)',
  'int appose_value_worker_object(const appose_value *value, _Out_ appose_worker_object **object_out, _Out_ appose_error **error_out)',
  'int appose_value_free(appose_value *value)',
  // worker objects
  'int appose_worker_object_name(const appose_worker_object *object, _Out_ void **name_out, _Out_ appose_error **error_out)',
  'int appose_worker_object_attr_task(const appose_worker_object *object, const char *name, _Out_ appose_task **task_out, _Out_ appose_error **error_out)',
  'int appose_worker_object_invoke_task(const appose_worker_object *object, const char *method, const appose_value **args, size_t nargs, _Out_ appose_task **task_out, _Out_ appose_error **error_out)',
  'int appose_worker_object_call_task(const appose_worker_object *object, const appose_value **args, size_t nargs, _Out_ appose_task **task_out, _Out_ appose_error **error_out)',
  'int appose_worker_object_dir_task(const appose_worker_object *object, _Out_ appose_task **task_out, _Out_ appose_error **error_out)',
  'int appose_worker_object_free(appose_worker_object *object)',
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

/** The error of a failed call: its own message, the error object freed. */
function failure(status, error) {
  let message = '';
  if (error !== null) {
    message = c.appose_error_message(error);
    c.appose_error_free(error);
  }
  return new ApposeError(status, message);
}

/** Calls `name(...args, &error)`: returns on success, throws the call's own error otherwise. */
function call(name, ...args) {
  const error = [null];
  const status = c[name](...args, error);
  if (status !== 0) throw failure(status, error[0]);
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

/**
 * As `get`, for a call that may block: it runs on libuv's thread pool
 * (koffi's async call), never on the JS thread, and the promise settles
 * with the out-parameter or the call's own error object (read here, so the
 * thread it ran on does not matter).
 */
function getAsync(name, ...args) {
  return new Promise((resolve, reject) => {
    const out = [null];
    const error = [null];
    c[name].async(...args, out, error, (e, status) => {
      if (e) reject(e);
      else if (status !== 0) reject(failure(status, error[0]));
      else resolve(out[0]);
    });
  });
}

/** As `call`, for a call that may block (see `getAsync`). */
function callAsync(name, ...args) {
  return new Promise((resolve, reject) => {
    const error = [null];
    c[name].async(...args, error, (e, status) => {
      if (e) reject(e);
      else if (status !== 0) reject(failure(status, error[0]));
      else resolve();
    });
  });
}

module.exports = {
  koffi, c, Event, EventRaw, ApposeError, call, get, getString, getAsync, callAsync, libraryPath, libPath,
};
