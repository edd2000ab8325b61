/*
 * libappose: run Python and Groovy workers from C, share arrays without
 * copying. SPDX-License-Identifier: BSD-2-Clause
 *
 * Generated from the Rust sources by cbindgen. Do not edit: change src/ffi/
 * and run `APPOSE_UPDATE_HEADER=1 cargo build`.
 *
 * Conventions:
 * - Fallible functions return appose_status (0 = APPOSE_STATUS_OK). Results
 *   are written to *_out parameters only on success.
 * - Errors travel with the call: every fallible function but the *_free ones
 *   takes a trailing `appose_error **error_out`. When it is not NULL and the
 *   call fails, *error_out receives a new error (status and message) that the
 *   caller reads on any thread and frees with appose_error_free(); on success
 *   it is left as it was. Pass NULL when the status is enough.
 * - appose_last_error() also holds the message of the last failure on the
 *   calling thread, for plain C; appose_status_str() names a status.
 * - Strings in are NUL-terminated UTF-8 and copied. Strings out are freed with
 *   appose_string_free(). Strings passed to callbacks live for the call only.
 * - Handles are freed with their *_free function; a freed or wrong-kind handle
 *   gives APPOSE_STATUS_INVALID_HANDLE, never a crash. A call that only reads
 *   an object takes its handle const.
 * - Callbacks run on the service's dispatcher thread, one at a time, in order.
 *   Hosts that must not be called from a library thread use an event queue
 *   instead (appose_queue_new): a pollable fd and batches taken on their own
 *   thread. appose_set_thread_hooks runs host hooks on library threads.
 *   Each registration takes userdata and an optional userdata_free, called
 *   exactly once when the library no longer needs userdata (never if the
 *   registration fails). Blocking calls from a callback return
 *   APPOSE_STATUS_REENTRANT.
 * - Calls that may block say so and for how long: appose_builder_build,
 *   _rebuild, _install_tool, _url, _delete, appose_env_wrap, appose_env_rebuild,
 *   appose_env_activate,
 *   appose_task_wait,
 *   appose_service_start, _close, _wait_exit (and _task, _task_map when they
 *   start the service), appose_service_get_var, _put_var, _call,
 *   appose_worker_object_attr, appose_worker_object_invoke,
 *   appose_worker_object_call, appose_worker_object_dir, appose_shm_create,
 *   _create_named, appose_ndarray_new. Every other call returns at once.
 *   Each blocking helper of variables, calls and worker objects also comes
 *   in a form ending in "task" that returns the task unstarted.
 */

#ifndef APPOSE_H
#define APPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APPOSE_VERSION_MAJOR 0
#define APPOSE_VERSION_MINOR 2
#define APPOSE_VERSION_PATCH 0
#define APPOSE_VERSION "0.2.0"




/**
 * Status of a fallible call. The numbers are part of the ABI and are never
 * reused or renumbered.
 */
typedef enum appose_status {
  /**
   * Success.
   */
  APPOSE_STATUS_OK = 0,
  /**
   * A required pointer argument was NULL.
   */
  APPOSE_STATUS_NULL_ARGUMENT = 1,
  /**
   * A string argument was not valid UTF-8.
   */
  APPOSE_STATUS_INVALID_UTF8 = 2,
  /**
   * An argument was malformed or out of range.
   */
  APPOSE_STATUS_INVALID_ARGUMENT = 3,
  /**
   * A handle was freed already, never issued, or of another kind.
   */
  APPOSE_STATUS_INVALID_HANDLE = 4,
  /**
   * Text that must be JSON was not.
   */
  APPOSE_STATUS_INVALID_JSON = 5,
  /**
   * The object's state does not allow the call.
   */
  APPOSE_STATUS_INVALID_STATE = 6,
  /**
   * An operating-system call failed.
   */
  APPOSE_STATUS_IO = 7,
  /**
   * A needed file or executable does not exist.
   */
  APPOSE_STATUS_NOT_FOUND = 8,
  /**
   * A timeout ran out; the object is left as it was.
   */
  APPOSE_STATUS_TIMEOUT = 9,
  /**
   * A blocking call was made from a callback, where it would deadlock.
   */
  APPOSE_STATUS_REENTRANT = 10,
  /**
   * The task finished FAILED; appose_last_error() holds its error.
   */
  APPOSE_STATUS_TASK_FAILED = 11,
  /**
   * The task finished CANCELED.
   */
  APPOSE_STATUS_TASK_CANCELED = 12,
  /**
   * The task finished CRASHED; appose_last_error() holds the crash report.
   */
  APPOSE_STATUS_TASK_CRASHED = 13,
  /**
   * The service is closed and takes no more requests.
   */
  APPOSE_STATUS_SERVICE_CLOSED = 14,
  /**
   * The library panicked; the call had no effect it could vouch for.
   */
  APPOSE_STATUS_PANIC = 15,
  /**
   * Something to be created exists already (e.g. a named memory block).
   */
  APPOSE_STATUS_ALREADY_EXISTS = 16,
  /**
   * The worker has left too many requests unread (it is busy, or no
   * longer reads): this one was refused; the bound is in the message.
   */
  APPOSE_STATUS_BACKLOG_FULL = 17,
  /**
   * `appose_service_close` ran out of time while a listener was still
   * running: the worker is gone, the remaining callbacks run later on
   * the dispatcher thread.
   */
  APPOSE_STATUS_LISTENER_BUSY = 18,
} appose_status;

/**
 * Where a task is in its life. Numbers are part of the ABI.
 */
typedef enum appose_task_status {
  /**
   * Made, not yet sent to the worker; listeners may be added.
   */
  APPOSE_TASK_INITIAL = 0,
  /**
   * Sent, not yet launched by the worker.
   */
  APPOSE_TASK_QUEUED = 1,
  /**
   * Launched by the worker.
   */
  APPOSE_TASK_RUNNING = 2,
  /**
   * Finished; outputs are available.
   */
  APPOSE_TASK_COMPLETE = 3,
  /**
   * Canceled at the caller's request.
   */
  APPOSE_TASK_CANCELED = 4,
  /**
   * The script raised an error; see appose_task_error.
   */
  APPOSE_TASK_FAILED = 5,
  /**
   * The worker exited with the task pending; see appose_task_error.
   */
  APPOSE_TASK_CRASHED = 6,
} appose_task_status;

/**
 * Element types. Numbers are part of the ABI; functions take them as `int`
 * and refuse unknown values.
 */
typedef enum appose_dtype {
  APPOSE_DTYPE_INT8 = 0,
  APPOSE_DTYPE_INT16 = 1,
  APPOSE_DTYPE_INT32 = 2,
  APPOSE_DTYPE_INT64 = 3,
  APPOSE_DTYPE_UINT8 = 4,
  APPOSE_DTYPE_UINT16 = 5,
  APPOSE_DTYPE_UINT32 = 6,
  APPOSE_DTYPE_UINT64 = 7,
  APPOSE_DTYPE_FLOAT16 = 8,
  APPOSE_DTYPE_FLOAT32 = 9,
  APPOSE_DTYPE_FLOAT64 = 10,
  APPOSE_DTYPE_COMPLEX64 = 11,
  APPOSE_DTYPE_COMPLEX128 = 12,
  APPOSE_DTYPE_BOOL = 13,
} appose_dtype;

/**
 * How a shape lists its axes: C (slowest axis first, the wire's order) or
 * F (fastest first; reversed on the way in and out).
 */
typedef enum appose_order {
  APPOSE_ORDER_C = 0,
  APPOSE_ORDER_F = 1,
} appose_order;

/**
 * What an event is about. Numbers are part of the ABI.
 */
typedef enum appose_event_kind {
  /**
   * A task's event: LAUNCH, UPDATE, or its one terminal event
   * (COMPLETION, CANCELATION, FAILURE, CRASH).
   */
  APPOSE_EVENT_TASK = 0,
  /**
   * The outcome of `appose_service_close_async`.
   */
  APPOSE_EVENT_CLOSED = 1,
  /**
   * Build progress: `message` is the title, `current` and `maximum`.
   */
  APPOSE_EVENT_BUILD_PROGRESS = 2,
  /**
   * A line of a build tool's output, in `message`.
   */
  APPOSE_EVENT_BUILD_OUTPUT = 3,
  /**
   * A line of a build tool's error output, in `message`.
   */
  APPOSE_EVENT_BUILD_ERROR = 4,
  /**
   * The outcome of `appose_builder_build_async`: `env` on success.
   */
  APPOSE_EVENT_BUILT = 5,
} appose_event_kind;

