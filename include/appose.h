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
 *   gives APPOSE_STATUS_INVALID_HANDLE, never a crash.
 * - Callbacks run on the service's dispatcher thread, one at a time, in order.
 *   Each registration takes userdata and an optional userdata_free, called
 *   exactly once when the library no longer needs userdata (never if the
 *   registration fails). Blocking calls from a callback return
 *   APPOSE_STATUS_REENTRANT.
 */

#ifndef APPOSE_H
#define APPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APPOSE_VERSION_MAJOR 0
#define APPOSE_VERSION_MINOR 1
#define APPOSE_VERSION_PATCH 0
#define APPOSE_VERSION "0.1.0"




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
 * Reads the description from a file (its name also gives the scheme).
 */
enum appose_status appose_builder_file(struct appose_builder *builder,
                                       const char *path,
                                       struct appose_error **error_out);

/**
 * Fetches the description from a URL.
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
 * configuration) and returns it. Blocks; callbacks run on this thread. A
 * failing tool gives `APPOSE_STATUS_IO` with its exit code, command line and
 * error output in `appose_last_error()`.
 */
enum appose_status appose_builder_build(struct appose_builder *builder,
                                        struct appose_env **env_out,
                                        struct appose_error **error_out);

/**
 * Installs the builder's tool (uv, pixi or micromamba) into the envs root
 * unless it is there already, e.g. to prepare for offline use, and writes
 * its path (free with `appose_string_free`).
 */
enum appose_status appose_builder_install_tool(struct appose_builder *builder,
                                               char **path_out,
                                               struct appose_error **error_out);

/**
 * Deletes the environment's directory (as `appose_builder_delete`), then
 * builds it.
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
 * A symlink is judged by its target, whose contents are deleted.
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
 * `bin/` and itself hold the executables. Installs nothing. Free with
 * `appose_env_free`.
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
 * executable names found in the environment, followed by the `n_args`
 * arguments. `args` may be NULL when `n_args` is 0.
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
 * A Groovy worker service (not started): `java -cp <classpath joined by
 * ':'> <jvm_args> org.apposed.appose.GroovyWorker`, `java` found in the
 * environment. The class path must hold the appose jar and Groovy.
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
 * `appose_shm_create`. Free with `appose_ndarray_free`. `ndim` 0 (`shape`
 * may be NULL) makes a 0-d array of one element.
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
 * Sets the debug listener. Only before the service starts. On success the
 * library owns `userdata` and calls `userdata_free` (if not NULL) exactly
 * once, on any thread, when it no longer needs it; on failure it never does.
 */
enum appose_status appose_service_debug(struct appose_service *service,
                                        appose_debug_listener listener,
                                        void *userdata,
                                        appose_userdata_free userdata_free,
                                        struct appose_error **error_out);

/**
 * Starts the worker process. Optional: the first task starts it too.
 */
enum appose_status appose_service_start(struct appose_service *service,
                                        struct appose_error **error_out);

/**
 * Makes a task (INITIAL) running `script` with `inputs_json` (a JSON object,
 * or NULL for none) on `queue` (NULL, or `"main"` for the worker's main
 * thread). Starts the service if needed. Add listeners, then call
 * `appose_task_start` or `appose_task_wait`. Free with `appose_task_free`.
 */
enum appose_status appose_service_task(struct appose_service *service,
                                       const char *script,
                                       const char *inputs_json,
                                       const char *queue,
                                       struct appose_task **task_out,
                                       struct appose_error **error_out);

/**
 * Makes a task as `appose_service_task` does, with inputs from a map
 * (NULL for none; arrays and blocks in it are shared, not copied).
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
 */
enum appose_status appose_service_close(struct appose_service *service,
                                        int64_t timeout_ms,
                                        int *exit_code_out,
                                        struct appose_error **error_out);

/**
 * Kills the worker's whole process group at once; pending tasks end CRASHED.
 */
enum appose_status appose_service_kill(struct appose_service *service,
                                       struct appose_error **error_out);

/**
 * Whether the worker process is running.
 */
enum appose_status appose_service_is_alive(struct appose_service *service,
                                           bool *alive_out,
                                           struct appose_error **error_out);

/**
 * The worker's stdout lines that were not responses, as a JSON array of
 * strings (free with `appose_string_free`).
 */
enum appose_status appose_service_invalid_lines(struct appose_service *service,
                                                char **json_out,
                                                struct appose_error **error_out);

/**
 * The worker's stderr lines, as a JSON array of strings (free with
 * `appose_string_free`).
 */
enum appose_status appose_service_error_lines(struct appose_service *service,
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
 * `appose_last_error()`, instead of SIGBUS at the first write.
 */
enum appose_status appose_shm_create(size_t rsize,
                                     struct appose_shm **shm_out,
                                     struct appose_error **error_out);

/**
 * Creates a block with a given name (no leading slash). Owned, as
 * `appose_shm_create`. `APPOSE_STATUS_ALREADY_EXISTS` if the name is taken.
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
 * Frees a block handle. The mapping stays while other handles use it.
 */
enum appose_status appose_shm_free(struct appose_shm *shm);

/**
 * Adds a listener. Only while the task is INITIAL. On success the library
 * owns `userdata` and calls `userdata_free` (if not NULL) exactly once, on
 * any thread, after the last event or when the task is freed unstarted; on
 * failure it never does.
 */
enum appose_status appose_task_listen(struct appose_task *task,
                                      appose_task_listener listener,
                                      void *userdata,
                                      appose_userdata_free userdata_free,
                                      struct appose_error **error_out);

/**
 * Sends the task to the worker. `APPOSE_STATUS_INVALID_STATE` if it was
 * started already.
 */
enum appose_status appose_task_start(struct appose_task *task, struct appose_error **error_out);

/**
 * Waits for the task to finish (starting it if INITIAL), at most
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
enum appose_status appose_task_get_status(struct appose_task *task,
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
enum appose_status appose_task_outputs_json(struct appose_task *task,
                                            char **json_out,
                                            struct appose_error **error_out);

/**
 * The task's outputs as a new map handle: arrays and blocks the worker
 * made are attached and owned here (unlinked when their last handle goes).
 * Free with `appose_map_free`.
 */
enum appose_status appose_task_outputs(struct appose_task *task,
                                       struct appose_map **map_out,
                                       struct appose_error **error_out);

/**
 * `outputs["result"]` as JSON text, `null` when absent. Free with
 * `appose_string_free`.
 */
enum appose_status appose_task_result_json(struct appose_task *task,
                                           char **json_out,
                                           struct appose_error **error_out);

/**
 * The error text of a FAILED or CRASHED task; NULL is written when there is
 * none. Free with `appose_string_free`.
 */
enum appose_status appose_task_error(struct appose_task *task,
                                     char **text_out,
                                     struct appose_error **error_out);

/**
 * The task's id, as sent to the worker. Free with `appose_string_free`.
 */
enum appose_status appose_task_id(struct appose_task *task,
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

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* APPOSE_H */