/**
 * The kind of a task event. Numbers are part of the ABI.
 */
typedef enum appose_response_type {
  APPOSE_RESPONSE_LAUNCH = 0,
  APPOSE_RESPONSE_UPDATE = 1,
  APPOSE_RESPONSE_COMPLETION = 2,
  APPOSE_RESPONSE_CANCELATION = 3,
  APPOSE_RESPONSE_FAILURE = 4,
  /**
   * Our own verdict when the worker exits with the task pending.
   */
  APPOSE_RESPONSE_CRASH = 5,
} appose_response_type;

/**
 * The kind of a value. Numbers are part of the ABI.
 */
typedef enum appose_value_kind {
  APPOSE_VALUE_NULL = 0,
  APPOSE_VALUE_BOOL = 1,
  APPOSE_VALUE_NUMBER = 2,
  APPOSE_VALUE_STRING = 3,
  APPOSE_VALUE_ARRAY = 4,
  APPOSE_VALUE_OBJECT = 5,
  /**
   * A shared memory block (`appose_value_shm`).
   */
  APPOSE_VALUE_SHM = 6,
  /**
   * An n-dimensional array (`appose_value_ndarray`).
   */
  APPOSE_VALUE_NDARRAY = 7,
  /**
   * An object that stays in the worker (`appose_value_worker_object`).
   */
  APPOSE_VALUE_WORKER_OBJECT = 8,
} appose_value_kind;

/**
 * An environment builder handle (see `appose_builder_*`).
 */
typedef struct appose_builder appose_builder;

/**
 * An environment handle (see `appose_env_*`).
 */
typedef struct appose_env appose_env;

/**
 * An error a call handed to its caller (see `appose_error_*`). Owned by the
 * caller, readable from any thread, freed with `appose_error_free`.
 */
typedef struct appose_error appose_error;

/**
 * Events taken from a queue in one call (see `appose_event_batch_*`).
 */
typedef struct appose_event_batch appose_event_batch;

/**
 * A map of named values: task inputs and outputs (see `appose_map_*`).
 */
typedef struct appose_map appose_map;

/**
 * An n-dimensional array handle (see `appose_ndarray_*`).
 */
typedef struct appose_ndarray appose_ndarray;

/**
 * A queue of events a host takes on its own thread (see `appose_queue_*`).
 */
typedef struct appose_queue appose_queue;

/**
 * A service handle: one worker process (see `appose_service_*`).
 */
typedef struct appose_service appose_service;

/**
 * A shared memory block handle (see `appose_shm_*`).
 */
typedef struct appose_shm appose_shm;

/**
 * A task handle (see `appose_task_*`).
 */
typedef struct appose_task appose_task;

/**
 * A value at any depth of a result, an output or an event's info (see
 * `appose_value_*`): a read-only view, cheap to make (it shares the
 * whole value and remembers its path). Free with `appose_value_free`.
 */
typedef struct appose_value appose_value;

/**
 * An object that lives in a worker (see `appose_worker_object_*`).
 */
typedef struct appose_worker_object appose_worker_object;

/**
 * Receives build progress: a title ("Downloading uv", "Solving", ...), the
 * current amount and the maximum (0 when unknown). Runs on the thread
 * calling `appose_builder_build`; `title` lives for the call only.
 */
typedef void (*appose_progress_listener)(void *userdata,
                                         const char *title,
                                         uint64_t current,
                                         uint64_t maximum);

/**
 * Frees the caller's `userdata` when the library no longer needs it.
 */
typedef void (*appose_userdata_free)(void *userdata);

/**
 * Receives one line of a tool's output or error output, on the thread
 * calling `appose_builder_build`; `line` lives for the call only.
 */
typedef void (*appose_line_listener)(void *userdata, const char *line);

/**
 * One event, from a queue or given to a task listener.
 *
 * Every field is a fixed-width integer or a pointer (no `bool`, no hidden
 * padding). Pointers are NULL when the field does not apply, and what they
 * point to (strings, the `info` map, the `env` handle) lives until the
 * batch is freed, or for a listener until it returns: copy what you keep
 * (e.g. `appose_map_get_ndarray` on `info` gives a handle of your own).
 * Fields are only ever added at the end: a host built against a newer
 * header reads a field only when its offset is below `size`.
 */
typedef struct appose_event {
  /**
   * `sizeof(appose_event)` in the library that made this event.
   */
  size_t size;
  /**
   * An appose_event_kind.
   */
  int32_t kind;
  /**
   * TASK: an appose_response_type.
   */
  int32_t response_type;
  /**
   * TASK: the task's status with this event taken into account (an
   * appose_task_status).
   */
  int32_t task_status;
  /**
   * CLOSED and BUILT: `APPOSE_STATUS_OK`, or the failure's status (then
   * `error` holds its message).
   */
  int32_t status;
  /**
   * 1 when `current` holds a value (TASK UPDATE; always for
   * BUILD_PROGRESS), else 0.
   */
  int32_t has_current;
  /**
   * 1 when `maximum` holds a value, else 0.
   */
  int32_t has_maximum;
  /**
   * CLOSED: the worker's exit code (128 + signal if killed), -1 when it
   * was never started or its code is unknown.
   */
  int32_t exit_code;
  /**
   * Always 0.
   */
  int32_t reserved;
  /**
   * The tag given when the source was attached to the queue (0 for a
   * listener).
   */
  uint64_t tag;
  int64_t current;
  int64_t maximum;
  /**
   * TASK: the task's id.
   */
  const char *task_id;
  /**
   * TASK UPDATE: its message; BUILD_PROGRESS: the title; BUILD_OUTPUT
   * and BUILD_ERROR: the line.
   */
  const char *message;
  /**
   * TASK UPDATE: its `info` value as JSON text.
   */
  const char *info_json;
  /**
   * TASK UPDATE: its `info` (an object) as a map, arrays and blocks
   * typed (`appose_map_get_ndarray`, `appose_map_get_shm`). Owned by the
   * event: never free it.
   */
  const struct appose_map *info;
  /**
   * TASK FAILURE and CRASH: the error text; CLOSED and BUILT: the
   * failure's message.
   */
  const char *error;
  /**
   * BUILT: the environment. Owned by the event: keep it with
   * `appose_env_clone`.
   */
  const struct appose_env *env;
} appose_event;

/**
 * Receives one debug line: `[SERVICE-n] ...` (service messages, requests,
 * responses) or `[WORKER-n] ...` (worker stderr). `message` lives for the
 * call only. Runs on the service's dispatcher thread.
 */
typedef void (*appose_debug_listener)(void *userdata, const char *message);

/**
 * Receives the events of one task, in order, on the service's dispatcher
 * thread. `event` lives for the call only. Must not unwind (no C++
 * exceptions may escape it).
 */
typedef void (*appose_task_listener)(void *userdata, const struct appose_event *event);

/**
 * Runs on a library thread that may call host code: once when it starts
 * (before any other callback on it), once when it ends (after the last).
 * `thread_name` (e.g. "appose-3-dispatch") lives for the call only.
 */
typedef void (*appose_thread_hook)(void *userdata, const char *thread_name);







#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * The library version, e.g. `"0.1.0"`. Static; never free it.
 */
const char *appose_version(void);

/**
 * The name of a status code (`"APPOSE_STATUS_OK"`, ...), or
 * `"APPOSE_STATUS_UNKNOWN"`. Static; never free it. Takes an `int` so that
 * any value, even one this version does not know, is safe to pass.
 */
const char *appose_status_str(int status);

/**
 * The message of the last failed call on this thread ("" if none). Valid
 * until the next failing call on this thread; never free it.
 */
const char *appose_last_error(void);

/**
 * Frees a string the library returned through an out-parameter. NULL is a
 * no-op. Never pass a string the library did not allocate.
 */
void appose_string_free(char *s);

/**
 * A new builder of `kind`: "uv", "pixi", "mamba", "custom", or "dynamic"
 * (also NULL), which picks uv, pixi or mamba from the scheme or content.
 * Free with `appose_builder_free`.
 */
enum appose_status appose_builder_new(const char *kind,
                                      struct appose_builder **builder_out,
                                      struct appose_error **error_out);

/**
 * The environment's name: its directory under the envs root.
 */
enum appose_status appose_builder_name(struct appose_builder *builder,
                                       const char *name,
                                       struct appose_error **error_out);

/**
 * The environment's directory (instead of `<envs root>/<name>`).
 */
enum appose_status appose_builder_base(struct appose_builder *builder,
                                       const char *dir,
                                       struct appose_error **error_out);

/**
 * Where named environments and downloaded tools live (default:
 * `APPOSE_ENVS_DIR`, else `~/.local/share/appose`).
 */
enum appose_status appose_builder_envs_root(struct appose_builder *builder,
                                            const char *dir,
                                            struct appose_error **error_out);

/**
 * The environment description itself (pixi.toml, pyproject.toml,
 * environment.yml or requirements.txt text).
 */
enum appose_status appose_builder_content(struct appose_builder *builder,
                                          const char *content,
                                          struct appose_error **error_out);

/**
 * Reads the description from a file, at once (its name also gives the
 * scheme).
 */
enum appose_status appose_builder_file(struct appose_builder *builder,
                                       const char *path,
                                       struct appose_error **error_out);

/**
 * Fetches the description from a URL, at once: blocks until the download
 * ends (no time limit; connecting gives up after 30 s).
 */
enum appose_status appose_builder_url(struct appose_builder *builder,
                                      const char *url,
                                      struct appose_error **error_out);

/**
 * The description's format: "pixi.toml", "pyproject.toml",
 * "environment.yml" or "requirements.txt".
 */
enum appose_status appose_builder_scheme(struct appose_builder *builder,
                                         const char *scheme,
                                         struct appose_error **error_out);

/**
 * Adds a conda channel (pixi).
 */
enum appose_status appose_builder_channel(struct appose_builder *builder,
                                          const char *channel,
                                          struct appose_error **error_out);

/**
 * Adds a flag to every tool command.
 */
enum appose_status appose_builder_flag(struct appose_builder *builder,
                                       const char *flag,
                                       struct appose_error **error_out);

/**
 * uv: the venv's Python version.
 */
enum appose_status appose_builder_python_version(struct appose_builder *builder,
                                                 const char *version,
                                                 struct appose_error **error_out);

/**
 * uv: adds a PyPI requirement (`appose` is added when none names it).
 */
enum appose_status appose_builder_package(struct appose_builder *builder,
                                          const char *spec,
                                          struct appose_error **error_out);

/**
 * pixi: adds a conda package.
 */
enum appose_status appose_builder_conda(struct appose_builder *builder,
                                        const char *spec,
                                        struct appose_error **error_out);

/**
 * pixi: adds a PyPI package.
 */
enum appose_status appose_builder_pypi(struct appose_builder *builder,
                                       const char *spec,
                                       struct appose_error **error_out);

/**
 * pixi: the manifest's named environment to install and run.
 */
enum appose_status appose_builder_pixi_environment(struct appose_builder *builder,
                                                   const char *name,
                                                   struct appose_error **error_out);

/**
 * custom: adds a directory of executables.
 */
enum appose_status appose_builder_bin_path(struct appose_builder *builder,
                                           const char *dir,
                                           struct appose_error **error_out);

/**
 * Downloads tools from `<base_url>/<tool>/<version>/<file>` instead of
 * their release hosts (overrides `APPOSE_TOOL_MIRROR`).
 */
enum appose_status appose_builder_tool_mirror(struct appose_builder *builder,
                                              const char *base_url,
                                              struct appose_error **error_out);

/**
 * The SHA-256 (64 hexadecimal digits) a downloaded tool archive must
 * have, instead of the one libappose records for the pinned release: for
 * a mirror that serves its own build. Anything else is
 * `APPOSE_STATUS_INVALID_ARGUMENT`.
 */
enum appose_status appose_builder_tool_sha256(struct appose_builder *builder,
                                              const char *hex,
                                              struct appose_error **error_out);

/**
 * Sets an environment variable for the tools and for the environment's
 * workers.
 */
enum appose_status appose_builder_env_var(struct appose_builder *builder,
                                          const char *key,
                                          const char *value,
                                          struct appose_error **error_out);

/**
 * custom: also searches the system `PATH` for executables.
 */
enum appose_status appose_builder_append_system_path(struct appose_builder *builder,
                                                     struct appose_error **error_out);

/**
 * Adds a progress listener. `userdata_free` as for every registration.
 */
enum appose_status appose_builder_on_progress(struct appose_builder *builder,
                                              appose_progress_listener listener,
                                              void *userdata,
                                              appose_userdata_free userdata_free,
                                              struct appose_error **error_out);

/**
 * Adds a listener for the tools' output lines.
 */
enum appose_status appose_builder_on_output(struct appose_builder *builder,
                                            appose_line_listener listener,
                                            void *userdata,
                                            appose_userdata_free userdata_free,
                                            struct appose_error **error_out);

/**
 * Adds a listener for the tools' error lines (pixi's success message and
 * `-vv` log are not errors and go to the output listeners).
 */
enum appose_status appose_builder_on_error(struct appose_builder *builder,
                                           appose_line_listener listener,
                                           void *userdata,
                                           appose_userdata_free userdata_free,
                                           struct appose_error **error_out);

/**
 * Builds the environment (or reuses it when its `appose.json` matches this
 * configuration) and returns it. Blocks until the tool (uv, pixi or
 * micromamba, downloaded first if missing; none for "custom") finishes,
 * with no time limit: minutes for a large environment. Callbacks run on
 * this thread. A failing tool gives `APPOSE_STATUS_IO` with its exit code,
 * command line and error output in `appose_last_error()`.
 */
enum appose_status appose_builder_build(struct appose_builder *builder,
                                        struct appose_env **env_out,
                                        struct appose_error **error_out);

/**
 * Installs the builder's tool (uv, pixi or micromamba) into the envs root
 * unless it is there already, e.g. to prepare for offline use, and writes
 * its path (free with `appose_string_free`). Blocks until the download and
 * unpacking finish (no time limit; connecting gives up after 30 s).
 */
enum appose_status appose_builder_install_tool(struct appose_builder *builder,
                                               char **path_out,
                                               struct appose_error **error_out);

/**
 * Deletes the environment's directory (as `appose_builder_delete`), then
 * builds it; blocks as both do.
 */
enum appose_status appose_builder_rebuild(struct appose_builder *builder,
                                          struct appose_env **env_out,
                                          struct appose_error **error_out);

/**
 * Deletes the environment's directory, if it exists. Only a directory that
 * is an environment (it has `appose.json`, `.pixi/`, `pixi.toml`,
 * `conda-meta/`, `pyvenv.cfg` or `.venv/pyvenv.cfg`) or is empty is
 * deleted, and never `/`, the current directory, `HOME`, the envs root or a
 * directory holding one of them: `APPOSE_STATUS_INVALID_ARGUMENT` says why.
 * A symlink is judged by its target, whose contents are deleted. Blocks
 * until every file is removed.
 */
enum appose_status appose_builder_delete(struct appose_builder *builder,
                                         struct appose_error **error_out);

/**
 * Frees a builder handle (and, once not building, its listeners).
 */
enum appose_status appose_builder_free(struct appose_builder *builder);

/**
 * The system environment: executables found on `PATH`, based in the
 * current directory. Free with `appose_env_free`.
 */
enum appose_status appose_env_system(struct appose_env **env_out, struct appose_error **error_out);

/**
 * An existing environment directory, its kind detected as the peers do:
 * `.pixi/` or `pixi.toml` (run through `pixi run`), `conda-meta/` (through
 * `micromamba run`), `pyvenv.cfg` (a venv), else a plain directory whose
 * `bin/` and itself hold the executables. Installs no packages. Free with
 * `appose_env_free`.
 *
 * Blocks for a pixi or conda directory when pixi or micromamba is neither
 * in the default envs root nor on `PATH`: until it is downloaded into the
 * envs root (no time limit; connecting gives up after 30 s). Otherwise it
 * only looks at the directory.
 */
enum appose_status appose_env_wrap(const char *dir,
                                   struct appose_env **env_out,
                                   struct appose_error **error_out);

/**
 * The environment's base directory (free with `appose_string_free`).
 */
enum appose_status appose_env_base(const struct appose_env *env,
                                   char **base_out,
                                   struct appose_error **error_out);

/**
 * A Python worker service (not started yet) with the Appose peers' command:
 * the first of `python`, `python3`, `python.exe`, `bin/python`,
 * `bin/python.exe` found, run with `-c "import appose.python_worker; ..."`.
 * `APPOSE_STATUS_NOT_FOUND` when there is none. Free with
 * `appose_service_free`.
 */
enum appose_status appose_env_python(const struct appose_env *env,
                                     struct appose_service **service_out,
                                     struct appose_error **error_out);

/**
 * A service (not started yet) running the first of the `n_candidates`
 * executables found in the environment, followed by the `n_args`
 * arguments. `args` may be NULL when `n_args` is 0.
 *
 * A bare name (`python`) is looked for in each of the bin paths; a name
 * with a `/` is relative to the base directory (`bin/python`), and an
 * absolute path (`/usr/bin/python3`) is taken as it is. Each must be an
 * executable file, else the next is tried; when none is,
 * `APPOSE_STATUS_NOT_FOUND` names the candidates and where they were
 * looked for. In an environment with a launcher (`appose_env_launch_args`
 * not empty, e.g. pixi) the first candidate goes to the launcher
 * unchecked, to resolve itself.
 */
enum appose_status appose_env_service(const struct appose_env *env,
                                      const char *const *candidates,
                                      size_t n_candidates,
                                      const char *const *args,
                                      size_t n_args,
                                      struct appose_service **service_out,
                                      struct appose_error **error_out);

/**
 * The directories searched for executables, as a JSON array of strings.
 * Free with `appose_string_free`.
 */
enum appose_status appose_env_bin_paths(const struct appose_env *env,
                                        char **json_out,
                                        struct appose_error **error_out);

/**
 * The launcher put before every worker command (`["/.../pixi", "run",
 * "--manifest-path", ...]`; `[]` for none), as a JSON array. Free with
 * `appose_string_free`.
 */
enum appose_status appose_env_launch_args(const struct appose_env *env,
                                          char **json_out,
                                          struct appose_error **error_out);

/**
 * A Groovy worker service (not started): `java -cp <class path> <jvm_args>
 * org.apposed.appose.GroovyWorker`, `java` found in the environment. The
 * class path is built as appose-java builds it: the jars named by
 * `APPOSE_GROOVY_CLASSPATH` (`:`-separated; an element ending in `*` is
 * every jar of its directory) first, then `classpath`; canonical paths,
 * each once. `APPOSE_STATUS_NOT_FOUND`, naming
 * what is missing, when it lacks the GroovyWorker, Groovy or groovy-json
 * (not checked for an environment with a launcher prefix).
 */
enum appose_status appose_env_groovy(const struct appose_env *env,
                                     const char *const *classpath,
                                     size_t n_classpath,
                                     const char *const *jvm_args,
                                     size_t n_jvm_args,
                                     struct appose_service **service_out,
                                     struct appose_error **error_out);

/**
 * A service running a Java main class with the environment's `java`.
 */
enum appose_status appose_env_java(const struct appose_env *env,
                                   const char *main_class,
                                   const char *const *classpath,
                                   size_t n_classpath,
                                   const char *const *jvm_args,
                                   size_t n_jvm_args,
                                   struct appose_service **service_out,
                                   struct appose_error **error_out);

/**
 * An environment from its parts, as the peers' `Environment` is made:
 * `base` (the workers' working directory), directories of executables
 * (`bin_paths`, searched in order), and a launcher prefix (`launch_args`,
 * e.g. `"srun", "--gpus=1"` or `"ssh", "node7"`) put before every
 * worker's program, which is then named bare for the launcher to find.
 * Free with `appose_env_free`.
 */
enum appose_status appose_env_new(const char *base,
                                  const char *const *bin_paths,
                                  size_t n_bin_paths,
                                  const char *const *launch_args,
                                  size_t n_launch_args,
                                  struct appose_env **env_out,
                                  struct appose_error **error_out);

/**
 * A service running the environment's python with `args` instead of the
 * worker's (e.g. `"-m", "pip", "list"`), not started; `nargs` 0 gives the
 * worker, as `appose_env_python`. Free with `appose_service_free`.
 */
enum appose_status appose_env_python_args(const struct appose_env *env,
                                          const char *const *args,
                                          size_t nargs,
                                          struct appose_service **service_out,
                                          struct appose_error **error_out);

/**
 * The environment's kind, as the peers name it: "pixi", "mamba", "uv" (a
 * venv) or "custom" (any other directory). Static; never free it.
 */
enum appose_status appose_env_type(const struct appose_env *env,
                                   const char **type_out,
                                   struct appose_error **error_out);

/**
 * The kind of environment directory `dir` is, as `appose_env_type` names
 * it, without wrapping it. Static; never free it.
 */
enum appose_status appose_env_dir_type(const char *dir,
                                       const char **type_out,
                                       struct appose_error **error_out);

/**
 * Writes 1 to `can_out` when `dir` is an environment a builder recognizes
 * (a pixi project or environment, a conda environment, a venv), else 0;
 * any directory can still be wrapped as a plain one.
 */
enum appose_status appose_env_can_wrap(const char *dir,
                                       int32_t *can_out,
                                       struct appose_error **error_out);

/**
 * A builder for this environment, recovered from the `appose.json` its
 * builder wrote (else from the description in its directory:
 * `pixi.toml`, `pyproject.toml`, `environment.yml`, `requirements.txt`),
 * its base the environment's directory: set an envs root, listeners,
 * then rebuild. `APPOSE_STATUS_NOT_FOUND` when there is nothing to
 * recover it from. Free with `appose_builder_free`.
 */
enum appose_status appose_env_builder(const struct appose_env *env,
                                      struct appose_builder **builder_out,
                                      struct appose_error **error_out);

/**
 * Deletes the environment's directory and builds it again from its
 * recovered builder (see `appose_env_builder`), with the default envs
 * root for tools. Blocks until the tools finish (minutes). Writes the new
 * environment to `env_out`.
 */
enum appose_status appose_env_rebuild(const struct appose_env *env,
                                      struct appose_env **env_out,
                                      struct appose_error **error_out);

/**
 * The named sub-environment `name` (e.g. "gpu") of a pixi environment,
 * installed if needed (`pixi install --environment name`): its workers run
 * through `pixi run --environment name`. Blocks until pixi finishes
 * installing it. `APPOSE_STATUS_INVALID_STATE` for other kinds. Free the
 * new environment with `appose_env_free`.
 */
enum appose_status appose_env_activate(const struct appose_env *env,
                                       const char *name,
                                       struct appose_env **env_out,
                                       struct appose_error **error_out);

/**
 * Deletes the environment's directory, as `appose_builder_delete` does
 * (only a directory that is an environment). Runs no tool.
 */
enum appose_status appose_env_delete(const struct appose_env *env, struct appose_error **error_out);

/**
 * A new handle to the same environment (e.g. to keep the `env` of an
 * APPOSE_EVENT_BUILT beyond its batch). Free it with `appose_env_free`.
 */
enum appose_status appose_env_clone(const struct appose_env *env,
                                    struct appose_env **env_out,
                                    struct appose_error **error_out);

/**
 * Frees an environment handle. NULL is a no-op; a handle freed already gives
 * `APPOSE_STATUS_INVALID_HANDLE`. Services made from it are unaffected.
 */
enum appose_status appose_env_free(struct appose_env *env);

/**
 * The status of the failed call; `APPOSE_STATUS_INVALID_HANDLE` for a NULL,
 * freed or wrong-kind handle.
 */
enum appose_status appose_error_status(const struct appose_error *error);

/**
 * The error's message (UTF-8). Valid until the error is freed; never free
 * it. `""` for a NULL, freed or wrong-kind handle.
 */
const char *appose_error_message(const struct appose_error *error);

/**
 * Frees an error. NULL is a no-op.
 */
enum appose_status appose_error_free(struct appose_error *error);

/**
 * The numpy name of a dtype (`"float32"`, ...), or NULL for an unknown
 * value. Static; never free it.
 */
const char *appose_dtype_name(int dtype);

/**
 * Bytes per element of a dtype, 0 for an unknown value.
 */
size_t appose_dtype_size(int dtype);

/**
 * A new array of `dtype` (an appose_dtype) and `shape` (`ndim` extents,
 * listed in `order`), in a new owned block, reserved as by
 * `appose_shm_create` (blocking while the pages are reserved). Free with
 * `appose_ndarray_free`. `ndim` 0 (`shape` may be NULL) makes a 0-d array
 * of one element.
 */
enum appose_status appose_ndarray_new(int dtype,
                                      const size_t *shape,
                                      size_t ndim,
                                      int order,
                                      struct appose_ndarray **ndarray_out,
                                      struct appose_error **error_out);

/**
 * An array over an existing block. `APPOSE_STATUS_INVALID_ARGUMENT` if the
 * array would need more bytes than the block has.
 */
enum appose_status appose_ndarray_wrap(const struct appose_shm *shm,
                                       int dtype,
                                       const size_t *shape,
                                       size_t ndim,
                                       int order,
                                       struct appose_ndarray **ndarray_out,
                                       struct appose_error **error_out);

/**
 * The array's dtype (an appose_dtype value).
 */
enum appose_status appose_ndarray_dtype(const struct appose_ndarray *ndarray,
                                        int *dtype_out,
                                        struct appose_error **error_out);

/**
 * The number of dimensions.
 */
enum appose_status appose_ndarray_ndim(const struct appose_ndarray *ndarray,
                                       size_t *ndim_out,
                                       struct appose_error **error_out);

/**
 * Copies the shape, listed in `order`, into `shape_out`, which has room for
 * `capacity` extents (at least ndim, else `APPOSE_STATUS_INVALID_ARGUMENT`).
 * A 0-d array (one element, numpy's shape `()`) has no extents to copy:
 * `shape_out` may then be NULL, as `shape` may be for `appose_ndarray_new`.
 */
enum appose_status appose_ndarray_shape(const struct appose_ndarray *ndarray,
                                        int order,
                                        size_t *shape_out,
                                        size_t capacity,
                                        struct appose_error **error_out);

/**
 * The elements' bytes (C order). Valid while any handle to the block lives.
 */
enum appose_status appose_ndarray_data(const struct appose_ndarray *ndarray,
                                       void **data_out,
                                       struct appose_error **error_out);

/**
 * The number of bytes the elements take (elements times item size).
 */
enum appose_status appose_ndarray_byte_length(const struct appose_ndarray *ndarray,
                                              size_t *length_out,
                                              struct appose_error **error_out);

/**
 * A new handle to the array's block (free it with `appose_shm_free`).
 */
enum appose_status appose_ndarray_shm(const struct appose_ndarray *ndarray,
                                      struct appose_shm **shm_out,
                                      struct appose_error **error_out);

/**
 * Frees an array handle (its block lives on while other handles use it).
 */
enum appose_status appose_ndarray_free(struct appose_ndarray *ndarray);

/**
 * A new, empty event queue. Free with `appose_queue_free`.
 */
enum appose_status appose_queue_new(struct appose_queue **queue_out,
                                    struct appose_error **error_out);

/**
 * The queue's file descriptor: the read end of a pipe that is readable
 * while events wait. When it is, take until `appose_queue_take` gives an
 * empty batch. Owned by the queue: never close it (a watcher that closes
 * what it watches, like Node's `net.Socket`, watches
 * `appose_queue_dup_fd` instead). Reading it yourself is harmless.
 */
enum appose_status appose_queue_fd(const struct appose_queue *queue,
                                   int *fd_out,
                                   struct appose_error **error_out);

/**
 * A duplicate of the queue's file descriptor (close-on-exec) that the
 * caller owns and closes: for watchers that close the fd they watch.
 */
enum appose_status appose_queue_dup_fd(const struct appose_queue *queue,
                                       int *fd_out,
                                       struct appose_error **error_out);

/**
 * Takes up to `max` waiting events (every waiting event when `max` is 0)
 * in order, without ever blocking: the batch is empty when none wait.
 * Events of one task keep their order. Free the batch with
 * `appose_event_batch_free`; its events and what they point to live until
 * then.
 */
enum appose_status appose_queue_take(struct appose_queue *queue,
                                     size_t max,
                                     struct appose_event_batch **batch_out,
                                     struct appose_error **error_out);

/**
 * Frees a queue handle. Events still waiting are dropped, and sources
 * attached to it stop sending (tasks, closes and builds go on).
 */
enum appose_status appose_queue_free(struct appose_queue *queue);

/**
 * The number of events in a batch (0 for a NULL or freed batch).
 */
size_t appose_event_batch_len(const struct appose_event_batch *batch);

/**
 * Event `index` of a batch, valid until the batch is freed; NULL when
 * `index` is out of range or the batch is NULL or freed.
 */
const struct appose_event *appose_event_batch_get(const struct appose_event_batch *batch,
                                                  size_t index);

/**
 * Frees a batch and everything its events point to.
 */
enum appose_status appose_event_batch_free(struct appose_event_batch *batch);

/**
 * Sends the task's events into `queue`, tagged `tag`, instead of (or
 * beside) listener calls. Only while the task is INITIAL. Its terminal
 * event always gets through; other events wait while the queue holds
 * 1,024 (and then the service stops reading its worker's output).
 */
enum appose_status appose_task_listen_queue(struct appose_task *task,
                                            const struct appose_queue *queue,
                                            uint64_t tag,
                                            struct appose_error **error_out);

/**
 * Sends the events of every task the service makes from now on into
 * `queue`, tagged `tag` (each event names its task in `task_id`).
 */
enum appose_status appose_service_listen_queue(struct appose_service *service,
                                               const struct appose_queue *queue,
                                               uint64_t tag,
                                               struct appose_error **error_out);

/**
 * Starts closing the service as `appose_service_close` does, without
 * blocking: the outcome arrives in `queue` as one APPOSE_EVENT_CLOSED
 * tagged `tag` (`status` as `appose_service_close` would return it,
 * `exit_code`). The closing runs on a library thread (with the thread
 * hooks). Allowed inside a callback.
 */
enum appose_status appose_service_close_async(struct appose_service *service,
                                              int64_t timeout_ms,
                                              const struct appose_queue *queue,
                                              uint64_t tag,
                                              struct appose_error **error_out);

/**
 * Builds as `appose_builder_build` does, without blocking: progress, the
 * tools' lines and then one APPOSE_EVENT_BUILT (always delivered) arrive in
 * `queue`, tagged `tag`. The build runs on a library thread (with the
 * thread hooks), where the builder's own listeners also run; the builder
 * refuses other calls (`APPOSE_STATUS_INVALID_STATE`) until it ends.
 */
enum appose_status appose_builder_build_async(struct appose_builder *builder,
                                              const struct appose_queue *queue,
                                              uint64_t tag,
                                              struct appose_error **error_out);

/**
 * As `appose_builder_build_async`, deleting the environment first (as
 * `appose_builder_rebuild`).
 */
enum appose_status appose_builder_rebuild_async(struct appose_builder *builder,
                                                const struct appose_queue *queue,
                                                uint64_t tag,
                                                struct appose_error **error_out);

/**
 * Sets a script the worker runs before it reads any request (through a temp
 * file readable only by the user, named in `APPOSE_INIT_SCRIPT`). Its public
 * names are visible to every task. Only before the service starts.
 */
enum appose_status appose_service_init(struct appose_service *service,
                                       const char *script,
                                       struct appose_error **error_out);

/**
 * Sets (or, with `value` NULL, removes) an environment variable of the
 * worker. Only before the service starts.
 */
enum appose_status appose_service_env_var(struct appose_service *service,
                                          const char *key,
                                          const char *value,
                                          struct appose_error **error_out);

/**
 * Sets the debug listener, before or after the service starts (after: it
 * replaces the previous one from the next line on). On success the library
 * owns `userdata` and calls `userdata_free` (if not NULL) exactly once,
 * when it no longer needs it: on the dispatcher thread (when replaced, or
 * when the service ends), or on the thread freeing a service that never
 * started; on failure (a closed service) it never does.
 */
enum appose_status appose_service_debug(struct appose_service *service,
                                        appose_debug_listener listener,
                                        void *userdata,
                                        appose_userdata_free userdata_free,
                                        struct appose_error **error_out);

/**
 * Starts the worker process. Optional: the first task starts it too.
 * Blocks only while the process and the service's threads are spawned
 * (milliseconds); it does not wait for the worker to be ready.
 */
enum appose_status appose_service_start(struct appose_service *service,
                                        struct appose_error **error_out);

/**
 * Makes a task (INITIAL) running `script` with `inputs_json` (a JSON object,
 * or NULL for none) on `queue` (NULL, or `"main"` for the worker's main
 * thread). Starts the service if needed, which blocks as
 * `appose_service_start` does. Add listeners, then call
 * `appose_task_start` or `appose_task_wait`. Free with `appose_task_free`.
 */
enum appose_status appose_service_task(struct appose_service *service,
                                       const char *script,
                                       const char *inputs_json,
                                       const char *queue,
                                       struct appose_task **task_out,
                                       struct appose_error **error_out);

/**
 * Makes a task as `appose_service_task` does (starting the service if
 * needed, which blocks as `appose_service_start` does), with inputs from a
 * map (NULL for none; arrays and blocks in it are shared, not copied).
 */
enum appose_status appose_service_task_map(struct appose_service *service,
                                           const char *script,
                                           const struct appose_map *inputs,
                                           const char *queue,
                                           struct appose_task **task_out,
                                           struct appose_error **error_out);

/**
 * Closes the worker's stdin, waits up to `timeout_ms` (negative: no limit)
 * for it to exit, then kills its process group. Writes the exit code (128 +
 * signal number if killed; -1 if never started) to `exit_code_out` unless
 * it is NULL. `APPOSE_STATUS_REENTRANT` from inside a callback.
 *
 * Blocks up to `timeout_ms` for the worker to exit; if it has to be killed,
 * up to 2 s more for its output to drain; then up to `timeout_ms` again for
 * running listeners to return (`APPOSE_STATUS_LISTENER_BUSY` if one does
 * not): about twice `timeout_ms` at most.
 */
enum appose_status appose_service_close(struct appose_service *service,
                                        int64_t timeout_ms,
                                        int *exit_code_out,
                                        struct appose_error **error_out);

/**
 * Waits for the worker to exit by itself, without closing its stdin
 * (unlike `appose_service_close`). Blocks up to `timeout_ms` (negative: no
 * limit). Writes its exit code (128 + signal if killed; -1 if unknown or never
 * started) to `exit_code_out` unless it is NULL. `APPOSE_STATUS_TIMEOUT`
 * when it still runs; `APPOSE_STATUS_REENTRANT` from inside a callback.
 */
enum appose_status appose_service_wait_exit(struct appose_service *service,
                                            int64_t timeout_ms,
                                            int *exit_code_out,
                                            struct appose_error **error_out);

/**
 * Kills the worker's whole process group at once; pending tasks end CRASHED.
 * Does not block: the signal is sent, the exit is noticed later.
 */
enum appose_status appose_service_kill(struct appose_service *service,
                                       struct appose_error **error_out);

/**
 * Whether the worker process is running.
 */
enum appose_status appose_service_is_alive(const struct appose_service *service,
                                           bool *alive_out,
                                           struct appose_error **error_out);

/**
 * The worker's process id (with a launcher such as `pixi run`, the
 * launcher's). `APPOSE_STATUS_INVALID_STATE` before the service has
 * started. After the worker exits it is still the id the worker had, which
 * the system may since have given to another process: to end the worker,
 * use `appose_service_kill` rather than signalling the id.
 */
enum appose_status appose_service_pid(const struct appose_service *service,
                                      int64_t *pid_out,
                                      struct appose_error **error_out);

/**
 * The worker's stdout lines that were not responses, as a JSON array of
 * strings (free with `appose_string_free`).
 */
enum appose_status appose_service_invalid_lines(const struct appose_service *service,
                                                char **json_out,
                                                struct appose_error **error_out);

/**
 * The worker's stderr lines, as a JSON array of strings (free with
 * `appose_string_free`).
 */
enum appose_status appose_service_error_lines(const struct appose_service *service,
                                              char **json_out,
                                              struct appose_error **error_out);

/**
 * Frees a service handle. Tasks keep their service alive; when the last
 * handle of a started service goes without `appose_service_close`, the
 * worker's stdin is closed and it is killed if still running 10 s later.
 */
enum appose_status appose_service_free(struct appose_service *service);

/**
 * Creates a block of `rsize` bytes named `psm_` + 8 random hex digits.
 * Owned: unlinked when its last handle (including arrays over it and values
 * holding it) is freed, and at normal process exit; if the process is
 * killed, by the next process that uses the library. Free with
 * `appose_shm_free`. Its pages are reserved in /dev/shm: a block that does
 * not fit gives `APPOSE_STATUS_IO`, with the sizes and the fix in
 * `appose_last_error()`, instead of SIGBUS at the first write. Blocks while
 * the pages are reserved (allocated and zeroed): time grows with `rsize`,
 * a few tenths of a second per GiB.
 */
enum appose_status appose_shm_create(size_t rsize,
                                     struct appose_shm **shm_out,
                                     struct appose_error **error_out);

/**
 * Creates a block with a given name (no leading slash). Owned, as
 * `appose_shm_create`, and blocks as it does. `APPOSE_STATUS_ALREADY_EXISTS`
 * if the name is taken.
 */
enum appose_status appose_shm_create_named(const char *name,
                                           size_t rsize,
                                           struct appose_shm **shm_out,
                                           struct appose_error **error_out);

/**
 * Attaches to an existing block by name; its size is read from the block.
 * Not owned (only unmapped when freed) unless the block is already mapped
 * in this process, whose mapping and ownership it then shares.
 */
enum appose_status appose_shm_attach(const char *name,
                                     struct appose_shm **shm_out,
                                     struct appose_error **error_out);

/**
 * The block's name (free with `appose_string_free`).
 */
enum appose_status appose_shm_name(const struct appose_shm *shm,
                                   char **name_out,
                                   struct appose_error **error_out);

/**
 * The requested size in bytes.
 */
enum appose_status appose_shm_rsize(const struct appose_shm *shm,
                                    size_t *rsize_out,
                                    struct appose_error **error_out);

/**
 * The mapped size in bytes (equal to rsize on Linux).
 */
enum appose_status appose_shm_size(const struct appose_shm *shm,
                                   size_t *size_out,
                                   struct appose_error **error_out);

/**
 * The block's first byte. Valid while any handle to the block (this one, an
 * array over it, a map holding it) lives.
 */
enum appose_status appose_shm_data(const struct appose_shm *shm,
                                   void **data_out,
                                   struct appose_error **error_out);

/**
 * Whether the block is unlinked when its last handle goes.
 */
enum appose_status appose_shm_unlink_on_free(const struct appose_shm *shm,
                                             bool *unlink_out,
                                             struct appose_error **error_out);

/**
 * Sets whether the block is unlinked when its last handle goes (and at
 * normal process exit, or after a kill by the next process that uses the
 * library). Pass false to keep a block for another process.
 */
enum appose_status appose_shm_set_unlink_on_free(struct appose_shm *shm,
                                                 bool unlink,
                                                 struct appose_error **error_out);

/**
 * Removes the block's name now (Python's `unlink()`): nobody can attach
 * to it any more, while every mapping (this one, arrays over it, the
 * worker's) stays usable until its last handle goes. The block is then not
 * unlinked again when freed. `APPOSE_STATUS_NOT_FOUND` when the name was
 * gone already (or now names another block, which is left alone).
 */
enum appose_status appose_shm_unlink(const struct appose_shm *shm, struct appose_error **error_out);

/**
 * Attaches to an existing block as `appose_shm_attach` does, refusing it
 * (`APPOSE_STATUS_INVALID_ARGUMENT`) when it is smaller than `rsize`
 * bytes: the size the sender said it has.
 */
enum appose_status appose_shm_attach_sized(const char *name,
                                           size_t rsize,
                                           struct appose_shm **shm_out,
                                           struct appose_error **error_out);

/**
 * Frees a block handle. The mapping stays while other handles use it.
 */
enum appose_status appose_shm_free(struct appose_shm *shm);

/**
 * Adds a listener. Only while the task is INITIAL. On success the library
 * owns `userdata` and calls `userdata_free` (if not NULL) exactly once:
 * on the service's dispatcher thread after the task's last event, or on
 * the calling thread of `appose_task_free` when the task never started; on
 * failure it never does.
 */
enum appose_status appose_task_listen(struct appose_task *task,
                                      appose_task_listener listener,
                                      void *userdata,
                                      appose_userdata_free userdata_free,
                                      struct appose_error **error_out);

/**
 * Sends the task to the worker. `APPOSE_STATUS_INVALID_STATE` if it was
 * started already. Does not block: a request the worker's stdin cannot
 * take yet waits in memory.
 */
enum appose_status appose_task_start(struct appose_task *task, struct appose_error **error_out);

/**
 * Blocks until the task finishes (starting it if INITIAL), at most
 * `timeout_ms` milliseconds (negative: no limit). Returns OK for COMPLETE,
 * `APPOSE_STATUS_TASK_FAILED` / `_CANCELED` / `_CRASHED` otherwise (the error
 * text in `appose_last_error()`), `APPOSE_STATUS_TIMEOUT` if time ran out
 * (the task goes on), `APPOSE_STATUS_REENTRANT` inside a callback. Every
 * listener call for the task has returned before this does.
 */
enum appose_status appose_task_wait(struct appose_task *task,
                                    int64_t timeout_ms,
                                    struct appose_error **error_out);

/**
 * Asks the worker to cancel the task. Cooperative: the script must check
 * `task.cancel_requested`. A task not yet started is canceled at once.
 */
enum appose_status appose_task_cancel(struct appose_task *task, struct appose_error **error_out);

/**
 * The task's current status.
 */
enum appose_status appose_task_get_status(const struct appose_task *task,
                                          enum appose_task_status *status_out,
                                          struct appose_error **error_out);

/**
 * The name of a task status (`"COMPLETE"`, ...). Static; never free it.
 * Takes an `int` so that any value is safe to pass (`"UNKNOWN"`).
 */
const char *appose_task_status_str(int status);

/**
 * The task's outputs as a JSON object (`{}` before completion). Free with
 * `appose_string_free`.
 */
enum appose_status appose_task_outputs_json(const struct appose_task *task,
                                            char **json_out,
                                            struct appose_error **error_out);

/**
 * The task's outputs as a new map handle: arrays and blocks the worker
 * made are attached and owned here (unlinked when their last handle goes).
 * Free with `appose_map_free`.
 */
enum appose_status appose_task_outputs(const struct appose_task *task,
                                       struct appose_map **map_out,
                                       struct appose_error **error_out);

/**
 * `outputs["result"]` as JSON text, `null` when absent. Free with
 * `appose_string_free`.
 */
enum appose_status appose_task_result_json(const struct appose_task *task,
                                           char **json_out,
                                           struct appose_error **error_out);

/**
 * `outputs["result"]` as a value handle (typed at any depth; null when
 * absent). Free with `appose_value_free`.
 */
enum appose_status appose_task_result(const struct appose_task *task,
                                      struct appose_value **value_out,
                                      struct appose_error **error_out);

/**
 * The error text of a FAILED or CRASHED task; NULL is written when there is
 * none. Free with `appose_string_free`.
 */
enum appose_status appose_task_error(const struct appose_task *task,
                                     char **text_out,
                                     struct appose_error **error_out);

/**
 * The task's script. Free with `appose_string_free`.
 */
enum appose_status appose_task_script(const struct appose_task *task,
                                      char **script_out,
                                      struct appose_error **error_out);

/**
 * The worker queue the task runs on (`"main"`, ...); NULL is written when
 * it runs on any thread. Free with `appose_string_free`.
 */
enum appose_status appose_task_queue(const struct appose_task *task,
                                     char **queue_out,
                                     struct appose_error **error_out);

/**
 * The task's inputs as a new map handle (arrays and blocks shared, not
 * copied). Free with `appose_map_free`.
 */
enum appose_status appose_task_inputs(const struct appose_task *task,
                                      struct appose_map **map_out,
                                      struct appose_error **error_out);

/**
 * The task's id, as sent to the worker. Free with `appose_string_free`.
 */
enum appose_status appose_task_id(const struct appose_task *task,
                                  char **id_out,
                                  struct appose_error **error_out);

/**
 * Frees a task handle. A started task runs on; its listeners are released
 * after its last event.
 */
enum appose_status appose_task_free(struct appose_task *task);

/**
 * Sets the thread hooks for library threads started from now on (a thread
 * keeps the hooks it started with, so its exit hook always matches its
 * start hook). Threads that run them: each service's dispatcher thread
 * (task listeners, the debug listener, most `userdata_free` calls), and the
 * threads of `appose_service_close_async` and `appose_builder_build_async`.
 * The other library threads never call host code and run no hooks. Either
 * hook may be NULL; both NULL removes the hooks. `userdata_free` runs once,
 * on any thread, when no thread uses these hooks any more. Set them before
 * the first service starts (a JVM attaches threads as daemons in `on_start`
 * and detaches them in `on_exit`).
 */
enum appose_status appose_set_thread_hooks(appose_thread_hook on_start,
                                           appose_thread_hook on_exit,
                                           void *userdata,
                                           appose_userdata_free userdata_free,
                                           struct appose_error **error_out);

/**
 * A new empty map. Free with `appose_map_free`.
 */
enum appose_status appose_map_new(struct appose_map **map_out, struct appose_error **error_out);

/**
 * A map from a JSON object's text; `appose_type` objects in it are decoded
 * (their blocks must exist). Free with `appose_map_free`.
 */
enum appose_status appose_map_from_json(const char *json,
                                        struct appose_map **map_out,
                                        struct appose_error **error_out);

/**
 * Sets `key` to the value of `json` (any JSON value; `appose_type` objects
 * are decoded and their blocks must exist).
 */
enum appose_status appose_map_put_json(struct appose_map *map,
                                       const char *key,
                                       const char *json,
                                       struct appose_error **error_out);

/**
 * Sets `key` to an array (the map shares the array's block).
 */
enum appose_status appose_map_put_ndarray(struct appose_map *map,
                                          const char *key,
                                          const struct appose_ndarray *ndarray,
                                          struct appose_error **error_out);

/**
 * Sets `key` to a shared memory block.
 */
enum appose_status appose_map_put_shm(struct appose_map *map,
                                      const char *key,
                                      const struct appose_shm *shm,
                                      struct appose_error **error_out);

/**
 * Removes `key`; `APPOSE_STATUS_NOT_FOUND` if absent.
 */
enum appose_status appose_map_remove(struct appose_map *map,
                                     const char *key,
                                     struct appose_error **error_out);

/**
 * The number of entries.
 */
enum appose_status appose_map_len(const struct appose_map *map,
                                  size_t *len_out,
                                  struct appose_error **error_out);

/**
 * The key of entry `index` (insertion order). Free with `appose_string_free`.
 */
enum appose_status appose_map_key(const struct appose_map *map,
                                  size_t index,
                                  char **key_out,
                                  struct appose_error **error_out);

/**
 * The value of `key` as JSON text (arrays and blocks in their `appose_type`
 * form). `APPOSE_STATUS_NOT_FOUND` if absent. Free with `appose_string_free`.
 */
enum appose_status appose_map_get_json(const struct appose_map *map,
                                       const char *key,
                                       char **json_out,
                                       struct appose_error **error_out);

/**
 * The array under `key` as a new handle. `APPOSE_STATUS_INVALID_ARGUMENT` if
 * the value is not an array.
 */
enum appose_status appose_map_get_ndarray(const struct appose_map *map,
                                          const char *key,
                                          struct appose_ndarray **ndarray_out,
                                          struct appose_error **error_out);

/**
 * The block under `key` as a new handle (an array's block too).
 */
enum appose_status appose_map_get_shm(const struct appose_map *map,
                                      const char *key,
                                      struct appose_shm **shm_out,
                                      struct appose_error **error_out);

/**
 * The variable name of a worker object under `key` (a value the worker
 * could not send as JSON and kept under that name; later scripts can use
 * it). Free with `appose_string_free`.
 */
enum appose_status appose_map_get_worker_object(const struct appose_map *map,
                                                const char *key,
                                                char **var_name_out,
                                                struct appose_error **error_out);

/**
 * The whole map as JSON text, in the encoded form sent to workers. Free
 * with `appose_string_free`.
 */
enum appose_status appose_map_to_json(const struct appose_map *map,
                                      char **json_out,
                                      struct appose_error **error_out);

/**
 * Frees a map handle (the values' blocks live on while other handles use
 * them).
 */
enum appose_status appose_map_free(struct appose_map *map);

/**
 * A value from JSON text (any JSON value; `appose_type` objects decoded,
 * their blocks must exist), e.g. an argument for `appose_service_call`.
 */
enum appose_status appose_value_from_json(const char *json,
                                          struct appose_value **value_out,
                                          struct appose_error **error_out);

/**
 * A value holding an array (sharing its block).
 */
enum appose_status appose_value_from_ndarray(const struct appose_ndarray *ndarray,
                                             struct appose_value **value_out,
                                             struct appose_error **error_out);

/**
 * The value's kind (an appose_value_kind).
 */
enum appose_status appose_value_get_kind(const struct appose_value *value,
                                         int32_t *kind_out,
                                         struct appose_error **error_out);

/**
 * A bool value as 0 or 1.
 */
enum appose_status appose_value_bool(const struct appose_value *value,
                                     int32_t *bool_out,
                                     struct appose_error **error_out);

/**
 * A number that is an integer fitting in 64 bits (`APPOSE_STATUS_INVALID_ARGUMENT`
 * otherwise: read wider integers with `appose_value_number_text`).
 */
enum appose_status appose_value_i64(const struct appose_value *value,
                                    int64_t *i64_out,
                                    struct appose_error **error_out);

/**
 * A number as a double (NaN and the infinities included; wide integers
 * rounded).
 */
enum appose_status appose_value_f64(const struct appose_value *value,
                                    double *f64_out,
                                    struct appose_error **error_out);

/**
 * A number's exact text as the worker wrote it (`12345678901234567890123`,
 * `NaN`, ...). Free with `appose_string_free`.
 */
enum appose_status appose_value_number_text(const struct appose_value *value,
                                            char **text_out,
                                            struct appose_error **error_out);

/**
 * A string value. Free with `appose_string_free`.
 */
enum appose_status appose_value_string(const struct appose_value *value,
                                       char **text_out,
                                       struct appose_error **error_out);

/**
 * The number of items of an array or members of an object.
 */
enum appose_status appose_value_len(const struct appose_value *value,
                                    size_t *len_out,
                                    struct appose_error **error_out);

/**
 * Item `index` of an array, or the value of member `index` of an object
 * (insertion order), as a new handle.
 */
enum appose_status appose_value_at(const struct appose_value *value,
                                   size_t index,
                                   struct appose_value **item_out,
                                   struct appose_error **error_out);

/**
 * The key of member `index` of an object (insertion order). Free with
 * `appose_string_free`.
 */
enum appose_status appose_value_key(const struct appose_value *value,
                                    size_t index,
                                    char **key_out,
                                    struct appose_error **error_out);

/**
 * Member `key` of an object, as a new handle; `APPOSE_STATUS_NOT_FOUND`
 * when absent.
 */
enum appose_status appose_value_get(const struct appose_value *value,
                                    const char *key,
                                    struct appose_value **member_out,
                                    struct appose_error **error_out);

/**
 * An array value as a new array handle (sharing its block).
 */
enum appose_status appose_value_ndarray(const struct appose_value *value,
                                        struct appose_ndarray **ndarray_out,
                                        struct appose_error **error_out);

/**
 * A block value (or an array's block) as a new block handle.
 */
enum appose_status appose_value_shm(const struct appose_value *value,
                                    struct appose_shm **shm_out,
                                    struct appose_error **error_out);

/**
 * The value as JSON text (arrays, blocks and worker objects in their
 * `appose_type` form). Free with `appose_string_free`.
 */
enum appose_status appose_value_to_json(const struct appose_value *value,
                                        char **json_out,
                                        struct appose_error **error_out);

/**
 * Frees a value handle (the whole value goes with its last handle).
 */
enum appose_status appose_value_free(struct appose_value *value);

/**
 * The value of `key` as a value handle (typed at any depth).
 * `APPOSE_STATUS_NOT_FOUND` if absent.
 */
enum appose_status appose_map_get_value(const struct appose_map *map,
                                        const char *key,
                                        struct appose_value **value_out,
                                        struct appose_error **error_out);

/**
 * Names the language of the worker's scripts: "python", "groovy", or NULL
 * for none. Services made by `appose_env_python` and `appose_env_groovy`
 * know theirs; a custom worker must be named before variables, calls and
 * worker objects work on it.
 */
enum appose_status appose_service_set_syntax(struct appose_service *service,
                                             const char *syntax,
                                             struct appose_error **error_out);

/**
 * The value of the worker's exported variable `name` (a task on `queue`,
 * NULL for any). Blocks until it completes; `APPOSE_STATUS_TASK_FAILED`
 * with the worker's traceback when the name is unknown.
 */
enum appose_status appose_service_get_var(struct appose_service *service,
                                          const char *name,
                                          const char *queue,
                                          struct appose_value **value_out,
                                          struct appose_error **error_out);

/**
 * `appose_service_get_var` as an unstarted task (its result is the value).
 */
enum appose_status appose_service_get_var_task(struct appose_service *service,
                                               const char *name,
                                               const char *queue,
                                               struct appose_task **task_out,
                                               struct appose_error **error_out);

/**
 * Sets the worker's variable `name` to `value` and exports it for later
 * tasks. Blocks until done.
 */
enum appose_status appose_service_put_var(struct appose_service *service,
                                          const char *name,
                                          const struct appose_value *value,
                                          const char *queue,
                                          struct appose_error **error_out);

/**
 * `appose_service_put_var` as an unstarted task.
 */
enum appose_status appose_service_put_var_task(struct appose_service *service,
                                               const char *name,
                                               const struct appose_value *value,
                                               const char *queue,
                                               struct appose_task **task_out,
                                               struct appose_error **error_out);

/**
 * Calls `function` in the worker (a builtin or a name an earlier task or
 * the init script exported; dotted names allowed) with `nargs` arguments;
 * its result. A worker object of this service as an argument is passed as
 * the object itself. Blocks until done.
 */
enum appose_status appose_service_call(struct appose_service *service,
                                       const char *function,
                                       const struct appose_value *const *args,
                                       size_t nargs,
                                       const char *queue,
                                       struct appose_value **value_out,
                                       struct appose_error **error_out);

/**
 * `appose_service_call` as an unstarted task (its result is the value).
 */
enum appose_status appose_service_call_task(struct appose_service *service,
                                            const char *function,
                                            const struct appose_value *const *args,
                                            size_t nargs,
                                            const char *queue,
                                            struct appose_task **task_out,
                                            struct appose_error **error_out);

/**
 * A worker object for the variable `var` that the caller's scripts
 * exported (`task.export(var=...)`), its tasks running on `queue`. The
 * variable is the caller's: freeing the handle never deletes it.
 */
enum appose_status appose_service_proxy(struct appose_service *service,
                                        const char *var,
                                        const char *queue,
                                        struct appose_worker_object **object_out,
                                        struct appose_error **error_out);

/**
 * A worker object value as a new worker object handle. Objects the worker
 * sent are deleted in the worker when their last handle (this one, the
 * values and outputs holding them) goes.
 */
enum appose_status appose_value_worker_object(const struct appose_value *value,
                                              struct appose_worker_object **object_out,
                                              struct appose_error **error_out);

/**
 * A value holding a worker object (to pass it as an argument).
 */
enum appose_status appose_value_from_worker_object(const struct appose_worker_object *object,
                                                   struct appose_value **value_out,
                                                   struct appose_error **error_out);

/**
 * The variable the worker keeps the object under. Free with
 * `appose_string_free`.
 */
enum appose_status appose_worker_object_name(const struct appose_worker_object *object,
                                             char **name_out,
                                             struct appose_error **error_out);

/**
 * The object's attribute `name` (a value, or a worker object such as a
 * bound method). Blocks until done.
 */
enum appose_status appose_worker_object_attr(const struct appose_worker_object *object,
                                             const char *name,
                                             struct appose_value **value_out,
                                             struct appose_error **error_out);

/**
 * `appose_worker_object_attr` as an unstarted task.
 */
enum appose_status appose_worker_object_attr_task(const struct appose_worker_object *object,
                                                  const char *name,
                                                  struct appose_task **task_out,
                                                  struct appose_error **error_out);

/**
 * Calls the object's method `method` with `nargs` arguments; its result.
 * Blocks until done.
 */
enum appose_status appose_worker_object_invoke(const struct appose_worker_object *object,
                                               const char *method,
                                               const struct appose_value *const *args,
                                               size_t nargs,
                                               struct appose_value **value_out,
                                               struct appose_error **error_out);

/**
 * `appose_worker_object_invoke` as an unstarted task.
 */
enum appose_status appose_worker_object_invoke_task(const struct appose_worker_object *object,
                                                    const char *method,
                                                    const struct appose_value *const *args,
                                                    size_t nargs,
                                                    struct appose_task **task_out,
                                                    struct appose_error **error_out);

/**
 * Calls the object itself (a function, a bound method, any callable) with
 * `nargs` arguments; its result. Blocks until done.
 */
enum appose_status appose_worker_object_call(const struct appose_worker_object *object,
                                             const struct appose_value *const *args,
                                             size_t nargs,
                                             struct appose_value **value_out,
                                             struct appose_error **error_out);

/**
 * `appose_worker_object_call` as an unstarted task.
 */
enum appose_status appose_worker_object_call_task(const struct appose_worker_object *object,
                                                  const struct appose_value *const *args,
                                                  size_t nargs,
                                                  struct appose_task **task_out,
                                                  struct appose_error **error_out);

/**
 * The object's attribute names as a JSON array of strings (free with
 * `appose_string_free`). Blocks until done.
 */
enum appose_status appose_worker_object_dir(const struct appose_worker_object *object,
                                            char **json_out,
                                            struct appose_error **error_out);

/**
 * `appose_worker_object_dir` as an unstarted task (its result is the list).
 */
enum appose_status appose_worker_object_dir_task(const struct appose_worker_object *object,
                                                 struct appose_task **task_out,
                                                 struct appose_error **error_out);

/**
 * Frees a worker object handle. With the last handle to an object the
 * worker sent, its export is deleted in the worker (batched; skipped when
 * the service is closed or its worker gone).
 */
enum appose_status appose_worker_object_free(struct appose_worker_object *object);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* APPOSE_H */
